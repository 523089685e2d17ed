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

// lookup is one lookup the filesystem answered: ask makes it again and
// gives its answer as text, and whether the Cache keeps that answer true.
type lookup struct {
	ask    func() (answer string, kept bool)
	answer string
}

// Record starts a Recording. Call it right after Sync: its lookups then
// see every change made before the Sync.
func (c *Cache) Record() *Recording {
	c.mu.Lock()
	defer c.mu.Unlock()
	return &Recording{c: c, gen: c.gen}
}

// record makes a lookup, and keeps it to ask again unless the Cache keeps
// its answer true.
func (r *Recording) record(ask func() (string, bool)) {
	answer, kept := ask()
	if kept {
		return
	}
	r.mu.Lock()
	r.asked = append(r.asked, lookup{ask, answer})
	r.mu.Unlock()
}

// Each method's ask sets the values the method returns; asked again by
// Unchanged (under r.mu, one replay at a time), it sets them once more,
// when nobody reads them any longer.

// Lstat is the Cache's Lstat, recorded.
func (r *Recording) Lstat(p string) (fi fs.FileInfo, err error) {
	r.record(func() (string, bool) {
		var kept bool
		fi, kept, err = r.c.lstat1(p)
		return infoAnswer(fi, err), kept
	})
	return fi, err
}

// Stat is the Cache's Stat, recorded.
func (r *Recording) Stat(p string) (fi fs.FileInfo, err error) {
	r.record(func() (string, bool) {
		var kept bool
		fi, kept, err = r.c.stat1(p)
		return infoAnswer(fi, err), kept
	})
	return fi, err
}

// ReadDir is the Cache's ReadDir, recorded.
func (r *Recording) ReadDir(dir string) (es []fs.DirEntry, err error) {
	r.record(func() (string, bool) {
		var kept bool
		es, kept, err = r.c.readDir1(dir)
		return dirAnswer(es, err), kept
	})
	return es, err
}

// EvalSymlinks is the Cache's EvalSymlinks, recorded.
func (r *Recording) EvalSymlinks(p string) (real string, err error) {
	r.record(func() (string, bool) {
		var kept bool
		real, kept, err = r.c.evalSymlinks1(p)
		return stringsAnswer([]string{real}, err), kept
	})
	return real, err
}

// ReadFile reads p; always asked again.
func (r *Recording) ReadFile(p string) (data []byte, err error) {
	r.record(func() (string, bool) {
		data, err = os.ReadFile(p)
		return contentAnswer(data, err), false
	})
	return data, err
}

// Glob matches pattern; always asked again.
func (r *Recording) Glob(pattern string) (m []string, err error) {
	r.record(func() (string, bool) {
		m, err = filepath.Glob(pattern)
		return stringsAnswer(m, err), false
	})
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
	// One replay at a time: each sets the values its method returned.
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.asked {
		if answer, _ := l.ask(); answer != l.answer {
			return false
		}
	}
	return true
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
