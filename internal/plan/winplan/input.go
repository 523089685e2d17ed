package winplan

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Input is what the backend needs from a policy for one command. Every path
// is an absolute Windows path.
type Input struct {
	// Workspace is the directory the command runs in. It is a writable root
	// unless ReadOnly is set.
	Workspace string
	// WritableRoots are further directories the command may write to.
	WritableRoots []string
	// ReadOnly makes no root writable (the read-only mode): the command may
	// write nowhere, and no root gets a capability SID.
	ReadOnly bool
	// ProtectedPaths stay unwritable even inside writable roots. Those that
	// do not exist are created first, empty, so that the command cannot
	// create them.
	ProtectedPaths []ProtectedPath
	// DenyRead lists paths the policy wants unreadable. Unelevated Windows
	// cannot enforce that; see AcceptUnenforcedDenyRead.
	DenyRead []string
	// AcceptUnenforcedDenyRead records that the user accepted, by name, the
	// weaker mode in which DenyRead is not enforced. Without it a non-empty
	// DenyRead is refused.
	AcceptUnenforcedDenyRead bool
	// Env is the command's whole environment, KEY=VALUE, already filtered by
	// the policy. The backend adds the Windows base variables (from
	// HostEnv), TEMP and TMP (the private temp directory) and the proxy
	// variables.
	Env []string
	// HostEnv is cordon's own environment, where the Windows base variables
	// ([BaseEnvNames]) are taken from when Env lacks them.
	HostEnv []string
	// TempRoot is the workspace's private temp root ([TempRootFor]), which
	// must exist: a writable root, also in the read-only mode. Each command
	// gets a directory of its own below it as TEMP and TMP. Empty means no
	// private temp directory.
	TempRoot string
	// ProxyURL is cordon's proxy on loopback, with the per-run secret
	// (http://user:secret@127.0.0.1:PORT). Empty means no proxy is running:
	// the proxy variables then point at a closed port.
	ProxyURL string
	// RequireNetworkIsolation: the policy demands enforced network
	// isolation, which this mode cannot give, so the run is refused.
	RequireNetworkIsolation bool
	// DenyWorldWritable adds deny-write ACEs for the capability SIDs on the
	// Everyone-writable directories the scan finds.
	DenyWorldWritable bool
	// Timeout ends the whole job; zero means none.
	Timeout time.Duration
	// MaxProcesses caps the processes alive at once in the job; zero means
	// no cap.
	MaxProcesses int
	// MemoryBytes caps the memory committed by the whole job; zero means no
	// cap.
	MemoryBytes uint64
	// StateDir holds the capability SID store and the ACE ledger. It must not
	// lie inside any writable root.
	StateDir string
	// ProfileDir is the user's profile directory (%USERPROFILE%). It, its
	// ancestors and the directories that hold registry hives are refused as
	// writable roots.
	ProfileDir string
	// Sandbox, when set, plans the elevated mode: the command runs as this
	// account (set up by "cordon windows setup"), whose network the
	// firewall confines and which cannot read DenyRead; the refusals of the
	// unelevated mode for network isolation and deny-read do not apply.
	Sandbox *SandboxAccount
	// Runner is cordon's own executable, which the sandbox account runs as
	// the runner (elevated mode only).
	Runner string
}

// ProtectedPath is a path the command must not change.
type ProtectedPath struct {
	Path string
	// Dir says what to create when the path does not exist: an empty
	// directory (.git/hooks, .vscode) or an empty file (.git/config,
	// .mcp.json).
	Dir bool
}

// ErrRefused marks inputs this mode will not run: the error says why and
// what to change.
var ErrRefused = errors.New("refused by the unelevated Windows sandbox")

func refusef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// checkModeLimits refuses what unelevated Windows cannot enforce.
func (in *Input) checkModeLimits() error {
	if in.Sandbox != nil {
		// The elevated mode: the firewall confines the offline account, and
		// deny-read is enforced by ACEs for the sandbox group.
		return in.Sandbox.check()
	}
	if in.RequireNetworkIsolation {
		return refusef("the policy requires enforced network isolation, and unelevated mode can only point " +
			"programs at cordon's proxy (network: advisory); the elevated Windows mode (set up with \"cordon windows " +
			"setup\") blocks the network with firewall rules for a dedicated sandbox " +
			"user; or drop the requirement from the policy")
	}
	if len(in.DenyRead) > 0 && !in.AcceptUnenforcedDenyRead {
		return refusef("the policy denies reading %d path(s) (first: %s), and unelevated mode cannot stop reads "+
			"(a write-restricted token restricts writes only); the elevated Windows mode (\"cordon windows setup\") "+
			"runs commands as another user, or accept the weaker mode in which "+
			"deny-read is not enforced", len(in.DenyRead), in.DenyRead[0])
	}
	return nil
}

