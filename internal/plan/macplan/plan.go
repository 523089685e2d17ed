package macplan

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/netenv"
	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// SandboxExec is the launcher: always this path, never one found in PATH.
const SandboxExec = "/usr/bin/sandbox-exec"

// ShimArg is the hidden argument under which the cordon binary, started by
// sandbox-exec inside the sandbox, proves the profile holds and then execs
// the command (internal/apply/darwin).
const ShimArg = "__darwin-exec"

// MaxProfileBytes bounds the profile and its parameters, which travel as
// arguments of sandbox-exec (macOS's ARG_MAX is 1 MiB, shared with the
// environment).
const MaxProfileBytes = 256 << 10

// Unverified is the caveat every macOS report carries.
const Unverified = "not verified on a real Mac"

// Input is what the plan is made from. Paths need not be canonical: the
// planner resolves them through FS, as Seatbelt will see them.
type Input struct {
	Policy    *policy.Policy
	Workspace string
	// Dir is the working directory; empty means the workspace.
	Dir  string
	Home string
	UID  int
	// CacheDir is the workspace's private tool cache (created by the
	// caller); empty in read-only mode.
	CacheDir string
	// TmpDir is the run's private temp dir (created by the caller), the
	// command's TMPDIR. Required unless the mode is full-access.
	TmpDir string
	// ProbeDir is a directory the caller can write and the profile does
	// not name: the shim proves the profile holds by failing to create a
	// file in it.
	ProbeDir string
	// PolicyFiles are the policy files in use; they are protected.
	PolicyFiles []string
	// Private are cordon's own paths (state, audit trail, secret files),
	// denied whatever the policy says.
	Private []string
	Argv    []string
	// Env is the caller's environment after the policy's filter (and the
	// granted secrets).
	Env []string
	// ProxyURL is cordon's proxy on loopback with the per-run secret
	// (http://cordon:SECRET@127.0.0.1:PORT), when network.mode = proxy.
	ProxyURL string
	// Stdio are the files on the command's standard descriptors that have
	// a path (terminals, redirected files); pipes need no rule.
	Stdio []Stdio
	// UserProcesses is how many processes the user runs now; macOS counts
	// RLIMIT_NPROC over all of them.
	UserProcesses int
	// CaseInsensitive: the volume compares names without case (APFS's
	// default).
	CaseInsensitive bool
	// Cordon is the cordon binary, which sandbox-exec starts as the shim.
	Cordon string
	FS     FS
}

// Stdio is one standard descriptor's file.
type Stdio struct {
	FD       int    `json:"fd"`
	Path     string `json:"path"`
	Terminal bool   `json:"terminal,omitempty"`
}

// Param is one profile parameter: sandbox-exec -DKEY=VALUE.
type Param struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Why   string `json:"why"`
}

// Plan is what the launcher runs.
type Plan struct {
	// FullAccess: no profile; the command runs as it is (still in its own
	// session, still killed with everything it started).
	FullAccess bool `json:"full_access,omitempty"`
	// Profile is the SBPL text; Params its parameters.
	Profile string  `json:"profile,omitempty"`
	Params  []Param `json:"params,omitempty"`
	// ProbeDir is where the shim proves the profile holds.
	ProbeDir string   `json:"probe_dir,omitempty"`
	Cordon   string   `json:"cordon,omitempty"`
	Dir      string   `json:"dir"`
	Argv     []string `json:"argv"`
	Env      []string `json:"env"`
	Rlimits  []Rlimit `json:"rlimits,omitempty"`

	// What the profile says, for --explain and the tests.
	Writable  []string `json:"writable,omitempty"`
	Denied    []string `json:"denied,omitempty"`
	Protected []string `json:"protected,omitempty"`
	// Absent are the protected paths that do not exist yet; the profile
	// keeps them uncreatable.
	Absent    []string `json:"absent,omitempty"`
	Pinned    []string `json:"pinned,omitempty"`
	ProxyPort int      `json:"proxy_port,omitempty"`
}

