package winplan

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// The elevated mode's run (issue 15, point 2). cordon, unelevated, starts
// the runner (its own executable, "cordon windows runner") as the sandbox
// account with CreateProcessWithLogonW; the runner derives a
// write-restricted token from its own ([RunnerTokenSpec]) and starts the
// command with it, on a desktop of its own, in a job of its own. Two
// checks then hold every write: the normal pass, against the sandbox
// account (which may write only where the sandbox group is granted: the
// writable roots), and the restricted pass, against the capability SIDs (so
// one workspace's command cannot write another's, nor a protected path).
// Reads are the sandbox account's: the user's profile, other users' files
// and the deny-read paths are not readable.
//
// Why two processes: CreateProcessWithLogonW cannot take a restricted
// token, and giving CreateProcessAsUser another user's token needs
// SeAssignPrimaryTokenPrivilege, which an unelevated cordon lacks; a
// restricted copy of the caller's own token needs none
// (the Codex design review this project started from, its section 6.4).
//
// What passes between them: the runner's standard input, output and error
// are three anonymous pipes cordon holds the other ends of. cordon first
// writes the request ([RunnerRequest], framed by [WriteRunnerRequest]) into
// the input pipe, then copies the command's input after it; the runner
// reads the frame and not a byte more, so the rest of the pipe is the
// command's input, and it hands its three handles to the command. The
// command's exit code is the runner's; a failure of the runner itself is
// [RunnerFailed] with the reason on standard error (prefixed
// [RunnerErrorPrefix]). Pipes rather than the caller's own handles because
// the runner gets a console of its own, in which cordon's console handles
// mean nothing; named pipes (Codex's choice) would need a name, a DACL and a
// client check that anonymous pipes do not.

// Network modes of the policy, as netproxy names them.
const (
	NetworkOff   = "off"
	NetworkProxy = "proxy"
	NetworkFull  = "full"
)

// AccountFor decides which sandbox account runs a command under the
// policy's network mode: cordon-offline, whose outbound traffic the
// firewall blocks except TCP to the proxy ports on loopback, for "off" and
// "proxy"; cordon-online, which has no firewall rules, only for "full", the
// policy's accepted risk of unrestricted network.
func AccountFor(network string) (string, error) {
	switch network {
	case NetworkOff, NetworkProxy, "":
		return OfflineUser, nil
	case NetworkFull:
		return OnlineUser, nil
	}
	return "", fmt.Errorf("unknown network mode %q", network)
}

// SandboxAccount is the elevated mode's account one run uses, as the setup
// ledger records it.
type SandboxAccount struct {
	Name string
	SID  SID
	// Group is the sandbox group's SID: the ACEs that let the sandbox
	// accounts read and write name it, not each account.
	Group SID
}

func (a *SandboxAccount) check() error {
	if a.Name == "" || a.SID == "" || a.Group == "" || a.SID == a.Group {
		return fmt.Errorf("the sandbox account %q (SID %q, group %q) is incomplete; run \"cordon windows setup\" again", a.Name, a.SID, a.Group)
	}
	for _, s := range []SID{a.SID, a.Group} {
		if s == Everyone || s == LocalSystem || IsLogonSID(s) || !strings.HasPrefix(string(s), "S-1-5-21-") {
			return fmt.Errorf("%q is not a local account's or group's SID", s)
		}
	}
	return nil
}

// Masks the elevated mode grants the sandbox group.
const (
	// SandboxReadMask lets the sandbox accounts read and run what is below
	// a read-only root, and run cordon's own executable as the runner.
	SandboxReadMask = FileGenericRead | FileGenericExecute
)

// Reasons of the elevated mode's ACEs.
const (
	ReasonSandboxRoot     = "writable root, for the sandbox users"
	ReasonSandboxReadRoot = "read-only root, for the sandbox users"
	ReasonSandboxRunner   = "cordon's executable, run by the sandbox users as the runner"
	ReasonDenyRead        = "deny-read path, for the sandbox users"
)

