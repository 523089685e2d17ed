package winplan

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// fakeFS is an in-memory Windows file system with DACLs, enough to judge
// planning, reconciling, cleanup and the scan from outside: it computes
// inherited ACEs on read the way Windows propagates them, merges added ACEs
// the way SetEntriesInAcl does, and counts every change.
type fakeFS struct {
	nodes  map[string]*fakeNode // by PathKey
	kernel map[string]*fakeNode

	creates, aceWrites int
	// volumes overrides the volume of paths below each key (a clean path):
	// every other path is on a local NTFS volume.
	volumes map[string]VolumeInfo
	// children, when set, indexes the nodes by their parent's key, for
	// trees too large to scan on every ReadDir (see indexChildren).
	children map[string][]*fakeNode
	// contents holds file contents by key, for ReadFile.
	contents map[string]string
	// dropWrites makes WriteDACL succeed without changing anything, as a file
	// system without ACLs would.
	dropWrites bool
}

type fakeNode struct {
	path    string
	dir     bool
	reparse string // link target, for links and junctions
	size    int64
	aces    []ACE // explicit only
	null    bool
	// protected stops inheritance from the parents.
	protected bool
	// content is what Create wrote.
	content string
}

func newFakeFS() *fakeFS {
	f := &fakeFS{nodes: map[string]*fakeNode{}, kernel: map[string]*fakeNode{}}
	f.kernel[mustKey(NullDevice.Path)] = &fakeNode{path: NullDevice.Path}
	return f
}

