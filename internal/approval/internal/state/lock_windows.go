package state

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// oNoFollow: Windows has no O_NOFOLLOW; the state directory lives in the
// user's profile, which other users cannot write.
const oNoFollow = 0

func tryLock(f *os.File, exclusive bool) (bool, error) {
	var flags uint32 = windows.LOCKFILE_FAIL_IMMEDIATELY
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, new(windows.Overlapped))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	default:
		return false, err
	}
}

func unlock(f *os.File) {
	_ = windows.UnlockFileEx(windows.Handle(f.Fd()), 0, 1, 0, new(windows.Overlapped))
}

// checkPrivate: file modes mean little on Windows and the profile
// directory's ACL already keeps other users out; ownership is not checked.
func checkPrivate(string, os.FileInfo) error { return nil }
