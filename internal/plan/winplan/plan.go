package winplan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Root is a writable root after resolution, with its capability SID.
type Root struct {
	// Path is the root's final path: links and junctions resolved, so that a
	// link cannot make cordon stamp a directory the policy did not name.
	Path string
	SID  SID
}

// Placeholder is a file or directory created before the command runs, so
// that a protected path that did not exist cannot be created by it. A file
// holds Content: empty, or for JSON files the smallest valid document
// (placeholderContent), so that programs reading it do not fail on it.
type Placeholder struct {
	Path    string `json:"path"`
	Dir     bool   `json:"dir"`
	Content string `json:"content,omitempty"`
}

// placeholderContent is what a placeholder file named name holds (review
// L14): an empty .mcp.json is invalid JSON, which MCP clients refuse.
func placeholderContent(name string) string {
	n := strings.ToLower(name)
	switch {
	case n == ".mcp.json":
		return "{\"mcpServers\": {}}\n"
	case strings.HasSuffix(n, ".json"):
		return "{}\n"
	}
	return ""
}

// Grant is one ACE cordon wants on one object.
type Grant struct {
	Object Object
	ACE    ACE
	// Reason says why, for the ledger and the enforcement report.
	Reason string
	// AnyOf, when set, makes the grant already satisfied if these SIDs
	// together get ACE.Mask from the object's DACL, whichever ACE gives it.
	// Without it, only an equivalent explicit ACE satisfies the grant.
	AnyOf []SID
	// NoneOf, when set, makes a deny grant already satisfied if these SIDs
	// together get none of ACE.Mask from the object's DACL, whichever ACEs
	// decide it (inherited ones included).
	NoneOf []SID
	// BestEffort grants add protection beyond what the mode promises: one
	// that cannot be made is reported ([ReconcileStats.Failed]), not fatal.
	BestEffort bool
}

// Why ACEs are added; the ledger and the report carry these words.
const (
	ReasonWritableRoot    = "writable root"
	ReasonProtected       = "protected path"
	ReasonProtectAncestor = "directory above a protected path"
	ReasonNullDevice      = "null device"
	ReasonWorldWritable   = "Everyone-writable directory"
	ReasonDeleteChild     = "no FILE_DELETE_CHILD above a protected path"
	ReasonGuardOutside    = "no FILE_DELETE_CHILD above cordon's state, a policy file or a deny-read path"
	ReasonProtectedChild  = "inside a protected directory"
)

// MaxProtectedChildren bounds the walk below one protected directory; the
// protected directories of the default policy hold a few dozen entries.
const MaxProtectedChildren = 10000

// ACLPlan is every change the command needs on the file system, in the order
// it must be made: placeholders (parents first), then deny ACEs, then allow
// ACEs.
type ACLPlan struct {
	Create []Placeholder
	Grants []Grant
}

// SIDSource hands out the capability SID of each writable root, keyed by
// [PathKey]. [State] is the real one.
type SIDSource interface {
	SIDsFor(roots []string) (map[string]SID, error)
}

// Plan is everything the backend will do for one command, decided before any
// change is made.
type Plan struct {
	Workspace string
	Roots     []Root
	ACL       ACLPlan
	Job       JobSpec
	// Env is the command's environment, the proxy variables added.
	Env     []string
	Timeout time.Duration
	// Unprotected lists protected paths that lie outside every writable root
	// and so need no ACE, for the report.
	Unprotected []string
	// LogonSID is the logon session's SID, a restricting SID of the token.
	LogonSID SID
	// User is the user's SID, which the token keeps as an enabled SID of
	// its normal pass (and never as a restricting SID).
	User SID
	// TempRoot is the private temp root (also in Roots), or empty.
	TempRoot string
	// Elevated is the sandbox account of the elevated mode, or nil for the
	// unelevated mode; Runner is then cordon's executable, and
	// DenyReadSkipped the deny-read paths that got no ACE.
	Elevated        *SandboxAccount
	Runner          string
	DenyReadSkipped []string

	input cleanedInput
}

