// Package seccomp holds cordon's system call filter: a rule table, a compiler
// that turns it into a seccomp-bpf program, and, on Linux, the code that
// installs the program and proves it is in force.
//
// # Use
//
// The sandbox's init process, after the namespaces and Landlock and just
// before it executes the command:
//
//	f, err := seccomp.Compile(seccomp.Options{Arch: runtime.GOARCH, Supervise: true})
//	runtime.LockOSThread()
//	unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
//	err = f.Install()                 // every thread, irreversibly
//	listener, err := f.InstallGuard() // this thread only: the command's
//	err = f.Verify()                  // the filter answers, not the kernel
//
// The guard (with [Options.Supervise]) is a second filter that only the
// thread which starts the command carries, so only the command inherits
// it: it hands some calls to a supervisor, the init's other threads, over
// the listener (seccomp_unotify(2)); internal/apply/linuxinit serves it.
//
// [Supported] tells `cordon doctor` whether the kernel can do this. Any error
// on the way means the command must not start.
//
// # What the filter promises
//
// Every process of the sandbox, and everything it starts, runs under the
// filter; it is inherited across fork and execve and cannot be removed.
//
//   - A system call made for another architecture (32-bit x86 through int
//     0x80, x32 on amd64, AArch32 on arm64) kills the process: the rule table
//     only knows the native numbers, and another calling convention would
//     walk around it.
//   - Other processes: ptrace, process_vm_readv/writev, process_madvise,
//     pidfd_getfd and kcmp fail with EPERM (with Supervise, process_vm_readv
//     and pidfd_getfd are refused by the guard, so the supervisor's threads
//     keep them and the command does not).
//   - The terminal: ioctl TIOCSTI and TIOCLINUX fail with EPERM, judged on the
//     low 32 bits of the request only, as the kernel does, so garbage in the
//     upper half does not get through (CVE-2019-10063).
//   - Namespaces: unshare and clone with any namespace flag fail with EPERM;
//     clone3 fails with ENOSYS because its flags are in memory a filter
//     cannot read, and C libraries and Go then fall back to clone. setns
//     fails with EPERM.
//   - The filesystem view: mount, umount2, pivot_root, chroot, the new mount
//     API (fsopen, fsconfig, fsmount, fspick, move_mount, open_tree,
//     open_tree_attr, mount_setattr) and open_by_handle_at fail with EPERM.
//   - Kernel attack surface no build needs: bpf, perf_event_open,
//     userfaultfd, io_uring (which would also run socket and file operations
//     this filter never sees), modify_ldt; keyrings (keyctl, add_key,
//     request_key); machine state (module loading, kexec, reboot, swap,
//     clocks, host names, accounting, quotas, the kernel log, I/O ports,
//     vhangup); personality values other than the ordinary ones.
//   - With [Options.DenyNetworkExceptTCP] (the mode without a network
//     namespace): IPv4 and IPv6 sockets other than TCP streams fail with
//     EPERM, address families other than unix, inet, inet6 and netlink with
//     EAFNOSUPPORT, and sends with MSG_FASTOPEN, which connect without the
//     hook Landlock checks, with EPERM.
//   - With [Options.Supervise]: unix datagram sockets (socket and
//     socketpair of AF_UNIX with a type other than SOCK_STREAM or
//     SOCK_SEQPACKET) fail with EPERM, because they reach other sockets by an
//     address in memory (sendto, sendmsg) that no filter can judge; the guard
//     hands every connect(2) and bind(2) to the supervisor, refuses
//     seccomp(SECCOMP_SET_MODE_FILTER) with SECCOMP_FILTER_FLAG_NEW_LISTENER
//     (a listener of the command's own would take precedence over the
//     supervisor's), and with [Options.SuperviseFiles] hands over every call
//     that creates a name in the filesystem or opens a file for writing
//     (mkdir, mknod, rename, link, symlink and their *at forms, creat, open
//     and openat with a writing flag, openat2, truncate). The supervisor never lets such a call continue in the
//     command: it reads the arguments once and makes the call itself, so
//     nothing the command changes in its memory afterwards can redirect it.
//
// The exact list, with arguments, is [Filter.Summary].
//
// # What it does not promise
//
// The filter is not the filesystem boundary, the network boundary or the
// process boundary: the mount namespace and Landlock decide which files can
// be read or written, the empty network namespace or Landlock decide which
// connections can be made, and the PID namespace decides which processes can
// be seen and signalled. The filter removes the system calls that would
// undo or walk around those layers, and narrows the kernel interface a
// compromised command can attack. It does not look inside memory a pointer
// argument points to (paths, clone3 arguments, socket addresses; the
// supervisor does that for the calls the guard hands it), it does not
// limit signals (kill, pidfd_send_signal: the PID namespace and Landlock's
// signal scoping do), and it leaves netlink sockets open.
//
// # How the program is built
//
// The rules are data (rules.go); the compiler emits a linear program: check
// the architecture, then one block per system call that has rules, each
// starting with a comparison of the call number that skips the block, then
// the rule checks, then "allow". Blocks longer than a conditional jump can
// skip use an unconditional jump. Arguments are compared on their low 32
// bits, which is what the kernel uses for every argument the table inspects.
// System calls whose rules never look at arguments (almost all of them,
// and every call no rule names) are decided by the kernel's per-call action
// cache without running the program, so the linear layout costs nothing on
// the hot path.
//
// Filters compile for amd64 and arm64 on any OS, from this package's own
// tables of system call numbers; the tests run both in a BPF interpreter, and
// on Linux run the real filter in a child process.
package seccomp
