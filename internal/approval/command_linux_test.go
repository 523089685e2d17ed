package approval

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommandApproverTimeoutKillsItsProcesses(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	argv := script(t, `sleep 600 & echo $! > "$1"; wait`)
	argv = append(argv, pidFile)
	ans, err := Chain(300*time.Millisecond, NewCommand(argv)).Ask(context.Background(), Request{Command: "terraform apply"})
	if err != nil || ans.Allowed() || !ans.TimedOut || ans.Channel != ChannelCommand {
		t.Fatalf("answer = %+v, %v; want a timed-out deny", ans, err)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the approver never started its helper: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	// The helper was killed with the group; it may linger as a zombie
	// for a moment until init reaps it, so look at its state.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || strings.Contains(string(stat), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the approver's helper (pid %d) outlived the question", pid)
		}
	}
}
