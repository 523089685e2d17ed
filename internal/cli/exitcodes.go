package cli

import "errors"

// Exit statuses of cordon itself. A command run in the sandbox passes its own
// status through unchanged (0 to 255, or 128+N when killed by signal N); the
// codes below follow the conventions of env(1), timeout(1) and the shell so
// that a caller can tell cordon's failures from the command's.
const (
	ExitOK = 0
	// ExitTimeout: the command ran out of time and was killed with all its
	// processes (as timeout(1)).
	ExitTimeout = 124
	// ExitSetup: cordon could not start the command: bad usage, an invalid
	// policy, or a sandbox layer the machine cannot apply.
	ExitSetup = 125
	// ExitCannotExecute: the command was found but could not be executed.
	ExitCannotExecute = 126
	// ExitNotFound: the command was not found inside the sandbox.
	ExitNotFound = 127
)

// exitError carries an exit status through cobra. A silent one has already
// been reported (or is the command's own status) and prints nothing.
type exitError struct {
	code   int
	silent bool
	err    error
}

func (e *exitError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return "exit status"
}

func (e *exitError) Unwrap() error { return e.err }

// exitCoder is implemented by errors that choose cordon's exit status.
type exitCoder interface {
	ExitCode() int
}

func exitCodeOf(err error) int {
	var ec exitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitSetup
}
