//go:build linux

package escape

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bombCap bounds every fork bomb of the tests: the baseline, which the
// test ends as soon as it has passed the limit under test, and a sandboxed
// one should cordon's own limit fail. The bomb stops at this many tasks
// instead of taking the shared machine, and the test reports the escape
// instead of hanging in a /proc of tens of thousands of processes. It is
// well above the limit under test (64) and what cordon's own processes
// add. Two bounds hold it, both the test's own: a pids cgroup (for root,
// whom RLIMIT_NPROC does not bind) and, for an unprivileged uid,
// RLIMIT_NPROC as well (the uid is the test's alone, so the limit counts
// only the bomb and the cordon running it).
const bombCap = 256

// pidsBound is a pids cgroup of the test's, with pids.max = bombCap. cordon
// makes a run's group below its caller's (the promise of internal/cgroup),
// so a run started inside stays inside; contains checks that it did.
type pidsBound struct {
	dir  string // the group the processes go to
	rel  string // its path in the hierarchy, as /proc/PID/cgroup names it
	hier string // the /proc/PID/cgroup prefix of the hierarchy ("4:pids:" or "0::")
	top  string // the group that holds pids.max (dir or its parent)
}

// newPidsBound makes the group, or says why it cannot: a fork bomb without
// a bound must not run.
func newPidsBound(t *testing.T) (*pidsBound, error) {
	t.Helper()
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	name := "cordon-escape-bomb-" + randomToken()
	// cgroup v1: a pids hierarchy of its own.
	for _, line := range strings.Split(string(own), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) == 3 && slices.Contains(strings.Split(f[1], ","), "pids") {
			mnt := cgroupMount(string(mounts), "cgroup", "pids")
			if mnt == "" {
				return nil, errors.New("/proc/self/cgroup names a pids hierarchy that is not mounted")
			}
			b := &pidsBound{rel: filepath.Join(f[2], name), hier: f[0] + ":" + f[1] + ":"}
			b.dir = filepath.Join(mnt, b.rel)
			b.top = b.dir
			return b, b.make(t)
		}
	}
	// cgroup v2: the group holds pids.max and enables pids for its
	// children; the processes go to a leaf below it (a group with
	// processes may not enable controllers), and cordon makes its run's
	// group beside the leaf.
	mnt := cgroupMount(string(mounts), "cgroup2", "")
	if mnt == "" {
		return nil, errors.New("no pids cgroup hierarchy is mounted")
	}
	ctl, _ := os.ReadFile(filepath.Join(mnt, "cgroup.subtree_control"))
	if !slices.Contains(strings.Fields(string(ctl)), "pids") {
		return nil, fmt.Errorf("the pids controller is not enabled below the cgroup v2 root (%s/cgroup.subtree_control)", mnt)
	}
	b := &pidsBound{rel: "/" + name + "/leaf", hier: "0::", top: filepath.Join(mnt, name)}
	b.dir = filepath.Join(b.top, "leaf")
	return b, b.make(t)
}

// cgroupMount finds the mount point of a cgroup filesystem of fstype,
// with option opt among its super options if opt is set.
func cgroupMount(mountinfo, fstype, opt string) string {
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		pf, qf := strings.Fields(pre), strings.Fields(post)
		if len(pf) < 5 || len(qf) < 3 || qf[0] != fstype {
			continue
		}
		if opt == "" || slices.Contains(strings.Split(qf[2], ","), opt) {
			return pf[4]
		}
	}
	return ""
}

func (b *pidsBound) make(t *testing.T) error {
	if err := os.Mkdir(b.top, 0o755); err != nil {
		return err
	}
	t.Cleanup(b.remove(t))
	if err := os.WriteFile(filepath.Join(b.top, "pids.max"), []byte(strconv.Itoa(bombCap)), 0o644); err != nil {
		return fmt.Errorf("set pids.max: %w", err)
	}
	if b.dir != b.top {
		if err := os.WriteFile(filepath.Join(b.top, "cgroup.subtree_control"), []byte("+pids"), 0o644); err != nil {
			return fmt.Errorf("enable pids below %s: %w", b.top, err)
		}
		if err := os.Mkdir(b.dir, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// add moves pid into the group.
func (b *pidsBound) add(pid int) error {
	return os.WriteFile(filepath.Join(b.dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}

// contains reports whether pid, a process whose command line holds token,
// is in the group or below it. A process that no longer holds the token
// counts as contained: it is past the point of its exit where the kernel
// moves it to the root group (or gone), and forks no more.
func (b *pidsBound) contains(pid int, token string) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return true
	}
	if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); !bytes.Contains(cmdline, []byte(token)) {
		return true
	}
	top := strings.TrimSuffix(b.rel, "/leaf")
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, b.hier); ok {
			return p == top || strings.HasPrefix(p, top+"/")
		}
	}
	return false
}

