package fswatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// queries are the lookups compared after every change, relative to the
// test's root: present, absent, deep absent, below links and files.
var queries = []string{
	"a", "a/b", "a/b/c", "a/b/c/d", "a/f", "a/g", "x", "x/y", "x/y/z",
	"link", "link/b", "link/b/c", "link2", "link2/c", "e", "e/f", "deep/1/2/3/4", "m", "m/inside",
}

// changes are made one after another; each must show in the next answers.
var changes = []struct {
	name string
	do   func(t *testing.T, root string)
}{
	{"create a file", func(t *testing.T, r string) { write(t, r, "a/f") }},
	{"delete it", func(t *testing.T, r string) { rm(t, r, "a/f") }},
	{"make a directory", func(t *testing.T, r string) { mkdir(t, r, "a/b/c") }},
	{"make a deep absent path", func(t *testing.T, r string) { mkdir(t, r, "deep/1/2/3/4") }},
	{"move a tree away", func(t *testing.T, r string) { mv(t, r, "a/b", "x") }},
	{"move it back under another name", func(t *testing.T, r string) { mv(t, r, "x", "a/g") }},
	{"make the link point at a", func(t *testing.T, r string) { symlink(t, r, "a", "link") }},
	{"put a tree below the link", func(t *testing.T, r string) { mkdir(t, r, "a/b/c") }},
	{"retarget the link", func(t *testing.T, r string) { rm(t, r, "link"); symlink(t, r, "x", "link") }},
	{"make its new target", func(t *testing.T, r string) { mkdir(t, r, "x/b") }},
	{"link into the tree", func(t *testing.T, r string) { symlink(t, r, "x/b", "link2") }},
	{"replace what the link names by moving its parent", func(t *testing.T, r string) { mv(t, r, "x", "old"); mkdir(t, r, "x/b/c") }},
	{"replace a directory by a link", func(t *testing.T, r string) { os.RemoveAll(filepath.Join(r, "a/b")); symlink(t, r, "../x", "a/b") }},
	{"chmod a file", func(t *testing.T, r string) { write(t, r, "e"); chmod(t, r, "e", 0o600) }},
	{"chmod it again", func(t *testing.T, r string) { chmod(t, r, "e", 0o644) }},
	{"rename over an existing file", func(t *testing.T, r string) { mkdir(t, r, "a/f"); mv(t, r, "a/f", "x/y") }},
	{"delete a whole tree", func(t *testing.T, r string) { os.RemoveAll(filepath.Join(r, "x")) }},
	{"mount over a directory", func(t *testing.T, r string) {
		if os.Geteuid() != 0 {
			return
		}
		if err := unix.Mount("tmpfs", filepath.Join(r, "m"), "tmpfs", 0, ""); err != nil {
			t.Logf("no tmpfs mount (%v): the mount case is not tried", err)
			return
		}
		t.Cleanup(func() { unix.Unmount(filepath.Join(r, "m"), unix.MNT_DETACH) })
	}},
}

// TestAnswersFollowChanges: after each change and a Sync, every answer
// from the cache is the filesystem's. The same run without Sync must give
// at least one stale answer, or the test could not tell.
func TestAnswersFollowChanges(t *testing.T) {
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			root, c := startTree(t)
			stale := 0
			compare(t, c, root, "start", true)
			for _, ch := range changes {
				ch.do(t, root)
				if sync {
					c.Sync()
				}
				stale += compare(t, c, root, ch.name, sync)
			}
			if !sync && stale == 0 {
				t.Error("without Sync every answer was still right: the test cannot see a stale answer")
			}
			if hits, _ := c.Stats(); hits == 0 {
				t.Error("no lookup was answered from memory")
			}
		})
	}
}

// startTree makes the tree the changes start from and a Cache to watch
// it, closed when the test ends.
func startTree(t *testing.T) (root string, c *Cache) {
	t.Helper()
	root, _ = filepath.EvalSymlinks(t.TempDir())
	mkdir(t, root, "a")
	mkdir(t, root, "m")
	write(t, root, "m/inside")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return root, c
}

