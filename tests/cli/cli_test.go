//go:build linux

// Package cli pins what cordon's command line says when it is used wrongly:
// the real binary, built once, run with a mistyped command, a bad flag, a
// broken policy file, a workspace that is too broad or a refused command,
// and its exit status, stdout and stderr compared with golden files under
// testdata. Every case fails before a sandbox would start, so the whole
// suite costs a few process starts. Regenerate the golden files with
//
//	go test ./tests/cli -update
//
// and read the diff: it is the change users will see.
package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata with what cordon prints now")

var cordonBin string

func TestMain(m *testing.M) {
	testbin.Main(m, map[string]*string{"cordon": &cordonBin}, map[string]string{"cordon": testbin.Cordon})
}

// nobody is the unprivileged user the unprivileged cases run as.
const nobody = 65534

// A cliCase is one invocation of cordon in a fresh host layout:
//
//	$ROOT/home      HOME (empty unless files put something there)
//	$ROOT/home/ws   the workspace and the default directory
//
// $ROOT in args, dir and env is replaced by the layout's root, and the root
// is written as $ROOT in the golden file, so that it does not change.
type cliCase struct {
	name  string
	args  []string
	dir   string            // relative to $ROOT, or absolute; default home/ws
	files map[string]string // path relative to $ROOT -> content
	stdin string
	env   []string
	// asNobody runs cordon as uid 65534 after setup; the test needs root.
	asNobody bool
	setup    func(t *testing.T, root string)
}

// hookInput is a Claude Code PreToolUse call that would run unsandboxed if
// the hook let it through.
const hookInput = `{"session_id":"s1","cwd":"$ROOT/home/ws","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"rm -rf ~"}}`

const userPolicy = "home/.config/cordon/policy.toml"
const wsPolicy = "home/ws/.cordon/policy.toml"