// members lists the processes in the group and below it.
func (b *pidsBound) members() []int {
	var out []int
	filepath.Walk(b.top, func(p string, info os.FileInfo, err error) error {
		if err != nil || !info.IsDir() {
			return nil
		}
		data, _ := os.ReadFile(filepath.Join(p, "cgroup.procs"))
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil {
				out = append(out, pid)
			}
		}
		return nil
	})
	return out
}

// remove kills what is left in the group (a bomb's copies, should cordon
// have left them) and removes it, the groups cordon left in it included.
func (b *pidsBound) remove(t *testing.T) func() {
	return func() {
		empty := func() bool {
			pids := b.members()
			for _, pid := range pids {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			return len(pids) == 0
		}
		if !waitFor(empty, 30*time.Second) {
			t.Errorf("the test's pids group %s still holds %v", b.top, b.members())
			return
		}
		var dirs []string
		filepath.Walk(b.top, func(p string, info os.FileInfo, err error) error {
			if err == nil && info.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		slices.Reverse(dirs) // the deepest first
		for _, d := range dirs {
			if err := os.Remove(d); err != nil {
				t.Errorf("remove the test's pids group: %v", err)
			}
		}
	}
}

// startBounded starts cmd inside bound before it can run anything: it
// starts a shell that waits on a pipe, moves that into the group, and
// only then lets it exec cmd (a cgroup v1 hierarchy cannot take a process
// at its birth). As an unprivileged uid, cmd also starts under a soft
// RLIMIT_NPROC of bombCap. The process has a group of its own (Setpgid),
// so that a single kill of the group ends every copy of a bomb: the
// kernel does not let a fork slip past a signal to its group. It runs at
// the lowest priority (nice 19), so that the shared machine, and the
// test's own sampling of the bomb, keep the CPU.
func startBounded(cmd *exec.Cmd, bound *pidsBound, uid int) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer w.Close()
	if len(cmd.ExtraFiles) > 0 {
		return errors.New("startBounded: cmd already has extra files")
	}
	cmd.ExtraFiles = []*os.File{r}
	cmd.Args = append([]string{"sh", "-c", `read -r _ <&3 || exit 99; exec "$@" 3<&-`, "bounded", cmd.Path}, cmd.Args[1:]...)
	cmd.Path = "/bin/sh"
	cmd.SysProcAttr.Setpgid = true
	err = startCapped(cmd, uid)
	r.Close()
	if err != nil {
		return err
	}
	if err := bound.add(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("move the bomb into the test's pids group: %w", err)
	}
	if !bound.contains(cmd.Process.Pid, "") {
		cmd.Process.Kill()
		cmd.Wait()
		return errors.New("the bomb is not in the test's pids group after the move")
	}
	if err := unix.Setpriority(unix.PRIO_PROCESS, cmd.Process.Pid, 19); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("lower the bomb's priority: %w", err)
	}
	_, err = w.Write([]byte("go\n"))
	return err
}

// startCapped starts cmd with RLIMIT_NPROC (soft) at bombCap when it runs
// as a user other than root (root's processes are not bound by it). The
// limit is the test process's for the moment of the start, which the child
// inherits; the process limit tests run alone.
func startCapped(cmd *exec.Cmd, uid int) error {
	if uid == 0 {
		return cmd.Start()
	}
	// Only the soft limit: raising a hard limit again needs
	// CAP_SYS_RESOURCE, which root may lack (it does on this project's
	// machines), and the test process must get its own limit back.
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &old); err != nil {
		return fmt.Errorf("read RLIMIT_NPROC: %w", err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_NPROC, &unix.Rlimit{Cur: min(bombCap, old.Max), Max: old.Max}); err != nil {
		return fmt.Errorf("cap RLIMIT_NPROC for the bomb: %w", err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NPROC, &old)
	return cmd.Start()
}

// forkFailed is what a shell says when a fork fails (dash: "Cannot fork",
// bash: "fork: retry: Resource temporarily unavailable").
func forkFailed(stderr []byte) bool {
	return bytes.Contains(bytes.ToLower(stderr), []byte("fork"))
}

// quiet is what a bomb's stderr says apart from its copies' complaints
// (failed forks, interleaved).
func quiet(stderr []byte) string {
	var keep []string
	n := 0
	for _, line := range strings.Split(string(stderr), "\n") {
		switch {
		case forkFailed([]byte(line)) || strings.Contains(line, "cordon-bomb-"):
			n++
		case strings.TrimSpace(line) != "":
			keep = append(keep, line)
		}
	}
	return fmt.Sprintf("%s\n(and %d lines from the bomb's copies)", strings.Join(keep, "\n"), n)
}

// watchStderr copies r to buf and closes limited the first time a line
// says a fork failed: the bomb has met a limit.
func watchStderr(r *os.File, buf *bytes.Buffer, limited chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	once := false
	for sc.Scan() {
		if buf.Len() < 64<<10 {
			buf.Write(sc.Bytes())
			buf.WriteByte('\n')
		}
		if !once && forkFailed(sc.Bytes()) {
			once = true
			close(limited)
		}
	}
	r.Close()
}
