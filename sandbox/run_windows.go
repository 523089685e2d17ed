package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	applywin "github.com/cordon-sandbox/cordon/internal/apply/windows"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
)

// winInput maps the policy onto the Windows backend's input: the elevated
// mode's when elev is set (the command runs as elev's account), the
// unelevated mode's otherwise.
func winInput(req Request, proxyURL string, elev *applywin.Elevated) (winplan.Input, error) {
	p := req.Policy
	state, err := applywin.DefaultStateDir()
	if err != nil {
		return winplan.Input{}, err
	}
	env, _ := p.FilterEnv(req.Environ)
	env = append(env, req.Secrets...)
	accepted := p.Accepts(policy.DegradedWindowsUnelevated)
	temp, err := winplan.TempRootFor(state, req.Workspace)
	if err != nil {
		return winplan.Input{}, err
	}
	in := winplan.Input{
		Workspace:                req.Workspace,
		ReadOnly:                 p.Mode.Value == policy.ModeReadOnly,
		Env:                      env,
		HostEnv:                  req.Environ,
		TempRoot:                 temp,
		ProxyURL:                 proxyURL,
		AcceptUnenforcedDenyRead: accepted,
		// Without the weaker mode accepted by name, a policy's network
		// rules are a demand this mode cannot meet.
		RequireNetworkIsolation: !accepted,
		Timeout:                 p.Limits.Timeout.Value,
		MaxProcesses:            int(p.Limits.MaxProcesses.Value),
		MemoryBytes:             p.Limits.Memory.Value,
		StateDir:                state,
		ProfileDir:              os.Getenv("USERPROFILE"),
	}
	if elev != nil {
		a := elev.Account
		in.Sandbox = &a
		in.RequireNetworkIsolation = false // the firewall's, for the offline account
	}
	if !in.ReadOnly {
		in.WritableRoots = policy.Values(p.Filesystem.Writable)
	}
	roots := append([]string{req.Workspace}, in.WritableRoots...)
	for _, it := range p.Filesystem.Protected {
		if filepath.IsAbs(it.Value) {
			in.ProtectedPaths = append(in.ProtectedPaths, winplan.ProtectedPath{Path: it.Value, Dir: policy.IsDirName(filepath.Base(it.Value))})
			continue
		}
		for _, r := range roots {
			in.ProtectedPaths = append(in.ProtectedPaths, winplan.ProtectedPath{Path: filepath.Join(r, it.Value), Dir: policy.IsDirName(filepath.Base(it.Value))})
		}
	}
	for _, f := range req.PolicyFiles {
		in.ProtectedPaths = append(in.ProtectedPaths, winplan.ProtectedPath{Path: f})
	}
	for _, it := range p.Filesystem.DenyRead {
		in.DenyRead = append(in.DenyRead, expandHome(it.Value, in.ProfileDir))
	}
	return in, nil
}

// expandHome turns a policy path starting with ~ into one below the profile
// directory; other paths are returned as they are.
func expandHome(p, profile string) string {
	if profile == "" {
		return p
	}
	if p == "~" {
		return profile
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(profile, filepath.FromSlash(rest))
	}
	return p
}

func winReport(p *policy.Policy, facts []winplan.Fact, elevated bool) *report.Report {
	rep := &report.Report{Mode: string(p.Mode.Value)}
	if !elevated && p.Accepts(policy.DegradedWindowsUnelevated) {
		rep.Degraded = string(policy.DegradedWindowsUnelevated)
	}
	for _, f := range facts {
		rep.Layers = append(rep.Layers, report.Layer{Name: f.Layer, Status: winStatus(f.Status), Detail: f.Detail + " (not verified on a real Windows host)"})
	}
	return rep
}

func winStatus(s winplan.Status) report.Status {
	switch s {
	case winplan.Enforced:
		return report.Applied
	case winplan.Advisory:
		return report.Downgraded
	}
	return report.Missing
}

func explain(req Request) (*Plan, error) {
	elev, _ := elevatedSetup(req)
	in, err := winInput(req, "", elev)
	if err != nil {
		return nil, err
	}
	return &Plan{Report: &report.Report{Mode: string(req.Policy.Mode.Value)}, Details: in}, nil
}

