package fswatch

// watchable says whether inotify on a filesystem of this statfs type sees
// every change to it, whoever makes it and through whichever mount: true
// of local filesystems, whose changes all pass through this kernel. Not of
// network filesystems (a change on the server or another client is never
// reported), FUSE (the daemon can change what it serves silently) or
// pseudo filesystems (proc, sysfs).
func watchable(fsType int64) bool {
	switch uint32(fsType) {
	case 0xEF53, // ext2, ext3, ext4
		0x58465342, // xfs
		0x9123683E, // btrfs
		0x01021994, // tmpfs
		0x794C7630, // overlayfs: changes to its lower layers while mounted are undefined behaviour anyway
		0xF2F52010, // f2fs
		0x2FC12FC1, // zfs
		0xCA451A4E: // bcachefs
		return true
	}
	return false
}
