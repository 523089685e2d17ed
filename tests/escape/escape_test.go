//go:build linux

// Package escape holds cordon's escape tests: each probe tries to break one
// promise of the sandbox, and the test judges the outcome from the host side
// (the file outside, the listener, the process table). Every probe also runs
// once without cordon, to show that it would detect the escape. The probes
// run as root and as an unprivileged user: a uid of the subtest's own
// (users_test.go), so that the per-user process count of one run is not
// another's.
//
// Each probe's subtests get a host layout of their own (newEnv) and run in
// parallel with their siblings (defaultParallel at once); the top-level tests
// run one after another. The process and memory limit tests run their
// subtests one at a time and alone: a fork bomb or a large allocation beside
// other probes would load the machine for all of them.
//
// No judgement waits for a fixed time to have passed: the probes wait for
// the host side's answer before they exit (the listener closes once it has
// counted), a daemon says when it is ready, and a process outside is asked
// whether it still runs. A wait has a deadline only for when the event never
// comes.
package escape

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

const testBase = testbin.Base

var (
	cordonBin string
	probeBin  string
)

// defaultParallel is how many subtests run at once unless -parallel says
// otherwise. Much of a probe's time is spent in a cordon run that sleeps on
// the kernel, so more than GOMAXPROCS (go test's default, 2 on a small
// machine) keeps the cores busy; more would only load a shared machine.
const defaultParallel = 4

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", strconv.Itoa(defaultParallel))
	}
	if os.Getuid() != 0 {
		if os.Getenv(testbin.RequireEnv) == "1" {
			fmt.Fprintln(os.Stderr, "escape tests: they need root (to test as root and as unprivileged users), and nothing may be skipped here")
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "escape tests: skipped, they need root (to test as root and as unprivileged users)")
		os.Exit(0)
	}
	// Orphans of the baselines (a daemon, a bomb's copies) come back to
	// this process, which reaps them (releaseUID), instead of to an init
	// that may not: a zombie counts against its user's RLIMIT_NPROC.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "escape tests: become a subreaper:", err)
		os.Exit(1)
	}
	testbin.Main(m, map[string]*string{"cordon": &cordonBin, "probe": &probeBin},
		map[string]string{"cordon": testbin.Cordon, "probe": "./probe"})
}

// env is one fresh host layout: a home with secrets, a workspace in it, and
// a directory outside the workspace.
type env struct {
	t       *testing.T
	uid     int
	root    string
	home    string
	ws      string
	outside string
	extra   []string // extra cordon flags
	token   string
}

// newEnv makes a layout owned by uid (ownUser: the test's own uid).
func newEnv(t *testing.T, uid int) *env {
	t.Helper()
	uid = userFor(t, uid)
	root, err := os.MkdirTemp(testBase, "cordon-escape-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	root, _ = filepath.EvalSymlinks(root)
	e := &env{t: t, uid: uid, root: root, home: filepath.Join(root, "home"), token: randomToken()}
	e.ws = filepath.Join(e.home, "src", "project")
	e.outside = filepath.Join(e.home, "outside")
	for _, d := range []string{e.ws, e.outside, filepath.Join(e.home, ".ssh")} {
		e.mkdir(d)
	}
	e.writeFile(filepath.Join(e.home, ".ssh", "id_canary"), "CANARY-SSH-"+e.token)
	e.chownAll()
	return e
}

func randomToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (e *env) mkdir(p string) {
	if err := os.MkdirAll(p, 0o755); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) writeFile(p, content string) {
	e.mkdir(filepath.Dir(p))
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) chownAll() {
	os.Chmod(e.root, 0o755)
	filepath.Walk(e.root, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			os.Lchown(p, e.uid, e.uid)
		}
		return nil
	})
}

func (e *env) read(p string) (string, bool) {
	b, err := os.ReadFile(p)
	return string(b), err == nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// result of one run.
type result struct {
	stdout, stderr string
	code           int
}

func (e *env) command(sandboxed bool, extraEnv []string, argv ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if sandboxed {
		args := append([]string{"run"}, e.extra...)
		args = append(append(args, "--"), argv...)
		cmd = exec.Command(cordonBin, args...)
	} else {
		cmd = exec.Command(argv[0], argv[1:]...)
	}
	cmd.Dir = e.ws
	cmd.Env = append([]string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}, extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if e.uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(e.uid), Gid: uint32(e.uid)}
	}
	return cmd
}

func (e *env) run(sandboxed bool, extraEnv []string, argv ...string) result {
	e.t.Helper()
	cmd := e.command(sandboxed, extraEnv, argv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run %v: %v", argv, err)
	}
	r := result{out.String(), errb.String(), code}
	if sandboxed && r.code == 125 {
		e.t.Fatalf("cordon could not set up the sandbox (exit 125): %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "probe: started") {
		e.t.Fatalf("the probe never ran (sandboxed=%v, exit %d), so its outcome proves nothing: %s", sandboxed, r.code, r.stderr)
	}
	return r
}

// probe describes one escape attempt.
type probe struct {
	name string
	// setup prepares the host; it may return extra environment for the run.
	setup func(e *env) []string
	argv  func(e *env) []string
	// escaped judges from the host side whether the attempt succeeded.
	escaped func(e *env, r result) bool
	cleanup func(e *env)
	// degraded: the probe also applies to the weaker Landlock-only mode.
	degraded bool
	// spins: a thread of the probe keeps a core busy for the whole run (a
	// race); such probes run one at a time (spinning), and first.
	spins bool
}

// spinning is held by a probe that keeps a core busy. Two of them at once on
// a two-core machine starve each other and every probe beside them.
var spinning = make(chan struct{}, 1)

// spinFirst orders probes so that the spinning ones, the longest, start
// first and overlap with the rest.
func spinFirst(ps []probe) []probe {
	var first, rest []probe
	for _, p := range ps {
		if p.spins {
			first = append(first, p)
		} else {
			rest = append(rest, p)
		}
	}
	return append(first, rest...)
}

// holdSpinning takes the spinning slot for the rest of the test if p spins.
func holdSpinning(t *testing.T, p probe) {
	if p.spins {
		spinning <- struct{}{}
		t.Cleanup(func() { <-spinning })
	}
}

func sh(script string) func(e *env) []string {
	return func(e *env) []string {
		s := strings.NewReplacer("$PROBE", probeBin, "$WS", "'"+e.ws+"'", "$OUT", "'"+e.outside+"'",
			"$HOMEDIR", "'"+e.home+"'", "$TOKEN", e.token).Replace(script)
		return []string{"/bin/sh", "-c", s}
	}
}

// gitInit makes a repository with one commit at dir, owned by the test's
// user.
func gitInit(e *env, dir string) {
	e.t.Helper()
	e.mkdir(dir)
	e.chownAll()
	git(e, dir, "init", "-q")
	git(e, dir, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "init")
	e.chownAll()
}

// git runs git in dir outside the sandbox, as the test's user would; its
// failures are the test's business only where the test checks them.
func git(e *env, dir string, args ...string) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM=1"}
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if e.uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(e.uid), Gid: uint32(e.uid)}
	}
	cmd.Run()
}

