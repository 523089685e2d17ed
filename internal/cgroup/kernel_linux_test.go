//go:build linux

package cgroup

// Real-kernel tests, as root. Each judges from outside: the processes a
// group lists, the kernel's own counters (pids.peak, memory peak, OOM
// kills), /proc after a kill, the directories after Close. Each has a
// baseline run without a binding limit that shows the probe would see the
// escape. The children this test binary starts are re-executions of itself
// in a helper mode (helperEnv), so no other binary is needed.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/testutil/testbin"
)

const helperEnv = "CORDON_CGROUP_TEST_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "reaper":
		os.Exit(reaper())
	case "alloc":
		os.Exit(alloc())
	case "probe":
		os.Exit(probeHelper())
	case "delegated":
		os.Exit(delegatedHelper())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
		os.Exit(2)
	}
}

// reaper starts `sh -c SCRIPT` (SCRIPT from argv) with its own stdin and
// stdout for the shell's output and errors, says "pid N", and reaps every process orphaned below it (it is a child
// subreaper) until none is left, saying "exit STATUS" when the shell ends.
// The reaper itself stays outside the group: only the shell is moved in, so
// the group counts the shell and what it forks, nothing else.
func reaper() int {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 2
	}
	sh := exec.Command("/bin/sh", "-c", os.Args[len(os.Args)-1])
	// The shell's errors go to stdout too, so they arrive before "exit".
	sh.Stdin, sh.Stdout, sh.Stderr = os.Stdin, os.Stdout, os.Stdout
	if err := sh.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "reaper:", err)
		return 2
	}
	fmt.Printf("pid %d\n", sh.Process.Pid)
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0 // ECHILD: everything is reaped
		}
		if pid == sh.Process.Pid {
			fmt.Printf("exit %d\n", ws.ExitStatus())
		}
	}
}

