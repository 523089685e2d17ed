package seccomp

// The per-architecture facts the compiler needs. golang.org/x/sys/unix only
// knows the numbers of the GOARCH it was built for, and a filter must be
// compilable (and testable) for every supported architecture from any host,
// so the numbers of the system calls the rules name are written out here.
//
// Sources: arch/x86/entry/syscalls/syscall_64.tbl (amd64) and
// include/uapi/asm-generic/unistd.h (arm64) in the Linux tree. The tests in
// arch_linux_*_test.go compare every entry with x/sys/unix on the GOARCH they
// run on.

// Linux audit architecture values (include/uapi/linux/audit.h). The kernel puts
// the one of the calling convention into seccomp_data.arch: a 32-bit process,
// or a 64-bit process entering through a compat path, shows a different value.
const (
	auditArchX8664   = 0xc000003e // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
	auditArchAArch64 = 0xc00000b7 // EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
)

// x32SyscallBit marks a system call made through the x32 ABI on x86-64
// (__X32_SYSCALL_BIT). x32 calls report AUDIT_ARCH_X86_64, so the architecture
// check alone does not catch them; their numbers carry this bit instead.
const x32SyscallBit = 0x40000000

type arch struct {
	name      string
	auditArch uint32
	// rejectX32 says whether numbers with x32SyscallBit set must be killed.
	rejectX32 bool
	// numbers maps the system calls the rule table names to their numbers.
	// A name missing here does not exist on this architecture (iopl on arm64)
	// and its rules are left out of this architecture's filter.
	numbers map[string]uint32
}

// Both supported architectures are little-endian: the low 32 bits of a
// 64-bit argument come first in seccomp_data. A big-endian architecture would
// need the word offsets in argLowOffset swapped.
var arches = map[string]*arch{
	"amd64": {
		name:      "amd64",
		auditArch: auditArchX8664,
		rejectX32: true,
		numbers: map[string]uint32{
			"open":              2,
			"ioctl":             16,
			"socket":            41,
			"connect":           42,
			"sendto":            44,
			"sendmsg":           46,
			"bind":              49,
			"listen":            50,
			"socketpair":        53,
			"clone":             56,
			"rename":            82,
			"mkdir":             83,
			"creat":             85,
			"link":              86,
			"symlink":           88,
			"ptrace":            101,
			"syslog":            103,
			"mknod":             133,
			"personality":       135,
			"vhangup":           153,
			"modify_ldt":        154,
			"pivot_root":        155,
			"adjtimex":          159,
			"chroot":            161,
			"acct":              163,
			"settimeofday":      164,
			"mount":             165,
			"umount2":           166,
			"swapon":            167,
			"swapoff":           168,
			"reboot":            169,
			"sethostname":       170,
			"setdomainname":     171,
			"iopl":              172,
			"ioperm":            173,
			"init_module":       175,
			"delete_module":     176,
			"quotactl":          179,
			"lookup_dcookie":    212,
			"clock_settime":     227,
			"kexec_load":        246,
			"add_key":           248,
			"request_key":       249,
			"keyctl":            250,
			"openat":            257,
			"truncate":          76,
			"mkdirat":           258,
			"mknodat":           259,
			"renameat":          264,
			"linkat":            265,
			"symlinkat":         266,
			"unshare":           272,
			"perf_event_open":   298,
			"open_by_handle_at": 304,
			"clock_adjtime":     305,
			"sendmmsg":          307,
			"setns":             308,
			"process_vm_readv":  310,
			"process_vm_writev": 311,
			"kcmp":              312,
			"finit_module":      313,
			"renameat2":         316,
			"seccomp":           317,
			"kexec_file_load":   320,
			"bpf":               321,
			"userfaultfd":       323,
			"io_uring_setup":    425,
			"io_uring_enter":    426,
			"io_uring_register": 427,
			"open_tree":         428,
			"move_mount":        429,
			"fsopen":            430,
			"fsconfig":          431,
			"fsmount":           432,
			"fspick":            433,
			"clone3":            435,
			"openat2":           437,
			"pidfd_getfd":       438,
			"process_madvise":   440,
			"mount_setattr":     442,
			"quotactl_fd":       443,
			"open_tree_attr":    467,
		},
	},
	"arm64": {
		name:      "arm64",
		auditArch: auditArchAArch64,
		numbers: map[string]uint32{
			"lookup_dcookie":    18,
			"ioctl":             29,
			"mknodat":           33,
			"mkdirat":           34,
			"symlinkat":         36,
			"linkat":            37,
			"renameat":          38,
			"umount2":           39,
			"mount":             40,
			"pivot_root":        41,
			"chroot":            51,
			"openat":            56,
			"truncate":          45,
			"vhangup":           58,
			"quotactl":          60,
			"acct":              89,
			"personality":       92,
			"unshare":           97,
			"kexec_load":        104,
			"init_module":       105,
			"delete_module":     106,
			"clock_settime":     112,
			"syslog":            116,
			"ptrace":            117,
			"reboot":            142,
			"sethostname":       161,
			"setdomainname":     162,
			"settimeofday":      170,
			"adjtimex":          171,
			"socket":            198,
			"socketpair":        199,
			"bind":              200,
			"listen":            201,
			"connect":           203,
			"sendto":            206,
			"sendmsg":           211,
			"add_key":           217,
			"request_key":       218,
			"keyctl":            219,
			"clone":             220,
			"swapon":            224,
			"swapoff":           225,
			"perf_event_open":   241,
			"open_by_handle_at": 265,
			"clock_adjtime":     266,
			"setns":             268,
			"sendmmsg":          269,
			"process_vm_readv":  270,
			"process_vm_writev": 271,
			"kcmp":              272,
			"finit_module":      273,
			"renameat2":         276,
			"seccomp":           277,
			"bpf":               280,
			"userfaultfd":       282,
			"kexec_file_load":   294,
			"io_uring_setup":    425,
			"io_uring_enter":    426,
			"io_uring_register": 427,
			"open_tree":         428,
			"move_mount":        429,
			"fsopen":            430,
			"fsconfig":          431,
			"fsmount":           432,
			"fspick":            433,
			"clone3":            435,
			"openat2":           437,
			"pidfd_getfd":       438,
			"process_madvise":   440,
			"mount_setattr":     442,
			"quotactl_fd":       443,
			"open_tree_attr":    467,
		},
	},
}
