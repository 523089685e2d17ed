package cgroup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cordon-sandbox/cordon/internal/report"
)

// osFS is the live kernel's cgroup filesystems.
type osFS struct{}

func (osFS) ReadFile(name string) ([]byte, error)  { return os.ReadFile(name) }
func (osFS) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }
func (osFS) CanWrite(name string) error {
	if err := unix.Access(name, unix.W_OK); err != nil {
		return err
	}
	return nil
}

// LiveHost reads the calling process's cgroups and mounts.
func LiveHost() (Host, error) {
	cg, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return Host{}, fmt.Errorf("cgroup: read /proc/self/cgroup: %w", err)
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return Host{}, fmt.Errorf("cgroup: read /proc/self/mountinfo: %w", err)
	}
	return Host{ProcCgroup: string(cg), MountInfo: string(mi), UID: os.Getuid(), FS: osFS{}}, nil
}

// Probe decides, for this process on this machine, where a run's groups
// would go and what would hold each limit. It changes nothing.
func Probe(lim Limits, opt Options) (*Plan, error) {
	h, err := LiveHost()
	if err != nil {
		return nil, err
	}
	return Decide(h, lim, opt), nil
}

// Create probes and makes the run's groups: [Probe] then [Plan.Create].
func Create(runID string, lim Limits, opt Options) (*Group, error) {
	p, err := Probe(lim, opt)
	if err != nil {
		return nil, err
	}
	return p.Create(runID)
}

// Group is one run's cgroups: one per cgroup v1 hierarchy used, and one in
// cgroup v2, all holding the same processes. Its methods may be called from
// several goroutines.
type Group struct {
	name      string
	dirs      []groupDir
	processes Outcome
	memory    Outcome

	mu     sync.Mutex
	fd     *os.File // the cgroup v2 directory, for CLONE_INTO_CGROUP
	closed bool
}

// groupDir is one of the run's directories.
type groupDir struct {
	loc  Location
	dir  string // the directory
	path string // its cgroup path, as /proc/PID/cgroup shows it
}

// Create makes the run's groups under each location's cordon directory,
// named after runID (letters, digits, '-', '_'; empty: a random one) and the
// calling process, and writes the limits. Nothing is left behind if it
// fails. A limit that the plan could not place is not an error here: the
// plan's outcomes say so, and the caller decides whether to run.
func (p *Plan) Create(runID string) (*Group, error) {
	if runID == "" {
		var b [8]byte
		rand.Read(b[:])
		runID = hex.EncodeToString(b[:])
	}
	if err := validRunID(runID); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	self, err := selfOwner()
	if err != nil {
		return nil, err
	}
	g := &Group{name: groupName(runID, self), processes: p.Processes, memory: p.Memory}
	ok := false
	defer func() {
		if !ok {
			g.remove()
		}
	}()
	for _, loc := range p.Groups {
		d, err := makeGroup(loc, g.name, p.UID)
		if err != nil {
			unix.Rmdir(loc.CordonDir()) // if this made it and nothing else uses it
			return nil, err
		}
		g.dirs = append(g.dirs, d)
	}
	if err := g.setLimits(p.Limits); err != nil {
		return nil, err
	}
	ok = true
	return g, nil
}

func makeGroup(loc Location, name string, uid int) (groupDir, error) {
	cd := loc.CordonDir()
	d := groupDir{loc: loc, dir: cd + "/" + name, path: path.Join(loc.Cgroup, cordonName, name)}
	// A run that ends removes an empty cordon directory; if that happens
	// between our two mkdirs, make it again.
	for attempt := 0; ; attempt++ {
		if err := os.Mkdir(cd, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return d, &Error{Op: "create", Path: cd, Err: unwrapPath(err), Fix: writeFix(uid, loc.Dir)}
		}
		if loc.Version == 2 && len(loc.Controllers) > 0 {
			if err := enable(cd, loc.Controllers, uid); err != nil {
				if attempt < 3 && errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return d, err
			}
		}
		err := os.Mkdir(d.dir, 0o755)
		if err == nil {
			return d, nil
		}
		if attempt < 3 && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		return d, &Error{Op: "create", Path: d.dir, Err: unwrapPath(err), Fix: writeFix(uid, cd)}
	}
}