var cases = []cliCase{
	// Command groups: a missing or mistyped subcommand fails; the hook
	// fails with 2, which makes Claude Code block the call.
	{name: "group-root-unknown", args: []string{"bogus"}},
	{name: "group-root-typo", args: []string{"rn", "--", "true"}},
	{name: "group-root-missing", args: nil},
	{name: "group-hook-typo", args: []string{"hook", "claude"}, stdin: hookInput},
	{name: "group-hook-missing", args: []string{"hook"}, stdin: hookInput},
	{name: "group-hook-bad-flag", args: []string{"hook", "--bogus", "claude"}, stdin: hookInput},
	{name: "group-policy-typo", args: []string{"policy", "shw"}},
	{name: "group-policy-missing", args: []string{"policy"}},
	{name: "group-audit-typo", args: []string{"audit", "tali"}},
	{name: "group-audit-missing", args: []string{"audit"}},
	{name: "group-windows-typo", args: []string{"windows", "clean"}},
	{name: "group-completion-typo", args: []string{"completion", "bsh"}},
	{name: "leaf-extra-argument", args: []string{"doctor", "now"}},
	{name: "hook-install-unknown-agent", args: []string{"hook", "install", "claude"}},

	// Bad flags and flag values.
	{name: "flag-run-unknown", args: []string{"run", "--bogus", "--", "true"}},
	{name: "flag-run-bad-timeout", args: []string{"run", "--timeout", "soon", "--", "true"}},
	{name: "flag-run-bad-mode", args: []string{"run", "--mode", "rw", "--", "true"}},
	{name: "flag-run-unknown-degraded", args: []string{"run", "--allow-degraded", "bubblewrap", "--", "true"}},
	{name: "flag-run-bad-allow-host", args: []string{"run", "--allow-host", "*", "--", "true"}},
	{name: "flag-check-unknown", args: []string{"check", "--jsn", "--", "ls"}},
	{name: "flag-hook-claude-code-unknown", args: []string{"hook", "claude-code", "--bogus"}, stdin: hookInput},
	{name: "flag-policy-file-missing", args: []string{"run", "--policy", "nope.toml", "--", "true"}},

	// The command line after --.
	{name: "run-no-command", args: []string{"run"}},
	{name: "run-flags-no-command", args: []string{"run", "--timeout", "5s"}},
	{name: "run-missing-dashdash", args: []string{"run", "--rm", "-rf", "build"}},
	{name: "check-no-command", args: []string{"check"}},

	// Broken policy files, read by run (the user's file at its default
	// place) and by validate.
	{name: "policy-unknown-key-run", args: []string{"run", "--", "true"},
		files: map[string]string{userPolicy: "version = 1\n\n[filesystem]\nwriteable = [\"/srv\"]\n"}},
	{name: "policy-unknown-keys-validate", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\nmod = \"read-only\"\n\n[filesystem]\nwriteable = [\"/srv\"]\n"}},
	{name: "policy-wrong-type-list", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[filesystem]\nwritable = \"/srv\"\n"}},
	{name: "policy-wrong-type-bool", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[filesystem]\ntrust_workspace_policy = \"yes\"\n"}},
	{name: "policy-wrong-type-network", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[network]\nmode = 3\n"}},
	{name: "policy-wrong-type-audit", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n\n[audit.file]\npath = 3\n"}},
	{name: "policy-bad-value-mode", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\nmode = \"rw\"\n"}},
	{name: "policy-bad-value-network", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n\n[network]\nmode = \"proxy\"\n\nallow = [\n  \"pypi.org\",\n  \"*\",\n]\nunlisted = \"maybe\"\n"}},
	{name: "policy-bad-value-audit", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n\n[audit]\nfile.enabled = true\n\nfile.path = \"audit.jsonl\"\n"}},
	{name: "policy-bad-value-limits", args: []string{"run", "--", "true"},
		files: map[string]string{userPolicy: "version = 1\n[limits]\ntimeout = \"soon\"\nmemory = \"lots\"\n"}},
	{name: "policy-syntax-error", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\nmode = \n"}},
	{name: "policy-missing-version", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "mode = \"read-only\"\n"}},
	{name: "policy-widening-workspace", args: []string{"run", "--", "true"},
		files: map[string]string{wsPolicy: "version = 1\nmode = \"full-access\"\n\n[filesystem]\nwritable = [\"/srv\"]\n"}},
	{name: "policy-widening-workspace-network", args: []string{"run", "--", "true"},
		files: map[string]string{wsPolicy: "version = 1\n\n[network]\nmode = \"proxy\"\nallow = [\"example.com\"]\n"}},
	{name: "policy-widening-workspace-validate", args: []string{"policy", "validate", "$ROOT/" + wsPolicy},
		files: map[string]string{wsPolicy: "version = 1\n\n[filesystem]\nwritable = [\"/srv\"]\n"}},
	{name: "policy-missing-writable-root-validate", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[filesystem]\nwritable = [\"$ROOT/no-such-dir\"]\n"}},
	{name: "policy-missing-writable-root-run", args: []string{"run", "--", "true"},
		files: map[string]string{userPolicy: "version = 1\n[filesystem]\nwritable = [\"$ROOT/no-such-dir\"]\n"}},
	{name: "policy-validate-broad-root", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[filesystem]\nwritable = [\"~\"]\n"}},
	{name: "policy-validate-broad-root-allowed", args: []string{"policy", "validate", "--allow-broad-roots", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[filesystem]\nwritable = [\"~\"]\n"}},
	{name: "policy-validate-as-policy-flag", args: []string{"policy", "validate", "--workspace", "$ROOT/home/ws", "$ROOT/home/ws/ci.toml"},
		files: map[string]string{"home/ws/ci.toml": "version = 1\nmode = \"full-access\"\n"}},
	{name: "policy-validate-ok", args: []string{"policy", "validate", "$ROOT/p.toml"},
		files: map[string]string{"p.toml": "version = 1\n[filesystem]\nwritable = [\"$ROOT/extra\"]\n", "extra/.keep": ""}},
	{name: "proxy-bad-rules", args: []string{"proxy", "--policy", "$ROOT/n.toml"},
		files: map[string]string{"n.toml": "version = 1\n[network]\nallow = [\"*\", \"exa mple.com\"]\n"}},
	{name: "hook-bad-policy", args: []string{"hook", "claude-code"}, stdin: hookInput,
		env:   []string{"CLAUDE_PROJECT_DIR=$ROOT/home/ws"},
		files: map[string]string{userPolicy: "version = 1\n[filesystem]\nwriteable = [\"/srv\"]\n"}},

	// Workspaces that are too broad.
	{name: "workspace-root", args: []string{"run", "--", "true"}, dir: "/"},
	{name: "workspace-home", args: []string{"run", "--", "true"}, dir: "home"},
	{name: "workspace-missing", args: []string{"run", "--workspace", "$ROOT/gone", "--", "true"}},

	// Refused commands: the rules decide before anything starts.
	{name: "denied-by-rule", args: []string{"run", "--", "rm", "-rf", "build"},
		files: map[string]string{userPolicy: "version = 1\n\n[[commands.rule]]\nname = \"no-rm\"\nmatch = [\"rm\", \"**\"]\ndecision = \"deny\"\nreason = \"nothing is deleted here\"\n"}},
	{name: "denied-no-approver", args: []string{"run", "--", "git", "push", "--force", "origin", "main"}},
	{name: "check-denied", args: []string{"check", "--", "rm", "-rf", "build"},
		files: map[string]string{userPolicy: "version = 1\n\n[[commands.rule]]\nname = \"no-rm\"\nmatch = [\"rm\", \"**\"]\ndecision = \"deny\"\nreason = \"nothing is deleted here\"\n"}},

	// An unprivileged user whose home directory cannot be read: the error
	// names the user's own policy file, not --policy.
	{name: "home-unreadable", args: []string{"run", "--", "true"}, dir: "ws", asNobody: true,
		setup: func(t *testing.T, root string) {
			ws := filepath.Join(root, "ws")
			if err := os.MkdirAll(ws, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(ws, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(root, "home"), 0); err != nil {
				t.Fatal(err)
			}
		}},
	// The workspace's own file cannot be read: it may tighten, so cordon
	// refuses, naming that file.
	{name: "workspace-policy-unreadable", args: []string{"run", "--", "true"}, dir: "ws", asNobody: true,
		files: map[string]string{"ws/.cordon/policy.toml": "version = 1\nmode = \"read-only\"\n"},
		setup: func(t *testing.T, root string) {
			ws := filepath.Join(root, "ws")
			if err := os.Chown(ws, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(filepath.Join(ws, ".cordon", "policy.toml"), 0); err != nil {
				t.Fatal(err)
			}
		}},
}

func TestGolden(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.name] {
			t.Fatalf("two cases are named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			got := runCase(t, c)
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("cordon printed, for %s:\n%s\nwant (%s):\n%s", c.name, got, path, want)
			}
		})
	}
	if !*update {
		// A golden file without a case is a case someone removed.
		ents, err := os.ReadDir("testdata")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if name, ok := strings.CutSuffix(e.Name(), ".golden"); ok && !seen[name] {
				t.Errorf("testdata/%s has no case", e.Name())
			}
		}
	}
}

