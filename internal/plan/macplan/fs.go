package macplan

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
)

// Kind is what a path names.
type Kind = unixplan.Kind

const (
	KindFile    = unixplan.KindFile
	KindDir     = unixplan.KindDir
	KindSymlink = unixplan.KindSymlink
	KindSocket  = unixplan.KindSocket
	KindOther   = unixplan.KindOther
)

// Info describes one path without following a symbolic link at its end:
// its kind and how many names it has.
type Info = unixplan.Info

// FS is what the planner reads of the filesystem: facts, never changes.
// OSFS reads the real one; tests give a fake with macOS's layout (/var,
// /tmp and /etc as links into /private).
type FS interface {
	// Lstat fails with an error satisfying errors.Is(err, fs.ErrNotExist)
	// when the path does not exist.
	Lstat(path string) (Info, error)
	Readlink(path string) (string, error)
	// ReadDir returns the names in a directory.
	ReadDir(path string) ([]string, error)
	ReadFile(path string) ([]byte, error)
}

// OSFS reads the real filesystem.
type OSFS struct{}

func (OSFS) Lstat(p string) (Info, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return Info{}, err
	}
	return Info{Kind: unixplan.KindOf(fi.Mode()), Nlink: linkCount(fi)}, nil
}

func (OSFS) Readlink(p string) (string, error) { return os.Readlink(p) }

func (OSFS) ReadDir(p string) ([]string, error) {
	es, err := os.ReadDir(p)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name()
	}
	return names, nil
}

func (OSFS) ReadFile(p string) ([]byte, error) { return os.ReadFile(p) }

// maxLinks bounds how many symbolic links one resolution follows, as the
// kernel's MAXSYMLINKS does.
const maxLinks = 32

// resolver turns paths into the form Seatbelt compares its rules with: the
// path of the file as the kernel finds it, every symbolic link on the way
// followed (/var/folders/... is /private/var/folders/..., /tmp is
// /private/tmp, /etc is /private/etc). Unlike filepath.EvalSymlinks it
// resolves paths whose last components do not exist yet: a protected path
// that is absent must be denied under the name it will have.
type resolver struct {
	fs FS
	// fold: the volume compares names without case (APFS's default), so
	// each existing component is spelled as the directory spells it.
	fold bool
}

// resolve returns the canonical form of the absolute path p, and whether it
// exists.
func (r resolver) resolve(p string) (string, bool, error) {
	if !path.IsAbs(p) {
		return "", false, fmt.Errorf("path %q is not absolute", p)
	}
	rest := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	if len(rest) == 1 && rest[0] == "" {
		return "/", true, nil
	}
	cur := "/"
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = path.Dir(cur)
			continue
		}
		next := path.Join(cur, name)
		info, err := r.fs.Lstat(next)
		if unixplan.IsNotExist(err) {
			// The rest does not exist: it is taken as written.
			return path.Join(append([]string{next}, rest...)...), false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("resolve %s: %w", p, err)
		}
		if r.fold {
			if spelled, ok := r.spelling(cur, name); ok {
				next = path.Join(cur, spelled)
			}
		}
		if info.Kind != KindSymlink {
			cur = next
			continue
		}
		links++
		if links > maxLinks {
			return "", false, fmt.Errorf("resolve %s: more than %d symbolic links", p, maxLinks)
		}
		target, err := r.fs.Readlink(next)
		if err != nil {
			return "", false, fmt.Errorf("resolve %s: %w", p, err)
		}
		if path.IsAbs(target) {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return cur, true, nil
}

// spelling returns the name of dir's entry that equals name without case.
func (r resolver) spelling(dir, name string) (string, bool) {
	names, err := r.fs.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, n := range names {
		if n == name {
			return n, true
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

// hostFS shows the planner's view, paths as Seatbelt sees them, to the
// decisions shared with Linux (internal/plan/unixplan).
type hostFS struct{ b *builder }

func (h hostFS) Lstat(p string) (Info, error)      { return h.b.fs.Lstat(p) }
func (h hostFS) ReadFile(p string) ([]byte, error) { return h.b.fs.ReadFile(p) }
func (h hostFS) Resolve(p string) (string, bool, error) {
	return h.b.res.resolve(p)
}
func (h hostFS) Glob(pattern string) ([]string, error) { return h.b.glob(pattern) }

// ReadDir describes each entry with Lstat; one that is gone by then is
// left out.
func (h hostFS) ReadDir(dir string) ([]unixplan.Entry, error) {
	names, err := h.b.fs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []unixplan.Entry
	for _, n := range names {
		info, err := h.b.fs.Lstat(path.Join(dir, n))
		if err != nil {
			continue
		}
		out = append(out, unixplan.Entry{Name: n, Info: info})
	}
	return out, nil
}
