package linuxplan

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
)

// MaxPatternDepth bounds how deep workspace patterns (such as .env.*) are
// searched below each writable root, so that a run does not walk a whole
// monorepo. Deeper matches are not masked; docs/policy.md says so.
const MaxPatternDepth = 4

// skipDirs are not searched for workspace patterns: they hold dependencies
// and build output, not the project's own secrets.
var skipDirs = map[string]bool{
	".git": true, "node_modules": true, "vendor": true, "target": true,
	".venv": true, "venv": true, "__pycache__": true, ".tox": true,
	".mypy_cache": true, ".pytest_cache": true, ".cache": true, ".gradle": true,
}

// denied returns the canonical paths to mask: existing matches of the
// policy's deny_read entries, minus allow_read exceptions.
func (b *builder) denied(roots []string) ([]string, error) {
	p := b.in.Policy
	var absAllow, relAllow []string
	for _, a := range p.Filesystem.AllowRead {
		if filepath.IsAbs(a.Value) {
			absAllow = append(absAllow, a.Value)
		} else {
			relAllow = append(relAllow, a.Value)
		}
	}
	allowed := func(path, rel string) bool {
		for _, a := range absAllow {
			if ok, _ := doublestar.Match(a, path); ok {
				return true
			}
		}
		for _, a := range relAllow {
			if rel != "" && matchRel(a, rel) {
				return true
			}
		}
		return false
	}
	found := map[string]bool{}
	for _, priv := range b.in.Private {
		if real, err := b.fs.EvalSymlinks(priv); err == nil {
			found[real] = true
		}
	}
	var rel []string
	for _, it := range p.Filesystem.DenyRead {
		if !filepath.IsAbs(it.Value) {
			rel = append(rel, it.Value)
			continue
		}
		matches := []string{it.Value}
		if hasGlob(it.Value) {
			m, err := b.fs.Glob(it.Value)
			if err != nil {
				return nil, &InputError{Msg: fmt.Sprintf("deny_read pattern %q (from %s): %v", it.Value, it.From, err)}
			}
			matches = m
		}
		for _, m := range matches {
			if allowed(m, "") {
				continue
			}
			real, err := b.fs.EvalSymlinks(m)
			if err != nil {
				continue // absent: nothing to hide
			}
			if allowed(real, "") {
				continue
			}
			found[real] = true
		}
	}
	for _, r := range roots {
		if r == b.in.CacheDir {
			continue // cordon's own cache holds no project files
		}
		b.walk(r, "", 1, func(relPath, full string, e fs.DirEntry) {
			for _, pat := range rel {
				if !matchRel(pat, relPath) || allowed(full, relPath) {
					continue
				}
				if e.Type()&fs.ModeSymlink != 0 {
					// A link named like a secret: no mask can go on a
					// link (and one the command made would stop every
					// later run); mask what it leads to, if anything.
					if real, err := b.fs.EvalSymlinks(full); err == nil && !allowed(real, "") {
						found[real] = true
					}
					continue
				}
				found[full] = true
			}
		})
	}
	out := unixplan.Keys(found)
	for _, d := range out {
		for _, r := range roots {
			if unixplan.Under(r, d) {
				return nil, &InputError{
					Msg: fmt.Sprintf("the denied path %s holds the writable root %s", d, r),
					Fix: "choose a writable root outside denied paths, or allow the path with filesystem.allow_read in your own policy file"}
			}
		}
	}
	return unixplan.Outermost(out), nil
}

// walk calls fn for every entry below dir up to MaxPatternDepth, without
// following symbolic links to directories.
func (b *builder) walk(dir, rel string, depth int, fn func(rel, full string, e fs.DirEntry)) {
	if depth > MaxPatternDepth {
		return
	}
	entries, err := b.fs.ReadDir(filepath.Join(dir, rel))
	if err != nil {
		return
	}
	for _, e := range entries {
		r := e.Name()
		if rel != "" {
			r = rel + "/" + e.Name()
		}
		fn(r, filepath.Join(dir, r), e)
		if e.IsDir() && !skipDirs[e.Name()] {
			b.walk(dir, r, depth+1, fn)
		}
	}
}

// matchRel matches a workspace pattern: one without a slash matches the base
// name at any depth; one with a slash matches the path below the root.
func matchRel(pattern, rel string) bool {
	if !strings.Contains(pattern, "/") {
		ok, _ := doublestar.Match(pattern, filepath.Base(rel))
		return ok
	}
	ok, _ := doublestar.Match(strings.TrimPrefix(pattern, "./"), rel)
	return ok
}

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[{") }

// complement returns paths whose subtrees together hold everything on the
// filesystem except the denied paths, for a Landlock read rule that cannot
// express "everything but". Each ancestor of a denied path is left out (only
// its other children are granted), so files created later directly in such
// an ancestor are not readable; that is the price of the weaker mode.
//
// It returns the paths to grant reading and the ancestors to grant listing.
func complement(fsys FS, denied []string) (readable, listable []string) {
	if len(denied) == 0 {
		return []string{"/"}, nil
	}
	ancestors := map[string]bool{}
	deniedSet := map[string]bool{}
	for _, d := range denied {
		deniedSet[d] = true
		for a := filepath.Dir(d); ; a = filepath.Dir(a) {
			ancestors[a] = true
			if a == "/" {
				break
			}
		}
	}
	var grant []string
	var visit func(dir string)
	visit = func(dir string) {
		entries, err := fsys.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			child := filepath.Join(dir, e.Name())
			switch {
			case deniedSet[child]:
			case ancestors[child]:
				visit(child)
			default:
				grant = append(grant, child)
			}
		}
	}
	visit("/")
	sort.Strings(grant)
	return grant, unixplan.Keys(ancestors)
}