// nameProbes try every call that can create a name, and every way to name
// the place (relative from a subdirectory, through a symbolic link to a
// directory, through /proc/self/cwd), each on its own protected name, so
// that each baseline shows its own call works.
func nameProbes() []probe {
	setup := func(e *env) []string {
		e.mkdir(filepath.Join(e.ws, "sub"))
		e.mkdir(filepath.Join(e.ws, "tmpdir"))
		e.writeFile(filepath.Join(e.ws, "file"), "x")
		os.Symlink("..", filepath.Join(e.ws, "sub", "up"))
		e.chownAll()
		return nil
	}
	var out []probe
	for _, c := range []struct{ how, name, script string }{
		{"mkdir relative from a subdirectory", ".vscode", `cd $WS/sub && $PROBE mkdirp ../.vscode`},
		{"mkdir through a link to a directory", ".claude", `$PROBE mkdirp $WS/sub/up/.claude`},
		{"mkdir through /proc/self/cwd", ".cursor", `cd $WS/sub && $PROBE mkdirp /proc/self/cwd/../.cursor`},
		{"hard link", ".mcp.json", `$PROBE link $WS/file $WS/.mcp.json`},
		{"symbolic link", ".codex", `$PROBE symlink file $WS/.codex`},
		{"fifo", ".idea", `$PROBE mkfifo $WS/.idea`},
		{"unix socket", ".cordon", `$PROBE bind-unix $WS/.cordon`},
		{"openat2", ".gemini", `$PROBE openat2-create $WS/.gemini`},
		{"rename onto it", ".vscode", `$PROBE rename $WS/tmpdir $WS/.vscode`},
		{"shell redirection", ".mcp.json", `cd $WS && $PROBE env >/dev/null; echo '{}' > .mcp.json`},
	} {
		name := c.name
		out = append(out, probe{
			name: "create a protected name: " + c.how, degraded: true,
			setup:   setup,
			argv:    sh(c.script),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.ws, name)) },
		})
	}
	return out
}

