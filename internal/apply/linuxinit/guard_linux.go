package linuxinit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
	"github.com/cordon-sandbox/cordon/internal/unotify"
)

// guard is the init's supervisor for the calls the seccomp guard hands it
// (internal/seccomp, Options.Supervise): connect, bind and listen. For each
// one it reads the arguments once, fetches the caller's socket, decides, and
// makes the call itself on that socket, so that nothing the caller changes
// in its memory afterwards can redirect it.
//
// Each call is served by two threads of the init, a reader and an actor.
// The reader receives the call, reads the caller's memory, fetches its
// descriptors and resolves its paths (lookups that Landlock does not
// restrict); it has no capabilities except CAP_SYS_PTRACE in its permitted
// set, raised only to read a non-dumpable caller's arguments, and no
// Landlock domain, because Landlock lets a thread trace only processes in
// its own domain or below, and the command's domain is below none of the
// init's. The actor makes the call: it has its own working directory and
// umask (unshare(CLONE_FS)), no capabilities, no_new_privs, and the
// command's Landlock rules without the scopes (a scope would make the
// command's own abstract sockets unreachable from a sibling domain; the
// guard refuses the host's abstract sockets itself), so the call meets both
// layers the command's own call would have met.
type guard struct {
	l          *unotify.Listener
	plan       linuxplan.Guard
	landlock   linuxplan.Landlock
	namespaced bool
	send       func(Message)
	grants     map[fileID]bool

	// The names the plan reserves and the directories it pins, by
	// identity (guard_names_linux.go).
	reserved      reservedSet
	folded        map[fileID]bool
	pinned        map[fileID]bool
	reservedNames map[string]bool
	// protected holds the existing protected paths and rootIDs the
	// writable roots, by identity; inProtected caches, per directory,
	// whether it lies in a protected one (guard_protected_linux.go).
	protected   map[fileID]bool
	rootIDs     map[fileID]bool
	insideMu    sync.Mutex
	insideCache map[fileID]bool
	// git is what the supervisor keeps of repositories (guard_git_linux.go).
	git *gitState

	rulesetOnce sync.Once
	rulesetFD   int
	rulesetErr  error

	mu      sync.Mutex
	workers int
	idle    int

	denials atomic.Int32
}

type fileID struct{ dev, ino uint64 }

// maxWorkers bounds the pairs of threads serving calls. A call that blocks
// (a connect to a full backlog, the open of a FIFO) holds one; more are
// started while none is idle.
const maxWorkers = 16

// maxDenialReports bounds the refusals reported to the supervisor, so that a
// command cannot flood the audit trail with them.
const maxDenialReports = 100

// newGuard prepares the supervisor for a plan. Call it before the guard is
// installed on this thread: it looks up paths, and from then on some
// lookups are the guard's.
func newGuard(p *linuxplan.Plan, send func(Message)) *guard {
	g := &guard{plan: p.Guard, landlock: p.Landlock, namespaced: p.Namespaces, send: send, grants: map[fileID]bool{}, git: newGitState()}
	for _, path := range p.Guard.SocketGrants {
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK {
			g.grants[fileID{st.Dev, st.Ino}] = true
		}
	}
	g.loadNames()
	return g
}

// start serves the listener: it starts the first worker, which starts
// others as needed.
func (g *guard) start(l *unotify.Listener) {
	g.l = l
	g.mu.Lock()
	defer g.mu.Unlock()
	g.spawnLocked()
}

func (g *guard) spawnLocked() {
	g.workers++
	g.idle++
	go g.worker()
}

// worker is a reader thread with its actor.
func (g *guard) worker() {
	// Never unlocked: the thread carries its own capabilities, and dies
	// with the goroutine.
	runtime.LockOSThread()
	if err := dropCaps(capSysPtrace); err == nil {
		err = unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
	}
	act := make(chan func())
	ready := make(chan error)
	go g.actor(act, ready)
	if err := <-ready; err != nil {
		g.send(Message{Type: MsgError, Layer: "unix-sockets", Error: fmt.Sprintf("prepare the supervisor's thread: %v", err)})
		os.Exit(125)
	}
	for {
		c, err := g.l.Receive()
		if err != nil {
			return // the listener is gone: the init is ending
		}
		g.mu.Lock()
		g.idle--
		if g.idle == 0 && g.workers < maxWorkers {
			g.spawnLocked()
		}
		g.mu.Unlock()
		g.serve(c, act)
		g.mu.Lock()
		g.idle++
		g.mu.Unlock()
	}
}

