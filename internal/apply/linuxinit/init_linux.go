package linuxinit

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
	"github.com/cordon-sandbox/cordon/internal/seccomp"
	"github.com/cordon-sandbox/cordon/internal/unotify"
)

// StopSignal tells an init without a PID namespace to kill every process of
// the sandbox and exit; it is also its parent-death signal. (With a PID
// namespace the init simply gets SIGKILL, and the kernel kills the rest.)
const StopSignal = unix.SIGPWR

// The init starts the command from its main thread, the one the process id
// names: the supervisor moves that thread alone into the run's cgroup v1
// groups (cgroup v1 membership is per thread). Locking it here, in a
// package initialiser, is what keeps the main goroutine on the main thread.
func init() {
	if len(os.Args) > 1 && os.Args[1] == InitArg {
		runtime.LockOSThread()
	}
}

// Main runs the init and exits; it never returns.
func Main() {
	// Capabilities, no_new_privs, Landlock and the parent-death signal are
	// properties of this thread; the command is forked from it.
	runtime.LockOSThread()
	ctl := os.NewFile(ControlFD, "control")
	in := &initProc{ctl: ctl, enc: json.NewEncoder(ctl), begin: time.Now()}
	os.Exit(in.run())
}

type initProc struct {
	ctl    *os.File
	encMu  sync.Mutex // the guard's threads report too
	enc    *json.Encoder
	plan   linuxplan.Plan
	begin  time.Time
	phases []Phase
	guard  *guard
}

func (in *initProc) phase(name string) {
	in.phases = append(in.phases, Phase{Name: name, Micros: time.Since(in.begin).Microseconds()})
}

func (in *initProc) send(m Message) {
	in.encMu.Lock()
	defer in.encMu.Unlock()
	in.enc.Encode(m) //nolint:errcheck // the supervisor may be gone; nothing else to tell
}

// fail reports a layer that could not be applied; nothing runs after it.
func (in *initProc) fail(layer string, err error, hint string) int {
	in.send(Message{Type: MsgError, Layer: layer, Error: err.Error(), Hint: hint})
	return 125
}

