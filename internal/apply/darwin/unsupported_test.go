//go:build !darwin

package darwin

import (
	"errors"
	"os"
	"testing"
)

// TestUnsupported: off macOS every entry point says so, and none pretends
// to have run anything.
func TestUnsupported(t *testing.T) {
	if _, err := Start(Spec{Argv: []string{"true"}}, os.Stdin, os.Stdout, os.Stderr); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Start: %v", err)
	}
	if _, _, err := KillRun(1); !errors.Is(err, ErrUnsupported) {
		t.Errorf("KillRun: %v", err)
	}
	if err := CheckSandboxExec(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("CheckSandboxExec: %v", err)
	}
	os.Args = append(os.Args[:1], WatcherArg)
	Main() // returns: there is no watcher role here
}
