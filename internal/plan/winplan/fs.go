package winplan

// Object names what an ACE is set on: a file or directory, or a kernel object
// such as the null device.
type Object struct {
	Path   string
	Kernel bool
}

// NullDevice is \\.\NUL, whose DACL the sandbox needs to pass for shell
// redirections to NUL. Its DACL lives in memory and is reset at reboot.
var NullDevice = Object{Path: `\\.\NUL`, Kernel: true}

// FileInfo describes one path without following a reparse point at its end.
type FileInfo struct {
	Exists bool
	Dir    bool
	// Reparse is set for symbolic links, junctions and other reparse points.
	Reparse bool
	Size    int64
}

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name    string
	Dir     bool
	Reparse bool
}

// VolumeInfo describes the volume a path lies on.
type VolumeInfo struct {
	// Remote is set for network shares and mapped network drives
	// (GetDriveType: DRIVE_REMOTE).
	Remote bool
	// ACLs is set when the file system keeps ACLs (FILE_PERSISTENT_ACLS):
	// NTFS and ReFS, not FAT or exFAT.
	ACLs bool
	// FileSystem is the file system's name (NTFS, FAT32), for messages.
	FileSystem string
}

// FS is what planning, reconciling and scanning read from the system.
// internal/apply/windows implements it over Win32; tests use a fake.
type FS interface {
	// Lstat describes path; a path that does not exist gives Exists=false
	// and no error.
	Lstat(path string) (FileInfo, error)
	// Resolve returns the final path of an existing path, every link and
	// junction on the way followed.
	Resolve(path string) (string, error)
	// ReadDACL returns obj's DACL, explicit and inherited ACEs in order.
	ReadDACL(obj Object) (DACL, error)
	// ReadDir lists at most max entries of the directory path.
	ReadDir(path string, max int) ([]DirEntry, error)
	// Volume describes the volume the existing path lies on.
	Volume(path string) (VolumeInfo, error)
}

// Writer is what reconciling and cleaning up change on the system.
type Writer interface {
	// Create makes an empty directory or file at path, whose parent exists;
	// it fails if path exists.
	Create(path string, dir bool) error
	// WriteDACL replaces obj's DACL with d: its explicit ACEs in the order
	// given (Other ACEs byte for byte), and d.Protected. The inherited ACEs
	// in d are those read; the system keeps them in line with the parent.
	// A directory's inheritable ACEs then reach the objects below it.
	WriteDACL(obj Object, d DACL) error
	// RemoveIfEmpty removes path if it is an empty directory (dir) or an
	// empty file, and reports whether it did.
	RemoveIfEmpty(path string, dir bool) (bool, error)
}
