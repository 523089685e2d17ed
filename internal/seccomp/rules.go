package seccomp

import (
	"fmt"
	"strings"
)

// Return values of a seccomp filter (include/uapi/linux/seccomp.h).
const (
	retKillProcess = 0x80000000
	retErrno       = 0x00050000
	retUserNotif   = 0x7fc00000
	retAllow       = 0x7fff0000
)

// Error numbers, the same on amd64 and arm64 (include/uapi/asm-generic/errno*.h).
const (
	errnoEPERM        = 1
	errnoENOSYS       = 38
	errnoEAFNOSUPPORT = 97
)

// Values the argument checks compare against. They are the same on amd64 and
// arm64; arch_linux_test.go checks them against x/sys/unix.
const (
	// Terminal ioctls that push bytes into a terminal another process reads:
	// TIOCSTI types a character into the input queue, TIOCLINUX can paste the
	// console selection.
	ioctlTIOCSTI   = 0x5412
	ioctlTIOCLINUX = 0x541c

	cloneNewTime   = 0x00000080
	cloneNewNS     = 0x00020000
	cloneNewCgroup = 0x02000000
	cloneNewUTS    = 0x04000000
	cloneNewIPC    = 0x08000000
	cloneNewUser   = 0x10000000
	cloneNewPID    = 0x20000000
	cloneNewNet    = 0x40000000

	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16

	sockStream    = 1
	sockSeqpacket = 5
	sockTypeMask  = 0xf // what remains of the type once SOCK_NONBLOCK and SOCK_CLOEXEC are masked off

	ipprotoTCP = 6

	sigURG = 23 // SIGURG, the same on amd64 and arm64

	msgFastOpen = 0x20000000

	oCreat = 0x40 // O_CREAT, the same on amd64 and arm64
	// oWriting is every open flag that writes or creates: O_WRONLY, O_RDWR,
	// O_CREAT and O_TRUNC (the same on amd64 and arm64).
	oWriting = 0x1 | 0x2 | oCreat | 0x200

	seccompSetModeFilter         = 1
	seccompFilterFlagNewListener = 0x8

	perLinux      = 0x0000
	perLinux32    = 0x0008
	perUname26    = 0x20000
	perQuery      = 0xffffffff // personality(0xffffffff) reads the persona without changing it
	perLinux32U26 = perLinux32 | perUname26
)

// unshareNamespaceFlags are the flags that make unshare(2) create a namespace.
const unshareNamespaceFlags = cloneNewNS | cloneNewUser | cloneNewPID | cloneNewNet |
	cloneNewIPC | cloneNewUTS | cloneNewCgroup | cloneNewTime

// cloneNamespaceFlags is the same set for clone(2), without CLONE_NEWTIME:
// clone(2) keeps the exit signal in the low byte of its flags (CSIGNAL) and
// strips that byte before it looks at namespaces, so bit 0x80 there is part
// of a signal number, and a time namespace can only come from unshare(2) or
// clone3(2).
const cloneNamespaceFlags = unshareNamespaceFlags &^ cloneNewTime

// An action is the full 32-bit value a filter returns for a system call.
type action uint32

func errno(e uint16) action { return action(retErrno | uint32(e)) }

func (a action) String() string {
	switch {
	case a == retAllow:
		return "allow"
	case a == retUserNotif:
		return "supervised"
	case a == retKillProcess:
		return "kill process"
	case a&0xffff0000 == retErrno:
		switch a & 0xffff {
		case errnoEPERM:
			return "EPERM"
		case errnoENOSYS:
			return "ENOSYS"
		case errnoEAFNOSUPPORT:
			return "EAFNOSUPPORT"
		}
		return fmt.Sprintf("errno %d", a&0xffff)
	}
	return fmt.Sprintf("action %#x", uint32(a))
}

// A rule gives a system call an action, either always or when every argument
// check in when holds. Rules for the same system call are tried in table
// order; a call no rule matches is allowed.
type rule struct {
	syscall string
	action  action
	when    []argCheck
}

