package linuxplan

import (
	"testing"

	"github.com/cordon-sandbox/cordon/internal/trackedsecrets"
)

// TestTrackedSecretsMatchesLikeThePlanner: internal/trackedsecrets reports
// git-tracked files that the planner masks; both must read a workspace
// pattern the same way.
func TestTrackedSecretsMatchesLikeThePlanner(t *testing.T) {
	patterns := []string{".env", ".env.*", "*.pem", "config/secrets.yml", "config/*", "./config/*", "**/id_rsa", "a/**/b", "[.]env", "{x,y}.key"}
	paths := []string{".env", "a/.env", ".env.local", "a/b/.env.prod", "x.pem", "c/x.pem", "config/secrets.yml",
		"x/config/secrets.yml", "config/a", "config/a/b", "id_rsa", "a/b/id_rsa", "a/b", "a/c/d/b", "x.key", "z/y.key"}
	for _, p := range patterns {
		for _, rel := range paths {
			if got, want := trackedsecrets.Matches(p, rel), matchRel(p, rel); got != want {
				t.Errorf("pattern %q, path %q: trackedsecrets.Matches = %v, planner = %v", p, rel, got, want)
			}
		}
	}
}
