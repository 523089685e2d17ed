//go:build linux

// Package session tests warm sandboxes (sandbox.Session) from outside:
// what one command leaves must not reach the next, a changed workspace or
// policy gets a new sandbox, and a command that is killed leaves the
// sandbox usable. The test binary is its own sandbox init (sandbox.Init in
// TestMain), so it runs as root; the escape tests run the same probes
// through `cordon mcp` as an unprivileged user.
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.Init()
	if os.Getuid() != 0 {
		if os.Getenv(testbin.RequireEnv) == "1" {
			fmt.Fprintln(os.Stderr, "session tests: they need root (the sandbox runs in this test's process), and nothing may be skipped here")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "session tests: skipped, they need root")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type fixture struct {
	t      *testing.T
	ws     string
	home   string
	token  string
	policy *policy.Policy
	s      *sandbox.Session
}

func newFixture(t *testing.T, policyText string) *fixture {
	t.Helper()
	root, err := os.MkdirTemp(testbin.Base, "cordon-session-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	b := make([]byte, 8)
	rand.Read(b)
	f := &fixture{t: t, home: filepath.Join(root, "home"), token: hex.EncodeToString(b)}
	f.ws = filepath.Join(f.home, "proj")
	os.MkdirAll(f.ws, 0o755)
	o := policy.Options{Workspace: f.ws, Home: f.home, NoUserFile: true}
	if policyText != "" {
		o.ExplicitFile = filepath.Join(root, "policy.toml")
		os.WriteFile(o.ExplicitFile, []byte(policyText), 0o644)
	}
	if f.policy, err = policy.Load(o); err != nil {
		t.Fatal(err)
	}
	f.s = sandbox.NewSession()
	t.Cleanup(func() { f.s.Close() })
	return f
}

type outcome struct {
	stdout, stderr string
	res            *sandbox.Result
}

// run runs a shell script as one command of the session.
func (f *fixture) run(script string) outcome {
	f.t.Helper()
	return f.runIn(context.Background(), f.s, script)
}

func (f *fixture) runIn(ctx context.Context, s *sandbox.Session, script string) outcome {
	f.t.Helper()
	dir := f.t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "out"))
	errf, _ := os.Create(filepath.Join(dir, "err"))
	defer out.Close()
	defer errf.Close()
	res, err := s.Run(ctx, sandbox.Request{Policy: f.policy, Workspace: f.ws, Home: f.home,
		Argv: []string{"/bin/sh", "-c", script}, Environ: []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + f.home},
		Stdout: out, Stderr: errf})
	if err != nil {
		f.t.Fatalf("run %q: %v", script, err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	return outcome{string(o), string(e), res}
}

func warmed(r *sandbox.Result) bool {
	for _, p := range r.Phases {
		if p.Name == "warm sandbox" {
			return true
		}
	}
	return false
}

// alive lists the processes on the host whose command line holds token.
func alive(token string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err == nil && strings.Contains(string(b), token) {
			var pid int
			fmt.Sscanf(filepath.Base(filepath.Dir(d)), "%d", &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

// A daemon the first command starts (new session, double fork) is gone
// when Run returns, and the next command runs in the same sandbox.
func TestNothingSurvivesACommand(t *testing.T) {
	f := newFixture(t, "")
	token := "cordon-warm-daemon-" + f.token
	os.Symlink("/bin/sleep", filepath.Join(f.ws, token))
	daemon := fmt.Sprintf(`setsid sh -c '%s 300 & ' </dev/null >/dev/null 2>&1; sleep 0.2; ps -eo args | grep -c '^%s' || true`, filepath.Join(f.ws, token), filepath.Join(f.ws, token))
	first := f.run(daemon)
	if !strings.HasPrefix(strings.TrimSpace(first.stdout), "1") {
		t.Fatalf("the daemon never ran inside, so the check proves nothing: %q %q", first.stdout, first.stderr)
	}
	if pids := alive(token); len(pids) > 0 {
		for _, p := range pids {
			exec.Command("kill", "-9", fmt.Sprint(p)).Run()
		}
		t.Errorf("ESCAPED: %d processes of the first command outlived it", len(pids))
	}
	// The bracket keeps grep's own command line (and the shell's) from
	// matching.
	pattern := strings.Replace(token, "daemon", "daemo[n]", 1)
	second := f.run(`ps -eo args | grep -c "` + pattern + `" || true`)
	if !warmed(second.res) {
		t.Fatalf("the second command did not reuse the warm sandbox: %v", second.res.Phases)
	}
	if n := strings.TrimSpace(second.stdout); n != "0" {
		t.Errorf("the second command sees %s processes of the first", n)
	}
}

// What a command leaves in the private /tmp and /dev/shm, and System V IPC
// objects, are gone for the next command.
func TestPrivatePlacesAreEmptied(t *testing.T) {
	f := newFixture(t, "")
	first := f.run(`echo x > /tmp/left-` + f.token + ` && echo y > /dev/shm/left-` + f.token + ` && ipcmk -M 4096 >/dev/null && ipcmk -Q >/dev/null && ipcmk -S 2 >/dev/null && ls /tmp /dev/shm && ipcs | grep -c 0x`)
	if !strings.Contains(first.stdout, "left-"+f.token) || first.res.ExitCode != 0 {
		t.Fatalf("the first command could not leave anything, so the check proves nothing: %q %q", first.stdout, first.stderr)
	}
	second := f.run(`ls -A /tmp /dev/shm; ipcs | grep -c 0x || true`)
	if !warmed(second.res) {
		t.Fatalf("the second command did not reuse the warm sandbox: %v", second.res.Phases)
	}
	if strings.Contains(second.stdout, "left-") {
		t.Errorf("the next command found what the first left: %q", second.stdout)
	}
	if lines := strings.Fields(second.stdout); len(lines) == 0 || lines[len(lines)-1] != "0" {
		t.Errorf("System V IPC objects survived: %q", second.stdout)
	}
}

// A secret that appears in the workspace between two commands is masked
// for the second: the plan changed, so the sandbox is new.
func TestChangedWorkspaceGetsANewSandbox(t *testing.T) {
	f := newFixture(t, "")
	f.run(`true`)
	os.WriteFile(filepath.Join(f.ws, ".env"), []byte("API_KEY=CANARY-"+f.token), 0o644)
	o := f.run(`cat .env; true`)
	if warmed(o.res) {
		t.Errorf("a workspace with a new .env reused the old sandbox")
	}
	if strings.Contains(o.stdout+o.stderr, "CANARY-"+f.token) {
		t.Errorf("ESCAPED: the new .env was readable")
	}
	// Unchanged again: the new sandbox is reused.
	if o := f.run(`true`); !warmed(o.res) {
		t.Errorf("an unchanged workspace did not reuse the sandbox: %v", o.res.Phases)
	}
}

// Every way a secret can appear between two commands is seen by the next
// command's plan, which a warm session makes mostly from memory
// (internal/fswatch): made by the previous command deep in the tree,
// moved in by the host inside a directory, made where a directory was
// replaced, and in a home directory the deny list names. Each is judged
// by the canary the next command can print; the first command of each
// case is run first so that the session has answers to go stale.
func TestSecretsAppearingBetweenCommandsAreMasked(t *testing.T) {
	for _, c := range []struct {
		name   string
		inside string // a script run as the first command
		host   func(f *fixture, canary string)
		read   string // the path the second command prints, from the workspace
	}{
		{name: "made by the previous command, three levels down",
			inside: "mkdir -p a/b/c && echo CANARY-$TOKEN > a/b/c/.env", read: "a/b/c/.env"},
		{name: "a directory holding one moved in by the host",
			host: func(f *fixture, canary string) {
				tmp := filepath.Join(f.home, "staging")
				os.MkdirAll(filepath.Join(tmp, "d"), 0o755)
				os.WriteFile(filepath.Join(tmp, "d", ".env.local"), []byte(canary), 0o644)
				os.Rename(tmp, filepath.Join(f.ws, "moved"))
			}, read: "moved/d/.env.local"},
		{name: "a directory replaced by one holding a secret",
			inside: "mkdir -p r/s && touch r/s/plain",
			host: func(f *fixture, canary string) {
				os.RemoveAll(filepath.Join(f.ws, "r"))
				os.MkdirAll(filepath.Join(f.ws, "r", "s"), 0o755)
				os.WriteFile(filepath.Join(f.ws, "r", "s", ".env"), []byte(canary), 0o644)
			}, read: "r/s/.env"},
		{name: "a credential file made in the home directory",
			host: func(f *fixture, canary string) {
				os.MkdirAll(filepath.Join(f.home, ".aws"), 0o755)
				os.WriteFile(filepath.Join(f.home, ".aws", "credentials"), []byte(canary), 0o644)
			}, read: "../.aws/credentials"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "")
			canary := "CANARY-" + f.token
			script := "true"
			if c.inside != "" {
				script = strings.ReplaceAll(c.inside, "$TOKEN", f.token)
			}
			if o := f.run(script); o.res.ExitCode != 0 {
				t.Fatalf("first command: %q", o.stderr)
			}
			if c.host != nil {
				c.host(f, canary)
			}
			if o := f.run("cat " + c.read + "; true"); strings.Contains(o.stdout+o.stderr, canary) {
				t.Errorf("ESCAPED: %s was readable in the next command", c.read)
			}
		})
	}
}

// A hook planted in a repository an earlier command of the session made
// is disarmed too: the supervisor checks every repository the sandbox
// made after each command.
func TestRepositoryOfAnEarlierCommand(t *testing.T) {
	f := newFixture(t, "")
	if o := f.run(`git init -q sub && git -C sub -c user.name=u -c user.email=u@x commit -q --allow-empty -m a`); o.res.ExitCode != 0 {
		t.Fatalf("git init inside: %q", o.stderr)
	}
	o := f.run(`printf '#!/bin/sh\ntouch "$0.ran"\n' > sub/.git/hooks/pre-commit && chmod +x sub/.git/hooks/pre-commit && git -C sub config core.fsmonitor 'touch fsmonitor.ran; false #'`)
	if !warmed(o.res) || o.res.ExitCode != 0 {
		t.Fatalf("planting in the second command: exit %d, phases %v: %s", o.res.ExitCode, o.res.Phases, o.stderr)
	}
	sub := filepath.Join(f.ws, "sub")
	git := exec.Command("git", "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "b")
	git.Dir = sub
	git.Env = []string{"HOME=" + f.home, "PATH=/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1"}
	git.Run()
	st := exec.Command("git", "status")
	st.Dir, st.Env = sub, git.Env
	st.Run()
	for _, ran := range []string{filepath.Join(sub, ".git", "hooks", "pre-commit.ran"), filepath.Join(sub, "fsmonitor.ran")} {
		if _, err := os.Stat(ran); err == nil {
			t.Errorf("ESCAPED: %s: what the second command planted ran on the host", ran)
		}
	}
}

// A command killed for its timeout ends with 124, leaves nothing, and the
// sandbox serves the next command.
func TestTimeoutKeepsTheSandbox(t *testing.T) {
	f := newFixture(t, "version = 1\n[limits]\ntimeout = \"1s\"\n")
	token := "cordon-warm-timeout-" + f.token
	os.Symlink("/bin/sleep", filepath.Join(f.ws, token))
	f.run(`true`)
	begin := time.Now()
	o := f.run(filepath.Join(f.ws, token) + ` 60 & ` + filepath.Join(f.ws, token) + ` 60`)
	if o.res.ExitCode != 124 || !o.res.TimedOut {
		t.Errorf("exit %d (timed out %v), want 124", o.res.ExitCode, o.res.TimedOut)
	}
	if d := time.Since(begin); d > 30*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	if n := len(alive(token)); n > 0 {
		t.Errorf("ESCAPED: %d processes outlived the timeout", n)
	}
	if o := f.run(`true`); !warmed(o.res) || o.res.ExitCode != 0 {
		t.Errorf("after a timeout the sandbox was not reused (exit %d, phases %v)", o.res.ExitCode, o.res.Phases)
	}
}

// Commands of one session side by side get sandboxes of their own, and
// neither sees the other's processes.
func TestConcurrentCommands(t *testing.T) {
	f := newFixture(t, "")
	var wg sync.WaitGroup
	outs := make([]outcome, 2)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = f.run(fmt.Sprintf(`sleep 0.5; ps -eo args | grep -c 'sleep 0.5' || true; echo done-%d`, i))
		}()
	}
	wg.Wait()
	for i, o := range outs {
		if !strings.Contains(o.stdout, fmt.Sprintf("done-%d", i)) {
			t.Errorf("command %d: %q %q", i, o.stdout, o.stderr)
		}
	}
}

// The context ends a command; the sandbox is still good.
func TestCancel(t *testing.T) {
	f := newFixture(t, "")
	f.run(`true`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	o := f.runIn(ctx, f.s, `sleep 60`)
	if o.res.Signal == 0 {
		t.Errorf("a cancelled command reports exit %d, no signal", o.res.ExitCode)
	}
	if o := f.run(`true`); !warmed(o.res) {
		t.Errorf("after a cancel the sandbox was not reused: %v", o.res.Phases)
	}
}

// A command cancelled before it starts ends at once, and the sandbox is
// still good.
func TestCancelBeforeStart(t *testing.T) {
	f := newFixture(t, "")
	f.run(`true`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	begin := time.Now()
	f.runIn(ctx, f.s, `echo hi`)
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("a command cancelled before it started took %v to end", d)
	}
	if o := f.run(`true`); !warmed(o.res) {
		t.Errorf("after a cancel the sandbox was not reused: %v", o.res.Phases)
	}
}

// Each command's standard output reaches end of file when it ends: the
// warm sandbox keeps no copy of the pipes of the command that built it.
func TestOutputEndsWithTheCommand(t *testing.T) {
	f := newFixture(t, "")
	for i := range 2 {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		res, err := f.s.Run(context.Background(), sandbox.Request{Policy: f.policy, Workspace: f.ws, Home: f.home,
			Argv: []string{"/bin/echo", "hi"}, Environ: []string{"PATH=/usr/bin:/bin"}, Stdout: w})
		w.Close()
		if err != nil || res.ExitCode != 0 {
			t.Fatalf("command %d: %v", i, err)
		}
		got := make(chan string, 1)
		go func() { b, _ := io.ReadAll(r); got <- string(b) }()
		select {
		case s := <-got:
			if s != "hi\n" {
				t.Errorf("command %d wrote %q", i, s)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("command %d: its output never reached end of file: someone still holds the pipe", i)
		}
		r.Close()
	}
}