// An argCheck tests the low 32 bits of one argument. That is exact for every
// argument the table inspects, because the kernel itself only uses 32 bits of
// each: ioctl's request, socket's domain, type and protocol and the send
// flags are unsigned int or int, personality takes an unsigned int, clone(2)
// truncates its flags with lower_32_bits(), and unshare(2) fails with EINVAL
// on any upper bit (every namespace flag lives in the low word). Comparing
// the upper word too would only let garbage there turn a denied call into an
// allowed one (CVE-2019-10063, TIOCSTI with a dirty upper word).
type argCheck struct {
	arg    int    // index into seccomp_data.args, 0 to 5
	mask   uint32 // for opIn and opNotIn: ANDed into the word first (0: compare the whole word)
	op     checkOp
	values []uint32 // for opIn and opNotIn
}

type checkOp int

const (
	opIn     checkOp = iota // the (masked) word equals one of values
	opNotIn                 // the (masked) word equals none of values
	opAnyBit                // the word has at least one bit of mask set
)

func argIn(arg int, values ...uint32) argCheck {
	return argCheck{arg: arg, op: opIn, values: values}
}

func argNotIn(arg int, values ...uint32) argCheck {
	return argCheck{arg: arg, op: opNotIn, values: values}
}

func argMaskedNotIn(arg int, mask uint32, values ...uint32) argCheck {
	return argCheck{arg: arg, mask: mask, op: opNotIn, values: values}
}

func argAnyBit(arg int, mask uint32) argCheck {
	return argCheck{arg: arg, mask: mask, op: opAnyBit}
}

func (c argCheck) String() string {
	word := fmt.Sprintf("arg%d", c.arg)
	if c.mask != 0 && c.op != opAnyBit {
		word = fmt.Sprintf("arg%d&%#x", c.arg, c.mask)
	}
	hex := make([]string, len(c.values))
	for i, v := range c.values {
		hex[i] = fmt.Sprintf("%#x", v)
	}
	switch c.op {
	case opIn:
		return fmt.Sprintf("%s in {%s}", word, strings.Join(hex, ", "))
	case opNotIn:
		return fmt.Sprintf("%s not in {%s}", word, strings.Join(hex, ", "))
	case opAnyBit:
		return fmt.Sprintf("%s has any bit of %#x", word, c.mask)
	}
	return fmt.Sprintf("%s: unknown check %d", word, c.op)
}

func (r rule) String() string {
	if len(r.when) == 0 {
		return fmt.Sprintf("%s: %s", r.syscall, r.action)
	}
	conds := make([]string, len(r.when))
	for i, c := range r.when {
		conds[i] = c.String()
	}
	return fmt.Sprintf("%s: %s when %s (low 32 bits)", r.syscall, r.action, strings.Join(conds, " and "))
}

