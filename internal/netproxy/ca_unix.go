//go:build unix

package netproxy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// maxKeyFile bounds what readKeyFile reads: a key and a certificate take
// about 1 KiB.
const maxKeyFile = 64 << 10

// readKeyFile reads the CA's key file after checking, on the open file
// itself, that it is a regular file (not a symbolic link) owned by this user
// that nobody else can read or write. A missing file is an error wrapping
// fs.ErrNotExist.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, errors.New("is a symbolic link; the CA key must be a regular file")
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no CA yet: %w", fs.ErrNotExist)
		}
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("is not a regular file (%v)", fi.Mode().Type())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok {
		return nil, errors.New("its owner cannot be determined on this system")
	} else if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
		return nil, fmt.Errorf("belongs to user id %d, not to you (%d); remove it and run `cordon ca rotate`", st.Uid, uid)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("has mode %04o, so others on this machine may have read the CA key; run `cordon ca rotate` to replace it", perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("is larger than %d bytes, which is no CA key file", maxKeyFile)
	}
	return data, nil
}
