package approval

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/policy"
)

// testGrants returns a grant store in a fresh home, with the workspace
// elsewhere.
func testGrants(t *testing.T) (*Grants, string) {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	root := t.TempDir()
	home := filepath.Join(root, "home")
	ws := filepath.Join(root, "src", "app")
	for _, d := range []string{home, ws} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return NewGrants(home), ws
}

func sessionAllow(channel string) Answer {
	return Answer{Decision: Allow, Scope: ScopeSession, Channel: channel, Approver: "alice"}
}

func TestSessionGrants(t *testing.T) {
	g, ws := testGrants(t)
	push := Request{Command: "git push origin main", Argv: []string{"git", "push", "origin", "main"}, Cwd: ws, Workspace: ws, Session: "s1"}
	if _, ok := g.Lookup(push); ok {
		t.Fatal("a grant before anything was remembered")
	}
	if err := g.Remember(push, sessionAllow(ChannelWeb)); err != nil {
		t.Fatal(err)
	}
	ans, ok := g.Lookup(push)
	if !ok || !ans.Allowed() || ans.Scope != ScopeSession || ans.Channel != ChannelGrant || ans.Approver != "alice" || !strings.Contains(ans.Reason, "this session") {
		t.Fatalf("Lookup = %+v, %v; want the session grant", ans, ok)
	}
	other := func(change func(*Request)) Request {
		r := push
		r.Argv = append([]string(nil), push.Argv...)
		change(&r)
		return r
	}
	for name, r := range map[string]Request{
		"another session":   other(func(r *Request) { r.Session = "s2" }),
		"no session":        other(func(r *Request) { r.Session = "" }),
		"another workspace": other(func(r *Request) { r.Workspace = "/elsewhere" }),
		"another argument":  other(func(r *Request) { r.Argv[3] = "main2" }),
		"one more argument": other(func(r *Request) { r.Argv = append(r.Argv, "--force") }),
		"another kind":      other(func(r *Request) { r.Kind = KindNetwork }),
	} {
		if _, ok := g.Lookup(r); ok {
			t.Errorf("%s: the grant for %v applied to %+v", name, push.Argv, r)
		}
	}
	// The store is private: 0700 directory, 0600 files.
	if fi, err := os.Stat(g.grantsDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("grants directory mode: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(g.sessionPath("s1")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("session file mode: %v %v", fi.Mode(), err)
	}
}

func TestSessionGrantsEnd(t *testing.T) {
	g, ws := testGrants(t)
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	g.now = func() time.Time { return now }
	r := Request{Command: "npm ci", Argv: []string{"npm", "ci"}, Workspace: ws, Session: "s1"}
	if err := g.Remember(r, sessionAllow(ChannelTerminal)); err != nil {
		t.Fatal(err)
	}
	now = now.Add(SessionGrantLifetime - time.Minute)
	if _, ok := g.Lookup(r); !ok {
		t.Fatal("the grant ended early")
	}
	now = now.Add(2 * time.Minute)
	if _, ok := g.Lookup(r); ok {
		t.Fatal("the grant outlived SessionGrantLifetime")
	}
}

func TestNothingIsRememberedForOnceDenyOrGrants(t *testing.T) {
	g, ws := testGrants(t)
	r := Request{Command: "npm ci", Argv: []string{"npm", "ci"}, Workspace: ws, Session: "s1"}
	for _, a := range []Answer{
		{Decision: Allow, Scope: ScopeOnce, Channel: ChannelWeb},
		{Decision: Deny, Scope: ScopeSession, Channel: ChannelWeb},
		{Decision: Deny, Scope: ScopeAlways, Channel: ChannelWeb},
		{Decision: Allow, Scope: ScopeSession, Channel: ChannelGrant},
	} {
		if err := g.Remember(r, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := g.Lookup(r); ok {
		t.Fatal("a grant was remembered")
	}
	if _, err := os.Stat(g.policyFile); !os.IsNotExist(err) {
		t.Fatalf("the policy file was touched: %v", err)
	}
}

func TestGrantStoreNeverInsideTheWorkspace(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	os.MkdirAll(ws, 0o755)
	t.Setenv("XDG_STATE_HOME", filepath.Join(ws, ".state"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(ws, ".config"))
	g := NewGrants(filepath.Join(root, "home"))
	r := Request{Command: "npm ci", Argv: []string{"npm", "ci"}, Workspace: ws, Cwd: ws, Session: "s1"}
	for _, scope := range []string{ScopeSession, ScopeAlways} {
		err := g.Remember(r, Answer{Decision: Allow, Scope: scope, Channel: ChannelWeb})
		if err == nil || !strings.Contains(err.Error(), "sandboxed commands can write") {
			t.Errorf("%s grant inside the workspace: error = %v", scope, err)
		}
	}
	if entries, _ := os.ReadDir(ws); len(entries) != 0 {
		t.Errorf("the workspace got files: %v", entries)
	}
}

func TestConcurrentSessionGrants(t *testing.T) {
	g, ws := testGrants(t)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			// A Grants per goroutine, as separate cordon processes have.
			g2 := *g
			r := Request{Command: "make", Argv: []string{"make", fmt.Sprint(i)}, Workspace: ws, Session: "s1"}
			errs <- g2.Remember(r, sessionAllow(ChannelWeb))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		if _, ok := g.Lookup(Request{Argv: []string{"make", fmt.Sprint(i)}, Workspace: ws, Session: "s1"}); !ok {
			t.Errorf("grant %d was lost", i)
		}
	}
}

const userPolicy = `# my cordon policy
version = 1   # keep this

[filesystem]
writable = ["~/.cache/bazel"]  # shared build dir

# my own rules
[[commands.rule]]
name = "kubectl-read"
match = ["kubectl", "get|describe", "**"]
decision = "allow"

[limits]
timeout = "30m"
# trailing comment without a newline`

func TestAlwaysGrantAppendsToTheUserPolicy(t *testing.T) {
	g, ws := testGrants(t)
	os.MkdirAll(filepath.Dir(g.policyFile), 0o755)
	if err := os.WriteFile(g.policyFile, []byte(userPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"rm", "-rf", "build/*", `C:\tmp`, "a|b", "why?", `say "hi"`, "line\nbreak", "**", "日本"}
	r := Request{Command: strings.Join(argv, " "), Argv: argv, Cwd: ws, Workspace: ws, Category: "destructive", Rule: "no-rm"}
	if _, ok := g.Lookup(r); ok {
		t.Fatal("an always grant before anything was remembered")
	}
	a := Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelTerminal, Approver: "alice"}
	if err := g.Remember(r, a); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(g.policyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(userPolicy)) {
		t.Fatalf("the user's own text changed:\n%s", data)
	}
	added := string(data[len(userPolicy):])
	name := grantRuleName(argv)
	for _, want := range []string{"# >>> cordon approval grant " + name, "# <<< cordon approval grant " + name, "delete this block to revoke it", "by alice (tty)", `command: rm -rf build/* C:\\tmp`} {
		if !strings.Contains(added, want) {
			t.Errorf("the appended block lacks %q:\n%s", want, added)
		}
	}
	// cordon's own policy loader accepts the file, and reads the rule back.
	if _, err := policy.ParseFile(policy.LayerUser, g.policyFile, data); err != nil {
		t.Fatalf("the policy loader rejects the file: %v\n%s", err, data)
	}
	var pf struct {
		Commands cmdpolicy.Config `toml:"commands"`
	}
	if err := toml.Unmarshal(data, &pf); err != nil {
		t.Fatal(err)
	}
	if err := pf.Commands.Validate(); err != nil {
		t.Fatalf("the rules do not validate: %v", err)
	}
	// The rule matches exactly the approved argument vector and nothing else.
	p, err := cmdpolicy.New(cmdpolicy.Config{Default: cmdpolicy.Ask, Rules: pf.Commands.Rules})
	if err != nil {
		t.Fatal(err)
	}
	if res := p.Check(argv); res.Decision != cmdpolicy.Allow {
		t.Errorf("the grant rule does not allow the approved command: %+v", res)
	}
	for _, variant := range [][]string{
		{"rm", "-rf", "build/x", `C:\tmp`, "a|b", "why?", `say "hi"`, "line\nbreak", "**", "日本"},
		{"rm", "-rf", "build/*", `C:\tmp`, "a", "why?", `say "hi"`, "line\nbreak", "**", "日本"},
		{"rm", "-rf", "build/*", `C:\tmp`, "a|b", "why!", `say "hi"`, "line\nbreak", "**", "日本"},
		{"rm", "-rf", "build/*", `C:\tmp`, "a|b", "why?", `say "hi"`, "line\nbreak", "x", "日本"},
		append(append([]string(nil), argv...), "/"),
	} {
		if res := p.Check(variant); res.Decision == cmdpolicy.Allow {
			t.Errorf("the grant rule also allows %q", variant)
		}
		if _, ok := g.Lookup(Request{Argv: variant}); ok {
			t.Errorf("Lookup grants %q", variant)
		}
	}
	ans, ok := g.Lookup(Request{Argv: argv, Workspace: "/another/workspace"})
	if !ok || ans.Scope != ScopeAlways || ans.Channel != ChannelGrant || !strings.Contains(ans.Reason, name) {
		t.Fatalf("Lookup = %+v, %v; want the always grant in every workspace", ans, ok)
	}
	// Remembering it again adds nothing.
	if err := g.Remember(r, a); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(g.policyFile); !bytes.Equal(again, data) {
		t.Errorf("a second identical grant changed the file:\n%s", again[len(data):])
	}
}

func TestAlwaysGrantCreatesTheUserPolicy(t *testing.T) {
	g, ws := testGrants(t)
	r := Request{Argv: []string{"npm", "install", "left-pad"}, Workspace: ws}
	if err := g.Remember(r, Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelWeb, Approver: "alice"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(g.policyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := policy.ParseFile(policy.LayerUser, g.policyFile, data); err != nil {
		t.Fatalf("the new policy file is not valid: %v\n%s", err, data)
	}
	if fi, _ := os.Stat(g.policyFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("new policy file mode %v, want 0600", fi.Mode())
	}
	if _, ok := g.Lookup(r); !ok {
		t.Fatal("the grant is not found")
	}
}

func TestAlwaysGrantRefusesAnInvalidPolicy(t *testing.T) {
	g, ws := testGrants(t)
	os.MkdirAll(filepath.Dir(g.policyFile), 0o755)
	for name, text := range map[string]string{
		"unknown key":          "version = 1\nmdoe = \"read-only\"\n",
		"inline rule array":    "version = 1\n[commands]\nrule = [{match = [\"ls\"], decision = \"allow\"}]\n",
		"not TOML":             "version = 1\n[filesystem\n",
		"missing version line": "[limits]\ntimeout = \"1m\"\n",
	} {
		if err := os.WriteFile(g.policyFile, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		err := g.Remember(Request{Argv: []string{"make", "deploy"}, Workspace: ws}, Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelWeb})
		if err == nil {
			t.Errorf("%s: the grant was added", name)
		} else if !strings.Contains(err.Error(), "nothing was added") {
			t.Errorf("%s: error = %v; want it to say nothing was added", name, err)
		}
		if data, _ := os.ReadFile(g.policyFile); string(data) != text {
			t.Errorf("%s: the file changed:\n%s", name, data)
		}
	}
}

func TestAlwaysGrantFollowsASymlinkedPolicy(t *testing.T) {
	g, ws := testGrants(t)
	dotfiles := filepath.Join(t.TempDir(), "dotfiles", "cordon.toml")
	os.MkdirAll(filepath.Dir(dotfiles), 0o755)
	os.WriteFile(dotfiles, []byte("version = 1\n"), 0o644)
	os.MkdirAll(filepath.Dir(g.policyFile), 0o755)
	if err := os.Symlink(dotfiles, g.policyFile); err != nil {
		t.Fatal(err)
	}
	if err := g.Remember(Request{Argv: []string{"make", "deploy"}, Workspace: ws}, Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelWeb}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(g.policyFile); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symbolic link was replaced by a file")
	}
	if data, _ := os.ReadFile(dotfiles); !strings.Contains(string(data), grantRuleName([]string{"make", "deploy"})) {
		t.Fatal("the grant did not reach the link's target")
	}
}

func TestLookupHonoursOnlyExactGrantRules(t *testing.T) {
	g, _ := testGrants(t)
	os.MkdirAll(filepath.Dir(g.policyFile), 0o755)
	text := `version = 1
[[commands.rule]]
name = "my-make"
match = ["make", "deploy"]
decision = "allow"

[[commands.rule]]
name = "approved-edited"
match = ["make", "*"]
decision = "allow"

[[commands.rule]]
name = "approved-denied"
match = ["make", "release"]
decision = "deny"
`
	os.WriteFile(g.policyFile, []byte(text), 0o644)
	for _, argv := range [][]string{{"make", "deploy"}, {"make", "x"}, {"make", "*"}, {"make", "release"}} {
		if _, ok := g.Lookup(Request{Argv: argv}); ok {
			t.Errorf("Lookup treats a rule as a grant for %q", argv)
		}
	}
}

func TestConcurrentAlwaysGrants(t *testing.T) {
	g, ws := testGrants(t)
	os.MkdirAll(filepath.Dir(g.policyFile), 0o755)
	os.WriteFile(g.policyFile, []byte(userPolicy+"\n"), 0o644)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			g2 := *g
			errs <- g2.Remember(Request{Argv: []string{"make", fmt.Sprint("target-", i)}, Workspace: ws},
				Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelWeb})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(g.policyFile)
	if _, err := policy.ParseFile(policy.LayerUser, g.policyFile, data); err != nil {
		t.Fatalf("the file is not valid after concurrent grants: %v", err)
	}
	for i := range n {
		if _, ok := g.Lookup(Request{Argv: []string{"make", fmt.Sprint("target-", i)}}); !ok {
			t.Errorf("grant %d was lost", i)
		}
	}
}

func TestAlwaysOnlyForCommands(t *testing.T) {
	g, ws := testGrants(t)
	err := g.Remember(Request{Kind: KindNetwork, Command: "example.com:443", Workspace: ws}, Answer{Decision: Allow, Scope: ScopeAlways, Channel: ChannelWeb})
	if err == nil {
		t.Fatal("an always grant for a network destination was stored")
	}
}
