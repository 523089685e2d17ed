package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/policy/cmdrules"
	"github.com/cordon-sandbox/cordon/policy/credscope"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// Version is the policy file format version this package reads.
const Version = 1

// Mode is the overall shape of the boundary.
type Mode string

const (
	// ModeWorkspaceWrite: writes only to the workspace, extra writable roots
	// and a private temp dir. The default.
	ModeWorkspaceWrite Mode = "workspace-write"
	// ModeReadOnly: no writes except the private temp dir.
	ModeReadOnly Mode = "read-only"
	// ModeFullAccess: no boundary at all. Still audited; must be chosen
	// explicitly by a trusted layer or a flag.
	ModeFullAccess Mode = "full-access"
)

// strictness orders modes: a higher value confines more.
func (m Mode) strictness() int {
	switch m {
	case ModeFullAccess:
		return 0
	case ModeWorkspaceWrite:
		return 1
	case ModeReadOnly:
		return 2
	}
	return -1
}

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	m := Mode(s)
	if m.strictness() < 0 {
		return "", fmt.Errorf("unknown mode %q: valid modes are %q, %q and %q", s, ModeWorkspaceWrite, ModeReadOnly, ModeFullAccess)
	}
	return m, nil
}

// Degraded names a weaker enforcement a user may accept by name when the
// machine cannot give the full boundary.
type Degraded string

const (
	// DegradedLandlock runs without namespaces, confined by Landlock, seccomp
	// and rlimits only (for machines without unprivileged user namespaces).
	DegradedLandlock Degraded = "landlock"
	// DegradedWindowsUnelevated is Windows without administrator setup: a
	// write-restricted token and ACLs confine writes to the writable roots,
	// but not reads, deletes and moves of the user's files, the user's other
	// processes, credential stores, network shares or the network; see
	// KnownDegraded and docs/windows.md.
	DegradedWindowsUnelevated Degraded = "windows-unelevated"
	// DegradedMacOSNoMemoryLimit runs on macOS although the policy sets
	// limits.memory, which macOS cannot enforce for a command.
	DegradedMacOSNoMemoryLimit Degraded = "macos-no-memory-limit"
)

// KnownDegraded lists the weaker modes a user can accept, with what each loses.
var KnownDegraded = map[Degraded]string{
	DegradedLandlock: "no namespaces: Landlock, seccomp and rlimits only; deny-read patterns inside writable roots and deletions inside protected paths are not enforced; processes outside are visible",
	DegradedWindowsUnelevated: "Windows without administrator setup: writes are confined to the writable roots, but the command can read everything you can " +
		"(files and secrets, the registry, the memory of your non-elevated processes, and probably DPAPI-protected data such as saved browser passwords), " +
		"end your non-elevated processes, read, change and delete your Credential Manager entries, write every network share you can, " +
		"delete your files or move them into a writable root, probably hook and record input on your desktop, " +
		"and reach the network around the proxy (docs/windows.md)",
	DegradedMacOSNoMemoryLimit: "macOS with limits.memory set: macOS cannot cap a command's memory (it refuses an address-space limit below what every process already maps), so the limit is not enforced",
}

// LayerKind says where a layer came from, and so how far it is trusted.
type LayerKind string

const (
	LayerBuiltin   LayerKind = "builtin"
	LayerUser      LayerKind = "user"
	LayerWorkspace LayerKind = "workspace"
	LayerExplicit  LayerKind = "explicit"
	LayerFlag      LayerKind = "flag"
)

// Source says where a value of the effective policy came from.
type Source struct {
	Layer LayerKind `json:"layer"`
	File  string    `json:"file,omitempty"`
	Line  int       `json:"line,omitempty"`
	Key   string    `json:"key,omitempty"`
}

func (s Source) String() string {
	switch {
	case s.File != "" && s.Line > 0:
		return fmt.Sprintf("%s (%s:%d)", s.Layer, s.File, s.Line)
	case s.File != "":
		return fmt.Sprintf("%s (%s)", s.Layer, s.File)
	case s.Key != "":
		return fmt.Sprintf("%s (%s)", s.Layer, s.Key)
	}
	return string(s.Layer)
}

// Value is a setting of the effective policy with its origin.
type Value[T any] struct {
	Value T      `json:"value"`
	From  Source `json:"from"`
}

// Item is one entry of a list setting with its origin.
type Item = Value[string]

// Values returns the bare values of a list.
func Values(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Value
	}
	return out
}

// LayerInfo describes one layer that went into the effective policy.
type LayerInfo struct {
	Kind    LayerKind `json:"kind"`
	Path    string    `json:"path,omitempty"`
	SHA256  string    `json:"sha256,omitempty"`
	Trusted bool      `json:"trusted"`
}

