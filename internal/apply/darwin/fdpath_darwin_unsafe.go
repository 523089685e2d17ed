//go:build darwin

package darwin

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdPath returns the path of the file open on fd (fcntl F_GETPATH).
func fdPath(fd int) (string, error) {
	buf := make([]byte, unix.PathMax)
	// F_GETPATH takes a pointer to a MAXPATHLEN buffer; FcntlInt passes
	// the argument through to fcntl(2) unchanged. The buffer is on the
	// heap, which does not move.
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETPATH, int(uintptr(unsafe.Pointer(&buf[0]))))
	runtime.KeepAlive(buf)
	if err != nil {
		return "", err
	}
	return unix.ByteSliceToString(buf), nil
}