// DenyReadGrants are the deny ACEs that keep the sandbox group from reading
// (and changing) paths: SandboxDenyMask on each existing, plain (no pattern), not
// reparse-point path, inherited below a directory (OI|CI), so that what is
// created inside later is denied too. A deny ACE is what the normal pass
// sees, and reads are decided by the normal pass alone, so a deny for a
// group the sandbox accounts are enabled members of binds them; the
// installing user is no member and keeps reading. Missing paths get none
// (cordon does not create secrets; the next run's plan covers one that
// appears), and neither do links: the ACE would land on the link's target,
// which the policy did not name; the list of what was left out is returned.
func DenyReadGrants(fs FS, group SID, paths []string) (grants []Grant, skipped []string, err error) {
	if group == "" {
		return nil, nil, errors.New("deny-read ACEs need the sandbox group's SID")
	}
	seen := map[string]bool{}
	for _, p := range paths {
		if strings.ContainsAny(p, "*?[") {
			skipped = append(skipped, p)
			continue
		}
		c, err := CleanPath(p)
		if err != nil {
			skipped = append(skipped, p)
			continue
		}
		if seen[mustKey(c)] {
			continue
		}
		seen[mustKey(c)] = true
		info, err := fs.Lstat(c)
		if err != nil || !info.Exists || info.Reparse {
			skipped = append(skipped, c)
			continue
		}
		flags := uint8(0)
		if info.Dir {
			flags = InheritAll
		}
		grants = append(grants, Grant{
			Object: Object{Path: c},
			ACE:    ACE{Type: Deny, Flags: flags, Mask: SandboxDenyMask, SID: group},
			Reason: ReasonDenyRead,
		})
	}
	return grants, skipped, nil
}

// planElevated adds what the elevated mode needs beyond the capability
// SIDs' ACEs: the sandbox group's allow on each writable root (the normal
// pass; the restricted pass still needs the root's capability SID), read
// on the workspace when it is no writable root, read and execute on the
// runner, and the deny-read ACEs. Deny ACEs go before the allow ACEs.
func (p *Plan) planElevated(fs FS, in Input) error {
	a := p.Elevated
	var denies, allows []Grant
	dr, skipped, err := DenyReadGrants(fs, a.Group, in.DenyRead)
	if err != nil {
		return err
	}
	denies = append(denies, dr...)
	p.DenyReadSkipped = skipped
	for _, r := range p.Roots {
		allows = append(allows, Grant{
			Object: Object{Path: r.Path},
			ACE:    ACE{Type: Allow, Flags: InheritAll, Mask: RootAllowMask, SID: a.Group},
			Reason: ReasonSandboxRoot,
		})
	}
	if !p.insideRoot(p.Workspace) {
		allows = append(allows, Grant{
			Object: Object{Path: p.Workspace},
			ACE:    ACE{Type: Allow, Flags: InheritAll, Mask: SandboxReadMask, SID: a.Group},
			Reason: ReasonSandboxReadRoot,
		})
	}
	if in.Runner == "" {
		return errors.New("the elevated mode needs the path of cordon's executable, which the sandbox account runs as the runner")
	}
	runner, err := CleanPath(in.Runner)
	if err != nil {
		return fmt.Errorf("cordon's executable: %w", err)
	}
	if p.insideRoot(runner) {
		return refusef("cordon's executable %s lies inside a writable root, where the command could replace the "+
			"runner that restricts it; install cordon outside the workspace", runner)
	}
	p.Runner = runner
	allows = append(allows, Grant{
		Object: Object{Path: runner},
		ACE:    ACE{Type: Allow, Mask: SandboxReadMask, SID: a.Group},
		Reason: ReasonSandboxRunner,
		// Satisfied when the sandbox accounts can already read and run it
		// (C:\Program Files grants Users that).
		AnyOf: []SID{a.Group, Users, AuthenticatedUsers, Everyone},
	})
	// Denies first (with the plan's other denies), allows last.
	i := slices.IndexFunc(p.ACL.Grants, func(g Grant) bool { return g.ACE.Type == Allow })
	if i < 0 {
		i = len(p.ACL.Grants)
	}
	grants := slices.Concat(p.ACL.Grants[:i], denies, p.ACL.Grants[i:], allows)
	p.ACL.Grants = dedupeGrants(grants)
	return nil
}

// Well-known groups the elevated mode's runner grant counts as reaching
// the sandbox accounts.
const (
	Users              SID = "S-1-5-32-545"
	AuthenticatedUsers SID = "S-1-5-11"
)

// RunnerArgs are the arguments cordon starts its own executable with as the
// runner (a hidden command).
var RunnerArgs = []string{"windows", "runner"}

// RunnerCommandLine is the runner's command line: cordon's executable,
// quoted as CommandLineToArgvW reads it, and [RunnerArgs]. Nothing else:
// the request travels on the runner's standard input.
func RunnerCommandLine(exe string) string {
	return CommandLine(append([]string{exe}, RunnerArgs...))
}

// RunnerEnv is the runner's own environment: the few variables Windows
// itself needs (the runner loads no user configuration); the command gets
// the environment of the request, not this one.
func RunnerEnv(host []string) []string {
	var out []string
	for _, kv := range host {
		name, _, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		for _, want := range []string{"SystemRoot", "windir", "SystemDrive"} {
			if strings.EqualFold(name, want) {
				out = append(out, kv)
			}
		}
	}
	return out
}

