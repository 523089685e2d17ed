package windows

import (
	"errors"
	"fmt"
	"io"
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
	info := winplan.FileInfo{
		Exists:  true,
		Dir:     data.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0,
		Reparse: data.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0,
		Size:    int64(data.FileSizeHigh)<<32 | int64(data.FileSizeLow),
		Links:   1,
	}
	if !info.Dir {
		// Only a handle tells the number of names; the propagation walk
		// leaves hard-linked files alone.
		h, bh, err := openObject(path, windows.FILE_READ_ATTRIBUTES, false)
		if err != nil {
			return winplan.FileInfo{}, err
		}
		windows.CloseHandle(h)
		info.Links = int(bh.NumberOfLinks)
	}
	return info, nil
}

// errMoved: the object reached is not at the path asked for.
var errMoved = errors.New("the path leads elsewhere: one of its components was replaced by a link or junction")

// openObject opens path itself, a reparse point at its end not followed
// (FILE_FLAG_OPEN_REPARSE_POINT), and returns the handle with the object's
// information. With verify, the handle's final path must be path: a
// component on the way replaced by a junction (after cordon checked it)
// makes the two differ, and the open is refused (review M9).
func openObject(path string, access uint32, verify bool) (windows.Handle, windows.ByHandleFileInformation, error) {
	var bh windows.ByHandleFileInformation
	p, err := extended(path)
	if err != nil {
		return 0, bh, err
	}
	h, err := windows.CreateFile(p, access, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_FLAG_BACKUP_SEMANTICS|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return 0, bh, err
	}
	if err := windows.GetFileInformationByHandle(h, &bh); err != nil {
		windows.CloseHandle(h)
		return 0, bh, fmt.Errorf("GetFileInformationByHandle %s: %w", path, err)
	}
	if verify {
		final, err := finalPath(h)
		if err == nil {
			want, _ := winplan.PathKey(path)
			got, _ := winplan.PathKey(final)
			if got != want {
				err = fmt.Errorf("%s is %s: %w", path, final, errMoved)
			}
		}
		if err != nil {
			windows.CloseHandle(h)
			return 0, bh, err
		}
	}
	return h, bh, nil
}

// finalPath returns the final path of an open handle.
func finalPath(h windows.Handle) (string, error) {
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
	return finalPath(h)
}

// securityDescriptor reads obj's security descriptor through a handle
// (a reparse point at the end of a file path not followed), and returns the
// open handle.
func securityDescriptor(obj winplan.Object, access uint32) (*windows.SECURITY_DESCRIPTOR, windows.Handle, error) {
	if !obj.Kernel {
		h, _, err := openObject(obj.Path, access, false)
		if err != nil {
			return nil, 0, err
		}
		sd, err := windows.GetSecurityInfo(h, windows.SE_FILE_OBJECT,
			windows.DACL_SECURITY_INFORMATION|windows.OWNER_SECURITY_INFORMATION|windows.GROUP_SECURITY_INFORMATION)
		if err != nil {
			windows.CloseHandle(h)
			return nil, 0, err
		}
		return sd, h, nil
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
	d := winplan.DACL{ACEs: aces, Protected: control&windows.SE_DACL_PROTECTED != 0}
	if owner, _, err := sd.Owner(); err == nil && owner != nil {
		d.Owner = winplan.SID(owner.String())
	}
	if group, _, err := sd.Group(); err == nil && group != nil {
		d.Group = winplan.SID(group.String())
	}
	return d, nil
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

func (winFS) ReadFile(path string, max int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(max)))
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

// Create makes path inside its parent directory, which is opened first and
// checked (openObject with verify, not a reparse point); the new name is
// created relative to that handle with FILE_CREATE, so neither a swapped
// parent nor an existing link at path can redirect it.
func (winFS) Create(path string, dir bool, content []byte) error {
	clean, err := winplan.CleanPath(path)
	if err != nil {
		return err
	}
	parent, name := winplan.Split(clean)
	if name == "" {
		return fmt.Errorf("%s: cannot create a volume root", path)
	}
	ph, pinfo, err := openObject(parent, windows.FILE_TRAVERSE|windows.SYNCHRONIZE, true)
	if err != nil {
		return fmt.Errorf("opening the parent of %s: %w", path, err)
	}
	defer windows.CloseHandle(ph)
	if pinfo.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		return fmt.Errorf("the parent of %s is a link or junction: %w", path, errMoved)
	}
	u, err := windows.NewNTUnicodeString(name)
	if err != nil {
		return err
	}
	oa := windows.OBJECT_ATTRIBUTES{RootDirectory: ph, ObjectName: u, Attributes: windows.OBJ_CASE_INSENSITIVE}
	oa.Length = uint32(unsafe.Sizeof(oa))
	access := uint32(windows.FILE_GENERIC_WRITE | windows.SYNCHRONIZE)
	options := uint32(windows.FILE_NON_DIRECTORY_FILE | windows.FILE_SYNCHRONOUS_IO_NONALERT | windows.FILE_OPEN_REPARSE_POINT)
	if dir {
		access = windows.FILE_LIST_DIRECTORY | windows.SYNCHRONIZE
		options = windows.FILE_DIRECTORY_FILE | windows.FILE_SYNCHRONOUS_IO_NONALERT | windows.FILE_OPEN_REPARSE_POINT
	}
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, access, &oa, &iosb, nil, windows.FILE_ATTRIBUTE_NORMAL,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, windows.FILE_CREATE, options, 0, 0)
	runtime.KeepAlive(u)
	if err != nil {
		return fmt.Errorf("NtCreateFile %s: %w", path, err)
	}
	defer windows.CloseHandle(h)
	if len(content) > 0 {
		var n uint32
		if err := windows.WriteFile(h, content, &n, nil); err != nil || int(n) != len(content) {
			return fmt.Errorf("writing placeholder %s: %v (%d of %d bytes)", path, err, n, len(content))
		}
	}
	return nil
}

