package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// runCommand is run_command. ctx ends when the client cancels the call or
// the session ends; the command is then killed with everything it started.
func (s *Server) runCommand(ctx context.Context, c *call, in RunInput) (RunOutput, error) {
	out := RunOutput{ExitCode: -1, Refusals: []Refusal{}}
	argv, label, err := commandOf(in.Command, in.Argv)
	if err != nil {
		return out, err
	}
	dir, err := s.resolveDir(in.Cwd)
	if err != nil {
		return out, err
	}
	timeout, note, err := s.timeoutFor(in.TimeoutSeconds)
	if err != nil {
		return out, err
	}
	if note != "" {
		out.Notes = append(out.Notes, note)
	}

	var res cmdpolicy.Result
	if in.Command != "" {
		res = s.rules.CheckScript(in.Command)
	} else {
		res = s.rules.Check(in.Argv)
	}
	out.Decision = res.Decision.String()
	var progress func(time.Duration, int64)
	if c.wantsProgress() {
		progress = func(elapsed time.Duration, bytes int64) {
			err := c.progress(ctx, math.Round(elapsed.Seconds()),
				fmt.Sprintf("still running after %s; %d bytes of output so far", elapsed.Round(time.Second), bytes))
			if err != nil && ctx.Err() == nil {
				s.logf("run_command: progress notification: %v", err)
			}
		}
	}
	err = s.execute(ctx, argv, dir, timeout, in.Stdin, progress, &out)
	var refused *RefusedError
	if errors.As(err, &refused) {
		out.Refusals = s.refusals(label, res, refused)
		s.logf("run_command: %s: not run (%s): %s", oneLine(label), out.Refusals[0].Kind, refused.Reason)
		return out, nil
	}
	if ctx.Err() != nil {
		s.logf("run_command: %s: cancelled; the command and everything it started were killed", oneLine(label))
		return out, ctx.Err()
	}
	if err != nil {
		return out, s.toolError("run_command", err)
	}
	s.logf("run_command: %s: exit %d after %d ms", oneLine(label), out.ExitCode, out.DurationMS)
	if out.TimedOut {
		out.Notes = append(out.Notes, fmt.Sprintf("the command ran out of time (%s) and was killed with everything it started; pass a longer timeout_seconds if the policy allows it (see sandbox_info)", timeout))
	}
	return out, nil
}

// commandOf returns the argument vector to run and a label for messages.
func commandOf(command string, argv []string) ([]string, string, error) {
	switch {
	case command != "" && len(argv) > 0:
		return nil, "", errors.New("give either command or argv, not both")
	case command == "" && len(argv) == 0:
		return nil, "", errors.New("give command (a shell command line) or argv (a program and its arguments)")
	case strings.ContainsRune(command, 0):
		return nil, "", errors.New("command contains a NUL byte, which no program can receive")
	case command != "":
		return []string{"sh", "-c", command}, command, nil
	}
	if argv[0] == "" {
		return nil, "", errors.New("argv[0], the program, is empty")
	}
	for _, a := range argv {
		if strings.ContainsRune(a, 0) {
			return nil, "", errors.New("argv contains a NUL byte, which no program can receive")
		}
	}
	return argv, strings.Join(argv, " "), nil
}

