//go:build !windows

package windows

import (
	"context"
	"errors"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

// Off Windows every entry point says so; none pretends to sandbox.
func TestUnsupportedOffWindows(t *testing.T) {
	ctx := context.Background()
	if sb, err := Prepare(ctx, winplan.Input{}); sb != nil || !errors.Is(err, ErrUnsupported) {
		t.Errorf("Prepare = %v, %v", sb, err)
	}
	if _, err := (&Sandbox{}).Run(ctx, Command{Args: []string{"x"}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Run = %v", err)
	}
	if _, err := Cleanup(ctx, t.TempDir()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Cleanup = %v", err)
	}
	if facts, err := Doctor(ctx, ""); facts != nil || !errors.Is(err, ErrUnsupported) {
		t.Errorf("Doctor = %v, %v", facts, err)
	}
	if _, err := DefaultStateDir(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("DefaultStateDir = %v", err)
	}
}
