//go:build linux

package seccomp

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrNoNewPrivs is returned (wrapped) by [Filter.Install] when no_new_privs is
// not set on the calling thread.
var ErrNoNewPrivs = errors.New("no_new_privs is not set on the calling thread: " +
	"call unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) first, " +
	"from a goroutine locked to its OS thread (runtime.LockOSThread) that then calls Install")

// Install loads the filter into the calling process, on every thread
// (SECCOMP_FILTER_FLAG_TSYNC), for the rest of its life and for every process
// it starts. It cannot be undone.
//
// no_new_privs must already be set on the calling thread; Install checks it
// and fails with [ErrNoNewPrivs] otherwise, even for root, who the kernel
// would let through: cordon promises both layers together. The kernel copies
// no_new_privs to the other threads along with the filter.
//
// Call [Filter.Verify] afterwards.
func (f *Filter) Install() error {
	if f == nil || len(f.prog) == 0 {
		return errors.New("seccomp: no program to install; build the filter with Compile")
	}
	if f.opts.Arch != runtime.GOARCH {
		// A filter for another architecture kills the process at its next
		// system call.
		return fmt.Errorf("seccomp: the filter was compiled for %s, but this process runs on %s; compile it with Options{Arch: runtime.GOARCH}", f.opts.Arch, runtime.GOARCH)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	nnp, err := unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("seccomp: reading no_new_privs: %w", err)
	}
	if nnp != 1 {
		return fmt.Errorf("seccomp: refusing to install the filter: %w", ErrNoNewPrivs)
	}

	filter := make([]unix.SockFilter, len(f.prog))
	for i, ins := range f.prog {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	tid, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	switch {
	case errno == unix.EACCES:
		return fmt.Errorf("seccomp: the kernel refused the filter (EACCES): %w", ErrNoNewPrivs)
	case errno != 0:
		return fmt.Errorf("seccomp: installing the filter: seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w; run `cordon doctor` to see what this kernel supports", errno)
	case tid != 0:
		// With TSYNC the kernel names the first thread it could not move to
		// the new filter (one that already runs a filter not shared with
		// this thread) and installs nothing.
		return fmt.Errorf("seccomp: installing the filter: thread %d runs a different seccomp filter, so the filter cannot cover every thread; nothing was installed", tid)
	}
	f.installed = true
	return nil
}

// InstallGuard loads the guard of a filter compiled with
// [Options.Supervise] on the calling thread only, after [Filter.Install], and
// returns the listener on which the supervised calls arrive
// (seccomp_unotify(2)). The caller must hold runtime.LockOSThread and start
// the command from this thread; the process's other threads stay outside the
// guard and serve the listener. Until something answers, a supervised call
// waits; when the listener is closed, it fails with ENOSYS. The wait is
// killable only (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, Linux 5.19) once the
// supervisor has taken the call, so a signal cannot make a call that the
// supervisor already made on the command's behalf run twice.
//
// Call [Filter.Verify] afterwards.
func (f *Filter) InstallGuard() (*os.File, error) {
	if f == nil || len(f.guard) == 0 {
		return nil, errors.New("seccomp: this filter has no guard; compile it with Options{Supervise: true}")
	}
	if !f.installed {
		return nil, errors.New("seccomp: install the filter before its guard")
	}
	filter := make([]unix.SockFilter, len(f.guard))
	for i, ins := range f.guard {
		filter[i] = unix.SockFilter{Code: ins.Op, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	flags := uintptr(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
	fd, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, flags, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(filter)
	if errno != 0 {
		return nil, fmt.Errorf("seccomp: installing the guard with a listener (user notification, killable waits: Linux 5.19 or newer): %w", errno)
	}
	unix.CloseOnExec(int(fd))
	f.guardInstalled = true
	return os.NewFile(fd, "seccomp-listener"), nil
}

// Verify proves that this filter is in force in the calling process. It makes
// system calls that have no effect with or without the filter and checks that
// each returns the filter's answer rather than the kernel's: for example
// ioctl(-1, TIOCSTI) must fail with EPERM, not EBADF. The rules of the
// options the filter was compiled with are checked too. It does not prove
// that the program matches the rule table; the package's tests do that.
func (f *Filter) Verify() error {
	mode, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	if err != nil {
		return fmt.Errorf("seccomp: reading this process's seccomp mode: %w", err)
	}
	if mode != unix.SECCOMP_MODE_FILTER {
		return fmt.Errorf("seccomp: no seccomp filter is active in this process (mode %d); Install did not run or did not take effect", mode)
	}
	for _, p := range probes(f.opts, f.guardInstalled) {
		got := p.call()
		if got != p.want {
			return fmt.Errorf("seccomp: the filter is not in effect: %s returned %s, but the filter answers %s", p.name, errnoName(got), errnoName(p.want))
		}
	}
	return nil
}

// A probe is a system call that does nothing whether or not the filter is
// installed, and which the filter answers differently from the kernel.
type probe struct {
	name string
	call func() unix.Errno
	want unix.Errno // the filter's answer; the kernel's own is given in name
}

func probes(o Options, guard bool) []probe {
	const invalidSocketType = 0xf // not a socket type: the kernel says EINVAL before it creates anything
	ps := []probe{
		{"ioctl(-1, TIOCSTI with garbage in the upper 32 bits) (kernel: EBADF)", func() unix.Errno {
			return sys(unix.SYS_IOCTL, ^uintptr(0), uintptr(dirtyTIOCSTI), 0)
		}, unix.EPERM},
		{"ioctl(-1, TIOCLINUX) (kernel: EBADF)", func() unix.Errno {
			return sys(unix.SYS_IOCTL, ^uintptr(0), ioctlTIOCLINUX, 0)
		}, unix.EPERM},
		// Bit 0x1 is not an unshare flag, so the kernel refuses the call
		// before it creates anything.
		{"unshare(CLONE_NEWUSER|0x1) (kernel: EINVAL)", func() unix.Errno {
			return sys(unix.SYS_UNSHARE, cloneNewUser|0x1)
		}, unix.EPERM},
		{"clone3(NULL, 0) (kernel: EINVAL)", func() unix.Errno {
			return sys(unix.SYS_CLONE3, 0, 0)
		}, unix.ENOSYS},
		{"ptrace(PTRACE_ATTACH, -1) (kernel: ESRCH)", func() unix.Errno {
			return sys(unix.SYS_PTRACE, unix.PTRACE_ATTACH, ^uintptr(0), 0, 0)
		}, unix.EPERM},
		{"mount(NULL, NULL, NULL, 0, NULL) (kernel: EFAULT)", func() unix.Errno {
			return sys(unix.SYS_MOUNT, 0, 0, 0, 0, 0)
		}, unix.EPERM},
	}
	if o.DenyNetworkExceptTCP {
		ps = append(ps,
			probe{"socket(AF_INET, invalid type, 0) (kernel: EINVAL)", func() unix.Errno {
				return sys(unix.SYS_SOCKET, afInet, invalidSocketType, 0)
			}, unix.EPERM},
			// The unknown flag bit makes the kernel refuse the type; the
			// filter sees a TCP-looking type and refuses the SCTP protocol.
			probe{"socket(AF_INET6, SOCK_STREAM|0x100, IPPROTO_SCTP) (kernel: EINVAL)", func() unix.Errno {
				return sys(unix.SYS_SOCKET, afInet6, sockStream|0x100, unix.IPPROTO_SCTP)
			}, unix.EPERM},
			probe{"socket(AF_PACKET, invalid type, 0) (kernel: EINVAL)", func() unix.Errno {
				return sys(unix.SYS_SOCKET, unix.AF_PACKET, invalidSocketType, 0)
			}, unix.EAFNOSUPPORT},
			probe{"socketpair(AF_INET, invalid type, 0, NULL) (kernel: EINVAL or EFAULT)", func() unix.Errno {
				return sys(unix.SYS_SOCKETPAIR, afInet, invalidSocketType, 0, 0)
			}, unix.EAFNOSUPPORT},
			probe{"sendto(-1, NULL, 0, MSG_FASTOPEN, NULL, 0) (kernel: EBADF)", func() unix.Errno {
				return sys(unix.SYS_SENDTO, ^uintptr(0), 0, 0, msgFastOpen, 0, 0)
			}, unix.EPERM},
		)
	}
	if o.Supervise {
		ps = append(ps, probe{"socket(AF_UNIX, invalid type, 0) (kernel: EINVAL)", func() unix.Errno {
			return sys(unix.SYS_SOCKET, afUnix, invalidSocketType, 0)
		}, unix.EPERM})
	}
	if guard {
		ps = append(ps,
			probe{"pidfd_getfd(-1, -1, 0) (kernel: EBADF)", func() unix.Errno {
				return sys(unix.SYS_PIDFD_GETFD, ^uintptr(0), ^uintptr(0), 0)
			}, unix.EPERM},
			probe{"seccomp(SET_MODE_FILTER, NEW_LISTENER, NULL) (kernel: EFAULT)", func() unix.Errno {
				return sys(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, 0)
			}, unix.EPERM},
		)
	}
	return ps
}

// dirtyTIOCSTI is TIOCSTI with garbage in the upper 32 bits of the request
// (on 64-bit systems; the conversion to uintptr drops them elsewhere).
var dirtyTIOCSTI uint64 = 0xdeadbeef<<32 | ioctlTIOCSTI

// sys makes a raw system call with up to six arguments and returns its errno
// (0 on success).
func sys(nr uintptr, args ...uintptr) unix.Errno {
	var a [6]uintptr
	copy(a[:], args)
	_, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return e
}

func errnoName(e unix.Errno) string {
	if e == 0 {
		return "success"
	}
	if name := unix.ErrnoName(e); name != "" {
		return name
	}
	return fmt.Sprintf("errno %d", int(e))
}

// Supported reports whether this kernel can install cordon's filter: seccomp
// filters with thread synchronisation, and the kill-process, errno and allow
// actions. It returns nil or an error that says what is missing. It asks the
// seccomp system call itself (SECCOMP_GET_ACTION_AVAIL, the source of
// /proc/sys/kernel/seccomp/actions_avail), so it works without /proc.
func Supported() error {
	if _, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil {
		if errors.Is(err, unix.EINVAL) {
			return errors.New("seccomp: this kernel was built without seccomp (CONFIG_SECCOMP); cordon's system call filter cannot be applied")
		}
		return fmt.Errorf("seccomp: prctl(PR_GET_SECCOMP): %w", err)
	}

	actions := []struct {
		name  string
		value uint32
	}{
		{"kill_process", retKillProcess},
		{"errno", retErrno},
		{"allow", retAllow},
	}
	var missing []string
	for _, a := range actions {
		v := a.value
		_, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&v)))
		switch errno {
		case 0:
		case unix.EOPNOTSUPP:
			missing = append(missing, a.name)
		default:
			return fmt.Errorf("seccomp: asking the kernel whether it offers the %s action: %w (Linux 4.14 or newer is needed)", a.name, errno)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("seccomp: the kernel lacks the filter actions %v (Linux 4.14 or newer is needed)", missing)
	}

	// A filter-mode call with thread sync and no program: the kernel checks
	// the mode and flags first and only then reads the program, so EFAULT
	// means both are accepted and nothing was installed.
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, 0); errno != unix.EFAULT {
		return fmt.Errorf("seccomp: the kernel does not accept filters synchronised across threads (probe answered %s, want EFAULT); it needs CONFIG_SECCOMP_FILTER and Linux 3.17 or newer", errnoName(errno))
	}
	return nil
}
