package windows

import (
	"errors"
	"os"
	"time"
)

// ErrUnsupported is returned by every entry point on systems other than
// Windows.
var ErrUnsupported = errors.New("the Windows sandbox runs only on Windows")

// ExitTimeout is the exit status reported when the command ran out of time
// and its job was killed, as timeout(1) and cordon on Linux report it.
const ExitTimeout = 124

// Command is one command to run in a prepared sandbox.
type Command struct {
	// Args is the program and its arguments; Args[0] is looked up in the
	// sandbox environment's PATH, never in the current directory.
	Args []string
	// Dir is the working directory; empty means the workspace.
	Dir string
	// Stdin, Stdout and Stderr are the only handles the command inherits;
	// nil means the null device.
	Stdin, Stdout, Stderr *os.File
}

// Result is how the command ended.
type Result struct {
	// ExitCode is the command's own exit code (Windows codes are 32-bit:
	// 0xC0000005 for an access violation), or ExitTimeout when it timed out.
	ExitCode int
	TimedOut bool
	Duration time.Duration
}
