//go:build darwin

package darwin

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// WatcherExe is the binary started as the watcher; tests may point it at a
// test binary that calls Main.
var WatcherExe = ""

// Run is a started run: its watcher and the messages it sends.
type Run struct {
	cmd  *exec.Cmd
	ctl  *os.File
	mu   sync.Mutex
	msgs chan Message
	done chan error
}

// Start starts the watcher, which starts spec with stdin, stdout and stderr
// as they are.
func Start(spec Spec, stdin, stdout, stderr *os.File) (*Run, error) {
	exe := WatcherExe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find cordon's own binary for the watcher: %w", err)
		}
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	parent, child := os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control-watcher")
	r := &Run{ctl: parent, msgs: make(chan Message, 8), done: make(chan error, 1)}
	r.cmd = &exec.Cmd{
		Path:       exe,
		Args:       []string{"cordon", WatcherArg},
		Env:        []string{"GOMAXPROCS=1"},
		Stdin:      stdin,
		Stdout:     stdout,
		Stderr:     stderr,
		ExtraFiles: []*os.File{child},
	}
	err = r.cmd.Start()
	child.Close()
	if err != nil {
		parent.Close()
		return nil, fmt.Errorf("start the watcher: %w", err)
	}
	line, _ := json.Marshal(spec)
	if _, err := parent.Write(append(line, '\n')); err != nil {
		r.Close()
		r.cmd.Wait()
		return nil, fmt.Errorf("send the spec to the watcher: %w", err)
	}
	go func() {
		defer close(r.msgs)
		sc := bufio.NewScanner(parent)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m Message
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				r.msgs <- m
			}
		}
	}()
	go func() { r.done <- r.cmd.Wait() }()
	return r, nil
}

// Messages delivers what the watcher says; it is closed when the watcher
// is gone.
func (r *Run) Messages() <-chan Message { return r.msgs }

// Done delivers the watcher's end.
func (r *Run) Done() <-chan error { return r.done }

func (r *Run) control(c Control) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	line, _ := json.Marshal(c)
	_, err := r.ctl.Write(append(line, '\n'))
	return err
}

// Signal forwards sig to the command's process group.
func (r *Run) Signal(sig syscall.Signal) error { return r.control(Control{Signal: int(sig)}) }

// Stop kills the whole run.
func (r *Run) Stop() error { return r.control(Control{Stop: true}) }

// Close ends the control stream; the watcher kills whatever is left.
func (r *Run) Close() error { return r.ctl.Close() }

// KillRun kills a run whose watcher is gone (killed from outside): the
// session of the command at pid and every descendant still to be found.
func KillRun(pid int) (killed int, survivors []int, err error) {
	tree := macplan.NewTree(macplan.Proc{PID: pid, PGID: pid, SID: pid, Start: procStart(pid)}, os.Getpid())
	return killAll(tree, darwinTable{uid: os.Getuid()})
}

// Main takes over the process when the binary was started as the watcher
// or the shim, and never returns then; otherwise it returns at once.
func Main() {
	if len(os.Args) < 2 {
		return
	}
	switch os.Args[1] {
	case WatcherArg:
		watchMain()
	case ShimArg:
		shimMain(os.Args[2:])
	}
}
