package winplan

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// The elevated mode (issue 15, point 2; review section 4) runs commands as
// a dedicated local user instead of the user's own restricted token: reads
// of the user's files, their processes, their Credential Manager and their
// network shares are then another user's, and the network can be blocked
// by firewall rules scoped to that user's SID. This file plans the one-time
// setup (`cordon windows setup`, elevated) and its undo; the system calls
// are in internal/apply/windows (setup_windows.go) and have run only under
// Wine. The runner that starts commands as the sandbox user is planned in
// runner.go.

// Names of what the setup creates.
const (
	SandboxGroup = "cordon-sandbox"
	OfflineUser  = "cordon-offline"
	OnlineUser   = "cordon-online"
	// FirewallGroup groups cordon's firewall rules, so that they can be
	// listed and removed together.
	FirewallGroup = "cordon sandbox"
)

// Account flags of USER_INFO_1 (lmaccess.h).
const (
	ufScript            uint32 = 0x0001
	ufDontExpirePasswd  uint32 = 0x10000
	ufPasswdCantChange  uint32 = 0x0040
	ufNotDelegated      uint32 = 0x100000
	SandboxAccountFlags        = ufScript | ufDontExpirePasswd | ufPasswdCantChange | ufNotDelegated
)

// LocalUser is one account the setup creates.
type LocalUser struct {
	Name    string
	Comment string
	Flags   uint32
	// Groups are the local groups it joins: Users and the sandbox group.
	Groups []string
	// Online says whether its commands may reach the network (through the
	// proxy as well as directly: the online user has no firewall rules).
	Online bool
}

// AccountRight is a user right granted to (or, for a Deny right,
// withheld from) an account with LsaAddAccountRights.
type AccountRight struct {
	Account string
	Right   string
}

// FirewallRule is one outbound Windows Firewall rule
// (New-NetFirewallRule / INetFwRule3), scoped to the offline user by
// LocalUserAuthorizedList. Block rules win over allow rules in Windows
// Firewall, so "everything but the proxy" is written as blocks of the
// complement.
type FirewallRule struct {
	Name            string
	Action          string // "Block"
	Protocol        string // "TCP", "UDP", "Any"
	RemoteAddresses []string
	RemotePorts     []string // empty: all
	// LocalUser is the SDDL of LocalUserAuthorizedList, resolved against
	// the offline user's SID at setup.
	LocalUser string
}

// SandboxDenyReadMask is the read part of what the sandbox group is denied
// on secrets: reading data, attributes, extended attributes and the ACL
// (not SYNCHRONIZE, which every open needs).
const SandboxDenyReadMask = FileGenericRead &^ Synchronize

// SandboxDenyMask is denied to the sandbox group on each deny-read path:
// reading it, and changing, deleting or re-ACLing it (DenyWriteMask), so
// that a secret inside a writable root is neither read nor replaced by the
// command (a forged credential file would be read by your own tools).
const SandboxDenyMask = SandboxDenyReadMask | DenyWriteMask

// SetupInput is what planning the setup needs.
type SetupInput struct {
	// Installer is the SID of the user who runs the setup, taken from the
	// process token (never from USERNAME); only they may read the sandbox
	// users' passwords.
	Installer SID
	// ProxyPorts are the loopback TCP ports the offline user may reach
	// (cordon's proxy); none means no network at all.
	ProxyPorts []int
	// Secrets are paths of the installer's the sandbox users must never
	// read, denied to the sandbox group explicitly (the profile's own DACL
	// already keeps other users out; this holds where it does not).
	Secrets []string
}

// SetupPlan is everything `cordon windows setup` does, in order. Undo
// removes it from its ledger, in reverse.
type SetupPlan struct {
	Group  string
	Users  []LocalUser
	Rights []AccountRight
	// Hidden are the accounts hidden from the sign-in screen
	// (Winlogon\SpecialAccounts\UserList, value 0).
	Hidden        []string
	FirewallRules []FirewallRule
	// DenyRead are the paths that get an inheritable deny ACE for the
	// sandbox group's SID (known once the group exists) with
	// SandboxDenyReadMask.
	DenyRead []string
	// Marker is the SDDL of the setup marker and password store: SYSTEM,
	// Administrators and the installer only.
	Marker string
}