// cleanedInput holds the input's paths in clean form.
type cleanedInput struct {
	workspace string
	roots     []string // workspace first (unless read-only), deduplicated by key
	protected []ProtectedPath
	// denyRead holds the deny-read entries that are plain absolute paths
	// (patterns are left out): they are guarded against deletion.
	denyRead []string
	stateDir string
	profile  string
	tempRoot string
}

// clean cleans the input's paths, or returns the first bad one.
func (in *Input) clean() (cleanedInput, error) {
	var c cleanedInput
	var err error
	if c.workspace, err = CleanPath(in.Workspace); err != nil {
		return c, fmt.Errorf("workspace: %w", err)
	}
	if in.StateDir == "" {
		return c, errors.New("no state directory given: the capability SID store and ACE ledger need one outside the workspace")
	}
	if c.stateDir, err = CleanPath(in.StateDir); err != nil {
		return c, fmt.Errorf("state directory: %w", err)
	}
	if within(c.stateDir, c.workspace) {
		return c, refusef("the state directory %s lies inside the workspace %s, where the command could rewrite "+
			"the capability SID store and the ACE ledger; keep it in the user's own state directory", c.stateDir, c.workspace)
	}
	if in.ProfileDir == "" {
		return c, errors.New("no profile directory given: it is needed to refuse it and its registry hives as writable roots")
	}
	if c.profile, err = CleanPath(in.ProfileDir); err != nil {
		return c, fmt.Errorf("profile directory: %w", err)
	}
	seen := map[string]bool{}
	add := func(p string) error {
		cp, err := CleanPath(p)
		if err != nil {
			return fmt.Errorf("writable root: %w", err)
		}
		if !seen[mustKey(cp)] {
			seen[mustKey(cp)] = true
			c.roots = append(c.roots, cp)
		}
		return nil
	}
	if !in.ReadOnly {
		if err := add(in.Workspace); err != nil {
			return c, err
		}
		for _, r := range in.WritableRoots {
			if err := add(r); err != nil {
				return c, err
			}
		}
	}
	if in.TempRoot != "" {
		if c.tempRoot, err = CleanPath(in.TempRoot); err != nil {
			return c, fmt.Errorf("temp root: %w", err)
		}
		if within(c.tempRoot, c.workspace) || within(c.workspace, c.tempRoot) {
			return c, fmt.Errorf("the temp root %s and the workspace %s must not hold one another", c.tempRoot, c.workspace)
		}
		if err := add(c.tempRoot); err != nil {
			return c, err
		}
	}
	for _, p := range in.ProtectedPaths {
		cp, err := CleanPath(p.Path)
		if err != nil {
			return c, fmt.Errorf("protected path: %w", err)
		}
		c.protected = append(c.protected, ProtectedPath{Path: cp, Dir: p.Dir})
	}
	for _, p := range in.DenyRead {
		if strings.ContainsAny(p, "*?[") {
			continue
		}
		if cp, err := CleanPath(p); err == nil {
			c.denyRead = append(c.denyRead, cp)
		}
	}
	return c, nil
}

// checkRoot refuses a (resolved) writable root that would hand the sandbox
// more than a project directory: a volume root, the profile directory or
// anything holding it, a directory holding registry hives, a hive file, or
// anything holding cordon's own state.
func checkRoot(root string, c cleanedInput) error {
	switch {
	case IsVolumeRoot(root):
		return refusef("writable root %s is a drive or share root; name a project directory instead", root)
	case within(c.profile, root):
		return refusef("writable root %s is the profile directory %s or contains it (with its registry hive "+
			"NTUSER.DAT); name a project directory inside it instead", root, c.profile)
	case within(joinPath(joinPath(joinPath(joinPath(c.profile, "AppData"), "Local"), "Microsoft"), "Windows"), root):
		return refusef("writable root %s contains the registry hive UsrClass.dat (under AppData\\Local\\Microsoft\\Windows); "+
			"name a narrower directory", root)
	case isHiveName(baseName(root)):
		return refusef("writable root %s is a registry hive file", root)
	case within(c.stateDir, root):
		return refusef("writable root %s contains cordon's state directory %s, which holds the ACE ledger "+
			"the sandbox must not change; move the state directory or name a narrower root", root, c.stateDir)
	}
	return nil
}

// isHiveName reports whether a file name is a per-user registry hive or one
// of its logs.
func isHiveName(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "ntuser.") || strings.HasPrefix(n, "usrclass.dat")
}

// TempRootFor is where the private temp root of workspace lives: beside
// the state directory stateDir, in windows-temp, under a name derived from
// the workspace's key, so that each workspace has one (stamped once, reused
// by every run) and no two share it.
func TempRootFor(stateDir, workspace string) (string, error) {
	sd, err := CleanPath(stateDir)
	if err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	key, err := PathKey(workspace)
	if err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	sum := sha256.Sum256([]byte(key))
	return joinPath(joinPath(parentOf(sd), "windows-temp"), hex.EncodeToString(sum[:8])), nil
}
