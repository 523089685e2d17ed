package unixplan

import (
	"testing"

	"github.com/cordon-sandbox/cordon/internal/trackedsecrets"
)

// TestTrackedSecretsMatchesLikeThePlanner: internal/trackedsecrets reports
// git-tracked files that the planners mask; both must read a workspace
// pattern the same way (on a volume that compares names as bytes).
func TestTrackedSecretsMatchesLikeThePlanner(t *testing.T) {
	patterns := []string{".env", ".env.*", "*.pem", "config/secrets.yml", "config/*", "./config/*", "**/id_rsa", "a/**/b", "[.]env", "{x,y}.key"}
	paths := []string{".env", "a/.env", ".env.local", "a/b/.env.prod", "x.pem", "c/x.pem", "config/secrets.yml",
		"x/config/secrets.yml", "config/a", "config/a/b", "id_rsa", "a/b/id_rsa", "a/b", "a/c/d/b", "x.key", "z/y.key"}
	for _, p := range patterns {
		for _, rel := range paths {
			if got, want := trackedsecrets.Matches(p, rel), (Host{}).MatchRel(p, rel); got != want {
				t.Errorf("pattern %q, path %q: trackedsecrets.Matches = %v, planner = %v", p, rel, got, want)
			}
		}
	}
}

func TestMatchFoldsCaseOnlyWhereTheVolumeDoes(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		bytes, fold   bool
	}{
		{".env", ".ENV", false, true},
		{"/Users/ada/Library/keychains", "/Users/ada/Library/Keychains", false, true},
		{"Config/*.YML", "config/secrets.yml", false, true},
		{".env", ".env", true, true},
		{".env", ".envx", false, false},
	} {
		if got := (Host{}).MatchRel(c.pattern, c.name); got != c.bytes {
			t.Errorf("MatchRel(%q, %q) without folding = %v, want %v", c.pattern, c.name, got, c.bytes)
		}
		if got := (Host{Fold: true}).MatchRel(c.pattern, c.name); got != c.fold {
			t.Errorf("MatchRel(%q, %q) folding = %v, want %v", c.pattern, c.name, got, c.fold)
		}
	}
}
