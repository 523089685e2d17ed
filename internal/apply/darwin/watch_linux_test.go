package darwin

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// The watcher's loop and the shim run here on Linux, on real processes,
// with the process table read from /proc: what they kill is judged from
// outside, by whether the processes still exist afterwards. (The macOS
// table, sysctl kern.proc.all, is the only part not exercised.)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ShimArg {
		shimMain(os.Args[2:])
	}
	os.Exit(m.Run())
}

// procfsTable reads /proc as the macOS table reads sysctl.
type procfsTable struct{ uid int }

func (t procfsTable) snapshot() ([]macplan.Proc, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var out []macplan.Proc
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, uid, zombie, ok := readStat(pid)
		if !ok || zombie || uid != t.uid {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

func (t procfsTable) start(pid int) int64 {
	p, _, _, ok := readStat(pid)
	if !ok {
		return 0
	}
	return p.Start
}

func readStat(pid int) (p macplan.Proc, uid int, zombie, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, 0, false, false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	// state ppid pgrp session ... starttime is the 20th field after comm.
	if len(f) < 20 {
		return p, 0, false, false
	}
	p.PID = pid
	p.PPID, _ = strconv.Atoi(f[1])
	p.PGID, _ = strconv.Atoi(f[2])
	p.SID, _ = strconv.Atoi(f[3])
	p.Start, _ = strconv.ParseInt(f[19], 10, 64)
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, 0, false, false
	}
	for _, line := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(line, "Uid:"); ok {
			uid, _ = strconv.Atoi(strings.Fields(v)[0])
		}
	}
	return p, uid, f[0] == "Z", true
}

// alive reports whether pid runs (a zombie has ended).
func alive(pid int) bool {
	_, _, zombie, ok := readStat(pid)
	return ok && !zombie
}

type harness struct {
	t        *testing.T
	msgs     chan Message
	controls chan Control
	// done is closed when the watcher's loop has returned.
	done   chan struct{}
	closed bool
	looks  chan []macplan.Proc
}

// kill records a pid to kill when the test ends, should the watcher have
// failed to.
func (h *harness) kill(pid int) {
	h.t.Cleanup(func() {
		if alive(pid) {
			unix.Kill(pid, syscall.SIGKILL)
		}
	})
}

// cordonDies closes the control stream, as cordon's death does.
func (h *harness) cordonDies() {
	if !h.closed {
		h.closed = true
		close(h.controls)
	}
}

func startWatcher(t *testing.T, spec Spec) *harness {
	t.Helper()
	pr, pw := io.Pipe()
	h := &harness{t: t, msgs: make(chan Message, 16), controls: make(chan Control, 4), done: make(chan struct{}), looks: make(chan []macplan.Proc, 64)}
	w := &watcher{out: json.NewEncoder(pw), table: procfsTable{uid: os.Getuid()}, looks: make(chan struct{}, 1),
		onLook: func(ps []macplan.Proc) {
			select {
			case h.looks <- ps:
			default:
			}
		}}
	go func() {
		w.run(spec, h.controls)
		close(h.done)
		pw.Close()
	}()
	go func() {
		defer close(h.msgs)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			var m Message
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				h.msgs <- m
			}
		}
	}()
	t.Cleanup(func() {
		h.cordonDies()
		<-h.done
	})
	return h
}

// until reads messages until one of type typ, and returns it.
func (h *harness) until(typ string) Message {
	h.t.Helper()
	deadline := time.After(30 * time.Second) // a hang, not a timing check
	for {
		select {
		case m, ok := <-h.msgs:
			if !ok {
				h.t.Fatalf("the watcher ended without a %q message", typ)
			}
			if m.Type == typ {
				return m
			}
			if m.Type == MsgError || m.Type == MsgExecError {
				h.t.Fatalf("watcher: %+v", m)
			}
		case <-deadline:
			h.t.Fatalf("no %q message", typ)
		}
	}
}

