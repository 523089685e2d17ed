// Package linuxplan turns a policy into the exact list of things cordon's
// Linux init applies: the mounts of the sandbox's filesystem view, the
// Landlock rules, the seccomp options, the rlimits, the environment and the
// command. It is pure: it reads the filesystem to learn what exists, but
// changes nothing, so it is tested on every system. The init that applies a
// Plan lives in internal/apply/linuxinit.
//
// # The filesystem view (namespace mode)
//
// The new root is a read-only, nosuid, nodev copy of the host's whole mount
// tree. On top of it, in this order: a fresh /proc, a minimal /dev, a private
// /tmp, empty directories over host service sockets (/run), the writable
// roots bound read-write from the host, every ancestor of a protected path
// pinned as a mount point (so it cannot be renamed away), the protected paths
// bound read-only, and the denied paths masked with unreadable empties. Paths
// inside the sandbox are the host's paths.
//
// A protected path that does not exist yet must stay uncreatable. No mount
// can be placed on a name that does not exist, so the plan reserves the name
// instead (Guard.Reserved): the init's supervisor, which makes every call
// that creates a name in the filesystem on the command's behalf (see
// internal/seccomp, Options.SuperviseFiles), refuses to create it, and the
// directory that would hold it is pinned like every ancestor of a protected
// path, so that it cannot be renamed away and replaced by one without the
// reservation. Nothing is created on the host.
//
// # Landlock
//
// Landlock is the second, independent layer for writes: read and execute
// everywhere, write only under the writable roots, the private /tmp and
// /dev/shm, and the few device files commands write to. In the weaker
// "landlock" mode (no namespaces) it is the only filesystem layer; reads of
// denied paths outside the writable roots are then refused by granting read
// access to everything except them (see complement.go), and TCP is cut.
package linuxplan