// ScanSIDs are the restricting SIDs of the command's token that ACEs on
// disk can name: the capability SIDs, the logon SID and Everyone (the
// instance SID is in no ACE).
func (p *Plan) ScanSIDs() []SID {
	if p.Elevated != nil {
		// The runner's token holds no logon SID as a restricting SID.
		return append(p.CapabilitySIDs(), Everyone)
	}
	return append(p.CapabilitySIDs(), p.LogonSID, Everyone)
}

// guardSID is the SID denied FILE_DELETE_CHILD above protected paths: one
// the command's token holds in its normal pass (see planACL). In the
// unelevated mode that is the user's; in the elevated mode the sandbox
// group's, which leaves the user's own rights alone.
func (p *Plan) guardSID() SID {
	if p.Elevated != nil {
		return p.Elevated.Group
	}
	return p.User
}

// CapabilitySIDs returns the active roots' capability SIDs, the first
// restricting SIDs of the command's token.
func (p *Plan) CapabilitySIDs() []SID {
	sids := make([]SID, len(p.Roots))
	for i, r := range p.Roots {
		sids[i] = r.SID
	}
	return sids
}

// Identity is who the command runs as: the user's SID and the SID of the
// logon session cordon runs in.
type Identity struct {
	User, Logon SID
}

func (id Identity) check() error {
	if !IsLogonSID(id.Logon) {
		return fmt.Errorf("%q is not a logon session SID (S-1-5-5-X-Y)", id.Logon)
	}
	if id.User == "" || IsLogonSID(id.User) || id.User == Everyone || id.User == LocalSystem {
		return fmt.Errorf("%q is not a user's SID", id.User)
	}
	return nil
}

// Build decides the plan for in: it refuses what this mode cannot enforce
// and roots it must not stamp, resolves the roots through fs, takes their
// capability SIDs from sids, and computes the wanted ACEs. id is the user
// and logon session cordon runs as: the token keeps both, the null device is
// granted to the logon SID, and the user's SID is denied FILE_DELETE_CHILD
// above protected paths. Build changes nothing.
func Build(in Input, fs FS, sids SIDSource, id Identity) (*Plan, error) {
	if err := in.checkModeLimits(); err != nil {
		return nil, err
	}
	if err := id.check(); err != nil {
		return nil, err
	}
	logon := id.Logon
	c, err := in.clean()
	if err != nil {
		return nil, err
	}
	roots, err := resolveRoots(fs, c)
	if err != nil {
		return nil, err
	}
	bySID, err := sids.SIDsFor(roots)
	if err != nil {
		return nil, err
	}
	p := &Plan{Workspace: c.workspace, Timeout: in.Timeout, LogonSID: logon, User: id.User, Elevated: in.Sandbox, input: c}
	for _, r := range roots {
		sid, ok := bySID[mustKey(r)]
		if !ok || !IsCapabilitySID(sid) {
			return nil, fmt.Errorf("no valid capability SID for writable root %s (got %q)", r, sid)
		}
		p.Roots = append(p.Roots, Root{Path: r, SID: sid})
	}
	p.input.protected = append(p.input.protected, p.gitFileProtections(fs)...)
	if err := p.planACL(fs); err != nil {
		return nil, err
	}
	if p.Elevated != nil {
		if err := p.planElevated(fs, in); err != nil {
			return nil, err
		}
	}
	if p.Job, err = NewJobSpec(in.MaxProcesses, in.MemoryBytes); err != nil {
		return nil, err
	}
	for _, r := range p.Roots {
		if c.tempRoot != "" && mustKey(r.Path) == mustKey(c.tempRoot) {
			p.TempRoot = r.Path
		}
	}
	if c.tempRoot != "" && p.TempRoot == "" {
		return nil, fmt.Errorf("the temp root %s resolves elsewhere; it must be a plain directory", c.tempRoot)
	}
	if p.Env, err = withProxy(withBase(in.Env, in.HostEnv), in.ProxyURL); err != nil {
		return nil, err
	}
	return p, nil
}

