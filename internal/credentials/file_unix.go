//go:build unix

package credentials

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// readSecretFile reads a secret file after checking, on the open file
// itself (so the file checked is the file read), that it is a regular file
// owned by this user that nobody else can read or write. A symbolic link is
// refused even when it points at such a file: whoever controls the link's
// directory could point it elsewhere.
func readSecretFile(path string) (string, error) {
	if fi, err := os.Lstat(path); err != nil {
		return "", notReadable(err)
	} else if fi.Mode()&fs.ModeSymlink != 0 {
		return "", errors.New("is a symbolic link; cordon reads secrets only from a regular file (point from_file at the link's target)")
	}
	// O_NOFOLLOW refuses a link swapped in after the Lstat; O_NONBLOCK keeps a
	// FIFO from blocking the open (it is refused below as not regular).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return "", errors.New("is a symbolic link; cordon reads secrets only from a regular file (point from_file at the link's target)")
		}
		return "", notReadable(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", notReadable(err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("is not a regular file (%v); put the secret in a plain file", fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok {
		return "", errors.New("its owner cannot be determined on this system, so cordon does not read it")
	} else if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
		return "", fmt.Errorf("belongs to user id %d, not to you (%d); a secret file must be your own: chown it, or copy the secret into a file of yours with mode 600", st.Uid, uid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("has mode %04o, so others on this machine can read or change it; run chmod 600 on it", perm)
	}
	if fi.Size() > maxSecretLen {
		return "", fmt.Errorf("is larger than %d bytes, which is no credential; check that from_file names the right file", maxSecretLen)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSecretLen+1))
	if err != nil {
		return "", notReadable(err)
	}
	if len(data) > maxSecretLen {
		return "", fmt.Errorf("is larger than %d bytes, which is no credential; check that from_file names the right file", maxSecretLen)
	}
	return string(data), nil
}

// notReadable describes a failure to open or read the file. The errors of
// package os name the path and the cause, never the contents.
func notReadable(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return errors.New("does not exist; create it (mode 600) with the secret, or fix the path")
	}
	return fmt.Errorf("cannot be read: %w", err)
}