// resolveDir turns the agent's cwd into a directory inside the workspace.
// Every failure gives the same answer, so that the agent cannot learn
// whether a path outside the workspace exists.
func (s *Server) resolveDir(cwd string) (string, error) {
	ws := s.opts.Workspace
	if cwd == "" || cwd == "." {
		return ws, nil
	}
	refuse := fmt.Errorf("cwd %q is not a directory inside the workspace; give a path relative to the workspace root, such as \".\" or \"src\" (see sandbox_info)", cwd)
	if strings.ContainsRune(cwd, 0) {
		return "", refuse
	}
	p := cwd
	if !filepath.IsAbs(p) {
		p = filepath.Join(ws, p)
	}
	if !within(ws, filepath.Clean(p)) {
		return "", refuse
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil || !within(ws, real) {
		return "", refuse
	}
	st, err := os.Stat(real)
	if err != nil || !st.IsDir() {
		return "", refuse
	}
	return real, nil
}

// timeoutFor is the timeout of one call: the one asked for, or the
// default, and never more than the policy's.
func (s *Server) timeoutFor(seconds float64) (time.Duration, string, error) {
	if seconds < 0 || math.IsNaN(seconds) || math.IsInf(seconds, 0) {
		return 0, "", fmt.Errorf("timeout_seconds must be a positive number of seconds, not %v", seconds)
	}
	max := s.opts.Policy.Limits.Timeout.Value
	if seconds == 0 {
		return s.opts.DefaultTimeout, "", nil
	}
	want := time.Duration(seconds * float64(time.Second))
	if seconds > float64(math.MaxInt64/int64(time.Second)) {
		want = time.Duration(math.MaxInt64)
	}
	if want < time.Millisecond {
		want = time.Millisecond
	}
	if max > 0 && want > max {
		return max, fmt.Sprintf("timeout_seconds %v is longer than the policy allows; the policy's %s applies", seconds, max), nil
	}
	return want, "", nil
}

// refusals describes why a command did not run, for the agent: the parts
// a rule denies, or the approval that was refused or could not be asked.
func (s *Server) refusals(label string, res cmdpolicy.Result, why *RefusedError) []Refusal {
	if res.Decision >= cmdpolicy.Deny {
		return ruleRefusals(res)
	}
	reason := partsReason(res, cmdpolicy.Ask)
	rule := firstRule(res, cmdpolicy.Ask)
	if why.NoApprover {
		return []Refusal{{Kind: RefusalApprovalRequired, Subject: label, Rule: rule, Reason: reason,
			Message: fmt.Sprintf("This command needs a human's approval (%s), and no one could be asked, so it was not run. "+
				"Ask the user to approve it through cordon (docs/approvals.md: start `cordon approve`), to run it themselves, "+
				"or to allow it in cordon's policy; or do without it.", reason)}}
	}
	msg := "The user refused this command, or did not answer in time; it was not run. Do not run it again in another form; ask the user how to proceed."
	if why.Reason != "" {
		msg = fmt.Sprintf("The command was not approved (%s); it was not run. Do not run it again in another form; ask the user how to proceed.",
			s.redact.clean(why.Reason))
	}
	return []Refusal{{Kind: RefusalApprovalDenied, Subject: label, Rule: rule, Reason: reason, Message: msg}}
}

// ruleRefusals lists the parts a command rule denies.
func ruleRefusals(res cmdpolicy.Result) []Refusal {
	var out []Refusal
	for _, p := range res.Parts {
		if p.Decision < cmdpolicy.Deny {
			continue
		}
		out = append(out, Refusal{Kind: RefusalCommandRule, Subject: p.Command, Rule: p.Rule, Reason: p.Reason,
			Message: fmt.Sprintf("cordon's policy refuses %q: %s. It was not run. Do not retry it in another form; if it is needed, ask the user to run it or to change cordon's policy.",
				oneLine(p.Command), p.Reason)})
	}
	if len(out) == 0 {
		out = append(out, Refusal{Kind: RefusalCommandRule, Subject: "", Reason: "refused by the command rules",
			Message: "cordon's policy refuses this command; it was not run. Ask the user how to proceed."})
	}
	return out
}

func partsReason(res cmdpolicy.Result, d cmdpolicy.Decision) string {
	var reasons []string
	for _, p := range res.Parts {
		if p.Decision >= d {
			reasons = append(reasons, fmt.Sprintf("%q: %s", oneLine(p.Command), p.Reason))
		}
	}
	if len(reasons) == 0 {
		return "the command rules say so"
	}
	if len(reasons) > 3 {
		reasons = append(reasons[:3], "...")
	}
	return strings.Join(reasons, "; ")
}

func firstRule(res cmdpolicy.Result, d cmdpolicy.Decision) string {
	for _, p := range res.Parts {
		if p.Decision >= d && p.Rule != "" {
			return p.Rule
		}
	}
	return ""
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

func (s *Server) checkCommand(_ context.Context, _ *call, in CheckInput) (CheckOutput, error) {
	if _, _, err := commandOf(in.Command, in.Argv); err != nil {
		return CheckOutput{}, err
	}
	var res cmdpolicy.Result
	if in.Command != "" {
		res = s.rules.CheckScript(in.Command)
	} else {
		res = s.rules.Check(in.Argv)
	}
	out := CheckOutput{Decision: res.Decision.String(), Parts: []CheckPart{}}
	for _, p := range res.Parts {
		out.Parts = append(out.Parts, CheckPart{Command: p.Command, Decision: p.Decision.String(),
			Category: p.Category, Rule: p.Rule, Reason: p.Reason})
	}
	switch res.Decision {
	case cmdpolicy.Allow:
		out.Summary = "allowed: run_command runs it inside the sandbox without asking anyone"
	case cmdpolicy.Ask:
		out.Summary = "needs a human's approval: " + partsReason(res, cmdpolicy.Ask)
	default:
		out.Summary = "refused by the policy: " + partsReason(res, cmdpolicy.Deny)
	}
	return out, nil
}

func (s *Server) sandboxInfo(context.Context, *call, InfoInput) (InfoOutput, error) {
	p := s.opts.Policy
	out := InfoOutput{
		Mode:                  string(p.Mode.Value),
		Workspace:             s.opts.Workspace,
		ProtectedPaths:        s.tilde(policy.Values(p.Filesystem.Protected)),
		UnreadablePaths:       s.tilde(policy.Values(p.Filesystem.DenyRead)),
		MaxTimeoutSeconds:     p.Limits.Timeout.Value.Seconds(),
		DefaultTimeoutSeconds: s.opts.DefaultTimeout.Seconds(),
		MaxOutputBytes:        s.opts.MaxOutput,
		Enforcement:           []Layer{},
		Network:               Network{AllowedHosts: []string{}},
	}
	switch p.Mode.Value {
	case policy.ModeFullAccess:
		out.WritableRoots = []string{"/ (full-access mode: no boundary)"}
		out.Network = Network{Access: "host", AllowedHosts: []string{}, Detail: "full-access mode: the host's network, unfiltered"}
	case policy.ModeReadOnly:
		out.WritableRoots = []string{privateTmp()}
	default:
		out.WritableRoots = append([]string{s.opts.Workspace}, s.tilde(policy.Values(p.Filesystem.Writable))...)
		out.WritableRoots = append(out.WritableRoots, privateTmp(), "a private tool cache for this workspace (Go, npm, pip, ...)")
	}
	if p.Mode.Value != policy.ModeFullAccess {
		out.Network = networkInfo(p.Network.Value)
	}
	plan, err := sandbox.Explain(sandbox.Request{Policy: p, Workspace: s.opts.Workspace, Home: s.opts.Home,
		Argv: []string{"true"}, Environ: s.opts.Environ, PolicyFiles: s.opts.PolicyFiles})
	if err != nil {
		out.Notes = append(out.Notes, "cannot plan the boundary on this machine: "+s.redact.clean(err.Error()))
	} else {
		for _, l := range plan.Report.Layers {
			out.Enforcement = append(out.Enforcement, Layer{Name: l.Name, Status: string(l.Status), Detail: s.redact.clean(l.Detail)})
			if l.Name == "network" && p.Mode.Value != policy.ModeFullAccess {
				out.Network.Detail = s.redact.clean(l.Detail) + "; " + out.Network.Detail
			}
		}
	}
	out.Machine = s.machineFacts()
	return out, nil
}

// machineFacts runs the doctor once per server: its facts do not change
// while the server runs, and it starts real sandboxes to prove them.
func (s *Server) machineFacts() Machine {
	s.infoOnce.Do(func() {
		d := sandbox.Doctor(s.opts.Home)
		m := Machine{System: d.System, Facts: []MachineFact{}, Modes: []MachineMode{}}
		for _, f := range d.Facts {
			m.Facts = append(m.Facts, MachineFact{Name: f.Name, OK: f.OK, Detail: s.redact.clean(f.Detail)})
		}
		for _, md := range d.Modes {
			m.Modes = append(m.Modes, MachineMode{Mode: md.Mode, Works: md.Works, Detail: s.redact.clean(md.Detail)})
		}
		s.machine = m
	})
	return s.machine
}

// tilde shows paths under the home directory as ~/..., which tells the
// agent what it needs without the host's layout.
func (s *Server) tilde(paths []string) []string {
	out := make([]string, 0, len(paths))
	home := filepath.Clean(s.opts.Home)
	for _, p := range paths {
		if s.opts.Home != "" && within(home, p) && p != home {
			p = "~/" + strings.TrimPrefix(p, home+"/")
		}
		out = append(out, p)
	}
	return out
}

// networkInfo describes what the network policy lets commands reach.
func networkInfo(n netproxy.Config) Network {
	switch n.Mode {
	case netproxy.ModeProxy:
		hosts := []string{}
		for _, p := range n.Presets {
			hosts = append(hosts, "preset:"+p)
		}
		hosts = append(append(append(hosts, n.Allow...), n.AllowPrivate...), n.TCP...)
		detail := "only the allowed hosts, through cordon's proxy (HTTP(S)_PROXY and ALL_PROXY are set); other hosts are refused"
		if n.Unlisted == "ask" {
			detail = "the allowed hosts, through cordon's proxy; for other hosts a human is asked while the connection waits"
		}
		if len(n.Deny) > 0 {
			detail += "; always refused: " + strings.Join(n.Deny, ", ")
		}
		return Network{Access: "proxy", AllowedHosts: hosts, Detail: detail}
	case netproxy.ModeFull:
		return Network{Access: "host", AllowedHosts: []string{}, Detail: "the host's network, unfiltered (the policy accepted this)"}
	}
	return Network{Access: "none", AllowedHosts: []string{},
		Detail: "commands have no network: downloads and package installs fail; use vendored dependencies or offline caches, or ask the user to allow hosts in cordon's policy"}
}

// privateTmp describes the command's private temp dir: a private /tmp on
// Linux; on macOS a private $TMPDIR, with /tmp itself not writable.
func privateTmp() string {
	if runtime.GOOS == "darwin" {
		return "a private $TMPDIR, emptied after each command (/tmp is not writable)"
	}
	return "a private /tmp, emptied after each command"
}
