package linuxinit

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
)

// view builds the sandbox's filesystem: a detached, read-only copy of the
// host's mount tree, populated with the plan's mounts, then made the root.
// Targets are always resolved inside the new tree (RESOLVE_IN_ROOT) and
// without symbolic links, so nothing planned on the host can be redirected
// out of it.
type view struct {
	root int // the new tree's root mount
	mask int // a read-only tmpfs holding the unreadable empties, or -1
	// scratch are our own tmpfs mounts, where missing mount points may be
	// created.
	scratch []string
	// readOnlyLater are mounts to make read-only once populated.
	readOnlyLater []int
	// hostClones are clones of host paths, taken before the new tree was
	// attached (which may cover them).
	hostClones map[string]int
	fds        []int
}

func (v *view) close() {
	for _, fd := range v.fds {
		unix.Close(fd)
	}
}

func (v *view) keep(fd int) int {
	v.fds = append(v.fds, fd)
	return fd
}

// setupFilesystem applies the plan's mounts and pivots into the new root.
func setupFilesystem(p *linuxplan.Plan) error {
	// Nothing we do may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	root, err := unix.OpenTree(unix.AT_FDCWD, "/", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("clone the mount tree (open_tree, Linux 5.2+): %w", err)
	}
	v := &view{root: root, mask: -1, hostClones: map[string]int{}}
	v.keep(root)
	defer v.close()
	// Clone every host path we need before the new tree is attached: it
	// is attached over a host directory, which may hold some of them.
	for _, m := range p.Mounts {
		var paths []string
		switch {
		case m.Kind == linuxplan.BindRW, m.Kind == linuxplan.BindRO && m.Source != m.Target, m.Kind == linuxplan.HostSocket:
			paths = []string{m.Source}
		case m.Kind == linuxplan.Dev:
			for _, name := range devNodes {
				paths = append(paths, "/dev/"+name)
			}
		}
		for _, path := range paths {
			fd, err := cloneHost(path)
			if err != nil {
				return fmt.Errorf("%s %s: %w", m.Kind, m.Target, err)
			}
			v.hostClones[path] = v.keep(fd)
		}
	}
	attr := unix.MountAttr{
		Attr_set:    unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV,
		Propagation: unix.MS_PRIVATE,
	}
	if err := unix.MountSetattr(root, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("make the root read-only (mount_setattr, Linux 5.12+): %w", err)
	}
	if err := attachStaging(root); err != nil {
		return err
	}
	for _, m := range p.Mounts {
		if err := v.apply(m); err != nil {
			return fmt.Errorf("%s %s: %w", m.Kind, m.Target, err)
		}
	}
	ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	for _, fd := range v.readOnlyLater {
		if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &ro); err != nil {
			return fmt.Errorf("make a scratch mount read-only: %w", err)
		}
	}
	if err := unix.Fchdir(root); err != nil {
		return err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	return nil
}

// attachStaging attaches the new tree at an existing directory so that it
// can be populated and pivoted into.
func attachStaging(root int) error {
	var last error
	for _, dir := range []string{"/tmp", "/mnt", "/var/tmp", "/opt", "/srv", "/home"} {
		err := unix.MoveMount(root, "", unix.AT_FDCWD, dir, unix.MOVE_MOUNT_F_EMPTY_PATH)
		if err == nil {
			return nil
		}
		last = err
	}
	return fmt.Errorf("attach the new root (move_mount): %w", last)
}

