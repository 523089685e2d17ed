package linuxinit

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/linuxplan"
)

// LandlockABI returns the kernel's Landlock ABI version, or 0 with the
// reason when Landlock is unavailable.
func LandlockABI() (int, error) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	switch {
	case errno == unix.ENOSYS:
		return 0, errors.New("the kernel was built without Landlock (CONFIG_SECURITY_LANDLOCK)")
	case errno == unix.EOPNOTSUPP:
		return 0, errors.New("Landlock is built in but not enabled (add landlock to the lsm= boot parameter)")
	case errno != 0:
		return 0, fmt.Errorf("landlock_create_ruleset: %w", errno)
	}
	return int(v), nil
}

// landlockRuleNetPort is LANDLOCK_RULE_NET_PORT (Linux 6.7, ABI 4).
const landlockRuleNetPort = 2

// Filesystem rights by the ABI that introduced them.
const (
	fsRead  = unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR
	fsWrite = unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE |
		unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR | unix.LANDLOCK_ACCESS_FS_MAKE_REG |
		unix.LANDLOCK_ACCESS_FS_MAKE_SOCK | unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM
	fsABI1 = fsRead | fsWrite
	fsABI2 = fsABI1 | unix.LANDLOCK_ACCESS_FS_REFER
	fsABI3 = fsABI2 | unix.LANDLOCK_ACCESS_FS_TRUNCATE
	fsABI5 = fsABI3 | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
)

// handledFS returns the filesystem rights the kernel can restrict.
func handledFS(abi int) uint64 {
	switch {
	case abi >= 5:
		return fsABI5
	case abi >= 3:
		return fsABI3
	case abi >= 2:
		return fsABI2
	}
	return fsABI1
}

// LandlockGaps describes what a kernel with this ABI cannot restrict of the
// plan, for the enforcement report. An empty result means everything holds.
func LandlockGaps(abi int, l linuxplan.Landlock) []string {
	var gaps []string
	if abi < 2 {
		gaps = append(gaps, "ABI < 2: renames and links across directories are refused everywhere")
	}
	if abi < 3 {
		gaps = append(gaps, "ABI < 3: truncate() outside writable roots is not restricted by Landlock")
	}
	if abi < 5 {
		gaps = append(gaps, "ABI < 5: ioctl on devices is not restricted by Landlock")
	}
	if l.Scoped && abi < 6 {
		gaps = append(gaps, "ABI < 6: signals and abstract unix sockets to processes outside are not restricted by Landlock")
	}
	return gaps
}

// applyLandlock restricts the calling thread. The caller must hold
// runtime.LockOSThread, have set no_new_privs, and start the command from
// this same thread.
// Without namespaces, the scopes are the only thing that keeps signals from
// reaching the user's other processes, so they are required then.
func applyLandlock(l linuxplan.Landlock, namespaced bool) error {
	ruleset, err := newRuleset(l, namespaced)
	if err != nil {
		return err
	}
	defer unix.Close(ruleset)
	return restrictSelf(ruleset)
}

// restrictSelf puts the calling thread under the ruleset.
func restrictSelf(ruleset int) error {
	if _, _, errno := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(ruleset), 0, 0); errno != 0 {
		return fmt.Errorf("landlock_restrict_self: %w", errno)
	}
	return nil
}

// newRuleset builds the Landlock ruleset of the plan and returns its
// descriptor.
func newRuleset(l linuxplan.Landlock, namespaced bool) (int, error) {
	abi, err := LandlockABI()
	if err != nil {
		return -1, err
	}
	if l.DenyTCP && abi < 4 {
		return -1, fmt.Errorf("Landlock ABI %d cannot restrict TCP (needs ABI 4, Linux 6.7)", abi)
	}
	if l.Scoped && abi < 6 && !namespaced {
		return -1, fmt.Errorf("Landlock ABI %d cannot keep signals from reaching processes outside (needs ABI 6, Linux 6.12)", abi)
	}
	handled := handledFS(abi)
	attr := unix.LandlockRulesetAttr{Handled_access_fs: handled}
	size := uintptr(8)
	if abi >= 4 {
		size = 16
		if l.DenyTCP {
			attr.Handled_access_net = unix.LANDLOCK_ACCESS_NET_BIND_TCP | unix.LANDLOCK_ACCESS_NET_CONNECT_TCP
		}
	}
	if abi >= 6 {
		size = 24
		if l.Scoped {
			attr.Scoped = unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | unix.LANDLOCK_SCOPE_SIGNAL
		}
	}
	fd, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if errno != 0 {
		return -1, fmt.Errorf("landlock_create_ruleset: %w", errno)
	}
	ruleset := int(fd)
	ok := false
	defer func() {
		if !ok {
			unix.Close(ruleset)
		}
	}()

	add := func(path string, access uint64) error {
		access &= handled
		pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				return nil // nothing there to grant
			}
			return fmt.Errorf("open %s for a Landlock rule: %w", path, err)
		}
		defer unix.Close(pfd)
		var st unix.Stat_t
		if err := unix.Fstat(pfd, &st); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// Rules on files may only carry file rights.
			access &= unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE |
				unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
		}
		rule := unix.LandlockPathBeneathAttr{Allowed_access: access, Parent_fd: int32(pfd)}
		_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), unix.LANDLOCK_RULE_PATH_BENEATH,
			uintptr(unsafe.Pointer(&rule)), 0, 0, 0)
		if errno != 0 {
			return fmt.Errorf("landlock_add_rule %s: %w", path, errno)
		}
		return nil
	}
	for _, p := range l.ReadExec {
		if err := add(p, fsRead); err != nil {
			return -1, err
		}
	}
	for _, p := range l.List {
		if err := add(p, unix.LANDLOCK_ACCESS_FS_READ_DIR); err != nil {
			return -1, err
		}
	}
	for _, p := range l.Write {
		if err := add(p, handled); err != nil {
			return -1, err
		}
	}
	for _, p := range l.Devices {
		if err := add(p, fsRead|unix.LANDLOCK_ACCESS_FS_WRITE_FILE|unix.LANDLOCK_ACCESS_FS_TRUNCATE|unix.LANDLOCK_ACCESS_FS_IOCTL_DEV); err != nil {
			return -1, err
		}
	}
	if l.DenyTCP && l.ConnectPort > 0 {
		// struct landlock_net_port_attr; x/sys/unix has no type for it.
		rule := struct {
			allowed uint64
			port    uint64
		}{unix.LANDLOCK_ACCESS_NET_CONNECT_TCP, uint64(l.ConnectPort)}
		_, _, errno := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), landlockRuleNetPort,
			uintptr(unsafe.Pointer(&rule)), 0, 0, 0)
		if errno != 0 {
			return -1, fmt.Errorf("landlock_add_rule for the proxy's port %d: %w", l.ConnectPort, errno)
		}
	}
	ok = true
	return ruleset, nil
}

// verifyLandlock proves that Landlock refuses a write the mount layer would
// allow: creating a directory in the plan's probe directory.
func verifyLandlock(l linuxplan.Landlock) error {
	if l.ProbeDir == "" {
		return errors.New("the plan names no probe directory to check Landlock with")
	}
	probe := l.ProbeDir + "/.cordon-landlock-probe"
	err := unix.Mkdir(probe, 0o700)
	if err == nil {
		unix.Rmdir(probe)
		return fmt.Errorf("Landlock is not in force: creating %s succeeded", probe)
	}
	if !errors.Is(err, unix.EACCES) {
		return fmt.Errorf("Landlock check: mkdir %s: %v (want EACCES)", probe, err)
	}
	return nil
}
