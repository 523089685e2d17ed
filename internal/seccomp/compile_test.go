package seccomp

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// seccompData lays out struct seccomp_data the way a little-endian kernel
// hands it to a filter, then stores every 32-bit word big-endian. The kernel
// loads words in host order, x/net/bpf's VM loads them big-endian; this way
// each load in the VM yields the value the kernel's load would.
func seccompData(auditArch, nr uint32, args [6]uint64) []byte {
	words := []uint32{nr, auditArch, 0, 0} // nr, arch, instruction_pointer (low, high)
	for _, a := range args {
		words = append(words, uint32(a), uint32(a>>32)) // low word first: little-endian
	}
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.BigEndian.PutUint32(b[4*i:], w)
	}
	return b
}

// runFilter runs the program for one system call in x/net/bpf's VM and
// returns the seccomp action it produced.
func runFilter(t *testing.T, prog []bpf.RawInstruction, auditArch, nr uint32, args [6]uint64) action {
	t.Helper()
	insts, ok := bpf.Disassemble(prog)
	if !ok {
		t.Fatalf("program has instructions x/net/bpf cannot decode")
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatalf("VM refused the program: %v", err)
	}
	got, err := vm.Run(seccompData(auditArch, nr, args))
	if err != nil {
		t.Fatalf("VM: %v", err)
	}
	return action(uint32(got))
}

// Values from the kernel headers, written out here rather than taken from
// rules.go so the test does not agree with the table by construction.
const (
	eperm        = action(0x00050001)
	enosys       = action(0x00050026)
	eafnosupport = action(0x00050061)
	allow        = action(0x7fff0000)
	killProcess  = action(0x80000000)

	auditArchI386 = 0x40000003
	auditArchARM  = 0x40000028

	sigchld = 17

	cloneVM            = 0x00000100
	cloneFS            = 0x00000200
	cloneFiles         = 0x00000400
	cloneSighand       = 0x00000800
	clonePidfd         = 0x00001000
	cloneVfork         = 0x00004000
	cloneThread        = 0x00010000
	cloneSysvsem       = 0x00040000
	cloneSettls        = 0x00080000
	cloneParentSettid  = 0x00100000
	cloneChildCleartid = 0x00200000

	tcgets   = 0x5401
	fionread = 0x541b

	sockDgram    = 2
	sockRaw      = 3
	sockNonblock = 0x800
	sockCloexec  = 0x80000
	afPacket     = 17
	afVsock      = 40
	ipprotoSCTP  = 132
	ipprotoMPTCP = 262
	msgDontwait  = 0x40

	addrNoRandomize = 0x0040000
	readImpliesExec = 0x0400000
)

// Call numbers the rule table does not name, for the "allowed" cases.
var otherNumbers = map[string]map[string]uint32{
	"amd64": {"read": 0, "write": 1, "openat": 257, "unlinkat": 263},
	"arm64": {"read": 63, "write": 64, "openat": 56, "unlinkat": 35},
}

// deniedAlways lists every system call the baseline refuses with EPERM
// whatever the arguments; amd64Only those that exist only there.
var (
	deniedAlways = []string{
		"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
		"keyctl", "add_key", "request_key",
		"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
		"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
		"move_mount", "open_tree", "open_tree_attr", "mount_setattr", "setns", "open_by_handle_at",
		"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
		"swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup", "lookup_dcookie",
		"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname",
	}
	amd64Only = []string{"iopl", "ioperm", "modify_ldt"}
)

type filterCase struct {
	name    string
	syscall string // a name from the arch table or otherNumbers
	nr      uint32 // used when syscall is empty
	arch    uint32 // audit arch; 0 means the filter's own
	args    [6]uint64
	want    action
}