import (
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"strconv"

	"github.com/cordon-sandbox/cordon/internal/netenv"
	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// Plan is everything the init applies, in the order it applies it. It
// travels to the init as JSON.
type Plan struct {
	// Namespaces is false in the weaker "landlock" mode.
	Namespaces bool `json:"namespaces"`
	// FullAccess: no boundary at all (mode full-access).
	FullAccess bool   `json:"full_access,omitempty"`
	Hostname   string `json:"hostname,omitempty"`
	UID        int    `json:"uid"`
	GID        int    `json:"gid"`

	Mounts []Mount `json:"mounts,omitempty"`

	Network  Network  `json:"network"`
	Landlock Landlock `json:"landlock"`
	Seccomp  Seccomp  `json:"seccomp"`
	Guard    Guard    `json:"guard"`
	Rlimits  []Rlimit `json:"rlimits,omitempty"`

	Dir  string   `json:"dir"`
	Argv []string `json:"argv"`
	Env  []string `json:"env"`

	// Session: a warm sandbox, which takes its commands one after another
	// from the command socket (linuxinit.SessionFD) instead of running
	// Argv once. Set by the supervisor, not by Make.
	Session bool `json:"session,omitempty"`
}

// MountKind says what a Mount does.
type MountKind string

const (
	// BindRW binds the host path Source at Target, writable.
	BindRW MountKind = "bind-rw"
	// BindRO binds Source at Target, read-only: from the sandbox's own view
	// when they are the same path (a protected path inside a writable
	// root), from the host otherwise.
	BindRO MountKind = "bind-ro"
	// Pin binds Target onto itself, writable, so that it becomes a mount
	// point and cannot be renamed or removed from inside.
	Pin MountKind = "pin"
	// MaskDir covers Target with an empty directory nobody can read.
	MaskDir MountKind = "mask-dir"
	// MaskFile covers Target with an empty file nobody can read.
	MaskFile MountKind = "mask-file"
	// HideDir covers Target with an empty, readable, read-only directory
	// (for host service sockets).
	HideDir MountKind = "hide-dir"
	// Tmpfs mounts a private, writable tmpfs at Target.
	Tmpfs MountKind = "tmpfs"
	// Proc mounts a fresh, read-only procfs for the sandbox's PID namespace.
	Proc MountKind = "proc"
	// Dev builds a minimal /dev: null, zero, full, random, urandom, tty, a
	// private devpts and /dev/shm.
	Dev MountKind = "dev"
	// HostSocket binds the host's socket file Source at Target (the same
	// path), where the view would otherwise hide it (/run, the private
	// /tmp): a host socket the policy grants.
	HostSocket MountKind = "host-socket"
)

// Mount is one step of the filesystem view.
type Mount struct {
	Kind   MountKind `json:"kind"`
	Source string    `json:"source,omitempty"`
	Target string    `json:"target"`
	// Size caps a Tmpfs (and the /dev/shm of Dev) in bytes; 0: the
	// kernel's default, half of the RAM.
	Size uint64 `json:"size,omitempty"`
	// Why explains the step, for --explain.
	Why string `json:"why,omitempty"`
}

// Network says how the command reaches the network.
type Network struct {
	// NewNamespace: the command gets its own network namespace with only
	// loopback (every mode but full).
	NewNamespace bool `json:"new_namespace"`
	// BridgePort: the init listens on 127.0.0.1 and ::1 at this port inside
	// the namespace and hands each connection to the proxy outside.
	BridgePort int `json:"bridge_port,omitempty"`
}

// BridgePort is where a command finds the proxy inside its network
// namespace: the conventional proxy port.
const BridgePort = 3128

// ConnectorPath is where the cordon binary is bound inside the sandbox, so
// that ssh can use it as its ProxyCommand wherever the host keeps it.
const ConnectorPath = "/run/cordon/cordon"

// Landlock is the Landlock ruleset. Rights are applied as far as the kernel's
// ABI allows; what it does not allow is in the enforcement report.
type Landlock struct {
	Enabled bool `json:"enabled"`
	// ReadExec paths get read, list and execute rights below them.
	ReadExec []string `json:"read_exec,omitempty"`
	// List paths get only the right to list directories below them: the
	// ancestors of denied paths in the weaker mode, which must stay
	// listable while their denied child stays unreadable.
	List []string `json:"list,omitempty"`
	// Write paths get every filesystem right below them.
	Write []string `json:"write,omitempty"`
	// Devices get write and ioctl rights (they are opened, never created).
	Devices []string `json:"devices,omitempty"`
	// DenyTCP refuses every TCP bind and connect (no network namespace),
	// except connecting to ConnectPort.
	DenyTCP     bool `json:"deny_tcp,omitempty"`
	ConnectPort int  `json:"connect_port,omitempty"`
	// Scoped refuses signals and abstract unix sockets to processes outside
	// the sandbox.
	Scoped bool `json:"scoped,omitempty"`
	// ProbeDir is a directory the init may write at the mount level but not
	// under Landlock; it proves that Landlock is in force.
	ProbeDir string `json:"probe_dir,omitempty"`
}

// Seccomp says which optional groups of the seccomp filter are on; the
// baseline is always on.
type Seccomp struct {
	Enabled              bool `json:"enabled"`
	DenyNetworkExceptTCP bool `json:"deny_network_except_tcp,omitempty"`
	// Supervise hands connect and bind to the init's supervisor (Guard),
	// and refuses unix datagram sockets.
	Supervise bool `json:"supervise,omitempty"`
	// SuperviseFiles also hands it every call that creates a name in the
	// filesystem, so that reserved names stay uncreatable.
	SuperviseFiles bool `json:"supervise_files,omitempty"`
}

// Guard is what the init's supervisor decides for the system calls the
// seccomp guard hands it. The supervisor makes each call itself, from a copy
// of its arguments, so that the command cannot change them after the check.
type Guard struct {
	// SocketPlaces are the directories below which the command may connect
	// to a unix socket by its path: the sandbox's own writable places, where
	// it can only meet sockets it (or the workspace's owner) made.
	SocketPlaces []string `json:"socket_places,omitempty"`
	// SocketGrants are host sockets the policy grants by path
	// (filesystem.host_sockets).
	SocketGrants []string `json:"socket_grants,omitempty"`
	// PrivateAbstract: the command has a network namespace of its own, so
	// the abstract unix socket names it can reach are the sandbox's own.
	// Without one they are the host's, and connecting to them is refused.
	PrivateAbstract bool `json:"private_abstract,omitempty"`
	// Reserved are paths that must not come into existence: the absent
	// protected paths (the first missing component of each). The
	// supervisor refuses every call that would create one.
	Reserved []string `json:"reserved,omitempty"`
	// Pinned are directories that must not be renamed: every directory
	// between a writable root and a protected path. The mounts pin them too
	// where there are mounts; without, the supervisor's rename is the pin.
	Pinned []string `json:"pinned,omitempty"`
	// Protected are the existing protected paths, for the mode without
	// mounts: the supervisor refuses to write, create in, rename or link
	// over them. With mounts they are read-only binds instead.
	Protected []string `json:"protected,omitempty"`
	// Roots are the writable roots that outlive the run (not the private
	// temp dir): git repositories made in them are checked when it ends.
	Roots []string `json:"roots,omitempty"`
	// Cache is the private tool cache among the Roots: the sandbox's own
	// Python writes its byte code there (PYTHONPYCACHEPREFIX), which no
	// Python of the user's reads.
	Cache string `json:"cache,omitempty"`
}

// Rlimit is one resource limit (soft = hard), with Linux's resource number.
type Rlimit = unixplan.Rlimit

// Input is what the plan is made from.
type Input struct {
	Policy    *policy.Policy
	Workspace string // canonical
	Dir       string // working directory; defaults to Workspace
	Home      string
	UID, GID  int
	// CacheDir is the workspace's private tool cache on the host (created by
	// the caller); empty in read-only mode.
	CacheDir string
	// PolicyFiles are the policy files in use; they are protected.
	PolicyFiles []string
	// Degraded is the weaker mode in use, or "".
	Degraded policy.Degraded
	// TmpDir is the private temp dir on the host, used when there is no
	// mount namespace to give a private /tmp.
	TmpDir string
	// HostServices are host socket paths to hide beyond /run (for example
	// the caller's SSH_AUTH_SOCK).
	HostServices []string
	// Private are cordon's own paths, masked like secrets whatever the
	// policy says: its state (grants, locks, the audit trail) must be
	// neither readable nor writable from inside.
	Private []string
	Argv    []string
	// Env is the caller's environment after the policy's filter.
	Env []string
	// ProxyURL is the proxy a command without a network namespace uses
	// (the weaker mode): http://cordon:SECRET@127.0.0.1:PORT.
	ProxyURL string
	// Cordon is the cordon binary on the host, bound at ConnectorPath.
	Cordon string
	FS     FS
}

// Shape is what has to be known before the init starts, and so before the
// plan: which namespaces it gets and whether it bridges the network. Make
// takes a plan's namespaces and bridge from ShapeOf, so a plan always has
// the shape of the init launched for it.
type Shape struct {
	Namespaces bool
	NewNetwork bool
	Bridge     bool
}

// ShapeOf returns the shape of the plans for a policy in a mode.
func ShapeOf(p *policy.Policy, degraded policy.Degraded) Shape {
	if p.Mode.Value == policy.ModeFullAccess || degraded == policy.DegradedLandlock {
		return Shape{}
	}
	net := p.Network.Value.Mode
	return Shape{Namespaces: true, NewNetwork: net != netpolicy.ModeFull, Bridge: net == netpolicy.ModeProxy}
}

// Shape returns the plan's shape.
func (p *Plan) Shape() Shape {
	return Shape{Namespaces: p.Namespaces, NewNetwork: p.Network.NewNamespace, Bridge: p.Network.BridgePort > 0}
}

// Make builds the plan and the enforcement report it promises.
func Make(in Input) (*Plan, *report.Report, error) {
	if len(in.Argv) == 0 {
		return nil, nil, fmt.Errorf("no command given")
	}
	bd, err := MakeBoundary(in)
	if err != nil {
		return nil, nil, err
	}
	return bd.Command(in.Argv, in.Env, in.Dir)
}

// A Boundary is a plan without its command: all that Make decides from
// the policy, the host and the filesystem, none of which depends on the
// command's argv, environment or working directory. A warm session keeps
// one while the filesystem it read is unchanged and completes it for each
// command with Command.
type Boundary struct {
	plan Plan // no Argv, Env or Dir
	rep  report.Report
	// What the command's environment is made with.
	tmp, cacheDir, workspace string
	proxyEnv                 map[string]string
}

// MakeBoundary builds everything of in's plan but the command's own part;
// in.Argv, in.Env and in.Dir are not read.
func MakeBoundary(in Input) (*Boundary, error) {
	if in.FS == nil {
		in.FS = OSFS{}
	}
	p := in.Policy
	mode := p.Mode.Value
	bd := &Boundary{rep: report.Report{Mode: string(mode), Degraded: string(in.Degraded)}, cacheDir: in.CacheDir, workspace: in.Workspace}
	rep := &bd.rep
	plan := &bd.plan
	plan.UID, plan.GID = in.UID, in.GID

	if mode == policy.ModeFullAccess {
		plan.FullAccess = true
		for _, l := range []string{"namespaces", "filesystem", "landlock", "seccomp"} {
			rep.Add(l, report.Off, "mode full-access: no boundary")
		}
		rep.Add("environment", report.Applied, "filtered by the policy")
		plan.Rlimits = rlimits(p)
		return bd, nil
	}

	fsys := FS(newAbsentCache(in.FS))
	b := &builder{in: in, fs: fsys, host: host(fsys)}
	roots, err := b.writableRoots()
	if err != nil {
		return nil, err
	}
	// The workspace is searched for secrets in read-only mode too, where
	// it is no writable root.
	denied, err := b.denied(unixplan.Dedupe(append([]string{in.Workspace}, roots...)))
	if err != nil {
		return nil, err
	}
	protected, absent, err := b.protected(roots)
	if err != nil {
		return nil, err
	}
	plan.Guard.Reserved = absent
	plan.Guard.Roots = roots
	plan.Guard.Cache = b.in.CacheDir
	plan.Guard.Pinned = pinsOf(append(append([]string{}, protected...), absent...), roots)
	// A directory that holds a masked secret must not be renamed either:
	// moved below a directory the next run does not search (node_modules),
	// the secret would be readable then.
	plan.Guard.Pinned = unixplan.Dedupe(append(plan.Guard.Pinned, pinsOf(unixplan.Within(denied, roots), roots)...))

	grants, err := b.host.SocketGrants(p.Filesystem.HostSockets, denied)
	if err != nil {
		return nil, err
	}
	plan.Guard.SocketGrants = grants

	tmp := "/tmp"
	if in.Degraded == policy.DegradedLandlock {
		if in.TmpDir == "" {
			return nil, fmt.Errorf("the landlock mode needs a private temp dir on the host")
		}
		tmp = in.TmpDir
	}
	netMode := p.Network.Value.Mode
	if netMode == "" {
		netMode = netpolicy.ModeOff
	}
	var proxyEnv map[string]string
	plan.Rlimits = rlimits(p)
	plan.Seccomp = Seccomp{Enabled: true, Supervise: true, SuperviseFiles: true}

	if in.Degraded == policy.DegradedLandlock {
		plan.Guard.Protected = protected
		var outside []string
		for _, d := range denied {
			if !unixplan.InAny(d, roots) {
				outside = append(outside, d)
			}
		}
		readable, listable := complement(in.FS, outside)
		plan.Landlock = Landlock{
			Enabled:  true,
			ReadExec: readable,
			List:     listable,
			Write:    append(append([]string{}, roots...), tmp),
			Devices:  devices,
			DenyTCP:  true,
			Scoped:   true,
		}
		plan.Guard.SocketPlaces = append(append([]string{}, roots...), tmp)
		switch netMode {
		case netpolicy.ModeOff:
			plan.Seccomp.DenyNetworkExceptTCP = true
			rep.Add("network", report.Downgraded, "no network namespace: TCP refused by Landlock, other sockets by seccomp")
		case netpolicy.ModeProxy:
			port, err := portOf(in.ProxyURL)
			if err != nil {
				return nil, err
			}
			plan.Landlock.ConnectPort = port
			plan.Seccomp.DenyNetworkExceptTCP = true
			proxyEnv = netenv.ClientEnv(in.ProxyURL)
			rep.Add("network", report.Downgraded, "proxy on the host's loopback port %d with a per-run secret; without a network namespace Landlock can only restrict by port, so TCP to port %d of any address is not refused; other sockets refused by seccomp", port, port)
		case netpolicy.ModeFull:
			plan.Landlock.DenyTCP = false
			rep.Add("network", report.Off, "network.mode = full: the host's network, unfiltered (named risk)")
		}
		rep.Add("namespaces", report.Missing, "weaker mode %q: no user, mount, PID, network, IPC or UTS namespaces", in.Degraded)
		rep.Add("filesystem", report.Downgraded, "no mount namespace: writes confined by Landlock; %d existing protected paths kept read-only and %d absent ones uncreatable by cordon's supervisor, their parents not renamable (files inside them can still be deleted); the private temp dir is a directory on the host's disk (limits.tmp_size does not apply); NOT enforced: deny-read inside writable roots", len(protected), len(absent))
		rep.Add("landlock", report.Applied, "read everywhere except %d denied paths; write only in %d roots and %s; TCP refused", len(outside), len(roots), tmp)
		rep.Add("processes", report.Downgraded, "no PID namespace: processes outside are visible; signals and ptrace to them refused by Landlock scopes and seccomp")
	} else {
		// The namespaces and the bridge are the shape the init was
		// launched with, before this plan was made: one definition.
		shape := ShapeOf(p, in.Degraded)
		plan.Namespaces = shape.Namespaces
		plan.Hostname = "cordon"
		plan.Mounts = b.mounts(roots, protected, plan.Guard.Pinned, denied)
		for _, g := range grants {
			if !unixplan.InAny(g, roots) {
				plan.Mounts = append(plan.Mounts, Mount{Kind: HostSocket, Source: g, Target: g, Why: "host socket granted by filesystem.host_sockets"})
			}
		}
		plan.Network.NewNamespace = shape.NewNetwork
		if shape.Bridge {
			plan.Network.BridgePort = BridgePort
		}
		switch netMode {
		case netpolicy.ModeOff:
			rep.Add("network", report.Applied, "empty network namespace: loopback only, no way out")
		case netpolicy.ModeProxy:
			proxyEnv = netenv.ClientEnv(fmt.Sprintf("http://127.0.0.1:%d", BridgePort))
			if in.Cordon != "" {
				plan.Mounts = append(plan.Mounts, Mount{Kind: BindRO, Source: in.Cordon, Target: ConnectorPath, Why: "cordon itself, as ssh's ProxyCommand"})
				proxyEnv["GIT_SSH_COMMAND"] = netenv.SSHCommand(ConnectorPath)
			}
			rep.Add("network", report.Applied, "network namespace with loopback only; out only through cordon's proxy (127.0.0.1:%d inside), to %s; no DNS inside", BridgePort,
				unixplan.AllowedText(len(p.Network.Value.Allow)+len(p.Network.Value.AllowPrivate)+len(p.Network.Value.TCP), p.Network.Value.Presets))
		case netpolicy.ModeFull:
			rep.Add("network", report.Off, "network.mode = full: the host's network, unfiltered, including its abstract unix sockets (named risk)")
		}
		plan.Guard.SocketPlaces = append(append([]string{}, roots...), "/tmp", "/dev/shm")
		plan.Guard.PrivateAbstract = plan.Network.NewNamespace
		plan.Landlock = Landlock{
			Enabled:  true,
			ReadExec: []string{"/"},
			Write:    append(append([]string{}, roots...), "/tmp", "/dev/shm"),
			Devices:  devices,
			Scoped:   true,
			ProbeDir: "/dev",
		}
		rep.Add("namespaces", report.Applied, "user, mount, PID, network, IPC and UTS")
		rep.Add("filesystem", report.Applied, "read-only root; %d writable roots; %d protected paths read-only and %d absent ones uncreatable; %d denied paths masked", len(roots), len(protected), len(absent), len(denied))
		rep.Add("landlock", report.Applied, "second layer: writes only in the writable roots, /tmp and /dev/shm")
		rep.Add("processes", report.Applied, "own PID namespace; everything is killed when the command ends")
	}
	bd.tmp, bd.proxyEnv = tmp, proxyEnv
	rep.Add("seccomp", report.Applied, "baseline filter (ptrace, namespaces, mount, keyring, bpf, io_uring, TIOCSTI/TIOCLINUX, foreign ABIs, unix datagram sockets)")
	rep.Add("unix-sockets", report.Applied, "%s", guardText(plan.Guard))
	rep.Add("privileges", report.Applied, "no_new_privs; all capabilities dropped; new session")
	rep.Add("environment", report.Applied, "filtered by the policy")
	rep.Add("rlimits", report.Applied, "%s", unixplan.RlimitText(plan.Rlimits))
	return bd, nil
}

// Command completes the boundary for one command: argv, the environment
// after the policy's filter, and the working directory (the workspace
// when empty). The plan and report are the caller's; their slices other
// than Argv and Env are the Boundary's, shared by every command made from
// it, and must not be changed.
func (bd *Boundary) Command(argv, env []string, dir string) (*Plan, *report.Report, error) {
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("no command given")
	}
	if dir == "" {
		dir = bd.workspace
	}
	if !unixplan.Under(dir, "/") {
		return nil, nil, fmt.Errorf("working directory %s is outside the sandbox", dir)
	}
	plan := bd.plan
	plan.Argv, plan.Dir = argv, dir
	if plan.FullAccess {
		plan.Env = env
	} else {
		plan.Env = unixplan.ToolEnv(env, bd.tmp, bd.cacheDir, dir, bd.proxyEnv)
	}
	rep := bd.rep
	rep.Layers = slices.Clone(bd.rep.Layers)
	return &plan, &rep, nil
}

