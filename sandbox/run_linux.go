package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/apply/linuxinit"
	"github.com/cordon-sandbox/cordon/internal/cgroup"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
)

// selfExe is the binary re-executed as the sandbox's init; tests may point
// it at a test binary that calls Init.
var selfExe = "/proc/self/exe"

var markInheritedOnce sync.Once

// markInherited makes every descriptor this process inherited close on exec,
// so that nothing the caller leaked into cordon reaches the sandbox.
func markInherited() {
	markInheritedOnce.Do(func() {
		unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) //nolint:errcheck // the init does it again and fails closed
	})
}

// prepared is a plan with what it needs on the host.
type prepared struct {
	plan    *linuxplan.Plan
	report  *report.Report
	timeout time.Duration
	begin   time.Time
	phases  []Phase
	// proxy is the run's filtering proxy, when the network goes through it.
	proxy *netproxy.Server
	// cgroup holds the run's process and memory limits, when a cgroup can
	// be had (internal/cgroup).
	cgroup  *cgroup.Group
	cleanup []func()
	// current is the request of the command the sandbox runs now (a warm
	// sandbox runs many): the proxy's events and questions are its.
	current atomic.Pointer[Request]
}

// Ask forwards the proxy's question to the current command's asker.
func (p *prepared) Ask(ctx context.Context, q netproxy.Question) (bool, error) {
	req := p.current.Load()
	if req == nil || req.NetworkAsker == nil {
		return false, errors.New("no approval channel is configured for this command")
	}
	return req.NetworkAsker.Ask(ctx, q)
}

func (p *prepared) phase(name string) {
	p.phases = append(p.phases, Phase{name, time.Since(p.begin)})
}

func (p *prepared) release() {
	for i := len(p.cleanup) - 1; i >= 0; i-- {
		p.cleanup[i]()
	}
	p.cleanup = nil
}

func explain(req Request) (*Plan, error) {
	return explainOn(req, probeHost())
}

// explainOn is what a run would do on a host with facts h, up to the
// launch: the same mode decision, the same host checks and the same plan,
// with placeholders where a run makes something (the weaker mode's temp
// dir, the proxy's port and secret, the run's cgroup). What a run would
// refuse, it refuses with the same error.
func explainOn(req Request, h hostFacts) (*Plan, error) {
	degraded, err := chooseMode(req, req.ForceDegraded, h)
	if err != nil {
		return nil, err
	}
	prep, err := prepare(req, degraded, h, forExplain)
	if err != nil {
		return nil, err
	}
	prep.release()
	return &Plan{Report: prep.report, Details: prep.plan}, nil
}

func run(ctx context.Context, req Request) (*Result, error) {
	return runWith(ctx, req, req.ForceDegraded)
}

// runWith runs the request; force chooses a weaker mode outright (for
// `cordon doctor`), otherwise it is used only when needed and accepted.
func runWith(ctx context.Context, req Request, force policy.Degraded) (*Result, error) {
	return runOn(ctx, req, force, probeHost())
}

// runOn runs the request on a host with facts h.
func runOn(ctx context.Context, req Request, force policy.Degraded, h hostFacts) (*Result, error) {
	markInherited()
	degraded, err := chooseMode(req, force, h)
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	// The init boots (a fork, namespaces, a Go runtime) while the plan is
	// made: it waits for the plan before it does anything.
	l := launch(req, degraded)
	prep, err := prepare(req, degraded, h, forRun)
	startErr := l.wait()
	var cerr *cloneError
	if errors.As(startErr, &cerr) && degraded == "" {
		// The probe saw nothing in the way, but the kernel refused the
		// namespaces: that is a fact about this host too, and the same
		// decision is taken again with it (the weaker mode only if the
		// policy accepts it by name, and the report says so).
		if prep != nil {
			prep.release()
		}
		h.userNS = cerr.Error()
		if degraded, err = chooseMode(req, force, h); err != nil {
			return nil, err
		}
		l = launch(req, degraded)
		prep, err = prepare(req, degraded, h, forRun)
		startErr = l.wait()
	}
	if startErr != nil {
		if prep != nil {
			prep.release()
		}
		if errors.As(startErr, &cerr) {
			return nil, &LayerError{Layer: "namespaces", Err: cerr.err, Fix: userNSFix}
		}
		return nil, startErr
	}
	if err != nil {
		l.abort()
		return nil, err
	}
	defer prep.release()
	prep.begin = begin
	prep.phases = append(l.phases(begin), prep.phases...)
	prep.phase("planned")
	return l.run(ctx, &req, prep)
}

