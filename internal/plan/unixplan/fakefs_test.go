package unixplan

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"syscall"

	"github.com/bmatcuk/doublestar/v4"
)

// fakeFS is a file system in memory. Resolve follows links component by
// component and, like macOS's resolver, returns an absent path resolved as
// far as it exists; exact makes it fail for absent paths instead, as
// filepath.EvalSymlinks does (Linux's planner then counts the path as
// absent, as given).
type fakeFS struct {
	nodes map[string]*fakeNode
	exact bool
	// enotdir are paths whose Lstat fails with ENOTDIR.
	enotdir map[string]bool
}

type fakeNode struct {
	kind   Kind
	target string
	data   string
	nlink  uint64
}

func newFS() *fakeFS {
	return &fakeFS{nodes: map[string]*fakeNode{"/": {kind: KindDir}}, enotdir: map[string]bool{}}
}

func (f *fakeFS) put(p string, n *fakeNode) *fakeFS {
	p = path.Clean(p)
	if d := path.Dir(p); d != p {
		if _, ok := f.nodes[d]; !ok {
			f.put(d, &fakeNode{kind: KindDir})
		}
	}
	f.nodes[p] = n
	return f
}

func (f *fakeFS) dir(p string) *fakeFS { return f.put(p, &fakeNode{kind: KindDir}) }
func (f *fakeFS) file(p, data string) *fakeFS {
	return f.put(p, &fakeNode{kind: KindFile, data: data, nlink: 1})
}
func (f *fakeFS) link(p, target string) *fakeFS {
	return f.put(p, &fakeNode{kind: KindSymlink, target: target})
}
func (f *fakeFS) socket(p string) *fakeFS { return f.put(p, &fakeNode{kind: KindSocket}) }

func notExist(p string) error { return &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist} }

func (f *fakeFS) Lstat(p string) (Info, error) {
	if f.enotdir[p] {
		return Info{}, &fs.PathError{Op: "lstat", Path: p, Err: syscall.ENOTDIR}
	}
	n, ok := f.nodes[path.Clean(p)]
	if !ok {
		return Info{}, notExist(p)
	}
	return Info{Kind: n.kind, Nlink: n.nlink}, nil
}

func (f *fakeFS) ReadDir(dir string) ([]Entry, error) {
	n, ok := f.nodes[dir]
	if !ok || n.kind != KindDir {
		return nil, notExist(dir)
	}
	var out []Entry
	for p, n := range f.nodes {
		if p != "/" && path.Dir(p) == dir {
			out = append(out, Entry{Name: path.Base(p), Info: Info{Kind: n.kind, Nlink: n.nlink}})
		}
	}
	// In no particular order: the walk must sort.
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out, nil
}

func (f *fakeFS) ReadFile(p string) ([]byte, error) {
	real, ok, err := f.Resolve(p)
	if err != nil || !ok {
		return nil, notExist(p)
	}
	n := f.nodes[real]
	if n.kind != KindFile {
		return nil, fmt.Errorf("read %s: not a file", p)
	}
	return []byte(n.data), nil
}

func (f *fakeFS) Resolve(p string) (string, bool, error) {
	rest := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		if name == "" {
			continue
		}
		next := path.Join(cur, name)
		n, ok := f.nodes[next]
		if !ok {
			if f.exact {
				return "", false, notExist(p)
			}
			return path.Join(append([]string{next}, rest...)...), false, nil
		}
		if n.kind != KindSymlink {
			cur = next
			continue
		}
		if hops++; hops > 32 {
			return "", false, fmt.Errorf("resolve %s: too many links", p)
		}
		if path.IsAbs(n.target) {
			cur = "/"
		}
		rest = append(strings.Split(n.target, "/"), rest...)
	}
	return cur, true, nil
}

func (f *fakeFS) Glob(pattern string) ([]string, error) {
	if !doublestar.ValidatePattern(pattern) {
		return nil, fmt.Errorf("malformed pattern")
	}
	var out []string
	for p := range f.nodes {
		if ok, _ := doublestar.Match(pattern, p); ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// linuxLike is a Linux-style view of f: absent paths do not resolve.
func linuxLike(f *fakeFS) FS { g := *f; g.exact = true; return linuxView{&g} }

// linuxView turns every resolution failure into absence, as linuxplan's
// adapter does.
type linuxView struct{ *fakeFS }

func (v linuxView) Resolve(p string) (string, bool, error) {
	real, ok, err := v.fakeFS.Resolve(p)
	if err != nil || !ok {
		return p, false, nil
	}
	return real, true, nil
}
