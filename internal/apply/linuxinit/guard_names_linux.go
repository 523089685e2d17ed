package linuxinit

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/unotify"
)

// The calls that create a name in the filesystem (seccomp's
// SuperviseFiles). The supervisor resolves the directory that will hold the
// new name as the caller would, refuses the names the plan reserves (absent
// protected paths) and renames of pinned directories, and makes the call on
// the actor thread, relative to the directory it resolved, so that the name
// it checked is the name that is created.

// pathMax is the longest path the kernel accepts, with its NUL.
const pathMax = 4096

// reservedSet is the plan's reserved names, by the identity of the directory
// that would hold them.
type reservedSet map[fileID][]string

// caseFolding is FS_CASEFOLD_FL: the directory compares names without case.
const caseFolding = 0x40000000

// loadNames resolves the reserved and pinned paths to the identities the
// checks compare.
func (g *guard) loadNames() {
	g.reserved = reservedSet{}
	g.folded = map[fileID]bool{}
	for _, p := range g.plan.Reserved {
		dir, name, _ := split(p)
		if id, ok := identityOf(dir); ok {
			g.reserved[id] = append(g.reserved[id], name)
			if flags, err := dirFlags(dir); err == nil && flags&caseFolding != 0 {
				g.folded[id] = true
			}
		}
	}
	g.pinned = map[fileID]bool{}
	for _, p := range g.plan.Pinned {
		if id, ok := identityOf(p); ok {
			g.pinned[id] = true
		}
	}
	g.loadProtected()
	g.reservedNames = map[string]bool{}
	for _, names := range g.reserved {
		for _, n := range names {
			g.reservedNames[strings.ToLower(n)] = true
		}
	}
}

func identityOf(path string) (fileID, bool) {
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return fileID{}, false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return fileID{}, false
	}
	return fileID{st.Dev, st.Ino}, true
}

func dirFlags(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	return unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
}

func fdIdentity(fd int) (fileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fileID{}, err
	}
	return fileID{st.Dev, st.Ino}, nil
}

// mayCreate refuses a new name that the plan reserves.
func (g *guard) mayCreate(t *caller, op string, pfd int, name, asked string) error {
	if name == "" || name == "." || name == ".." {
		return nil
	}
	if err := g.mayChangeProtected(t, op, pfd, name, asked); err != nil {
		return err
	}
	if len(g.reserved) == 0 {
		if err := g.mayWriteName(t, op, pfd, name, asked); err != nil {
			return err
		}
		return g.mayTouchGit(t, op, pfd, name, asked)
	}
	id, err := fdIdentity(pfd)
	if err != nil {
		return err
	}
	for _, r := range g.reserved[id] {
		if r == name || g.folded[id] && strings.EqualFold(r, name) {
			g.deny(t, op, fdPath(pfd, asked)+"/"+name, "protected path: it may not be created inside the sandbox (filesystem.protected)")
			return unix.EROFS
		}
	}
	if err := g.mayWriteName(t, op, pfd, name, asked); err != nil {
		return err
	}
	return g.mayTouchGit(t, op, pfd, name, asked)
}

// mayMove refuses to rename a pinned directory.
func (g *guard) mayMove(t *caller, pfd int, name, asked string) error {
	if err := g.mayChangeProtected(t, "rename", pfd, name, asked); err != nil {
		return err
	}
	if name == "" || len(g.pinned) == 0 {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil // the call itself will say
	}
	if g.pinned[fileID{st.Dev, st.Ino}] {
		g.deny(t, "rename", fdPath(pfd, asked)+"/"+name, "holds a protected path: it may not be renamed inside the sandbox")
		return unix.EBUSY // what a mount point answers
	}
	return nil
}

// path reads the path argument i.
func (t *caller) path(i int) (string, error) {
	var p string
	err := withPtrace(func() error {
		var err error
		p, err = t.c.ReadString(t.c.Args[i], pathMax-1)
		return err
	})
	return p, err
}

// dirfd is argument i as a directory descriptor (AT_FDCWD included).
func (t *caller) dirfd(i int) int32 { return int32(t.c.Args[i]) }

// umask reads the caller's umask for the actor to apply.
func (t *caller) umask() (int, error) {
	var m uint32
	err := withPtrace(func() error {
		var err error
		m, err = t.c.Umask()
		return err
	})
	return int(m), err
}

