package approval

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushInput discards what was typed on the terminal but not yet read.
func flushInput(f ttyFile) {
	if tty, ok := f.(*os.File); ok {
		_ = unix.IoctlSetInt(int(tty.Fd()), unix.TCFLSH, unix.TCIFLUSH)
	}
}
