//go:build darwin

package darwin

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// sZomb is a zombie's p_stat (<sys/proc.h>): it has ended and only waits
// to be reaped, so there is nothing left to kill.
const sZomb = 5

// darwinTable reads the process table: the processes whose real user is
// uid (a run's processes keep the user's real uid, a setuid program's too).
type darwinTable struct{ uid int }

func (t darwinTable) start(pid int) int64 { return procStart(pid) }

func (t darwinTable) snapshot() ([]macplan.Proc, error) {
	uid := t.uid
	kps, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, fmt.Errorf("read the process table (sysctl kern.proc.all): %w", err)
	}
	out := make([]macplan.Proc, 0, len(kps))
	for i := range kps {
		kp := &kps[i]
		if kp.Proc.P_stat == sZomb || int(kp.Eproc.Pcred.P_ruid) != uid {
			continue
		}
		pid := int(kp.Proc.P_pid)
		sid, err := unix.Getsid(pid)
		if err != nil {
			continue // gone since the table was read
		}
		out = append(out, macplan.Proc{
			PID: pid, PPID: int(kp.Eproc.Ppid), PGID: int(kp.Eproc.Pgid), SID: sid,
			Start: startOf(kp),
		})
	}
	return out, nil
}

func startOf(kp *unix.KinfoProc) int64 {
	return kp.Proc.P_starttime.Sec*1_000_000 + int64(kp.Proc.P_starttime.Usec)
}

// procStart returns when pid started, or 0 if it is gone.
func procStart(pid int) int64 {
	kp, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || int(kp.Proc.P_pid) != pid {
		return 0
	}
	return startOf(kp)
}

// userProcesses counts the processes of the real user, which macOS's
// RLIMIT_NPROC counts.
func userProcesses() int {
	ps, err := darwinTable{uid: os.Getuid()}.snapshot()
	if err != nil {
		return 0
	}
	return len(ps)
}