// actor runs the calls its reader hands it, on a thread restricted like
// the command.
func (g *guard) actor(work <-chan func(), ready chan<- error) {
	runtime.LockOSThread()
	err := g.setupActor()
	ready <- err
	if err != nil {
		return
	}
	for f := range work {
		f()
	}
}

// capSysPtrace as a bit of the low capability word.
const capSysPtrace = 1 << unix.CAP_SYS_PTRACE

// dropCaps leaves the calling thread with no capability in force and only
// keep (of what it has) in its permitted set.
func dropCaps(keep uint32) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data = [2]unix.CapUserData{{Permitted: data[0].Permitted & keep}}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

func (g *guard) setupActor() error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare(CLONE_FS): %w", err)
	}
	if err := dropCaps(0); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	if g.landlock.Enabled {
		g.rulesetOnce.Do(func() {
			l := g.landlock
			l.Scoped = false
			g.rulesetFD, g.rulesetErr = newRuleset(l, g.namespaced)
		})
		if g.rulesetErr != nil {
			return g.rulesetErr
		}
		if err := restrictSelf(g.rulesetFD); err != nil {
			return err
		}
	}
	return nil
}

// withPtrace runs f, and once more with CAP_SYS_PTRACE in force if it was
// refused and the thread holds the capability: reading the arguments of a
// caller that made itself non-dumpable needs it.
func withPtrace(f func() error) error {
	err := f()
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EACCES) {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if unix.Capget(&hdr, &data[0]) != nil || data[0].Permitted&capSysPtrace == 0 {
		return err
	}
	data[0].Effective = capSysPtrace
	if unix.Capset(&hdr, &data[0]) != nil {
		return err
	}
	err = f()
	data[0].Effective = 0
	if unix.Capset(&hdr, &data[0]) != nil {
		// A thread left with the capability in force must not serve
		// another call.
		panic("cordon: cannot drop CAP_SYS_PTRACE again")
	}
	return err
}

// serve answers one call.
func (g *guard) serve(c *unotify.Call, act chan<- func()) {
	t := &caller{c: c, act: act}
	defer t.done()
	val, err := g.call(t)
	switch {
	case errors.Is(err, errAnswered), errors.Is(err, unotify.ErrGone):
	case err != nil:
		c.Fail(errnoOf(err))
	default:
		c.Return(val)
	}
}

