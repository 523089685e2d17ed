package fswatch

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// A Recording is a series of lookups made through a Cache, kept so that
// one can tell later whether every one of them would be answered the same
// (Unchanged): whatever was computed from those answers alone, such as a
// plan, can then be used again without being made again.
//
// It holds the Cache's generation when it began (any change Sync learns
// of ends it) and the lookups whose answers the Cache did not keep true
// (on filesystems it does not watch, below links, file contents and
// globs), with their answers, to ask again.
type Recording struct {
	c   *Cache
	gen uint64
	mu  sync.Mutex
	// asked are the lookups the filesystem answered, in order.
	asked []lookup
}

type lookup struct {
	op, arg, answer string
}

// Record starts a Recording. Call it right after Sync: its lookups then
// see every change made before the Sync.
func (c *Cache) Record() *Recording {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &Recording{c: c, gen: c.gen}
}

func (r *Recording) note(kept bool, op, arg, answer string) {
	if kept {
		return
	}
	r.mu.Lock()
	r.asked = append(r.asked, lookup{op, arg, answer})
	r.mu.Unlock()
}

// Lstat is the Cache's Lstat, recorded.
func (r *Recording) Lstat(p string) (fs.FileInfo, error) {
	fi, kept, err := r.c.lstat1(p)
	r.note(kept, "lstat", p, infoAnswer(fi, err))
	return fi, err
}

// Stat is the Cache's Stat, recorded.
func (r *Recording) Stat(p string) (fs.FileInfo, error) {
	fi, kept, err := r.c.stat1(p)
	r.note(kept, "stat", p, infoAnswer(fi, err))
	return fi, err
}

// ReadDir is the Cache's ReadDir, recorded.
func (r *Recording) ReadDir(dir string) ([]fs.DirEntry, error) {
	es, kept, err := r.c.readDir1(dir)
	r.note(kept, "readdir", dir, dirAnswer(es, err))
	return es, err
}

// EvalSymlinks is the Cache's EvalSymlinks, recorded.
func (r *Recording) EvalSymlinks(p string) (string, error) {
	real, kept, err := r.c.evalSymlinks1(p)
	r.note(kept, "evalsymlinks", p, stringsAnswer([]string{real}, err))
	return real, err
}

// ReadFile reads p; always asked again.
func (r *Recording) ReadFile(p string) ([]byte, error) {
	data, err := os.ReadFile(p)
	r.note(false, "readfile", p, contentAnswer(data, err))
	return data, err
}

// Glob matches pattern; always asked again.
func (r *Recording) Glob(pattern string) ([]string, error) {
	m, err := filepath.Glob(pattern)
	r.note(false, "glob", pattern, stringsAnswer(m, err))
	return m, err
}

// Unchanged says whether every lookup of r would now be answered as it
// was: call it right after Sync. It is false once the Cache has learnt of
// any change since r began, or when a lookup the filesystem answered gets
// another answer now.
func (r *Recording) Unchanged() bool {
	c := r.c
	c.mu.Lock()
	same := c.fd >= 0 && c.gen == r.gen
	c.mu.Unlock()
	if !same {
		return false
	}
	r.mu.Lock()
	asked := append([]lookup(nil), r.asked...)
	r.mu.Unlock()
	for _, l := range asked {
		if askAgain(c, l.op, l.arg) != l.answer {
			return false
		}
	}
	return true
}

// askAgain answers a recorded lookup again, as the Recording did.
func askAgain(c *Cache, op, arg string) string {
	switch op {
	case "lstat":
		fi, _, err := c.lstat1(arg)
		return infoAnswer(fi, err)
	case "stat":
		fi, _, err := c.stat1(arg)
		return infoAnswer(fi, err)
	case "readdir":
		es, _, err := c.readDir1(arg)
		return dirAnswer(es, err)
	case "evalsymlinks":
		real, _, err := c.evalSymlinks1(arg)
		return stringsAnswer([]string{real}, err)
	case "readfile":
		data, err := os.ReadFile(arg)
		return contentAnswer(data, err)
	case "glob":
		m, err := filepath.Glob(arg)
		return stringsAnswer(m, err)
	}
	return "unknown lookup " + op // never equal to an answer
}

// The answers are compared as what the Cache promises of them: a path's
// name and mode, a listing's names and types, resolved paths, a file's
// contents (by digest), and an error by its kind (errno), not its text,
// which differs between a remembered and a fresh answer.

func infoAnswer(fi fs.FileInfo, err error) string {
	if err != nil {
		return errAnswer(err)
	}
	return fmt.Sprintf("info %s %v", fi.Name(), fi.Mode())
}

func dirAnswer(es []fs.DirEntry, err error) string {
	if err != nil {
		return errAnswer(err)
	}
	var b strings.Builder
	b.WriteString("list ")
	for _, e := range es {
		fmt.Fprintf(&b, "%s %v\x00", e.Name(), e.Type())
	}
	return b.String()
}

func stringsAnswer(s []string, err error) string {
	if err != nil {
		return errAnswer(err)
	}
	return "paths " + strings.Join(s, "\x00") + "\x00"
}

func contentAnswer(data []byte, err error) string {
	if err != nil {
		return errAnswer(err)
	}
	sum := sha256.Sum256(data)
	return fmt.Sprintf("data %x", sum)
}

func errAnswer(err error) string {
	if errors.Is(err, fs.ErrNotExist) { // ENOENT, or remembered as absent
		return "error not exist"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Sprintf("error errno %d", int(errno))
	}
	return "error " + err.Error()
}
