package agents

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

// installWrapper writes the cordon-sh wrapper script that docs/agents.md
// tells users to give their agent as its shell.
func installWrapper(t *testing.T, e *env) string {
	t.Helper()
	p := filepath.Join(e.root, "bin", "cordon-sh")
	writeFile(t, p, e.snippet(t, "cordon-sh"), 0o755)
	return p
}

type shellResult struct {
	stdout, stderr string
	code           int
}

func runShell(t *testing.T, e *env, shell string, stdin string, args ...string) shellResult {
	t.Helper()
	cmd := detach(exec.Command(shell, args...))
	cmd.Dir = e.ws
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode() // -1 when a signal killed it
	case err != nil:
		t.Fatalf("%s %q: %v", shell, args, err)
	}
	return shellResult{out.String(), errb.String(), code}
}

// TestShellBehavesLikeSh runs a table of sh behaviours through real sh and
// through the cordon-sh wrapper, and wants the same output, error output
// and exit status. Each case is judged by an outer sh's $?, which is what
// an agent sees.
func TestShellBehavesLikeSh(t *testing.T) {
	e := newEnv(t)
	wrapper := installWrapper(t, e)
	// The command rules ask about what they cannot read (a script on
	// standard input or in a file, a syntax error); this user has an
	// approver that says yes, so that those cases run and can be compared.
	allowAll(t, e)
	writeFile(t, filepath.Join(e.ws, "script.sh"), "echo \"script $# $1 $2\"\nexit 5\n", 0o644)
	cases := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"exit status", "", []string{"-c", "exit 7"}},
		{"exit status wraps at 256", "", []string{"-c", "exit 300"}},
		{"arg0 and args", "", []string{"-c", `echo "0=$0 1=$1 2=$2 #=$#"`, "zero", "a b", "it's"}},
		{"all args", "", []string{"-c", `printf '[%s]' "$@"`, "arg0", "x", "y z", "", `$HOME`}},
		{"quoting", "", []string{"-c", `printf '%s|' 'single' "double $((1+2))" \$HOME 'it'"'"'s' "tab	x" 'new
line' "back\\slash"`}},
		{"unicode", "", []string{"-c", `printf '%s\n' "héllo → 世界"`}},
		{"stdout and stderr", "", []string{"-c", "echo out; echo err >&2; exit 1"}},
		{"stdin data", "line one\nline two\n", []string{"-c", "cat; echo done"}},
		{"script on stdin", "echo one\necho \"two $((2*3))\"\nexit 4\necho never\n", nil},
		{"script file", "", []string{"script.sh", "p", "q"}},
		{"errexit option", "", []string{"-e", "-c", "false; echo not reached"}},
		{"combined options", "", []string{"-ec", "false; echo not reached"}},
		{"syntax error", "", []string{"-c", "if then"}},
		{"command not found", "", []string{"-c", "no-such-command-xyz"}},
		{"not executable", "", []string{"-c", "./script.sh"}},
		{"signal TERM", "", []string{"-c", "kill -TERM $$"}},
		{"signal KILL", "", []string{"-c", "kill -KILL $$"}},
		{"signal HUP", "", []string{"-c", "kill -HUP $$"}},
		{"signal PIPE", "", []string{"-c", "kill -PIPE $$"}},
		{"signal INT of a child", "", []string{"-c", "sh -c 'kill -INT $$'; echo child=$?"}},
		{"pipeline status", "", []string{"-c", "false | true; echo $?"}},
		{"here-document", "", []string{"-c", "cat <<EOF\nA $((40+2)) 'q'\nEOF"}},
		{"working directory", "", []string{"-c", "pwd"}},
		{"writes in the workspace", "", []string{"-c", "echo hi > f.txt && cat f.txt && rm f.txt"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"-c", `"$@"; echo "status=$?"`, "outer"}, append([]string{"SHELL"}, c.args...)...)
			want := runOuter(t, e, "sh", c.stdin, args)
			got := runOuter(t, e, wrapper, c.stdin, args)
			if got != want {
				t.Errorf("cordon shell %q:\n got %+v\nwant %+v", c.args, got, want)
			}
		})
	}
}

// TestShellCoreSignals: for signals that dump core, cordon exits with
// 128+N, the status an outer shell reports, but does not die of the signal
// itself (the Go runtime would print a stack trace), so the outer shell's
// own message ("Quit (core dumped)") is missing. docs/agents.md says so.
func TestShellCoreSignals(t *testing.T) {
	e := newEnv(t)
	wrapper := installWrapper(t, e)
	for _, sig := range []string{"QUIT", "SEGV", "ABRT"} {
		args := []string{"-c", `"$@"; echo "status=$?"`, "outer", "SHELL", "-c", "ulimit -c 0; kill -" + sig + " $$"}
		want := runOuter(t, e, "sh", "", args)
		got := runOuter(t, e, wrapper, "", args)
		if got.stdout != want.stdout || got.code != want.code {
			t.Errorf("SIG%s: got %+v, want %+v", sig, got, want)
		}
	}
}

