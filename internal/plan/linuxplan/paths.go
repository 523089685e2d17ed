package linuxplan

import (
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
)

// FS is what the planner reads of the filesystem.
type FS interface {
	Lstat(path string) (fs.FileInfo, error)
	Stat(path string) (fs.FileInfo, error)
	ReadFile(path string) ([]byte, error)
	ReadDir(path string) ([]fs.DirEntry, error)
	EvalSymlinks(path string) (string, error)
	Glob(pattern string) ([]string, error)
}

// OSFS reads the real filesystem.
type OSFS struct{}

func (OSFS) Lstat(p string) (fs.FileInfo, error)     { return os.Lstat(p) }
func (OSFS) Stat(p string) (fs.FileInfo, error)      { return os.Stat(p) }
func (OSFS) ReadFile(p string) ([]byte, error)       { return os.ReadFile(p) }
func (OSFS) ReadDir(p string) ([]fs.DirEntry, error) { return os.ReadDir(p) }
func (OSFS) EvalSymlinks(p string) (string, error)   { return filepath.EvalSymlinks(p) }
func (OSFS) Glob(pattern string) ([]string, error)   { return filepath.Glob(pattern) }

// host is how the decisions shared with macOS (internal/plan/unixplan) see
// Linux: the host's paths, and every trait in which Linux's enforcement
// differs from Seatbelt's stated.
func host(fsys FS) unixplan.Host {
	return unixplan.Host{
		FS: hostFS{fsys},
		// Names are compared as bytes.
		Fold: false,
		// Masks are mounts, which need an existing file: an absent
		// denied path has nothing to hide.
		DenyAbsent: false,
		// No mask can go on a link (and one on a link the command made
		// would stop every later run): what it leads to is masked.
		DenyLinkTargets: true,
		// Protected paths and policy files are bound where they are
		// named.
		ResolveProtected: false,
		// The supervisor checks a repository the command makes when the
		// run ends (internal/apply/linuxinit, guard_git_linux.go).
		OwnNewGit: true,
		// A .git file's gitdir that does not exist (yet) is still kept
		// from being created: its first missing component is reserved.
		KeepUnresolvedGitdir: true,
	}
}

// hostFS shows an FS to internal/plan/unixplan.
type hostFS struct{ fs FS }

func (h hostFS) Lstat(p string) (unixplan.Info, error) {
	fi, err := h.fs.Lstat(p)
	if err != nil {
		return unixplan.Info{}, err
	}
	return unixplan.Info{Kind: unixplan.KindOf(fi.Mode())}, nil
}

// ReadDir takes each entry's kind from the directory itself (no stat per
// entry): the search of a workspace reads many.
func (h hostFS) ReadDir(dir string) ([]unixplan.Entry, error) {
	es, err := h.fs.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]unixplan.Entry, len(es))
	for i, e := range es {
		out[i] = unixplan.Entry{Name: e.Name(), Info: unixplan.Info{Kind: unixplan.KindOf(e.Type())}}
	}
	return out, nil
}

func (h hostFS) ReadFile(p string) ([]byte, error)     { return h.fs.ReadFile(p) }
func (h hostFS) Glob(pattern string) ([]string, error) { return h.fs.Glob(pattern) }

// Resolve counts every path EvalSymlinks cannot resolve, whatever the
// reason, as absent: nothing can be bound or masked there.
func (h hostFS) Resolve(p string) (string, bool, error) {
	// Most deny-listed paths do not exist: one lstat says so, where
	// EvalSymlinks would look at every component first.
	if _, err := h.fs.Lstat(p); err != nil {
		return p, false, nil
	}
	real, err := h.fs.EvalSymlinks(p)
	if err != nil {
		return p, false, nil
	}
	return real, true, nil
}