// WriteDACL writes d, encoded by winplan, as obj's whole DACL, through a
// handle to the object itself (openObject with verify), never propagating.
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
	h, info, err := openObject(obj.Path, windows.READ_CONTROL|windows.WRITE_DAC, true)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	if info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		return fmt.Errorf("%s is a link or junction; cordon changes the ACLs of real files and directories only: %w", obj.Path, errMoved)
	}
	sd, err := windows.NewSecurityDescriptor()
	if err != nil {
		return err
	}
	if err := sd.SetDACL(acl, true, false); err != nil {
		return err
	}
	control := windows.SECURITY_DESCRIPTOR_CONTROL(windows.SE_DACL_AUTO_INHERITED)
	if d.Protected {
		control |= windows.SE_DACL_PROTECTED
	}
	if err := sd.SetControl(windows.SE_DACL_AUTO_INHERITED|windows.SE_DACL_PROTECTED, control); err != nil {
		return err
	}
	// NtSetSecurityObject on the handle: exactly this DACL on exactly this
	// object, with no propagation below it (winplan walks the tree itself).
	return windows.SetKernelObjectSecurity(h, windows.DACL_SECURITY_INFORMATION, sd)
}

// RemovePlaceholder deletes path, by a handle to it that openObject
// checked, if it is still an empty directory or a file holding exactly
// content, and not a link.
func (f winFS) RemovePlaceholder(path string, dir bool, content []byte) (bool, error) {
	h, info, err := openObject(path, windows.DELETE|windows.FILE_READ_DATA|windows.FILE_READ_ATTRIBUTES|windows.SYNCHRONIZE, true)
	if notFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer windows.CloseHandle(h)
	isDir := info.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0
	if info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 || isDir != dir {
		return false, nil
	}
	if !dir {
		size := int64(info.FileSizeHigh)<<32 | int64(info.FileSizeLow)
		if size != int64(len(content)) {
			return false, nil
		}
		if size > 0 {
			buf := make([]byte, size)
			var n uint32
			if err := windows.ReadFile(h, buf, &n, nil); err != nil || int64(n) != size || string(buf) != string(content) {
				return false, err
			}
		}
	}
	// FILE_DISPOSITION_INFO is one BOOLEAN; a directory that is not empty
	// refuses it.
	var disposition byte = 1
	err = windows.SetFileInformationByHandle(h, windows.FileDispositionInfo, &disposition, 1)
	if errors.Is(err, windows.ERROR_DIR_NOT_EMPTY) {
		return false, nil
	}
	return err == nil, err
}

// removeTree deletes path and everything below it without ever following a
// link: each object is opened by openObject (checked), a reparse point is
// deleted as the link it is, and a directory is listed only after its
// handle showed it is a real one. It is how cordon removes its own temp
// directories, in which the command may have left junctions to anywhere.
func removeTree(path string) error {
	h, info, err := openObject(path, windows.FILE_READ_ATTRIBUTES, true)
	if notFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	windows.CloseHandle(h)
	attrs := info.FileAttributes
	if attrs&windows.FILE_ATTRIBUTE_DIRECTORY != 0 && attrs&windows.FILE_ATTRIBUTE_REPARSE_POINT == 0 {
		d, err := os.Open(path)
		if err != nil {
			return err
		}
		entries, err := d.ReadDir(-1)
		d.Close()
		if err != nil {
			return err
		}
		var errs []error
		for _, e := range entries {
			if err := removeTree(path + `\` + e.Name()); err != nil {
				errs = append(errs, err)
			}
		}
		if len(errs) > 0 {
			return errors.Join(errs...)
		}
	}
	if attrs&windows.FILE_ATTRIBUTE_READONLY != 0 {
		if p, err := extended(path); err == nil {
			windows.SetFileAttributes(p, attrs&^windows.FILE_ATTRIBUTE_READONLY)
		}
	}
	// Opened again, checked again: what is deleted is what was looked at,
	// or an object of the same path that is no link either.
	h, info, err = openObject(path, windows.DELETE|windows.SYNCHRONIZE, true)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	if (info.FileAttributes^attrs)&(windows.FILE_ATTRIBUTE_DIRECTORY|windows.FILE_ATTRIBUTE_REPARSE_POINT) != 0 {
		return fmt.Errorf("%s changed while cordon was removing it: %w", path, errMoved)
	}
	var disposition byte = 1
	if err := windows.SetFileInformationByHandle(h, windows.FileDispositionInfo, &disposition, 1); err != nil {
		return fmt.Errorf("deleting %s: %w", path, err)
	}
	return nil
}