// runOuter runs `sh -c '"$@"; echo status=$?' outer SHELL ARGS...` with
// SHELL replaced by the shell under test, so that the status is observed
// the way a calling program observes it.
func runOuter(t *testing.T, e *env, shell, stdin string, args []string) shellResult {
	t.Helper()
	a := append([]string(nil), args...)
	for i, s := range a {
		if s == "SHELL" {
			a[i] = shell
			break
		}
	}
	return runShell(t, e, "sh", stdin, a...)
}

// TestShellWriteOutside: cordon shell cannot write outside the workspace;
// the same command through real sh can, which shows the probe sees it.
func TestShellWriteOutside(t *testing.T) {
	e := newEnv(t)
	wrapper := installWrapper(t, e)
	for _, c := range []struct {
		shell     string
		sandboxed bool
	}{{wrapper, true}, {"sh", false}} {
		target := filepath.Join(e.outside, fmt.Sprintf("from-%v", c.sandboxed))
		runShell(t, e, c.shell, "", "-c", fmt.Sprintf("echo pwned > %q", target))
		if exists(target) == c.sandboxed {
			t.Errorf("%s: %s exists = %v", c.shell, target, exists(target))
		}
	}
}

// TestShellAsAidersShell drives the wrapper the way Aider runs commands
// (aider/run_cmd.py: subprocess.Popen(command, shell=True,
// executable=os.environ["SHELL"])), with the real Python.
func TestShellAsAidersShell(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		testbin.RequireOrSkip(t, "python3 is not installed; this test drives cordon-sh through Python's subprocess as Aider does")
	}
	e := newEnv(t)
	wrapper := installWrapper(t, e)
	target := filepath.Join(e.outside, "aider")
	script := `import os, subprocess, sys
p = subprocess.Popen(sys.argv[1], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                     shell=True, executable=os.environ.get("SHELL", "/bin/sh"))
out, _ = p.communicate()
print(out, end="")
sys.exit(p.returncode)
`
	cmd := detach(exec.Command(python, "-c", script, fmt.Sprintf("echo in-sandbox $(hostname); echo x > %q; exit 3", target)))
	cmd.Dir = e.ws
	cmd.Env = e.environ("SHELL=" + wrapper)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "in-sandbox cordon") {
		t.Errorf("the command did not run in cordon's sandbox (its hostname is cordon): %s", out)
	}
	if exists(target) {
		t.Errorf("wrote outside the workspace through Aider's way of running commands")
	}
}

// TestShellAsOpenCodesShell drives the wrapper the way OpenCode's bash tool
// runs a command with a shell it has no special case for: Node's spawn of
// SHELL with ["-c", command].
func TestShellAsOpenCodesShell(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testbin.RequireOrSkip(t, "node is not installed; this test drives cordon-sh through Node's child_process as OpenCode does")
	}
	e := newEnv(t)
	wrapper := installWrapper(t, e)
	target := filepath.Join(e.outside, "opencode")
	script := `const { spawn } = require("child_process");
const p = spawn(process.env.SHELL, ["-c", process.argv[1]], { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] });
p.stdout.on("data", (d) => process.stdout.write(d));
p.stderr.on("data", (d) => process.stdout.write(d));
p.on("close", (code) => process.exit(code));
`
	cmd := detach(exec.Command(node, "-e", script, fmt.Sprintf("echo in-sandbox $(hostname) $(pwd); echo x > %q; exit 4", target)))
	cmd.Dir = e.ws
	cmd.Env = e.environ("SHELL=" + wrapper)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 4 {
		t.Fatalf("exit: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "in-sandbox cordon "+e.ws) {
		t.Errorf("the command did not run in cordon's sandbox in the workspace: %s", out)
	}
	if exists(target) {
		t.Errorf("wrote outside the workspace through OpenCode's way of running commands")
	}
}

// TestShellPolicyDecides: cordon shell applies the command rules before
// running: a denied command does not run, and cordon says why.
func TestShellPolicyDecides(t *testing.T) {
	e := newEnv(t)
	policy := policyWithRules(t, e)
	res := runShell(t, e, cordonBin, "", "shell", "--policy", policy, "-c", "touch shell-ran; curl -s https://example.com")
	if res.code != 126 || !strings.Contains(res.stderr, "downloads are not allowed in this project") {
		t.Errorf("%+v", res)
	}
	if exists(filepath.Join(e.ws, "shell-ran")) {
		t.Errorf("a denied command line ran")
	}
	res = runShell(t, e, cordonBin, "", "shell", "--policy", policy, "-c", "touch shell-ran")
	if res.code != 0 || !exists(filepath.Join(e.ws, "shell-ran")) {
		t.Errorf("control: %+v", res)
	}
}

// allowAll gives the user's own policy an approver that allows everything.
func allowAll(t *testing.T, e *env) {
	t.Helper()
	approver := filepath.Join(e.root, "allow-all")
	writeFile(t, approver, "#!/bin/sh\ncat >/dev/null\necho '{\"decision\":\"allow\",\"scope\":\"once\"}'\n", 0o755)
	writeFile(t, filepath.Join(e.home, ".config", "cordon", "policy.toml"),
		fmt.Sprintf("version = 1\n\n[approval]\napprover = [%q]\n", approver), 0o644)
}
