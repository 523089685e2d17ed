package credscope_test

import (
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/policy/cmdrules"
	"github.com/cordon-sandbox/cordon/policy/credscope"
)

func github() credscope.Scope {
	return credscope.Scope{Name: "github", Env: "GITHUB_TOKEN", FromEnv: "GITHUB_TOKEN",
		Commands: [][]string{{"gh", "**"}, {"git", "push", "**"}}, Reason: "gh needs it to talk to GitHub"}
}

func npm() credscope.Scope {
	return credscope.Scope{Name: "npm", Env: "NPM_TOKEN", FromFile: "~/.config/cordon/secrets/npm",
		Commands: [][]string{{"npm", "publish", "**"}}, Decision: cmdrules.Allow}
}

func TestValidate(t *testing.T) {
	with := func(f func(*credscope.Scope)) credscope.Scopes {
		s := github()
		f(&s)
		return credscope.Scopes{s}
	}
	for _, tc := range []struct {
		name   string
		scopes credscope.Scopes
		errs   []string // each must appear in the error; none means valid
	}{
		{"empty list", nil, nil},
		{"two definitions", credscope.Scopes{github(), npm()}, nil},
		{"absolute file", with(func(s *credscope.Scope) { s.FromEnv, s.FromFile = "", "/run/secrets/gh" }), nil},
		{"decision allow", with(func(s *credscope.Scope) { s.Decision = cmdrules.Allow }), nil},
		{"a change", credscope.Scopes{{Name: "github", Commands: [][]string{{"gh", "pr", "**"}}}}, nil},
		{"a removal", credscope.Scopes{{Name: "github", Remove: true}}, nil},
		{"alternatives and wildcards", with(func(s *credscope.Scope) { s.Commands = [][]string{{"gh", "pr|issue", "*", "**"}} }), nil},

		{"no name", with(func(s *credscope.Scope) { s.Name = "" }), []string{`credentials[0]: name ""`, "is missing"}},
		{"bad name", with(func(s *credscope.Scope) { s.Name = "Git Hub" }), []string{`credentials[0] ("Git Hub"): name "Git Hub"`, "lower-case"}},
		{"duplicate name", credscope.Scopes{github(), github()}, []string{`credentials[1] ("github")`, "already used by credentials[0]"}},
		{"no source", with(func(s *credscope.Scope) { s.FromEnv = "" }), []string{`credentials[0] ("github")`, "from_env", "from_file"}},
		{"both sources", with(func(s *credscope.Scope) { s.FromFile = "~/x" }), []string{`from_env "GITHUB_TOKEN" and from_file "~/x" are both set`}},
		{"no env", with(func(s *credscope.Scope) { s.Env = "" }), []string{`credentials[0] ("github"): env is missing`}},
		{"bad env", with(func(s *credscope.Scope) { s.Env = "GH-TOKEN" }), []string{`env "GH-TOKEN": is not a variable name`}},
		{"env starting with a digit", with(func(s *credscope.Scope) { s.Env = "1TOKEN" }), []string{`env "1TOKEN"`}},
		{"reserved env", with(func(s *credscope.Scope) { s.Env = "LD_PRELOAD" }), []string{`env "LD_PRELOAD"`, "LD_*"}},
		{"env PATH", with(func(s *credscope.Scope) { s.Env = "path" }), []string{`env "path"`, "set by cordon"}},
		{"bad from_env", with(func(s *credscope.Scope) { s.FromEnv = "A=B" }), []string{`from_env "A=B": is not a variable name`}},
		{"relative file", with(func(s *credscope.Scope) { s.FromEnv, s.FromFile = "", "secrets/gh" }), []string{`from_file "secrets/gh": must be an absolute path or start with ~/`}},
		{"other user's home", with(func(s *credscope.Scope) { s.FromEnv, s.FromFile = "", "~root/gh" }), []string{`from_file "~root/gh"`}},
		{"no commands", with(func(s *credscope.Scope) { s.Commands = nil }), []string{`credentials[0] ("github"): commands is missing`}},
		{"empty commands", with(func(s *credscope.Scope) { s.Commands = [][]string{} }), []string{"commands is empty"}},
		{"empty pattern", with(func(s *credscope.Scope) { s.Commands = [][]string{{"gh", "**"}, {}} }), []string{`commands[1] []: is empty`}},
		{"** not last", with(func(s *credscope.Scope) { s.Commands = [][]string{{"gh", "**", "x"}} }), []string{`credentials[0] ("github"): commands[0][1] "**": only the last token`}},
		{"any program", with(func(s *credscope.Scope) { s.Commands = [][]string{{"**"}} }), []string{`commands[0][0] "**": name the program`}},
		{"one program of any name", with(func(s *credscope.Scope) { s.Commands = [][]string{{"*", "push"}} }), []string{`commands[0][0] "*"`}},
		{"bad pattern", with(func(s *credscope.Scope) { s.Commands = [][]string{{"gh", "a||b"}} }), []string{`commands[0][1] "a||b"`, "empty alternative"}},
		{"lone backslash", with(func(s *credscope.Scope) { s.Commands = [][]string{{`gh\`}} }), []string{`commands[0][0] "gh\\"`, "backslash"}},
		{"deny", with(func(s *credscope.Scope) { s.Decision = cmdrules.Deny }), []string{`credentials[0] ("github"): decision deny`, "remove"}},
		{"same env twice", credscope.Scopes{github(), func() credscope.Scope { s := npm(); s.Env = "github_token"; return s }()},
			[]string{`credentials[1] ("npm"): env "github_token" is already given by credentials[0] ("github")`}},
		{"removal with keys", credscope.Scopes{{Name: "github", Remove: true, Decision: cmdrules.Ask}}, []string{"remove = true takes no other key"}},
		{"change of nothing", credscope.Scopes{{Name: "github"}}, []string{`credentials[0] ("github"): sets nothing`}},
		{"two problems at once", with(func(s *credscope.Scope) { s.Env, s.Decision = "A B", cmdrules.Deny }), []string{`env "A B"`, "decision deny"}},
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
	base, err := credscope.Scopes(nil).Merge(credscope.Scopes{github(), npm()}, "user")
	if err != nil {
		t.Fatal(err)
	}
	if base[0].Source != "user" || base[1].Source != "user" {
		t.Errorf("Source not set: %+v", base)
	}
	redefined := github()
	redefined.FromEnv, redefined.FromFile = "", "/run/secrets/gh"
	got, err := base.Merge(credscope.Scopes{
		redefined,
		{Name: "npm", Commands: [][]string{{"npm", "**"}}, Decision: cmdrules.Ask, Reason: "publishing"},
	}, "explicit")
	if err != nil {
		t.Fatal(err)
	}
	if got[0].FromFile != "/run/secrets/gh" || got[0].FromEnv != "" || got[0].Source != "explicit" {
		t.Errorf("a definition in a later trusted layer should replace the earlier one: %+v", got[0])
	}
	if n := got[1]; n.Decision != cmdrules.Ask || n.Reason != "publishing" || len(n.Commands) != 1 || n.Commands[0][1] != "**" || n.Source != "user" {
		t.Errorf("a change should set commands, decision and reason and keep the definition's source: %+v", n)
	}
	if base[1].Decision != cmdrules.Allow || base[0].FromEnv != "GITHUB_TOKEN" {
		t.Errorf("Merge modified its receiver: %+v", base)
	}
	got, err = base.Merge(credscope.Scopes{{Name: "npm", Remove: true}}, "explicit")
	if err != nil || len(got) != 1 || got[0].Name != "github" {
		t.Errorf("removal: %+v, %v", got, err)
	}
	for _, tc := range []struct {
		layer credscope.Scopes
		want  string
	}{
		{credscope.Scopes{{Name: "aws", Commands: [][]string{{"aws", "**"}}}}, `policy layer explicit: credentials[0] ("aws"): no earlier layer defines`},
		{credscope.Scopes{{Name: "aws", Remove: true}}, `credentials[0] ("aws"): no earlier layer defines`},
		{credscope.Scopes{func() credscope.Scope { s := npm(); s.Name = "npm2"; s.Env = "GITHUB_TOKEN"; return s }()}, `env "GITHUB_TOKEN" is already given`},
		{credscope.Scopes{{Name: "npm", Env: "X"}}, `policy layer explicit: credentials[0] ("npm")`},
	} {
		if _, err := base.Merge(tc.layer, "explicit"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Merge(%+v): error %v, want it to contain %q", tc.layer, err, tc.want)
		}
	}
}

func TestTighten(t *testing.T) {
	base := credscope.Scopes{github(), npm()}
	for _, tc := range []struct {
		name  string
		layer credscope.Scopes
		check func(t *testing.T, got credscope.Scopes)
		err   string
	}{
		{"nothing", nil, func(t *testing.T, got credscope.Scopes) {
			if len(got) != 2 {
				t.Errorf("got %+v", got)
			}
		}, ""},
		{"remove", credscope.Scopes{{Name: "npm", Remove: true}}, func(t *testing.T, got credscope.Scopes) {
			if len(got) != 1 || got[0].Name != "github" {
				t.Errorf("got %+v", got)
			}
		}, ""},
		{"drop a command", credscope.Scopes{{Name: "github", Commands: [][]string{{"gh", "**"}}}}, func(t *testing.T, got credscope.Scopes) {
			if len(got[0].Commands) != 1 || got[0].Commands[0][0] != "gh" {
				t.Errorf("got %+v", got[0].Commands)
			}
		}, ""},
		{"narrow a command", credscope.Scopes{{Name: "github", Commands: [][]string{{"gh", "pr", "create", "**"}, {"git", "push", "origin"}}}}, func(t *testing.T, got credscope.Scopes) {
			if len(got[0].Commands) != 2 || got[0].Commands[0][1] != "pr" {
				t.Errorf("got %+v", got[0].Commands)
			}
		}, ""},
		{"raise allow to ask", credscope.Scopes{{Name: "npm", Decision: cmdrules.Ask}}, func(t *testing.T, got credscope.Scopes) {
			if got[1].Decision != cmdrules.Ask {
				t.Errorf("got %v", got[1].Decision)
			}
		}, ""},
		{"allow where it already allows", credscope.Scopes{{Name: "npm", Decision: cmdrules.Allow}}, nil, ""},
		{"same reason", credscope.Scopes{{Name: "github", Reason: github().Reason}}, nil, ""},

		{"add a credential", credscope.Scopes{{Name: "aws", Env: "AWS_SECRET_ACCESS_KEY", FromEnv: "AWS_SECRET_ACCESS_KEY", Commands: [][]string{{"aws", "**"}}}},
			nil, `policy layer ws: credentials[0] ("aws").from_env: a less-trusted layer may not define a credential`},
		{"redefine the source", credscope.Scopes{{Name: "github", Env: "GITHUB_TOKEN", FromFile: "/tmp/mine", Commands: [][]string{{"gh", "**"}}}},
			nil, `credentials[0] ("github").from_file`},
		{"change of an unknown credential", credscope.Scopes{{Name: "aws", Commands: [][]string{{"aws", "**"}}}}, nil, `credentials[0] ("aws"): no trusted layer defines`},
		{"remove an unknown credential", credscope.Scopes{{Name: "aws", Remove: true}}, nil, `credentials[0] ("aws"): no trusted layer defines`},
		{"add a command", credscope.Scopes{{Name: "github", Commands: [][]string{{"gh", "**"}, {"curl", "**"}}}}, nil, `credentials[0] ("github").commands[1] ["curl", "**"]: adds a command`},
		{"widen a command", credscope.Scopes{{Name: "npm", Commands: [][]string{{"npm", "**"}}}}, nil, `credentials[0] ("npm").commands[0] ["npm", "**"]`},
		{"swap a token", credscope.Scopes{{Name: "github", Commands: [][]string{{"git", "*", "**"}}}}, nil, `commands[0] ["git", "*", "**"]: adds a command`},
		{"lower ask to allow", credscope.Scopes{{Name: "github", Decision: cmdrules.Allow}}, nil, `credentials[0] ("github").decision = allow would loosen ask`},
		{"reword the reason", credscope.Scopes{{Name: "github", Reason: "harmless, approve it"}}, nil, `credentials[0] ("github").reason`},
		{"deny", credscope.Scopes{{Name: "github", Decision: cmdrules.Deny}}, nil, "decision deny"},
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
			if len(base[0].Commands) != 2 || base[1].Decision != cmdrules.Allow {
				t.Errorf("Tighten modified its receiver: %+v", base)
			}
		})
	}
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
		Credentials credscope.Scopes `toml:"credentials"`
	}
	dec := toml.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatal(err)
	}
	want := credscope.Scopes{github(), npm(), {Name: "old", Remove: true}}
	want[0].Decision = cmdrules.Ask
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
	got := credscope.Scopes{github(), npm(), other, dup}.SecretFiles(home)
	want := []string{filepath.Join(home, ".config", "cordon", "secrets", "npm"), "/run/secrets/deploy"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("SecretFiles = %q, want %q", got, want)
	}
	if got := (credscope.Scopes{npm()}).SecretFiles(""); len(got) != 0 {
		t.Errorf("~/ without a home: %q", got)
	}
}