func (in *initProc) run() int {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return in.fail("lifetime", fmt.Errorf("set the parent-death signal: %w", err), "")
	}
	// The command runs as the same user as this init; not being dumpable
	// keeps it out of the init's memory and /proc entries (its other
	// threads keep privileges the command must not borrow). The command's
	// own execve makes it dumpable again.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return in.fail("privileges", fmt.Errorf("make the init non-dumpable: %w", err), "")
	}
	// A descriptor leaked into cordon by its caller must never reach the
	// command: it could name a directory outside the sandbox. (Ours, the
	// control and bridge sockets, are close-on-exec too.)
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return in.fail("descriptors", fmt.Errorf("close_range: %w", err), "cordon needs Linux 5.11 or newer")
	}
	r := bufio.NewReader(in.ctl)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return 125 // the supervisor is gone
	}
	if err := json.Unmarshal(line, &in.plan); err != nil {
		return in.fail("plan", fmt.Errorf("decode the plan: %w", err), "")
	}
	p := &in.plan
	in.phase("plan")
	if !p.Namespaces {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(StopSignal), 0, 0, 0); err != nil {
			return in.fail("lifetime", fmt.Errorf("set the parent-death signal: %w", err), "")
		}
		if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
			return in.fail("lifetime", fmt.Errorf("become a subreaper: %w", err), "")
		}
	}
	// The supervisor keeps its end open for as long as it lives; if it
	// already died before the parent-death signal was set, stop here.
	if supervisorGone(int(in.ctl.Fd())) {
		return 125
	}

	if p.Namespaces {
		if os.Getpid() != 1 {
			return in.fail("namespaces", fmt.Errorf("the init is pid %d, not 1: no PID namespace", os.Getpid()), "")
		}
		if err := setupFilesystem(p); err != nil {
			return in.fail("filesystem", err, mountHint(err))
		}
		if err := verifyFilesystem(p); err != nil {
			return in.fail("filesystem", err, "")
		}
		in.phase("filesystem")
		if err := unix.Sethostname([]byte(p.Hostname)); err != nil {
			return in.fail("namespaces", fmt.Errorf("sethostname: %w", err), "")
		}
		if err := loopbackUp(); err != nil {
			return in.fail("network", err, "")
		}
	}
	if err := unix.Chdir(p.Dir); err != nil {
		return in.fail("workdir", fmt.Errorf("working directory %s: %w", p.Dir, err), "run cordon from a directory inside the workspace")
	}
	if !p.FullAccess {
		if err := dropPrivileges(); err != nil {
			return in.fail("privileges", err, "")
		}
	}
	in.phase("privileges")
	if p.Landlock.Enabled {
		if err := applyLandlock(p.Landlock, p.Namespaces); err != nil {
			return in.fail("landlock", err, "see `cordon doctor`; Landlock needs Linux 5.13+ with landlock in the lsm= list")
		}
		if p.Landlock.ProbeDir != "" {
			if err := verifyLandlock(p.Landlock); err != nil {
				return in.fail("landlock", err, "")
			}
		}
	}
	in.phase("landlock")
	// The rlimits are the command's, set on it once it is started
	// (setLimits): set on the init they would also bind the init's own
	// threads and descriptors, which the guard needs. Here only what can
	// be checked before: no limit above the current hard limit.
	for _, rl := range p.Rlimits {
		var cur unix.Rlimit
		if err := unix.Getrlimit(rl.Resource, &cur); err == nil && rl.Value > cur.Max {
			return in.fail("rlimits", fmt.Errorf("%s = %d is above the current hard limit %d", rl.Name, rl.Value, cur.Max),
				"a limit above the current hard limit cannot be raised by an unprivileged user; lower it in the policy")
		}
	}
	// The bridge listens before the guard is in place: from then on a bind
	// on this thread waits for the guard's threads.
	if p.Network.BridgePort > 0 {
		if err := startBridge(p.Network.BridgePort); err != nil {
			return in.fail("network", err, "")
		}
	}
	if p.Seccomp.Enabled {
		opts := seccomp.Options{
			Arch:                 runtime.GOARCH,
			DenyNetworkExceptTCP: p.Seccomp.DenyNetworkExceptTCP,
			Supervise:            p.Seccomp.Supervise,
			SuperviseFiles:       p.Seccomp.SuperviseFiles,
		}
		if !p.Namespaces {
			// Without a PID namespace the command shares this thread's
			// Landlock domain, and Landlock lets it signal us: killed, the
			// init would leave the command's daemons running where no
			// cgroup holds them.
			opts.ProtectPID, opts.ProtectPGID = os.Getpid(), unix.Getpgrp()
		}
		filter, err := seccomp.Compile(opts)
		if err == nil {
			err = filter.Install()
		}
		if err == nil && p.Seccomp.Supervise {
			// The guard is prepared first: from its installation on,
			// this thread's path lookups wait for the guard's threads.
			in.guard = newGuard(p, in.send)
			var listener *os.File
			if listener, err = filter.InstallGuard(); err == nil {
				in.guard.start(unotify.New(listener))
			}
		}
		if err == nil {
			err = filter.Verify()
		}
		if err != nil {
			return in.fail("seccomp", err, "see `cordon doctor`")
		}
	}
	in.phase("seccomp")
	// The supervisor puts this thread into the run's cgroup meanwhile;
	// the command, which inherits it, starts only after that.
	goLine, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(goLine) != Start {
		return 125 // the supervisor is gone, or refused to go on
	}
	in.phase("cgroup")
	if p.Session {
		return in.serveSession()
	}
	return in.start()
}

// command is what to start: a cold run's command from its plan, or one
// of a warm sandbox's from its packet.
type command struct {
	argv, env []string
	dir       string // "" for the init's own working directory
	rlimits   []linuxplan.Rlimit
	files     []uintptr // its standard input, output and error
}