// devices are the device files a command may write (and ioctl).
var devices = []string{"/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/pts", "/dev/random", "/dev/urandom", "/dev/ptmx"}

type builder struct {
	in   Input
	fs   FS
	host unixplan.Host
}

// sizeText says what caps an in-memory file system (limits.tmp_size).
func sizeText(what string, size uint64) string {
	if size == 0 {
		return what + " (in memory, up to half of the RAM)"
	}
	return fmt.Sprintf("%s (in memory, at most %d MiB)", what, size>>20)
}

// writableRoots returns the canonical writable roots: the workspace, the
// policy's extra roots and the private cache. Read-only mode has none.
func (b *builder) writableRoots() ([]string, error) {
	p := b.in.Policy
	if p.Mode.Value == policy.ModeReadOnly {
		return nil, nil
	}
	roots := []string{b.in.Workspace}
	for _, it := range p.Filesystem.Writable {
		real, err := b.fs.EvalSymlinks(it.Value)
		if err != nil {
			return nil, &InputError{Msg: fmt.Sprintf("writable root %s (from %s) does not exist", it.Value, it.From),
				Fix: fmt.Sprintf("create it (mkdir -p %s) or remove it from the policy", it.Value)}
		}
		roots = append(roots, real)
	}
	if b.in.CacheDir != "" {
		roots = append(roots, b.in.CacheDir)
	}
	return unixplan.Dedupe(roots), nil
}

