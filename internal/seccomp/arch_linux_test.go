//go:build linux && (amd64 || arm64)

package seccomp

import (
	"maps"
	"runtime"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// The hand-written system call table of the architecture the test runs on
// must match x/sys/unix, name for name and number for number.
func TestSyscallNumbersMatchUnix(t *testing.T) {
	a := arches[runtime.GOARCH]
	if a == nil {
		t.Fatalf("no table for %s", runtime.GOARCH)
	}
	if got, want := slices.Sorted(maps.Keys(a.numbers)), slices.Sorted(maps.Keys(unixNumbers)); !slices.Equal(got, want) {
		t.Fatalf("%s table names %v, the test's x/sys/unix map names %v", runtime.GOARCH, got, want)
	}
	for name, nr := range a.numbers {
		if uintptr(nr) != unixNumbers[name] {
			t.Errorf("%s: table says %d, x/sys/unix says %d", name, nr, unixNumbers[name])
		}
	}
	// Every rule names a system call that exists somewhere.
	for _, r := range append(rulesFor(Options{DenyNetworkExceptTCP: true, Supervise: true}), guardRulesFor(Options{Supervise: true, SuperviseFiles: true})...) {
		if !knownSyscall(r.syscall) {
			t.Errorf("rule for %q, which no architecture table has", r.syscall)
		}
	}
}

func TestConstantsMatchUnix(t *testing.T) {
	for _, c := range []struct {
		name      string
		ours, sys uint64
	}{
		{"AUDIT_ARCH", uint64(arches[runtime.GOARCH].auditArch), map[string]uint64{"amd64": unix.AUDIT_ARCH_X86_64, "arm64": unix.AUDIT_ARCH_AARCH64}[runtime.GOARCH]},
		{"SECCOMP_RET_KILL_PROCESS", retKillProcess, unix.SECCOMP_RET_KILL_PROCESS},
		{"SECCOMP_RET_ERRNO", retErrno, unix.SECCOMP_RET_ERRNO},
		{"SECCOMP_RET_ALLOW", retAllow, unix.SECCOMP_RET_ALLOW},
		{"SECCOMP_RET_USER_NOTIF", retUserNotif, unix.SECCOMP_RET_USER_NOTIF},
		{"O_CREAT", oCreat, unix.O_CREAT},
		{"SOCK_SEQPACKET", sockSeqpacket, unix.SOCK_SEQPACKET},
		{"SECCOMP_SET_MODE_FILTER", seccompSetModeFilter, unix.SECCOMP_SET_MODE_FILTER},
		{"SECCOMP_FILTER_FLAG_NEW_LISTENER", seccompFilterFlagNewListener, unix.SECCOMP_FILTER_FLAG_NEW_LISTENER},
		{"EPERM", errnoEPERM, uint64(unix.EPERM)},
		{"ENOSYS", errnoENOSYS, uint64(unix.ENOSYS)},
		{"EAFNOSUPPORT", errnoEAFNOSUPPORT, uint64(unix.EAFNOSUPPORT)},
		{"TIOCSTI", ioctlTIOCSTI, unix.TIOCSTI},
		{"TIOCLINUX", ioctlTIOCLINUX, unix.TIOCLINUX},
		{"CLONE_NEWTIME", cloneNewTime, unix.CLONE_NEWTIME},
		{"CLONE_NEWNS", cloneNewNS, unix.CLONE_NEWNS},
		{"CLONE_NEWCGROUP", cloneNewCgroup, unix.CLONE_NEWCGROUP},
		{"CLONE_NEWUTS", cloneNewUTS, unix.CLONE_NEWUTS},
		{"CLONE_NEWIPC", cloneNewIPC, unix.CLONE_NEWIPC},
		{"CLONE_NEWUSER", cloneNewUser, unix.CLONE_NEWUSER},
		{"CLONE_NEWPID", cloneNewPID, unix.CLONE_NEWPID},
		{"CLONE_NEWNET", cloneNewNet, unix.CLONE_NEWNET},
		{"AF_UNIX", afUnix, unix.AF_UNIX},
		{"AF_INET", afInet, unix.AF_INET},
		{"AF_INET6", afInet6, unix.AF_INET6},
		{"AF_NETLINK", afNetlink, unix.AF_NETLINK},
		{"SOCK_STREAM", sockStream, unix.SOCK_STREAM},
		{"IPPROTO_TCP", ipprotoTCP, unix.IPPROTO_TCP},
		{"MSG_FASTOPEN", msgFastOpen, unix.MSG_FASTOPEN},
		{"x32 bit", x32SyscallBit, 0x40000000},
		// The test's own constants.
		{"SOCK_DGRAM", sockDgram, unix.SOCK_DGRAM},
		{"SOCK_RAW", sockRaw, unix.SOCK_RAW},
		{"SOCK_NONBLOCK", sockNonblock, unix.SOCK_NONBLOCK},
		{"SOCK_CLOEXEC", sockCloexec, unix.SOCK_CLOEXEC},
		{"AF_PACKET", afPacket, unix.AF_PACKET},
		{"AF_VSOCK", afVsock, unix.AF_VSOCK},
		{"IPPROTO_SCTP", ipprotoSCTP, unix.IPPROTO_SCTP},
		{"IPPROTO_MPTCP", ipprotoMPTCP, unix.IPPROTO_MPTCP},
		{"MSG_DONTWAIT", msgDontwait, unix.MSG_DONTWAIT},
		{"CLONE_VM", cloneVM, unix.CLONE_VM},
		{"CLONE_FS", cloneFS, unix.CLONE_FS},
		{"CLONE_FILES", cloneFiles, unix.CLONE_FILES},
		{"CLONE_SIGHAND", cloneSighand, unix.CLONE_SIGHAND},
		{"CLONE_PIDFD", clonePidfd, unix.CLONE_PIDFD},
		{"CLONE_VFORK", cloneVfork, unix.CLONE_VFORK},
		{"CLONE_THREAD", cloneThread, unix.CLONE_THREAD},
		{"CLONE_SYSVSEM", cloneSysvsem, unix.CLONE_SYSVSEM},
		{"CLONE_SETTLS", cloneSettls, unix.CLONE_SETTLS},
		{"CLONE_PARENT_SETTID", cloneParentSettid, unix.CLONE_PARENT_SETTID},
		{"CLONE_CHILD_CLEARTID", cloneChildCleartid, unix.CLONE_CHILD_CLEARTID},
		{"SIGCHLD", sigchld, uint64(unix.SIGCHLD)},
		{"TCGETS", tcgets, unix.TCGETS},
		{"FIONREAD (TIOCINQ)", fionread, unix.TIOCINQ},
	} {
		if c.ours != c.sys {
			t.Errorf("%s: ours %#x, x/sys/unix %#x", c.name, c.ours, c.sys)
		}
	}
	// Numbers the test uses for calls outside the rule table.
	for name, want := range map[string]uintptr{"read": unix.SYS_READ, "write": unix.SYS_WRITE, "openat": unix.SYS_OPENAT, "unlinkat": unix.SYS_UNLINKAT} {
		if got := otherNumbers[runtime.GOARCH][name]; uintptr(got) != want {
			t.Errorf("%s: test table %d, x/sys/unix %d", name, got, want)
		}
	}
}
