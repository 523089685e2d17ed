package linuxinit

// arm64 has only the *at forms of the path system calls; these numbers
// match no call.
const (
	sysOpen    = -1
	sysCreat   = -2
	sysMkdir   = -3
	sysMknod   = -4
	sysRename  = -5
	sysLink    = -6
	sysSymlink = -7
)