func checkCases(t *testing.T, o Options, cases []filterCase) {
	t.Helper()
	f, err := Compile(o)
	if err != nil {
		t.Fatalf("Compile(%+v): %v", o, err)
	}
	a := arches[o.Arch]
	for _, c := range cases {
		nr := c.nr
		if c.syscall != "" {
			n, ok := a.numbers[c.syscall]
			if !ok {
				n, ok = otherNumbers[o.Arch][c.syscall]
			}
			if !ok {
				t.Fatalf("%s: no number for %s on %s", c.name, c.syscall, o.Arch)
			}
			nr = n
		}
		arch := c.arch
		if arch == 0 {
			arch = a.auditArch
		}
		if got := runFilter(t, f.prog, arch, nr, c.args); got != c.want {
			t.Errorf("%s/%s (nr %d, args %#x): got %s, want %s", o.Arch, c.name, nr, c.args, got, c.want)
		}
	}
}

func baselineCases(archName string) []filterCase {
	cases := []filterCase{
		{name: "read", syscall: "read", want: allow},
		{name: "write", syscall: "write", want: allow},
		{name: "openat", syscall: "openat", want: allow},

		{name: "ioctl TCGETS", syscall: "ioctl", args: [6]uint64{0, tcgets}, want: allow},
		{name: "ioctl FIONREAD", syscall: "ioctl", args: [6]uint64{0, fionread}, want: allow},
		{name: "ioctl TIOCSTI", syscall: "ioctl", args: [6]uint64{0, 0x5412}, want: eperm},
		{name: "ioctl TIOCLINUX", syscall: "ioctl", args: [6]uint64{0, 0x541c}, want: eperm},
		{name: "ioctl TIOCSTI, garbage in the upper word", syscall: "ioctl", args: [6]uint64{0, 0xdeadbeef_00005412}, want: eperm},
		{name: "ioctl TIOCSTI, all upper bits set", syscall: "ioctl", args: [6]uint64{0, 0xffffffff_00005412}, want: eperm},
		{name: "ioctl TIOCSTI in the upper word only", syscall: "ioctl", args: [6]uint64{0, 0x00005412_00005401}, want: allow},
		{name: "ioctl TIOCSTI as the fd", syscall: "ioctl", args: [6]uint64{0x5412, tcgets}, want: allow},

		{name: "clone, fork", syscall: "clone", args: [6]uint64{sigchld}, want: allow},
		{name: "clone, thread", syscall: "clone", args: [6]uint64{cloneVM | cloneFS | cloneFiles | cloneSighand | cloneThread | cloneSysvsem | cloneSettls | cloneParentSettid | cloneChildCleartid}, want: allow},
		{name: "clone, vfork with pidfd", syscall: "clone", args: [6]uint64{cloneVfork | cloneVM | clonePidfd | sigchld}, want: allow},
		{name: "clone, exit signal byte 0x80 (not CLONE_NEWTIME in clone)", syscall: "clone", args: [6]uint64{0x80 | sigchld}, want: allow},
		{name: "clone, namespace bit in the upper word only", syscall: "clone", args: [6]uint64{0x10000000_00000000 | sigchld}, want: allow},
		{name: "clone3, no arguments", syscall: "clone3", want: enosys},
		{name: "clone3, any arguments", syscall: "clone3", args: [6]uint64{0x7ffd_0000_1000, 88}, want: enosys},

		{name: "unshare(CLONE_FILES)", syscall: "unshare", args: [6]uint64{cloneFiles}, want: allow},
		{name: "unshare(CLONE_FS|CLONE_SYSVSEM)", syscall: "unshare", args: [6]uint64{cloneFS | cloneSysvsem}, want: allow},
		{name: "unshare(0)", syscall: "unshare", want: allow},

		{name: "personality(PER_LINUX)", syscall: "personality", args: [6]uint64{0}, want: allow},
		{name: "personality(PER_LINUX32)", syscall: "personality", args: [6]uint64{8}, want: allow},
		{name: "personality(query)", syscall: "personality", args: [6]uint64{0xffffffff}, want: allow},
		{name: "personality(query, 64-bit -1)", syscall: "personality", args: [6]uint64{0xffffffff_ffffffff}, want: allow},
		{name: "personality(UNAME26)", syscall: "personality", args: [6]uint64{0x20000}, want: allow},
		{name: "personality(ADDR_NO_RANDOMIZE)", syscall: "personality", args: [6]uint64{addrNoRandomize}, want: eperm},
		{name: "personality(READ_IMPLIES_EXEC)", syscall: "personality", args: [6]uint64{readImpliesExec}, want: eperm},
		{name: "personality(PER_LINUX32|ADDR_NO_RANDOMIZE)", syscall: "personality", args: [6]uint64{8 | addrNoRandomize}, want: eperm},

		// Without the options, sockets are the namespaces' business.
		{name: "socket(AF_INET, SOCK_DGRAM) without options", syscall: "socket", args: [6]uint64{afInet, sockDgram}, want: allow},
		{name: "socket(AF_UNIX) without options", syscall: "socket", args: [6]uint64{afUnix, sockStream}, want: allow},
		{name: "socket(AF_PACKET) without options", syscall: "socket", args: [6]uint64{afPacket, sockRaw}, want: allow},
		{name: "sendto(MSG_FASTOPEN) without options", syscall: "sendto", args: [6]uint64{3, 0, 0, msgFastOpen}, want: allow},

		{name: "x86 int 0x80 (i386)", syscall: "read", arch: auditArchI386, want: killProcess},
		{name: "AArch32", syscall: "read", arch: auditArchARM, want: killProcess},
		{name: "number -1 (tracer skip)", nr: 0xffffffff, want: allow},
		{name: "unknown number", nr: 1000, want: allow},
	}
	for _, ns := range []uint64{cloneNewNS, cloneNewUser, cloneNewPID, cloneNewNet, cloneNewIPC, cloneNewUTS, cloneNewCgroup} {
		cases = append(cases,
			filterCase{name: fmt.Sprintf("clone(%#x|SIGCHLD)", ns), syscall: "clone", args: [6]uint64{ns | sigchld}, want: eperm},
			filterCase{name: fmt.Sprintf("clone(%#x), garbage above", ns), syscall: "clone", args: [6]uint64{0xffffffff_00000000 | ns}, want: eperm},
			filterCase{name: fmt.Sprintf("unshare(%#x)", ns), syscall: "unshare", args: [6]uint64{ns}, want: eperm},
			filterCase{name: fmt.Sprintf("unshare(%#x|CLONE_FILES)", ns), syscall: "unshare", args: [6]uint64{ns | cloneFiles}, want: eperm},
		)
	}
	cases = append(cases, filterCase{name: "unshare(CLONE_NEWTIME)", syscall: "unshare", args: [6]uint64{cloneNewTime}, want: eperm})
	for _, name := range deniedAlways {
		cases = append(cases,
			filterCase{name: name, syscall: name, want: eperm},
			filterCase{name: name + " with arguments", syscall: name, args: [6]uint64{1, 2, 3, 4, 5, 6}, want: eperm},
			filterCase{name: name + " from another architecture", syscall: name, arch: auditArchI386, want: killProcess},
		)
	}
	switch archName {
	case "amd64":
		for _, name := range amd64Only {
			cases = append(cases, filterCase{name: name, syscall: name, want: eperm})
		}
		cases = append(cases,
			filterCase{name: "x32 read", nr: x32SyscallBit | 0, want: killProcess},
			filterCase{name: "x32 ptrace", nr: x32SyscallBit | 521, want: killProcess},
			filterCase{name: "x32 ioctl", nr: x32SyscallBit | 514, args: [6]uint64{0, tcgets}, want: killProcess},
			filterCase{name: "arm64 call on amd64", syscall: "read", arch: auditArchAArch64, want: killProcess},
		)
	case "arm64":
		cases = append(cases,
			// No x32 on arm64: the kernel answers ENOSYS to such numbers.
			filterCase{name: "x32 bit", nr: x32SyscallBit | 63, want: allow},
			filterCase{name: "amd64 call on arm64", syscall: "read", arch: auditArchX8664, want: killProcess},
		)
	}
	return cases
}