func probes() []probe {
	return append(nameProbes(), []probe{
		{
			name: "write outside the workspace", degraded: true,
			argv:    sh(`$PROBE write $OUT/pwned x`),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.outside, "pwned")) },
		},
		{
			name: "write through a symlink", degraded: true,
			setup: func(e *env) []string {
				os.Symlink(e.outside, filepath.Join(e.ws, "link"))
				return nil
			},
			argv:    sh(`$PROBE write $WS/link/pwned x`),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.outside, "pwned")) },
		},
		{
			name: "write through a dangling symlink", degraded: true,
			setup: func(e *env) []string {
				os.Symlink(filepath.Join(e.outside, "created"), filepath.Join(e.ws, "dangle"))
				return nil
			},
			argv:    sh(`$PROBE write $WS/dangle x`),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.outside, "created")) },
		},
		hardLinkProbe("write", `$PROBE write $WS/hardlink pwned`, ""),
		hardLinkProbe("append", `$PROBE append $WS/hardlink pwned`, ""),
		hardLinkProbe("truncate", `$PROBE truncate $WS/hardlink`, ""),
		hardLinkProbe("shell redirection", `$PROBE env >/dev/null; echo pwned > $WS/hardlink`, ""),
		// The planner never searched below node_modules nor deeper than a
		// few levels; the supervisor judges each write where it happens.
		hardLinkProbe("write", `$PROBE write $WS/node_modules/a/b/c/d/e/hardlink pwned`, "node_modules/a/b/c/d/e"),
		{
			// A .pyc beside an unchanged module runs the next time the
			// user's Python imports it, outside the sandbox.
			name: "plant Python byte code in the workspace", degraded: true,
			setup: func(e *env) []string {
				e.writeFile(filepath.Join(e.ws, "mod.py"), "x = 1\n")
				e.mkdir(filepath.Join(e.ws, "__pycache__"))
				e.chownAll()
				return nil
			},
			argv: sh(`$PROBE write $WS/__pycache__/mod.cpython-311.pyc evil; $PROBE write $WS/mod.pyc evil`),
			escaped: func(e *env, _ result) bool {
				return exists(filepath.Join(e.ws, "__pycache__", "mod.cpython-311.pyc")) || exists(filepath.Join(e.ws, "mod.pyc"))
			},
		},
		{
			// Moved below a directory the planner does not search, a .env
			// would be readable in the next run.
			name: "move the directory of a masked .env where it is not searched",
			setup: func(e *env) []string {
				e.writeFile(filepath.Join(e.ws, "cfg", ".env"), "API_KEY=CANARY-ENV-"+e.token)
				e.mkdir(filepath.Join(e.ws, "node_modules"))
				e.chownAll()
				return nil
			},
			argv:    sh(`$PROBE rename $WS/cfg $WS/node_modules/cfg`),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.ws, "node_modules", "cfg")) },
		},
		{
			name: "write through /proc/self/root", degraded: true,
			argv:    sh(`$PROBE write /proc/self/root$OUT/pwned x`),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.outside, "pwned")) },
		},
		{
			name: "write .git/config and .git/hooks", degraded: true,
			setup: func(e *env) []string {
				e.writeFile(filepath.Join(e.ws, ".git", "config"), "[core]\n")
				e.mkdir(filepath.Join(e.ws, ".git", "hooks"))
				e.chownAll()
				return nil
			},
			argv: sh(`$PROBE append $WS/.git/config '[core] fsmonitor = evil'; $PROBE write $WS/.git/hooks/pre-commit evil`),
			escaped: func(e *env, _ result) bool {
				s, _ := e.read(filepath.Join(e.ws, ".git", "config"))
				return s != "[core]\n" || exists(filepath.Join(e.ws, ".git", "hooks", "pre-commit"))
			},
		},
		{
			name: "rename a parent of a protected path", degraded: true,
			setup: func(e *env) []string {
				e.writeFile(filepath.Join(e.ws, ".git", "config"), "[core]\n")
				e.mkdir(filepath.Join(e.ws, ".git", "hooks"))
				e.chownAll()
				return nil
			},
			argv: sh(`$PROBE rename $WS/.git $WS/.git-moved; $PROBE mkdirp $WS/.git/hooks && $PROBE write $WS/.git/hooks/pre-commit evil`),
			escaped: func(e *env, _ result) bool {
				return exists(filepath.Join(e.ws, ".git-moved")) || exists(filepath.Join(e.ws, ".git", "hooks", "pre-commit"))
			},
		},
		{
			name: "create protected paths that do not exist yet", degraded: true,
			// (A .git the command makes is a repository of its own: see
			// "plant a hook ... in a repository made in the run".)
			argv: sh(`$PROBE mkdirp $WS/.vscode; $PROBE write $WS/.vscode/tasks.json evil; $PROBE write $WS/.mcp.json evil`),
			escaped: func(e *env, _ result) bool {
				return exists(filepath.Join(e.ws, ".vscode")) || exists(filepath.Join(e.ws, ".mcp.json"))
			},
		},
		{
			// A repository below the workspace (a vendored dependency): its
			// hooks and config would run outside the next time the user
			// runs git there.
			name: "write the hooks and config of a nested repository", degraded: true,
			setup: func(e *env) []string {
				gitInit(e, filepath.Join(e.ws, "vendor", "dep"))
				return nil
			},
			argv: sh(`cd $WS/vendor/dep; $PROBE append .git/config '[core] fsmonitor = evil'; $PROBE write .git/hooks/pre-commit evil; $PROBE rename .git .git-old; $PROBE write .git/commondir ..`),
			escaped: func(e *env, _ result) bool {
				d := filepath.Join(e.ws, "vendor", "dep", ".git")
				if !exists(filepath.Join(e.ws, "vendor", "dep", ".git-old")) && !exists(d) {
					e.t.Fatal("the nested repository was never made, so the probe proves nothing")
				}
				s, _ := e.read(filepath.Join(d, "config"))
				return strings.Contains(s, "evil") || exists(filepath.Join(d, "hooks", "pre-commit")) || !exists(d) || exists(filepath.Join(d, "commondir"))
			},
		},
		{
			// core.hooksPath (husky, lefthook, a project's .githooks): the
			// directory it names holds the hooks git runs.
			name: "plant a hook in the directory core.hooksPath names", degraded: true,
			setup: func(e *env) []string {
				gitInit(e, e.ws)
				git(e, e.ws, "config", "core.hooksPath", ".githooks")
				e.mkdir(filepath.Join(e.ws, ".githooks"))
				e.chownAll()
				return nil
			},
			argv: sh(`$PROBE write $WS/.githooks/pre-commit '#!/bin/sh
touch "$0.ran"'`),
			escaped: func(e *env, _ result) bool {
				hook := filepath.Join(e.ws, ".githooks", "pre-commit")
				os.Chmod(hook, 0o755)
				git(e, e.ws, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "next")
				return exists(hook + ".ran")
			},
		},
		{
			// A linked worktree's own git directory: config.worktree and
			// commondir decide which config and hooks git uses there.
			name: "write a worktree's config.worktree and commondir", degraded: true,
			setup: func(e *env) []string {
				gitInit(e, e.ws)
				git(e, e.ws, "worktree", "add", "-q", filepath.Join(e.ws, "wt"))
				e.chownAll()
				return nil
			},
			argv: sh(`cd $WS/.git/worktrees/wt; $PROBE write config.worktree '[core] fsmonitor = evil'; $PROBE write commondir ../../../evil`),
			escaped: func(e *env, _ result) bool {
				d := filepath.Join(e.ws, ".git", "worktrees", "wt")
				s, _ := e.read(filepath.Join(d, "commondir"))
				return exists(filepath.Join(d, "config.worktree")) || strings.Contains(s, "evil")
			},
		},
		{
			// A repository the command makes (git init sub) is its own, but
			// what it plants there must not run when the user runs git in it
			// afterwards: cordon disarms it when the run ends.
			name: "plant a hook and core.fsmonitor in a repository made in the run", degraded: true,
			argv: sh(`cd $WS && git init -q sub && printf '#!/bin/sh\ntouch "$0.ran"\n' > sub/.git/hooks/pre-commit && chmod +x sub/.git/hooks/pre-commit && git -C sub config core.fsmonitor 'touch fsmonitor.ran; false #' && $PROBE env >/dev/null`),
			escaped: func(e *env, _ result) bool {
				sub := filepath.Join(e.ws, "sub")
				if !exists(filepath.Join(sub, ".git")) {
					return false
				}
				// What the user does next, outside the sandbox.
				git(e, sub, "-c", "user.name=u", "-c", "user.email=u@x", "commit", "-q", "--allow-empty", "-m", "next")
				git(e, sub, "status")
				return exists(filepath.Join(sub, ".git", "hooks", "pre-commit.ran")) || exists(filepath.Join(sub, "fsmonitor.ran"))
			},
		},
		{
			// A path that another thread flips between an ordinary name and
			// a protected one while open(O_CREAT) runs: a supervisor that
			// checked the path and let the kernel read it again would lose.
			name: "create a protected name by racing the check", degraded: true, spins: true,
			argv:    sh(`$PROBE race-create $WS ordinary.txt .mcp.json 20000`),
			escaped: func(e *env, _ result) bool { return exists(filepath.Join(e.ws, ".mcp.json")) },
		},
		{
			name: "read a denied secret", degraded: true,
			argv: sh(`$PROBE read $HOMEDIR/.ssh/id_canary`),
			escaped: func(e *env, r result) bool {
				return strings.Contains(r.stdout+r.stderr, "CANARY-SSH-"+e.token)
			},
		},
		{
			name: "read a .env file in the workspace",
			setup: func(e *env) []string {
				e.writeFile(filepath.Join(e.ws, ".env"), "API_KEY=CANARY-ENV-"+e.token)
				e.chownAll()
				return nil
			},
			argv: sh(`$PROBE read $WS/.env`),
			escaped: func(e *env, r result) bool {
				return strings.Contains(r.stdout+r.stderr, "CANARY-ENV-"+e.token)
			},
		},
		{
			name: "read a .env file in the workspace in read-only mode",
			setup: func(e *env) []string {
				e.writeFile(filepath.Join(e.ws, "app", ".env"), "API_KEY=CANARY-ENV-"+e.token)
				e.chownAll()
				return nil
			},
			argv: func(e *env) []string {
				if len(e.extra) == 0 {
					e.extra = []string{"--mode=read-only"}
				}
				return sh(`$PROBE read $WS/app/.env`)(e)
			},
			escaped: func(e *env, r result) bool {
				return strings.Contains(r.stdout+r.stderr, "CANARY-ENV-"+e.token)
			},
		},
		{
			name: "credential in the caller's environment", degraded: true,
			setup: func(e *env) []string {
				return []string{"GITHUB_TOKEN=CANARY-ENV-" + e.token, "AWS_SECRET_ACCESS_KEY=CANARY-AWS-" + e.token}
			},
			argv: sh(`$PROBE env`),
			escaped: func(e *env, r result) bool {
				return strings.Contains(r.stdout, "CANARY-ENV-"+e.token) || strings.Contains(r.stdout, "CANARY-AWS-"+e.token)
			},
		},
		{
			name: "tamper with cordon's state (audit trail, grants)", degraded: true,
			setup: func(e *env) []string {
				e.mkdir(filepath.Join(e.home, ".local", "state", "cordon"))
				e.chownAll()
				return nil
			},
			argv: sh(`$PROBE write $HOMEDIR/.local/state/cordon/audit.jsonl TAMPER-$TOKEN`),
			escaped: func(e *env, _ result) bool {
				// cordon's own events quote the command line; only a line
				// the probe wrote starts with the marker.
				s, _ := e.read(filepath.Join(e.home, ".local", "state", "cordon", "audit.jsonl"))
				for _, line := range strings.Split(s, "\n") {
					if strings.HasPrefix(line, "TAMPER-") {
						return true
					}
				}
				return false
			},
		},
		{
			name:     "create a user namespace",
			argv:     sh(`$PROBE userns $WS/userns-created`),
			escaped:  func(e *env, _ result) bool { return exists(filepath.Join(e.ws, "userns-created")) },
			degraded: true,
		},
	}...)
}