// ExecArgv is the launcher's command line: sandbox-exec with the profile
// and its parameters, starting the shim, which execs the command; in
// full-access mode the shim alone (it still sets the resource limits).
func (p *Plan) ExecArgv() []string {
	shim := ShimArgv(p.Cordon, ShimSpec{ProbeDir: p.ProbeDir, Rlimits: p.Rlimits, Argv: p.Argv})
	if p.FullAccess {
		return shim
	}
	out := []string{SandboxExec, "-p", p.Profile}
	for _, pa := range p.Params {
		out = append(out, "-D"+pa.Key+"="+pa.Value)
	}
	out = append(out, "--")
	return append(out, shim...)
}

// ShimSpec is what the shim does before it execs the command.
type ShimSpec struct {
	// ProbeDir, when set, is a directory the shim must fail to write: the
	// proof that the profile is in force.
	ProbeDir string
	Rlimits  []Rlimit
	Argv     []string
}

// ShimArgv is the shim's command line: cordon __darwin-exec [-probe DIR]
// [-rlimit RESOURCE=VALUE]... -- COMMAND...
func ShimArgv(cordon string, s ShimSpec) []string {
	out := []string{cordon, ShimArg}
	if s.ProbeDir != "" {
		out = append(out, "-probe", s.ProbeDir)
	}
	for _, r := range s.Rlimits {
		out = append(out, "-rlimit", fmt.Sprintf("%d=%d", r.Resource, r.Value))
	}
	out = append(out, "--")
	return append(out, s.Argv...)
}

// ParseShimArgs reads the arguments after ShimArg.
func ParseShimArgs(args []string) (ShimSpec, error) {
	var s ShimSpec
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		switch a {
		case "--":
			if len(args) == 0 {
				return s, errors.New("no command after --")
			}
			s.Argv = args
			return s, nil
		case "-probe", "-rlimit":
			if len(args) == 0 {
				return s, fmt.Errorf("%s needs a value", a)
			}
			v := args[0]
			args = args[1:]
			if a == "-probe" {
				s.ProbeDir = v
				continue
			}
			res, val, ok := strings.Cut(v, "=")
			r, err1 := strconv.Atoi(res)
			n, err2 := strconv.ParseUint(val, 10, 64)
			if !ok || err1 != nil || err2 != nil || r < 0 {
				return s, fmt.Errorf("-rlimit %q is not RESOURCE=VALUE", v)
			}
			s.Rlimits = append(s.Rlimits, Rlimit{Resource: r, Value: n})
		default:
			return s, fmt.Errorf("unknown argument %q", a)
		}
	}
	return s, errors.New("no -- before the command")
}

