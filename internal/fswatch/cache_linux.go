package fswatch

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watchMask is what a watched directory reports: every change to the
// names in it and to their modes, and its own end. Content changes are
// not asked for: contents are never cached.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW

// Cache answers the planner's questions about the filesystem from memory
// while inotify says nothing changed. See the package documentation for
// what it promises. Its methods may be called from several goroutines.
type Cache struct {
	mu sync.Mutex
	fd int // the inotify instance; -1 after Close
	// mounts is /proc/self/mountinfo, polled for mount table changes. A
	// raw descriptor: in an os.File, Go's poller would register it with
	// epoll, and epoll's own poll of it consumes the change report.
	mounts int
	// byWD are the directory paths each watch was added for (bind mounts
	// can show one directory at several paths).
	byWD map[int32]map[string]bool
	// watch says, for a directory path, whether it is watched.
	watch map[string]watchState
	lstat map[string]fs.FileInfo // nil value: the path does not exist
	dirs  map[string][]fs.DirEntry
	real  map[string]bool // EvalSymlinks(p) == p
	buf   []byte
	hits  int
	miss  int
	// gen changes whenever Sync learns of any change, or the cache starts
	// over: a Recording made under one gen saw the state it still holds.
	gen uint64
}

type watchState struct {
	wd int32
	ok bool // false: this directory cannot be watched; look it up every time
}

// New starts an empty cache with its own inotify instance.
func New() (*Cache, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fswatch: inotify: %w (fs.inotify.max_user_instances may be reached)", err)
	}
	mounts, err := unix.Open("/proc/self/mountinfo", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("fswatch: /proc/self/mountinfo: %w", err)
	}
	c := &Cache{fd: fd, mounts: mounts, buf: make([]byte, 64<<10)}
	c.reset()
	return c, nil
}

func (c *Cache) reset() {
	c.byWD = map[int32]map[string]bool{}
	c.watch = map[string]watchState{}
	c.lstat = map[string]fs.FileInfo{}
	c.dirs = map[string][]fs.DirEntry{}
	c.real = map[string]bool{}
}

// Close releases the inotify instance; the Cache then reads the
// filesystem directly.
func (c *Cache) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return nil
	}
	unix.Close(c.fd)
	c.fd = -1
	c.reset()
	c.gen++
	return unix.Close(c.mounts)
}

// Stats returns how many lookups were answered from memory and how many
// went to the filesystem.
func (c *Cache) Stats() (hits, misses int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.miss
}

// Sync drops every answer that a change reported since the last Sync may
// have touched. Call it before a series of lookups that must see every
// change made before the call.
func (c *Cache) Sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return
	}
	// The mount table: poll reports a change once, and rearms itself.
	pfd := []unix.PollFd{{Fd: int32(c.mounts), Events: unix.POLLPRI}}
	if n, err := unix.Poll(pfd, 0); err != nil || n > 0 && pfd[0].Revents&(unix.POLLPRI|unix.POLLERR) != 0 {
		c.restart()
		return
	}
	gone := map[string]bool{}   // paths whose answers, and those below, are dropped
	relist := map[string]bool{} // directories whose listing is dropped
	for {
		n, err := unix.Read(c.fd, c.buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if n <= 0 {
			if err != nil && !errors.Is(err, unix.EAGAIN) {
				c.restart() // cannot tell what changed: forget everything
				return
			}
			break
		}
		// Any event at all ends what Recordings promise, even one that
		// drops no answer here: they may hold answers this cache did not.
		c.gen++
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&c.buf[off]))
			name := ""
			if ev.Len > 0 {
				raw := c.buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
				for i, b := range raw {
					if b == 0 {
						raw = raw[:i]
						break
					}
				}
				name = string(raw)
			}
			off += unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				c.restart()
				return
			}
			for dir := range c.byWD[ev.Wd] {
				switch {
				case ev.Mask&unix.IN_IGNORED != 0:
					gone[dir] = true
					if w := c.watch[dir]; w.ok && w.wd == ev.Wd {
						delete(c.watch, dir)
					}
				case name != "":
					gone[filepath.Join(dir, name)] = true
					relist[dir] = true
				default: // the directory itself: deleted, moved, its mode
					gone[dir] = true
				}
			}
			if ev.Mask&unix.IN_IGNORED != 0 {
				delete(c.byWD, ev.Wd)
			}
		}
	}
	if len(gone) == 0 && len(relist) == 0 {
		return
	}
	for d := range relist {
		delete(c.dirs, d)
	}
	for p := range c.lstat {
		if under(gone, p) {
			delete(c.lstat, p)
		}
	}
	for p := range c.dirs {
		if under(gone, p) {
			delete(c.dirs, p)
		}
	}
	for p := range c.real {
		if under(gone, p) {
			delete(c.real, p)
		}
	}
	for p := range c.watch {
		if under(gone, p) {
			delete(c.watch, p)
		}
	}
}