// hardLinkProbe writes, in the way how, through a name in the workspace (in
// subdirectory dir) of a file that also has a name outside it.
func hardLinkProbe(how, script, dir string) probe {
	name := "write through a pre-existing hard link: " + how
	if dir != "" {
		name += " (in " + dir + ")"
	}
	return probe{
		name: name, degraded: true,
		setup: func(e *env) []string {
			target := filepath.Join(e.outside, "target")
			e.writeFile(target, "original")
			e.mkdir(filepath.Join(e.ws, dir))
			if err := os.Link(target, filepath.Join(e.ws, dir, "hardlink")); err != nil {
				e.t.Fatal(err)
			}
			e.chownAll()
			return nil
		},
		argv: sh(script),
		escaped: func(e *env, _ result) bool {
			s, _ := e.read(filepath.Join(e.outside, "target"))
			return s != "original"
		},
	}
}

// runProbe runs p without the sandbox (it must escape) and with it (it must
// not).
func runProbe(t *testing.T, uid int, p probe, extra []string) {
	holdSpinning(t, p)
	for _, sandboxed := range []bool{false, true} {
		e := newEnv(t, uid)
		e.extra = extra
		var extraEnv []string
		if p.setup != nil {
			extraEnv = p.setup(e)
		}
		r := e.run(sandboxed, extraEnv, p.argv(e)...)
		escaped := p.escaped(e, r)
		if !sandboxed && !escaped {
			t.Fatalf("baseline without cordon did not escape, so the probe proves nothing (exit %d, stderr %q)", r.code, r.stderr)
		}
		if sandboxed && escaped {
			t.Errorf("ESCAPED under cordon (exit %d)\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	}
}

func users() []struct {
	name string
	uid  int
} {
	return []struct {
		name string
		uid  int
	}{{"root", 0}, {"user", ownUser}}
}

func TestEscapes(t *testing.T) {
	for _, p := range spinFirst(probes()) {
		for _, u := range users() {
			t.Run(u.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				runProbe(t, u.uid, p, nil)
			})
		}
	}
}

func TestEscapesLandlockMode(t *testing.T) {
	for _, p := range spinFirst(probes()) {
		for _, u := range users() {
			if !p.degraded {
				continue
			}
			t.Run(u.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				runProbe(t, u.uid, p, []string{"--allow-degraded=landlock", "--force-degraded"})
			})
		}
	}
}

// pinger is a process outside the sandbox, owned by uid, that echoes what
// the test writes to it: an answer shows that it still runs user code,
// which a process with a SIGKILL or a stop pending cannot do.
type pinger struct {
	cmd     *exec.Cmd
	in, out *os.File
}

func startPinger(t *testing.T, uid int) *pinger {
	t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(probeBin, "pinger")
	cmd.Stdin, cmd.Stdout = inR, outW
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	p := &pinger{cmd: cmd, in: inW, out: outR}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); inW.Close(); outR.Close() })
	return p
}

// ping outcomes.
const (
	answered = "answered"
	ended    = "ended"
	silent   = "silent for 30 s"
)

// ping writes a byte and says what came back.
func (p *pinger) ping() string {
	if _, err := p.in.Write([]byte("?")); err != nil {
		return ended
	}
	p.out.SetReadDeadline(time.Now().Add(30 * time.Second))
	b := make([]byte, 1)
	_, err := p.out.Read(b)
	switch {
	case err == nil:
		return answered
	case errors.Is(err, os.ErrDeadlineExceeded):
		return silent
	default:
		return ended
	}
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return "?"
	}
	return s[i+2 : i+3]
}

func TestSignalsAndPtraceOutside(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			// The probe has returned, so whatever it sent was generated:
			// the pinger answers only if it neither died nor stopped.
			t.Run(mode.name+"/"+u.name+"/kill", func(t *testing.T) {
				t.Parallel()
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					p := startPinger(t, e.uid)
					e.run(sandboxed, nil, probeBin, "kill", strconv.Itoa(p.cmd.Process.Pid))
					got := p.ping()
					if !sandboxed && got != ended {
						t.Fatalf("baseline could not kill the process outside (ping: %s)", got)
					}
					if sandboxed && got != answered {
						t.Errorf("ESCAPED: the sandbox killed a process outside (ping: %s)", got)
					}
				}
			})
			t.Run(mode.name+"/"+u.name+"/ptrace", func(t *testing.T) {
				t.Parallel()
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					p := startPinger(t, e.uid)
					pid := p.cmd.Process.Pid
					e.run(sandboxed, nil, probeBin, "stop-by-ptrace", strconv.Itoa(pid))
					if !sandboxed {
						// The stop comes when the tracee runs after the
						// detach: wait for it.
						if !waitFor(func() bool { return procState(pid) == "T" }, 30*time.Second) {
							t.Fatalf("baseline could not ptrace the process outside (state %s)", procState(pid))
						}
						continue
					}
					if got := p.ping(); got != answered {
						t.Errorf("ESCAPED: the sandbox stopped a process outside with ptrace (ping: %s, state %s)", got, procState(pid))
					}
				}
			})
		}
	}
}

func TestTIOCSTI(t *testing.T) {
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			t.Parallel()
			for _, sandboxed := range []bool{false, true} {
				e := newEnv(t, u.uid)
				master, slave, err := openPTY()
				if err != nil {
					t.Fatal(err)
				}
				defer master.Close()
				defer slave.Close()
				os.Chown(slave.Name(), e.uid, e.uid)
				cmd := e.command(sandboxed, nil, probeBin, "tiocsti", "INJECTED")
				cmd.Stdin = slave
				if !sandboxed {
					// Give the baseline what a terminal user has: the pty as
					// its controlling terminal.
					cmd.SysProcAttr.Setsid = true
					cmd.SysProcAttr.Setctty = true
					cmd.SysProcAttr.Ctty = 0
				}
				var errb bytes.Buffer
				cmd.Stderr = &errb
				cmd.Run()
				if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() == 125 {
					t.Fatalf("cordon setup failed: %s", errb.String())
				}
				if !strings.Contains(errb.String(), "probe: started") {
					t.Fatalf("the probe never ran: %s", errb.String())
				}
				n, _ := unix.IoctlGetInt(int(slave.Fd()), unix.TIOCINQ)
				if !sandboxed && n == 0 {
					t.Fatalf("baseline could not inject into the terminal: %s", errb.String())
				}
				if sandboxed && n != 0 {
					t.Errorf("ESCAPED: %d bytes injected into the terminal's input", n)
				}
			}
		})
	}
}

func openPTY() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	return m, s, nil
}

// listener counts the bytes that reach it. It answers each datagram and
// closes each connection once it has counted what it read first: the
// probes wait for that before they exit, so when a run has ended,
// everything it got out has been counted.
type listener struct {
	l   net.Listener
	pc  net.PacketConn
	got atomic.Int64
	// open counts the connections accepted and not yet counted; sync
	// waits for it.
	open   atomic.Int64
	marker string
}

func listen(t *testing.T, network, addr string) *listener {
	t.Helper()
	ln := &listener{marker: "SYNC-" + randomToken()}
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			testbin.RequireOrSkip(t, fmt.Sprintf("cannot listen on %s %s here: %v", network, addr, err))
		}
		ln.pc = pc
		go func() {
			buf := make([]byte, 64)
			for {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				ln.got.Add(int64(n))
				pc.WriteTo([]byte("counted"), from)
			}
		}()
	default:
		l, err := net.Listen(network, addr)
		if err != nil {
			testbin.RequireOrSkip(t, fmt.Sprintf("cannot listen on %s %s here: %v", network, addr, err))
		}
		if network == "unix" {
			os.Chmod(addr, 0o777)
		}
		ln.l = l
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				ln.open.Add(1)
				go ln.serve(c)
			}
		}()
	}
	t.Cleanup(func() {
		if ln.l != nil {
			ln.l.Close()
		}
		if ln.pc != nil {
			ln.pc.Close()
		}
	})
	return ln
}