// runCase runs one case and returns what the golden file holds.
func runCase(t *testing.T, c cliCase) string {
	t.Helper()
	if c.asNobody && os.Geteuid() != 0 {
		testbin.RequireOrSkip(t, "this case drops to uid 65534 and needs root")
	}
	root, err := os.MkdirTemp(testbin.Base, "cordon-cli-")
	if err != nil {
		t.Fatal(err)
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Chmod(filepath.Join(root, "home"), 0o755)
		os.RemoveAll(root)
	})
	// Every user may pass through the root (the unprivileged cases).
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	expand := func(s string) string { return strings.ReplaceAll(s, "$ROOT", root) }
	if err := os.MkdirAll(filepath.Join(root, "home", "ws"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range c.files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(expand(content)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if c.setup != nil {
		c.setup(t, root)
	}
	args := make([]string, len(c.args))
	for i, a := range c.args {
		args[i] = expand(a)
	}
	dir := c.dir
	switch {
	case dir == "":
		dir = filepath.Join(root, "home", "ws")
	case !filepath.IsAbs(dir):
		dir = filepath.Join(root, dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cordonBin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + filepath.Join(root, "home"), "PATH=/usr/local/bin:/usr/bin:/bin"}
	for _, e := range c.env {
		cmd.Env = append(cmd.Env, expand(e))
	}
	cmd.Stdin = strings.NewReader(expand(c.stdin))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A new session has no controlling terminal, so no case can stop at a
	// prompt on the terminal of whoever runs the tests.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if c.asNobody {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	}
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run cordon: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("cordon %s did not end within a minute", strings.Join(args, " "))
	}
	clean := func(s string) string {
		s = strings.ReplaceAll(s, cordonBin, "$CORDON")
		return strings.ReplaceAll(s, root, "$ROOT")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "$ %s\n", strings.Join(append([]string{"cordon"}, c.args...), " "))
	fmt.Fprintf(&b, "exit status %d\n", code)
	if stdout.Len() > 0 {
		fmt.Fprintf(&b, "-- stdout --\n%s", clean(stdout.String()))
		if !strings.HasSuffix(stdout.String(), "\n") {
			b.WriteString("\n")
		}
	}
	if stderr.Len() > 0 {
		fmt.Fprintf(&b, "-- stderr --\n%s", clean(stderr.String()))
		if !strings.HasSuffix(stderr.String(), "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}
