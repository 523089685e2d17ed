package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	applydarwin "github.com/cordon-sandbox/cordon/internal/apply/darwin"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
)

// runDirs is the run's private directory: tmp is the command's TMPDIR (in
// the profile), probe is the shim's proof (not in it).
type runDirs struct{ root, tmp, probe string }

func makeRunDirs() (*runDirs, error) {
	root, err := os.MkdirTemp("", "cordon-run-")
	if err != nil {
		return nil, fmt.Errorf("create the private temp dir: %w", err)
	}
	d := &runDirs{root: root, tmp: filepath.Join(root, "tmp"), probe: filepath.Join(root, "probe")}
	for _, p := range []string{d.tmp, d.probe} {
		if err := os.Mkdir(p, 0o700); err != nil {
			os.RemoveAll(root)
			return nil, err
		}
	}
	return d, nil
}

func (d *runDirs) remove() { os.RemoveAll(d.root) }

// macInput maps the request onto the macOS planner's input.
func macInput(req Request, dirs *runDirs, proxyURL string) (macplan.Input, error) {
	env, _ := req.Policy.FilterEnv(req.Environ)
	env = append(env, req.Secrets...)
	in := macplan.Input{
		Policy:      req.Policy,
		Workspace:   req.Workspace,
		Dir:         req.Dir,
		Home:        req.Home,
		UID:         os.Getuid(),
		TmpDir:      dirs.tmp,
		ProbeDir:    dirs.probe,
		PolicyFiles: req.PolicyFiles,
		Argv:        req.Argv,
		Env:         env,
		ProxyURL:    proxyURL,
	}
	exe, err := os.Executable()
	if err != nil {
		return in, fmt.Errorf("find cordon's own binary, which runs as the shim: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	in.Cordon = exe
	in.Private = []string{StateDir(req.Home)}
	in.Private = append(in.Private, req.Policy.Credentials.SecretFiles(req.Home)...)
	if p := req.Policy.Audit.Value.File.Path; p != "" {
		in.Private = append(in.Private, filepath.Dir(p))
	}
	if req.Policy.Mode.Value == policy.ModeWorkspaceWrite {
		dir, err := cacheDir(req.Home, req.Workspace)
		if err != nil {
			return in, err
		}
		in.CacheDir = dir
	}
	facts := applydarwin.HostFacts(req.Workspace, req.Stdin, req.Stdout, req.Stderr)
	in.UserProcesses, in.CaseInsensitive, in.Stdio = facts.UserProcesses, facts.CaseInsensitive, facts.Stdio
	return in, nil
}

// planError turns the planner's refusals into the sandbox's errors.
func planError(err error) error {
	var le *macplan.LimitError
	if errors.As(err, &le) {
		return &LayerError{Layer: "limits", Err: err, Fix: le.Hint()}
	}
	return err
}

func explain(req Request) (*Plan, error) {
	dirs, err := makeRunDirs()
	if err != nil {
		return nil, err
	}
	defer dirs.remove()
	proxyURL := ""
	if req.Policy.Network.Value.Mode == netproxy.ModeProxy {
		proxyURL = "http://cordon:SECRET@127.0.0.1:0" // the port and secret are chosen at run time
	}
	in, err := macInput(req, dirs, proxyURL)
	if err != nil {
		return nil, err
	}
	plan, rep, err := macplan.Make(in)
	if err != nil {
		return nil, planError(err)
	}
	return &Plan{Report: rep, Details: plan}, nil
}

func run(ctx context.Context, req Request) (*Result, error) {
	begin := time.Now()
	var phases []Phase
	phase := func(name string) { phases = append(phases, Phase{name, time.Since(begin)}) }
	dirs, err := makeRunDirs()
	if err != nil {
		return nil, err
	}
	defer dirs.remove()

	var srv *netproxy.Server
	proxyURL := ""
	if req.Policy.Network.Value.Mode == netproxy.ModeProxy {
		srv, err = netproxy.New(req.Policy.Network.Value, netproxy.Options{Asker: req.NetworkAsker, OnEvent: func(ev netproxy.ConnEvent) { req.emit(connectionEvent(ev)) }})
		if err != nil {
			return nil, &LayerError{Layer: "network", Err: err, Fix: "fix the [network] section of the policy (docs/network.md)"}
		}
		defer srv.Close()
		// No network namespace on macOS: the proxy listens on the host's
		// loopback, asks for a per-run secret, and the profile lets the
		// command connect to its port alone.
		l, err := netproxy.ListenLoopback("127.0.0.1:0")
		if err != nil {
			return nil, &LayerError{Layer: "network", Err: err}
		}
		go srv.Serve(l)
		proxyURL = l.URL()
	}
	in, err := macInput(req, dirs, proxyURL)
	if err != nil {
		return nil, err
	}
	plan, rep, err := macplan.Make(in)
	if err != nil {
		return nil, planError(err)
	}
	phase("planned")
	req.emit(enforcementEvent(rep, policy.Values(req.Policy.AllowDegraded)))

	spec := applydarwin.Spec{Argv: plan.ExecArgv(), Env: plan.Env, Dir: plan.Dir, Sandboxed: !plan.FullAccess}
	r, err := applydarwin.Start(spec, req.Stdin, req.Stdout, req.Stderr)
	if err != nil {
		return nil, &LayerError{Layer: "launcher", Err: err}
	}
	defer r.Close()
	phase("watcher started")
	res, err := supervise(ctx, &req, r, plan, rep, begin)
	if res != nil {
		res.Phases = append(phases, res.Phases...)
	}
	if srv != nil {
		srv.Close() // waits until every connection's event is out
		if res != nil {
			sum := srv.Summary()
			res.Network = &sum
		}
	}
	return res, err
}

func supervise(ctx context.Context, req *Request, r *applydarwin.Run, plan *macplan.Plan, rep *report.Report, begin time.Time) (*Result, error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	var timeout <-chan time.Time
	if d := req.Policy.Limits.Timeout.Value; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	res := &Result{Report: rep, Started: time.Now()}
	var setupErr error
	exited := false
	msgs := r.Messages()
	for msgs != nil {
		select {
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			switch m.Type {
			case applydarwin.MsgStarted:
				res.PID = m.PID
			case applydarwin.MsgApplied:
				req.emit(audit.ProcessStart{PID: res.PID, Argv: plan.Argv, Executable: plan.Argv[0], Cwd: plan.Dir})
				res.Phases = append(res.Phases, Phase{"sandbox applied", time.Since(begin)})
			case applydarwin.MsgError:
				if setupErr == nil {
					setupErr = &LayerError{Layer: m.Layer, Err: errors.New(m.Error), Fix: m.Hint}
				}
			case applydarwin.MsgExecError:
				if setupErr == nil {
					setupErr = &ExecError{Code: m.Code, Msg: m.Error}
				}
			case applydarwin.MsgExit:
				exited = true
				res.ExitCode, res.Signal = m.Code, m.Signal
				if m.Signal != 0 {
					res.ExitCode = 128 + m.Signal
				}
				if u := m.Usage; u != nil {
					res.Usage = Usage{User: time.Duration(u.UserMicros) * time.Microsecond, System: time.Duration(u.SystemMicros) * time.Microsecond, MaxRSSKiB: u.MaxRSSKiB}
				}
				if len(m.Survivors) > 0 || m.Error != "" {
					markSurvivors(rep, m.Survivors, m.Error)
				}
				res.Phases = append(res.Phases, Phase{"run ended, processes killed", time.Since(begin)})
			}
		case s := <-sigs:
			r.Signal(s.(syscall.Signal))
		case <-timeout:
			res.TimedOut = true
			r.Stop()
			timeout = nil
		case <-ctx.Done():
			r.Stop()
			ctx = context.Background()
		}
	}
	werr := <-r.Done()
	res.Duration = time.Since(res.Started)
	if !exited && res.PID > 0 {
		// The watcher was killed from outside before it could end the run:
		// kill what can still be found.
		killed, survivors, _ := applydarwin.KillRun(res.PID)
		markSurvivors(rep, survivors, fmt.Sprintf("the watcher ended early (%v); cordon killed %d processes itself", werr, killed))
	}
	if setupErr != nil {
		return nil, setupErr
	}
	if !exited {
		return nil, &LayerError{Layer: "launcher", Err: fmt.Errorf("the run's watcher ended before the command did: %v", werr),
			Fix: "run `cordon doctor`; this is a bug if doctor reports no problem"}
	}
	if res.TimedOut {
		res.ExitCode = 124
	}
	req.emit(exitEvent(res))
	return res, nil
}

// markSurvivors says in the report that processes of the run outlived it.
func markSurvivors(rep *report.Report, survivors []int, why string) {
	for i, l := range rep.Layers {
		if l.Name != "processes" {
			continue
		}
		var parts []string
		if len(survivors) > 0 {
			parts = append(parts, fmt.Sprintf("%d processes of the run could not be killed: %v", len(survivors), survivors))
		}
		if why != "" {
			parts = append(parts, why)
		}
		rep.Layers[i].Status = report.Missing
		rep.Layers[i].Detail += "; THIS RUN: " + strings.Join(parts, "; ")
	}
}
