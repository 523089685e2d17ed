package credentials_test

import (
	"testing"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/credentials"
)

func github() credentials.Scope {
	return credentials.Scope{Name: "github", Env: "GITHUB_TOKEN", FromEnv: "GITHUB_TOKEN",
		Commands: [][]string{{"gh", "**"}, {"git", "push", "**"}}, Reason: "gh needs it to talk to GitHub"}
}

func npm() credentials.Scope {
	return credentials.Scope{Name: "npm", Env: "NPM_TOKEN", FromFile: "~/.config/cordon/secrets/npm",
		Commands: [][]string{{"npm", "publish", "**"}}, Decision: cmdpolicy.Allow}
}

// TestTightenNeverWidens: whatever a less-trusted layer Tighten accepts,
// no command gets a credential it did not get before, and no decision gets
// looser.
func TestTightenNeverWidens(t *testing.T) {
	base := credentials.Scopes{github(), npm()}
	layers := []credentials.Scopes{
		{{Name: "github", Commands: [][]string{{"gh", "pr", "**"}}}},
		{{Name: "github", Commands: [][]string{{"gh"}}}},
		{{Name: "github", Commands: [][]string{{"gh", "*"}, {"git", "push", "origin", "**"}}}},
		{{Name: "github", Commands: [][]string{{"git", "push", "**"}}, Decision: cmdpolicy.Ask}},
		{{Name: "npm", Decision: cmdpolicy.Ask}, {Name: "github", Remove: true}},
		{{Name: "npm", Commands: [][]string{{"npm", "publish", "--dry-run|--tag", "**"}}}},
		// Rejected ones must stay rejected; they are here to show the check
		// below would catch them if Tighten let them through.
		{{Name: "npm", Commands: [][]string{{"npm", "**"}}}},
		{{Name: "github", Commands: [][]string{{"gh", "**"}, {"curl", "**"}}}},
		{{Name: "npm", Decision: cmdpolicy.Allow}, {Name: "github", Decision: cmdpolicy.Allow}},
	}
	lines := append(matchLines(), [][]string{
		{"npm", "publish"}, {"npm", "install"}, {"npm", "publish", "--dry-run"}, {"gh"}, {"gh", "x"},
		{"curl", "https://example.com"}, {"git", "push", "origin", "main"}, {"git", "push"},
	}...)
	accepted := 0
	for li, layer := range layers {
		got, err := base.Tighten(layer, "ws")
		if err != nil {
			continue
		}
		accepted++
		// Chain it: a second layer on top of the first.
		for _, second := range layers {
			if again, err := got.Tighten(second, "ws2"); err == nil {
				assertNoWider(t, base, again, lines)
			}
		}
		assertNoWider(t, base, got, lines)
		_ = li
	}
	if accepted != 6 {
		t.Errorf("Tighten accepted %d of the layers, want the first 6", accepted)
	}
	// The check itself catches a widening.
	wider := credentials.Scopes{github(), func() credentials.Scope { s := npm(); s.Commands = [][]string{{"npm", "**"}}; return s }()}
	if !widens(base, wider, lines) {
		t.Error("the widening check does not notice an added command")
	}
}

func assertNoWider(t *testing.T, base, got credentials.Scopes, lines [][]string) {
	t.Helper()
	if widens(base, got, lines) {
		t.Errorf("the merged list %+v gives more than %+v", got, base)
	}
}

func widens(base, got credentials.Scopes, lines [][]string) bool {
	for _, argv := range lines {
		before := map[string]cmdpolicy.Decision{}
		for _, s := range credentials.Match(base, argv) {
			before[s.Name] = s.Decision
		}
		for _, s := range credentials.Match(got, argv) {
			if d, ok := before[s.Name]; !ok || s.Decision < d {
				return true
			}
		}
	}
	return false
}
