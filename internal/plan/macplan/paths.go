package macplan

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
	"github.com/cordon-sandbox/cordon/policy"
)

// The path decisions shared with Linux (the deny_read search, protected
// paths, git directories, host sockets) are internal/plan/unixplan's, so
// that one policy means the same on both systems; the Host newBuilder
// makes states where macOS decides differently, and why. What is macOS's
// alone is here: the resolver's canonical paths, macOS's own secret places,
// the hard links.

// MaxHardLinks bounds how many hard-linked files a run protects one by one.
const MaxHardLinks = 256

// MacSecrets are macOS's own places for secrets, denied on top of the
// policy's deny_read (paths relative to the home directory): the keychain
// files, browser profiles with their cookies and saved passwords, mail and
// messages.
var MacSecrets = []string{
	"Library/Keychains",
	"Library/Cookies",
	"Library/Application Support/Google/Chrome",
	"Library/Application Support/Chromium",
	"Library/Application Support/BraveSoftware",
	"Library/Application Support/Microsoft Edge",
	"Library/Application Support/Firefox",
	"Library/Mail",
	"Library/Messages",
}

// InputError is a problem with the inputs of a plan that the user can fix.
type InputError = unixplan.InputError

type builder struct {
	in   Input
	fs   FS
	res  resolver
	host unixplan.Host
	// hardLinks are regular files inside the roots with more than one name.
	hardLinks []string
}

// newBuilder makes the builder of a plan, with the traits in which
// Seatbelt's enforcement differs from Linux's stated.
func newBuilder(in Input) *builder {
	b := &builder{in: in, fs: in.FS, res: resolver{fs: in.FS, fold: in.CaseInsensitive}}
	b.host = unixplan.Host{
		FS: hostFS{b},
		// APFS compares names without case by default.
		Fold: in.CaseInsensitive,
		// Seatbelt's rules name paths: a denied path that does not exist
		// yet is denied all the same, should it appear.
		DenyAbsent: true,
		// A link that a workspace pattern matches (.env -> ~/secret) is
		// denied by both paths: Seatbelt compares a read through it with
		// the target the kernel resolves, an lstat with the link's own.
		DenyLinkTargets: true,
		DenyLinkPaths:   true,
		// Seatbelt compares rules with resolved paths.
		ResolveProtected: true,
		// Nothing checks a repository the command makes when the run
		// ends (Linux's supervisor does): an absent .git stays
		// uncreatable.
		OwnNewGit: false,
		// A .git file whose gitdir does not resolve adds nothing.
		KeepUnresolvedGitdir: false,
	}
	return b
}

// canonical resolves p and fails if it must exist and does not.
func (b *builder) canonical(p string) (string, bool, error) {
	return b.res.resolve(p)
}

// writableRoots returns the canonical writable roots: the workspace, the
// policy's extra roots and the private cache. Read-only mode has none.
func (b *builder) writableRoots() ([]string, error) {
	p := b.in.Policy
	if p.Mode.Value == policy.ModeReadOnly {
		return nil, nil
	}
	var roots []string
	add := func(p, from string) error {
		real, ok, err := b.canonical(p)
		if err != nil {
			return err
		}
		if !ok {
			return &InputError{Msg: fmt.Sprintf("writable root %s (from %s) does not exist", p, from),
				Fix: fmt.Sprintf("create it (mkdir -p %s) or remove it from the policy", p)}
		}
		roots = append(roots, real)
		return nil
	}
	if err := add(b.in.Workspace, "the workspace"); err != nil {
		return nil, err
	}
	for _, it := range p.Filesystem.Writable {
		if err := add(it.Value, it.From.String()); err != nil {
			return nil, err
		}
	}
	if b.in.CacheDir != "" {
		if err := add(b.in.CacheDir, "cordon's private cache"); err != nil {
			return nil, err
		}
	}
	return unixplan.Dedupe(roots), nil
}

// cache returns the canonical private cache, or "".
func (b *builder) cache() string {
	if b.in.CacheDir == "" {
		return ""
	}
	c, _, _ := b.canonical(b.in.CacheDir)
	return c
}