// RunnerFailed is the runner's exit code when it could not start the
// command (its reason is on standard error after [RunnerErrorPrefix]). A
// command that itself exits with this code is reported as such only when
// no such line came.
const RunnerFailed = 0xC0DD0001

// RunnerErrorPrefix starts the runner's own error line on standard error.
const RunnerErrorPrefix = "cordon windows runner: "

// RunnerRequest is what cordon asks the runner to start.
type RunnerRequest struct {
	Version int `json:"version"`
	// Caps are the active roots' capability SIDs and Instance the run's
	// instance SID, the restricting SIDs of the command's token with
	// Everyone.
	Caps     []SID `json:"caps"`
	Instance SID   `json:"instance"`
	// App is the command's executable, resolved by cordon; CommandLine its
	// command line; Env its whole environment; Dir its working directory.
	App         string   `json:"app"`
	CommandLine string   `json:"command_line"`
	Env         []string `json:"env"`
	Dir         string   `json:"dir"`
	Job         JobSpec  `json:"job"`
}

// RunnerProtocol is the version of the request.
const RunnerProtocol = 1

// MaxRunnerRequest bounds a request frame: the environment block of a
// process is at most 32 767 characters, and the rest is small.
const MaxRunnerRequest = 1 << 20

// NewRunnerRequest builds the request for one command of plan, with the
// run's instance SID, the command's resolved executable and arguments, its
// environment and working directory.
func (p *Plan) NewRunnerRequest(instance SID, app string, args, env []string, dir string) (RunnerRequest, error) {
	r := RunnerRequest{Version: RunnerProtocol, Caps: p.CapabilitySIDs(), Instance: instance, App: app,
		CommandLine: CommandLine(args), Env: env, Dir: dir, Job: p.Job}
	return r, r.Check()
}

// Check refuses a request the runner must not carry out: the runner
// restricts itself only as far as the request says, so a request without
// capability SIDs' form or with a reused instance SID is not run.
func (r *RunnerRequest) Check() error {
	if r.Version != RunnerProtocol {
		return fmt.Errorf("runner request version %d, this runner speaks %d (cordon and its runner are different builds?)", r.Version, RunnerProtocol)
	}
	for _, c := range r.Caps {
		if !IsCapabilitySID(c) {
			return fmt.Errorf("runner request: %q is not a capability SID", c)
		}
	}
	if !IsCapabilitySID(r.Instance) || slices.Contains(r.Caps, r.Instance) {
		return fmt.Errorf("runner request: %q is not a fresh instance SID", r.Instance)
	}
	if _, err := CleanPath(r.App); err != nil {
		return fmt.Errorf("runner request: the command's executable must be an absolute path: %w", err)
	}
	if _, err := CleanPath(r.Dir); err != nil {
		return fmt.Errorf("runner request: the working directory must be an absolute path: %w", err)
	}
	if r.CommandLine == "" {
		return errors.New("runner request: empty command line")
	}
	if _, err := EnvBlock(r.Env); err != nil {
		return fmt.Errorf("runner request: %w", err)
	}
	if r.Job.LimitFlags&JobLimitKillOnJobClose == 0 || r.Job.LimitFlags&(JobLimitBreakawayOK|JobLimitSilentBreakawayOK) != 0 {
		return errors.New("runner request: the job would let processes outlive the runner (no KILL_ON_JOB_CLOSE, or breakaway allowed)")
	}
	return nil
}

// WriteRunnerRequest writes r as one frame: its length as 4 bytes, little
// endian, then its JSON.
func WriteRunnerRequest(w io.Writer, r RunnerRequest) error {
	if err := r.Check(); err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if len(data) > MaxRunnerRequest {
		return fmt.Errorf("the runner request is %d bytes, more than %d (is the environment that large?)", len(data), MaxRunnerRequest)
	}
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(data)))
	if _, err := w.Write(append(n[:], data...)); err != nil {
		return fmt.Errorf("sending the runner its request: %w", err)
	}
	return nil
}