// alloc waits for a line on stdin, then allocates 256 MiB of anonymous
// memory and writes to every page, which charges each page to the memory
// cgroup of the process (unlike a file in a tmpfs, whose pages stay
// charged to whoever wrote them first and outlive the process), then says
// "allocated".
func alloc() int {
	bufio.NewReader(os.Stdin).ReadString('\n')
	b := make([]byte, 256<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	fmt.Printf("allocated %d\n", len(b))
	return 0
}

// probeResult is what the probe helper reports.
type probeResult struct {
	UID       int
	Plan      *Plan
	CreateErr string
	Dirs      []string
	Processes Outcome
	Memory    Outcome
}

// probeHelper probes and creates a group as whoever runs it, and reports.
func probeHelper() int {
	r := probeResult{UID: os.Getuid()}
	p, err := Probe(Limits{MaxProcesses: 20, MemoryBytes: 64 << 20}, Options{UserNamespace: true})
	if err != nil {
		r.CreateErr = err.Error()
	} else if g, err := p.Create("unprivileged"); err != nil {
		r.Plan, r.CreateErr = p, err.Error()
	} else {
		r.Plan, r.Dirs, r.Processes, r.Memory = p, g.Dirs(), g.Processes(), g.Memory()
		if err := g.Close(); err != nil {
			r.CreateErr = "close: " + err.Error()
		}
	}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

// delegatedResult is what the delegated helper reports.
type delegatedResult struct {
	UID      int
	Err      string
	Groups   []Location
	Dirs     []string
	Born     bool   // the child was in the v2 group before Add
	Ended    string // how the child ended after Kill
	LeftDirs []string
}

// delegatedHelper waits to be moved into a delegated cgroup, then makes a
// group as whoever runs it, starts `sleep 20` born inside, kills the group
// and closes it.
func delegatedHelper() int {
	bufio.NewReader(os.Stdin).ReadString('\n')
	r := delegatedResult{UID: os.Getuid()}
	defer func() { json.NewEncoder(os.Stdout).Encode(&r) }()
	p, err := Probe(Limits{MaxProcesses: 20}, Options{UserNamespace: true})
	if err != nil {
		r.Err = err.Error()
		return 0
	}
	r.Groups = p.Groups
	g, err := p.Create("delegated")
	if err != nil {
		r.Err = err.Error() + "; " + hintOf(err)
		return 0
	}
	r.Dirs = g.Dirs()
	cmd := exec.Command("/bin/sleep", "20")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cloned := g.CloneInto(cmd.SysProcAttr)
	if err := cmd.Start(); err != nil {
		r.Err = err.Error()
		g.Close()
		return 0
	}
	for _, d := range g.dirs {
		if d.loc.Version == 2 {
			r.Born = cloned && member(cmd.Process.Pid, d.loc, d.path)
		}
	}
	if err := g.Add(cmd.Process.Pid); err != nil {
		r.Err = err.Error()
	}
	if err := g.Kill(); err != nil {
		r.Err = err.Error()
	}
	r.Ended = fmt.Sprint(cmd.Wait())
	if err := g.Close(); err != nil {
		r.Err = err.Error()
	}
	for _, d := range r.Dirs {
		if _, err := os.Stat(d); err == nil {
			r.LeftDirs = append(r.LeftDirs, d)
		}
	}
	return 0
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		testbin.RequireOrSkip(t, "the cgroup kernel tests run as root: they make cgroups where this machine lets only root (sudo go test ./internal/cgroup/)")
	}
}

// create makes a group for the test, or skips (fails under
// CORDON_REQUIRE_ALL) when this machine has no cgroup for the limit. only
// keeps the locations of one cgroup version (0: all).
func create(t *testing.T, lim Limits, only int) *Group {
	t.Helper()
	requireRoot(t)
	p, err := Probe(lim, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if only != 0 {
		var keep []Location
		for _, l := range p.Groups {
			if l.Version == only {
				keep = append(keep, l)
			}
		}
		p.Groups = keep
	}
	if !hasController(p, "pids") {
		testbin.RequireOrSkip(t, "no cgroup pids controller usable here: "+p.Processes.Reason)
	}
	if lim.MemoryBytes > 0 && !hasController(p, "memory") {
		testbin.RequireOrSkip(t, "no cgroup memory controller usable here: "+p.Memory.Reason)
	}
	id := []byte(t.Name())
	for i, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			id[i] = '_'
		}
	}
	if len(id) > 48 {
		id = id[:48]
	}
	g, err := p.Create(string(id))
	if err != nil {
		t.Fatal(err, "\n", hintOf(err))
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	t.Logf("groups: %v\nmax_processes: %s\nmemory: %s", g.Dirs(), g.Processes(), g.Memory())
	return g
}

func hasController(p *Plan, c string) bool {
	for _, l := range p.Groups {
		if l.has(c) {
			return true
		}
	}
	return false
}

func hintOf(err error) string {
	if h, ok := err.(interface{ Hint() string }); ok {
		return h.Hint()
	}
	return ""
}

// forkRun is one run of the fork probe: a shell in the group that tries to
// start n `sleep 20` in the background.
type forkRun struct {
	exit    int      // the shell's exit status, -1 if it did not end
	lines   []string // what the shell and the reaper said
	procs   []int    // in the group once the shell is done
	started map[int]uint64
	reaper  *exec.Cmd
}

const forkScript = `read go; i=0; while [ $i -lt %d ]; do sleep 20 & i=$((i+1)); done; echo "loop done $i"; wait`

func runForks(t *testing.T, g *Group, n int) *forkRun {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$", fmt.Sprintf(forkScript, n))
	cmd.Env = append(os.Environ(), helperEnv+"=reaper")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &forkRun{exit: -1, reaper: cmd}
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("the reaper did not end within 10s of the test")
		}
	})
	lines := make(chan string, 128)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() (string, bool) {
		select {
		case l, ok := <-lines:
			if ok {
				r.lines = append(r.lines, l)
			}
			return l, ok
		case <-time.After(15 * time.Second):
			t.Fatalf("no word from the fork probe in 15s; said so far: %q", r.lines)
		}
		return "", false
	}
	first, _ := next()
	pid, err := strconv.Atoi(strings.TrimPrefix(first, "pid "))
	if err != nil {
		t.Fatalf("reaper said %q", first)
	}
	if err := g.Add(pid); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "go\n")
	for {
		l, ok := next()
		if !ok {
			t.Fatalf("the reaper ended early: %q", r.lines)
		}
		if strings.HasPrefix(l, "loop done") {
			break
		}
		if strings.HasPrefix(l, "exit ") {
			r.exit, _ = strconv.Atoi(strings.TrimPrefix(l, "exit "))
			break
		}
	}
	if r.procs, err = g.Procs(); err != nil {
		t.Fatal(err)
	}
	r.started = map[int]uint64{}
	for _, p := range r.procs {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); err == nil {
			r.started[p], _ = parseStat(string(b))
		}
	}
	return r
}