// waitFile waits until a file the command writes holds a pid.
func waitFile(t *testing.T, p string) int {
	t.Helper()
	for i := 0; i < 3000; i++ {
		if b, err := os.ReadFile(p); err == nil && strings.HasSuffix(string(b), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s never held a pid", p)
	return 0
}

func sh(script string) Spec {
	return Spec{Argv: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}, Dir: "/"}
}

func TestWatcherKillsWhatTheCommandLeftBehind(t *testing.T) {
	d := t.TempDir()
	h := startWatcher(t, sh(fmt.Sprintf(`sleep 60 & echo $! > %s/bg; exit 3`, d)))
	m := h.until(MsgExit)
	bg := waitFile(t, d+"/bg")
	h.kill(bg)
	if m.Code != 3 {
		t.Errorf("exit code = %d, want the command's 3", m.Code)
	}
	if alive(bg) {
		t.Errorf("the background child %d outlived the run", bg)
	}
	if m.Killed < 1 {
		t.Errorf("killed = %d", m.Killed)
	}
}

func TestWatcherFollowsANewSessionItSaw(t *testing.T) {
	d := t.TempDir()
	// The child leaves the session (setsid) and is orphaned when the command
	// exits, which it does only once the watcher has seen the child (or,
	// should the test fail, after at most 30 s).
	h := startWatcher(t, sh(fmt.Sprintf(`setsid sh -c 'echo $$ > %[1]s/sess; exec sleep 60' & i=0; while [ ! -e %[1]s/go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; exit 0`, d)))
	h.until(MsgStarted)
	sess := waitFile(t, d+"/sess")
	for seen := false; !seen; {
		for _, p := range <-h.looks {
			if p.PID == sess && p.SID == sess {
				seen = true
			}
		}
	}
	h.kill(sess)
	os.WriteFile(d+"/go", nil, 0o600)
	h.until(MsgExit)
	if alive(sess) {
		t.Errorf("the process that left the session (%d) outlived the run", sess)
	}
}

func TestWatcherKillsTheRunWhenCordonDies(t *testing.T) {
	d := t.TempDir()
	h := startWatcher(t, sh(fmt.Sprintf(`sleep 60 & echo $! > %s/bg; exec sleep 60`, d)))
	root := h.until(MsgStarted).PID
	bg := waitFile(t, d+"/bg")
	h.kill(root)
	h.kill(bg)
	h.cordonDies()
	<-h.done
	for _, pid := range []int{root, bg} {
		if alive(pid) {
			t.Errorf("process %d outlived cordon", pid)
		}
	}
}

func TestWatcherStopAndSignals(t *testing.T) {
	d := t.TempDir()
	h := startWatcher(t, sh(fmt.Sprintf(`trap 'exit 7' TERM; echo $$ > %s/ready; while :; do sleep 1; done`, d)))
	h.until(MsgStarted)
	waitFile(t, d+"/ready")
	h.controls <- Control{Signal: int(syscall.SIGTERM)}
	if m := h.until(MsgExit); m.Code != 7 {
		t.Errorf("after SIGTERM: %+v, want the trap's exit 7", m)
	}

	h = startWatcher(t, sh(`exec sleep 60`))
	h.until(MsgStarted)
	h.controls <- Control{Stop: true}
	if m := h.until(MsgExit); m.Signal != int(syscall.SIGKILL) {
		t.Errorf("after Stop: %+v, want killed by SIGKILL", m)
	}
}

// TestWatcherFailsClosedWithoutTheShim: a sandboxed spec whose process
// never reports the profile in force is a setup error, not a run.
func TestWatcherFailsClosedWithoutTheShim(t *testing.T) {
	spec := sh("exit 0")
	spec.Sandboxed = true
	h := startWatcher(t, spec)
	for m := range h.msgs {
		if m.Type == MsgExit {
			t.Fatalf("a run without the shim's report counts as run: %+v", m)
		}
		if m.Type == MsgError && m.Layer == "seatbelt" {
			return
		}
	}
	t.Fatal("no seatbelt error")
}

func shimSpec(t *testing.T, s macplan.ShimSpec) Spec {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Spec{Argv: macplan.ShimArgv(exe, s), Env: []string{"PATH=/usr/bin:/bin"}, Dir: "/", Sandboxed: true}
}

// TestShimRefusesWhenTheSandboxIsNotInForce: here nothing confines the
// shim, so the probe write succeeds, and the shim must refuse to run the
// command.
func TestShimRefusesWhenTheSandboxIsNotInForce(t *testing.T) {
	d := t.TempDir()
	probe := filepath.Join(d, "probe")
	os.Mkdir(probe, 0o700)
	h := startWatcher(t, shimSpec(t, macplan.ShimSpec{ProbeDir: probe, Argv: []string{"/bin/sh", "-c", "touch " + d + "/ran"}}))
	var got Message
	for m := range h.msgs {
		if m.Type == MsgError {
			got = m
		}
	}
	if got.Layer != "seatbelt" || !strings.Contains(got.Error, "not in force") {
		t.Errorf("error = %+v", got)
	}
	if _, err := os.Stat(d + "/ran"); err == nil {
		t.Error("the command ran although the sandbox was not in force")
	}
	if ents, _ := os.ReadDir(probe); len(ents) != 0 {
		t.Errorf("the probe left %v", ents)
	}
}

func TestShimLimitsAndExec(t *testing.T) {
	d := t.TempDir()
	h := startWatcher(t, shimSpec(t, macplan.ShimSpec{
		Rlimits: []macplan.Rlimit{{Resource: unix.RLIMIT_CORE, Value: 0}, {Resource: unix.RLIMIT_NOFILE, Value: 64}},
		Argv:    []string{"sh", "-c", "ulimit -n > " + d + "/n"}}))
	h.until(MsgApplied)
	if m := h.until(MsgExit); m.Code != 0 {
		t.Fatalf("exit = %+v", m)
	}
	if b, _ := os.ReadFile(d + "/n"); strings.TrimSpace(string(b)) != "64" {
		t.Errorf("the command's open-file limit is %q, want 64", b)
	}

	h = startWatcher(t, shimSpec(t, macplan.ShimSpec{Argv: []string{"no-such-command-cordon"}}))
	var exec Message
	for m := range h.msgs {
		if m.Type == MsgExecError {
			exec = m
		}
	}
	if exec.Code != 127 {
		t.Errorf("exec error = %+v, want 127", exec)
	}
}