// enable turns the controllers on for the children of the cordon directory.
func enable(cd string, ctls []string, uid int) error {
	name := cd + "/cgroup.subtree_control"
	b, err := os.ReadFile(name)
	if err != nil {
		return &Error{Op: "read", Path: name, Err: unwrapPath(err), Fix: writeFix(uid, cd)}
	}
	have := fields(string(b))
	var add []string
	for _, c := range ctls {
		if !contains(have, c) {
			add = append(add, "+"+c)
		}
	}
	if len(add) == 0 {
		return nil
	}
	if err := writeFile(name, strings.Join(add, " ")); err != nil {
		return &Error{Op: "write", Path: name, Err: err,
			Fix: fmt.Sprintf("the parent cgroup %s must enable %s in its own cgroup.subtree_control and hold no processes of its own", path.Dir(cd), strings.Join(ctls, " "))}
	}
	return nil
}

func (g *Group) setLimits(lim Limits) error {
	for i := range g.dirs {
		d := &g.dirs[i]
		if d.loc.has("pids") {
			if lim.MaxProcesses > 0 {
				name := d.dir + "/pids.max"
				if err := writeFile(name, strconv.FormatUint(lim.MaxProcesses, 10)); err != nil {
					return &Error{Op: "write", Path: name, Err: err, Fix: "the group was just made by this process; check that nothing else manages " + d.dir}
				}
				if got := strings.TrimSpace(readFile(name)); got != strconv.FormatUint(lim.MaxProcesses, 10) {
					return &Error{Op: "set", Path: name, Err: fmt.Errorf("wrote %d, the kernel keeps %q", lim.MaxProcesses, got)}
				}
				g.processes.Path = d.dir
			} else if g.processes.Kind == NotRequested {
				g.processes.Path = d.dir
			}
		}
		if d.loc.has("memory") && lim.MemoryBytes > 0 {
			note, err := setMemory(d, lim.MemoryBytes)
			if err != nil {
				return err
			}
			g.memory.Path, g.memory.Note = d.dir, note
		}
	}
	return nil
}

// setMemory writes the memory limit. It bounds RAM and swap together: the
// limit is what the run may take from the machine, and a limit on RAM alone
// would let a run that fills it push the rest to swap (the host's disk and
// everyone's latency) instead of failing.
func setMemory(d *groupDir, n uint64) (note string, err error) {
	v := strconv.FormatUint(n, 10)
	files := []string{"memory.max", "memory.swap.max"} // swap: none beyond the limit
	vals := []string{v, "0"}
	if d.loc.Version == 1 {
		// memory+swap may not be set below memory, so memory goes first.
		files = []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"}
		vals = []string{v, v}
	}
	name := d.dir + "/" + files[0]
	if err := writeFile(name, vals[0]); err != nil {
		return "", &Error{Op: "write", Path: name, Err: err, Fix: "the group was just made by this process; check that nothing else manages " + d.dir}
	}
	name = d.dir + "/" + files[1]
	if _, err := os.Stat(name); err != nil {
		if d.loc.Version == 1 {
			return "RAM only: the kernel keeps no swap account (boot with swapaccount=1 to count swap too)", nil
		}
		return "RAM only: the kernel keeps no swap account (CONFIG_MEMCG_SWAP)", nil
	}
	if err := writeFile(name, vals[1]); err != nil {
		return "", &Error{Op: "write", Path: name, Err: err, Fix: "the group was just made by this process; check that nothing else manages " + d.dir}
	}
	return "RAM and swap together", nil
}

// Name is the run's directory name in every hierarchy.
func (g *Group) Name() string { return g.name }

// Dirs are the run's directories, cgroup v1 ones first.
func (g *Group) Dirs() []string {
	var out []string
	for _, d := range g.dirs {
		out = append(out, d.dir)
	}
	return out
}

// Holds reports whether the run's processes are in at least one group, so
// that [Group.Kill] reaches them all.
func (g *Group) Holds() bool { return len(g.dirs) > 0 }

// Processes says what holds the process limit.
func (g *Group) Processes() Outcome { return g.processes }

// Memory says what holds the memory limit.
func (g *Group) Memory() Outcome { return g.memory }

// AddTo adds the two limits to an enforcement report, with the run's own
// directories, as the layers "max_processes" and "memory".
func (g *Group) AddTo(rep *report.Report) {
	(&Plan{Processes: g.processes, Memory: g.memory}).AddTo(rep)
}