// start runs a cold run's command, forwards signals to it and waits; it
// returns the init's exit status.
func (in *initProc) start() int {
	p := &in.plan
	var pid atomic.Int64
	sigs := make(chan os.Signal, 16)
	forwarded := []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH, unix.SIGCONT}
	signal.Notify(sigs, forwarded...)
	if !p.Namespaces {
		signal.Notify(sigs, StopSignal)
	}
	go func() {
		for s := range sigs {
			if s == StopSignal {
				stopping.Store(true)
				killDescendants()
				os.Exit(125)
			}
			// The command leads its own session and process group.
			if n := pid.Load(); n > 0 {
				unix.Kill(-int(n), s.(unix.Signal))
			}
		}
	}()
	if !p.Namespaces {
		go func() {
			// Also notice the supervisor's death on the control socket, in
			// case the parent-death signal went to an exited thread.
			buf := make([]byte, 1)
			for {
				if _, err := in.ctl.Read(buf); err != nil {
					stopping.Store(true)
					killDescendants()
					os.Exit(125)
				}
			}
		}()
	}
	exit, ok := in.runCommand(command{argv: p.Argv, env: p.Env, rlimits: p.Rlimits, files: []uintptr{0, 1, 2}},
		func(n int) { pid.Store(int64(n)) })
	if !ok {
		return exit.Code
	}
	if !p.Namespaces {
		killDescendants()
	}
	in.send(exit)
	if exit.Signal != 0 {
		return 128 + exit.Signal
	}
	return exit.Code
}

// runCommand forks c from this thread, which carries the Landlock rules,
// the seccomp filter and the guard, and waits for it, reaping the orphans
// reparented meanwhile. It reports the start (or why nothing started: ok
// is false, and exit.Code is the status) and returns the exit message,
// which the caller sends once the sandbox is in the state it promises.
func (in *initProc) runCommand(c command, started func(pid int)) (exit Message, ok bool) {
	if c.dir != "" {
		if err := unix.Chdir(c.dir); err != nil {
			in.send(Message{Type: MsgExecError, Code: 126, Error: fmt.Sprintf("working directory %s: %v", c.dir, err)})
			return Message{Code: 126}, false
		}
	}
	path, code, err := lookPath(c.argv[0], envValue(c.env, "PATH"))
	if err != nil {
		in.send(Message{Type: MsgExecError, Code: code, Error: err.Error()})
		return Message{Code: code}, false
	}
	var before unix.Rusage
	unix.Getrusage(unix.RUSAGE_CHILDREN, &before)
	// The command is born with the soft limits (the init lowers its own
	// soft limits for the fork, which the child inherits, and raises them
	// again): a fork bomb must not get a head start before setLimits. The
	// hard limits follow with setLimits; lowering the init's own hard
	// limits could not be undone.
	restore := lowerSoftLimits(c.rlimits)
	pid, err := syscall.ForkExec(path, c.argv, &syscall.ProcAttr{
		Env:   c.env,
		Files: c.files,
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	restore()
	if err != nil {
		code := 126
		if errors.Is(err, unix.ENOENT) {
			code = 127
		}
		in.send(Message{Type: MsgExecError, Code: code, Error: fmt.Sprintf("%s: %v", c.argv[0], err)})
		return Message{Code: code}, false
	}
	started(pid)
	if err := setLimits(pid, c.rlimits); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, 0, nil)
		in.send(Message{Type: MsgError, Layer: "rlimits", Error: err.Error()})
		return Message{Code: 125}, false
	}
	in.phase("exec")
	in.send(Message{Type: MsgStarted, PID: pid, Path: path, Phases: in.phases})

	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		got, err := unix.Wait4(-1, &ws, 0, &ru)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil && stopping.Load() {
			// The stop reaps everything itself, the command included,
			// and then exits the init.
			select {}
		}
		if err != nil {
			in.send(Message{Type: MsgError, Layer: "lifetime", Error: fmt.Sprintf("wait: %v", err)})
			return Message{Code: 125}, false
		}
		if got != pid {
			continue // an orphan reparented to us
		}
		if ws.Stopped() || ws.Continued() {
			continue
		}
		var children unix.Rusage
		unix.Getrusage(unix.RUSAGE_CHILDREN, &children)
		usage := &Usage{
			UserMicros:   micros(children.Utime) - micros(before.Utime),
			SystemMicros: micros(children.Stime) - micros(before.Stime),
			// A cold run's orphans count too; a warm sandbox's children
			// include the earlier commands, so there only the command's
			// own tree (what it waited for) does.
			MaxRSSKiB: max(children.Maxrss, ru.Maxrss),
		}
		if in.plan.Session {
			usage.MaxRSSKiB = ru.Maxrss
		}
		m := Message{Type: MsgExit, Usage: usage}
		if ws.Signaled() {
			m.Signal = int(ws.Signal())
		} else {
			m.Code = ws.ExitStatus()
		}
		return m, true
	}
}

