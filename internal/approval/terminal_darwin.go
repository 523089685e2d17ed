package approval

import (
	"os"

	"golang.org/x/sys/unix"
)

// flushInput discards what was typed on the terminal but not yet read
// (tcflush(TCIFLUSH) is TIOCFLUSH with FREAD on Darwin).
func flushInput(f ttyFile) {
	const fread = 1
	if tty, ok := f.(*os.File); ok {
		_ = unix.IoctlSetPointerInt(int(tty.Fd()), unix.TIOCFLUSH, fread)
	}
}