// cloneError is a failure to create the sandbox's namespaces.
type cloneError struct{ err error }

func (e *cloneError) Error() string { return e.err.Error() }

// prepPurpose says what a plan is prepared for.
type prepPurpose int

const (
	// forRun makes everything the plan needs on the host.
	forRun prepPurpose = iota
	// forExplain makes nothing that outlives the call: placeholders stand
	// for the weaker mode's temp dir, the proxy's port and secret, and the
	// run's cgroup, whose place and limits are probed only.
	forExplain
)

// prepare makes the plan and what it needs on the host: the private cache,
// the private temp dir of the weaker mode, the proxy, the cgroup. Every
// check that can refuse a run is here, so that Explain refuses it too.
func prepare(req Request, degraded policy.Degraded, h hostFacts, purpose prepPurpose) (*prepared, error) {
	prep := &prepared{}
	prep.current.Store(&req)
	ok := false
	defer func() {
		if !ok {
			prep.release()
		}
	}()
	tmp := ""
	switch {
	case degraded != policy.DegradedLandlock:
	case purpose == forExplain:
		tmp = filepath.Join(os.TempDir(), "cordon-run-XXXXXX", "tmp") // made at run time
	default:
		dir, err := os.MkdirTemp("", "cordon-run-")
		if err != nil {
			return nil, fmt.Errorf("create the private temp dir: %w", err)
		}
		prep.cleanup = append(prep.cleanup, func() { os.RemoveAll(dir) })
		for _, sub := range []string{"tmp", "probe"} {
			if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
				return nil, err
			}
		}
		tmp = filepath.Join(dir, "tmp")
	}
	in, err := planInput(req, degraded, tmp)
	if err != nil {
		return nil, err
	}
	if len(req.Inject) > 0 && req.Policy.Network.Value.Mode == netproxy.ModeFull {
		return nil, &LayerError{Layer: "network", Err: fmt.Errorf("credential %q is injected by cordon's proxy, but network.mode = \"full\" does not go through it", req.Inject[0].Name),
			Fix: "use network.mode = \"proxy\" and allow the credential's hosts"}
	}
	if req.Policy.Network.Value.Mode == netproxy.ModeProxy {
		opts := netproxy.Options{OnEvent: func(ev netproxy.ConnEvent) {
			if r := prep.current.Load(); r != nil {
				r.emit(connectionEvent(ev))
			}
		}}
		if req.NetworkAsker != nil {
			opts.Asker = prep
		}
		if len(req.Inject) > 0 && purpose == forRun {
			// The CA key stays in the state directory (masked inside);
			// the sandbox gets its certificate, in a bundle with the
			// system's roots, at the same path outside and inside.
			ca, err := netproxy.LoadOrCreateCA(CADir(req.Home))
			if err == nil {
				var trust map[string]string
				if trust, _, err = netproxy.SandboxTrust(ca, req.Policy.Network.Value, TrustDir(req.Home)); err == nil {
					for k, v := range trust {
						in.Env = append(in.Env, k+"="+v)
					}
				}
			}
			if err != nil {
				fix := "check cordon's CA with `cordon ca show`, or replace it with `cordon ca rotate`"
				if ke := (*netproxy.KeyError)(nil); errors.As(err, &ke) {
					fix = "fix " + ke.Key + " in the policy (docs/network.md)"
				}
				return nil, &LayerError{Layer: "network", Err: err, Fix: fix}
			}
			opts.CA, opts.Inject = ca, req.Inject
		}
		srv, err := netproxy.New(req.Policy.Network.Value, opts)
		if err != nil {
			return nil, &LayerError{Layer: "network", Err: err, Fix: "fix the [network] section of the policy (docs/network.md)"}
		}
		prep.proxy = srv
		prep.cleanup = append(prep.cleanup, func() { srv.Close() })
		switch {
		case degraded != policy.DegradedLandlock:
		case purpose == forExplain:
			in.ProxyURL = "http://cordon:SECRET@127.0.0.1:0" // the port and secret are chosen at run time
		default:
			// No network namespace: the proxy listens on the host's
			// loopback and asks for a per-run secret.
			l, err := netproxy.ListenLoopback("127.0.0.1:0")
			if err != nil {
				return nil, &LayerError{Layer: "network", Err: err}
			}
			go srv.Serve(l)
			in.ProxyURL = l.URL()
		}
	}
	plan, rep, err := linuxplan.Make(in)
	if err != nil {
		return nil, err
	}
	if degraded == policy.DegradedLandlock && purpose == forRun {
		plan.Landlock.ProbeDir = filepath.Join(filepath.Dir(tmp), "probe")
	}
	addLandlockGaps(rep, plan, h)
	cg, err := runCgroup(req.Policy, plan.Namespaces, rep, purpose)
	if err != nil {
		return nil, err
	}
	if cg != nil {
		prep.cgroup = cg
		prep.cleanup = append(prep.cleanup, func() { cg.Close() })
	}
	prep.plan, prep.report = plan, rep
	prep.timeout = req.Policy.Limits.Timeout.Value
	ok = true
	return prep, nil
}