// under says whether p or one of its ancestors is in gone.
func under(gone map[string]bool, p string) bool {
	for {
		if gone[p] {
			return true
		}
		parent := filepath.Dir(p)
		if parent == p {
			return false
		}
		p = parent
	}
}

// restart forgets everything with a fresh inotify instance: after an
// overflow or a mount, no watch's path can be trusted.
func (c *Cache) restart() {
	unix.Close(c.fd)
	c.reset()
	c.gen++
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		fd = -1 // from now on every lookup goes to the filesystem
	}
	c.fd = fd
}

// watchDir watches dir if it is a directory. missing: dir is absent or
// not a directory, so nothing below it exists, and its parent's watch
// reports its creation. ok: dir is watched.
func (c *Cache) watchDir(dir string) (ok, missing bool) {
	if w, known := c.watch[dir]; known {
		return w.ok, false
	}
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return false, errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
	case unix.S_IFLNK:
		// A link's target changes without an event here: what lies below
		// a link is looked up every time.
		c.watch[dir] = watchState{}
		return false, false
	default:
		return false, true
	}
	wd, err := unix.InotifyAddWatch(c.fd, dir, watchMask)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return false, false // changed since the lstat: look again next time
		}
		c.watch[dir] = watchState{} // EACCES, ENOSPC (max_user_watches)
		return false, false
	}
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil || !watchable(int64(sfs.Type)) {
		// The watch stays (removing it could drop another path's): only
		// this path is marked as not watched.
		c.watch[dir] = watchState{}
		return false, false
	}
	c.watch[dir] = watchState{wd: int32(wd), ok: true}
	if c.byWD[int32(wd)] == nil {
		c.byWD[int32(wd)] = map[string]bool{}
	}
	c.byWD[int32(wd)][dir] = true
	return true, false
}

// watchAncestors watches every existing ancestor of p, top down, so that
// any change that could alter a lookup of p is reported; it says whether
// the answer may be kept.
func (c *Cache) watchAncestors(p string) bool {
	if c.fd < 0 {
		return false
	}
	var chain []string
	for d := filepath.Dir(p); ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == "/" {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		ok, missing := c.watchDir(chain[i])
		if missing {
			return true
		}
		if !ok {
			return false
		}
	}
	return true
}

// cacheable returns p cleaned, and whether it is a path the cache keeps.
func cacheable(p string) (string, bool) {
	if !filepath.IsAbs(p) {
		return p, false
	}
	return filepath.Clean(p), true
}

// Lstat describes p without following a link at its end; see the package
// documentation for what the FileInfo holds.
func (c *Cache) Lstat(p string) (fs.FileInfo, error) {
	fi, _, err := c.lstat1(p)
	return fi, err
}

// Each lookup has a form that also says whether the answer is kept true
// by the cache (answered from memory, or stored under watches): the rest
// went to the filesystem, and a Recording must ask again.