// assertKilled kills the group and checks from outside that none of its
// processes lives on, then closes it and checks its directories are gone.
func assertKilled(t *testing.T, g *Group, r *forkRun) {
	t.Helper()
	if err := g.Kill(); err != nil {
		t.Fatal(err)
	}
	if left, _ := g.Procs(); len(left) != 0 {
		t.Errorf("after Kill the group still lists %v", left)
	}
	for pid, start := range r.started {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone
		}
		s := string(b)
		st, _ := parseStat(s)
		state := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])[0]
		if st == start && state != "Z" && state != "X" {
			t.Errorf("process %d of the group survived Kill (state %s)", pid, state)
		}
	}
	dirs := g.Dirs()
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s still exists after Close", d)
		}
	}
}

// The shell is task 1; it may fork 19 sleeps; its 20th fork, the group's
// 21st task, must fail. Judged by the kernel's counters and by the processes
// the group lists, not by the shell's word.
func TestForkLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		only int
	}{
		{"every group (kill by cgroup.kill)", 0},
		{"cgroup v1 only (kill by repeated SIGKILL)", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const limit = 20
			g := create(t, Limits{MaxProcesses: limit}, tc.only)
			if g.Processes().Kind != CgroupV1 && g.Processes().Kind != CgroupV2 {
				t.Fatalf("the process limit is held by %s", g.Processes())
			}
			r := runForks(t, g, 60)
			st := g.Stats()
			t.Logf("shell: exit %d, said %q; group: %d processes, stats %+v", r.exit, r.lines, len(r.procs), st)
			if said := strings.ToLower(strings.Join(r.lines, "\n")); r.exit <= 0 || !strings.Contains(said, "fork") || strings.Contains(said, "loop done") {
				t.Errorf("the shell did not fail to fork: exit %d, said %q", r.exit, r.lines)
			}
			if st.TasksPeak != limit {
				t.Errorf("pids.peak = %d, want exactly the limit %d", st.TasksPeak, limit)
			}
			if st.ForksRefused == 0 {
				t.Errorf("pids.events counts no refused fork")
			}
			if len(r.procs) > limit || len(r.procs) < limit-1 {
				t.Errorf("the group holds %d processes: want the %d sleeps (and not more than %d)", len(r.procs), limit-1, limit)
			}
			assertKilled(t, g, r)
		})
	}
}

// The same probe with no limit: it must reach all 60 sleeps, so the limited
// run above is not passing because the probe cannot fork at all.
func TestForkBaseline(t *testing.T) {
	g := create(t, Limits{}, 0)
	if g.Processes().Kind != NotRequested || g.Processes().Path == "" {
		t.Fatalf("processes: %s; want not requested, counted in a group", g.Processes())
	}
	r := runForks(t, g, 60)
	st := g.Stats()
	t.Logf("shell said %q; group: %d processes, stats %+v", r.lines, len(r.procs), st)
	if len(r.procs) != 61 {
		t.Errorf("the group holds %d processes, want the shell and 60 sleeps", len(r.procs))
	}
	if st.TasksPeak != 0 && st.TasksPeak < 61 {
		t.Errorf("pids.peak = %d, want at least 61", st.TasksPeak)
	}
	assertKilled(t, g, r)
}