// runCgroup makes the run's cgroup with the policy's process and memory
// limits and adds what holds each to the report (for Explain it only
// probes, and returns no group). A limit that nothing can hold is
// reported; when the user asked for it (a policy file, not the built-in
// default) the run is refused.
func runCgroup(p *policy.Policy, namespaced bool, rep *report.Report, purpose prepPurpose) (*cgroup.Group, error) {
	if purpose == forRun {
		cgroup.RemoveStale() //nolint:errcheck // best effort: groups of runs whose supervisor died
	}
	lim := cgroup.Limits{MaxProcesses: p.Limits.MaxProcesses.Value, MemoryBytes: p.Limits.Memory.Value}
	cp, err := cgroup.Probe(lim, cgroup.Options{UserNamespace: namespaced})
	if err != nil {
		return nil, &LayerError{Layer: "limits", Err: err, Fix: hintOf(err)}
	}
	if cp.Processes.Kind == cgroup.CgroupV2 && lim.MaxProcesses > 0 {
		// The whole init is in a cgroup v2 group: room for its threads.
		cp.Limits.MaxProcesses += initTasks
	}
	if purpose == forExplain {
		cp.AddTo(rep)
		return nil, limitsRefused(p, cp.Processes, cp.Memory)
	}
	cg, err := cp.Create("")
	if err != nil {
		return nil, &LayerError{Layer: "limits", Err: err, Fix: hintOf(err)}
	}
	cg.AddTo(rep)
	if err := limitsRefused(p, cg.Processes(), cg.Memory()); err != nil {
		cg.Close()
		return nil, err
	}
	return cg, nil
}

// limitsRefused refuses a limit the user asked for that nothing holds.
func limitsRefused(p *policy.Policy, processes, memory cgroup.Outcome) error {
	for _, c := range []struct {
		o    cgroup.Outcome
		from policy.Source
	}{{processes, p.Limits.MaxProcesses.From}, {memory, p.Limits.Memory.From}} {
		if c.o.Value == 0 || c.o.Applied() || c.from.Layer == policy.LayerBuiltin {
			continue
		}
		return &LayerError{Layer: "limits",
			Err: fmt.Errorf("%s = %d (from %s) cannot be applied: %s", c.o.Limit, c.o.Value, c.from, c.o.Reason),
			Fix: c.o.Fix}
	}
	return nil
}

// initTasks is the room a cgroup v2 process limit leaves for the sandbox's
// init (a Go program with GOMAXPROCS=1 and the guard's threads: about 10,
// at most about 30), which counts there as a whole process.
const initTasks = 64

// hintOf returns the hint an error carries, if any.
func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

