package linuxplan

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// under reports whether path is dir or below it. Both must be clean.
func under(path, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func inAny(path string, dirs []string) bool {
	return rootOf(path, dirs) != ""
}

// rootOf returns the innermost dir of dirs that holds path, or "".
func rootOf(path string, dirs []string) string {
	best := ""
	for _, d := range dirs {
		if under(path, d) && len(d) > len(best) {
			best = d
		}
	}
	return best
}

// outermost drops paths that lie below another path of the list.
func outermost(paths []string) []string {
	sorted := append([]string{}, paths...)
	sort.Strings(sorted)
	var out []string
	for _, p := range sorted {
		if len(out) > 0 && under(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// keepIn keeps the entries of list that are also in set.
func keepIn(list, set []string) []string {
	in := map[string]bool{}
	for _, s := range set {
		in[s] = true
	}
	var out []string
	for _, l := range list {
		if in[l] {
			out = append(out, l)
		}
	}
	return out
}

// sortedByDepth orders paths so that a parent comes before its children.
func sortedByDepth(paths []string) []string {
	out := append([]string{}, paths...)
	sort.Slice(out, func(i, j int) bool {
		di, dj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		if di != dj {
			return di < dj
		}
		return out[i] < out[j]
	})
	return out
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func dedupe(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