// ReadRunnerRequest reads one frame from r and not a byte more (what
// follows is the command's input), and checks the request.
func ReadRunnerRequest(r io.Reader) (RunnerRequest, error) {
	var req RunnerRequest
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return req, fmt.Errorf("reading the request's length: %w", err)
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size == 0 || size > MaxRunnerRequest {
		return req, fmt.Errorf("a request of %d bytes is not one cordon sends", size)
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(r, data); err != nil {
		return req, fmt.Errorf("reading the request: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, fmt.Errorf("decoding the request: %w", err)
	}
	return req, req.Check()
}

// ElevatedSetupFor checks a setup ledger for a run as account: the setup
// is complete (ElevatedReady), the account and the group are recorded with
// their SIDs, and the account's password is there. It returns the account.
// accountsExist says whether the system still knows the accounts.
func ElevatedSetupFor(led *SetupLedger, account string, accountsExist bool) (SandboxAccount, []byte, error) {
	if led == nil {
		return SandboxAccount{}, nil, ElevatedReady(nil, false)
	}
	if err := ElevatedReady(led.Steps, accountsExist); err != nil {
		return SandboxAccount{}, nil, err
	}
	a := SandboxAccount{Name: account, Group: led.Group}
	var pw []byte
	for _, acc := range led.Accounts {
		if acc.Name == account {
			a.SID, pw = acc.SID, acc.Password
		}
	}
	if len(pw) == 0 {
		return a, nil, fmt.Errorf("%w: the setup ledger holds no password for %s; run \"cordon windows setup\" again", ErrSetupMissing, account)
	}
	if err := a.check(); err != nil {
		return a, nil, fmt.Errorf("%w: %v", ErrSetupMissing, err)
	}
	return a, pw, nil
}

// elevatedFacts replaces the facts the unelevated mode cannot claim with
// what the elevated mode's separate account gives.
func (p *Plan) elevatedFacts(facts []Fact) []Fact {
	a := p.Elevated
	set := func(layer string, st Status, detail string) {
		for i := range facts {
			if facts[i].Layer == layer {
				facts[i].Status, facts[i].Detail = st, detail
				return
			}
		}
		facts = append(facts, Fact{Layer: layer, Status: st, Detail: detail})
	}
	denied := 0
	for _, g := range p.ACL.Grants {
		if g.Reason == ReasonDenyRead {
			denied++
		}
	}
	reads := fmt.Sprintf("the command runs as %s (elevated mode), which reads only what the sandbox accounts may: "+
		"not your profile (its DACL names you alone), not the %d deny-read path(s) (deny ACEs for the group %s)", a.Name, denied, SandboxGroup)
	if len(p.DenyReadSkipped) > 0 {
		reads += "; no ACE on " + strings.Join(p.DenyReadSkipped, ", ") + " (missing, a pattern, or a link)"
	}
	set(LayerReads, Enforced, reads+"; files readable by Users, Authenticated Users or Everyone stay readable (not verified)")
	set(LayerOutsideDeletes, Enforced, "the sandbox account's own rights decide them, and it is granted nothing outside the roots; "+
		"directories granting Users, Authenticated Users or Everyone FILE_DELETE_CHILD stay open to it (not verified)")
	set(LayerNetworkFiles, Enforced, a.Name+" may not log on over the network (SeDenyNetworkLogonRight) and holds no credentials of yours: "+
		"your shares see another user (not verified)")
	set(LayerProcesses, Enforced, "your processes belong to another user, whose default DACL does not name "+a.Name+" (not verified)")
	set(LayerCredentials, Enforced, "your DPAPI keys and Credential Manager vault are your profile's, which "+a.Name+" cannot open (not verified)")
	set(LayerRegistry, Enforced, "HKCU is "+a.Name+"'s own hive, written only through a write-restricted token whose restricting SIDs it does not name (not verified)")
	switch {
	case a.Name == OnlineUser:
		set("network", NotEnforced, "the policy allows the full network, and "+OnlineUser+" has no firewall rules")
	default:
		set("network", Enforced, "Windows Firewall rules scoped to "+OfflineUser+" block its outbound traffic except TCP to cordon's "+
			"proxy port on loopback (set up by \"cordon windows setup\"; not verified)")
	}
	set(LayerUI, Enforced, "the runner starts the command on a desktop of its own (DACL: "+a.Name+", the run's instance SID, SYSTEM) "+
		"with the job's UI restrictions, and with the logon SID disabled in its token (not verified)")
	return facts
}

// RunnerJobSpec is the job cordon puts the runner in (the runner puts the
// command in a job of its own, nested in this one, with the policy's
// limits): KILL_ON_JOB_CLOSE only, so that when cordon's handle closes, on
// exit or death, the runner and everything below it die. No UI limits: the
// runner must create the command's desktop.
func RunnerJobSpec() JobSpec {
	return JobSpec{LimitFlags: JobLimitKillOnJobClose}
}

// RunnerCreationFlags start the runner suspended (cordon assigns it to its
// job first), with a UTF-16 environment block and a console of its own
// without a window.
const RunnerCreationFlags = createSuspended | createUnicodeEnvironment | createNoWindow

const createNoWindow uint32 = 0x08000000