func planInput(req Request, degraded policy.Degraded, tmp string) (linuxplan.Input, error) {
	env, _ := req.Policy.FilterEnv(req.Environ)
	env = append(env, req.Secrets...)
	in := linuxplan.Input{
		Policy:      req.Policy,
		Workspace:   req.Workspace,
		Dir:         req.Dir,
		Home:        req.Home,
		UID:         os.Getuid(),
		GID:         os.Getgid(),
		PolicyFiles: req.PolicyFiles,
		Degraded:    degraded,
		TmpDir:      tmp,
		Argv:        req.Argv,
		Env:         env,
	}
	if exe, err := os.Executable(); err == nil {
		in.Cordon = exe
	}
	in.Private = []string{StateDir(req.Home)}
	// Files that hold credentials are cordon's to hand over, never the
	// sandbox's to read.
	in.Private = append(in.Private, req.Policy.Credentials.SecretFiles(req.Home)...)
	if p := req.Policy.Audit.Value.File.Path; p != "" {
		in.Private = append(in.Private, filepath.Dir(p))
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); filepath.IsAbs(sock) {
		in.HostServices = append(in.HostServices, sock)
	}
	if req.Policy.Mode.Value == policy.ModeWorkspaceWrite {
		dir, err := cacheDir(req.Home, req.Workspace)
		if err != nil {
			return in, err
		}
		in.CacheDir = dir
	}
	return in, nil
}

func addLandlockGaps(rep *report.Report, plan *linuxplan.Plan, h hostFacts) {
	if !plan.Landlock.Enabled {
		return
	}
	abi := h.landlockABI
	if h.landlockErr != nil {
		return // the init fails closed and says why
	}
	for i, l := range rep.Layers {
		if l.Name != "landlock" {
			continue
		}
		if gaps := linuxinit.LandlockGaps(abi, plan.Landlock); len(gaps) > 0 {
			rep.Layers[i].Status = report.Downgraded
			rep.Layers[i].Detail += fmt.Sprintf(" (ABI %d: %v)", abi, gaps)
		} else {
			rep.Layers[i].Detail += fmt.Sprintf(" (ABI %d)", abi)
		}
	}
}

// launched is a sandbox init that has started and waits for its plan. Its
// goroutine holds the thread that created it (the init's parent-death
// signal follows that thread) until the init is gone.
type launched struct {
	shape  linuxplan.Shape
	cmd    *exec.Cmd
	ctl    *os.File
	bridge *os.File
	// session is the supervisor's end of a warm sandbox's command socket.
	session  *os.File
	started  time.Time
	cloned   time.Duration
	work     chan func() // runs on the locked thread
	startErr chan error
}

// launch starts the init with the namespaces the plan will need; wait
// returns how that went.
func launch(req Request, degraded policy.Degraded) *launched {
	return launchInit(req, degraded, false)
}

// launchInit starts the init; warm gives it a command socket.
func launchInit(req Request, degraded policy.Degraded, warm bool) *launched {
	l := &launched{shape: linuxplan.ShapeOf(req.Policy, degraded), work: make(chan func()), startErr: make(chan error, 1)}
	if err := l.start(req, warm); err != nil {
		l.startErr <- err
	}
	return l
}

// wait returns the outcome of starting the init.
func (l *launched) wait() error {
	err := <-l.startErr
	if err == nil {
		return nil
	}
	if l.ctl != nil {
		l.ctl.Close()
	}
	if l.bridge != nil {
		l.bridge.Close()
	}
	if l.session != nil {
		l.session.Close()
	}
	var cerr *cloneError
	if errors.As(err, &cerr) {
		return err
	}
	if l.shape.Namespaces {
		return &cloneError{fmt.Errorf("create the sandbox's namespaces: %w", err)}
	}
	return fmt.Errorf("start the sandbox's init: %w", err)
}