// allocRun starts the alloc helper, moves it into the group, lets it go and
// waits for its end.
func allocRun(t *testing.T, g *Group) (out string, ws syscall.WaitStatus) {
	t.Helper()
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=alloc", "GOGC=off")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, _ := cmd.StdinPipe()
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := g.Add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	io.WriteString(stdin, "go\n")
	stdin.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the allocation did not end in 30s")
	}
	return stdout.String() + stderr.String(), cmd.ProcessState.Sys().(syscall.WaitStatus)
}

// A child that writes 256 MiB of anonymous memory under a 64 MiB limit is
// killed by the kernel; the memory charged stays at the limit.
func TestMemoryLimit(t *testing.T) {
	const limit = 64 << 20
	g := create(t, Limits{MemoryBytes: limit}, 0)
	out, ws := allocRun(t, g)
	st := g.Stats()
	t.Logf("child: %v, said %q; stats %+v", ws, out, st)
	if strings.Contains(out, "allocated") || ws.Exited() && ws.ExitStatus() == 0 {
		t.Fatalf("the child allocated 256 MiB under a 64 MiB limit: %v, %q", ws, out)
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("the child ended with %v, want the OOM killer's SIGKILL", ws)
	}
	if st.OOMKills == 0 && st.MemoryLimitHits == 0 {
		t.Errorf("the group counts neither an OOM kill nor the limit reached: %+v", st)
	}
	// The kernel may charge a little past the limit before it reclaims or
	// kills (up to one charge batch, 64 pages), never the 256 MiB asked.
	if slack := uint64(64 * os.Getpagesize()); st.MemoryPeak > limit+slack {
		t.Errorf("memory peak %d is above the limit %d (+ %d)", st.MemoryPeak, limit, slack)
	}
}

// The same child under a limit it does not reach succeeds, and its 256 MiB
// show up in the group's peak: the method is charged to the group, so the
// run above was stopped by the limit.
func TestMemoryBaseline(t *testing.T) {
	g := create(t, Limits{MemoryBytes: 1 << 30}, 0)
	out, ws := allocRun(t, g)
	st := g.Stats()
	t.Logf("child: %v, said %q; stats %+v", ws, out, st)
	if !ws.Exited() || ws.ExitStatus() != 0 || !strings.Contains(out, "allocated 268435456") {
		t.Fatalf("the child failed without a binding limit: %v, %q", ws, out)
	}
	if st.MemoryPeak < 256<<20 {
		t.Errorf("memory peak %d is below the 256 MiB the child wrote: the allocation is not charged to the group", st.MemoryPeak)
	}
}

// With a cgroup v2 group, CloneInto has the child born in it: before Add
// is called, /proc/PID/cgroup already shows it there.
func TestCloneInto(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testCloneInto(t, nil) })
	// As the supervisor starts its init: clone3 takes the namespaces and
	// the cgroup together.
	t.Run("with user and PID namespaces", func(t *testing.T) {
		testCloneInto(t, &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNS,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
		})
	})
}