// at resolves the directory that holds the last name of a path argument.
func (t *caller) at(dirfd int32, path string) (int, string, error) {
	base, rest, err := t.start(dirfd, path)
	if err != nil {
		return -1, "", err
	}
	pfd, name, _, err := t.parent(base, rest, 0)
	return pfd, name, err
}

func (g *guard) mkdirat(t *caller, dirfd int32, pathArg int, mode uint32) (int64, error) {
	return 0, g.makeNode(t, "mkdir", dirfd, pathArg, func(pfd int, name string) error {
		return unix.Mkdirat(pfd, name, mode)
	})
}

func (g *guard) mknodat(t *caller, dirfd int32, pathArg int, mode uint32, dev uint64) (int64, error) {
	return 0, g.makeNode(t, "mknod", dirfd, pathArg, func(pfd int, name string) error {
		return unix.Mknodat(pfd, name, mode, int(dev))
	})
}

// makeNode serves a call that makes a name (mkdir, mknod): the directory
// resolved as the caller would, the name judged, then made relative to
// that directory with the caller's umask, and remembered as the run's own.
func (g *guard) makeNode(t *caller, op string, dirfd int32, pathArg int, make func(pfd int, name string) error) error {
	path, err := t.path(pathArg)
	if err != nil {
		return err
	}
	umask, err := t.umask()
	if err != nil {
		return err
	}
	pfd, name, err := t.at(dirfd, path)
	if err != nil {
		return err
	}
	if !t.c.Valid() {
		return unotify.ErrGone
	}
	if name == "" {
		return unix.EEXIST
	}
	if err := g.mayCreate(t, op, pfd, name, path); err != nil {
		return err
	}
	err = t.do(func() error {
		unix.Umask(umask)
		return make(pfd, name)
	})
	if err == nil {
		g.madeName(pfd, name)
	}
	return err
}

func (g *guard) symlinkat(t *caller, targetArg int, dirfd int32, pathArg int) (int64, error) {
	target, err := t.path(targetArg)
	if err != nil {
		return 0, err
	}
	path, err := t.path(pathArg)
	if err != nil {
		return 0, err
	}
	pfd, name, err := t.at(dirfd, path)
	if err != nil {
		return 0, err
	}
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	if name == "" {
		return 0, unix.EEXIST
	}
	if err := g.mayCreate(t, "symlink", pfd, name, path); err != nil {
		return 0, err
	}
	err = t.do(func() error { return unix.Symlinkat(target, pfd, name) })
	if err == nil {
		g.madeName(pfd, name)
	}
	return 0, err
}

func (g *guard) linkat(t *caller, olddirfd int32, oldArg int, newdirfd int32, newArg int, flags int) (int64, error) {
	if flags&^(unix.AT_SYMLINK_FOLLOW|unix.AT_EMPTY_PATH) != 0 {
		return 0, unix.EINVAL
	}
	old, err := t.path(oldArg)
	if err != nil {
		return 0, err
	}
	newp, err := t.path(newArg)
	if err != nil {
		return 0, err
	}
	var ofd int
	var oname string
	if old == "" && flags&unix.AT_EMPTY_PATH != 0 {
		if ofd, err = t.fd(0); err != nil {
			return 0, err
		}
	} else {
		base, rest, err := t.start(olddirfd, old)
		if err != nil {
			return 0, err
		}
		if ofd, oname, _, err = t.final(base, rest, 0, flags&unix.AT_SYMLINK_FOLLOW == 0); err != nil {
			return 0, err
		}
	}
	npfd, nname, err := t.at(newdirfd, newp)
	if err != nil {
		return 0, err
	}
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	if nname == "" {
		return 0, unix.EEXIST
	}
	if err := g.mayCreate(t, "link", npfd, nname, newp); err != nil {
		return 0, err
	}
	if oname != "" {
		// A second name for a control file would let it be written as
		// an ordinary file.
		if err := g.mayTouchGit(t, "link", ofd, oname, old); err != nil {
			return 0, err
		}
	}
	err = t.do(func() error {
		if oname == "" {
			return unix.Linkat(ofd, "", npfd, nname, unix.AT_EMPTY_PATH)
		}
		return unix.Linkat(ofd, oname, npfd, nname, 0)
	})
	if err == nil {
		g.madeName(npfd, nname)
	}
	return 0, err
}