func (l *launched) start(req Request, warm bool) error {
	parentEnd, childEnd, err := socketPair(unix.SOCK_STREAM)
	if err != nil {
		return err
	}
	extra := []*os.File{childEnd}
	var bridgeChild *os.File
	if l.shape.Bridge {
		l.bridge, bridgeChild, err = socketPair(unix.SOCK_SEQPACKET)
		if err != nil {
			parentEnd.Close()
			childEnd.Close()
			return err
		}
		extra = append(extra, bridgeChild) // linuxinit.BridgeFD
	}
	var sessionChild *os.File
	if warm {
		l.session, sessionChild, err = socketPair(unix.SOCK_SEQPACKET)
		if err != nil {
			parentEnd.Close()
			childEnd.Close()
			if bridgeChild != nil {
				l.bridge.Close()
				bridgeChild.Close()
			}
			return err
		}
		if bridgeChild == nil {
			extra = append(extra, nil) // no bridge: fd 4 stays closed
		}
		extra = append(extra, sessionChild) // linuxinit.SessionFD
	}
	l.ctl = parentEnd
	l.cmd = &exec.Cmd{
		Path: selfExe,
		Args: []string{"cordon", linuxinit.InitArg},
		// The init waits and forwards; one P starts faster than one per
		// core. The command's environment travels in the plan.
		Env:        []string{"GOMAXPROCS=1"},
		Stdin:      req.Stdin,
		Stdout:     req.Stdout,
		Stderr:     req.Stderr,
		ExtraFiles: extra,
	}
	if warm {
		// A warm init outlives this request: its commands get their own
		// standard files with each packet, and it holds none of this
		// request's (a pipe held open would never reach end of file).
		l.cmd.Stdin, l.cmd.Stdout, l.cmd.Stderr = nil, nil, nil
	}
	if l.shape.Namespaces {
		uid, gid := os.Getuid(), os.Getgid()
		flags := syscall.CLONE_NEWUSER | syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS
		if l.shape.NewNetwork {
			flags |= syscall.CLONE_NEWNET
		}
		attr := &syscall.SysProcAttr{
			Cloneflags:                 uintptr(flags),
			UidMappings:                []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}},
			GidMappings:                []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}},
			GidMappingsEnableSetgroups: false,
		}
		if uid != 0 {
			// The init runs as the user inside its namespace and needs these
			// to build the view, bring up loopback and then drop everything.
			attr.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_SETPCAP, unix.CAP_NET_ADMIN}
		}
		l.cmd.SysProcAttr = attr
	}
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		l.started = time.Now()
		err := l.cmd.Start()
		l.cloned = time.Since(l.started)
		childEnd.Close()
		if bridgeChild != nil {
			bridgeChild.Close()
		}
		if sessionChild != nil {
			sessionChild.Close()
		}
		l.startErr <- err
		if err != nil {
			return
		}
		for f := range l.work {
			f()
		}
	}()
	return nil
}

func (l *launched) phases(begin time.Time) []Phase {
	return []Phase{{"init cloned", l.started.Sub(begin) + l.cloned}}
}

// abort kills an init that will never get its plan.
func (l *launched) abort() {
	l.cmd.Process.Kill()
	l.cmd.Wait()
	l.close()
}

func (l *launched) close() {
	close(l.work)
	l.ctl.Close()
	if l.bridge != nil {
		l.bridge.Close()
	}
	if l.session != nil {
		l.session.Close()
	}
}

// run hands the init its plan and supervises the command to the end.
func (l *launched) run(ctx context.Context, req *Request, prep *prepared) (*Result, error) {
	defer l.close()
	if l.bridge != nil {
		go prep.serveBridge(l.bridge)
	}
	type outcome struct {
		res *Result
		err error
	}
	done := make(chan outcome, 1)
	// Waiting for the init happens on the thread that created it, which
	// must outlive it.
	l.work <- func() {
		res, err := prep.supervise(ctx, req, l)
		done <- outcome{res, err}
	}
	o := <-done
	if prep.proxy != nil {
		prep.proxy.Close() // waits until every connection's event is out
		if o.res != nil {
			sum := prep.proxy.Summary()
			o.res.Network = &sum
		}
	}
	return o.res, o.err
}

// serveBridge takes the connections the init's bridge accepted inside the
// network namespace, as file descriptors, and serves each with the proxy.
func (prep *prepared) serveBridge(sock *os.File) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, 0)
		if err != nil || n == 0 && oobn == 0 {
			return // the init is gone
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			continue
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			f := os.NewFile(uintptr(fd), "bridge")
			c, err := net.FileConn(f)
			f.Close()
			if err != nil {
				continue
			}
			go prep.proxy.ServeConn(c)
		}
	}
}