// Make builds the plan and the enforcement report it promises.
func Make(in Input) (*Plan, *report.Report, error) {
	if in.FS == nil {
		in.FS = OSFS{}
	}
	if len(in.Argv) == 0 {
		return nil, nil, errors.New("no command given")
	}
	if in.Policy == nil {
		return nil, nil, errors.New("no policy")
	}
	p := in.Policy
	mode := p.Mode.Value
	rep := &report.Report{Mode: string(mode)}
	b := newBuilder(in)
	dir := in.Dir
	if dir == "" {
		dir = in.Workspace
	}
	if d, _, err := b.canonical(dir); err == nil {
		dir = d
	} else {
		return nil, nil, err
	}
	plan := &Plan{Dir: dir, Argv: in.Argv}
	if p.Limits.Memory.Value > 0 && !p.Accepts(policy.DegradedMacOSNoMemoryLimit) {
		return nil, nil, &LimitError{Memory: p.Limits.Memory.Value}
	}
	plan.Rlimits = rlimits(p, in.UserProcesses)

	if in.Cordon == "" {
		return nil, nil, errors.New("bug: the macOS plan needs the cordon binary, which runs as the shim")
	}
	plan.Cordon = in.Cordon
	if mode == policy.ModeFullAccess {
		plan.FullAccess = true
		plan.Env = in.Env
		rep.Add("verification", report.Missing, "%s: cordon's macOS backend has not been run on a Mac by its tests; scripts/macos/verify.sh checks it (docs/macos.md)", Unverified)
		for _, l := range []string{"seatbelt", "filesystem", "network", "services"} {
			rep.Add(l, report.Off, "mode full-access: no boundary")
		}
		addProcessLayers(rep, in, plan)
		return plan, rep, nil
	}
	if in.TmpDir == "" || in.ProbeDir == "" {
		return nil, nil, errors.New("bug: the macOS plan needs the private temp dir and the probe dir")
	}
	tmp, ok, err := b.canonical(in.TmpDir)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, fmt.Errorf("the private temp dir %s does not exist", in.TmpDir)
	}
	probe, _, err := b.canonical(in.ProbeDir)
	if err != nil {
		return nil, nil, err
	}
	roots, err := b.writableRoots()
	if err != nil {
		return nil, nil, err
	}
	denied, err := b.denied(roots)
	if err != nil {
		return nil, nil, err
	}
	if len(b.hardLinks) > MaxHardLinks {
		return nil, nil, &InputError{
			Msg: fmt.Sprintf("the writable roots hold %d files with more than one name (hard links), more than the %d cordon can keep read-only one by one; the first is %s", len(b.hardLinks), MaxHardLinks, b.hardLinks[0]),
			Fix: "a write through a hard link changes the file everywhere it is linked, outside the workspace too; replace them with copies (cp -X) or keep them in a directory cordon does not search (node_modules, vendor, .git)"}
	}
	protected, absent, err := b.protected(roots)
	if err != nil {
		return nil, nil, err
	}
	writable := append(append([]string{}, roots...), tmp)
	if unixplan.Under(probe, tmp) || unixplan.InAny(probe, roots) {
		return nil, nil, fmt.Errorf("bug: the probe dir %s is writable in the profile", probe)
	}
	var inside []string
	for _, d := range denied {
		if unixplan.InAny(d, writable) {
			inside = append(inside, d)
		}
	}
	pinned := pins(writable, append(append([]string{}, protected...), inside...))
	sockets, err := b.host.SocketGrants(p.Filesystem.HostSockets, denied)
	if err != nil {
		return nil, nil, err
	}

	netMode := p.Network.Value.Mode
	if netMode == "" {
		netMode = netpolicy.ModeOff
	}
	var proxyEnv map[string]string
	port := 0
	if netMode == netpolicy.ModeProxy {
		port, err = portOf(in.ProxyURL)
		if err != nil {
			return nil, nil, err
		}
		proxyEnv = netenv.ClientEnv(in.ProxyURL)
	}

	g := &gen{}
	for i, r := range roots {
		g.param(fmt.Sprintf("ROOT_%d", i), r, "writable root")
	}
	g.param("TMPDIR", tmp, "the run's private temp dir")
	prof := g.profile(profileInput{
		roots: roots, tmp: tmp, stdio: in.Stdio, sockets: sockets,
		denied: denied, protected: protected, pinned: pinned,
		net: netMode, port: port,
	})
	text, err := prof.Render()
	if err != nil {
		return nil, nil, err
	}
	plan.Profile, plan.Params = text, g.params
	plan.ProbeDir = probe
	plan.Writable, plan.Denied, plan.Protected, plan.Pinned = writable, denied, protected, pinned
	plan.Absent = unixplan.Keys(absent)
	plan.ProxyPort = port
	size := len(text)
	for _, pa := range g.params {
		size += len(pa.Key) + len(pa.Value) + 3
	}
	if size > MaxProfileBytes {
		return nil, nil, &InputError{Msg: fmt.Sprintf("the sandbox profile and its %d parameters take %d bytes, more than the %d that fit on sandbox-exec's command line", len(g.params), size, MaxProfileBytes),
			Fix: "the policy names too many paths: narrow deny_read globs, or remove hard-linked files from the workspace"}
	}

	cache := b.cache()
	plan.Env = unixplan.ToolEnv(in.Env, tmp, cache, dir, proxyEnv)

	rep.Add("verification", report.Missing, "%s: cordon's macOS backend has not been run on a Mac by its tests; scripts/macos/verify.sh checks it (docs/macos.md)", Unverified)
	rep.Add("seatbelt", report.Applied, "generated SBPL profile, deny by default, %d rules and %d parameters, run with %s; the shim checks it holds before the command starts (%s)", len(prof.Rules), len(g.params), SandboxExec, Unverified)
	rep.Add("filesystem", report.Applied, "reads everywhere except %d denied paths; writes only in %d roots and the private TMPDIR; %d protected paths (%d absent, kept uncreatable); %d directories keep their names; no new hard links (%s)",
		len(denied), len(roots), len(protected), len(absent), len(pinned), Unverified)
	switch netMode {
	case netpolicy.ModeOff:
		rep.Add("network", report.Applied, "no network: no TCP or UDP connection, no DNS; unix sockets only below the writable places%s (%s)", socketText(sockets), Unverified)
	case netpolicy.ModeProxy:
		rep.Add("network", report.Downgraded, "out only through cordon's proxy at 127.0.0.1:%d (per-run secret), to %s; no DNS inside; unix sockets only below the writable places%s. Weaker than Linux: trustd, which TLS verification needs, runs outside the sandbox and may fetch certificate-issuer and revocation URLs named in certificates the command presents, past the proxy; Seatbelt matches loopback by port, so another listener on [::1]:%d would be reachable (%s)",
			port, unixplan.AllowedText(len(p.Network.Value.Allow)+len(p.Network.Value.AllowPrivate)+len(p.Network.Value.TCP), p.Network.Value.Presets), socketText(sockets), port, Unverified)
	case netpolicy.ModeFull:
		rep.Add("network", report.Off, "network.mode = full: the host's network, unfiltered, and its DNS (named risk)")
	}
	rep.Add("services", report.Applied, "%d Mach services reachable (docs/macos.md); keychain, pasteboard, AppleEvents, accessibility, LaunchServices, login items and launchd jobs refused; signals and process information only within the sandbox (%s)", len(servicesFor(netMode)), Unverified)
	addProcessLayers(rep, in, plan)
	return plan, rep, nil
}

