package linuxinit

import (
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/unotify"
)

// caller is a sandboxed thread whose system call the supervisor makes. Its
// paths are resolved from its own working directory and descriptors, in
// the root the init shares with it, so that the supervisor acts on what the
// kernel would have acted on for it.
//
// Magic links are the exception. The kernel would follow /proc/self,
// /dev/stdout or /proc/PID/fd/N as seen by the caller; followed by the
// supervisor they would name the supervisor's own descriptors (its seccomp
// listener among them). So the caller's own forms (/proc/self, its pid,
// /dev/fd, /dev/std*) are rewritten to its descriptors, and any other magic
// link met on the way is refused (RESOLVE_NO_MAGICLINKS): the call fails
// with ELOOP rather than act on the supervisor's view.
type caller struct {
	c   *unotify.Call
	act chan<- func() // the actor that makes the call (see guard)
	fds []int         // opened on its behalf; closed by done
}

// do runs f on the actor thread and returns its error.
func (t *caller) do(f func() error) error {
	done := make(chan error, 1)
	t.act <- func() { done <- f() }
	return <-done
}

func (t *caller) keep(fd int) int {
	t.fds = append(t.fds, fd)
	return fd
}

func (t *caller) done() {
	for _, fd := range t.fds {
		unix.Close(fd)
	}
	t.fds = nil
}

// maxSymlinks is the kernel's limit on symbolic links followed in one lookup.
const maxSymlinks = 40

// procSuperMagic is procfs's f_type.
const procSuperMagic = 0x9fa0

// cwd opens the caller's working directory.
func (t *caller) cwd() (int, error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(t.c.TID)+"/cwd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if err == unix.ENOENT {
			return -1, unotify.ErrGone
		}
		return -1, err
	}
	return t.keep(fd), nil
}

// start returns the directory a path is resolved from (a descriptor, or
// AT_FDCWD for an absolute path: the init's root is the caller's) and the
// path to resolve from it. An empty path means the returned descriptor is
// the object itself (the path named one of the caller's descriptors).
func (t *caller) start(dirfd int32, path string) (int, string, error) {
	if path == "" {
		return -1, "", unix.ENOENT
	}
	if fd, rest, ok := selfFD(path, t.c.TID); ok {
		switch fd {
		case selfCwd:
			base, err := t.cwd()
			return base, orDot(rest), err
		case selfRoot:
			return unix.AT_FDCWD, "/" + rest, nil
		}
		dup, err := t.c.FD(fd)
		if err != nil {
			return -1, "", err
		}
		// An empty rest means the descriptor's file itself.
		return t.keep(dup), rest, nil
	}
	if strings.HasPrefix(path, "/") {
		return unix.AT_FDCWD, path, nil
	}
	if dirfd == unix.AT_FDCWD {
		base, err := t.cwd()
		return base, path, err
	}
	dup, err := t.c.FD(int(dirfd))
	if err != nil {
		return -1, "", err
	}
	return t.keep(dup), path, nil
}

func orDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

const (
	selfCwd  = -1
	selfRoot = -2
)

// selfFD recognises the caller's own magic links: /dev/stdin, stdout and
// stderr, /dev/fd/N, and /proc/self, /proc/thread-self or /proc/TID (and
// /proc/TID/task/TID) followed by fd/N, cwd or root. It returns the
// descriptor (or selfCwd, selfRoot) and the rest of the path below it.
func selfFD(path string, tid int) (int, string, bool) {
	switch {
	case path == "/dev/stdin" || strings.HasPrefix(path, "/dev/stdin/"):
		return 0, strings.TrimPrefix(strings.TrimPrefix(path, "/dev/stdin"), "/"), true
	case path == "/dev/stdout" || strings.HasPrefix(path, "/dev/stdout/"):
		return 1, strings.TrimPrefix(strings.TrimPrefix(path, "/dev/stdout"), "/"), true
	case path == "/dev/stderr" || strings.HasPrefix(path, "/dev/stderr/"):
		return 2, strings.TrimPrefix(strings.TrimPrefix(path, "/dev/stderr"), "/"), true
	}
	var rest string
	if r, ok := strings.CutPrefix(path, "/dev/fd/"); ok {
		rest = "fd/" + r
	} else if r, ok := strings.CutPrefix(path, "/proc/"); ok {
		first, after, _ := strings.Cut(r, "/")
		switch first {
		case "self", "thread-self", strconv.Itoa(tid):
			// thread-self is the thread's own entry; for fd, cwd and root
			// it names what the process's entry names.
		default:
			return 0, "", false
		}
		if t, a, ok := strings.Cut(after, "/"); ok && t == "task" {
			id, a2, _ := strings.Cut(a, "/")
			if id != strconv.Itoa(tid) {
				return 0, "", false
			}
			after = a2
		}
		rest = after
	} else {
		return 0, "", false
	}
	what, below, _ := strings.Cut(rest, "/")
	switch what {
	case "cwd":
		return selfCwd, below, true
	case "root":
		return selfRoot, below, true
	case "fd":
		n, below2, _ := strings.Cut(below, "/")
		fd, err := strconv.Atoi(n)
		if err != nil || fd < 0 || n != strconv.Itoa(fd) {
			return 0, "", false
		}
		return fd, below2, true
	}
	return 0, "", false
}