func (prep *prepared) supervise(ctx context.Context, req *Request, l *launched) (*Result, error) {
	cmd, started := l.cmd, l.started
	initPID := cmd.Process.Pid
	if err := prep.handshake(req, l, true); err != nil {
		return nil, err
	}
	msgs := l.messages()

	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGWINCH)
	defer signal.Stop(sigs)

	var timeout <-chan time.Time
	if d := prep.timeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	st := &commandState{req: req, prep: prep, plan: prep.plan, res: &Result{Report: prep.report, Started: started}, gitDirs: map[string]bool{}}
	res := st.res
	defer func() { res.Phases = append(prep.phases, res.Phases...) }()
	killed := false
	kill := func() {
		if !killed {
			killed = true
			cmd.Process.Signal(unix.SIGKILL)
		}
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			st.handle(m)
		case s := <-sigs:
			syscall.Kill(initPID, s.(syscall.Signal))
		case <-timeout:
			res.TimedOut = true
			prep.stop(cmd, kill)
			timeout = nil
		case <-ctx.Done():
			st.cancelled = true
			prep.stop(cmd, kill)
			ctx = context.Background()
		case werr := <-waited:
			res.Phases = append(res.Phases, Phase{"sandbox torn down", time.Since(prep.begin)})
			// Take in what the init said before it ended.
			for msgs != nil {
				m, ok := <-msgs
				if !ok {
					break
				}
				st.handle(m)
			}
			res.Duration = time.Since(started)
			// Check the repositories the command made before anyone runs
			// git in them, once nothing of the sandbox is left to race the
			// check (without a PID namespace, its cgroup makes sure).
			if !prep.plan.Namespaces {
				prep.cgroup.Kill() //nolint:errcheck // where the run has a cgroup
			}
			st.disarm()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && !st.exited && res.Signal == 0 && res.PID != 0 {
				// The init itself was killed: report it as the command's end.
				res.Signal = int(ws.Signal())
				res.ExitCode = 128 + res.Signal
				st.exited = true
			}
			return st.finish(fmt.Errorf("the sandbox's init ended: %v", werr))
		}
	}
}

// handshake hands the init its plan, records the boundary (when emit is
// set: a warm sandbox records it with each command), puts the init into the
// run's cgroup and tells it to start.
func (prep *prepared) handshake(req *Request, l *launched, emit bool) error {
	var accepted []string
	for _, it := range req.Policy.AllowDegraded {
		accepted = append(accepted, it.Value)
	}
	cmd, ctl := l.cmd, l.ctl
	initPID := cmd.Process.Pid
	fail := func(err error) error {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	plan, err := json.Marshal(prep.plan)
	if err != nil {
		return fail(err)
	}
	if _, err := ctl.Write(append(plan, '\n')); err != nil {
		return fail(fmt.Errorf("send the plan to the sandbox's init: %w", err))
	}
	if emit {
		req.emit(enforcementEvent(prep.report, accepted))
	}
	// While the init applies the plan, it goes into the run's cgroup (a
	// move that can wait for an RCU grace period); it starts the command
	// only on the Start line. In cgroup v1, where membership is per
	// thread, only its main thread, which starts the command, goes in: the
	// init's other threads stay out of the command's limits, so a command
	// that uses them all up cannot keep the Go runtime from a thread it
	// needs. cgroup v2 membership is per process: the whole init goes in,
	// and the process limit there has room for its threads (runCgroup).
	err = prep.cgroup.AddThread(initPID)
	if err == nil {
		err = prep.cgroup.AddProcessV2(initPID)
	}
	if err != nil {
		return fail(&LayerError{Layer: "limits", Err: err, Fix: hintOf(err)})
	}
	prep.phase("in the cgroup")
	if _, err := io.WriteString(ctl, linuxinit.Start+"\n"); err != nil {
		return fail(fmt.Errorf("tell the sandbox's init to start the command: %w", err))
	}
	return nil
}

// messages returns the init's messages, read from the control socket until
// it closes. Call it once per init.
func (l *launched) messages() <-chan linuxinit.Message {
	msgs := make(chan linuxinit.Message, 4)
	go func() {
		defer close(msgs)
		sc := bufio.NewScanner(l.ctl)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m linuxinit.Message
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				msgs <- m
			}
		}
	}()
	return msgs
}

// commandState is what the supervisor learns about one command from the
// init's messages.
type commandState struct {
	req       *Request
	prep      *prepared
	plan      *linuxplan.Plan
	res       *Result
	setupErr  error
	exited    bool // the init reported the command's exit
	cancelled bool // the caller's context ended the command
	// gitDirs are the repositories the sandbox made (for a warm one, in
	// every command so far): checked after each command.
	gitDirs map[string]bool
}