func networkCases() []filterCase {
	return []filterCase{
		{name: "TCP", syscall: "socket", args: [6]uint64{afInet, sockStream, 0}, want: allow},
		{name: "TCP, explicit protocol, flags", syscall: "socket", args: [6]uint64{afInet, sockStream | sockNonblock | sockCloexec, ipprotoTCP}, want: allow},
		{name: "TCP over IPv6", syscall: "socket", args: [6]uint64{afInet6, sockStream | sockCloexec, 0}, want: allow},
		{name: "UDP", syscall: "socket", args: [6]uint64{afInet, sockDgram, 0}, want: eperm},
		{name: "UDP with flags", syscall: "socket", args: [6]uint64{afInet, sockDgram | sockNonblock | sockCloexec, 0}, want: eperm},
		{name: "UDP over IPv6", syscall: "socket", args: [6]uint64{afInet6, sockDgram, 17}, want: eperm},
		{name: "UDP, family with garbage above", syscall: "socket", args: [6]uint64{0xffffffff_00000000 | afInet, sockDgram, 0}, want: eperm},
		{name: "raw IP", syscall: "socket", args: [6]uint64{afInet, sockRaw, 1}, want: eperm},
		{name: "SCTP stream", syscall: "socket", args: [6]uint64{afInet6, sockStream, ipprotoSCTP}, want: eperm},
		{name: "MPTCP", syscall: "socket", args: [6]uint64{afInet, sockStream, ipprotoMPTCP}, want: eperm},
		{name: "packet", syscall: "socket", args: [6]uint64{afPacket, sockRaw, 0x0300}, want: eafnosupport},
		{name: "vsock", syscall: "socket", args: [6]uint64{afVsock, sockStream, 0}, want: eafnosupport},
		{name: "netlink", syscall: "socket", args: [6]uint64{afNetlink, sockRaw | sockCloexec, 0}, want: allow},
		{name: "socketpair(AF_UNIX)", syscall: "socketpair", args: [6]uint64{afUnix, sockStream, 0}, want: allow},
		{name: "socketpair(AF_INET)", syscall: "socketpair", args: [6]uint64{afInet, sockStream, 0}, want: eafnosupport},
		{name: "sendto(MSG_FASTOPEN)", syscall: "sendto", args: [6]uint64{3, 0, 3, msgFastOpen, 0, 16}, want: eperm},
		{name: "sendto(MSG_FASTOPEN|MSG_DONTWAIT)", syscall: "sendto", args: [6]uint64{3, 0, 3, msgFastOpen | msgDontwait}, want: eperm},
		{name: "sendto(MSG_DONTWAIT)", syscall: "sendto", args: [6]uint64{3, 0, 3, msgDontwait}, want: allow},
		{name: "sendto, MSG_FASTOPEN in the upper word only", syscall: "sendto", args: [6]uint64{3, 0, 3, uint64(msgFastOpen) << 32}, want: allow},
		{name: "sendmsg(MSG_FASTOPEN)", syscall: "sendmsg", args: [6]uint64{3, 0, msgFastOpen}, want: eperm},
		{name: "sendmsg(0)", syscall: "sendmsg", args: [6]uint64{3, 0, 0}, want: allow},
		{name: "sendmmsg(MSG_FASTOPEN)", syscall: "sendmmsg", args: [6]uint64{3, 0, 1, msgFastOpen}, want: eperm},
		{name: "sendmmsg(0)", syscall: "sendmmsg", args: [6]uint64{3, 0, 1, 0}, want: allow},
		{name: "baseline still applies", syscall: "ptrace", want: eperm},
	}
}