// denied returns the canonical paths to deny reading (unixplan's
// Host.Denied): the policy's deny_read entries (existing or not: Seatbelt
// can deny a name that does not exist yet), macOS's own secret places,
// cordon's private paths and the existing matches of workspace patterns,
// minus allow_read exceptions. It collects the hard-linked files of the
// roots on the way.
func (b *builder) denied(roots []string) ([]string, error) {
	p := b.in.Policy
	secrets := make([]string, len(MacSecrets))
	for i, s := range MacSecrets {
		secrets[i] = path.Join(b.in.Home, s)
	}
	cache := b.cache()
	// The workspace is searched in read-only mode too, where it is no
	// writable root: its secrets are as secret when they cannot change.
	// (An error resolving it comes after those of the policy's entries.)
	search := roots
	var werr error
	if len(roots) == 0 {
		w, ok, err := b.canonical(b.in.Workspace)
		if err != nil {
			werr = err
		} else if ok {
			search = []string{w}
		}
	}
	denied, err := b.host.Denied(unixplan.DenyInput{
		DenyRead:  p.Filesystem.DenyRead,
		AllowRead: p.Filesystem.AllowRead,
		Private:   b.in.Private,
		Extra:     secrets,
		Search:    search,
		Cache:     cache,
		Roots:     roots,
		Visit: func(full string, info Info) {
			if info.Kind == KindFile && info.Nlink > 1 {
				// A file with another name may have that name outside
				// the roots; a write through this one would change it
				// there.
				b.hardLinks = append(b.hardLinks, full)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	return denied, nil
}

// glob expands an absolute pattern against the filesystem, one component
// at a time, without following symbolic links to directories it lists.
func (b *builder) glob(pattern string) ([]string, error) {
	if !doublestar.ValidatePattern(pattern) {
		return nil, fmt.Errorf("malformed pattern")
	}
	parts := strings.Split(strings.TrimPrefix(path.Clean(pattern), "/"), "/")
	cur := []string{"/"}
	for _, part := range parts {
		var next []string
		for _, dir := range cur {
			if !unixplan.HasGlob(part) {
				next = append(next, path.Join(dir, part))
				continue
			}
			names, err := b.fs.ReadDir(dir)
			if err != nil {
				continue
			}
			sort.Strings(names)
			for _, n := range names {
				if b.host.Match(part, n) {
					next = append(next, path.Join(dir, n))
				}
			}
		}
		cur = next
	}
	var out []string
	for _, c := range cur {
		if _, err := b.fs.Lstat(c); err == nil {
			out = append(out, c)
		}
	}
	return out, nil
}

// protected returns the canonical protected paths inside the writable roots
// (unixplan's Host.Protected), the hard-linked files among them and the
// hooks directory and config files git's config names
// (Host.GitConfigTargets), sorted, and which of them do not exist.
func (b *builder) protected(roots []string) (paths []string, absent map[string]bool, err error) {
	named, err := b.host.GitConfigTargets(unixplan.GitConfigInput{
		Roots: roots, Cache: b.cache(), Home: b.in.Home, Workspace: b.in.Workspace})
	if err != nil {
		return nil, nil, err
	}
	paths, absent, err = b.host.Protected(unixplan.ProtectInput{
		Protected:   b.in.Policy.Filesystem.Protected,
		PolicyFiles: b.in.PolicyFiles,
		Extra:       append(slices.Clip(b.hardLinks), named...),
		Roots:       roots,
		Cache:       b.cache(),
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(paths)
	return paths, absent, nil
}

// pins returns the directories that must keep their names: every writable
// root, and every directory between a root and a protected or denied path
// inside it. Renaming one would move the protected or denied path to a name
// no rule covers.
func pins(roots, guarded []string) []string {
	set := map[string]bool{}
	for _, r := range roots {
		set[r] = true
	}
	for _, a := range unixplan.Ancestors(guarded, roots) {
		set[a] = true
	}
	return unixplan.Keys(set)
}