// CommandEnv is the environment of one command whose private temp
// directory (below TempRoot, made for it) is temp: Env with TEMP and TMP
// pointing there. Without a temp root the environment is Env.
func (p *Plan) CommandEnv(temp string) ([]string, error) {
	if p.TempRoot == "" {
		return p.Env, nil
	}
	c, err := CleanPath(temp)
	if err != nil || !strictlyWithin(c, p.TempRoot) {
		return nil, fmt.Errorf("the command's temp directory %s is not below the temp root %s", temp, p.TempRoot)
	}
	return setEnv(p.Env, map[string]string{"TEMP": c, "TMP": c}), nil
}

// resolveRoots returns the final paths of the writable roots, refusing the
// ones that must not be stamped, deduplicated.
func resolveRoots(fs FS, c cleanedInput) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, r := range c.roots {
		if err := checkRoot(r, c); err != nil {
			return nil, err
		}
		info, err := fs.Lstat(r)
		if err != nil {
			return nil, fmt.Errorf("writable root %s: %w", r, err)
		}
		if !info.Exists {
			return nil, fmt.Errorf("writable root %s does not exist; create it or remove it from the policy", r)
		}
		final, err := fs.Resolve(r)
		if err != nil {
			return nil, fmt.Errorf("resolving writable root %s: %w", r, err)
		}
		if final, err = CleanPath(final); err != nil {
			return nil, fmt.Errorf("resolving writable root %s: %w", r, err)
		}
		// Check again: a junction can point anywhere, C:\ included.
		if err := checkRoot(final, c); err != nil {
			return nil, fmt.Errorf("%w (it is a link to %s)", err, final)
		}
		if err := checkVolume(fs, r, final); err != nil {
			return nil, err
		}
		if info, err := fs.Lstat(final); err != nil || !info.Dir {
			return nil, fmt.Errorf("writable root %s is not a directory", final)
		}
		if !seen[mustKey(final)] {
			seen[mustKey(final)] = true
			out = append(out, final)
		}
	}
	return out, nil
}

// checkVolume refuses a writable root (named root, final path final) on a
// network share or mapped drive, or on a file system without ACLs. On a
// share the server decides every access with the user's network logon,
// which carries none of the sandbox token's restricting SIDs: ACEs for
// capability SIDs bind nothing there (review H3). Without ACLs, none can be
// stamped.
func checkVolume(fs FS, root, final string) error {
	link := ""
	if mustKey(root) != mustKey(final) {
		link = " (it leads to " + final + ")"
	}
	if strings.HasPrefix(final, `\\`) {
		return refusef("writable root %s%s is on a network share, where the server checks your network logon and "+
			"not the sandbox's token, so the sandbox could write anywhere on it you can; use a directory on a local disk", root, link)
	}
	v, err := fs.Volume(final)
	if err != nil {
		return fmt.Errorf("finding the volume of writable root %s: %w", root, err)
	}
	switch {
	case v.Remote:
		return refusef("writable root %s%s is on a mapped network drive, where the server checks your network logon and "+
			"not the sandbox's token, so the sandbox could write anywhere on it you can; use a directory on a local disk", root, link)
	case !v.ACLs:
		return refusef("writable root %s%s is on a %s volume, which keeps no ACLs, so the sandbox's write limits cannot be set there; "+
			"use a directory on an NTFS or ReFS volume", root, link, fsName(v.FileSystem))
	}
	return nil
}

func fsName(s string) string {
	if s == "" {
		return "file system without ACLs (FAT, exFAT)"
	}
	return s
}

