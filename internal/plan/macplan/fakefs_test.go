package macplan

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// fakeFS is a filesystem laid out as on macOS: /var, /tmp and /etc are
// symbolic links into /private, homes are under /Users. With fold set it
// finds names without case, as APFS does by default.
type fakeFS struct {
	nodes map[string]*fakeNode
	fold  bool
}

type fakeNode struct {
	kind   Kind
	target string
	data   string
	nlink  uint64
}

func newMacFS() *fakeFS {
	f := &fakeFS{nodes: map[string]*fakeNode{"/": {kind: KindDir}}}
	for _, d := range []string{"/private/var/folders/zz/T", "/private/tmp", "/private/etc", "/Users", "/dev", "/usr/bin", "/bin", "/Library"} {
		f.dir(d)
	}
	f.link("/var", "private/var")
	f.link("/tmp", "private/tmp")
	f.link("/etc", "private/etc")
	f.file("/private/etc/hosts", "")
	f.file("/usr/bin/sudo", "")
	return f
}

func (f *fakeFS) key(p string) (string, bool) {
	p = path.Clean(p)
	if _, ok := f.nodes[p]; ok {
		return p, true
	}
	if f.fold {
		for k := range f.nodes {
			if strings.EqualFold(k, p) {
				return k, true
			}
		}
	}
	return "", false
}

func (f *fakeFS) put(p string, n *fakeNode) {
	p = path.Clean(p)
	if d := path.Dir(p); d != p {
		if _, ok := f.nodes[d]; !ok {
			f.dir(d)
		}
	}
	f.nodes[p] = n
}

func (f *fakeFS) dir(p string) *fakeFS { f.put(p, &fakeNode{kind: KindDir}); return f }
func (f *fakeFS) file(p, data string) *fakeFS {
	f.put(p, &fakeNode{kind: KindFile, data: data, nlink: 1})
	return f
}
func (f *fakeFS) link(p, target string) *fakeFS {
	f.put(p, &fakeNode{kind: KindSymlink, target: target})
	return f
}
func (f *fakeFS) socket(p string) *fakeFS { f.put(p, &fakeNode{kind: KindSocket}); return f }

// hardlink makes p a file with two names (the other one elsewhere).
func (f *fakeFS) hardlink(p string) *fakeFS {
	f.put(p, &fakeNode{kind: KindFile, nlink: 2})
	return f
}

func notExist(p string) error { return &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist} }

func (f *fakeFS) Lstat(p string) (Info, error) {
	k, ok := f.key(p)
	if !ok {
		return Info{}, notExist(p)
	}
	n := f.nodes[k]
	return Info{Kind: n.kind, Nlink: n.nlink}, nil
}

func (f *fakeFS) Readlink(p string) (string, error) {
	k, ok := f.key(p)
	if !ok || f.nodes[k].kind != KindSymlink {
		return "", fmt.Errorf("readlink %s: not a link", p)
	}
	return f.nodes[k].target, nil
}

func (f *fakeFS) ReadDir(p string) ([]string, error) {
	k, ok := f.key(p)
	if !ok || f.nodes[k].kind != KindDir {
		return nil, notExist(p)
	}
	var names []string
	for q := range f.nodes {
		if q != "/" && path.Dir(q) == k {
			names = append(names, path.Base(q))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (f *fakeFS) ReadFile(p string) ([]byte, error) {
	real, ok, err := resolver{fs: f, fold: f.fold}.resolve(p)
	if err != nil || !ok {
		return nil, notExist(p)
	}
	k, _ := f.key(real)
	if f.nodes[k].kind != KindFile {
		return nil, fmt.Errorf("read %s: not a file", p)
	}
	return []byte(f.nodes[k].data), nil
}