// serve counts what c sends first, or answers sync's marker once every
// connection accepted before it has been counted.
func (ln *listener) serve(c net.Conn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	if string(buf[:n]) == ln.marker {
		waitFor(func() bool { return ln.open.Load() == 1 }, 30*time.Second)
		ln.open.Add(-1)
		c.Write([]byte("synced"))
		return
	}
	ln.got.Add(int64(n))
	ln.open.Add(-1)
}

// sync returns once the unix stream listener has counted every connection
// made before the call: it connects and waits for the answer, and a unix
// listener accepts in the order the connections were made (connect(2) on
// a unix socket queues the connection before it returns).
func (ln *listener) sync(t *testing.T) {
	t.Helper()
	if ln.l == nil || ln.l.Addr().Network() != "unix" {
		t.Fatal("sync: only a unix stream listener keeps the order of its connections")
	}
	c, err := net.DialTimeout("unix", ln.l.Addr().String(), 30*time.Second)
	if err != nil {
		t.Fatalf("sync with the listener: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.Write([]byte(ln.marker)); err != nil {
		t.Fatalf("sync with the listener: %v", err)
	}
	if b, _ := io.ReadAll(c); string(b) != "synced" {
		t.Fatalf("the listener did not count the earlier connections within 60 s (%d still open)", ln.open.Load()-1)
	}
}

func (ln *listener) addr() string {
	if ln.pc != nil {
		return ln.pc.LocalAddr().String()
	}
	return ln.l.Addr().String()
}

// A unix socket address that another thread flips between a socket in the
// workspace and a host service's while connect runs: a supervisor that
// checked the address and let the kernel read it again would lose.
func TestUnixSocketRace(t *testing.T) {
	hostDir, err := os.MkdirTemp(testBase, "cordon-escape-race-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(hostDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(hostDir) })
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			t.Run(mode.name+"/"+u.name, func(t *testing.T) {
				t.Parallel()
				holdSpinning(t, probe{spins: true})
				for _, sandboxed := range []bool{false, true} {
					// A listener of its own for each run: the baseline's
					// many connections may still be read when the
					// sandboxed run starts.
					sock := filepath.Join(hostDir, fmt.Sprintf("%s-%s-%v.sock", mode.name, u.name, sandboxed))
					ln := listen(t, "unix", sock)
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					e.run(sandboxed, nil, probeBin, "race-connect", filepath.Join(e.ws, "ok.sock"), sock, "5000")
					ln.sync(t)
					got := ln.got.Load()
					if !sandboxed && got == 0 {
						t.Fatalf("baseline never reached the listener outside")
					}
					if sandboxed && got != 0 {
						t.Errorf("ESCAPED: the listener outside received %d bytes", got)
					}
				}
			})
		}
	}
}

// The process limit: a bounded loop that starts 300 sleepers reaches 300
// without cordon and stays at the limit inside; a real fork bomb (in the
// test's own bounds, see forkBomb) passes the limit without cordon and is
// stopped inside, the run ends (by its timeout), the host can still start
// processes meanwhile, and nothing of the bomb is left afterwards.
func TestProcessLimit(t *testing.T) {
	const limit = 64
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			t.Run(mode.name+"/"+u.name, func(t *testing.T) {
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					pol := filepath.Join(e.root, "limits.toml")
					e.writeFile(pol, fmt.Sprintf("version = 1\n[limits]\nmax_processes = %d\n", limit))
					e.extra = append(append([]string{}, mode.extra...), "--policy", pol)
					// Each sleeper is one task whose command line holds the
					// token (sleep run through a link named after it); the
					// probe goes on when a start fails, says "spawned N"
					// when it has tried them all, and then stays (so the
					// run, and the sleepers in it, stay) until its stdin
					// closes.
					token := "cordon-sleeper-" + e.token
					os.Symlink("/bin/sleep", filepath.Join(e.ws, token))
					e.chownAll()
					cmd := e.command(sandboxed, nil, probeBin, "spawn", "300", filepath.Join(e.ws, token), "30")
					var errb bytes.Buffer
					cmd.Stderr = &errb
					stdin, err := cmd.StdinPipe()
					if err != nil {
						t.Fatal(err)
					}
					stdout, err := cmd.StdoutPipe()
					if err != nil {
						t.Fatal(err)
					}
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					spawned := make(chan string, 1)
					drained := make(chan struct{})
					go func() {
						defer close(drained)
						line, _ := bufio.NewReader(stdout).ReadString('\n')
						spawned <- line
						io.Copy(io.Discard, stdout)
					}()
					// Sampled while the probe starts them, and once more
					// after it has tried all: the sleepers live 30 s, so
					// the last sample holds every one that started and
					// was not stopped.
					peak := 0
					var line string
				sample:
					for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
						select {
						case line = <-spawned:
							break sample
						case <-time.After(20 * time.Millisecond):
							peak = max(peak, len(alive(token)))
						}
					}
					peak = max(peak, len(alive(token)))
					stdin.Close()
					select {
					case <-drained:
					case <-time.After(60 * time.Second):
						cmd.Process.Kill()
					}
					cmd.Wait()
					killAll(alive(token))
					if !strings.HasPrefix(line, "spawned ") {
						t.Fatalf("the probe did not finish starting its sleepers (said %q), so the count proves nothing: %s", line, errb.String())
					}
					waitFor(func() bool { return len(alive(token)) == 0 }, 5*time.Second)
					if !sandboxed && peak < 250 {
						t.Fatalf("baseline reached only %d processes, so the probe cannot show a missing limit (stderr %s)", peak, errb.String())
					}
					if sandboxed && peak > limit {
						t.Errorf("ESCAPED the limit: %d processes alive at once, limit %d\n%s", peak, limit, errb.String())
					}
					// Without a cgroup and a user namespace (the landlock
					// mode, unprivileged, here) RLIMIT_NPROC counts every
					// task of the uid, cordon's own threads included, so
					// the run gets fewer than the limit; it must never get
					// more.
					perUser := mode.name == "landlock" && u.uid != 0
					if sandboxed && peak < limit/2 && !perUser {
						t.Errorf("only %d processes started under a limit of %d: the probe did not reach the limit\n%s", peak, limit, errb.String())
					}
				}
			})
			t.Run(mode.name+"/"+u.name+"/fork bomb", func(t *testing.T) {
				for _, sandboxed := range []bool{false, true} {
					forkBomb(t, u.uid, mode.extra, limit, sandboxed)
				}
			})
		}
	}
}

