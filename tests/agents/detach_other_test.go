//go:build !linux

package agents

import "os/exec"

// detach is a no-op where the tests cannot run anyway: cordon's sandbox
// runs these end-to-end tests on Linux.
func detach(cmd *exec.Cmd) *exec.Cmd { return cmd }