func (st *commandState) handle(m linuxinit.Message) {
	res, req := st.res, st.req
	switch m.Type {
	case linuxinit.MsgStarted:
		res.PID = m.PID
		req.emit(audit.ProcessStart{PID: m.PID, Argv: st.plan.Argv, Executable: m.Path, Cwd: st.plan.Dir})
		res.Phases = append(res.Phases, Phase{"init reported", time.Since(st.prep.begin)})
		for _, ph := range m.Phases {
			res.Phases = append(res.Phases, Phase{"  init: " + ph.Name, time.Duration(ph.Micros) * time.Microsecond})
		}
	case linuxinit.MsgError:
		st.setupErr = &LayerError{Layer: m.Layer, Err: errors.New(m.Error), Fix: m.Hint}
	case linuxinit.MsgExecError:
		st.setupErr = &ExecError{Code: m.Code, Msg: m.Error}
	case linuxinit.MsgExit:
		res.applyExit(m)
		st.exited = true
		res.Phases = append(res.Phases, Phase{"command exited", time.Since(st.prep.begin)})
	case linuxinit.MsgDenied:
		res.denied(req, m)
	case linuxinit.MsgGitDir:
		st.gitDirs[m.Target] = true
	case linuxinit.MsgGitDirMoved:
		delete(st.gitDirs, m.From)
		st.gitDirs[m.Target] = true
	}
}

// disarm checks the repositories the sandbox made; call it only when
// nothing of the sandbox can run any more.
func (st *commandState) disarm() {
	st.res.reportDisarmed(st.req, disarmGitDirs(st.gitDirs, st.prep.plan.Guard.Roots))
}

// finish turns what was learnt into the command's result; gone explains
// an end without a start.
func (st *commandState) finish(gone error) (*Result, error) {
	res := st.res
	if st.setupErr != nil {
		return nil, st.setupErr
	}
	if res.TimedOut {
		res.ExitCode = 124
		st.req.emit(exitEvent(res))
		return res, nil
	}
	if res.PID != 0 && !st.exited && st.cancelled {
		res.Signal, res.ExitCode, st.exited = int(unix.SIGKILL), 128+int(unix.SIGKILL), true
	}
	if res.PID == 0 {
		gone = fmt.Errorf("before starting the command: %w", gone)
	}
	if res.PID == 0 || !st.exited {
		return nil, &LayerError{Layer: "init", Err: gone,
			Fix: "run `cordon doctor`; this is a bug if doctor reports no problem"}
	}
	st.req.emit(exitEvent(res))
	return res, nil
}

// stop ends the whole sandbox: with a PID namespace killing the init is
// enough; without one the init kills its descendants on parentDeathSignal.
func (prep *prepared) stop(cmd *exec.Cmd, kill func()) {
	if !prep.plan.Namespaces {
		cmd.Process.Signal(linuxinit.StopSignal)
		prep.cgroup.Kill() //nolint:errcheck // where the run has a cgroup, everything in it
		time.AfterFunc(2*time.Second, kill)
		return
	}
	kill()
}

func socketPair(typ int) (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control-init"), nil
}

// denied records a refusal the init's supervisor reported.
func (res *Result) denied(req *Request, m linuxinit.Message) {
	d := Denial{Operation: m.Op, Target: m.Target, Layer: "unix-sockets", Why: m.Error, PID: m.PID}
	res.Denied = append(res.Denied, d)
	req.emit(audit.AccessDenied{Operation: d.Operation, Path: d.Target, Layer: d.Layer, PID: d.PID, Detail: d.Why})
}

func (res *Result) applyExit(m linuxinit.Message) {
	res.ExitCode, res.Signal = m.Code, m.Signal
	if m.Signal != 0 {
		res.ExitCode = 128 + m.Signal
	}
	if m.Usage != nil {
		res.Usage = Usage{
			User:      time.Duration(m.Usage.UserMicros) * time.Microsecond,
			System:    time.Duration(m.Usage.SystemMicros) * time.Microsecond,
			MaxRSSKiB: m.Usage.MaxRSSKiB,
		}
	}
}
