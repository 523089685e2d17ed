package unixplan

import (
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/cordon-sandbox/cordon/policy"
)

// ProtectInput is what Protected decides from.
type ProtectInput struct {
	// Protected are the policy's filesystem.protected entries: absolute
	// paths, or paths relative to every root.
	Protected []policy.Item
	// PolicyFiles are the policy files in use.
	PolicyFiles []string
	// Extra are further absolute paths protected as they are named,
	// cleaned (Linux: what the repositories' git config names as hooks or
	// more config; macOS: the hard-linked files in the roots).
	Extra []string
	// Roots are the writable roots, resolved.
	Roots []string
	// Cache is cordon's private cache, a root that holds no project files:
	// relative entries are not protected in it.
	Cache string
}

// Protected returns what keeps the protected paths that lie inside the
// roots read-only: for each, the path itself or, when a parent is missing,
// the highest missing ancestor (a name that does not exist must stay
// uncreatable as a whole), with the git directories a root's .git file
// points to (GitDirs) protected like .git. The paths come in the order they
// were found, without those below another of them; absent holds every one
// that does not exist, also those another covers. It refuses a protected
// path that is a root, or that has a symbolic link on its way from the
// root.
func (h Host) Protected(in ProtectInput) (paths []string, absent map[string]bool, err error) {
	want := map[string]bool{}
	// Absolute paths are named as the system names them; relative ones are
	// below resolved roots and checked component by component in
	// FirstMissing.
	addAbs := func(q string) error {
		if !h.ResolveProtected {
			want[path.Clean(q)] = true
			return nil
		}
		// Resolved up to its last component, which stays as written: if it
		// is a link, FirstMissing refuses it.
		dir, _, err := h.FS.Resolve(path.Dir(q))
		if err != nil {
			return err
		}
		want[path.Join(dir, path.Base(q))] = true
		return nil
	}
	for _, it := range in.Protected {
		if path.IsAbs(it.Value) {
			if err := addAbs(it.Value); err != nil {
				return nil, nil, err
			}
			continue
		}
		for _, r := range in.Roots {
			if r == in.Cache {
				continue // cordon's own cache holds no project files
			}
			want[path.Join(r, it.Value)] = true
		}
	}
	for _, f := range in.PolicyFiles {
		if err := addAbs(f); err != nil {
			return nil, nil, err
		}
	}
	for _, f := range in.Extra {
		want[path.Clean(f)] = true
	}
	for _, r := range in.Roots {
		for _, g := range h.GitDirs(r) {
			for _, name := range []string{"config", "hooks"} {
				want[path.Join(g, name)] = true
			}
		}
	}
	var list []string
	for q := range want {
		if InAny(q, in.Roots) {
			list = append(list, q)
		}
	}
	sort.Strings(list)
	absent = map[string]bool{}
	seen := map[string]bool{}
	for _, q := range list {
		root := RootOf(q, in.Roots)
		if q == root {
			return nil, nil, &InputError{Msg: fmt.Sprintf("%s is both a writable root and a protected path", q),
				Fix: "remove one of the two from the policy"}
		}
		target, exists, err := h.FirstMissing(root, q)
		if err != nil {
			return nil, nil, err
		}
		if seen[target] {
			continue
		}
		seen[target] = true
		if !exists && h.OwnNewGit && path.Base(target) == ".git" {
			continue // see Host.OwnNewGit
		}
		if !exists {
			absent[target] = true
		}
		paths = append(paths, target)
	}
	// A protected path below another protected path is covered by it.
	return KeepIn(paths, Outermost(paths)), absent, nil
}

// FirstMissing walks from root towards p, which lies below it, and returns
// the first component that does not exist, or p itself when everything
// exists, and whether it exists. A file where a directory was expected (a
// .git file) covers everything below its name, so it is returned, as
// existing. It refuses symbolic links on the way: a link can be replaced,
// and its target is another path, which the command could reach by its own
// name.
func (h Host) FirstMissing(root, p string) (string, bool, error) {
	rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
	parts := strings.Split(rel, "/")
	cur := root
	for i, part := range parts {
		cur = path.Join(cur, part)
		info, err := h.FS.Lstat(cur)
		if err != nil {
			if IsNotExist(err) {
				return cur, false, nil
			}
			if errors.Is(err, syscall.ENOTDIR) {
				// The parent was described as a directory but is none
				// now: like a file below, it covers the name.
				return path.Dir(cur), true, nil
			}
			return "", false, fmt.Errorf("protected path %s: %w", cur, err)
		}
		if info.Kind == KindSymlink {
			return "", false, &InputError{
				Msg: fmt.Sprintf("protected path %s is a symbolic link, which the sandbox could replace", cur),
				Fix: "replace the link with the real directory or file, or unprotect the path in your own policy file"}
		}
		if info.Kind != KindDir && i < len(parts)-1 {
			return cur, true, nil
		}
	}
	return p, true, nil
}

// GitDirs returns the git directories a root's .git file points to
// (worktrees, submodules), resolved, with the common directory of a
// worktree (its commondir file); none when .git is no regular file or does
// not start with a gitdir: line.
func (h Host) GitDirs(root string) []string {
	dotgit := path.Join(root, ".git")
	info, err := h.FS.Lstat(dotgit)
	if err != nil || info.Kind != KindFile {
		return nil
	}
	data, err := h.FS.ReadFile(dotgit)
	if err != nil {
		return nil
	}
	line, _, _ := strings.Cut(string(data), "\n")
	gd, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return nil
	}
	gd = strings.TrimSpace(gd)
	if !path.IsAbs(gd) {
		gd = path.Join(root, gd)
	}
	if real, ok, err := h.FS.Resolve(gd); err == nil && ok {
		gd = real
	} else if !h.KeepUnresolvedGitdir {
		return nil
	}
	dirs := []string{gd}
	if c, err := h.FS.ReadFile(path.Join(gd, "commondir")); err == nil {
		cd := strings.TrimSpace(string(c))
		if !path.IsAbs(cd) {
			cd = path.Join(gd, cd)
		}
		if real, ok, err := h.FS.Resolve(cd); err == nil && ok {
			dirs = append(dirs, real)
		}
	}
	return dirs
}
