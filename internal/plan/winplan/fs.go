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
	// Links is the number of names of a file (1 unless hard-linked).
	Links int
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
	// ReadDACL returns obj's DACL, explicit and inherited ACEs in order,
	// with its owner and group; a reparse point at the end of the path is
	// not followed.
	ReadDACL(obj Object) (DACL, error)
	// ReadDir lists at most max entries of the directory path.
	ReadDir(path string, max int) ([]DirEntry, error)
	// Volume describes the volume the existing path lies on.
	Volume(path string) (VolumeInfo, error)
	// ReadFile returns at most max bytes of the file path.
	ReadFile(path string, max int) ([]byte, error)
}

// Writer is what reconciling and cleaning up change on the system. Every
// change is made on exactly the object named (review M9): a path whose
// final form, reached component by component, is not the path given (a
// component swapped for a junction) is refused, and so is an object that is
// itself a reparse point; nothing follows a link.
type Writer interface {
	// Create makes a directory, or a file holding content, at path, inside
	// its parent directory opened first and checked as above; it fails if
	// path exists, also as a link.
	Create(path string, dir bool, content []byte) error
	// WriteDACL makes d obj's whole DACL: its ACEs in the order given
	// (Other ACEs byte for byte), d.Protected, and the auto-inherited flag.
	// It does not propagate anything below a directory: Reconcile does that
	// itself, so that it can skip reparse points and hard links.
	WriteDACL(obj Object, d DACL) error
	// RemovePlaceholder removes path if it is still what Create made: an
	// empty directory (dir), or a file holding exactly content, and not a
	// link; it reports whether it did.
	RemovePlaceholder(path string, dir bool, content []byte) (bool, error)
}
