//go:build linux || darwin

package approval

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openTerminal opens the controlling terminal and returns it with an id
// that names the terminal device. Without a controlling terminal, opening
// /dev/tty fails with ENXIO.
func openTerminal() (*os.File, string, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		if errors.Is(err, unix.ENXIO) || errors.Is(err, unix.ENODEV) || errors.Is(err, os.ErrNotExist) {
			return nil, "", errors.New("cordon has no controlling terminal")
		}
		return nil, "", fmt.Errorf("cannot open the controlling terminal: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, "", fmt.Errorf("cannot inspect the controlling terminal: %w", err)
	}
	return f, strconv.FormatUint(uint64(st.Rdev), 16), nil
}
