package seccomp

import "golang.org/x/sys/unix"

// unixNumbers is x/sys/unix's view of the arm64 table in arch.go.
var unixNumbers = map[string]uintptr{
	"truncate":  unix.SYS_TRUNCATE,
	"bind":      unix.SYS_BIND,
	"listen":    unix.SYS_LISTEN,
	"connect":   unix.SYS_CONNECT,
	"linkat":    unix.SYS_LINKAT,
	"mkdirat":   unix.SYS_MKDIRAT,
	"mknodat":   unix.SYS_MKNODAT,
	"openat":    unix.SYS_OPENAT,
	"openat2":   unix.SYS_OPENAT2,
	"renameat":  unix.SYS_RENAMEAT,
	"renameat2": unix.SYS_RENAMEAT2,
	"seccomp":   unix.SYS_SECCOMP,
	"symlinkat": unix.SYS_SYMLINKAT,
	"ioctl":     unix.SYS_IOCTL, "socket": unix.SYS_SOCKET, "sendto": unix.SYS_SENDTO, "sendmsg": unix.SYS_SENDMSG,
	"socketpair": unix.SYS_SOCKETPAIR, "clone": unix.SYS_CLONE, "ptrace": unix.SYS_PTRACE, "syslog": unix.SYS_SYSLOG,
	"personality": unix.SYS_PERSONALITY, "vhangup": unix.SYS_VHANGUP, "pivot_root": unix.SYS_PIVOT_ROOT, "adjtimex": unix.SYS_ADJTIMEX, "chroot": unix.SYS_CHROOT, "acct": unix.SYS_ACCT,
	"settimeofday": unix.SYS_SETTIMEOFDAY, "mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2,
	"swapon": unix.SYS_SWAPON, "swapoff": unix.SYS_SWAPOFF, "reboot": unix.SYS_REBOOT,
	"sethostname": unix.SYS_SETHOSTNAME, "setdomainname": unix.SYS_SETDOMAINNAME, "init_module": unix.SYS_INIT_MODULE, "delete_module": unix.SYS_DELETE_MODULE,
	"quotactl": unix.SYS_QUOTACTL, "lookup_dcookie": unix.SYS_LOOKUP_DCOOKIE, "clock_settime": unix.SYS_CLOCK_SETTIME,
	"kexec_load": unix.SYS_KEXEC_LOAD, "add_key": unix.SYS_ADD_KEY, "request_key": unix.SYS_REQUEST_KEY,
	"keyctl": unix.SYS_KEYCTL, "unshare": unix.SYS_UNSHARE, "perf_event_open": unix.SYS_PERF_EVENT_OPEN,
	"open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT, "clock_adjtime": unix.SYS_CLOCK_ADJTIME,
	"sendmmsg": unix.SYS_SENDMMSG, "setns": unix.SYS_SETNS, "process_vm_readv": unix.SYS_PROCESS_VM_READV,
	"process_vm_writev": unix.SYS_PROCESS_VM_WRITEV, "kcmp": unix.SYS_KCMP, "finit_module": unix.SYS_FINIT_MODULE,
	"kexec_file_load": unix.SYS_KEXEC_FILE_LOAD, "bpf": unix.SYS_BPF, "userfaultfd": unix.SYS_USERFAULTFD,
	"io_uring_setup": unix.SYS_IO_URING_SETUP, "io_uring_enter": unix.SYS_IO_URING_ENTER,
	"io_uring_register": unix.SYS_IO_URING_REGISTER, "open_tree": unix.SYS_OPEN_TREE, "move_mount": unix.SYS_MOVE_MOUNT,
	"fsopen": unix.SYS_FSOPEN, "fsconfig": unix.SYS_FSCONFIG, "fsmount": unix.SYS_FSMOUNT, "fspick": unix.SYS_FSPICK,
	"clone3": unix.SYS_CLONE3, "pidfd_getfd": unix.SYS_PIDFD_GETFD, "process_madvise": unix.SYS_PROCESS_MADVISE,
	"mount_setattr": unix.SYS_MOUNT_SETATTR, "quotactl_fd": unix.SYS_QUOTACTL_FD, "open_tree_attr": unix.SYS_OPEN_TREE_ATTR,
}
