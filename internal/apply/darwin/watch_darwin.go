//go:build darwin

package darwin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

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
// fork wakes it earlier; minLook spaces looks during bursts of forks.
const (
	lookEvery = 50 * time.Millisecond
	minLook   = 5 * time.Millisecond
)

type watcher struct {
	out  *json.Encoder
	mu   sync.Mutex
	uid  int
	tree *macplan.Tree
	kq   int
	// watched are the pids whose forks and exits wake the watcher.
	watched map[int]bool
}

func (w *watcher) send(m Message) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Encode(m) //nolint:errcheck // cordon gone: the EOF on the control side ends the run
}

func watchMain() {
	ctl := os.NewFile(3, "control")
	w := &watcher{out: json.NewEncoder(ctl), uid: os.Getuid(), watched: map[int]bool{}}
	// The terminal's signals are cordon's to forward, not the watcher's to
	// die of. Caught, not ignored: an ignored signal would stay ignored in
	// the command after exec.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGPIPE)
	go func() {
		for range sigs {
		}
	}()

	sc := bufio.NewScanner(ctl)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	if !sc.Scan() {
		os.Exit(1) // cordon went away before sending the spec
	}
	var spec Spec
	if err := json.Unmarshal(sc.Bytes(), &spec); err != nil || len(spec.Argv) == 0 {
		w.send(Message{Type: MsgError, Layer: "launcher", Error: fmt.Sprintf("bad spec from cordon: %v", err)})
		os.Exit(1)
	}
	controls := make(chan Control, 4)
	go func() {
		defer close(controls)
		for sc.Scan() {
			var c Control
			if json.Unmarshal(sc.Bytes(), &c) == nil {
				controls <- c
			}
		}
	}()
	os.Exit(w.run(spec, controls))
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
		msg := Message{Type: MsgError, Layer: "seatbelt", Error: fmt.Sprintf("start %s: %v", spec.Argv[0], err)}
		if errors.Is(err, os.ErrNotExist) {
			msg.Hint = "sandbox-exec is part of macOS; check that " + macplan.SandboxExec + " exists"
		}
		w.send(msg)
		return 1
	}
	pid := proc.Pid
	w.send(Message{Type: MsgStarted, PID: pid})
	w.tree = macplan.NewTree(macplan.Proc{PID: pid, PPID: os.Getpid(), PGID: pid, SID: pid, Start: procStart(pid)}, os.Getpid())

	// What the shim says, relayed; and the last thing it said (applied,
	// or the error that stopped it), or "" if it never spoke.
	shim := make(chan string, 1)
	go func() {
		said := ""
		sc := bufio.NewScanner(statusR)
		for sc.Scan() {
			var m Message
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				continue
			}
			said = m.Type
			w.send(m)
		}
		statusR.Close()
		shim <- said
	}()

	waited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := proc.Wait()
		waited <- st
	}()

	looks := make(chan struct{}, 1)
	if kq, err := unix.Kqueue(); err == nil {
		w.kq = kq
		go w.wakeOnForks(looks)
	} else {
		w.kq = -1
	}
	w.watch(pid)
	tick := time.NewTicker(lookEvery)
	defer tick.Stop()
	last := time.Time{}
	look := func() {
		if time.Since(last) < minLook {
			return
		}
		last = time.Now()
		procs, err := snapshot(w.uid)
		if err != nil {
			return
		}
		for _, p := range w.tree.Observe(procs) {
			w.watch(p.PID)
		}
	}
	look()
	for {
		select {
		case <-looks:
			look()
		case <-tick.C:
			look()
		case c, ok := <-controls:
			if !ok {
				// cordon is gone, however it ended: nothing of the run may
				// outlive it.
				look()
				killAll(w.tree, w.uid)
				return 0
			}
			if c.Stop {
				look()
				killAll(w.tree, w.uid)
			}
			if c.Signal > 0 {
				if unix.Kill(-pid, syscall.Signal(c.Signal)) != nil {
					unix.Kill(pid, syscall.Signal(c.Signal))
				}
			}
		case st := <-waited:
			look()
			killed, survivors, err := killAll(w.tree, w.uid)
			if said := <-shim; spec.Sandboxed && said == "" {
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
					UserMicros:   ru.Utime.Sec*1_000_000 + int64(ru.Utime.Usec),
					SystemMicros: ru.Stime.Sec*1_000_000 + int64(ru.Stime.Usec),
					MaxRSSKiB:    ru.Maxrss / 1024, // bytes on macOS
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

// watch asks the kernel to wake the watcher when pid forks or exits. There
// is no way to be told the child's pid (NOTE_TRACK is not supported on
// macOS), so a fork only prompts a look at the table.
func (w *watcher) watch(pid int) {
	if w.kq < 0 || w.watched[pid] {
		return
	}
	w.watched[pid] = true
	ev := unix.Kevent_t{Ident: uint64(pid), Filter: unix.EVFILT_PROC, Flags: unix.EV_ADD | unix.EV_CLEAR, Fflags: unix.NOTE_FORK | unix.NOTE_EXIT}
	unix.Kevent(w.kq, []unix.Kevent_t{ev}, nil, nil) //nolint:errcheck // gone already: the ticker still looks
}

func (w *watcher) wakeOnForks(looks chan<- struct{}) {
	events := make([]unix.Kevent_t, 16)
	for {
		n, err := unix.Kevent(w.kq, nil, events, nil)
		if err != nil && !errors.Is(err, syscall.EINTR) {
			return
		}
		if n > 0 {
			select {
			case looks <- struct{}{}:
			default:
			}
		}
	}
}
