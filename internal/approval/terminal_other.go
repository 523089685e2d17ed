//go:build !linux && !darwin

package approval

import (
	"errors"
	"os"
)

// openTerminal: the terminal prompt is not implemented on this system, so
// the channel reports itself unavailable and the others are tried.
func openTerminal() (*os.File, string, error) {
	return nil, "", errors.New("the terminal prompt is not implemented on this operating system yet")
}

func flushInput(ttyFile) {}
