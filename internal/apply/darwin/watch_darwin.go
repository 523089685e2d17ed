//go:build darwin

package darwin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

func watchMain() {
	ctl := os.NewFile(3, "control")
	w := &watcher{out: json.NewEncoder(ctl), table: darwinTable{uid: os.Getuid()}, looks: make(chan struct{}, 1)}
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
	if kq, err := unix.Kqueue(); err == nil {
		watched := map[int]bool{}
		w.wake = func(pid int) {
			if watched[pid] {
				return
			}
			watched[pid] = true
			// No way to be told the child's pid (NOTE_TRACK is not
			// supported on macOS): a fork only prompts a look.
			ev := unix.Kevent_t{Ident: uint64(pid), Filter: unix.EVFILT_PROC, Flags: unix.EV_ADD | unix.EV_CLEAR, Fflags: unix.NOTE_FORK | unix.NOTE_EXIT}
			unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil) //nolint:errcheck // gone already: the ticker still looks
		}
		go wakeOnForks(kq, w.looks)
	}
	os.Exit(w.run(spec, controls))
}

func wakeOnForks(kq int, looks chan<- struct{}) {
	events := make([]unix.Kevent_t, 16)
	for {
		n, err := unix.Kevent(kq, nil, events, nil)
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

// maxRSSKiB converts ru_maxrss, which macOS counts in bytes.
func maxRSSKiB(ru *syscall.Rusage) int64 { return ru.Maxrss / 1024 }
