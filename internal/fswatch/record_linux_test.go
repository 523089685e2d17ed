package fswatch

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// answers asks every query through lookup functions and returns the
// answers, as the tests of the Cache compare them.
type asker struct {
	lstat, stat func(string) string
	readDir     func(string) string
	eval        func(string) string
	readFile    func(string) string
	glob        func(string) string
}

func (a asker) all(root string) []string {
	var out []string
	for _, q := range queries {
		p := filepath.Join(root, q)
		out = append(out, a.lstat(p), a.stat(p), a.readDir(p), a.eval(p), a.readFile(p))
	}
	return append(out, a.glob(filepath.Join(root, "*")), a.glob(filepath.Join(root, "a", "*")))
}

func recorded(r *Recording) asker {
	return asker{
		lstat:    func(p string) string { return info(r.Lstat(p)) },
		stat:     func(p string) string { return info(r.Stat(p)) },
		readDir:  func(p string) string { return names(r.ReadDir(p)) },
		eval:     func(p string) string { return str(r.EvalSymlinks(p)) },
		readFile: func(p string) string { b, err := r.ReadFile(p); return str(string(b), err) },
		glob:     func(p string) string { m, err := r.Glob(p); return str(fmt.Sprint(m), err) },
	}
}

var fresh = asker{
	lstat:    func(p string) string { return info(os.Lstat(p)) },
	stat:     func(p string) string { return info(os.Stat(p)) },
	readDir:  func(p string) string { return names(os.ReadDir(p)) },
	eval:     func(p string) string { return str(filepath.EvalSymlinks(p)) },
	readFile: func(p string) string { b, err := os.ReadFile(p); return str(string(b), err) },
	glob:     func(p string) string { m, err := filepath.Glob(p); return str(fmt.Sprint(m), err) },
}

// contentChanges change what a file holds, which no directory watch sees.
var contentChanges = []struct {
	name string
	do   func(t *testing.T, root string)
}{
	{"write a file", func(t *testing.T, r string) { writeText(t, r, "e", "one") }},
	{"rewrite it in place", func(t *testing.T, r string) { writeText(t, r, "e", "two") }},
	{"rewrite a file below a link", func(t *testing.T, r string) { writeText(t, r, "link/f", "three") }},
}

// TestRecordingIsUnchangedOnlyWhenEveryAnswerIs: after each change and a
// Sync, a Recording made before the change may say Unchanged only if
// every one of its lookups gets the answer it got. Without Sync it must
// vouch for a stale answer at least once, or the test could not tell.
func TestRecordingIsUnchangedOnlyWhenEveryAnswerIs(t *testing.T) {
	all := append(append(changes[:0:0], changes...), contentChanges...)
	for _, sync := range []bool{true, false} {
		t.Run(fmt.Sprintf("sync=%v", sync), func(t *testing.T) {
			root, c := startTree(t)
			wrong := 0
			for _, ch := range all {
				c.Sync()
				rec := c.Record()
				before := recorded(rec).all(root)
				ch.do(t, root)
				if sync {
					c.Sync()
				}
				if !rec.Unchanged() {
					continue
				}
				after := fresh.all(root)
				for i := range before {
					if before[i] != after[i] {
						wrong++
						if sync {
							t.Errorf("after %q: Unchanged, but answer %d was %s and is %s", ch.name, i, before[i], after[i])
						}
						break
					}
				}
			}
			if !sync && wrong == 0 {
				t.Error("without Sync no Recording vouched for a stale answer: the test cannot see one")
			}
		})
	}
}

// TestRecordingOfNothingChangedIsUnchanged: with nothing changed between
// two Syncs, a Recording stays good, and again after its uncached
// lookups were asked again.
func TestRecordingOfNothingChangedIsUnchanged(t *testing.T) {
	root := t.TempDir()
	mkdir(t, root, "a/b")
	writeText(t, root, "a/f", "x")
	if err := os.Symlink("a", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Sync()
	rec := c.Record()
	recorded(rec).all(root)
	if len(rec.asked) == 0 {
		t.Fatal("nothing was left to ask again: the file contents and globs at least must be")
	}
	for i := range 3 {
		c.Sync()
		if !rec.Unchanged() {
			t.Fatalf("round %d: nothing changed, but the Recording says something did", i)
		}
	}
	writeText(t, root, "a/f", "y")
	c.Sync()
	if rec.Unchanged() {
		t.Error("a/f was rewritten, but the Recording says nothing changed")
	}
}

func writeText(t *testing.T, root, rel, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, rel), []byte(text), 0o644); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}
