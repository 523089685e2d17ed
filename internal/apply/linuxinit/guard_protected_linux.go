package linuxinit

import "golang.org/x/sys/unix"

// Existing protected paths in the mode without mounts. With a mount
// namespace they are read-only binds; without one, the supervisor, which
// makes every write-open, truncate and name creation on the command's
// behalf, refuses those that touch a protected path: the path itself (by
// identity, so another name for the same file does not help) or anything
// below a protected directory (found by walking up from the directory the
// call resolved to, so no path string decides). Deleting a file inside one
// is not supervised (unlink and rmdir are not handed over): it can remove a
// hook or a setting, not plant one.

// maxWalkUp bounds the walk from a directory up to a writable root.
const maxWalkUp = 256

func (g *guard) loadProtected() {
	g.protected = map[fileID]bool{}
	for _, p := range g.plan.Protected {
		if id, ok := identityOf(p); ok {
			g.protected[id] = true
		}
	}
	g.rootIDs = map[fileID]bool{}
	for _, r := range g.plan.Roots {
		if id, ok := identityOf(r); ok {
			g.rootIDs[id] = true
		}
	}
	g.insideCache = map[fileID]bool{}
}

// mayChangeProtected refuses a change to the entry name of the directory
// open as pfd (name "" for the directory itself) when it is, or lies in, a
// protected path.
func (g *guard) mayChangeProtected(t *caller, op string, pfd int, name, asked string) error {
	if len(g.protected) == 0 {
		return nil
	}
	if name != "" {
		var st unix.Stat_t
		if unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && g.protected[fileID{st.Dev, st.Ino}] {
			g.deny(t, op, fdPath(pfd, asked)+"/"+name, "protected path: read-only inside the sandbox (filesystem.protected)")
			return unix.EROFS
		}
	}
	inside, err := g.inProtected(pfd)
	if err != nil {
		return err
	}
	if inside {
		g.deny(t, op, fdPath(pfd, asked)+"/"+name, "inside a protected path: read-only inside the sandbox (filesystem.protected)")
		return unix.EROFS
	}
	return nil
}

// inProtected reports whether the directory open as fd is a protected
// directory or lies below one. The answer per directory cannot change while
// the run lasts: a protected directory and every directory above it up to
// its root cannot be renamed, and nothing can be moved into or out of one.
func (g *guard) inProtected(fd int) (bool, error) {
	start, err := fdIdentity(fd)
	if err != nil {
		return false, err
	}
	g.insideMu.Lock()
	v, ok := g.insideCache[start]
	g.insideMu.Unlock()
	if ok {
		return v, nil
	}
	inside, err := g.walkUp(fd, start)
	if err != nil {
		return false, err
	}
	g.insideMu.Lock()
	if len(g.insideCache) < maxOwn {
		g.insideCache[start] = inside
	}
	g.insideMu.Unlock()
	return inside, nil
}

func (g *guard) walkUp(fd int, id fileID) (bool, error) {
	cur := -1 // fd is the caller's to close
	defer func() {
		if cur >= 0 {
			unix.Close(cur)
		}
	}()
	at := fd
	for i := 0; i < maxWalkUp; i++ {
		if g.protected[id] {
			return true, nil
		}
		if g.rootIDs[id] {
			return false, nil
		}
		up, err := unix.Openat(at, "..", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return false, err
		}
		upID, err := fdIdentity(up)
		if err != nil {
			unix.Close(up)
			return false, err
		}
		if cur >= 0 {
			unix.Close(cur)
		}
		cur, at = up, up
		if upID == id {
			return false, nil // the root of the file system
		}
		id = upID
	}
	return false, unix.ELOOP
}
