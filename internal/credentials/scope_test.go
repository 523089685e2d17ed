package credentials_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

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

func TestValidate(t *testing.T) {
	with := func(f func(*credentials.Scope)) credentials.Scopes {
		s := github()
		f(&s)
		return credentials.Scopes{s}
	}
	for _, tc := range []struct {
		name   string
		scopes credentials.Scopes
		errs   []string // each must appear in the error; none means valid
	}{
		{"empty list", nil, nil},
		{"two definitions", credentials.Scopes{github(), npm()}, nil},
		{"absolute file", with(func(s *credentials.Scope) { s.FromEnv, s.FromFile = "", "/run/secrets/gh" }), nil},
		{"decision allow", with(func(s *credentials.Scope) { s.Decision = cmdpolicy.Allow }), nil},
		{"a change", credentials.Scopes{{Name: "github", Commands: [][]string{{"gh", "pr", "**"}}}}, nil},
		{"a removal", credentials.Scopes{{Name: "github", Remove: true}}, nil},
		{"alternatives and wildcards", with(func(s *credentials.Scope) { s.Commands = [][]string{{"gh", "pr|issue", "*", "**"}} }), nil},

		{"no name", with(func(s *credentials.Scope) { s.Name = "" }), []string{`credentials[0]: name ""`, "is missing"}},
		{"bad name", with(func(s *credentials.Scope) { s.Name = "Git Hub" }), []string{`credentials[0] ("Git Hub"): name "Git Hub"`, "lower-case"}},
		{"duplicate name", credentials.Scopes{github(), github()}, []string{`credentials[1] ("github")`, "already used by credentials[0]"}},
		{"no source", with(func(s *credentials.Scope) { s.FromEnv = "" }), []string{`credentials[0] ("github")`, "from_env", "from_file"}},
		{"both sources", with(func(s *credentials.Scope) { s.FromFile = "~/x" }), []string{`from_env "GITHUB_TOKEN" and from_file "~/x" are both set`}},
		{"no env", with(func(s *credentials.Scope) { s.Env = "" }), []string{`credentials[0] ("github"): env is missing`}},
		{"bad env", with(func(s *credentials.Scope) { s.Env = "GH-TOKEN" }), []string{`env "GH-TOKEN": is not a variable name`}},
		{"env starting with a digit", with(func(s *credentials.Scope) { s.Env = "1TOKEN" }), []string{`env "1TOKEN"`}},
		{"reserved env", with(func(s *credentials.Scope) { s.Env = "LD_PRELOAD" }), []string{`env "LD_PRELOAD"`, "LD_*"}},
		{"env PATH", with(func(s *credentials.Scope) { s.Env = "path" }), []string{`env "path"`, "set by cordon"}},
		{"bad from_env", with(func(s *credentials.Scope) { s.FromEnv = "A=B" }), []string{`from_env "A=B": is not a variable name`}},
		{"relative file", with(func(s *credentials.Scope) { s.FromEnv, s.FromFile = "", "secrets/gh" }), []string{`from_file "secrets/gh": must be an absolute path or start with ~/`}},
		{"other user's home", with(func(s *credentials.Scope) { s.FromEnv, s.FromFile = "", "~root/gh" }), []string{`from_file "~root/gh"`}},
		{"no commands", with(func(s *credentials.Scope) { s.Commands = nil }), []string{`credentials[0] ("github"): commands is missing`}},
		{"empty commands", with(func(s *credentials.Scope) { s.Commands = [][]string{} }), []string{"commands is empty"}},
		{"empty pattern", with(func(s *credentials.Scope) { s.Commands = [][]string{{"gh", "**"}, {}} }), []string{`commands[1] []: is empty`}},
		{"** not last", with(func(s *credentials.Scope) { s.Commands = [][]string{{"gh", "**", "x"}} }), []string{`credentials[0] ("github"): commands[0][1] "**": only the last token`}},
		{"any program", with(func(s *credentials.Scope) { s.Commands = [][]string{{"**"}} }), []string{`commands[0][0] "**": name the program`}},
		{"one program of any name", with(func(s *credentials.Scope) { s.Commands = [][]string{{"*", "push"}} }), []string{`commands[0][0] "*"`}},
		{"bad pattern", with(func(s *credentials.Scope) { s.Commands = [][]string{{"gh", "a||b"}} }), []string{`commands[0][1] "a||b"`, "empty alternative"}},
		{"lone backslash", with(func(s *credentials.Scope) { s.Commands = [][]string{{`gh\`}} }), []string{`commands[0][0] "gh\\"`, "backslash"}},
		{"deny", with(func(s *credentials.Scope) { s.Decision = cmdpolicy.Deny }), []string{`credentials[0] ("github"): decision deny`, "remove"}},
		{"same env twice", credentials.Scopes{github(), func() credentials.Scope { s := npm(); s.Env = "github_token"; return s }()},
			[]string{`credentials[1] ("npm"): env "github_token" is already given by credentials[0] ("github")`}},
		{"removal with keys", credentials.Scopes{{Name: "github", Remove: true, Decision: cmdpolicy.Ask}}, []string{"remove = true takes no other key"}},
		{"change of nothing", credentials.Scopes{{Name: "github"}}, []string{`credentials[0] ("github"): sets nothing`}},
		{"two problems at once", with(func(s *credentials.Scope) { s.Env, s.Decision = "A B", cmdpolicy.Deny }), []string{`env "A B"`, "decision deny"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.scopes.Validate()
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted %+v", tc.scopes)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestMerge(t *testing.T) {
	base, err := credentials.Scopes(nil).Merge(credentials.Scopes{github(), npm()}, "user")
	if err != nil {
		t.Fatal(err)
	}
	if base[0].Source != "user" || base[1].Source != "user" {
		t.Errorf("Source not set: %+v", base)
	}
	redefined := github()
	redefined.FromEnv, redefined.FromFile = "", "/run/secrets/gh"
	got, err := base.Merge(credentials.Scopes{
		redefined,
		{Name: "npm", Commands: [][]string{{"npm", "**"}}, Decision: cmdpolicy.Ask, Reason: "publishing"},
	}, "explicit")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].FromFile != "/run/secrets/gh" || got[0].FromEnv != "" || got[0].Source != "explicit" {
		t.Errorf("a definition in a later trusted layer should replace the earlier one: %+v", got[0])
	}
	if n := got[1]; n.Decision != cmdpolicy.Ask || n.Reason != "publishing" || len(n.Commands) != 1 || n.Commands[0][1] != "**" || n.Source != "user" {
		t.Errorf("a change should set commands, decision and reason and keep the definition's source: %+v", n)
	}
	if base[1].Decision != cmdpolicy.Allow || base[0].FromEnv != "GITHUB_TOKEN" {
		t.Errorf("Merge modified its receiver: %+v", base)
	}
	got, err = base.Merge(credentials.Scopes{{Name: "npm", Remove: true}}, "explicit")
	if err != nil || len(got) != 1 || got[0].Name != "github" {
		t.Errorf("removal: %+v, %v", got, err)
	}
	for _, tc := range []struct {
		layer credentials.Scopes
		want  string
	}{
		{credentials.Scopes{{Name: "aws", Commands: [][]string{{"aws", "**"}}}}, `policy layer explicit: credentials[0] ("aws"): no earlier layer defines`},
		{credentials.Scopes{{Name: "aws", Remove: true}}, `credentials[0] ("aws"): no earlier layer defines`},
		{credentials.Scopes{func() credentials.Scope { s := npm(); s.Name = "npm2"; s.Env = "GITHUB_TOKEN"; return s }()}, `env "GITHUB_TOKEN" is already given`},
		{credentials.Scopes{{Name: "npm", Env: "X"}}, `policy layer explicit: credentials[0] ("npm")`},
	} {
		if _, err := base.Merge(tc.layer, "explicit"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Merge(%+v): error %v, want it to contain %q", tc.layer, err, tc.want)
		}
	}
}

func TestTighten(t *testing.T) {
	base := credentials.Scopes{github(), npm()}
	for _, tc := range []struct {
		name  string
		layer credentials.Scopes
		check func(t *testing.T, got credentials.Scopes)
		err   string
	}{
		{"nothing", nil, func(t *testing.T, got credentials.Scopes) {
			if len(got) != 2 {
				t.Errorf("got %+v", got)
			}
		}, ""},
		{"remove", credentials.Scopes{{Name: "npm", Remove: true}}, func(t *testing.T, got credentials.Scopes) {
			if len(got) != 1 || got[0].Name != "github" {
				t.Errorf("got %+v", got)
			}
		}, ""},
		{"drop a command", credentials.Scopes{{Name: "github", Commands: [][]string{{"gh", "**"}}}}, func(t *testing.T, got credentials.Scopes) {
			if len(got[0].Commands) != 1 || got[0].Commands[0][0] != "gh" {
				t.Errorf("got %+v", got[0].Commands)
			}
		}, ""},
		{"narrow a command", credentials.Scopes{{Name: "github", Commands: [][]string{{"gh", "pr", "create", "**"}, {"git", "push", "origin"}}}}, func(t *testing.T, got credentials.Scopes) {
			if len(got[0].Commands) != 2 || got[0].Commands[0][1] != "pr" {
				t.Errorf("got %+v", got[0].Commands)
			}
		}, ""},
		{"raise allow to ask", credentials.Scopes{{Name: "npm", Decision: cmdpolicy.Ask}}, func(t *testing.T, got credentials.Scopes) {
			if got[1].Decision != cmdpolicy.Ask {
				t.Errorf("got %v", got[1].Decision)
			}
		}, ""},
		{"allow where it already allows", credentials.Scopes{{Name: "npm", Decision: cmdpolicy.Allow}}, nil, ""},
		{"same reason", credentials.Scopes{{Name: "github", Reason: github().Reason}}, nil, ""},

		{"add a credential", credentials.Scopes{{Name: "aws", Env: "AWS_SECRET_ACCESS_KEY", FromEnv: "AWS_SECRET_ACCESS_KEY", Commands: [][]string{{"aws", "**"}}}},
			nil, `policy layer ws: credentials[0] ("aws").from_env: a less-trusted layer may not define a credential`},
		{"redefine the source", credentials.Scopes{{Name: "github", Env: "GITHUB_TOKEN", FromFile: "/tmp/mine", Commands: [][]string{{"gh", "**"}}}},
			nil, `credentials[0] ("github").from_file`},
		{"change of an unknown credential", credentials.Scopes{{Name: "aws", Commands: [][]string{{"aws", "**"}}}}, nil, `credentials[0] ("aws"): no trusted layer defines`},
		{"remove an unknown credential", credentials.Scopes{{Name: "aws", Remove: true}}, nil, `credentials[0] ("aws"): no trusted layer defines`},
		{"add a command", credentials.Scopes{{Name: "github", Commands: [][]string{{"gh", "**"}, {"curl", "**"}}}}, nil, `credentials[0] ("github").commands[1] ["curl", "**"]: adds a command`},
		{"widen a command", credentials.Scopes{{Name: "npm", Commands: [][]string{{"npm", "**"}}}}, nil, `credentials[0] ("npm").commands[0] ["npm", "**"]`},
		{"swap a token", credentials.Scopes{{Name: "github", Commands: [][]string{{"git", "*", "**"}}}}, nil, `commands[0] ["git", "*", "**"]: adds a command`},
		{"lower ask to allow", credentials.Scopes{{Name: "github", Decision: cmdpolicy.Allow}}, nil, `credentials[0] ("github").decision = allow would loosen ask`},
		{"reword the reason", credentials.Scopes{{Name: "github", Reason: "harmless, approve it"}}, nil, `credentials[0] ("github").reason`},
		{"deny", credentials.Scopes{{Name: "github", Decision: cmdpolicy.Deny}}, nil, "decision deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := base.Tighten(tc.layer, "ws")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the merged list does not validate: %v", err)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			if len(base[0].Commands) != 2 || base[1].Decision != cmdpolicy.Allow {
				t.Errorf("Tighten modified its receiver: %+v", base)
			}
		})
	}
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

// TestTOML decodes the section the way the policy loader does (go-toml v2,
// unknown keys refused) and checks the keys' names.
func TestTOML(t *testing.T) {
	const doc = `
[[credentials]]
name = "github"
env = "GITHUB_TOKEN"
from_env = "GITHUB_TOKEN"
commands = [["gh", "**"], ["git", "push", "**"]]
decision = "ask"
reason = "gh needs it to talk to GitHub"

[[credentials]]
name = "npm"
env = "NPM_TOKEN"
from_file = "~/.config/cordon/secrets/npm"
commands = [["npm", "publish", "**"]]
decision = "allow"

[[credentials]]
name = "old"
remove = true
`
	var f struct {
		Credentials credentials.Scopes `toml:"credentials"`
	}
	dec := toml.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	want := credentials.Scopes{github(), npm(), {Name: "old", Remove: true}}
	want[0].Decision = cmdpolicy.Ask
	if len(f.Credentials) != 3 {
		t.Fatalf("decoded %+v", f.Credentials)
	}
	for i := range want {
		g, w := f.Credentials[i], want[i]
		if g.Name != w.Name || g.Env != w.Env || g.FromEnv != w.FromEnv || g.FromFile != w.FromFile ||
			g.Decision != w.Decision || g.Reason != w.Reason || g.Remove != w.Remove || len(g.Commands) != len(w.Commands) {
			t.Errorf("entry %d: decoded %+v, want %+v", i, g, w)
		}
	}
	if err := f.Credentials.Validate(); err != nil {
		t.Error(err)
	}
	bad := toml.NewDecoder(strings.NewReader("[[credentials]]\nname = \"x\"\nfrom_envv = \"X\"\n"))
	bad.DisallowUnknownFields()
	if err := bad.Decode(&f); err == nil {
		t.Error("a misspelt key was accepted")
	}
	if err := toml.Unmarshal([]byte("[[credentials]]\nname = \"x\"\ndecision = \"maybe\"\n"), &f); err == nil {
		t.Error("decision = maybe was accepted")
	}
}

func TestSecretFiles(t *testing.T) {
	other := npm()
	other.Name, other.Env, other.FromFile = "deploy", "DEPLOY_KEY", "/run/secrets/deploy"
	dup := npm()
	dup.Name, dup.Env = "npm2", "NPM2_TOKEN"
	home := "/home/u"
	if runtime.GOOS == "windows" {
		home = `C:\Users\u`
	}
	got := credentials.Scopes{github(), npm(), other, dup}.SecretFiles(home)
	want := []string{filepath.Join(home, ".config", "cordon", "secrets", "npm"), "/run/secrets/deploy"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SecretFiles = %q, want %q", got, want)
	}
	if got := (credentials.Scopes{npm()}).SecretFiles(""); len(got) != 0 {
		t.Errorf("~/ without a home: %q", got)
	}
}