func (g *guard) renameat2(t *caller, olddirfd int32, oldArg int, newdirfd int32, newArg int, flags uint) (int64, error) {
	old, err := t.path(oldArg)
	if err != nil {
		return 0, err
	}
	newp, err := t.path(newArg)
	if err != nil {
		return 0, err
	}
	opfd, oname, err := t.at(olddirfd, old)
	if err != nil {
		return 0, err
	}
	npfd, nname, err := t.at(newdirfd, newp)
	if err != nil {
		return 0, err
	}
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	if oname == "" || nname == "" {
		return 0, unix.EBUSY // a descriptor's own file has no name to move
	}
	if err := g.mayMove(t, opfd, oname, old); err != nil {
		return 0, err
	}
	if err := g.mayMoveGit(t, opfd, oname, old); err != nil {
		return 0, err
	}
	if flags&unix.RENAME_EXCHANGE != 0 {
		if err := g.mayMove(t, npfd, nname, newp); err != nil {
			return 0, err
		}
		if err := g.mayMoveGit(t, npfd, nname, newp); err != nil {
			return 0, err
		}
	}
	if err := g.mayCreate(t, "rename", npfd, nname, newp); err != nil {
		return 0, err
	}
	// A HEAD that appears under a name that had none makes a repository;
	// one git replaces (HEAD.lock onto HEAD) does not.
	var st unix.Stat_t
	headExisted := nname == "HEAD" && unix.Fstatat(npfd, nname, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	var oldPath, newPath string
	if g.hasCandidates() {
		oldPath, newPath = fdPath(opfd, old)+"/"+oname, fdPath(npfd, newp)+"/"+nname
	}
	err = t.do(func() error { return unix.Renameat2(opfd, oname, npfd, nname, flags) })
	if err != nil {
		return 0, err
	}
	if nname == "HEAD" && !headExisted {
		g.madeName(npfd, nname)
	}
	if oldPath != "" {
		g.moved(oldPath, newPath)
	}
	return 0, nil
}

// truncate serves truncate(2): the file is resolved as the caller would and
// truncated through the supervisor's own descriptor of it.
func (g *guard) truncate(t *caller, pathArg int, length int64) (int64, error) {
	path, err := t.path(pathArg)
	if err != nil {
		return 0, err
	}
	base, rest, err := t.start(unix.AT_FDCWD, path)
	if err != nil {
		return 0, err
	}
	pfd, name, _, err := t.final(base, rest, 0, false)
	if err != nil {
		return 0, err
	}
	if !t.c.Valid() {
		return 0, unotify.ErrGone
	}
	if err := g.mayTouchGit(t, "truncate", pfd, name, path); err != nil {
		return 0, err
	}
	if err := g.mayWriteFile(t, "truncate", pfd, name, path); err != nil {
		return 0, err
	}
	obj := pfd
	if name != "" {
		if obj, err = unix.Openat(pfd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err != nil {
			return 0, err
		}
		t.keep(obj)
	}
	return 0, t.do(func() error { return unix.Truncate("/proc/self/fd/"+strconv.Itoa(obj), length) })
}

// openHow is struct open_how (openat2(2)).
type openHow struct{ flags, mode, resolve uint64 }

// openat serves open, creat, openat (with O_CREAT) and openat2 (always):
// it opens the file on the actor thread and installs the descriptor in the
// caller.
func (g *guard) openat(t *caller, dirfd int32, pathArg int, how openHow, openat2 bool) error {
	path, err := t.path(pathArg)
	if err != nil {
		return err
	}
	flags := int(how.flags)
	creating := flags&unix.O_CREAT != 0 && flags&unix.O_PATH == 0
	umask := 0
	if creating {
		if umask, err = t.umask(); err != nil {
			return err
		}
	}
	base, rest, err := t.start(dirfd, path)
	if err != nil {
		return err
	}
	if !t.c.Valid() {
		return unotify.ErrGone
	}
	if flags&unix.O_CREAT != 0 && flags&unix.O_DIRECTORY != 0 && flags&unix.O_PATH == 0 {
		return unix.EINVAL // Linux 6.4 and newer refuse the pair
	}
	resolve := how.resolve
	nofollow := flags&unix.O_NOFOLLOW != 0 || creating && flags&unix.O_EXCL != 0
	for range maxSymlinks {
		pfd, name, slash, err := t.final(base, rest, resolve, nofollow)
		if err != nil {
			return err
		}
		var fd int
		if name == "" {
			// One of the caller's own descriptors (/dev/stdout): reopen
			// its file, as the kernel would through the magic link.
			if creating && flags&unix.O_EXCL != 0 {
				return unix.EEXIST
			}
			err = t.do(func() error {
				var err error
				fd, err = unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), flags&^(unix.O_CREAT|unix.O_EXCL)|unix.O_CLOEXEC, 0)
				return err
			})
		} else {
			var st unix.Stat_t
			exists := unix.Fstatat(pfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
			switch {
			case !exists && creating:
				if slash {
					return unix.EISDIR
				}
				if err := g.mayCreate(t, "create", pfd, name, path); err != nil {
					return err
				}
				err = t.do(func() error {
					unix.Umask(umask)
					var err error
					fd, err = unix.Openat(pfd, name, flags|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, uint32(how.mode))
					return err
				})
				if errors.Is(err, unix.EEXIST) && flags&unix.O_EXCL == 0 {
					continue // made meanwhile: open it as it is now
				}
				if err == nil {
					g.madeName(pfd, name)
				}
			case exists && creating && flags&unix.O_EXCL != 0:
				return unix.EEXIST
			default:
				// An existing name (or none, without O_CREAT): open it
				// without following a link that appeared since.
				if exists && flags&(unix.O_WRONLY|unix.O_RDWR|unix.O_TRUNC) != 0 {
					if err := g.mayTouchGit(t, "write", pfd, name, path); err != nil {
						return err
					}
					if err := g.mayWriteFile(t, "write", pfd, name, path); err != nil {
						return err
					}
				}
				open := flags &^ (unix.O_CREAT | unix.O_EXCL)
				if !(exists && st.Mode&unix.S_IFMT == unix.S_IFLNK) {
					open |= unix.O_NOFOLLOW
				}
				err = t.do(func() error {
					var err error
					fd, err = unix.Openat(pfd, name, open|unix.O_CLOEXEC, 0)
					return err
				})
				if creating && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) && !nofollow) {
					continue // removed or replaced by a link meanwhile
				}
			}
		}
		if err != nil {
			return err
		}
		if err := checkOpened(fd); err != nil {
			unix.Close(fd)
			return err
		}
		err = t.c.ReturnFD(fd, flags&unix.O_CLOEXEC != 0)
		unix.Close(fd)
		if err != nil {
			return err
		}
		return errAnswered
	}
	return unix.ELOOP
}

