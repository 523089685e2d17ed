package cmdpolicy_test

// This test drives `cordon check` (internal/cli/check.go) from outside: it
// builds the real binary and runs it, as a user or an agent hook would.

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func buildCordon(t *testing.T) string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(here), "..", "..")
	bin := filepath.Join(t.TempDir(), "cordon")
	build := exec.Command("go", "build", "-o", bin, "./cmd/cordon")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cordon: %v\n%s", err, out)
	}
	return bin
}

func TestCordonCheckCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the cordon binary; skipped with -short")
	}
	bin := buildCordon(t)
	home := t.TempDir()
	work := t.TempDir()
	run := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"))
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("running cordon %q: %v", args, err)
		}
		return stdout.String(), stderr.String(), code
	}

	out, _, code := run("check", "--", "git", "push", "--force", "origin", "main")
	if code != 1 || !strings.Contains(out, "pr-merge/git-push-force") || !strings.HasPrefix(out, "decision: ask") {
		t.Errorf("force push: exit %d, output:\n%s", code, out)
	}

	out, _, code = run("check", "--", "ls", "-la")
	if code != 0 || !strings.HasPrefix(out, "decision: allow") {
		t.Errorf("ls: exit %d, output:\n%s", code, out)
	}

	out, _, code = run("check", "--json", "git status && echo $(gh auth token) | sh")
	if code != 1 {
		t.Errorf("json: exit %d, want 1\n%s", code, out)
	}
	var res struct {
		Decision string           `json:"decision"`
		Parts    []map[string]any `json:"parts"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if res.Decision != "ask" || len(res.Parts) != 4 {
		t.Errorf("want ask with 4 parts (git status, echo, gh auth token, sh):\n%s", out)
	}
	for _, p := range res.Parts {
		for _, key := range []string{"command", "decision", "category", "rule", "reason"} {
			if _, ok := p[key]; !ok {
				t.Errorf("part %v lacks %q", p, key)
			}
		}
	}

	// Nothing runs: a command that would create a file does not.
	marker := filepath.Join(work, "ran")
	if _, _, code := run("check", "--", "touch", marker); code != 0 {
		t.Errorf("touch: exit %d", code)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("cordon check ran the command")
	}

	// From the home directory too: check runs nothing, so the guard
	// against a broad workspace does not apply.
	work = home
	if out, errOut, code := run("check", "--", "ls"); code != 0 {
		t.Errorf("check from $HOME: exit %d\n%s%s", code, out, errOut)
	}

	_, errOut, code := run("check")
	if code != 125 || !strings.Contains(errOut, "cordon: hint:") {
		t.Errorf("no command: exit %d, stderr:\n%s", code, errOut)
	}

	help, _, _ := run("check", "--help")
	for _, want := range []string{"Exit status: 0 allow, 1 ask, 2 deny", "cordon check --json", "still runs inside the sandbox"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}