// addProcessLayers reports the layers the launcher applies in every mode.
func addProcessLayers(rep *report.Report, in Input, plan *Plan) {
	rep.Add("processes", report.Downgraded, "macOS has no PID namespace: the command runs in a new session under a watcher outside the sandbox, which kills the session and every descendant it has seen when the command ends or cordon dies; a process that leaves the session and is orphaned between two looks at the process table survives (still inside the sandbox, its proxy closed) (%s)", Unverified)
	if in.UID == 0 {
		rep.Add("terminal", report.Downgraded, "new session without a controlling terminal; as root, XNU does not refuse TIOCSTI, so the command could type into a terminal it can open (%s)", Unverified)
	} else {
		rep.Add("terminal", report.Applied, "new session without a controlling terminal: XNU refuses TIOCSTI to a caller that is not root on a terminal that is not its controlling one (%s)", Unverified)
	}
	rep.Add("environment", report.Applied, "filtered by the policy")
	userNproc := in.Policy.Limits.MaxProcesses.Value > 0 && in.Policy.Limits.MaxProcesses.From.Layer != policy.LayerBuiltin
	if userNproc || in.Policy.Limits.Memory.Value > 0 {
		var why []string
		if userNproc {
			why = append(why, fmt.Sprintf("max_processes counts all of the user's processes on macOS, so it is set to %d above the %d running at the start", in.Policy.Limits.MaxProcesses.Value, in.UserProcesses))
		}
		if in.Policy.Limits.Memory.Value > 0 {
			why = append(why, fmt.Sprintf("memory (%d bytes) is NOT enforced: macOS refuses an address-space limit below what a process already maps (weaker mode %q)", in.Policy.Limits.Memory.Value, policy.DegradedMacOSNoMemoryLimit))
		}
		rep.Add("rlimits", report.Downgraded, "%s; %s", unixplan.RlimitText(plan.Rlimits), strings.Join(why, "; "))
		if in.Policy.Limits.Memory.Value > 0 {
			rep.Degraded = string(policy.DegradedMacOSNoMemoryLimit)
		}
	} else {
		rep.Add("rlimits", report.Applied, "%s", unixplan.RlimitText(plan.Rlimits))
	}
}