// rulesFor returns the rule table for o. Rules that inspect arguments come
// first: the kernel caches "always allowed" per system call for filters that
// never look at arguments, so every call that reaches the linear list of
// unconditional rules below is either denied or served from that cache
// without running the filter; the calls whose arguments matter (ioctl, clone,
// send*) run the filter each time and should find their rule early.
func rulesFor(o Options) []rule {
	eperm := errno(errnoEPERM)
	rules := []rule{
		// The user's terminal: a command that shares the terminal could type
		// into the shell that started the agent once the agent exits.
		{"ioctl", eperm, []argCheck{argIn(1, ioctlTIOCSTI, ioctlTIOCLINUX)}},

		// New namespaces. In a user namespace an unprivileged process gains
		// capabilities over fresh mount, network and other namespaces: the
		// largest reachable kernel attack surface, and a way to build a
		// filesystem view the sandbox did not plan. Plain fork, threads and
		// unshare(CLONE_FILES) stay allowed.
		{"clone", eperm, []argCheck{argAnyBit(0, cloneNamespaceFlags)}},
		{"unshare", eperm, []argCheck{argAnyBit(0, unshareNamespaceFlags)}},
		// clone3 passes its flags in memory, which a seccomp filter cannot
		// read. ENOSYS makes glibc and Go fall back to clone(2), which the rule
		// above checks.
		{"clone3", errno(errnoENOSYS), nil},

		// personality: keep the values programs use (Linux, 32-bit Linux,
		// UNAME26 and the read-only query) and refuse the others, such as
		// READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE, which only weaken the
		// exploit mitigations of the programs started afterwards.
		{"personality", eperm, []argCheck{argNotIn(0, perLinux, perLinux32, perUname26, perLinux32U26, perQuery)}},
	}

	if o.Supervise {
		// Unix datagram sockets can send to any socket on the filesystem by
		// its path (sendto, sendmsg), and those calls carry the address in
		// memory the supervisor could only inspect racily; stream and
		// seqpacket sockets reach other sockets only through connect(2),
		// which the supervisor performs itself. SOCK_RAW is a datagram
		// socket for the unix family.
		rules = append(rules,
			rule{"socket", eperm, []argCheck{argIn(0, afUnix), argMaskedNotIn(1, sockTypeMask, sockStream, sockSeqpacket)}},
			rule{"socketpair", eperm, []argCheck{argIn(0, afUnix), argMaskedNotIn(1, sockTypeMask, sockStream, sockSeqpacket)}},
		)
	}
	if o.DenyNetworkExceptTCP {
		// Landlock cuts TCP by port in the mode without a network namespace;
		// these rules cut everything Landlock does not see. Families other
		// than unix, IPv4, IPv6 and netlink (packet, vsock, bluetooth, can,
		// alg, ...) look absent; netlink stays because libc asks it for
		// interface addresses, and it reaches the kernel, not the network.
		afEAFNOSUPPORT := errno(errnoEAFNOSUPPORT)
		rules = append(rules,
			rule{"socket", afEAFNOSUPPORT, []argCheck{argNotIn(0, afUnix, afInet, afInet6, afNetlink)}},
			// UDP, raw and any other non-stream inet socket: DNS and every
			// datagram protocol. SOCK_NONBLOCK and SOCK_CLOEXEC are masked off.
			rule{"socket", eperm, []argCheck{argIn(0, afInet, afInet6), argMaskedNotIn(1, sockTypeMask, sockStream)}},
			// Stream sockets that are not TCP (SCTP, MPTCP): Landlock's TCP
			// rules only apply to TCP.
			rule{"socket", eperm, []argCheck{argIn(0, afInet, afInet6), argNotIn(2, 0, ipprotoTCP)}},
			rule{"socketpair", afEAFNOSUPPORT, []argCheck{argNotIn(0, afUnix)}},
			// TCP Fast Open connects from inside sendto/sendmsg without the
			// connect hook Landlock checks
			// (https://github.com/landlock-lsm/linux/issues/41).
			rule{"sendto", eperm, []argCheck{argAnyBit(3, msgFastOpen)}},
			rule{"sendmsg", eperm, []argCheck{argAnyBit(2, msgFastOpen)}},
			rule{"sendmmsg", eperm, []argCheck{argAnyBit(3, msgFastOpen)}},
		)
	}

	for _, group := range unconditional {
		for _, name := range group {
			if o.Supervise && supervisorNeeds[name] {
				continue // refused by the guard, on the command's side only
			}
			rules = append(rules, rule{name, eperm, nil})
		}
	}
	return rules
}

// supervisorNeeds are the calls of the unconditional list that the
// supervisor's threads in the init make on behalf of the command (reading
// its arguments, fetching its descriptors). With Supervise they leave the
// filter every thread shares and go to the guard, which only the command
// inherits.
var supervisorNeeds = map[string]bool{"process_vm_readv": true, "pidfd_getfd": true}

