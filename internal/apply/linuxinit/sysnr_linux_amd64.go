package linuxinit

import "golang.org/x/sys/unix"

// The old path system calls that amd64 still has and arm64 never had; the
// supervisor serves them like their *at forms.
const (
	sysOpen    = unix.SYS_OPEN
	sysCreat   = unix.SYS_CREAT
	sysMkdir   = unix.SYS_MKDIR
	sysMknod   = unix.SYS_MKNOD
	sysRename  = unix.SYS_RENAME
	sysLink    = unix.SYS_LINK
	sysSymlink = unix.SYS_SYMLINK
)