// protected returns the protected paths inside the writable roots that
// exist, and those that do not (the first missing component of each), in
// the order unixplan's Host.Protected finds them. The paths a repository's
// git config names (unixplan's Host.GitConfigTargets) are protected too.
func (b *builder) protected(roots []string) (existing, absent []string, err error) {
	named, err := b.host.GitConfigTargets(unixplan.GitConfigInput{
		Roots: roots, Cache: b.in.CacheDir, Home: b.in.Home, Workspace: b.in.Workspace})
	if err != nil {
		return nil, nil, err
	}
	paths, missing, err := b.host.Protected(unixplan.ProtectInput{
		Protected:   b.in.Policy.Filesystem.Protected,
		PolicyFiles: b.in.PolicyFiles,
		Extra:       named,
		Roots:       roots,
		Cache:       b.in.CacheDir,
	})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range paths {
		if missing[p] {
			absent = append(absent, p)
		} else {
			existing = append(existing, p)
		}
	}
	return existing, absent, nil
}

// pinsOf returns the directories between each protected path and its
// writable root, which must not be renamed (the root itself is a mount).
func pinsOf(protected, roots []string) []string {
	return unixplan.SortedByDepth(unixplan.Ancestors(protected, roots))
}

// mounts lays out the filesystem view.
func (b *builder) mounts(roots, protected, pins, denied []string) []Mount {
	ms := []Mount{
		{Kind: Proc, Target: "/proc", Why: "fresh /proc for the PID namespace"},
		{Kind: Dev, Target: "/dev", Size: b.in.Policy.Limits.TmpSize.Value, Why: "minimal /dev" + sizeText(", /dev/shm", b.in.Policy.Limits.TmpSize.Value)},
		{Kind: Tmpfs, Target: "/tmp", Size: b.in.Policy.Limits.TmpSize.Value, Why: "private /tmp" + sizeText("", b.in.Policy.Limits.TmpSize.Value)},
	}
	hidden := []string{"/run", "/var/run"}
	hidden = append(hidden, b.in.HostServices...)
	for _, h := range hidden {
		fi, err := b.fs.Lstat(h)
		if err != nil || fi.Mode()&fs.ModeSymlink != 0 {
			continue // /var/run is usually a link into /run
		}
		if unixplan.Under(h, "/tmp") || unixplan.Under(h, "/dev") {
			continue // already private
		}
		kind := HideDir
		if !fi.IsDir() {
			kind = MaskFile
		}
		ms = append(ms, Mount{Kind: kind, Target: h, Why: "host services (sockets) are not reachable"})
	}
	for _, r := range roots {
		ms = append(ms, Mount{Kind: BindRW, Source: r, Target: r, Why: "writable root"})
	}
	for _, a := range pins {
		ms = append(ms, Mount{Kind: Pin, Target: a, Why: "ancestor of a protected path: cannot be renamed"})
	}
	for _, p := range unixplan.SortedByDepth(protected) {
		ms = append(ms, Mount{Kind: BindRO, Source: p, Target: p, Why: "protected"})
	}
	for _, d := range unixplan.SortedByDepth(denied) {
		kind := MaskDir
		if fi, err := b.fs.Stat(d); err == nil && !fi.IsDir() {
			kind = MaskFile
		}
		ms = append(ms, Mount{Kind: kind, Target: d, Why: "denied: secret"})
	}
	return ms
}