func (c *Cache) lstat1(p string) (fs.FileInfo, bool, error) {
	p, ok := cacheable(p)
	if !ok {
		fi, err := os.Lstat(p)
		return fi, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lstatLocked(p)
}

func (c *Cache) lstatLocked(p string) (fs.FileInfo, bool, error) {
	if fi, ok := c.lstat[p]; ok {
		c.hits++
		if fi == nil {
			return nil, true, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
		}
		return fi, true, nil
	}
	c.miss++
	keep := c.watchAncestors(p)
	fi, err := os.Lstat(p)
	switch {
	case err == nil:
		fi = modeInfo{name: fi.Name(), mode: fi.Mode()}
		if keep {
			c.lstat[p] = fi
			return fi, true, nil
		}
	case keep && errors.Is(err, fs.ErrNotExist):
		c.lstat[p] = nil
		return fi, true, err
	}
	return fi, false, err
}

// Stat describes p, following links; a path that is a link is looked up
// every time.
func (c *Cache) Stat(p string) (fs.FileInfo, error) {
	fi, _, err := c.stat1(p)
	return fi, err
}

func (c *Cache) stat1(p string) (fs.FileInfo, bool, error) {
	if cp, ok := cacheable(p); ok {
		c.mu.Lock()
		fi, kept, err := c.lstatLocked(cp)
		c.mu.Unlock()
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return fi, kept, err
		}
	}
	fi, err := os.Stat(p)
	return fi, false, err
}

// ReadDir lists dir, sorted by name, as os.ReadDir does; each entry's Info
// gives its name and type only.
func (c *Cache) ReadDir(dir string) ([]fs.DirEntry, error) {
	es, _, err := c.readDir1(dir)
	return es, err
}

func (c *Cache) readDir1(dir string) ([]fs.DirEntry, bool, error) {
	d, ok := cacheable(dir)
	if !ok {
		es, err := os.ReadDir(dir)
		return es, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if es, ok := c.dirs[d]; ok {
		c.hits++
		return es, true, nil
	}
	c.miss++
	keep := c.watchAncestors(d)
	if keep {
		keep, _ = c.watchDir(d)
	}
	raw, err := os.ReadDir(d)
	if err != nil {
		return nil, false, err
	}
	es := make([]fs.DirEntry, len(raw))
	for i, e := range raw {
		es[i] = dirEntry{name: e.Name(), typ: e.Type()}
	}
	if keep {
		c.dirs[d] = es
	}
	return es, keep, nil
}

// EvalSymlinks resolves p as filepath.EvalSymlinks does; only a path with
// no link on it (which resolves to itself) is kept.
func (c *Cache) EvalSymlinks(p string) (string, error) {
	real, _, err := c.evalSymlinks1(p)
	return real, err
}

func (c *Cache) evalSymlinks1(p string) (string, bool, error) {
	cp, ok := cacheable(p)
	if !ok {
		real, err := filepath.EvalSymlinks(p)
		return real, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real[cp] {
		c.hits++
		return cp, true, nil
	}
	c.miss++
	keep := c.watchAncestors(cp)
	real, err := filepath.EvalSymlinks(cp)
	if err == nil && keep && real == cp {
		c.real[cp] = true
		return real, true, nil
	}
	return real, false, err
}

// ReadFile reads p; contents are never cached.
func (c *Cache) ReadFile(p string) ([]byte, error) { return os.ReadFile(p) }

// Glob matches pattern as filepath.Glob does; never cached.
func (c *Cache) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// modeInfo is what the Cache knows of a path: its name and mode.
type modeInfo struct {
	name string
	mode fs.FileMode
}

func (i modeInfo) Name() string       { return i.name }
func (i modeInfo) Size() int64        { return 0 }
func (i modeInfo) Mode() fs.FileMode  { return i.mode }
func (i modeInfo) ModTime() time.Time { return time.Time{} }
func (i modeInfo) IsDir() bool        { return i.mode.IsDir() }
func (i modeInfo) Sys() any           { return nil }

type dirEntry struct {
	name string
	typ  fs.FileMode
}

func (e dirEntry) Name() string               { return e.name }
func (e dirEntry) IsDir() bool                { return e.typ.IsDir() }
func (e dirEntry) Type() fs.FileMode          { return e.typ }
func (e dirEntry) Info() (fs.FileInfo, error) { return modeInfo{name: e.name, mode: e.typ}, nil }