// forkBomb runs a real fork bomb (every copy starts two more and ends),
// always inside the test's own bounds (pidsBound, bombCap). Without cordon
// it passes limit, and the test ends it as soon as it has; inside, under
// max_processes = limit and a 2 s timeout, its copies never pass the
// limit while the run lasts, the host starts a process while the bomb
// presses on the limit, the run ends by its timeout, and no copy is left.
func forkBomb(t *testing.T, uid int, modeExtra []string, limit int, sandboxed bool) {
	e := newEnv(t, uid)
	bound, err := newPidsBound(t)
	if err != nil {
		testbin.RequireOrSkip(t, "the test cannot bound a fork bomb here, so it does not start one: "+err.Error())
	}
	pol := filepath.Join(e.root, "limits.toml")
	e.writeFile(pol, fmt.Sprintf("version = 1\n[limits]\nmax_processes = %d\ntimeout = \"2s\"\n", limit))
	e.extra = append(append([]string{}, modeExtra...), "--policy", pol)
	// The bomb is a script whose name holds the token: every copy of it
	// shows the token in its command line. Each copy starts two more,
	// waits for them and starts two again, for ever: the copies fill
	// whatever limit there is and keep pressing on it (a copy whose fork
	// fails ends, and its parent starts another), until the run's timeout
	// or the test ends them. The script itself starts the bomb with its
	// first fork and then execs sleep, which needs no fork: the run lasts
	// until its timeout.
	token := "cordon-bomb-" + e.token
	e.writeFile(filepath.Join(e.ws, token), "bomb() { while :; do bomb & bomb & wait; done; }\nbomb &\nexec sleep 30\n")
	e.chownAll()
	argv := sh(`$PROBE env >/dev/null; exec sh ./` + token)(e)
	if !sandboxed {
		// Under a reaper, as inside: the copies' zombies, reaped by no
		// one, would fill the bound and end the bomb at once.
		argv = append([]string{probeBin, "reap"}, argv...)
	}
	cmd := e.command(sandboxed, nil, argv...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	err = startBounded(cmd, bound, e.uid)
	w.Close()
	if err != nil {
		r.Close()
		t.Fatal(err)
	}
	var errb bytes.Buffer
	limited, stderrDone := make(chan struct{}), make(chan struct{})
	go func() { watchStderr(r, &errb, limited); close(stderrDone) }()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	group := cmd.Process.Pid // startBounded gave it a process group of its own
	began := time.Now()

	// Sampled until the run ends (or, without cordon, passes the limit);
	// every sample also checks that the bomb is still inside the test's
	// bound.
	peak := 0
	var host chan error
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
sample:
	for {
		select {
		case <-done:
			break sample
		case <-limited:
			// The bomb presses on a limit: the host must still start
			// processes.
			limited, host = nil, make(chan error, 1)
			go func() { host <- exec.Command("/bin/true").Run() }()
		case <-deadline:
			break sample
		case <-tick.C:
		}
		pids := copies(token)
		peak = max(peak, len(pids))
		if len(pids) > 0 && !bound.contains(pids[0], token) {
			endBomb(group, token)
			<-done
			t.Fatalf("a copy of the bomb (pid %d) left the test's pids group %s: the test cannot bound it", pids[0], bound.dir)
		}
		if !sandboxed && peak > limit {
			break sample
		}
	}
	t.Logf("sandboxed=%v: peak %d copies after %v", sandboxed, peak, time.Since(began).Round(time.Millisecond))
	if !sandboxed {
		endBomb(group, token)
		<-done
		<-stderrDone
		if peak <= limit {
			t.Fatalf("baseline: the bomb without cordon never passed %d copies (peak %d), so the count cannot show an escape: %s", limit, peak, quiet(errb.Bytes()))
		}
		return
	}
	select {
	case <-done:
	default:
		endBomb(group, token)
		<-done
		t.Fatalf("the run did not end within 60 s of its 2 s timeout (peak %d copies)", peak)
	}
	<-stderrDone
	if peak > limit {
		t.Errorf("ESCAPED the limit: %d copies of the bomb alive at once, limit %d", peak, limit)
	}
	if host == nil {
		t.Errorf("the bomb never met a limit (no fork failed) within the run, so the run proves nothing (peak %d): %s", peak, quiet(errb.Bytes()))
	} else {
		select {
		case err := <-host:
			if err != nil {
				t.Errorf("the host could not start a process during the bomb: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("the host could not start a process within 30 s during the bomb")
		}
	}
	if code := cmd.ProcessState.ExitCode(); code != 124 {
		t.Errorf("exit %d, want 124 (the timeout): %s", code, quiet(errb.Bytes()))
	}
	if !waitFor(func() bool { return len(copies(token)) == 0 }, 10*time.Second) {
		n := len(copies(token))
		endBomb(group, token)
		t.Errorf("ESCAPED: %d processes of the bomb outlived the run", n)
	}
}

// endBomb kills the bomb's process group (the kernel lets no fork slip
// past a signal to the group) and every copy of the bomb, until none is
// left, and then reaps the copies that came back to this
// process. The group's leader is left to its exec.Cmd.
func endBomb(group int, token string) {
	waitFor(func() bool {
		syscall.Kill(-group, syscall.SIGKILL)
		for _, pid := range copies(token) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		return len(copies(token)) == 0 && len(groupMembers(group, false)) == 0
	}, 30*time.Second)
	for _, pid := range groupMembers(group, true) {
		if pid != group && procState(pid) == "Z" && parentOf(pid) == os.Getpid() {
			unix.Wait4(pid, nil, unix.WNOHANG, nil)
		}
	}
}

// copies lists the live copies of the bomb named token: the processes
// whose command line is "sh ./TOKEN" (not cordon's or the reaper's, which
// name the script in theirs).
func copies(token string) []int {
	want := []byte("sh\x00./" + token + "\x00")
	var pids []int
	for _, pid := range alive(token) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); bytes.Equal(b, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// groupMembers lists the processes in process group pgid, the zombies
// among them only if zombies is set.
func groupMembers(pgid int, zombies bool) []int {
	var out []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 3 && f[2] == strconv.Itoa(pgid) && (zombies || f[0] != "Z") {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(st)))
			out = append(out, pid)
		}
	}
	return out
}

// The memory limit: 256 MiB of touched memory fits without cordon and not
// under memory = 64MiB, where a cgroup can hold the limit (root here). An
// unprivileged run with no cgroup to hold it is refused, since the policy
// asked for it: it never runs with the limit silently missing.
func TestMemoryLimit(t *testing.T) {
	const alloc = `python3 -c "b = bytearray(256 << 20); print('allocated', len(b))"`
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			for _, sandboxed := range []bool{false, true} {
				e := newEnv(t, u.uid)
				pol := filepath.Join(e.root, "limits.toml")
				e.writeFile(pol, "version = 1\n[limits]\nmemory = \"64MiB\"\n")
				e.extra = []string{"--policy", pol}
				r := e.runLax(sandboxed, `$PROBE env >/dev/null; `+alloc)
				allocated := strings.Contains(r.stdout, "allocated 268435456")
				switch {
				case !sandboxed && !allocated:
					t.Fatalf("baseline could not allocate 256 MiB, so the probe proves nothing: %s", r.stderr)
				case sandboxed && allocated:
					t.Errorf("ESCAPED the memory limit: 256 MiB allocated under memory = 64MiB\n%s", r.stderr)
				case sandboxed && u.uid != 0 && r.code != 125:
					// No cgroup for an unprivileged uid on this machine: the run
					// must have been refused, not run unlimited.
					t.Errorf("unprivileged run without a memory cgroup: exit %d, want 125 (refused)\n%s", r.code, r.stderr)
				}
			}
		})
	}
}