func (v *view) apply(m linuxplan.Mount) error {
	switch m.Kind {
	case linuxplan.Proc:
		fd, err := newMount("proc", nil, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
		if err != nil {
			return err
		}
		return v.attach(v.keep(fd), m.Target, true)
	case linuxplan.Tmpfs:
		fd, err := newMount("tmpfs", tmpfsOptions(m.Size), unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
		if err != nil {
			return err
		}
		if err := v.attach(v.keep(fd), m.Target, true); err != nil {
			return err
		}
		v.scratch = append(v.scratch, m.Target)
		return nil
	case linuxplan.HideDir:
		fd, err := newMount("tmpfs", map[string]string{"mode": "0755", "size": "64k"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
		if err != nil {
			return err
		}
		if err := v.attach(v.keep(fd), m.Target, true); err != nil {
			return err
		}
		v.scratch = append(v.scratch, m.Target)
		v.readOnlyLater = append(v.readOnlyLater, fd)
		return nil
	case linuxplan.Dev:
		return v.dev(m.Target, m.Size)
	case linuxplan.HostSocket:
		return v.attach(v.hostClones[m.Source], m.Target, false)
	case linuxplan.BindRW:
		src := v.hostClones[m.Source]
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
		if err := unix.MountSetattr(src, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("nosuid,nodev: %w", err)
		}
		return v.attach(src, m.Target, isDirFD(src))
	case linuxplan.Pin, linuxplan.BindRO:
		// A path bound over itself is cloned from the new tree, where the
		// writable roots already are; one bound elsewhere comes from the
		// host.
		src, err := -1, error(nil)
		if m.Kind == linuxplan.BindRO && m.Source != m.Target {
			src = v.hostClones[m.Source]
		} else if src, err = v.cloneInside(m.Target); err != nil {
			return err
		}
		if m.Kind == linuxplan.BindRO {
			attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV}
			if err := unix.MountSetattr(src, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
				return fmt.Errorf("read-only: %w", err)
			}
		}
		if m.Source == m.Target || m.Kind == linuxplan.Pin {
			v.keep(src)
		}
		return v.attach(src, m.Target, isDirFD(src))
	case linuxplan.MaskDir, linuxplan.MaskFile:
		if err := v.ensureMask(); err != nil {
			return err
		}
		name := "d"
		if m.Kind == linuxplan.MaskFile {
			name = "f"
		}
		src, err := unix.OpenTree(v.mask, name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
		if err != nil {
			return fmt.Errorf("clone the mask: %w", err)
		}
		return v.attach(v.keep(src), m.Target, m.Kind == linuxplan.MaskDir)
	}
	return fmt.Errorf("unknown mount kind %q", m.Kind)
}

// newMount creates a detached mount of a fresh filesystem.
func newMount(fstype string, opts map[string]string, attrs int) (int, error) {
	fsfd, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen %s: %w", fstype, err)
	}
	defer unix.Close(fsfd)
	for k, val := range opts {
		if err := unix.FsconfigSetString(fsfd, k, val); err != nil {
			return -1, fmt.Errorf("%s option %s=%s: %w", fstype, k, val, err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("create %s: %w", fstype, err)
	}
	fd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return fd, nil
}

// cloneHost clones a host path (and the mounts below it) from the original
// tree, refusing symbolic links anywhere in the path.
func cloneHost(path string) (int, error) {
	pfd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return -1, fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(pfd)
	fd, err := unix.OpenTree(pfd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, fmt.Errorf("clone %s: %w", path, err)
	}
	return fd, nil
}

// cloneInside clones a path of the new tree, with the mounts below it.
func (v *view) cloneInside(path string) (int, error) {
	pfd, err := v.resolve(path)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	fd, err := unix.OpenTree(pfd, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, fmt.Errorf("clone %s: %w", path, err)
	}
	return fd, nil
}

// resolve opens a path of the new tree as O_PATH, without symbolic links.
func (v *view) resolve(path string) (int, error) {
	fd, err := unix.Openat2(v.root, path, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return -1, fmt.Errorf("%s: a symbolic link appeared on the way (refused)", path)
		}
		return -1, fmt.Errorf("%s: %w", path, err)
	}
	return fd, nil
}

// attach moves the detached mount src onto target in the new tree. A
// missing target is created only inside our own scratch tmpfs mounts.
func (v *view) attach(src int, target string, dir bool) error {
	tfd, err := v.resolve(target)
	if errors.Is(err, unix.ENOENT) && v.inScratch(target) {
		if err := v.create(target, dir); err != nil {
			return err
		}
		tfd, err = v.resolve(target)
	}
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	if err := unix.MoveMount(src, "", tfd, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

func (v *view) inScratch(path string) bool {
	for _, s := range v.scratch {
		if strings.HasPrefix(path, s+"/") {
			return true
		}
	}
	return false
}

// create makes a mount point (and its parents) inside a scratch tmpfs.
func (v *view) create(path string, dir bool) error {
	parent := filepath.Dir(path)
	var walk []string
	for p := parent; p != "/" && v.inScratch(p+"/x"); p = filepath.Dir(p) {
		walk = append([]string{p}, walk...)
	}
	for _, p := range walk {
		pfd, err := v.resolve(filepath.Dir(p))
		if err != nil {
			return err
		}
		err = unix.Mkdirat(pfd, filepath.Base(p), 0o755)
		unix.Close(pfd)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create mount point %s: %w", p, err)
		}
	}
	pfd, err := v.resolve(parent)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if dir {
		err = unix.Mkdirat(pfd, filepath.Base(path), 0o755)
	} else {
		var fd int
		fd, err = unix.Openat(pfd, filepath.Base(path), unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
		}
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create mount point %s: %w", path, err)
	}
	return nil
}

// ensureMask creates the read-only tmpfs that holds the unreadable empty
// directory "d" and file "f" that masks are cloned from.
func (v *view) ensureMask() error {
	if v.mask >= 0 {
		return nil
	}
	fd, err := newMount("tmpfs", map[string]string{"mode": "0755", "size": "4k"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	v.keep(fd)
	if err := unix.Mkdirat(fd, "d", 0); err != nil {
		return fmt.Errorf("mask dir: %w", err)
	}
	f, err := unix.Openat(fd, "f", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("mask file: %w", err)
	}
	unix.Close(f)
	// Owners could chmod them back; a read-only mount refuses that.
	if err := unix.Fchmodat(fd, "d", 0, 0); err != nil {
		return err
	}
	ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &ro); err != nil {
		return fmt.Errorf("make the mask read-only: %w", err)
	}
	v.mask = fd
	return nil
}

// dev builds a minimal /dev from host device nodes and a private devpts.
// tmpfsOptions are the options of a private, writable tmpfs of at most
// size bytes (0: the kernel's default).
func tmpfsOptions(size uint64) map[string]string {
	o := map[string]string{"mode": "1777"}
	if size > 0 {
		o["size"] = strconv.FormatUint(size, 10)
	}
	return o
}

func (v *view) dev(target string, size uint64) error {
	fd, err := newMount("tmpfs", map[string]string{"mode": "0755", "size": "64k"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	v.keep(fd)
	for _, name := range devNodes {
		f, err := unix.Openat(fd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
		if err != nil {
			return fmt.Errorf("/dev/%s: %w", name, err)
		}
		unix.Close(f)
	}
	for _, d := range []string{"pts", "shm"} {
		if err := unix.Mkdirat(fd, d, 0o755); err != nil {
			return err
		}
	}
	links := map[string]string{
		"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
	}
	for name, to := range links {
		if err := unix.Symlinkat(to, fd, name); err != nil {
			return err
		}
	}
	if err := v.attach(fd, target, true); err != nil {
		return err
	}
	for _, name := range devNodes {
		src := v.hostClones["/dev/"+name]
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NOEXEC}
		if err := unix.MountSetattr(src, "", unix.AT_EMPTY_PATH, &attr); err != nil {
			return err
		}
		if err := v.attach(src, target+"/"+name, false); err != nil {
			return err
		}
	}
	pts, err := newMount("devpts", map[string]string{"ptmxmode": "0666", "mode": "0620"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return err
	}
	if err := v.attach(v.keep(pts), target+"/pts", true); err != nil {
		return err
	}
	shm, err := newMount("tmpfs", tmpfsOptions(size), unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	if err != nil {
		return err
	}
	if err := v.attach(v.keep(shm), target+"/shm", true); err != nil {
		return err
	}
	v.scratch = append(v.scratch, target)
	return nil
}

// devNodes are the host devices bound into the sandbox's /dev.
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

func isDirFD(fd int) bool {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return true
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR
}

// verifyFilesystem checks the view from inside: the root is read-only, each
// writable root is writable, each protected path read-only, each mask
// unreadable.
func verifyFilesystem(p *linuxplan.Plan) error {
	readOnly := func(path string) (bool, error) {
		var st unix.Statfs_t
		if err := unix.Statfs(path, &st); err != nil {
			return false, fmt.Errorf("check %s: %w", path, err)
		}
		return st.Flags&unix.ST_RDONLY != 0, nil
	}
	if ro, err := readOnly("/"); err != nil || !ro {
		return fmt.Errorf("the root is not read-only inside the sandbox (%v)", err)
	}
	for _, m := range p.Mounts {
		switch m.Kind {
		case linuxplan.BindRW:
			if ro, err := readOnly(m.Target); err != nil || ro {
				return fmt.Errorf("the writable root %s is not writable inside the sandbox (%v)", m.Target, err)
			}
		case linuxplan.BindRO:
			if ro, err := readOnly(m.Target); err != nil || !ro {
				return fmt.Errorf("the protected path %s is not read-only inside the sandbox (%v)", m.Target, err)
			}
		case linuxplan.MaskDir, linuxplan.MaskFile:
			var st unix.Stat_t
			if err := unix.Stat(m.Target, &st); err != nil || st.Mode&0o777 != 0 {
				return fmt.Errorf("the denied path %s is not masked inside the sandbox (%v)", m.Target, err)
			}
		}
	}
	return nil
}