// planACL fills p.ACL: placeholders and deny ACEs for protected paths inside
// writable roots, deny-DELETE on the directories between, deny
// FILE_DELETE_CHILD for the user on the roots and directories that hold
// protected paths and on protected directories, allow ACEs on the roots,
// and the null device.
//
// Why the FILE_DELETE_CHILD deny, and why for the user's SID: NTFS grants
// DELETE on an object when the parent grants FILE_DELETE_CHILD (MS-FSA
// 2.1.5.1.2.1), and a WRITE_RESTRICTED token sends a request for
// FILE_DELETE_CHILD through the normal pass only, because it is not a write
// right. The user holds it through Full Control on their profile (or through
// CREATOR OWNER on other volumes), so deny ACEs for the capability SIDs
// cannot stop a protected path from being deleted or renamed away and
// forged (review C1, openai/codex#32915). Only a deny the normal pass sees
// can: one for a SID the command's token holds as an enabled (or deny-only)
// group. Its normal SIDs are the user's own, so any such deny binds the
// user's unsandboxed programs too; they lose FILE_DELETE_CHILD on a few
// directories and delete through DELETE on each child instead, which their
// Full Control or Modify grants. The user's SID is chosen over the logon SID
// the review suggests because it does not change at each logon: no new ACEs
// per session, no stale ones for ended sessions, and no window in which a
// second session's sandbox finds only the first session's deny. Removing the
// user's own FILE_DELETE_CHILD (a protected DACL without it) would change the
// user's rights on the whole tree and cut inheritance; moving protected files
// elsewhere is not possible for .git\config. The access-check model proves
// the choice (model_test.go); a real Windows host has not.
func (p *Plan) planACL(fs FS) error {
	var denies, allows []Grant
	created := map[string]bool{}
	for _, pp := range p.input.protected {
		final, dir, missing, err := p.resolveProtected(fs, pp)
		if err != nil {
			return err
		}
		var holders []Root
		for _, r := range p.Roots {
			if mustKey(r.Path) == mustKey(final) {
				return refusef("%s is both a writable root and a protected path; drop one of the two from the policy", final)
			}
			if within(final, r.Path) {
				holders = append(holders, r)
			}
		}
		if len(holders) == 0 {
			p.Unprotected = append(p.Unprotected, final)
			continue
		}
		for _, m := range missing {
			if !created[mustKey(m.Path)] {
				created[mustKey(m.Path)] = true
				p.ACL.Create = append(p.ACL.Create, m)
			}
		}
		flags := uint8(0)
		if dir {
			flags = InheritAll
			denies = append(denies, p.deleteChildGuard(final, ContainerInherit))
			if len(missing) == 0 {
				children, err := p.protectedChildren(fs, final, holders)
				if err != nil {
					return err
				}
				denies = append(denies, children...)
			}
		}
		for _, r := range holders {
			denies = append(denies, Grant{
				Object: Object{Path: final},
				ACE:    ACE{Type: Deny, Flags: flags, Mask: DenyWriteMask, SID: r.SID},
				Reason: ReasonProtected,
			})
			denies = append(denies, p.deleteChildGuard(r.Path, 0))
			for _, a := range ancestorsBetween(r.Path, final) {
				denies = append(denies, Grant{
					Object: Object{Path: a},
					ACE:    ACE{Type: Deny, Mask: DenyDeleteMask, SID: r.SID},
					Reason: ReasonProtectAncestor,
				}, p.deleteChildGuard(a, 0))
			}
		}
	}
	denies = append(denies, p.outsideGuards(fs)...)
	for _, r := range p.Roots {
		allows = append(allows, Grant{
			Object: Object{Path: r.Path},
			ACE:    ACE{Type: Allow, Flags: InheritAll, Mask: RootAllowMask, SID: r.SID},
			Reason: ReasonWritableRoot,
		})
	}
	p.ACL.Grants = dedupeGrants(append(denies, allows...))
	nul := Grant{
		Object: NullDevice,
		ACE:    ACE{Type: Allow, Mask: NullDeviceMask, SID: p.LogonSID},
		Reason: ReasonNullDevice,
		AnyOf:  append(p.CapabilitySIDs(), p.LogonSID, Everyone),
	}
	if p.Elevated != nil {
		// The runner's child holds no logon SID it could pass with; the
		// null device normally grants Everyone, and otherwise the first
		// root's capability SID (stable, so no ACE per run) gets it.
		nul.AnyOf = append(p.CapabilitySIDs(), Everyone)
		if len(p.Roots) == 0 {
			return nil
		}
		nul.ACE.SID = p.Roots[0].SID
	}
	p.ACL.Grants = append(p.ACL.Grants, nul)
	return nil
}