func TestFilterDecisions(t *testing.T) {
	for _, archName := range []string{"amd64", "arm64"} {
		t.Run(archName, func(t *testing.T) {
			t.Run("baseline", func(t *testing.T) {
				checkCases(t, Options{Arch: archName}, baselineCases(archName))
			})
			t.Run("DenyNetworkExceptTCP", func(t *testing.T) {
				cases := append(networkCases(),
					filterCase{name: "unix socket", syscall: "socket", args: [6]uint64{afUnix, sockStream, 0}, want: allow})
				checkCases(t, Options{Arch: archName, DenyNetworkExceptTCP: true}, cases)
			})
			t.Run("Supervise", func(t *testing.T) {
				checkCases(t, Options{Arch: archName, Supervise: true}, superviseCases())
			})
			t.Run("both", func(t *testing.T) {
				cases := append(networkCases(), superviseCases()...)
				checkCases(t, Options{Arch: archName, DenyNetworkExceptTCP: true, Supervise: true}, cases)
			})
			t.Run("guard", func(t *testing.T) {
				checkGuardCases(t, Options{Arch: archName, Supervise: true}, guardCases(archName, false))
			})
			t.Run("guard with names", func(t *testing.T) {
				checkGuardCases(t, Options{Arch: archName, Supervise: true, SuperviseFiles: true}, guardCases(archName, true))
			})
			t.Run("guard protecting the init", func(t *testing.T) {
				checkGuardCases(t, Options{Arch: archName, Supervise: true, ProtectPID: 4242, ProtectPGID: 4000}, protectCases(true))
			})
			t.Run("guard without a protected init", func(t *testing.T) {
				checkGuardCases(t, Options{Arch: archName, Supervise: true}, protectCases(false))
			})
			// Everything the table refuses unconditionally is in the test's own
			// list, so a rule added without a test fails here.
			t.Run("test covers table", func(t *testing.T) {
				want := slices.Concat(deniedAlways, amd64Only)
				var got []string
				for _, group := range unconditional {
					got = append(got, group...)
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("unconditional rules %v, test expects %v", got, want)
				}
			})
		})
	}
}