// The private /tmp and /dev/shm are in memory: limits.tmp_size caps each
// (32 MiB fit without cordon, not under tmp_size = 16MiB).
func TestTmpSize(t *testing.T) {
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			for _, sandboxed := range []bool{false, true} {
				e := newEnv(t, u.uid)
				pol := filepath.Join(e.root, "limits.toml")
				e.writeFile(pol, "version = 1\n[limits]\ntmp_size = \"16MiB\"\n")
				e.extra = []string{"--policy", pol}
				var script strings.Builder
				script.WriteString(`$PROBE env >/dev/null`)
				for _, d := range []string{"/tmp", "/dev/shm"} {
					f := d + "/cordon-tmpsize-$TOKEN"
					fmt.Fprintf(&script, "; dd if=/dev/zero of=%s bs=1M count=32 2>/dev/null; echo %s $(stat -c %%s %s); rm -f %s", f, d, f, f)
				}
				r := e.runLax(sandboxed, script.String())
				if sandboxed && (r.code == 125 || !strings.Contains(r.stdout, "/dev/shm ")) {
					t.Fatalf("the sandboxed script did not run to its end (exit %d), so it proves nothing: %s%s", r.code, r.stdout, r.stderr)
				}
				for _, d := range []string{"/tmp", "/dev/shm"} {
					full := strings.Contains(r.stdout, d+" 33554432")
					if !sandboxed && !full {
						t.Fatalf("baseline could not write 32 MiB to %s, so the probe proves nothing: %s%s", d, r.stdout, r.stderr)
					}
					if sandboxed && full {
						t.Errorf("ESCAPED tmp_size: 32 MiB written to %s under tmp_size = 16MiB", d)
					}
				}
			}
		})
	}
}

// runLax runs a shell script like run, but accepts cordon's own refusal
// (exit 125) as an outcome.
func (e *env) runLax(sandboxed bool, script string) result {
	e.t.Helper()
	cmd := e.command(sandboxed, nil, sh(script)(e)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run: %v", err)
	}
	return result{out.String(), errb.String(), code}
}

// cordon does no file operation on the host for a run: absent protected
// paths are refused by name, not stood in for by placeholders that a
// concurrent run, a crash or another sandbox could turn against the host
// (issue 17). Many runs at once in one workspace, some killed with SIGKILL,
// each racing to swap parents of protected paths for links to the outside:
// afterwards the workspace holds only what the commands made, and the
// directory outside is unchanged.
func TestNoHostSideFileOperations(t *testing.T) {
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, u.uid)
			e.writeFile(filepath.Join(e.outside, "keep"), "original")
			e.chownAll()
			before := listTree(t, e.outside)
			// While a run waits, the host sees the workspace as the run
			// leaves it: the probe's own file, nothing of cordon's.
			// (It stays until the test closes its input.)
			cmd := e.command(true, nil, "/bin/sh", "-c", `echo made > made-inside; read _`)
			stay, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stay.Close()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !waitFor(func() bool { return exists(filepath.Join(e.ws, "made-inside")) }, 10*time.Second) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("the sandboxed command never wrote its file, so the host-side listing proves nothing")
			}
			if got := listTree(t, e.ws); !slices.Equal(got, []string{"made-inside"}) {
				t.Errorf("while a run waits, the workspace holds %v; want only the command's own file", got)
			}
			cmd.Process.Kill()
			cmd.Wait()

			// Rounds of concurrent runs: swappers rename .git-like parents
			// and replace them by links to outside; one run per round is
			// killed.
			script := fmt.Sprintf(`for i in 1 2 3 4 5 6 7 8 9 10; do mkdir -p d$i; mv d$i .git 2>/dev/null; rm -rf .git 2>/dev/null; ln -sfn %q .git 2>/dev/null; rm -f .git; done; true`, e.outside)
			for round := 0; round < 5; round++ {
				var cmds []*exec.Cmd
				for i := 0; i < 4; i++ {
					c := e.command(true, nil, "/bin/sh", "-c", script)
					if err := c.Start(); err != nil {
						t.Fatal(err)
					}
					cmds = append(cmds, c)
				}
				time.Sleep(time.Duration(20*round) * time.Millisecond)
				cmds[0].Process.Signal(syscall.SIGKILL)
				for _, c := range cmds {
					c.Wait()
				}
			}
			if got := listTree(t, e.outside); !slices.Equal(got, before) {
				t.Errorf("the directory outside changed: %v, was %v", got, before)
			}
			if s, _ := e.read(filepath.Join(e.outside, "keep")); s != "original" {
				t.Errorf("a file outside changed: %q", s)
			}
			for _, name := range listTree(t, e.ws) {
				if name != "made-inside" && !strings.HasPrefix(name, "d") {
					t.Errorf("the workspace holds %s, which no command made", name)
				}
			}
		})
	}
}

// listTree lists the names below dir, relative and sorted.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// A server and a client on a unix socket, both inside the sandbox, in the
// workspace and in the private /tmp: the use the unix socket guard must keep
// working.
func TestUnixSocketsInside(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			for _, where := range []string{"workspace", "tmp"} {
				t.Run(mode.name+"/"+u.name+"/"+where, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					// The private temp dir is /tmp with namespaces and a
					// directory on the host without; TMPDIR names it.
					script := `$PROBE unix-pair "$TMPDIR/app.sock"`
					if where == "workspace" {
						script = `$PROBE unix-pair $WS/app.sock`
					}
					r := e.run(true, nil, sh(script)(e)...)
					if r.code != 0 || !strings.Contains(r.stdout, "unix pair: PONG") {
						t.Errorf("a unix socket server and client inside the sandbox failed (exit %d)\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
					}
				})
			}
		}
	}
}

func TestNetwork(t *testing.T) {
	// A host service's socket where the read-only view shows it (Docker
	// Desktop's ~/.docker/desktop/docker.sock, colima's, 1Password's): a
	// read-only mount does not stop connect(2), only the guard does.
	hostDir, err := os.MkdirTemp(testBase, "cordon-escape-sock-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(hostDir, 0o755)
	t.Cleanup(func() { os.RemoveAll(hostDir) })
	// Each subtest listens on an address of its own (addr is called once
	// per subtest), since they run in parallel.
	cases := []struct {
		name, network string
		addr          func() string
		action        string
		// viaLink: the probe dials a symbolic link in the workspace that
		// points at the socket.
		viaLink bool
	}{
		{"tcp4", "tcp", func() string { return "127.0.0.1:0" }, "tcp", false},
		{"tcp6", "tcp", func() string { return "[::1]:0" }, "tcp", false},
		{"udp4", "udp", func() string { return "127.0.0.1:0" }, "udp", false},
		{"unix socket in /run", "unix", func() string { return filepath.Join("/run", "cordon-escape-"+randomToken()+".sock") }, "unix", false},
		{"unix socket of a host service in the read-only view", "unix", func() string { return filepath.Join(hostDir, randomToken(), "docker.sock") }, "unix", false},
		{"unix socket of a host service through a link in the workspace", "unix", func() string { return filepath.Join(hostDir, randomToken(), "docker.sock") }, "unix", true},
		{"abstract unix socket", "unix", func() string { return "@cordon-escape-" + randomToken() }, "unix", false},
	}
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			for _, c := range cases {
				t.Run(mode.name+"/"+u.name+"/"+c.name, func(t *testing.T) {
					t.Parallel()
					where := c.addr()
					if strings.HasPrefix(where, hostDir) {
						os.Mkdir(filepath.Dir(where), 0o755)
					}
					ln := listen(t, c.network, where)
					defer os.Remove(where)
					for _, sandboxed := range []bool{false, true} {
						e := newEnv(t, u.uid)
						e.extra = mode.extra
						before := ln.got.Load()
						addr := ln.addr()
						if c.viaLink {
							addr = filepath.Join(e.ws, "service.sock")
							os.Symlink(where, addr)
						}
						// The probe waits for the listener to count what
						// it sent: when the run ends, got is final.
						e.run(sandboxed, nil, probeBin, c.action, addr)
						got := ln.got.Load() - before
						if !sandboxed && got == 0 {
							t.Fatalf("baseline did not reach the listener")
						}
						if sandboxed && got != 0 {
							t.Errorf("ESCAPED: the listener outside received %d bytes", got)
						}
					}
				})
			}
		}
	}
}

