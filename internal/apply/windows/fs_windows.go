package windows

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// winFS implements winplan.FS and winplan.Writer over Win32.
type winFS struct{}

var (
	_ winplan.FS     = winFS{}
	_ winplan.Writer = winFS{}
)

// extendedPath turns a clean absolute path into its \\?\ form, which Win32
// takes literally and without the MAX_PATH limit.
func extendedPath(path string) (string, error) {
	clean, err := winplan.CleanPath(path)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(clean, `\\`) {
		return `\\?\UNC\` + clean[2:], nil
	}
	return `\\?\` + clean, nil
}

func extended(path string) (*uint16, error) {
	p, err := extendedPath(path)
	if err != nil {
		return nil, err
	}
	return windows.UTF16PtrFromString(p)
}

func notFound(err error) bool {
	return errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND)
}

func (winFS) Lstat(path string) (winplan.FileInfo, error) {
	p, err := extended(path)
	if err != nil {
		return winplan.FileInfo{}, err
	}
	var data windows.Win32FileAttributeData
	err = windows.GetFileAttributesEx(p, windows.GetFileExInfoStandard, (*byte)(unsafe.Pointer(&data)))
	if notFound(err) {
		return winplan.FileInfo{}, nil
	}
	if err != nil {
		return winplan.FileInfo{}, err
	}
	return winplan.FileInfo{
		Exists:  true,
		Dir:     data.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0,
		Reparse: data.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0,
		Size:    int64(data.FileSizeHigh)<<32 | int64(data.FileSizeLow),
	}, nil
}

func (winFS) Resolve(path string) (string, error) {
	p, err := extended(path)
	if err != nil {
		return "", err
	}
	h, err := windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return "", err
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_PATH)
	for {
		// Flags 0: FILE_NAME_NORMALIZED | VOLUME_NAME_DOS.
		n, err := windows.GetFinalPathNameByHandle(h, &buf[0], uint32(len(buf)), 0)
		if err != nil {
			return "", err
		}
		if int(n) < len(buf) {
			return winplan.CleanPath(windows.UTF16ToString(buf[:n]))
		}
		buf = make([]uint16, n+1)
	}
}

// securityDescriptor reads obj's DACL, and for the null device returns the
// open handle the DACL must be written back through.
func securityDescriptor(obj winplan.Object, access uint32) (*windows.SECURITY_DESCRIPTOR, windows.Handle, error) {
	if !obj.Kernel {
		p, err := extendedPath(obj.Path)
		if err != nil {
			return nil, 0, err
		}
		sd, err := windows.GetNamedSecurityInfo(p, windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
		return sd, 0, err
	}
	name, err := windows.UTF16PtrFromString(obj.Path)
	if err != nil {
		return nil, 0, err
	}
	h, err := windows.CreateFile(name, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return nil, 0, err
	}
	sd, err := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		windows.CloseHandle(h)
		return nil, 0, err
	}
	return sd, h, nil
}

// daclOf returns sd's DACL pointer; nil with null=true for a NULL DACL.
func daclOf(sd *windows.SECURITY_DESCRIPTOR) (acl *windows.ACL, null bool, err error) {
	acl, _, err = sd.DACL()
	if errors.Is(err, windows.ERROR_OBJECT_NOT_FOUND) {
		return nil, true, nil // no DACL at all: everyone may do anything
	}
	if err != nil {
		return nil, false, err
	}
	return acl, acl == nil, nil
}

func (winFS) ReadDACL(obj winplan.Object) (winplan.DACL, error) {
	sd, h, err := securityDescriptor(obj, windows.READ_CONTROL)
	if err != nil {
		return winplan.DACL{}, err
	}
	if h != 0 {
		defer windows.CloseHandle(h)
	}
	control, _, err := sd.Control()
	if err != nil {
		return winplan.DACL{}, fmt.Errorf("reading the security descriptor's control bits: %w", err)
	}
	acl, null, err := daclOf(sd)
	if err != nil || null {
		return winplan.DACL{Null: null}, err
	}
	// Decode the ACL's own bytes: every ACE type round-trips, also those
	// cordon does not reason about.
	hdr := unsafe.Slice((*byte)(unsafe.Pointer(acl)), 8)
	size := int(hdr[2]) | int(hdr[3])<<8 // ACL.AclSize, unexported in x/sys
	aces, err := winplan.DecodeACL(unsafe.Slice((*byte)(unsafe.Pointer(acl)), size))
	runtime.KeepAlive(sd)
	if err != nil {
		return winplan.DACL{}, err
	}
	return winplan.DACL{ACEs: aces, Protected: control&windows.SE_DACL_PROTECTED != 0}, nil
}

// Volume asks the system what kind of drive the path's volume is
// (GetDriveType on its root: a mapped letter reports DRIVE_REMOTE) and
// whether its file system keeps ACLs (GetVolumeInformationByHandle on the
// path itself, so a volume mounted in a folder is the one asked).
func (winFS) Volume(path string) (winplan.VolumeInfo, error) {
	root, err := winplan.VolumeRoot(path)
	if err != nil {
		return winplan.VolumeInfo{}, err
	}
	r16, err := windows.UTF16PtrFromString(root)
	if err != nil {
		return winplan.VolumeInfo{}, err
	}
	v := winplan.VolumeInfo{Remote: windows.GetDriveType(r16) == windows.DRIVE_REMOTE}
	p, err := extended(path)
	if err != nil {
		return v, err
	}
	h, err := windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return v, err
	}
	defer windows.CloseHandle(h)
	var flags uint32
	name := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumeInformationByHandle(h, nil, 0, nil, nil, &flags, &name[0], uint32(len(name))); err != nil {
		return v, fmt.Errorf("GetVolumeInformationByHandle: %w", err)
	}
	v.ACLs = flags&windows.FILE_PERSISTENT_ACLS != 0
	v.FileSystem = windows.UTF16ToString(name)
	return v, nil
}

func (winFS) ReadDir(path string, max int) ([]winplan.DirEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries, err := f.ReadDir(max)
	if err != nil && len(entries) == 0 {
		return nil, err
	}
	out := make([]winplan.DirEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, winplan.DirEntry{
			Name:    e.Name(),
			Dir:     e.IsDir(),
			Reparse: e.Type()&(os.ModeSymlink|os.ModeIrregular) != 0,
		})
	}
	return out, nil
}

func (winFS) Create(path string, dir bool) error {
	p, err := extended(path)
	if err != nil {
		return err
	}
	if dir {
		return windows.CreateDirectory(p, nil)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, 0, nil, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return err
	}
	return windows.CloseHandle(h)
}

// WriteDACL writes d, encoded by winplan, as obj's DACL; for a file or
// directory SetNamedSecurityInfo keeps the inherited ACEs in line with the
// parent and propagates inheritable ACEs below a directory.
func (winFS) WriteDACL(obj winplan.Object, d winplan.DACL) error {
	if d.Null {
		return fmt.Errorf("%s: refusing to write a NULL DACL", obj.Path)
	}
	b, err := winplan.EncodeACL(d.ACEs)
	if err != nil {
		return err
	}
	// An ACL must be DWORD-aligned.
	buf := make([]uint32, (len(b)+3)/4)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(b)), b)
	acl := (*windows.ACL)(unsafe.Pointer(&buf[0]))
	defer runtime.KeepAlive(buf)
	if obj.Kernel {
		_, h, err := securityDescriptor(obj, windows.READ_CONTROL|windows.WRITE_DAC)
		if err != nil {
			return err
		}
		defer windows.CloseHandle(h)
		return windows.SetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION, nil, nil, acl, nil)
	}
	p, err := extendedPath(obj.Path)
	if err != nil {
		return err
	}
	info := windows.SECURITY_INFORMATION(windows.DACL_SECURITY_INFORMATION)
	if d.Protected {
		info |= windows.PROTECTED_DACL_SECURITY_INFORMATION
	}
	return windows.SetNamedSecurityInfo(p, windows.SE_FILE_OBJECT, info, nil, nil, acl, nil)
}

func (f winFS) RemoveIfEmpty(path string, dir bool) (bool, error) {
	p, err := extended(path)
	if err != nil {
		return false, err
	}
	if dir {
		err := windows.RemoveDirectory(p)
		switch {
		case err == nil:
			return true, nil
		case notFound(err) || errors.Is(err, windows.ERROR_DIR_NOT_EMPTY):
			return false, nil
		}
		return false, err
	}
	info, err := f.Lstat(path)
	if err != nil || !info.Exists || info.Dir || info.Size > 0 {
		return false, err
	}
	if err := windows.DeleteFile(p); err != nil && !notFound(err) {
		return false, err
	}
	return true, nil
}