func clean(t testing.TB, p string) string {
	t.Helper()
	c, err := CleanPath(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mkdir creates dir, with exactly aces, and its missing parents; existing
// parents are kept as they are.
func (f *fakeFS) mkdir(t testing.TB, p string, aces ...ACE) *fakeNode {
	t.Helper()
	p = clean(t, p)
	f.ensureDir(t, parentOf(p))
	n := &fakeNode{path: p, dir: true, aces: aces}
	f.nodes[mustKey(p)] = n
	return n
}

// ensureDir creates dir and its missing parents, leaving whatever exists
// (and its ACEs) alone.
func (f *fakeFS) ensureDir(t testing.TB, p string) {
	t.Helper()
	if p == "" {
		return
	}
	if _, ok := f.nodes[mustKey(clean(t, p))]; !ok {
		f.mkdir(t, p)
	}
}

func (f *fakeFS) file(t testing.TB, p string, size int64, aces ...ACE) *fakeNode {
	t.Helper()
	p = clean(t, p)
	f.ensureDir(t, parentOf(p))
	n := &fakeNode{path: p, size: size, aces: aces}
	f.nodes[mustKey(p)] = n
	return n
}

func (f *fakeFS) link(t testing.TB, p, target string) {
	t.Helper()
	p = clean(t, p)
	f.ensureDir(t, parentOf(p))
	f.nodes[mustKey(p)] = &fakeNode{path: p, dir: true, reparse: clean(t, target)}
}

// resolve follows links in every component of p.
func (f *fakeFS) resolve(p string, followLast bool) (string, error) {
	volume, rest, err := splitVolume(p)
	if err != nil {
		return "", err
	}
	cur := volume + `\`
	parts := strings.Split(rest, `\`)
	for i, c := range parts {
		if c == "" {
			continue
		}
		cur = joinPath(cur, c)
		for hops := 0; ; hops++ {
			n, ok := f.nodes[mustKey(cur)]
			if !ok || n.reparse == "" || (i == len(parts)-1 && !followLast) {
				break
			}
			if hops > 10 {
				return "", fmt.Errorf("link loop at %s", cur)
			}
			cur = n.reparse
		}
	}
	return cur, nil
}

func (f *fakeFS) Lstat(p string) (FileInfo, error) {
	r, err := f.resolve(p, false)
	if err != nil {
		return FileInfo{}, err
	}
	n, ok := f.nodes[mustKey(r)]
	if !ok {
		return FileInfo{}, nil
	}
	return FileInfo{Exists: true, Dir: n.dir, Reparse: n.reparse != "", Size: n.size, Links: 1}, nil
}

func (f *fakeFS) Resolve(p string) (string, error) {
	r, err := f.resolve(p, true)
	if err != nil {
		return "", err
	}
	if _, ok := f.nodes[mustKey(r)]; !ok {
		return "", fmt.Errorf("%s: not found", p)
	}
	return r, nil
}

func (f *fakeFS) node(obj Object) (*fakeNode, error) {
	if obj.Kernel {
		if n, ok := f.kernel[mustKey(obj.Path)]; ok {
			return n, nil
		}
		return nil, fmt.Errorf("no kernel object %s", obj.Path)
	}
	r, err := f.resolve(obj.Path, false)
	if err != nil {
		return nil, err
	}
	n, ok := f.nodes[mustKey(r)]
	if !ok {
		return nil, fmt.Errorf("%s: not found", obj.Path)
	}
	return n, nil
}

// ReadDACL returns the explicit ACEs, then what they inherit, computed
// from the root down by the inheritance rules, unless a DACL on the way is
// protected.
func (f *fakeFS) ReadDACL(obj Object) (DACL, error) {
	n, err := f.node(obj)
	if err != nil {
		return DACL{}, err
	}
	if n.null {
		return DACL{Null: true}, nil
	}
	if obj.Kernel {
		return DACL{ACEs: append([]ACE(nil), n.aces...)}, nil
	}
	return f.daclOf(n), nil
}

func (f *fakeFS) daclOf(n *fakeNode) DACL {
	d := DACL{ACEs: append([]ACE(nil), n.aces...), Protected: n.protected}
	if n.protected {
		return d
	}
	if pp := parentOf(n.path); pp != "" {
		if pn, ok := f.nodes[mustKey(pp)]; ok && !pn.null {
			d.ACEs = append(d.ACEs, inheritedACEs(f.daclOf(pn).ACEs, n.dir, "", "")...)
		}
	}
	return d
}

func (f *fakeFS) ReadDir(p string, max int) ([]DirEntry, error) {
	r, err := f.resolve(p, true)
	if err != nil {
		return nil, err
	}
	var out []DirEntry
	if f.children != nil {
		for _, n := range f.children[mustKey(r)] {
			out = append(out, DirEntry{Name: baseName(n.path), Dir: n.dir, Reparse: n.reparse != ""})
		}
	} else {
		for _, n := range f.nodes {
			if parentOf(n.path) != "" && mustKey(parentOf(n.path)) == mustKey(r) {
				out = append(out, DirEntry{Name: baseName(n.path), Dir: n.dir, Reparse: n.reparse != ""})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (f *fakeFS) Volume(p string) (VolumeInfo, error) {
	for prefix, v := range f.volumes {
		if within(p, prefix) {
			return v, nil
		}
	}
	return VolumeInfo{ACLs: true, FileSystem: "NTFS"}, nil
}

// ReadFile returns the content set in f.contents.
func (f *fakeFS) ReadFile(p string, max int) ([]byte, error) {
	k, err := PathKey(p)
	if err != nil {
		return nil, err
	}
	if c, ok := f.contents[k]; ok {
		return []byte(c), nil
	}
	return nil, fmt.Errorf("%s: no content", p)
}

func (f *fakeFS) Create(p string, dir bool, content []byte) error {
	if info, _ := f.Lstat(p); info.Exists {
		return fmt.Errorf("%s exists", p)
	}
	parent := parentOf(p)
	if info, _ := f.Lstat(parent); !info.Exists {
		return fmt.Errorf("parent of %s does not exist", p)
	}
	f.creates++
	n := &fakeNode{path: p, dir: dir, size: int64(len(content)), content: string(content)}
	f.nodes[mustKey(p)] = n
	if f.children != nil {
		f.children[mustKey(parent)] = append(f.children[mustKey(parent)], n)
	}
	return nil
}

// indexChildren builds the children index; afterwards only Create may add
// nodes.
func (f *fakeFS) indexChildren() {
	f.children = map[string][]*fakeNode{}
	for _, n := range f.nodes {
		if pp := parentOf(n.path); pp != "" {
			f.children[mustKey(pp)] = append(f.children[mustKey(pp)], n)
		}
	}
}

// WriteDACL keeps the explicit ACEs of d (inherited ones are computed on
// read) and counts the write.
func (f *fakeFS) WriteDACL(obj Object, d DACL) error {
	n, err := f.node(obj)
	if err != nil {
		return err
	}
	f.aceWrites++
	if f.dropWrites {
		return nil
	}
	explicit, _ := d.split()
	n.aces, n.null, n.protected = explicit, d.Null, d.Protected
	return nil
}

func (f *fakeFS) RemovePlaceholder(p string, dir bool, content []byte) (bool, error) {
	n, ok := f.nodes[strings.ToLower(p)]
	if !ok || n.reparse != "" || n.dir != dir {
		return false, nil
	}
	if dir {
		entries, _ := f.ReadDir(p, 1)
		if len(entries) > 0 {
			return false, nil
		}
	} else if n.content != string(content) || n.size != int64(len(content)) {
		return false, nil
	}
	delete(f.nodes, mustKey(n.path))
	return true, nil
}

// explicitFor lists every explicit ACE naming one of sids, anywhere.
func (f *fakeFS) explicitFor(sids ...SID) []string {
	var out []string
	for _, n := range f.nodes {
		for _, a := range n.aces {
			if containsSID(sids, a.SID) {
				out = append(out, n.path+": "+a.String())
			}
		}
	}
	for _, n := range f.kernel {
		for _, a := range n.aces {
			if containsSID(sids, a.SID) {
				out = append(out, n.path+": "+a.String())
			}
		}
	}
	sort.Strings(out)
	return out
}

// memJournal is a Journal in memory.
type memJournal struct {
	aces         []LedgerACE
	placeholders []Placeholder
}

func (m *memJournal) RecordACE(e LedgerACE) error { m.aces = append(m.aces, e); return nil }
func (m *memJournal) RecordPlaceholder(p Placeholder) error {
	m.placeholders = append(m.placeholders, p)
	return nil
}

func (m *memJournal) ledger() Ledger {
	return Ledger{Version: formatVersion, ACEs: m.aces, Placeholders: m.placeholders}
}

// fixedSIDs hands out SIDs from a counter, so tests are deterministic.
type fixedSIDs struct {
	next  int
	byKey map[string]SID
}

func (s *fixedSIDs) SIDsFor(roots []string) (map[string]SID, error) {
	if s.byKey == nil {
		s.byKey = map[string]SID{}
	}
	out := map[string]SID{}
	for _, r := range roots {
		k := mustKey(r)
		if _, ok := s.byKey[k]; !ok {
			s.next++
			s.byKey[k] = SID(fmt.Sprintf("S-1-5-21-1-2-3-%d", s.next))
		}
		out[k] = s.byKey[k]
	}
	return out, nil
}