func errnoOf(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

func (g *guard) call(t *caller) (int64, error) {
	switch nr := int(t.c.Nr); nr {
	case unix.SYS_CONNECT:
		return g.connect(t)
	case unix.SYS_BIND:
		return g.bind(t)
	case unix.SYS_LISTEN:
		return g.listen(t)
	case unix.SYS_MKDIRAT:
		return g.mkdirat(t, t.dirfd(0), 1, uint32(t.c.Args[2]))
	case sysMkdir:
		return g.mkdirat(t, unix.AT_FDCWD, 0, uint32(t.c.Args[1]))
	case unix.SYS_MKNODAT:
		return g.mknodat(t, t.dirfd(0), 1, uint32(t.c.Args[2]), t.c.Args[3])
	case sysMknod:
		return g.mknodat(t, unix.AT_FDCWD, 0, uint32(t.c.Args[1]), t.c.Args[2])
	case unix.SYS_SYMLINKAT:
		return g.symlinkat(t, 0, t.dirfd(1), 2)
	case sysSymlink:
		return g.symlinkat(t, 0, unix.AT_FDCWD, 1)
	case unix.SYS_LINKAT:
		return g.linkat(t, t.dirfd(0), 1, t.dirfd(2), 3, int(int32(t.c.Args[4])))
	case sysLink:
		return g.linkat(t, unix.AT_FDCWD, 0, unix.AT_FDCWD, 1, 0)
	case unix.SYS_RENAMEAT:
		return g.renameat2(t, t.dirfd(0), 1, t.dirfd(2), 3, 0)
	case unix.SYS_RENAMEAT2:
		return g.renameat2(t, t.dirfd(0), 1, t.dirfd(2), 3, uint(uint32(t.c.Args[4])))
	case sysRename:
		return g.renameat2(t, unix.AT_FDCWD, 0, unix.AT_FDCWD, 1, 0)
	case unix.SYS_OPENAT:
		return 0, g.openat(t, t.dirfd(0), 1, openHow{flags: uint64(uint32(t.c.Args[2])), mode: t.c.Args[3] & 0o7777}, false)
	case sysOpen:
		return 0, g.openat(t, unix.AT_FDCWD, 0, openHow{flags: uint64(uint32(t.c.Args[1])), mode: t.c.Args[2] & 0o7777}, false)
	case sysCreat:
		return 0, g.openat(t, unix.AT_FDCWD, 0, openHow{flags: unix.O_CREAT | unix.O_WRONLY | unix.O_TRUNC, mode: t.c.Args[1] & 0o7777}, false)
	case unix.SYS_TRUNCATE:
		return g.truncate(t, 0, int64(t.c.Args[1]))
	case unix.SYS_OPENAT2:
		how, err := t.readHow(2)
		if err != nil {
			return 0, err
		}
		return 0, g.openat(t, t.dirfd(0), 1, how, true)
	}
	// A call the guard hands over but this supervisor does not know: the
	// filter and the supervisor disagree, which is a bug; refuse.
	return 0, unix.ENOSYS
}

// fd fetches the caller's descriptor named by argument i.
func (t *caller) fd(i int) (int, error) {
	var fd int
	err := withPtrace(func() error {
		var err error
		fd, err = t.c.FD(int(int32(t.c.Args[i])))
		return err
	})
	if err != nil {
		return -1, err
	}
	return t.keep(fd), nil
}

// sockaddr copies the socket address of arguments i (pointer) and i+1
// (length).
func (t *caller) sockaddr(i int) ([]byte, error) {
	size := t.c.Args[i+1]
	if size > unix.SizeofSockaddrAny {
		return nil, unix.EINVAL
	}
	buf := make([]byte, size)
	err := withPtrace(func() error { return t.c.ReadMemory(t.c.Args[i], buf) })
	return buf, err
}

// unixPath returns the path of a unix socket address, or "" for an unnamed
// (autobind) or abstract one; abstract is true for the latter.
func unixPath(addr []byte) (path string, abstract bool) {
	if len(addr) <= 2 {
		return "", false
	}
	name := addr[2:]
	if name[0] == 0 {
		return "", true
	}
	if i := strings.IndexByte(string(name), 0); i >= 0 {
		name = name[:i]
	}
	return string(name), false
}

func (g *guard) connect(t *caller) (int64, error) {
	sock, err := t.fd(0)
	if err != nil {
		return 0, err
	}
	addr, err := t.sockaddr(1)
	if err != nil {
		return 0, err
	}
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == unix.AF_UNIX {
		path, abstract := unixPath(addr)
		switch {
		case abstract && !g.plan.PrivateAbstract:
			g.deny(t, "connect", "@"+strings.TrimRight(string(addr[3:]), "\x00"), "abstract unix socket of the host's network namespace")
			return 0, unix.EACCES
		case path != "":
			target, err := g.socketFor(t, path)
			if err != nil {
				return 0, err
			}
			// Connect through our own descriptor of the socket file: the
			// kernel follows the link to exactly the inode we checked.
			// Landlock has no right for it, so the reader can make it.
			return 0, connectPath(sock, "/proc/self/fd/"+strconv.Itoa(target))
		}
	}
	if !g.landlock.DenyTCP {
		// No Landlock network rules to meet: the reader can make it.
		return 0, rawSockaddrCall(unix.SYS_CONNECT, sock, addr)
	}
	return 0, t.do(func() error { return rawSockaddrCall(unix.SYS_CONNECT, sock, addr) })
}

// socketFor resolves the path of a unix socket as the caller would, checks
// that the policy lets it connect there, and returns an O_PATH descriptor
// of the socket file.
func (g *guard) socketFor(t *caller, path string) (int, error) {
	base, rest, err := t.start(unix.AT_FDCWD, path)
	if err != nil {
		return -1, err
	}
	obj := base
	if rest != "" {
		// One lookup that follows links like the caller's connect would,
		// except magic links, which would be the supervisor's: ELOOP.
		if obj, err = unix.Openat2(base, rest, &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_NO_MAGICLINKS,
		}); err != nil {
			return -1, err
		}
		t.keep(obj)
	}
	var st unix.Stat_t
	if err := unix.Fstat(obj, &st); err != nil {
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return -1, unix.ECONNREFUSED // what the kernel answers for a file that is no socket
	}
	if !g.socketAllowed(obj, st) {
		g.deny(t, "connect", fdPath(obj, path), "unix socket outside the sandbox's writable places (grant a host socket with filesystem.host_sockets)")
		return -1, unix.EACCES
	}
	return obj, nil
}