// PlanSetup decides the elevated mode's setup.
func PlanSetup(in SetupInput) (*SetupPlan, error) {
	if in.Installer == "" || IsLogonSID(in.Installer) || in.Installer == Everyone || in.Installer == LocalSystem {
		return nil, fmt.Errorf("setup: the installing user's SID %q is not a user's", in.Installer)
	}
	for _, p := range in.ProxyPorts {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("setup: proxy port %d is out of range", p)
		}
	}
	p := &SetupPlan{
		Group:  SandboxGroup,
		Hidden: []string{OfflineUser, OnlineUser},
		Marker: fmt.Sprintf("O:BAD:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;%s)", in.Installer),
	}
	for _, u := range []LocalUser{
		{Name: OfflineUser, Comment: "cordon sandbox, no network but cordon's proxy"},
		{Name: OnlineUser, Comment: "cordon sandbox, network allowed", Online: true},
	} {
		u.Flags = SandboxAccountFlags
		u.Groups = []string{"Users", SandboxGroup}
		p.Users = append(p.Users, u)
		// CreateProcessWithLogonW logs the runner on interactively: "The
		// user account must have the Log On Locally permission on the
		// local computer", which Users have on workstations but not on
		// domain controllers (Codex's error 1385, #35521). So that right
		// is granted, not denied; the accounts are hidden from the sign-in
		// screen and their passwords known to no one, and they may not
		// sign in over the network or by RDP.
		for _, r := range []string{"SeInteractiveLogonRight", "SeDenyNetworkLogonRight", "SeDenyRemoteInteractiveLogonRight"} {
			p.Rights = append(p.Rights, AccountRight{Account: u.Name, Right: r})
		}
	}
	rules, err := offlineFirewallRules(in.ProxyPorts)
	if err != nil {
		return nil, err
	}
	p.FirewallRules = rules
	for _, s := range in.Secrets {
		c, err := CleanPath(s)
		if err != nil {
			return nil, fmt.Errorf("setup: secret path: %w", err)
		}
		p.DenyRead = append(p.DenyRead, c)
	}
	return p, nil
}