// compare asks every query twice (the second answer may come from
// memory) and counts the answers that differ from the filesystem's;
// with strict, each is an error.
func compare(t *testing.T, c *Cache, root, after string, strict bool) int {
	t.Helper()
	bad := 0
	for range 2 {
		for _, q := range queries {
			p := filepath.Join(root, q)
			for _, f := range []struct {
				op   string
				got  func() string
				want func() string
			}{
				{"lstat", func() string { return info(c.Lstat(p)) }, func() string { return info(os.Lstat(p)) }},
				{"stat", func() string { return info(c.Stat(p)) }, func() string { return info(os.Stat(p)) }},
				{"readdir", func() string { return names(c.ReadDir(p)) }, func() string { return names(os.ReadDir(p)) }},
				{"evalsymlinks", func() string { return str(c.EvalSymlinks(p)) }, func() string { return str(filepath.EvalSymlinks(p)) }},
			} {
				if got, want := f.got(), f.want(); got != want {
					bad++
					if strict {
						t.Errorf("after %q: %s %s = %s, the filesystem says %s", after, f.op, q, got, want)
					}
				}
			}
		}
	}
	return bad
}

func info(fi fs.FileInfo, err error) string {
	if err != nil {
		return errKind(err)
	}
	return fmt.Sprintf("%s %v", fi.Name(), fi.Mode())
}

func names(es []fs.DirEntry, err error) string {
	if err != nil {
		return errKind(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s:%v", e.Name(), e.Type()))
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func str(s string, err error) string {
	if err != nil {
		return errKind(err)
	}
	return s
}

func errKind(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "not-exist"
	case errors.Is(err, unix.ENOTDIR):
		return "not-dir"
	}
	return "error"
}

// TestUnchangedIsAnsweredFromMemory: with nothing changed, a second plan's
// lookups cost no system call.
func TestUnchangedIsAnsweredFromMemory(t *testing.T) {
	root := t.TempDir()
	mkdir(t, root, "a/b")
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func() {
		c.Lstat(filepath.Join(root, "a"))
		c.Lstat(filepath.Join(root, "absent"))
		c.ReadDir(filepath.Join(root, "a"))
		c.EvalSymlinks(filepath.Join(root, "a/b"))
	}
	ask()
	c.Sync()
	_, before := c.Stats()
	ask()
	if hits, after := c.Stats(); after != before || hits != 4 {
		t.Errorf("second round: %d lookups went to the filesystem, %d from memory; want 0 and 4", after-before, hits)
	}
}

func TestWatchable(t *testing.T) {
	for typ, want := range map[int64]bool{
		unix.EXT4_SUPER_MAGIC: true, unix.TMPFS_MAGIC: true, unix.XFS_SUPER_MAGIC: true, unix.BTRFS_SUPER_MAGIC: true,
		unix.OVERLAYFS_SUPER_MAGIC: true,
		unix.NFS_SUPER_MAGIC:       false, unix.FUSE_SUPER_MAGIC: false, unix.PROC_SUPER_MAGIC: false,
		unix.CIFS_SUPER_MAGIC: false, unix.SYSFS_MAGIC: false,
	} {
		if got := watchable(typ); got != want {
			t.Errorf("watchable(%#x) = %v, want %v", typ, got, want)
		}
	}
}

func write(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func rm(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(root, rel)); err != nil {
		t.Fatal(err)
	}
}

func mkdir(t *testing.T, root, rel string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(root, rel), 0o755); err != nil {
		t.Fatal(err)
	}
}

func mv(t *testing.T, root, from, to string) {
	t.Helper()
	if err := os.Rename(filepath.Join(root, from), filepath.Join(root, to)); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, root, target, rel string) {
	t.Helper()
	if err := os.Symlink(target, filepath.Join(root, rel)); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, root, rel string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(filepath.Join(root, rel), mode); err != nil {
		t.Fatal(err)
	}
}
