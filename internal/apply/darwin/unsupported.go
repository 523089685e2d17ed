//go:build !darwin

package darwin

import (
	"os"
	"syscall"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// Run is a started run; on this system none can be started.
type Run struct{}

// Start returns ErrUnsupported: this is not macOS.
func Start(Spec, *os.File, *os.File, *os.File) (*Run, error) { return nil, ErrUnsupported }

// Messages returns nil: no run exists here.
func (*Run) Messages() <-chan Message { return nil }

// Done returns nil: no run exists here.
func (*Run) Done() <-chan error { return nil }

// Signal returns ErrUnsupported: this is not macOS.
func (*Run) Signal(syscall.Signal) error { return ErrUnsupported }

// Stop returns ErrUnsupported: this is not macOS.
func (*Run) Stop() error { return ErrUnsupported }

// Close does nothing.
func (*Run) Close() error { return nil }

// KillRun returns ErrUnsupported: this is not macOS.
func KillRun(int) (int, []int, error) { return 0, nil, ErrUnsupported }

// Main returns at once: there are no macOS roles to take on here.
func Main() {}

// Facts are what the planner needs to know about a Mac.
type Facts struct {
	UserProcesses   int
	CaseInsensitive bool
	Stdio           []macplan.Stdio
}

// HostFacts returns no facts: this is not macOS.
func HostFacts(string, ...*os.File) Facts { return Facts{} }

// SystemVersion returns "": this is not macOS.
func SystemVersion() string { return "" }

// CheckSandboxExec returns ErrUnsupported: this is not macOS.
func CheckSandboxExec() error { return ErrUnsupported }
