//go:build linux

// Package approval tests cordon's approval channels end to end: the real
// cordon binary's inbox (`cordon approve`) driven by a real headless
// browser, with the question asked and the answer awaited by the same code
// `cordon run` uses; and the promise that a sandboxed command cannot
// approve anything, judged from the host.
//
// Requirements (CI installs them, see README.md): root (the sandbox tests
// run cordon run), and Chromium (`apt-get install -y chromium`).
package approval

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

// testBase holds the test's files. Not /tmp: the sandbox has a private
// /tmp, and a probe must fail to reach the files for the right reason.
const testBase = testbin.Base

var (
	cordonBin string
	probeBin  string
)

func TestMain(m *testing.M) {
	testbin.Main(m, map[string]*string{"cordon": &cordonBin, "probe": &probeBin},
		map[string]string{"cordon": testbin.Cordon, "probe": "./probe"})
}

// env is one user's host layout: a home with a workspace inside it.
type env struct {
	t    *testing.T
	home string
	ws   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	root, err := os.MkdirTemp(testBase, "cordon-approval-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	os.Chmod(root, 0o755)
	e := &env{t: t, home: filepath.Join(root, "home")}
	e.ws = filepath.Join(e.home, "src", "project")
	if err := os.MkdirAll(e.ws, 0o755); err != nil {
		t.Fatal(err)
	}
	// The requesters in this process find the inbox the way cordon does,
	// through HOME's state directory.
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	return e
}

func (e *env) environ() []string {
	return []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
}

// inboxProc is a running `cordon approve`.
type inboxProc struct {
	cmd      *exec.Cmd
	loginURL string
	baseURL  string
	mu       sync.Mutex
	stderr   bytes.Buffer
}

func (p *inboxProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// startInbox runs `cordon approve` (with args) as the env's user and
// returns once it printed its URL.
func (e *env) startInbox(args ...string) *inboxProc {
	e.t.Helper()
	p := &inboxProc{}
	p.cmd = exec.Command(cordonBin, append([]string{"approve"}, args...)...)
	p.cmd.Dir = e.home
	p.cmd.Env = e.environ()
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "http://127.0.0.1:") || !strings.Contains(line, "/login?token=") {
			e.t.Fatalf("cordon approve printed %q, want its login URL; stderr:\n%s", line, p.log())
		}
		p.loginURL = line
		p.baseURL = line[:strings.Index(line, "/login")]
	case <-time.After(30 * time.Second):
		e.t.Fatalf("cordon approve printed no URL; stderr:\n%s", p.log())
	}
	return p
}