// errAnswered says the call was answered already (with a descriptor).
var errAnswered = errors.New("answered")

// checkOpened refuses descriptors the supervisor must not hand over: files
// of procfs (reached by a lookup the supervisor made with its own identity)
// and the controlling terminal, which the caller, in a session of its own,
// does not have.
func checkOpened(fd int) error {
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err != nil {
		return err
	}
	if fs.Type == procSuperMagic {
		return unix.EACCES
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 5 && unix.Minor(st.Rdev) == 0 {
		return unix.ENXIO // /dev/tty
	}
	return nil
}

// readHow copies struct open_how from argument i, of size argument i+1.
func (t *caller) readHow(i int) (openHow, error) {
	size := t.c.Args[i+1]
	if size < 24 {
		return openHow{}, unix.EINVAL
	}
	if size > 4096 {
		return openHow{}, unix.E2BIG
	}
	buf := make([]byte, size)
	if err := withPtrace(func() error { return t.c.ReadMemory(t.c.Args[i], buf) }); err != nil {
		return openHow{}, err
	}
	for _, b := range buf[24:] {
		if b != 0 {
			return openHow{}, unix.E2BIG // fields this supervisor does not know
		}
	}
	return openHow{
		flags:   binary.LittleEndian.Uint64(buf[0:]),
		mode:    binary.LittleEndian.Uint64(buf[8:]),
		resolve: binary.LittleEndian.Uint64(buf[16:]),
	}, nil
}
