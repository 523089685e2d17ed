//go:build !linux

package seccomp

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// ErrNoNewPrivs is returned (wrapped) by [Filter.Install] on Linux when
// no_new_privs is not set on the calling thread.
var ErrNoNewPrivs = errors.New("no_new_privs is not set on the calling thread")

func unsupported() error {
	return fmt.Errorf("seccomp: system call filters are a Linux kernel feature, not available on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

// Install fails: seccomp exists only on Linux.
func (f *Filter) Install() error { return unsupported() }

// InstallGuard fails: seccomp exists only on Linux.
func (f *Filter) InstallGuard() (*os.File, error) { return nil, unsupported() }

// Verify fails: seccomp exists only on Linux.
func (f *Filter) Verify() error { return unsupported() }

// Supported fails: seccomp exists only on Linux.
func Supported() error { return unsupported() }