// offlineFirewallRules blocks the offline user's outbound traffic except TCP
// to the proxy ports on loopback: every remote address but loopback, all
// protocols; and on loopback every TCP port but the proxy's, and UDP.
func offlineFirewallRules(proxyPorts []int) ([]FirewallRule, error) {
	const user = "O:LSD:(A;;CC;;;{offline})"
	rules := []FirewallRule{
		{Name: "cordon-offline: block non-loopback IPv4", Action: "Block", Protocol: "Any",
			RemoteAddresses: []string{"0.0.0.0-126.255.255.255", "128.0.0.0-255.255.255.255"}, LocalUser: user},
		{Name: "cordon-offline: block non-loopback IPv6", Action: "Block", Protocol: "Any",
			RemoteAddresses: []string{"::-::0", "::2-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, LocalUser: user},
		{Name: "cordon-offline: block loopback UDP", Action: "Block", Protocol: "UDP",
			RemoteAddresses: []string{"127.0.0.0-127.255.255.255", "::1"}, LocalUser: user},
	}
	ports := PortComplement(proxyPorts)
	if len(ports) > 0 {
		rules = append(rules, FirewallRule{Name: "cordon-offline: block loopback TCP but the proxy", Action: "Block", Protocol: "TCP",
			RemoteAddresses: []string{"127.0.0.0-127.255.255.255", "::1"}, RemotePorts: ports, LocalUser: user})
	}
	return rules, nil
}

// PortComplement returns the ranges of TCP ports 1-65535 not in ports, in
// firewall syntax ("1-8079", "8081-65535").
func PortComplement(ports []int) []string {
	ps := slices.Clone(ports)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	var out []string
	next := 1
	for _, p := range ps {
		if p > next {
			out = append(out, portRange(next, p-1))
		}
		next = p + 1
	}
	if next <= 65535 {
		out = append(out, portRange(next, 65535))
	}
	return out
}

func portRange(a, b int) string {
	if a == b {
		return strconv.Itoa(a)
	}
	return strconv.Itoa(a) + "-" + strconv.Itoa(b)
}

// OfflineUserSDDL resolves a rule's LocalUser for the offline user's SID.
func (r FirewallRule) OfflineUserSDDL(offline SID) string {
	return strings.ReplaceAll(r.LocalUser, "{offline}", string(offline))
}

// SetupStep is one change the setup made, recorded before it is made (as
// the ACE ledger is), so that --undo removes exactly what setup added.
type SetupStep struct {
	Kind string `json:"kind"` // "group", "user", "member", "right", "hidden", "firewall", "ace", "password"
	Name string `json:"name"`
	// Detail: the group joined, the right granted, the ACE's path.
	Detail string `json:"detail,omitempty"`
}

// Steps lists the plan's changes in the order setup makes them.
func (p *SetupPlan) Steps() []SetupStep {
	steps := []SetupStep{{Kind: "group", Name: p.Group}}
	for _, u := range p.Users {
		steps = append(steps, SetupStep{Kind: "user", Name: u.Name}, SetupStep{Kind: "password", Name: u.Name})
		for _, g := range u.Groups {
			steps = append(steps, SetupStep{Kind: "member", Name: u.Name, Detail: g})
		}
	}
	for _, r := range p.Rights {
		steps = append(steps, SetupStep{Kind: "right", Name: r.Account, Detail: r.Right})
	}
	for _, h := range p.Hidden {
		steps = append(steps, SetupStep{Kind: "hidden", Name: h})
	}
	for _, r := range p.FirewallRules {
		steps = append(steps, SetupStep{Kind: "firewall", Name: r.Name})
	}
	for _, path := range p.DenyRead {
		steps = append(steps, SetupStep{Kind: "ace", Name: p.Group, Detail: path})
	}
	return steps
}

// UndoSteps returns what undoing a setup whose ledger is done does, in
// reverse order. Memberships and rights go with their account (NetUserDel
// removes both), so they are dropped from the list; everything else is
// undone one by one.
func UndoSteps(done []SetupStep) []SetupStep {
	var out []SetupStep
	for i := len(done) - 1; i >= 0; i-- {
		s := done[i]
		if s.Kind == "member" || s.Kind == "right" {
			continue
		}
		out = append(out, s)
	}
	return out
}

// ErrSetupMissing: the elevated mode's setup has not been done.
var ErrSetupMissing = errors.New("the elevated Windows mode is not set up on this machine")

// ElevatedReady says whether runs may use the elevated mode: the setup's
// steps are all recorded and the accounts exist. When not, the error names
// the setup command and the weaker mode.
func ElevatedReady(done []SetupStep, accountsExist bool) error {
	want := 0
	for _, s := range done {
		if s.Kind == "user" {
			want++
		}
	}
	if want < 2 || !accountsExist {
		return fmt.Errorf("%w: run \"cordon windows setup\" once from an elevated prompt (it creates the sandbox "+
			"users %s and %s and their firewall rules), or accept the weaker mode by name with "+
			"--allow-degraded=windows-unelevated", ErrSetupMissing, OfflineUser, OnlineUser)
	}
	return nil
}

// NewSandboxPassword draws a password for a sandbox account: 40 characters
// from upper and lower case letters, digits and symbols, with crypto/rand,
// which meets any local complexity policy.
func NewSandboxPassword() (string, error) {
	const (
		lower  = "abcdefghijkmnopqrstuvwxyz"
		upper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		digits = "23456789"
		sym    = "!#%+-.:=?@^_~"
		all    = lower + upper + digits + sym
	)
	pick := func(set string) (byte, error) {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, fmt.Errorf("drawing a password from the system's random source: %w", err)
		}
		return set[n.Int64()], nil
	}
	b := make([]byte, 40)
	for i := range b {
		set := all
		switch i {
		case 0:
			set = lower
		case 1:
			set = upper
		case 2:
			set = digits
		case 3:
			set = sym
		}
		c, err := pick(set)
		if err != nil {
			return "", err
		}
		b[i] = c
	}
	// The first four carry one of each class; shuffle them in.
	for i := len(b) - 1; i > 0; i-- {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		j := n.Int64()
		b[i], b[j] = b[j], b[i]
	}
	return string(b), nil
}

// RunnerTokenSpec is the token the runner (started as the sandbox user)
// derives from its own for each command: write-restricted like the
// unelevated one, with the roots' capability SIDs, the run's instance SID
// and Everyone as restricting SIDs, and the runner's logon SID disabled
// (so that nothing granted to that session's SID reaches the command), as
// Codex's runner does. CreateProcessWithLogonW lets the runner onto the
// caller's window station and desktop, which grant the caller's logon
// session; the runner's logon SID is disabled so that the command is not.
func RunnerTokenSpec(caps []SID, instance, sandboxUser, logon SID) (TokenSpec, error) {
	spec, err := NewTokenSpec(caps, instance, logon, sandboxUser)
	if err != nil {
		return TokenSpec{}, err
	}
	var restricting []SID
	for _, s := range spec.RestrictingSIDs {
		if s != logon {
			restricting = append(restricting, s)
		}
	}
	spec.RestrictingSIDs = restricting
	spec.DisableSIDs = append(spec.DisableSIDs, logon)
	return spec, nil
}

// SetupAccount is a sandbox account as the setup ledger keeps it: its SID,
// and its password encrypted with DPAPI for the installing user only.
type SetupAccount struct {
	Name     string `json:"name"`
	SID      SID    `json:"sid"`
	Password []byte `json:"password_dpapi"`
}

// SetupLedger is elevated.json in the state directory: each step recorded
// before it is made, and the accounts made. The file's DACL is the plan's
// Marker.
type SetupLedger struct {
	Version  int            `json:"version"`
	Steps    []SetupStep    `json:"steps"`
	Accounts []SetupAccount `json:"accounts"`
	// Group is the sandbox group's SID, which the file ACEs name.
	Group SID `json:"group,omitempty"`
	// ProxyPorts are the loopback ports the firewall lets cordon-offline
	// reach: cordon's proxy must listen on one of them in the elevated mode.
	ProxyPorts []int `json:"proxy_ports,omitempty"`
	// ACEs are the deny-read ACEs the setup added, each recorded before it
	// was written, which --undo revokes as cleanup does.
	ACEs []LedgerACE `json:"aces,omitempty"`
}

// SetupJournal records the setup's ACEs in its ledger, each before it is
// written (Reconcile's contract), saving the ledger with Save. The setup
// creates no placeholders.
type SetupJournal struct {
	Ledger *SetupLedger
	Save   func() error
}

// RecordACE appends e to the ledger and saves it.
func (j *SetupJournal) RecordACE(e LedgerACE) error {
	j.Ledger.ACEs = append(j.Ledger.ACEs, e)
	return j.Save()
}

// RecordPlaceholder refuses: the setup's plan has none.
func (j *SetupJournal) RecordPlaceholder(p Placeholder) error {
	return fmt.Errorf("the setup creates no placeholders (asked for %s)", p.Path)
}

// SetupACLPlan is the setup's ACL plan: the deny-read ACEs for the sandbox
// group on the plan's secrets ([DenyReadGrants]); the secrets that got none
// are returned.
func (p *SetupPlan) SetupACLPlan(fs FS, group SID) (ACLPlan, []string, error) {
	grants, skipped, err := DenyReadGrants(fs, group, p.DenyRead)
	return ACLPlan{Grants: grants}, skipped, err
}

// PowerShell returns the PowerShell command that creates the rule for the
// offline user's SID (New-NetFirewallRule, in the rule group FirewallGroup
// so that undo removes them together), every value single-quoted.
func (r FirewallRule) PowerShell(offline SID) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	list := func(vs []string) string {
		qs := make([]string, len(vs))
		for i, v := range vs {
			qs[i] = q(v)
		}
		return strings.Join(qs, ",")
	}
	cmd := "New-NetFirewallRule -DisplayName " + q(r.Name) + " -Group " + q(FirewallGroup) +
		" -Direction Outbound -Action " + q(r.Action) + " -Protocol " + q(r.Protocol) + " -Profile Any"
	if len(r.RemoteAddresses) > 0 {
		cmd += " -RemoteAddress " + list(r.RemoteAddresses)
	}
	if len(r.RemotePorts) > 0 {
		cmd += " -RemotePort " + list(r.RemotePorts)
	}
	return cmd + " -LocalUser " + q(r.OfflineUserSDDL(offline)) + " | Out-Null"
}

// RemoveFirewallRules is the PowerShell command undo runs.
func RemoveFirewallRules() string {
	return "Remove-NetFirewallRule -Group '" + FirewallGroup + "' -ErrorAction SilentlyContinue"
}

// DefaultSecrets are the secret paths that every mode promises to deny (the
// first entries of deny_read in policy/builtin.toml) below a profile, denied
// to the sandbox users by the setup.
func DefaultSecrets(profile string) []string {
	var out []string
	for _, rel := range []string{`.ssh`, `.aws`, `.gnupg`, `.config\gcloud`, `.kube`, `.docker\config.json`, `.netrc`, `.git-credentials`} {
		out = append(out, joinPath(profile, rel))
	}
	return out
}
