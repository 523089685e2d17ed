//go:build !windows

package windows

import (
	"context"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// Sandbox is a prepared Windows sandbox; on this system none can be made.
type Sandbox struct{}

// Prepare returns ErrUnsupported: this is not Windows.
func Prepare(context.Context, winplan.Input) (*Sandbox, error) { return nil, ErrUnsupported }

// Facts returns nothing: no sandbox exists here.
func (*Sandbox) Facts() []winplan.Fact { return nil }

// Run returns ErrUnsupported: this is not Windows.
func (*Sandbox) Run(context.Context, Command) (Result, error) { return Result{}, ErrUnsupported }

// Close does nothing.
func (*Sandbox) Close() error { return nil }

// Cleanup returns ErrUnsupported: this is not Windows.
func Cleanup(context.Context, string) (winplan.CleanupResult, error) {
	return winplan.CleanupResult{}, ErrUnsupported
}

// Doctor returns ErrUnsupported: this is not Windows.
func Doctor(context.Context, string) ([]winplan.Fact, error) { return nil, ErrUnsupported }

// DefaultStateDir returns ErrUnsupported: this is not Windows.
func DefaultStateDir() (string, error) { return "", ErrUnsupported }

// Setup returns ErrUnsupported: this is not Windows.
func Setup(context.Context, string, winplan.SetupInput) (*winplan.SetupLedger, error) {
	return nil, ErrUnsupported
}

// Undo returns ErrUnsupported: this is not Windows.
func Undo(context.Context, string) error { return ErrUnsupported }

// Elevated is the elevated mode as the setup left it; none here.
type Elevated struct {
	Account    winplan.SandboxAccount
	ProxyPorts []int
}

// ElevatedSetup returns ErrUnsupported: this is not Windows.
func ElevatedSetup(string, string) (*Elevated, error) { return nil, ErrUnsupported }

// RunnerMain reports that the runner runs only on Windows.
func RunnerMain() int { return 2 }