// LimitError says that the policy sets a limit macOS cannot enforce.
type LimitError struct{ Memory uint64 }

func (e *LimitError) Error() string {
	return fmt.Sprintf("the policy limits memory to %d bytes, which macOS cannot enforce for a command: it refuses an address-space limit below what every process already maps", e.Memory)
}

// Hint says what to do.
func (e *LimitError) Hint() string {
	return fmt.Sprintf("remove limits.memory for macOS runs, or accept the weaker mode by name with --allow-degraded=%s", policy.DegradedMacOSNoMemoryLimit)
}

func socketText(sockets []string) string {
	if len(sockets) == 0 {
		return ""
	}
	return fmt.Sprintf(" and %d granted host sockets", len(sockets))
}

// portOf returns the port of a proxy URL.
func portOf(proxyURL string) (int, error) {
	u, err := url.Parse(proxyURL)
	if err != nil || u.Port() == "" {
		return 0, fmt.Errorf("the proxy URL %q has no port", proxyURL)
	}
	host := u.Hostname()
	if host != "127.0.0.1" && host != "::1" && host != "localhost" {
		return 0, fmt.Errorf("the proxy URL %q is not on loopback", proxyURL)
	}
	return strconv.Atoi(u.Port())
}

// gen accumulates parameters while the profile is built.
type gen struct {
	params []Param
	byKey  map[string]bool
}

func (g *gen) param(key, value, why string) Value {
	if g.byKey == nil {
		g.byKey = map[string]bool{}
	}
	if !g.byKey[key] {
		g.byKey[key] = true
		g.params = append(g.params, Param{Key: key, Value: value, Why: why})
	}
	return ParamRef(key)
}

// paths adds one parameter per path and returns the filters for them: for
// each path both (literal P) and (subpath P) when sub is set, so that the
// name itself and everything below it are covered whatever the kind of
// file, or only (literal P).
func (g *gen) paths(prefix string, ps []string, why string, sub bool) []Filter {
	var out []Filter
	for i, p := range ps {
		v := g.param(fmt.Sprintf("%s_%d", prefix, i), p, why)
		out = append(out, Literal(v))
		if sub {
			out = append(out, Subpath(v))
		}
	}
	return out
}

type profileInput struct {
	roots     []string
	tmp       string
	stdio     []Stdio
	sockets   []string
	denied    []string
	protected []string
	pinned    []string
	net       netpolicy.Mode
	port      int
}

func servicesFor(net netpolicy.Mode) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range AllowedServices {
		if s.Network && net != netpolicy.ModeProxy && net != netpolicy.ModeFull {
			continue
		}
		if !seen[s.Name] {
			seen[s.Name] = true
			out = append(out, s.Name)
		}
	}
	if net == netpolicy.ModeFull {
		for _, s := range FullNetworkServices {
			if !seen[s.Name] {
				seen[s.Name] = true
				out = append(out, s.Name)
			}
		}
	}
	return out
}