func superviseCases() []filterCase {
	return []filterCase{
		{name: "unix stream socket", syscall: "socket", args: [6]uint64{afUnix, sockStream | sockCloexec, 0}, want: allow},
		{name: "unix seqpacket socket", syscall: "socket", args: [6]uint64{afUnix, sockSeqpacket | sockNonblock, 0}, want: allow},
		{name: "unix datagram socket", syscall: "socket", args: [6]uint64{afUnix, sockDgram, 0}, want: eperm},
		{name: "unix datagram socket with flags", syscall: "socket", args: [6]uint64{afUnix, sockDgram | sockCloexec | sockNonblock, 0}, want: eperm},
		{name: "unix raw socket (a datagram socket)", syscall: "socket", args: [6]uint64{afUnix, sockRaw, 0}, want: eperm},
		{name: "unix socket, invalid type", syscall: "socket", args: [6]uint64{afUnix, 0xf, 0}, want: eperm},
		{name: "socketpair(AF_UNIX, SOCK_STREAM)", syscall: "socketpair", args: [6]uint64{afUnix, sockStream, 0}, want: allow},
		{name: "socketpair(AF_UNIX, SOCK_SEQPACKET)", syscall: "socketpair", args: [6]uint64{afUnix, sockSeqpacket | sockCloexec, 0}, want: allow},
		{name: "socketpair(AF_UNIX, SOCK_DGRAM)", syscall: "socketpair", args: [6]uint64{afUnix, sockDgram, 0}, want: eperm},
		// The supervisor's own calls are the guard's to refuse.
		{name: "process_vm_readv for the supervisor", syscall: "process_vm_readv", want: allow},
		{name: "pidfd_getfd for the supervisor", syscall: "pidfd_getfd", want: allow},
		{name: "process_vm_writev stays refused", syscall: "process_vm_writev", want: eperm},
		{name: "connect is not the baseline's", syscall: "connect", want: allow},
	}
}