// resolveProtected finds where the protected path pp really is: the deepest
// existing ancestor resolved, the rest appended. It refuses a protected path
// reached through a link inside a writable root, since the command could
// swap the link. It returns the final path, whether it is (or will be) a
// directory, and the placeholders to create, parents first.
func (p *Plan) resolveProtected(fs FS, pp ProtectedPath) (final string, dir bool, missing []Placeholder, err error) {
	// Links on the way, looked at as the policy spells the path.
	for _, r := range append(slices.Clone(p.input.roots), p.rootPaths()...) {
		if !strictlyWithin(pp.Path, r) {
			continue
		}
		for _, a := range append(ancestorsBetween(r, pp.Path), pp.Path) {
			info, err := fs.Lstat(a)
			if err != nil {
				return "", false, nil, fmt.Errorf("protected path %s: %w", pp.Path, err)
			}
			if info.Reparse {
				return "", false, nil, refusef("protected path %s is reached through the link or junction %s inside "+
					"writable root %s, which the command could replace; make %s a real directory (or file) or "+
					"remove it from the protected paths", pp.Path, a, r, a)
			}
			if !info.Exists {
				break
			}
		}
	}
	// The deepest existing ancestor, and what is missing below it.
	existing := pp.Path
	var tail []string
	for {
		info, err := fs.Lstat(existing)
		if err != nil {
			return "", false, nil, fmt.Errorf("protected path %s: %w", pp.Path, err)
		}
		if info.Exists {
			if existing == pp.Path {
				dir = info.Dir
			} else if !info.Dir {
				// A file stands where a directory on the way should be
				// (.git is a file in a worktree): nothing can be created
				// below it, and the file itself is what must not change.
				final, err := fs.Resolve(existing)
				if err != nil {
					return "", false, nil, fmt.Errorf("resolving protected path %s: %w", pp.Path, err)
				}
				final, err = CleanPath(final)
				return final, false, nil, err
			}
			break
		}
		tail = append(tail, baseName(existing))
		if existing = parentOf(existing); existing == "" {
			return "", false, nil, fmt.Errorf("protected path %s: its volume does not exist", pp.Path)
		}
	}
	base, err := fs.Resolve(existing)
	if err != nil {
		return "", false, nil, fmt.Errorf("resolving protected path %s: %w", pp.Path, err)
	}
	if final, err = CleanPath(base); err != nil {
		return "", false, nil, fmt.Errorf("resolving protected path %s: %w", pp.Path, err)
	}
	for i := len(tail) - 1; i >= 0; i-- {
		final = joinPath(final, tail[i])
		isDir := i > 0 || pp.Dir
		ph := Placeholder{Path: final, Dir: isDir}
		if !isDir {
			ph.Content = placeholderContent(tail[i])
		}
		missing = append(missing, ph)
	}
	if len(tail) > 0 {
		dir = pp.Dir
	}
	return final, dir, missing, nil
}