// guardRulesFor returns the rules of the guard: the filter installed on the
// init's own thread just before it starts the command, so that the command
// and everything it starts inherit it while the init's other threads, which
// serve the supervised calls, do not. Nil without Supervise.
func guardRulesFor(o Options) []rule {
	if !o.Supervise {
		return nil
	}
	eperm := errno(errnoEPERM)
	notify := action(retUserNotif)
	rules := []rule{
		// A second listener installed by the command would take precedence
		// over cordon's for the same calls, and could let them continue
		// (seccomp_unotify(2)): refuse new listeners. Filters without one
		// (a browser's own sandbox) stay allowed.
		{"seccomp", eperm, []argCheck{argIn(0, seccompSetModeFilter), argAnyBit(1, seccompFilterFlagNewListener)}},
		// Every connect, bind and listen, whatever the family: the family is a
		// property of the descriptor, which a filter cannot see, and the
		// address is in memory. The supervisor reads the address once,
		// fetches the socket and makes the call itself, so nothing the
		// command changes afterwards can redirect it.
		{"connect", notify, nil},
		{"bind", notify, nil},
		// listen(2) on an unbound socket binds it to a port on every
		// address, without the hook Landlock's bind rule checks.
		{"listen", notify, nil},
	}
	rules = append(rules, rule{"process_vm_readv", eperm, nil}, rule{"pidfd_getfd", eperm, nil})
	if o.ProtectPID > 0 {
		pid := uint32(o.ProtectPID)
		targets := []uint32{pid, 0xffffffff} // the init, and -1
		if o.ProtectPGID > 0 {
			targets = append(targets, uint32(-int32(o.ProtectPGID)))
		}
		rules = append(rules,
			rule{"kill", eperm, []argCheck{argIn(0, targets...), argNotIn(1, sigURG)}},
			rule{"tgkill", eperm, []argCheck{argIn(0, pid), argNotIn(2, sigURG)}},
			rule{"rt_sigqueueinfo", eperm, []argCheck{argIn(0, pid)}},
			rule{"rt_tgsigqueueinfo", eperm, []argCheck{argIn(0, pid)}},
			rule{"tkill", eperm, nil},
			rule{"pidfd_send_signal", errno(errnoENOSYS), nil},
		)
	}
	if o.SuperviseFiles {
		// Every call that creates a name in the filesystem or opens a file
		// for writing, so that the supervisor can refuse the names the
		// policy reserves (absent protected paths), keep the control files
		// of existing git repositories as they are, and see repositories
		// being created. open and openat only with a flag that writes or
		// creates (the flags are an argument); openat2 keeps its flags in
		// memory, so always; truncate names its file by path.
		for _, name := range []string{"mkdir", "mkdirat", "mknod", "mknodat", "rename", "renameat", "renameat2",
			"link", "linkat", "symlink", "symlinkat", "creat", "openat2", "truncate"} {
			rules = append(rules, rule{name, notify, nil})
		}
		rules = append(rules,
			rule{"open", notify, []argCheck{argAnyBit(1, oWriting)}},
			rule{"openat", notify, []argCheck{argAnyBit(2, oWriting)}},
		)
	}
	return rules
}

// unconditional lists the system calls refused with EPERM whatever their
// arguments. None of them is needed by compilers, test runners, package
// managers or shells; the groups say why each is refused.
var unconditional = [][]string{
	// Reading, writing or steering other processes: the PID namespace hides
	// them in the full sandbox, but not in the mode without namespaces, and
	// a process inside could still reach its siblings.
	{"ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp"},

	// Kernel keyrings can hold the user's credentials (Kerberos, ecryptfs,
	// NFS) and are not namespaced.
	{"keyctl", "add_key", "request_key"},

	// Large kernel interfaces that have been a steady source of privilege
	// escalations and that no build needs: eBPF, perf events, userfaultfd
	// (it turns kernel races into reliable exploits), io_uring (it also does
	// I/O, sockets included, that never passes through this filter), and the
	// x86 local descriptor table (only Wine and DOS emulators use it).
	{"bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "modify_ldt"},

	// The filesystem view. The sandbox builds it before the command starts;
	// the command must not change it, pick another root, or enter another
	// process's namespaces. open_by_handle_at opens files by inode handle,
	// around every path-based check.
	{"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
		"move_mount", "open_tree", "open_tree_attr", "mount_setattr", "setns", "open_by_handle_at"},

	// The machine itself: kernel code, swap, reboot, clocks, host names,
	// accounting, quotas, the kernel log, I/O ports and terminal hangup. They
	// need privileges a sandboxed command should not hold; refusing them here
	// keeps that true when cordon runs as root without namespaces.
	{"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
		"swapon", "swapoff", "reboot", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
		"lookup_dcookie", "iopl", "ioperm",
		"settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname"},
}