// protectCases are the signals to the init (pid 4242, group 4000) and to
// others; protected says whether the guard protects the init.
func protectCases(protected bool) []filterCase {
	refused, absent := eperm, errno(errnoENOSYS)
	if !protected {
		refused, absent = allow, allow
	}
	const sigKill, sigStop, sigTerm = 9, 19, 15
	neg := func(v int32) uint64 { return uint64(int64(v)) } // as the kernel sees a negative pid_t
	return []filterCase{
		{name: "kill(init, SIGKILL)", syscall: "kill", args: [6]uint64{4242, sigKill}, want: refused},
		{name: "kill(init, SIGSTOP)", syscall: "kill", args: [6]uint64{4242, sigStop}, want: refused},
		{name: "kill(init, 0)", syscall: "kill", args: [6]uint64{4242, 0}, want: refused},
		{name: "kill(init, SIGURG): Go's preemption", syscall: "kill", args: [6]uint64{4242, sigURG}, want: allow},
		{name: "kill(-init's group, SIGKILL)", syscall: "kill", args: [6]uint64{neg(-4000), sigKill}, want: refused},
		{name: "kill(-1, SIGTERM)", syscall: "kill", args: [6]uint64{neg(-1), sigTerm}, want: refused},
		{name: "kill(-1 with a clean upper word)", syscall: "kill", args: [6]uint64{0xffffffff, sigTerm}, want: refused},
		{name: "kill(another pid)", syscall: "kill", args: [6]uint64{4243, sigKill}, want: allow},
		{name: "kill(own group)", syscall: "kill", args: [6]uint64{0, sigKill}, want: allow},
		{name: "kill(-another group)", syscall: "kill", args: [6]uint64{neg(-4243), sigKill}, want: allow},
		{name: "tgkill(init, a thread, SIGKILL)", syscall: "tgkill", args: [6]uint64{4242, 4250, sigKill}, want: refused},
		{name: "tgkill(init, a thread, SIGURG)", syscall: "tgkill", args: [6]uint64{4242, 4250, sigURG}, want: allow},
		{name: "tgkill(another process)", syscall: "tgkill", args: [6]uint64{4300, 4301, sigKill}, want: allow},
		{name: "rt_sigqueueinfo(init)", syscall: "rt_sigqueueinfo", args: [6]uint64{4242, sigKill}, want: refused},
		{name: "rt_sigqueueinfo(another)", syscall: "rt_sigqueueinfo", args: [6]uint64{4300, sigKill}, want: allow},
		{name: "rt_tgsigqueueinfo(init)", syscall: "rt_tgsigqueueinfo", args: [6]uint64{4242, 4250, sigKill}, want: refused},
		{name: "tkill(any thread)", syscall: "tkill", args: [6]uint64{4250, sigKill}, want: refused},
		{name: "pidfd_send_signal", syscall: "pidfd_send_signal", args: [6]uint64{5, sigKill}, want: absent},
	}
}

// checkGuardCases runs the cases against the guard program.
func checkGuardCases(t *testing.T, o Options, cases []filterCase) {
	t.Helper()
	f, err := Compile(o)
	if err != nil {
		t.Fatal(err)
	}
	a := arches[o.Arch]
	for _, c := range cases {
		nr := c.nr
		if c.syscall != "" {
			var ok bool
			if nr, ok = a.numbers[c.syscall]; !ok {
				if nr, ok = otherNumbers[o.Arch][c.syscall]; !ok {
					t.Fatalf("no number for %s on %s", c.syscall, o.Arch)
				}
			}
		}
		arch := c.arch
		if arch == 0 {
			arch = a.auditArch
		}
		if got := runFilter(t, f.guard, arch, nr, c.args); got != c.want {
			t.Errorf("%s/guard/%s (nr %d, args %#x): got %s, want %s", o.Arch, c.name, nr, c.args, got, c.want)
		}
	}
}