func testCloneInto(t *testing.T, attr *syscall.SysProcAttr) {
	g := create(t, Limits{MaxProcesses: 20}, 0)
	var v2 *groupDir
	for i := range g.dirs {
		if g.dirs[i].loc.Version == 2 {
			v2 = &g.dirs[i]
		}
	}
	if v2 == nil {
		testbin.RequireOrSkip(t, "no cgroup v2 group can be made here")
	}
	cmd := exec.Command("/bin/sleep", "20")
	if attr == nil {
		attr = &syscall.SysProcAttr{}
	}
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr = attr
	if !g.CloneInto(cmd.SysProcAttr) {
		t.Fatal("CloneInto refused although there is a v2 group and the kernel has CLONE_INTO_CGROUP")
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if !member(cmd.Process.Pid, v2.loc, v2.path) {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", cmd.Process.Pid))
		t.Errorf("the child is not in %s from birth:\n%s", v2.path, b)
	}
	if err := g.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	procs, _ := g.Procs()
	if len(procs) != 1 || procs[0] != cmd.Process.Pid {
		t.Errorf("the group lists %v, want [%d]", procs, cmd.Process.Pid)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("sleep 20 ended normally: Close did not kill it")
	}
}

// RemoveStale kills and removes the groups of a supervisor that is gone,
// and leaves alone those of a live one and directories cordon did not name.
func TestRemoveStale(t *testing.T) {
	live := create(t, Limits{MaxProcesses: 20}, 0)
	p, err := Probe(Limits{MaxProcesses: 20}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	self, err := selfOwner()
	if err != nil {
		t.Fatal(err)
	}
	// A supervisor that has ended: a process that ran and was reaped.
	gone := exec.Command("/bin/true")
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", gone.Process.Pid))
	start, _ := parseStat(string(b))
	gone.Wait()
	dead := owner{pid: gone.Process.Pid, start: start, pidNS: self.pidNS}
	name := groupName("stale", dead)
	var staleDirs []groupDir
	for _, loc := range p.Groups {
		d, err := makeGroup(loc, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		staleDirs = append(staleDirs, d)
	}
	stale := &Group{name: name, dirs: staleDirs}
	t.Cleanup(func() { stale.Close() })
	// What the dead run left running.
	orphan := exec.Command("/bin/sleep", "20")
	orphan.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := orphan.Start(); err != nil {
		t.Fatal(err)
	}
	orphanDone := make(chan error, 1)
	go func() { orphanDone <- orphan.Wait() }()
	if err := stale.Add(orphan.Process.Pid); err != nil {
		t.Fatal(err)
	}
	foreign := p.Groups[0].CordonDir() + "/not-cordons"
	if err := os.Mkdir(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Rmdir(foreign) })

	removed, err := RemoveStale()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("removed %v", removed)
	for _, d := range staleDirs {
		if _, err := os.Stat(d.dir); err == nil {
			t.Errorf("stale group %s still exists", d.dir)
		}
		if !strings.Contains(strings.Join(removed, " "), d.dir) {
			t.Errorf("RemoveStale did not report %s", d.dir)
		}
	}
	select {
	case <-orphanDone:
	case <-time.After(5 * time.Second):
		t.Error("the dead run's process still runs 5s after RemoveStale")
	}
	for _, d := range append(live.Dirs(), foreign) {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("RemoveStale removed %s, which is not stale: %v", d, err)
		}
	}
}

// Errors name the file and the fix.
func TestCreateErrors(t *testing.T) {
	requireRoot(t)
	p := &Plan{Limits: Limits{MaxProcesses: 5}, Groups: []Location{{Version: 1, Dir: "/nonexistent-cgroup", Controllers: []string{"pids"}}}}
	_, err := p.Create("x")
	if err == nil || !strings.Contains(err.Error(), "cannot create /nonexistent-cgroup/cordon: no such file or directory") || hintOf(err) == "" {
		t.Fatalf("got %v (hint %q)", err, hintOf(err))
	}
	if _, err := p.Create("a/b"); err == nil {
		t.Fatal("a run id with a slash was accepted")
	}
}

// An unprivileged user (uid 65534) gets only what is delegated to it: each
// group the plan promises can be made, and every limit without one says
// why, naming the uid; the process limit falls back on RLIMIT_NPROC in the
// run's user namespace.
func TestUnprivileged(t *testing.T) {
	requireRoot(t)
	// The test binary sits in a directory only root may enter; uid 65534
	// runs a copy.
	dir, err := os.MkdirTemp(testbin.Base, "cordon-cgroup-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cgroup.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = []string{helperEnv + "=probe"}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var r probeResult
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("as uid %d: groups %v\nmax_processes: %s\nmemory: %s", r.UID, r.Dirs, r.Plan.Processes, r.Plan.Memory)
	if r.UID != 65534 || r.CreateErr != "" {
		t.Fatalf("uid %d: %s", r.UID, r.CreateErr)
	}
	for _, o := range []Outcome{r.Plan.Processes, r.Plan.Memory} {
		switch o.Kind {
		case CgroupV1, CgroupV2:
			continue
		case RlimitNprocUserNS, NotApplied:
			if !strings.Contains(o.Reason, "uid 65534") && !strings.Contains(o.Reason, "read-only") && !strings.Contains(o.Reason, "no "+map[string]string{"max_processes": "pids", "memory": "memory"}[o.Limit]+" controller") {
				t.Errorf("%s: the reason does not say why uid 65534 gets no cgroup: %q", o.Limit, o.Reason)
			}
		default:
			t.Errorf("%s: %s, want a cgroup or, for processes, RLIMIT_NPROC per user namespace", o.Limit, o)
		}
		if o.Limit == "max_processes" && o.Kind == NotApplied {
			t.Errorf("max_processes not applied for uid 65534 in its own user namespace: %s", o)
		}
	}
	for _, d := range r.Dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("%s still exists after the unprivileged Close", d)
		}
	}
}