// Policy is the effective, merged policy. Build it with Load; the zero value
// is not a valid policy.
type Policy struct {
	Mode Value[Mode] `json:"mode"`

	Filesystem Filesystem `json:"filesystem"`
	Env        Env        `json:"environment"`
	Limits     Limits     `json:"limits"`
	// Commands are the command rules (allow, ask or deny a command line),
	// merged over the layers; each rule's Source names its file.
	Commands cmdrules.Config `json:"commands"`
	// Audit chooses the audit sinks. Only trusted layers may change it: a
	// workspace file must not redirect or switch off the record of what
	// runs in it.
	Audit Value[audit.Config] `json:"audit"`
	// Network says what the command may reach. Lists accumulate over
	// trusted layers; a workspace file may only narrow them.
	Network Value[netpolicy.Config] `json:"network"`
	// Approval says who answers when a rule asks. Only trusted layers may
	// name an approver: a workspace file that could would let the agent
	// approve itself.
	Approval Approval `json:"approval"`
	// Credentials say which secret may reach which command; only trusted
	// layers may define one.
	Credentials credscope.Scopes `json:"credentials"`

	// AllowDegraded lists the weaker modes the user accepted by name.
	AllowDegraded []Item `json:"allow_degraded"`

	// Layers lists the files merged, in order.
	Layers []LayerInfo `json:"layers"`
}

// Filesystem holds the path rules. Paths are absolute and clean once loaded,
// except workspace patterns (see docs/policy.md).
type Filesystem struct {
	// Writable lists writable roots beyond the workspace.
	Writable []Item `json:"writable"`
	// DenyRead lists secrets: absolute paths or globs, and workspace-relative
	// patterns matched inside every writable root.
	DenyRead []Item `json:"deny_read"`
	// AllowRead lists exceptions to DenyRead.
	AllowRead []Item `json:"allow_read"`
	// Protected lists paths that stay read-only inside writable roots (and
	// uncreatable when absent): names relative to each writable root, or
	// absolute paths.
	Protected []Item `json:"protected"`
	// Unprotect removes built-in protected paths.
	Unprotect []Item `json:"unprotect"`
	// HostSockets are unix sockets of host services (a Docker socket, an
	// agent's) that commands may connect to; every other socket outside
	// the sandbox's own writable places is refused. Trusted layers only:
	// most host services are as good as the user's whole account.
	HostSockets []Item `json:"host_sockets"`
	// TrustWorkspacePolicy lets a policy file inside the workspace widen the
	// policy. Only the user's own file can set it.
	TrustWorkspacePolicy Value[bool] `json:"trust_workspace_policy"`
}

// Env holds the environment rules.
type Env struct {
	// Pass lists variables (exact names or NAME_* prefixes) passed to commands.
	Pass []Item `json:"pass"`
	// Deny lists patterns (with * anywhere) never passed, unless a trusted
	// layer passes the exact name.
	Deny []Item `json:"deny"`
	// Set fixes variables to values.
	Set map[string]Item `json:"set"`
}

// Limits holds resource limits; zero means "not limited by cordon".
type Limits struct {
	Timeout      Value[time.Duration] `json:"timeout"`
	MaxProcesses Value[uint64]        `json:"max_processes"`
	OpenFiles    Value[uint64]        `json:"open_files"`
	FileSize     Value[uint64]        `json:"file_size"`
	Memory       Value[uint64]        `json:"memory"`
	// TmpSize caps each of the run's private in-memory file systems (/tmp
	// and /dev/shm on Linux); their contents count against Memory too.
	TmpSize Value[uint64] `json:"tmp_size"`
}

// Approval configures the human review of asks.
type Approval struct {
	// Approver is a program that answers questions as JSON (empty: none).
	Approver Value[[]string] `json:"approver"`
	// Timeout is how long a human has to answer; zero means the default.
	Timeout Value[time.Duration] `json:"timeout"`
}

// Accepts reports whether the user accepted the named weaker mode.
func (p *Policy) Accepts(d Degraded) bool {
	for _, it := range p.AllowDegraded {
		if it.Value == string(d) {
			return true
		}
	}
	return false
}

// IsDirName says whether an absent protected path of this name is stood in
// for by an empty directory (.vscode, .git/hooks) rather than an empty file
// (.mcp.json, .git/config), so that tools reading it meanwhile see the kind
// of thing they expect. A name with an extension (a dot after its first
// character) is a file; so are config and the well-known files without one
// (shell start-up files, .envrc, .roomodes, crushrc); everything else,
// .git included, is a directory.
func IsDirName(base string) bool {
	if base == ".git" {
		return true
	}
	if base == "" || extensionlessFiles[base] {
		return false
	}
	return !strings.Contains(base[1:], ".")
}

// extensionlessFiles are protected names that are files although they have
// no extension. A directory in their place would make the tool that reads
// them fail (bash refuses a directory as ~/.bashrc, direnv one as .envrc).
var extensionlessFiles = map[string]bool{
	"config":        true, // .git/config
	".bashrc":       true,
	".bash_profile": true,
	".bash_login":   true,
	".bash_logout":  true,
	".profile":      true,
	".zshrc":        true,
	".zshenv":       true,
	".zprofile":     true,
	".zlogin":       true,
	".zlogout":      true,
	".gitconfig":    true,
	".envrc":        true, // direnv
	".roomodes":     true, // Roo Code custom modes
	".crushrc":      true, // Crush
	"crushrc":       true,
}