// profile lays out the rules: every allow, then every deny, so that under
// Seatbelt's last-match rule an explicit deny always wins over an allow.
func (g *gen) profile(in profileInput) *Profile {
	var allow, deny []Rule
	add := func(r *[]Rule, a Action, why string, ops []string, f ...Filter) {
		*r = append(*r, Rule{Action: a, Ops: ops, Filters: f, Why: why})
	}
	ops := func(o ...string) []string { return o }

	// Processes.
	add(&allow, Allow, "Processes: the command may fork and exec; every child inherits this profile.", ops("process-fork", "process-exec"))
	add(&allow, Allow, "Signals and process information only for processes of this sandbox.", ops("signal", "process-info*"), Target("same-sandbox"))

	// Files.
	add(&allow, Allow, "Reads everywhere; the denied paths are taken back below.", ops("file-read*"))
	var w []Filter
	for i := range in.roots {
		w = append(w, Subpath(ParamRef(fmt.Sprintf("ROOT_%d", i))))
	}
	w = append(w, Subpath(ParamRef("TMPDIR")))
	add(&allow, Allow, "Writes only in the writable roots and the private temp dir.", ops("file-write*"), w...)
	var dev []Filter
	for _, d := range Devices {
		dev = append(dev, Literal(Const(d)))
	}
	add(&allow, Allow, "Device files commands write to.", ops("file-write-data", "file-ioctl"), dev...)
	add(&allow, Allow, "Descriptors the command already holds, reopened through /dev/fd (bash's process substitution).", ops("file-write-data"), Subpath(Const("/dev/fd")))
	add(&allow, Allow, "Pseudo-terminals the command opens itself (script, expect, pty tests).", ops("pseudo-tty"))
	add(&allow, Allow, "", ops("file-read*", "file-write*", "file-ioctl"), Literal(Const("/dev/ptmx")),
		RequireAll(Prefix(Const("/dev/ttys")), Extension("com.apple.sandbox.pty")))
	var term, out []Filter
	nt, no := 0, 0
	seen := map[string]bool{}
	for _, s := range in.stdio {
		if seen[s.Path] || s.Path == "" {
			continue
		}
		seen[s.Path] = true
		if s.Terminal {
			term = append(term, Literal(g.param(fmt.Sprintf("TTY_%d", nt), s.Path, fmt.Sprintf("the terminal on descriptor %d", s.FD))))
			nt++
		} else if s.FD == 1 || s.FD == 2 {
			out = append(out, Literal(g.param(fmt.Sprintf("STDIO_%d", no), s.Path, fmt.Sprintf("the file on descriptor %d", s.FD))))
			no++
		}
	}
	if len(term) > 0 {
		add(&allow, Allow, "The caller's terminal, which the command's standard descriptors hold (no other terminal).", ops("file-read-data", "file-write-data", "file-ioctl"), term...)
	}
	if len(out) > 0 {
		add(&allow, Allow, "The files the caller redirected the command's output to.", ops("file-write-data"), out...)
	}

	// Network.
	add(&allow, Allow, "Unix sockets may be created (socketpair, local IPC); where they connect is decided below.", ops("system-socket"), SocketDomain("AF_UNIX"))
	var local, remote []Filter
	for _, f := range w {
		local = append(local, LocalUnix(f))
		remote = append(remote, RemoteUnix(f))
	}
	add(&allow, Allow, "Unix sockets by path only below the writable places, where the command meets only sockets it or the workspace's owner made.", ops("network-bind", "network-inbound"), local...)
	for i, s := range in.sockets {
		remote = append(remote, RemoteUnix(Subpath(g.param(fmt.Sprintf("SOCK_%d", i), s, "host socket granted by filesystem.host_sockets"))))
	}
	add(&allow, Allow, "", ops("network-outbound"), remote...)
	switch in.net {
	case netpolicy.ModeProxy:
		add(&allow, Allow, "TCP only to cordon's proxy on loopback; it asks for the per-run secret.", ops("network-outbound"), RemoteIP(fmt.Sprintf("localhost:%d", in.port)))
	case netpolicy.ModeFull:
		// IP only: unix sockets stay limited to the writable places, as
		// Linux's socket guard keeps them in every mode; the resolver's
		// socket is the one host socket this mode adds.
		add(&allow, Allow, "network.mode = full: the host's IP network (named risk), its DNS resolver, every socket type.", ops("network-outbound"),
			RemoteIP("*:*"), RemoteUnix(Literal(Const("/private/var/run/mDNSResponder"))))
		add(&allow, Allow, "", ops("network-bind", "network-inbound"), LocalIP("*:*"))
		add(&allow, Allow, "", ops("system-socket"))
	}

	// Services.
	var svc []Filter
	for _, s := range servicesFor(in.net) {
		svc = append(svc, GlobalName(s))
	}
	add(&allow, Allow, "Mach services, each listed with its reason in docs/macos.md.", ops("mach-lookup"), svc...)
	add(&allow, Allow, "Preferences may be read through cfprefsd; user-preference-write stays refused.", ops("user-preference-read"))
	add(&allow, Allow, "Host information calls (host_processor_info: Node's os.cpus).", ops("mach-host*"))
	var sys []Filter
	for _, s := range Sysctls {
		sys = append(sys, SysctlName(s))
	}
	for _, s := range SysctlPrefixes {
		sys = append(sys, SysctlPrefix(s))
	}
	add(&allow, Allow, "sysctls runtimes read about the machine (docs/macos.md).", ops("sysctl-read"), sys...)
	add(&allow, Allow, "The JVM asks its CPU type through a sysctl that counts as a write.", ops("sysctl-write"), SysctlName("kern.grade_cputype"))
	add(&allow, Allow, "Power assertions (with com.apple.PowerManagement.control).", ops("iokit-open"), IOKitUserClient("RootDomainUserClient"))
	add(&allow, Allow, "POSIX semaphores (Python's multiprocessing).", ops("ipc-posix-sem"))
	add(&allow, Allow, "notify(3)'s shared page.", ops("ipc-posix-shm-read-data", "ipc-posix-shm-read-metadata"), IPCPosixName("apple.shm.notification_center"))

	// Denies, last.
	var esc []Filter
	for _, e := range EscalationPrograms {
		esc = append(esc, Literal(Const(e)))
	}
	add(&deny, Deny, "Programs that exist to become another user.", ops("process-exec"), esc...)
	var raw []Filter
	for _, d := range RawDevices {
		raw = append(raw, Prefix(Const(d)))
	}
	add(&deny, Deny, "Raw disks (every file's bytes), packet capture and the audit pipe, for a command run as root.", ops("file-read*", "file-write*"), raw...)
	if len(in.denied) > 0 {
		add(&deny, Deny, "Secrets: neither read, run, written, renamed nor removed.", ops("file-read*", "file-write*", "process-exec"),
			g.paths("DENY", in.denied, "denied: secret", true)...)
	}
	if len(in.protected) > 0 {
		add(&deny, Deny, "Protected paths stay read-only, and uncreatable when absent.", ops("file-write*"),
			g.paths("PROT", in.protected, "protected", true)...)
	}
	if len(in.pinned) > 0 {
		add(&deny, Deny, "Writable roots and the directories above protected and denied paths keep their names: no rename, no removal.", ops("file-write*"),
			g.paths("PIN", in.pinned, "keeps its name", false)...)
	}
	for _, c := range DeniedClasses {
		if c.Network && in.net == netpolicy.ModeFull {
			continue // the host's network, named risk: its services too
		}
		var f []Filter
		for _, s := range c.Services {
			f = append(f, GlobalName(s))
		}
		add(&deny, Deny, "Refused: "+c.Class+".", ops("mach-lookup"), f...)
	}
	return &Profile{Rules: append(allow, deny...)}
}