// A cgroup v2 subtree delegated to uid 65534 as systemd delegates one (the
// directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads
// chowned): the user makes the run's group inside it, the child is born
// there, Kill reaches it and Close removes the group. This machine's cgroup
// v2 has no controllers, so the group holds the processes without limits;
// the permission checks are the kernel's own.
func TestUnprivilegedDelegatedV2(t *testing.T) {
	requireRoot(t)
	h, err := LiveHost()
	if err != nil {
		t.Fatal(err)
	}
	var v2 *Location
	for _, l := range parents(h) {
		if l.Version == 2 {
			v2 = &l
			break
		}
	}
	if v2 == nil {
		testbin.RequireOrSkip(t, "this process is in no visible cgroup v2 hierarchy")
	}
	base := fmt.Sprintf("%s/cordon-test-delegated-%d", v2.Dir, os.Getpid())
	leaf := base + "/leaf"
	for _, d := range []string{base, leaf} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"", "/cgroup.procs", "/cgroup.subtree_control", "/cgroup.threads"} {
			if err := os.Chown(d+f, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() {
		for _, d := range []string{leaf, base} {
			if err := removeGroup(d); err != nil {
				t.Error(err)
			}
		}
	})
	dir, err := os.MkdirTemp(testbin.Base, "cordon-cgroup-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "cgroup.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = []string{helperEnv + "=delegated"}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}, Pdeathsig: syscall.SIGKILL}
	stdin, _ := cmd.StdinPipe()
	var stdout strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(leaf+"/cgroup.procs", strconv.Itoa(cmd.Process.Pid)); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal(err)
	}
	io.WriteString(stdin, "go\n")
	stdin.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("helper: %v: %s", err, stdout.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("the helper did not end in 20s")
	}
	var r delegatedResult
	if err := json.Unmarshal([]byte(stdout.String()), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	t.Logf("as uid %d: groups %+v, dirs %v, born inside %v, child %s", r.UID, r.Groups, r.Dirs, r.Born, r.Ended)
	if r.UID != 65534 || r.Err != "" {
		t.Fatalf("uid %d: %s", r.UID, r.Err)
	}
	want := leaf + "/cordon/"
	if len(r.Dirs) != 1 || !strings.HasPrefix(r.Dirs[0], want) {
		t.Errorf("dirs %v, want one group under %s (the nearest cgroup the user may manage)", r.Dirs, want)
	}
	if !r.Born {
		t.Error("the child was not born in the group")
	}
	if r.Ended != "signal: killed" {
		t.Errorf("the child ended with %q, want killed", r.Ended)
	}
	if len(r.LeftDirs) != 0 {
		t.Errorf("left behind: %v", r.LeftDirs)
	}
}