func guardCases(archName string, names bool) []filterCase {
	supervised := action(retUserNotif)
	creating := allow
	if names {
		creating = supervised
	}
	cases := []filterCase{
		{name: "connect", syscall: "connect", args: [6]uint64{3, 0x7ffd0000, 16}, want: supervised},
		{name: "bind", syscall: "bind", args: [6]uint64{3, 0x7ffd0000, 110}, want: supervised},
		{name: "listen", syscall: "listen", args: [6]uint64{3, 128}, want: supervised},
		{name: "read", syscall: "read", want: allow},
		{name: "pidfd_getfd", syscall: "pidfd_getfd", want: eperm},
		{name: "process_vm_readv", syscall: "process_vm_readv", want: eperm},
		{name: "seccomp filter with a listener", syscall: "seccomp", args: [6]uint64{seccompSetModeFilter, seccompFilterFlagNewListener, 0x1000}, want: eperm},
		{name: "seccomp filter with a listener and TSYNC", syscall: "seccomp", args: [6]uint64{seccompSetModeFilter, seccompFilterFlagNewListener | 1, 0x1000}, want: eperm},
		{name: "seccomp filter without a listener", syscall: "seccomp", args: [6]uint64{seccompSetModeFilter, 0, 0x1000}, want: allow},
		{name: "seccomp GET_ACTION_AVAIL", syscall: "seccomp", args: [6]uint64{2, 0, 0x1000}, want: allow},
		{name: "other architecture", syscall: "read", arch: auditArchI386, want: killProcess},
		{name: "openat O_RDONLY", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0}, want: allow},
		{name: "openat O_WRONLY|O_TRUNC", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0x201}, want: creating},
		{name: "openat O_WRONLY", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0x1}, want: creating},
		{name: "openat O_RDWR", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0x2}, want: creating},
		{name: "openat O_RDONLY|O_TRUNC", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0x200}, want: creating},
		{name: "openat O_RDONLY|O_CLOEXEC|O_DIRECTORY", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0x90000}, want: allow},
		{name: "truncate", syscall: "truncate", want: creating},
		{name: "openat O_CREAT", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, oCreat | 0x201, 0o644}, want: creating},
		{name: "openat O_CREAT with garbage above", syscall: "openat", args: [6]uint64{0xffffff9c, 0x1000, 0xffff0000_00000040}, want: creating},
		{name: "openat2", syscall: "openat2", args: [6]uint64{0xffffff9c, 0x1000, 0x2000, 24}, want: creating},
		{name: "mkdirat", syscall: "mkdirat", want: creating},
		{name: "mknodat", syscall: "mknodat", want: creating},
		{name: "renameat", syscall: "renameat", want: creating},
		{name: "renameat2", syscall: "renameat2", want: creating},
		{name: "linkat", syscall: "linkat", want: creating},
		{name: "symlinkat", syscall: "symlinkat", want: creating},
		{name: "unlinkat", syscall: "unlinkat", want: allow},
	}
	if archName == "amd64" {
		cases = append(cases,
			filterCase{name: "open O_RDONLY", syscall: "open", args: [6]uint64{0x1000, 0}, want: allow},
			filterCase{name: "open O_CREAT", syscall: "open", args: [6]uint64{0x1000, oCreat | 1}, want: creating},
			filterCase{name: "creat", syscall: "creat", want: creating},
			filterCase{name: "mkdir", syscall: "mkdir", want: creating},
			filterCase{name: "mknod", syscall: "mknod", want: creating},
			filterCase{name: "rename", syscall: "rename", want: creating},
			filterCase{name: "link", syscall: "link", want: creating},
			filterCase{name: "symlink", syscall: "symlink", want: creating},
		)
	}
	return cases
}