// guardText describes the unix socket rules for the enforcement report.
func guardText(g Guard) string {
	text := fmt.Sprintf("connect(2) made by cordon's supervisor: sockets by path only below %d writable places", len(g.SocketPlaces))
	if len(g.SocketGrants) > 0 {
		text += fmt.Sprintf(" and %d granted host sockets", len(g.SocketGrants))
	}
	if g.PrivateAbstract {
		text += "; abstract sockets are the sandbox's own"
	} else {
		text += "; abstract sockets refused (they would be the host's)"
	}
	return text
}

// portOf returns the port of a proxy URL.
func portOf(proxyURL string) (int, error) {
	u, err := url.Parse(proxyURL)
	if err != nil || u.Port() == "" {
		return 0, fmt.Errorf("the proxy URL %q has no port", proxyURL)
	}
	return strconv.Atoi(u.Port())
}

func rlimits(p *policy.Policy) []Rlimit {
	// RLIMIT_NPROC is a second layer under the run's cgroup (and the only
	// one where there is none): the kernel counts it per user namespace.
	// memory is a cgroup limit only (internal/cgroup): RLIMIT_AS, address
	// space, would break the runtimes that reserve large ranges (Go, the
	// JVM, V8) long before resident memory runs out.
	return unixplan.Rlimits(rlimitNumbers, p.Limits, p.Limits.MaxProcesses.Value)
}

// rlimitNumbers are the resource numbers, the same on every Linux
// architecture cordon builds for.
var rlimitNumbers = unixplan.Resources{Fsize: 1, Core: 4, Nproc: 6, Nofile: 7}

// InputError is a problem with the inputs of a plan that the user can fix.
type InputError = unixplan.InputError