// daemonToken writes the marker a daemon probe puts in its command line; it
// is in a file so that no other command line holds it.
func (e *env) daemonToken() string {
	token := "cordon-daemon-" + e.token
	e.writeFile(filepath.Join(e.ws, "marker"), token)
	e.chownAll()
	return token
}

// alive lists the processes whose command line holds token.
func alive(token string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil || !bytes.Contains(b, []byte(token)) {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(d, "/")[2])
		if procState(pid) != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitFor waits until cond holds, or d has passed: d is the deadline for an
// event that should come, never the time an effect is given to show.
func waitFor(cond func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// killAll kills pids and reaps those that came back to this process (an
// orphan does: see TestMain). Never a process an exec.Cmd waits for.
func killAll(pids []int) {
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
	for _, p := range pids {
		if parentOf(p) == os.Getpid() {
			unix.Wait4(p, nil, 0, nil)
		}
	}
}

// askDaemon asks the daemon listening at sock whether it runs.
func askDaemon(sock string) bool {
	c, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b) == "alive\n"
}

// The daemon probe returns once its daemon is ready, with the marker in its
// command line: what is alive when the run has ended is what outlived it.
// A daemon killed with the run may still be on its way out, so the
// sandboxed runs wait (with a deadline) for it to go.
func TestNothingLeftRunning(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			t.Run(mode.name+"/"+u.name+"/after exit", func(t *testing.T) {
				t.Parallel()
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					token := e.daemonToken()
					e.run(sandboxed, nil, probeBin, "daemon", filepath.Join(e.ws, "marker"))
					if !sandboxed {
						pids := alive(token)
						killAll(pids)
						if len(pids) == 0 {
							t.Fatal("baseline daemon did not survive its parent, so the probe proves nothing")
						}
						continue
					}
					if !waitFor(func() bool { return len(alive(token)) == 0 }, 10*time.Second) {
						pids := alive(token)
						killAll(pids)
						t.Errorf("ESCAPED: %d daemonised processes outlived cordon", len(pids))
					}
				}
			})
			t.Run(mode.name+"/"+u.name+"/after SIGKILL of cordon", func(t *testing.T) {
				t.Parallel()
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					token := e.daemonToken()
					sock := filepath.Join(e.ws, "daemon.sock")
					script := fmt.Sprintf("%s daemon %s %s; exec sleep 1000", probeBin, filepath.Join(e.ws, "marker"), sock)
					cmd := e.command(sandboxed, nil, "/bin/sh", "-c", script)
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					if !waitFor(func() bool { return askDaemon(sock) }, 30*time.Second) {
						cmd.Process.Kill()
						cmd.Wait()
						killAll(alive(token))
						t.Fatal("the daemon never answered")
					}
					cmd.Process.Kill()
					cmd.Wait()
					if !sandboxed {
						// Whatever the parent's death sends its
						// descendants is sent by now: an answer means the
						// daemon survived it.
						ok := askDaemon(sock)
						killAll(alive(token))
						if !ok {
							t.Fatal("baseline daemon died with its parent, so the probe proves nothing")
						}
						continue
					}
					if !waitFor(func() bool { return len(alive(token)) == 0 }, 10*time.Second) {
						killAll(alive(token))
						t.Errorf("ESCAPED: processes outlived a SIGKILLed cordon")
					}
				}
			})
		}
	}
}

// TestKillTheInit: the command kills the process that supervises it (its
// parent, cordon's init, in the mode without a PID namespace) and leaves a
// daemon behind; when cordon returns, nothing of the run may be left.
func TestKillTheInit(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"full", nil}, {"landlock", []string{"--allow-degraded=landlock", "--force-degraded"}}} {
		for _, u := range users() {
			t.Run(mode.name+"/"+u.name, func(t *testing.T) {
				t.Parallel()
				for _, sandboxed := range []bool{false, true} {
					e := newEnv(t, u.uid)
					e.extra = mode.extra
					token := e.daemonToken()
					// Unsandboxed, the parent killed is a shell of the
					// script's own, not the test.
					script := fmt.Sprintf("%s daemon %s; kill -KILL $PPID; sleep 0.2", probeBin, filepath.Join(e.ws, "marker"))
					if !sandboxed {
						script = "/bin/sh -c " + shellQuote(script)
					}
					e.run(sandboxed, nil, "/bin/sh", "-c", script)
					if !sandboxed {
						pids := alive(token)
						killAll(pids)
						if len(pids) == 0 {
							t.Fatal("baseline daemon did not survive, so the probe proves nothing")
						}
						continue
					}
					if !waitFor(func() bool { return len(alive(token)) == 0 }, 10*time.Second) {
						pids := alive(token)
						killAll(pids)
						t.Errorf("ESCAPED: %d processes outlived cordon after the command killed its supervisor", len(pids))
					}
				}
			})
		}
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestSecretNamedLink: a link the command names like a secret (.env) must
// not stop later runs (no mask can go on a link), and what it leads to is
// hidden from them.
func TestSecretNamedLink(t *testing.T) {
	for _, u := range users() {
		t.Run(u.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, u.uid)
			e.writeFile(filepath.Join(e.ws, "settings.txt"), "API_KEY=CANARY-ENV-"+e.token)
			e.chownAll()
			if r := e.run(false, nil, sh(`$PROBE read $WS/settings.txt`)(e)...); !strings.Contains(r.stdout, "CANARY-ENV-") {
				t.Fatalf("baseline: the file is not readable, so the check proves nothing: %s", r.stderr)
			}
			if r := e.run(true, nil, sh(`$PROBE symlink settings.txt $WS/.env`)(e)...); r.code != 0 {
				t.Fatalf("making the link: exit %d: %s", r.code, r.stderr)
			}
			// The next run starts (e.run fails the test on exit 125) and
			// cannot read the file through either name.
			r := e.run(true, nil, sh(`$PROBE read $WS/.env; $PROBE read $WS/settings.txt`)(e)...)
			if strings.Contains(r.stdout+r.stderr, "CANARY-ENV-"+e.token) {
				t.Errorf("the target of a link named .env was readable:\n%s%s", r.stdout, r.stderr)
			}
		})
	}
}