// protectedChildren checks everything below the protected directory dir
// (review M10). What is created there inherits its denies, but an object
// moved in on the same volume keeps its old descriptor (KB310316), with,
// say, the workspace's inherited allow for the capability SID, and an
// object with a protected DACL inherits nothing. So each descendant gets a
// deny-write grant for the holding roots' SIDs that is satisfied when the
// restricted pass already grants none of those rights, and each directory
// below a FILE_DELETE_CHILD deny for the user satisfied when the normal
// pass already lacks it: normally both hold through inheritance and nothing
// is written. Reparse points are not entered. More than
// MaxProtectedChildren entries is an error: cordon cannot vouch for the
// rest.
func (p *Plan) protectedChildren(fs FS, dir string, holders []Root) ([]Grant, error) {
	var out []Grant
	count := 0
	var walk func(d string) error
	walk = func(d string) error {
		entries, err := fs.ReadDir(d, MaxProtectedChildren+1)
		if err != nil {
			return fmt.Errorf("listing protected directory %s: %w", d, err)
		}
		for _, e := range entries {
			if count++; count > MaxProtectedChildren {
				return refusef("protected directory %s holds more than %d entries, too many to check each one's ACL "+
					"on every run; protect narrower paths inside it", dir, MaxProtectedChildren)
			}
			child := joinPath(d, e.Name)
			flags := uint8(0)
			if e.Dir && !e.Reparse {
				flags = InheritAll
			}
			for _, r := range holders {
				out = append(out, Grant{
					Object: Object{Path: child},
					ACE:    ACE{Type: Deny, Flags: flags, Mask: DenyWriteMask, SID: r.SID},
					Reason: ReasonProtectedChild,
					NoneOf: p.ScanSIDs(),
				})
			}
			if e.Dir && !e.Reparse {
				g := p.deleteChildGuard(child, ContainerInherit)
				g.Reason, g.NoneOf = ReasonProtectedChild, []SID{p.guardSID()}
				out = append(out, g)
				if err := walk(child); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(dir)
}

// outsideGuards denies the user FILE_DELETE_CHILD, best effort, above what
// the command must not delete or move away outside the writable roots
// (review C2): cordon's state directory (the ACE ledger and the SID store),
// the protected paths outside every root (the user's policy files) and the
// deny-read paths. Each gets the deny on its parent and every ancestor up to
// and including the profile directory or the workspace (so that no
// directory on the way can be moved away either), or on its parent alone
// outside both; a directory also on itself and its subdirectories. In the
// read-only mode the workspace's protected paths are among them: no root
// holds them, and a read-only token deletes through FILE_DELETE_CHILD too. Everything else the user
// may delete stays deletable: the facts say so.
func (p *Plan) outsideGuards(fs FS) []Grant {
	type target struct {
		path string
		dir  bool
	}
	targets := []target{{p.input.stateDir, true}}
	for _, u := range p.Unprotected {
		info, err := fs.Lstat(u)
		targets = append(targets, target{u, err == nil && info.Dir})
	}
	for _, d := range p.input.denyRead {
		if info, err := fs.Lstat(d); err == nil && info.Exists && !info.Reparse {
			targets = append(targets, target{d, info.Dir})
		}
	}
	var out []Grant
	seen := map[string]bool{}
	add := func(dir string, flags uint8) {
		key := fmt.Sprintf("%s|%d", mustKey(dir), flags)
		if seen[key] || IsVolumeRoot(dir) || p.insideRoot(dir) {
			return
		}
		seen[key] = true
		g := p.deleteChildGuard(dir, flags)
		g.Reason, g.BestEffort = ReasonGuardOutside, true
		out = append(out, g)
	}
	for _, t := range targets {
		if p.insideRoot(t.path) {
			continue
		}
		if t.dir {
			add(t.path, ContainerInherit)
		}
		for a := parentOf(t.path); a != ""; a = parentOf(a) {
			if !within(a, p.input.profile) && !within(a, p.input.workspace) && mustKey(a) != mustKey(parentOf(t.path)) {
				break
			}
			add(a, 0)
		}
	}
	return out
}

// deleteChildGuard denies the user FILE_DELETE_CHILD on dir (and, with
// ContainerInherit, on the directories below it); see planACL.
func (p *Plan) deleteChildGuard(dir string, flags uint8) Grant {
	return Grant{
		Object: Object{Path: dir},
		ACE:    ACE{Type: Deny, Flags: flags, Mask: FileDeleteChild, SID: p.guardSID()},
		Reason: ReasonDeleteChild,
	}
}

// gitFileProtections protects what a root's .git file points to (review
// L13). In a worktree or a submodule, .git is a file holding "gitdir:
// <path>": the file itself (rewritten, it would send the user's git to a
// directory the command wrote), the git directory's config, config.worktree
// and hooks and, for a worktree, the config and hooks of the common
// directory named by its commondir file.
// Paths that cannot be read or resolved are left out: they are then not
// git's either.
func (p *Plan) gitFileProtections(fs FS) []ProtectedPath {
	var out []ProtectedPath
	for _, r := range p.Roots {
		dotgit := joinPath(r.Path, ".git")
		info, err := fs.Lstat(dotgit)
		if err != nil || !info.Exists || info.Dir || info.Reparse {
			continue
		}
		out = append(out, ProtectedPath{Path: dotgit})
		gitdir, ok := readGitPointer(fs, dotgit, "gitdir:", r.Path)
		if !ok {
			continue
		}
		dirs := []string{gitdir}
		if common, ok := readGitPointer(fs, joinPath(gitdir, "commondir"), "", gitdir); ok {
			dirs = append(dirs, common)
		}
		for _, d := range dirs {
			out = append(out, ProtectedPath{Path: joinPath(d, "config")}, ProtectedPath{Path: joinPath(d, "hooks"), Dir: true})
		}
		// A worktree's own configuration (extensions.worktreeConfig).
		out = append(out, ProtectedPath{Path: joinPath(gitdir, "config.worktree")})
	}
	return out
}

// readGitPointer reads the first line of the small file f, strips prefix,
// and returns the path it names, relative to base if not absolute,
// resolved.
func readGitPointer(fs FS, f, prefix, base string) (string, bool) {
	data, err := fs.ReadFile(f, 4096)
	if err != nil {
		return "", false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), prefix)
	rest = strings.TrimSpace(rest)
	if !ok || rest == "" {
		return "", false
	}
	target, err := CleanPath(rest)
	if err != nil {
		if target, err = CleanPath(joinPath(base, rest)); err != nil {
			return "", false
		}
	}
	final, err := fs.Resolve(target)
	if err != nil {
		return "", false
	}
	if final, err = CleanPath(final); err != nil {
		return "", false
	}
	return final, true
}

func (p *Plan) rootPaths() []string {
	out := make([]string, len(p.Roots))
	for i, r := range p.Roots {
		out[i] = r.Path
	}
	return out
}

// dedupeGrants drops grants another grant on the same object already covers
// (a deny-write ACE covers a deny-DELETE ACE for the same SID), keeping the
// first of equal ones.
func dedupeGrants(gs []Grant) []Grant {
	var out []Grant
	for i, g := range gs {
		covered := false
		for j, h := range gs {
			if i == j || mustKey(g.Object.Path) != mustKey(h.Object.Path) || g.Object.Kernel != h.Object.Kernel {
				continue
			}
			if (DACL{ACEs: []ACE{h.ACE}}).hasExplicit(g.ACE) && (h.ACE != g.ACE || j < i) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, g)
		}
	}
	return out
}

// AddWorldWritableDenies appends deny-write ACEs for every capability SID on
// the Everyone-writable directories found by a scan, so the command cannot
// use them. A directory that is a volume root or holds a writable root or the
// state directory gets the ACE on itself only: inherited below, it would
// reach the roots and re-stamp a whole drive.
func (p *Plan) AddWorldWritableDenies(found []string) {
	for _, f := range found {
		if p.insideRoot(f) {
			continue
		}
		flags := InheritAll
		if IsVolumeRoot(f) || within(p.input.stateDir, f) || slices.ContainsFunc(p.Roots, func(r Root) bool { return within(r.Path, f) }) {
			flags = 0
		}
		for _, r := range p.Roots {
			// Best effort: a directory the user may not change (owned by
			// SYSTEM, say) is reported, not a reason to refuse the run.
			deny := Grant{
				Object:     Object{Path: f},
				ACE:        ACE{Type: Deny, Flags: flags, Mask: DenyWriteMask, SID: r.SID},
				Reason:     ReasonWorldWritable,
				BestEffort: true,
			}
			// With the other denies, before the allow ACEs.
			i := slices.IndexFunc(p.ACL.Grants, func(g Grant) bool { return g.ACE.Type == Allow })
			if i < 0 {
				i = len(p.ACL.Grants)
			}
			p.ACL.Grants = slices.Insert(p.ACL.Grants, i, deny)
		}
	}
}

func (p *Plan) insideRoot(path string) bool {
	return slices.ContainsFunc(p.Roots, func(r Root) bool { return within(path, r.Path) })
}