// split cuts a path into the directory to look up and the last name. A
// trailing slash is reported: the name must then be a directory.
func split(p string) (dir, name string, trailingSlash bool) {
	trimmed := strings.TrimRight(p, "/")
	trailingSlash = len(trimmed) < len(p)
	if trimmed == "" {
		return "/", ".", trailingSlash
	}
	i := strings.LastIndexByte(trimmed, '/')
	if i < 0 {
		return ".", trimmed, trailingSlash
	}
	dir = trimmed[:i]
	if dir == "" {
		dir = "/"
	}
	return dir, trimmed[i+1:], trailingSlash
}

// parent opens the directory that holds the last name of path (relative to
// base), refusing magic links and procfs, and returns it with the name.
func (t *caller) parent(base int, path string, resolve uint64) (int, string, bool, error) {
	if path == "" {
		return base, "", false, nil // the descriptor itself
	}
	dir, name, slash := split(path)
	pfd, err := unix.Openat2(base, dir, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: resolve | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return -1, "", false, err
	}
	t.keep(pfd)
	var fs unix.Statfs_t
	if err := unix.Fstatfs(pfd, &fs); err != nil {
		return -1, "", false, err
	}
	if fs.Type == procSuperMagic {
		return -1, "", false, unix.EACCES
	}
	return pfd, name, slash, nil
}

// final resolves path like a call that follows a symbolic link in the last
// component (unless nofollow): it returns the directory and the name of the
// object the call acts on, which may not exist.
//
// An empty name means the object is the returned descriptor itself.
func (t *caller) final(base int, path string, resolve uint64, nofollow bool) (int, string, bool, error) {
	for hops := 0; ; hops++ {
		if path == "" {
			return base, "", false, nil
		}
		pfd, name, slash, err := t.parent(base, path, resolve)
		if err != nil {
			return -1, "", false, err
		}
		if nofollow && !slash {
			return pfd, name, slash, nil
		}
		var st unix.Stat_t
		if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil || st.Mode&unix.S_IFMT != unix.S_IFLNK {
			return pfd, name, slash, nil
		}
		if hops >= maxSymlinks || resolve&unix.RESOLVE_NO_SYMLINKS != 0 {
			return -1, "", false, unix.ELOOP
		}
		target, err := readlinkat(pfd, name)
		if err != nil {
			return -1, "", false, err
		}
		if slash {
			target += "/"
		}
		switch {
		case strings.HasPrefix(target, "/"):
			if _, _, ok := selfFD(target, t.c.TID); ok {
				// A link to the caller's own descriptor (/dev/stdout).
				nb, np, err := t.start(unix.AT_FDCWD, target)
				if err != nil {
					return -1, "", false, err
				}
				base, path = nb, np
				continue
			}
			switch {
			case resolve&unix.RESOLVE_IN_ROOT != 0:
				path = "." + target // absolute links stay inside base
			case resolve&unix.RESOLVE_BENEATH != 0:
				return -1, "", false, unix.EXDEV
			default:
				base, path = unix.AT_FDCWD, target
			}
		default:
			dir, _, _ := split(path)
			path = dir + "/" + target
		}
	}
}

func readlinkat(dirfd int, name string) (string, error) {
	for size := 256; size <= 65536; size *= 4 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
	return "", unix.ENAMETOOLONG
}