// Add moves a process (all its threads) into every group of the run. Its
// children are born inside. Moving does not check pids.max: a process with
// more threads than the limit still moves, and only new tasks are refused.
//
// Add the sandbox's init after it started and before it may start
// anything (it waits for its plan): then no process of the run is ever
// outside. Adding a process that is already in (after [Group.CloneInto])
// changes nothing.
func (g *Group) Add(pid int) error {
	if g == nil {
		return nil
	}
	s := strconv.Itoa(pid)
	for _, d := range g.dirs {
		name := d.dir + "/cgroup.procs"
		if err := writeFile(name, s); err != nil {
			fix := "the process must be alive and the caller allowed to move it"
			if d.loc.Version == 2 {
				fix += fmt.Sprintf(" (cgroup v2: write access to %s/cgroup.procs, the common ancestor)", d.loc.Dir)
			}
			return &Error{Op: "move process " + s + " into", Path: name, Err: err, Fix: fix}
		}
	}
	return nil
}

// AddThread puts one thread into the run's cgroup v1 groups: cgroup v1
// membership is per thread (the file "tasks"), and what a thread starts is
// born in its groups. The sandbox's init moves only the thread that starts
// the command, so that the init's other threads, which the Go runtime may
// need to create at any time, never meet the command's limits. cgroup v2
// groups are left alone (their membership is per process): start the
// command inside them with [Group.V2Dir].
func (g *Group) AddThread(tid int) error {
	if g == nil {
		return nil
	}
	s := strconv.Itoa(tid)
	for _, d := range g.dirs {
		if d.loc.Version != 1 {
			continue
		}
		name := d.dir + "/tasks"
		if err := writeFile(name, s); err != nil {
			return &Error{Op: "move thread " + s + " into", Path: name, Err: err, Fix: "the thread must be alive and the caller allowed to move it"}
		}
	}
	return nil
}

// AddProcessV2 moves a process (all its threads) into the run's cgroup v2
// group only, where membership is per process; together with
// [Group.AddThread] for cgroup v1 it is how the sandbox's init goes in.
func (g *Group) AddProcessV2(pid int) error {
	if g == nil {
		return nil
	}
	s := strconv.Itoa(pid)
	for _, d := range g.dirs {
		if d.loc.Version != 2 {
			continue
		}
		name := d.dir + "/cgroup.procs"
		if err := writeFile(name, s); err != nil {
			return &Error{Op: "move process " + s + " into", Path: name, Err: err,
				Fix: fmt.Sprintf("the process must be alive and the caller allowed to move it (cgroup v2: write access to %s/cgroup.procs, the common ancestor)", d.loc.Dir)}
		}
	}
	return nil
}

// V2Path returns the run's cgroup v2 directory, for a process that starts
// the command born inside it (CLONE_INTO_CGROUP, Linux 5.7), or "" when the
// run has no cgroup v2 group or the kernel is older. Then [Group.Add] is the
// way in, for the whole process.
func (g *Group) V2Path() string {
	if g == nil || !kernelAtLeast(5, 7) {
		return ""
	}
	for _, d := range g.dirs {
		if d.loc.Version == 2 {
			return d.dir
		}
	}
	return ""
}

// HasV2 reports whether the run has a cgroup v2 group.
func (g *Group) HasV2() bool {
	if g == nil {
		return false
	}
	for _, d := range g.dirs {
		if d.loc.Version == 2 {
			return true
		}
	}
	return false
}

// CloneInto makes a process started with attr born in the run's cgroup v2
// group (CLONE_INTO_CGROUP, Linux 5.7), so not even its first instruction
// runs outside. It reports false, and leaves attr alone, when there is no
// v2 group or the kernel is older; either way call [Group.Add] after the
// start, which also fills the cgroup v1 groups. The directory stays open
// until [Group.Close].
func (g *Group) CloneInto(attr *syscall.SysProcAttr) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || !kernelAtLeast(5, 7) {
		return false
	}
	for _, d := range g.dirs {
		if d.loc.Version != 2 {
			continue
		}
		if g.fd == nil {
			f, err := os.OpenFile(d.dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return false
			}
			g.fd = f
		}
		attr.UseCgroupFD = true
		attr.CgroupFD = int(g.fd.Fd())
		return true
	}
	return false
}

