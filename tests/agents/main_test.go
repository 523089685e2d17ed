// Package agents tests cordon's ways in for agents end to end: the real
// cordon binary, built once with CGO_ENABLED=0, driven the way an agent
// drives it (an MCP client over a stdio pipe, a shell wrapper, Claude
// Code's hook payloads), and judged from the host: the file outside the
// workspace, the process table, the settings file.
package agents

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

var cordonBin string

func TestMain(m *testing.M) {
	// The tests need a working sandbox; say so plainly when there is none.
	sandboxWorks := func() error {
		dir, err := os.MkdirTemp(testbin.Base, "cordon-agents-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if out, err := newEnvAt(dir).cordon("", "run", "--", "true"); err != nil {
			return fmt.Errorf("agents tests: cordon cannot run a sandbox on this machine (%v):\n%s\nrun `cordon doctor` to see what is missing", err, out)
		}
		return nil
	}
	testbin.Main(m, map[string]*string{"cordon": &cordonBin}, map[string]string{"cordon": testbin.Cordon}, sandboxWorks)
}

// env is one fresh host layout: a home, a workspace inside it, and a
// directory outside the workspace the tests try to write.
type env struct {
	root    string
	home    string
	ws      string
	outside string
	token   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// Not /tmp: it is private inside the sandbox, so a path there would not
	// exist inside and a write to it would fail for the wrong reason.
	root, err := os.MkdirTemp(testbin.Base, "cordon-agents-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return newEnvAt(root)
}

func newEnvAt(root string) *env {
	root, _ = filepath.EvalSymlinks(root)
	e := &env{root: root, home: filepath.Join(root, "home"), token: randomToken()}
	e.ws = filepath.Join(e.home, "src", "project")
	e.outside = filepath.Join(root, "outside")
	for _, d := range []string{e.ws, e.outside, filepath.Join(e.ws, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			panic(err)
		}
	}
	return e
}

func randomToken() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// environ is the environment cordon and the reference shells run with.
func (e *env) environ(extra ...string) []string {
	out := []string{
		"HOME=" + e.home,
		"PATH=" + os.Getenv("PATH"),
		"LANG=C",
	}
	return append(out, extra...)
}

// cordon runs the cordon binary in the workspace with stdin.
func (e *env) cordon(stdin string, args ...string) (string, error) {
	cmd := detach(exec.Command(cordonBin, args...))
	cmd.Dir = e.ws
	cmd.Env = e.environ()
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func writeFile(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// snippet returns a configuration snippet that docs/agents.md shows
// (testdata/snippets/NAME, checked against the document by
// TestDocsShowTheTestedSnippets), with its placeholders filled in: the
// cordon binary under test and this test's workspace.
func (e *env) snippet(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "snippets", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.ReplaceAll(string(b), "/usr/local/bin/cordon", cordonBin)
	return strings.ReplaceAll(s, "/path/to/project", e.ws)
}