// elevatedSetup finds the elevated mode's setup for the policy's network
// mode; the error wraps winplan.ErrSetupMissing when it has not been done.
func elevatedSetup(req Request) (*applywin.Elevated, error) {
	state, err := applywin.DefaultStateDir()
	if err != nil {
		return nil, err
	}
	return applywin.ElevatedSetup(state, string(req.Policy.Network.Value.Mode))
}

// proxyListener listens for cordon's proxy: on a free loopback port in the
// unelevated mode; in the elevated mode on the first free port of those the
// setup let the offline account reach.
func proxyListener(elev *applywin.Elevated) (*netproxy.LoopbackListener, error) {
	if elev == nil {
		return netproxy.ListenLoopback("127.0.0.1:0")
	}
	if len(elev.ProxyPorts) == 0 {
		return nil, errors.New("the elevated Windows mode was set up without a proxy port, so " + winplan.OfflineUser +
			" can reach no proxy: run \"cordon windows setup --proxy-port PORT\" from an elevated prompt")
	}
	var errs []error
	for _, port := range elev.ProxyPorts {
		l, err := netproxy.ListenLoopback(fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			return l, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("none of the proxy ports the setup allowed (%v) is free: %w", elev.ProxyPorts, errors.Join(errs...))
}

func run(ctx context.Context, req Request) (*Result, error) {
	// The elevated mode when it is set up; the weaker mode only when it is
	// accepted by name; otherwise a refusal that names both.
	elev, eerr := elevatedSetup(req)
	if eerr != nil {
		if !errors.Is(eerr, winplan.ErrSetupMissing) {
			return nil, &LayerError{Layer: "windows", Err: eerr}
		}
		if !req.Policy.Accepts(policy.DegradedWindowsUnelevated) {
			return nil, &LayerError{Layer: "windows", Err: eerr,
				Fix: fmt.Sprintf("run \"cordon windows setup\" once from an elevated prompt, or accept the weaker mode by name with --allow-degraded=%s (%s)",
					policy.DegradedWindowsUnelevated, policy.KnownDegraded[policy.DegradedWindowsUnelevated])}
		}
		elev = nil
	}
	var proxyURL string
	var srv *netproxy.Server
	if req.Policy.Network.Value.Mode == netproxy.ModeProxy {
		var err error
		srv, err = netproxy.New(req.Policy.Network.Value, netproxy.Options{Asker: req.NetworkAsker, OnEvent: func(ev netproxy.ConnEvent) { req.emit(connectionEvent(ev)) }})
		if err != nil {
			return nil, &LayerError{Layer: "network", Err: err}
		}
		l, err := proxyListener(elev)
		if err != nil {
			return nil, &LayerError{Layer: "network", Err: err}
		}
		go srv.Serve(l)
		defer srv.Close()
		proxyURL = l.URL()
	}
	in, err := winInput(req, proxyURL, elev)
	if err != nil {
		return nil, err
	}
	sb, err := applywin.Prepare(ctx, in)
	if err != nil {
		if errors.Is(err, winplan.ErrRefused) {
			return nil, &LayerError{Layer: "windows", Err: err,
				Fix: fmt.Sprintf("accept the weaker mode by name with --allow-degraded=%s (%s)", policy.DegradedWindowsUnelevated, policy.KnownDegraded[policy.DegradedWindowsUnelevated])}
		}
		return nil, &LayerError{Layer: "windows", Err: err}
	}
	defer sb.Close()
	rep := winReport(req.Policy, sb.Facts(), elev != nil)
	req.emit(enforcementEvent(rep, policy.Values(req.Policy.AllowDegraded)))
	started := time.Now()
	out, err := sb.Run(ctx, applywin.Command{Args: req.Argv, Dir: req.Dir, Stdin: req.Stdin, Stdout: req.Stdout, Stderr: req.Stderr})
	if err != nil {
		if errors.Is(err, winplan.ErrNotFound) {
			return nil, &ExecError{Code: 127, Msg: err.Error()}
		}
		return nil, &LayerError{Layer: "windows", Err: err}
	}
	res := &Result{ExitCode: out.ExitCode, TimedOut: out.TimedOut, Started: started, Duration: out.Duration, Report: rep}
	req.emit(exitEvent(res))
	if srv != nil {
		srv.Close()
		sum := srv.Summary()
		res.Network = &sum
	}
	return res, nil
}