func micros(t unix.Timeval) int64 { return t.Sec*1e6 + t.Usec }

// lowerSoftLimits sets the init's soft limits to the plan's (never above
// its hard limits) and returns what puts them back.
func lowerSoftLimits(rls []linuxplan.Rlimit) func() {
	var saved []func()
	for _, rl := range rls {
		var old unix.Rlimit
		if unix.Getrlimit(rl.Resource, &old) != nil || rl.Value >= old.Cur {
			continue
		}
		if unix.Setrlimit(rl.Resource, &unix.Rlimit{Cur: rl.Value, Max: old.Max}) == nil {
			res, prev := rl.Resource, old
			saved = append(saved, func() { unix.Setrlimit(res, &prev) })
		}
	}
	return func() {
		for _, f := range saved {
			f()
		}
	}
}

// setLimits sets the plan's rlimits on the command, right after it started.
// Set this way they bind the command and what it starts, not the init. The
// command has just been executed and is still loading when this runs; the
// process limit is held by the run's cgroup as well where there is one.
func setLimits(pid int, rls []linuxplan.Rlimit) error {
	for _, rl := range rls {
		lim := unix.Rlimit{Cur: rl.Value, Max: rl.Value}
		if err := unix.Prlimit(pid, rl.Resource, &lim, nil); err != nil {
			return fmt.Errorf("set %s to %d on the command: %w", rl.Name, rl.Value, err)
		}
	}
	return nil
}

// stopping is set once the init is stopping the sandbox (the supervisor
// asked, or died): its reaping then races the main wait loop's.
var stopping atomic.Bool

// killDescendants kills every process below the init (which is a
// subreaper, so orphans come back to it) until none is left.
func killDescendants() {
	for range 1000 {
		kids := children(os.Getpid())
		if len(kids) == 0 {
			break
		}
		for _, k := range kids {
			unix.Kill(k, unix.SIGKILL)
		}
		for {
			if pid, _ := unix.Wait4(-1, nil, unix.WNOHANG, nil); pid <= 0 {
				break
			}
		}
	}
}

// children lists the children of pid from /proc.
func children(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// supervisorGone reports whether the other end of the control socket is
// closed.
func supervisorGone(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP) != 0
}

// lookPath finds the command like the shell does, with the sandbox's PATH,
// and returns the exit status to use when it cannot be run.
func lookPath(name, pathEnv string) (string, int, error) {
	if strings.Contains(name, "/") {
		err := checkExec(name)
		switch {
		case err == nil:
			return name, 0, nil
		case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
			return "", 127, fmt.Errorf("%s: no such file", name)
		}
		return "", 126, err
	}
	var denied error
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		err := checkExec(p)
		if err == nil {
			return p, 0, nil
		}
		if denied == nil && !errors.Is(err, unix.ENOENT) && !errors.Is(err, unix.ENOTDIR) {
			denied = err
		}
	}
	if denied != nil {
		return "", 126, denied
	}
	return "", 127, fmt.Errorf("%s: command not found in the sandbox's PATH", name)
}

func checkExec(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return fmt.Errorf("%s: is a directory", p)
	}
	if err := unix.Access(p, unix.X_OK); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

func envValue(env []string, key string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func mountHint(err error) string {
	if errors.Is(err, unix.EPERM) {
		return "the kernel refused a mount inside the user namespace; run `cordon doctor` (containers often need --security-opt seccomp=unconfined and an unmasked /proc)"
	}
	return "run `cordon doctor` to see what this machine can enforce"
}

// loopbackUp brings up lo in the new network namespace: it starts down, and
// test suites routinely serve and connect on 127.0.0.1. Nothing else exists
// in the namespace, so this opens no way out.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up loopback: read flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up loopback: %w", err)
	}
	return nil
}
