//go:build darwin

package darwin

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// sZomb is a zombie's p_stat (<sys/proc.h>): it has ended and only waits
// to be reaped, so there is nothing left to kill.
const sZomb = 5

// snapshot reads the process table: the processes whose real user is uid
// (a run's processes keep the user's real uid, a setuid program's too).
func snapshot(uid int) ([]macplan.Proc, error) {
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

// killRounds bounds the kill phase: each round kills what a look at the
// table finds, until a look finds nothing.
const killRounds = 64

// killAll kills every process of the run, and the groups they are in,
// until none is left. It returns how many it killed and any it could not.
func killAll(tree *macplan.Tree, uid int) (killed int, survivors []int, err error) {
	seen := map[int]bool{}
	var pids []int
	for round := 0; round < killRounds; round++ {
		procs, err := snapshot(uid)
		if err != nil {
			return killed, nil, err
		}
		var groups []int
		pids, groups = tree.Victims(procs)
		if len(pids) == 0 {
			return killed, nil, nil
		}
		// Groups first: one call takes a whole group, racing no fork in it.
		for _, g := range groups {
			unix.Kill(-g, syscall.SIGKILL)
		}
		for _, p := range pids {
			unix.Kill(p, syscall.SIGKILL)
			if !seen[p] {
				seen[p] = true
				killed++
			}
		}
		// Killed processes leave the table once their parents reap them;
		// give that a moment, longer each round.
		time.Sleep(time.Duration(round+1) * time.Millisecond)
	}
	return killed, pids, nil
}

// userProcesses counts the processes of the real user, which macOS's
// RLIMIT_NPROC counts.
func userProcesses() int {
	ps, err := snapshot(os.Getuid())
	if err != nil {
		return 0
	}
	return len(ps)
}