// socketAllowed reports whether the socket file open as fd is one the
// command may connect to: a granted host socket, or one that lies below one
// of the sandbox's writable places. The place is read from the descriptor
// (the kernel's own name for the inode, through the mount it was reached
// by, free of symbolic links): a host service's socket cannot be moved or
// linked into a writable place from inside, since the mounts and Landlock
// refuse writes to the directory it is in.
func (g *guard) socketAllowed(fd int, st unix.Stat_t) bool {
	if g.grants[fileID{st.Dev, st.Ino}] {
		return true
	}
	p, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(fd))
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasSuffix(p, " (deleted)") {
		return false
	}
	return underAny(p, g.plan.SocketPlaces)
}

func underAny(p string, dirs []string) bool {
	for _, d := range dirs {
		if d == "/" || p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// fdPath names the file open as fd for a report, or falls back to what the
// caller asked for.
func fdPath(fd int, asked string) string {
	if p, err := os.Readlink("/proc/thread-self/fd/" + strconv.Itoa(fd)); err == nil {
		return p
	}
	return asked
}

func (g *guard) bind(t *caller) (int64, error) {
	sock, err := t.fd(0)
	if err != nil {
		return 0, err
	}
	addr, err := t.sockaddr(1)
	if err != nil {
		return 0, err
	}
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	cwd := -1
	if len(addr) >= 2 && binary.LittleEndian.Uint16(addr) == unix.AF_UNIX {
		path, abstract := unixPath(addr)
		switch {
		case abstract && !g.plan.PrivateAbstract:
			// A name in the host's abstract namespace could be taken for
			// a host service's (X11, D-Bus) by the host's clients.
			g.deny(t, "bind", "@"+strings.TrimRight(string(addr[3:]), "\x00"), "abstract unix socket of the host's network namespace")
			return 0, unix.EACCES
		case path != "":
			// The socket file is a new name: it may not be a reserved one.
			pfd, name, err := t.at(unix.AT_FDCWD, path)
			if err != nil {
				return 0, err
			}
			if err := g.mayCreate(t, "bind", pfd, name, path); err != nil {
				return 0, err
			}
			switch {
			case g.reservedNames[strings.ToLower(name)]:
				// The kernel's own lookup of the path could land
				// elsewhere than ours if a directory is swapped
				// meanwhile: bind the checked name from the checked
				// directory (getsockname then shows the bare name).
				cwd = pfd
				addr = append(addr[:2:2], append([]byte(name), 0)...)
			case !strings.HasPrefix(path, "/"):
				// A relative name is the caller's: bind from its
				// directory.
				if cwd, err = t.cwd(); err != nil {
					return 0, err
				}
			}
		}
	}
	return 0, t.do(func() error {
		if cwd >= 0 {
			if err := unix.Fchdir(cwd); err != nil {
				return err
			}
		}
		return rawSockaddrCall(unix.SYS_BIND, sock, addr)
	})
}

func (g *guard) listen(t *caller) (int64, error) {
	sock, err := t.fd(0)
	if err != nil {
		return 0, err
	}
	backlog := int(int32(t.c.Args[1]))
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	if g.landlock.DenyTCP {
		// listen(2) on an unbound TCP socket binds it to a port of every
		// address without the bind hook Landlock checks: refuse it like
		// the bind Landlock would have refused.
		if sa, err := unix.Getsockname(sock); err == nil {
			switch a := sa.(type) {
			case *unix.SockaddrInet4:
				if a.Port == 0 {
					g.deny(t, "listen", "tcp", "listen on an unbound TCP socket (binds every address)")
					return 0, unix.EACCES
				}
			case *unix.SockaddrInet6:
				if a.Port == 0 {
					g.deny(t, "listen", "tcp6", "listen on an unbound TCP socket (binds every address)")
					return 0, unix.EACCES
				}
			}
		}
	}
	return 0, unix.Listen(sock, backlog)
}

// rawSockaddrCall makes connect(2) or bind(2) with the copied address bytes.
func rawSockaddrCall(nr uintptr, fd int, addr []byte) error {
	var p unsafe.Pointer
	if len(addr) > 0 {
		p = unsafe.Pointer(&addr[0])
	}
	_, _, e := unix.Syscall(nr, uintptr(fd), uintptr(p), uintptr(len(addr)))
	runtime.KeepAlive(addr)
	if e != 0 {
		return e
	}
	return nil
}

// connectPath connects fd to the unix socket at path.
func connectPath(fd int, path string) error {
	return unix.Connect(fd, &unix.SockaddrUnix{Name: path})
}

// deny reports a refusal to the supervisor, for the audit trail.
func (g *guard) deny(t *caller, op, path, why string) {
	if g.denials.Add(1) > maxDenialReports {
		return
	}
	g.send(Message{Type: MsgDenied, Op: op, Target: path, Error: why, PID: t.c.TID})
}
