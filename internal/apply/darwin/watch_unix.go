//go:build darwin || linux

package darwin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// The watcher's loop. It is built for Linux too, with a process table read
// from /proc in its tests, so that the killing is tested on real processes
// here; in cordon it runs on macOS only (watch_darwin.go).
//
// The watcher is cordon's binary re-executed outside the sandbox, as the
// parent of the run. It starts the command in a new session, follows every
// process of the run (macplan.Tree) and kills them all when the command
// ends, when cordon asks, and when cordon dies: its control socket then
// reads end-of-file, which the kernel delivers however cordon ended. The
// sandboxed command cannot signal it: the profile allows signals only
// within the sandbox.
//
// Handshake on fd 3 (a unix socket pair, one JSON object a line):
//
//	cordon                          watcher                     shim (in the sandbox)
//	  | ---- Spec ------------------> |
//	  |                               | -- fork, setsid, exec sandbox-exec ... -> |
//	  | <--------------- started(pid) |                                            |
//	  |                               | <------------ applied (status pipe, fd 3) |
//	  | <--------------------- applied|                          exec the command |
//	  | ---- Control{Signal|Stop} --> |                                            |
//	  |                               |  the command ends: kill the run            |
//	  | <--- exit(code, usage, killed)|
//	  | (EOF at any time: kill the run and exit)

// lookEvery is how often the watcher looks at the process table when no
// fork wakes it earlier. Forks during a look wake it once more, however
// many there were.
const lookEvery = 50 * time.Millisecond

// killRounds bounds the kill phase: each round kills what a look at the
// table finds, until a look finds nothing.
const killRounds = 64

// procTable is what the watcher reads of the process table.
type procTable interface {
	// snapshot lists the processes of the watcher's user, zombies left out.
	snapshot() ([]macplan.Proc, error)
	// start says when pid started, or 0 if it is gone.
	start(pid int) int64
}

type watcher struct {
	out   *json.Encoder
	mu    sync.Mutex
	table procTable
	tree  *macplan.Tree
	// wake, when set, asks the kernel to wake the watcher (on looks) when
	// pid forks or exits.
	wake  func(pid int)
	looks chan struct{}
	// onLook, for tests, sees the run's processes after every look.
	onLook func([]macplan.Proc)
}

func (w *watcher) send(m Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Encode(m) //nolint:errcheck // cordon gone: the EOF on the control side ends the run
}

func (w *watcher) run(spec Spec, controls <-chan Control) int {
	statusR, statusW, err := os.Pipe()
	if err != nil {
		w.send(Message{Type: MsgError, Layer: "launcher", Error: err.Error()})
		return 1
	}
	proc, err := os.StartProcess(spec.Argv[0], spec.Argv, &os.ProcAttr{
		Dir:   spec.Dir,
		Env:   spec.Env,
		Files: []*os.File{os.Stdin, os.Stdout, os.Stderr, statusW},
		// A new session: the command has no controlling terminal, so XNU
		// refuses it TIOCSTI on the user's terminal; and the session marks
		// the run's processes.
		Sys: &syscall.SysProcAttr{Setsid: true},
	})
	statusW.Close()
	if err != nil {
		statusR.Close()
		msg := Message{Type: MsgError, Layer: "seatbelt", Error: fmt.Sprintf("start %s: %v", spec.Argv[0], err)}
		if errors.Is(err, os.ErrNotExist) {
			msg.Hint = "sandbox-exec is part of macOS; check that " + macplan.SandboxExec + " exists"
		}
		w.send(msg)
		return 1
	}
	pid := proc.Pid
	w.send(Message{Type: MsgStarted, PID: pid})
	w.tree = macplan.NewTree(macplan.Proc{PID: pid, PPID: os.Getpid(), PGID: pid, SID: pid, Start: w.table.start(pid)}, os.Getpid())

	// What the shim says, relayed; and the last thing it said (applied,
	// or the error that stopped it), or "" if it never spoke. The status
	// pipe closes when the shim execs the command (it is close-on-exec).
	var shimMu sync.Mutex
	shimSaid := ""
	shimDone := make(chan struct{})
	go func() {
		defer close(shimDone)
		sc := bufio.NewScanner(statusR)
		for sc.Scan() {
			var m Message
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			shimMu.Lock()
			shimSaid = m.Type
			shimMu.Unlock()
			w.send(m)
		}
		statusR.Close()
	}()

	waited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := proc.Wait()
		waited <- st
	}()

	if w.wake != nil {
		w.wake(pid)
	}
	tick := time.NewTicker(lookEvery)
	defer tick.Stop()
	look := func() {
		procs, err := w.table.snapshot()
		if err != nil {
			return
		}
		members := w.tree.Observe(procs)
		if w.wake != nil {
			for _, p := range members {
				w.wake(p.PID)
			}
		}
		if w.onLook != nil {
			w.onLook(members)
		}
	}
	look()
	for {
		select {
		case <-w.looks:
			look()
		case <-tick.C:
			look()
		case c, ok := <-controls:
			if !ok {
				// cordon is gone, however it ended: nothing of the run may
				// outlive it.
				look()
				killAll(w.tree, w.table)
				return 0
			}
			if c.Stop {
				look()
				killAll(w.tree, w.table)
			}
			if c.Signal > 0 {
				if unix.Kill(-pid, syscall.Signal(c.Signal)) != nil {
					unix.Kill(pid, syscall.Signal(c.Signal))
				}
			}
		case st := <-waited:
			look()
			killed, survivors, err := killAll(w.tree, w.table)
			// Only a process that never went through the shim (one that
			// survived the kill) can still hold the pipe: do not wait on it.
			select {
			case <-shimDone:
			case <-time.After(2 * time.Second):
			}
			shimMu.Lock()
			said := shimSaid
			shimMu.Unlock()
			if spec.Sandboxed && said == "" {
				// The shim never ran, or never said the profile holds: the
				// command did not run. sandbox-exec printed why.
				w.send(Message{Type: MsgError, Layer: "seatbelt",
					Error: fmt.Sprintf("sandbox-exec ended (%s) before the sandbox was in force; its message is above", st),
					Hint:  "run `cordon doctor`; if the profile itself was refused, this is a bug in cordon's macOS profile: please report it with `cordon run --explain`"})
				return 0
			}
			m := Message{Type: MsgExit, Killed: killed, Survivors: survivors}
			if ws, ok := st.Sys().(syscall.WaitStatus); ok {
				if ws.Signaled() {
					m.Signal = int(ws.Signal())
				} else {
					m.Code = ws.ExitStatus()
				}
			}
			if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
				m.Usage = &Usage{
					UserMicros:   int64(ru.Utime.Sec)*1_000_000 + int64(ru.Utime.Usec),
					SystemMicros: int64(ru.Stime.Sec)*1_000_000 + int64(ru.Stime.Usec),
					MaxRSSKiB:    maxRSSKiB(ru),
				}
			}
			if err != nil {
				m.Error = err.Error()
			}
			w.send(m)
			return 0
		}
	}
}

// killAll kills every process of the run, and the groups they are in,
// until none is left. It returns how many it killed and any it could not.
func killAll(tree *macplan.Tree, table procTable) (killed int, survivors []int, err error) {
	seen := map[int]bool{}
	var pids []int
	for round := 0; round < killRounds; round++ {
		procs, err := table.snapshot()
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