// Procs lists the processes in the run's groups.
func (g *Group) Procs() ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for _, d := range g.dirs {
		pids, err := procsTree(d.dir)
		if err != nil {
			return out, err
		}
		for _, p := range pids {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	sort.Ints(out)
	return out, nil
}

// killWait bounds how long Kill and Close wait for the processes to go.
const killWait = 3 * time.Second

// Kill kills every process in the run's groups and waits, for a few
// seconds at most, until none is left. In cgroup v2 it writes cgroup.kill
// (Linux 5.14), which the kernel applies to every process at once. Without
// it, it sends SIGKILL to each process the groups list, again and again
// until they list none: a process with SIGKILL pending can no longer fork,
// so each round ends the generation it saw, and pids.max bounds how many
// there can be. Each signal goes through a pidfd to a process checked to be
// in the group, so a pid reused meanwhile is never hit.
func (g *Group) Kill() error {
	if g == nil {
		return nil
	}
	return killDirs(g.dirs)
}

func killDirs(dirs []groupDir) error {
	for _, d := range dirs {
		if d.loc.Version == 2 {
			name := d.dir + "/cgroup.kill"
			if _, err := os.Stat(name); err == nil {
				if err := writeFile(name, "1"); err != nil && !errors.Is(err, unix.ENOENT) {
					return &Error{Op: "write", Path: name, Err: err}
				}
			}
		}
	}
	deadline := time.Now().Add(killWait)
	pause := time.Millisecond
	for {
		left := 0
		for _, d := range dirs {
			sub, _ := subtree(d.dir)
			for _, dir := range sub {
				pids, _ := readProcs(dir)
				for _, pid := range pids {
					left++
					killMember(pid, d, dir)
				}
			}
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return &Error{Op: "kill the processes of", Path: dirs[0].dir,
				Err: fmt.Errorf("%d still listed after %v of SIGKILL", left, killWait),
				Fix: "a process stuck in the kernel (uninterruptible sleep, state D) cannot die until its I/O ends; see ps -o pid,stat,wchan"}
		}
		time.Sleep(pause)
		if pause < 20*time.Millisecond {
			pause *= 2
		}
	}
}

// killMember sends SIGKILL to pid if it is in the group's directory dir (or
// below it).
func killMember(pid int, d groupDir, dir string) {
	want := d.path + strings.TrimPrefix(dir, d.dir)
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if !errors.Is(err, unix.ENOSYS) {
			return // gone
		}
		if member(pid, d.loc, want) {
			unix.Kill(pid, unix.SIGKILL)
		}
		return
	}
	defer unix.Close(fd)
	// The pidfd holds this process; if the pid was reused before it was
	// opened, the process it holds is not in the group.
	if member(pid, d.loc, want) {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

// member says whether /proc/pid/cgroup puts pid in the cgroup at cg (or
// below) of loc's hierarchy.
func member(pid int, loc Location, cg string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return false
	}
	pc := parseProcCgroup(string(b))
	got, ok := pc.v2, pc.hasV2
	if loc.Version == 1 {
		if len(loc.Controllers) == 0 {
			return false
		}
		got, ok = pc.v1[loc.Controllers[0]]
	}
	return ok && (got == cg || strings.HasPrefix(got, cg+"/"))
}

// Stats reads the groups' peaks and counters. Read them after the command
// ended and before Close.
func (g *Group) Stats() Stats {
	var s Stats
	for _, d := range g.dirs {
		if d.loc.has("pids") {
			s.TasksPeak = number(readFile(d.dir + "/pids.peak"))
			s.ForksRefused = keyValue(readFile(d.dir+"/pids.events"), "max")
		}
		if d.loc.has("memory") {
			if d.loc.Version == 2 {
				s.MemoryPeak = number(readFile(d.dir + "/memory.peak"))
				ev := readFile(d.dir + "/memory.events")
				s.MemoryLimitHits = keyValue(ev, "max")
				s.OOMKills = keyValue(ev, "oom_kill")
			} else {
				s.MemoryPeak = number(readFile(d.dir + "/memory.max_usage_in_bytes"))
				s.MemoryLimitHits = number(readFile(d.dir + "/memory.failcnt"))
				s.OOMKills = keyValue(readFile(d.dir+"/memory.oom_control"), "oom_kill")
			}
		}
	}
	return s
}

// Close kills what is left in the groups and removes their directories
// (and cordon's directory above them when it is empty). It waits for a few
// seconds at most; it can be called again after an error.
func (g *Group) Close() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fd != nil {
		g.fd.Close()
		g.fd = nil
	}
	g.closed = true
	var errs []error
	if err := killDirs(g.dirs); err != nil {
		errs = append(errs, err)
	}
	if err := g.remove(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// remove removes the run's directories that exist.
func (g *Group) remove() error {
	var errs []error
	for i := len(g.dirs) - 1; i >= 0; i-- {
		if err := removeGroup(g.dirs[i].dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeGroup removes a group and any groups below it, retrying while the
// kernel still counts exiting processes, then cordon's directory above it
// when that is empty.
func removeGroup(dir string) error {
	sub, err := subtree(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(killWait)
	for i := len(sub) - 1; i >= 0; i-- {
		pause := time.Millisecond
		for {
			err := unix.Rmdir(sub[i])
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
				fix := "kill the processes listed in its cgroup.procs, then rmdir it"
				if !errors.Is(err, unix.EBUSY) {
					fix = "remove it as its owner (rmdir, not rm -r: cgroup directories hold no removable files)"
				}
				return &Error{Op: "remove", Path: sub[i], Err: err, Fix: fix}
			}
			time.Sleep(pause)
			if pause < 50*time.Millisecond {
				pause *= 2
			}
		}
	}
	// Another run may hold it, or make it again; either is fine.
	unix.Rmdir(path.Dir(dir))
	return nil
}

// subtree lists dir and the directories below it, parents first.
func subtree(dir string) ([]string, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, err
	}
	out := []string{dir}
	for i := 0; i < len(out); i++ {
		ents, err := os.ReadDir(out[i])
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() {
				out = append(out, out[i]+"/"+e.Name())
			}
		}
	}
	return out, nil
}

func procsTree(dir string) ([]int, error) {
	sub, err := subtree(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for _, d := range sub {
		pids, err := readProcs(d)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, err
		}
		out = append(out, pids...)
	}
	return out, nil
}

func readProcs(dir string) ([]int, error) {
	b, err := os.ReadFile(dir + "/cgroup.procs")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// RemoveStale removes the groups that runs of a supervisor that is gone
// left behind (it was killed before it could remove them), after killing
// what is still in them. It looks in every cordon directory this process's
// runs could use, and touches only directories named by cordon whose
// supervisor, in this PID namespace, no longer exists (its pid is free or
// now belongs to a process started at another time). It returns the
// directories it removed.
func RemoveStale() ([]string, error) {
	h, err := LiveHost()
	if err != nil {
		return nil, err
	}
	self, err := selfOwner()
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, loc := range parents(h) {
		ents, err := os.ReadDir(loc.CordonDir())
		if err != nil {
			continue
		}
		for _, e := range ents {
			_, o, ok := parseGroupName(e.Name())
			if !e.IsDir() || !ok || o.pidNS != self.pidNS || alive(o) {
				continue
			}
			d := groupDir{loc: loc, dir: loc.CordonDir() + "/" + e.Name(), path: path.Join(loc.Cgroup, cordonName, e.Name())}
			if err := killDirs([]groupDir{d}); err != nil {
				errs = append(errs, err)
				continue
			}
			if err := removeGroup(d.dir); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, d.dir)
		}
	}
	return removed, errors.Join(errs...)
}

// alive says whether the supervisor that made a group still runs.
func alive(o owner) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(o.pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ESRCH) {
		return false
	}
	if err != nil {
		return true // hidden (hidepid) or unreadable: not ours to judge
	}
	start, ok := parseStat(string(b))
	return !ok || start == o.start
}

func selfOwner() (owner, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return owner{}, fmt.Errorf("cgroup: read /proc/self/stat: %w", err)
	}
	start, ok := parseStat(string(b))
	if !ok {
		return owner{}, fmt.Errorf("cgroup: cannot parse /proc/self/stat")
	}
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil {
		return owner{}, fmt.Errorf("cgroup: stat /proc/self/ns/pid: %w", err)
	}
	return owner{pid: os.Getpid(), start: start, pidNS: st.Ino}, nil
}

func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	f := strings.SplitN(rel, ".", 3)
	if len(f) < 2 {
		return false
	}
	ma, _ := strconv.Atoi(f[0])
	mi, _ := strconv.Atoi(strings.TrimRightFunc(f[1], func(r rune) bool { return r < '0' || r > '9' }))
	return ma > major || ma == major && mi >= minor
}

// writeFile writes a control file in one write, as the kernel wants.
func writeFile(name, s string) error {
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return unwrapPath(err)
	}
	_, err = f.Write([]byte(s))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return unwrapPath(err)
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

// unwrapPath drops the *PathError's own path: Error names the file.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func writeFix(uid int, dir string) string {
	if uid == 0 {
		return fmt.Sprintf("make %s writable for root (a container may mount /sys/fs/cgroup read-only)", dir)
	}
	return fmt.Sprintf("uid %d needs write access to %s: a cgroup delegated to the user (systemd: Delegate=pids memory in user@.service)", uid, dir)
}