func TestNoGuardWithoutSupervise(t *testing.T) {
	f, err := Compile(Options{Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	if f.guard != nil {
		t.Errorf("a filter without Supervise has a guard")
	}
	if _, err := Compile(Options{Arch: "amd64", SuperviseFiles: true}); err == nil {
		t.Errorf("SuperviseFiles without Supervise was accepted")
	}
}

func TestCompileRejects(t *testing.T) {
	if _, err := Compile(Options{Arch: "riscv64"}); err == nil || !strings.Contains(err.Error(), "riscv64") {
		t.Errorf("Compile for riscv64: got %v, want an error naming the architecture", err)
	}
	if _, err := Compile(Options{}); err == nil {
		t.Errorf("Compile without an architecture: want an error")
	}
	a := arches["amd64"]
	bad := []struct {
		name  string
		rules []rule
	}{
		{"unknown system call", []rule{{"not_a_syscall", errno(errnoEPERM), nil}}},
		{"unreachable rule", []rule{{"ptrace", errno(errnoEPERM), nil}, {"ptrace", allow, []argCheck{argIn(0, 1)}}}},
		{"argument 6", []rule{{"ioctl", errno(errnoEPERM), []argCheck{argIn(6, 1)}}}},
		{"empty set", []rule{{"ioctl", errno(errnoEPERM), []argCheck{argIn(1)}}}},
		{"bit check without mask", []rule{{"ioctl", errno(errnoEPERM), []argCheck{argAnyBit(1, 0)}}}},
		{"rule too long for a short jump", []rule{{"ioctl", errno(errnoEPERM), []argCheck{argIn(1, make([]uint32, 300)...)}}}},
		{"program too long", slices.Repeat([]rule{{"ioctl", errno(errnoEPERM), []argCheck{argIn(1, 1, 2, 3, 4, 5, 6, 7, 8)}}}, 500)},
	}
	for _, b := range bad {
		if _, _, err := compile(a, b.rules); err == nil {
			t.Errorf("%s: compile accepted it", b.name)
		} else {
			t.Logf("%s: %v", b.name, err)
		}
	}
}

// A block longer than a conditional jump can skip must be stepped over with
// an unconditional jump, for the matching call and for the calls after it.
func TestLongBlock(t *testing.T) {
	a := arches["amd64"]
	var rules []rule
	for i := range uint32(120) { // 120 rules of 3 instructions: a 361-instruction block
		rules = append(rules, rule{"ioctl", errno(uint16(i + 1)), []argCheck{argIn(1, 1000+i)}})
	}
	rules = append(rules, rule{"ptrace", errno(errnoEPERM), nil})
	_, prog, err := compile(a, rules)
	if err != nil {
		t.Fatal(err)
	}
	insts, _ := bpf.Disassemble(prog)
	if !slices.ContainsFunc(insts, func(i bpf.Instruction) bool { _, ok := i.(bpf.Jump); return ok }) {
		t.Fatalf("expected an unconditional jump over the long block")
	}
	for _, c := range []struct {
		nr   uint32
		arg1 uint64
		want action
	}{
		{16, 1000, errno(1)},
		{16, 1119, errno(120)},
		{16, 999, allow},
		{101, 0, eperm},
		{0, 0, allow},
	} {
		if got := runFilter(t, prog, a.auditArch, c.nr, [6]uint64{0, c.arg1}); got != c.want {
			t.Errorf("nr %d arg1 %d: got %s, want %s", c.nr, c.arg1, got, c.want)
		}
	}
}

func TestProgramSize(t *testing.T) {
	for _, archName := range []string{"amd64", "arm64"} {
		f, err := Compile(Options{Arch: archName, DenyNetworkExceptTCP: true, Supervise: true, SuperviseFiles: true})
		if err != nil {
			t.Fatal(err)
		}
		base, err := Compile(Options{Arch: archName})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d instructions (baseline %d) of the kernel's %d", archName, len(f.prog), len(base.prog), maxInstructions)
		if len(f.prog) > maxInstructions {
			t.Errorf("%s: program too long", archName)
		}
	}
}

func TestSummary(t *testing.T) {
	f, err := Compile(Options{Arch: "amd64", DenyNetworkExceptTCP: true})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(f.Summary(), "\n")
	for _, want := range []string{
		"architecture other than amd64 (audit arch 0xc000003e): kill process",
		"x32 system calls: kill process",
		"ioctl: EPERM when arg1 in {0x5412, 0x541c} (low 32 bits)",
		"clone3: ENOSYS",
		"ptrace: EPERM",
		"iopl: EPERM",
		"socket: EPERM when arg0 in {0x2, 0xa} and arg1&0xf not in {0x1} (low 32 bits)",
		"anything else: allow",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	arm, err := Compile(Options{Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(arm.Summary(), "\n"); strings.Contains(s, "iopl") || strings.Contains(s, "x32") {
		t.Errorf("arm64 summary names amd64-only rules:\n%s", s)
	}
}

func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(Options{Arch: "amd64", DenyNetworkExceptTCP: true, Supervise: true, SuperviseFiles: true}); err != nil {
			b.Fatal(err)
		}
	}
}
