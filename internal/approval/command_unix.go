//go:build unix

package approval

import (
	"os/exec"
	"syscall"
)

// killGroup makes the approver command the leader of its own process group
// and kills the whole group when the question ends, so that a helper it
// started does not live on.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
