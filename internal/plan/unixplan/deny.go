package unixplan

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/cordon-sandbox/cordon/policy"
)

// MaxPatternDepth bounds how deep workspace patterns (such as .env.*) are
// searched below each root, so that a run does not walk a whole monorepo.
// Deeper matches are not denied; docs/policy.md says so.
const MaxPatternDepth = 4

// skipDirs are not searched for workspace patterns: they hold dependencies
// and build output, not the project's own secrets. docs/policy.md lists
// them.
var skipDirs = map[string]bool{
	".git": true, "node_modules": true, "vendor": true, "target": true,
	".venv": true, "venv": true, "__pycache__": true, ".tox": true,
	".mypy_cache": true, ".pytest_cache": true, ".cache": true, ".gradle": true,
}

// DenyInput is what Denied decides from.
type DenyInput struct {
	// DenyRead and AllowRead are the policy's filesystem.deny_read and
	// filesystem.allow_read entries: absolute paths and globs, or
	// workspace patterns (relative).
	DenyRead, AllowRead []policy.Item
	// Private are cordon's own paths, denied whatever the policy says
	// (allow_read does not apply to them).
	Private []string
	// Extra are further absolute paths denied like deny_read entries
	// (macOS's own secret places).
	Extra []string
	// Search are the directories searched for workspace patterns.
	Search []string
	// Cache is cordon's private cache, which holds no project files and is
	// not searched.
	Cache string
	// Roots are the directories no denied path may hold (the writable
	// roots): a denied path above one would hide it.
	Roots []string
	// Visit, when set, is called for every entry the search meets.
	Visit func(full string, info Info)
}

// Denied returns the resolved paths to deny reading, outermost only: the
// private paths; the extra paths and the absolute deny_read entries (globs
// expanded), unless allow_read excepts them by the name given or the name
// resolved; and the entries below the search directories (to
// MaxPatternDepth, not inside skipDirs, links not followed) that a workspace
// pattern matches and no allow_read entry excepts. It refuses a denied path
// that holds one of the roots.
func (h Host) Denied(in DenyInput) ([]string, error) {
	var absAllow, relAllow []string
	for _, a := range in.AllowRead {
		if path.IsAbs(a.Value) {
			absAllow = append(absAllow, a.Value)
		} else {
			relAllow = append(relAllow, a.Value)
		}
	}
	allowed := func(p, rel string) bool {
		for _, a := range absAllow {
			if h.Match(a, p) {
				return true
			}
		}
		for _, a := range relAllow {
			if rel != "" && h.MatchRel(a, rel) {
				return true
			}
		}
		return false
	}
	found := map[string]bool{}
	addAbs := func(p string) error {
		if allowed(p, "") {
			return nil
		}
		real, ok, err := h.FS.Resolve(p)
		if err != nil {
			return err
		}
		if (ok || h.DenyAbsent) && !allowed(real, "") {
			found[real] = true
		}
		return nil
	}
	for _, priv := range in.Private {
		real, ok, err := h.FS.Resolve(priv)
		if err != nil {
			return nil, err
		}
		if ok || h.DenyAbsent {
			found[real] = true
		}
	}
	for _, p := range in.Extra {
		if err := addAbs(p); err != nil {
			return nil, err
		}
	}
	var rel []string
	for _, it := range in.DenyRead {
		if !path.IsAbs(it.Value) {
			rel = append(rel, it.Value)
			continue
		}
		matches := []string{it.Value}
		if HasGlob(it.Value) {
			m, err := h.FS.Glob(it.Value)
			if err != nil {
				return nil, &InputError{Msg: fmt.Sprintf("deny_read pattern %q (from %s): %v", it.Value, it.From, err)}
			}
			matches = m
		}
		for _, m := range matches {
			if err := addAbs(m); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range in.Search {
		if r == in.Cache {
			continue // cordon's own cache holds no project files
		}
		h.walk(r, "", 1, func(relPath, full string, info Info) {
			for _, pat := range rel {
				if !h.MatchRel(pat, relPath) || allowed(full, relPath) {
					continue
				}
				if h.DenyLinkTargets && info.Kind == KindSymlink {
					if real, ok, err := h.FS.Resolve(full); err == nil && (ok || h.DenyAbsent) && !allowed(real, "") {
						found[real] = true
					}
					if !h.DenyLinkPaths {
						continue
					}
				}
				found[full] = true
			}
			if in.Visit != nil {
				in.Visit(full, info)
			}
		})
	}
	out := Keys(found)
	for _, d := range out {
		for _, r := range in.Roots {
			if Under(r, d) {
				return nil, &InputError{
					Msg: fmt.Sprintf("the denied path %s holds the writable root %s", d, r),
					Fix: "choose a writable root outside denied paths, or allow the path with filesystem.allow_read in your own policy file"}
			}
		}
	}
	return Outermost(out), nil
}

// walk calls fn for every entry below dir up to MaxPatternDepth, in name
// order, without following symbolic links. Paths are joined by hand: dir
// is clean and names have no slash, and path.Join's cleaning was most of
// a warm command's plan.
func (h Host) walk(dir, rel string, depth int, fn func(rel, full string, info Info)) {
	h.walkDir(dir, strings.TrimSuffix(dir, "/"), rel, depth, fn)
}

// walkDir walks full, which is dir/rel; prefix is full without a trailing
// slash (empty for /).
func (h Host) walkDir(full, prefix, rel string, depth int, fn func(rel, full string, info Info)) {
	if depth > MaxPatternDepth {
		return
	}
	entries, err := h.FS.ReadDir(full)
	if err != nil {
		return
	}
	byName := func(i, j int) bool { return entries[i].Name < entries[j].Name }
	if !sort.SliceIsSorted(entries, byName) {
		sort.SliceStable(entries, byName)
	}
	for _, e := range entries {
		r := e.Name
		if rel != "" {
			r = rel + "/" + e.Name
		}
		child := prefix + "/" + e.Name
		fn(r, child, e.Info)
		if e.Info.Kind == KindDir && !skipDirs[e.Name] {
			h.walkDir(child, child, r, depth+1, fn)
		}
	}
}
