//go:build linux

package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

// TestTrackedSecretsAreNamed: a .env that git tracks, and one that a commit
// added once, stay readable inside the sandbox through git's objects
// (`git show HEAD:.env`), which cordon cannot mask without breaking git. So
// `run --explain`, `run -v` and `doctor` name them. The same repository with
// no masked file in git gets no warning, so the check can tell the two
// apart.
func TestTrackedSecretsAreNamed(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		testbin.RequireOrSkip(t, "git is not installed")
	}
	for _, tracked := range []bool{true, false} {
		ws := makeRepo(t, tracked)
		for _, args := range [][]string{
			{"run", "--explain", "--", "true"},
			{"run", "-v", "--", "true"},
			{"doctor"},
		} {
			cmd := exec.Command(cordonBin, args...)
			cmd.Dir = ws
			cmd.Env = []string{"HOME=" + filepath.Dir(ws), "PATH=/usr/local/bin:/usr/bin:/bin"}
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("cordon %s: %v\n%s", strings.Join(args, " "), err, out.String())
			}
			got := out.String()
			const warning = "secrets tracked by git are readable through git objects: .env (tracked), config/.env.prod (in history)"
			switch {
			case tracked && !strings.Contains(got, warning):
				t.Errorf("cordon %s in a repository that tracks .env does not say %q:\n%s", strings.Join(args, " "), warning, got)
			case !tracked && strings.Contains(got, "secrets tracked by git"):
				t.Errorf("cordon %s warns about tracked secrets in a repository without any:\n%s", strings.Join(args, " "), got)
			}
		}
	}
}

// makeRepo makes a repository below a fresh home; with secrets, it tracks
// .env and once committed config/.env.prod, which it then stopped tracking.
func makeRepo(t *testing.T, secrets bool) string {
	t.Helper()
	root, err := os.MkdirTemp(testbin.Base, "cordon-tracked-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	ws := filepath.Join(root, "ws")
	if err := os.MkdirAll(filepath.Join(ws, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		cmd.Dir = ws
		cmd.Env = []string{"HOME=" + root, "PATH=/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(ws, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("main.go", "package main\n")
	git("add", "main.go")
	git("commit", "-qm", "code")
	if secrets {
		write(".env", "TOKEN=1\n")
		write("config/.env.prod", "TOKEN=2\n")
		git("add", ".env", "config/.env.prod")
		git("commit", "-qm", "secrets")
		git("rm", "-q", "--cached", "config/.env.prod")
		git("commit", "-qm", "untrack")
	} else {
		write(".env", "TOKEN=1\n") // masked, but git never saw it
	}
	return ws
}
