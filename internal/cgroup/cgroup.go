package cgroup

import (
	"fmt"

	"github.com/cordon-sandbox/cordon/internal/report"
)

// DefaultMaxProcesses is the process limit proposed for [limits]
// max_processes when the policy does not set one. It counts tasks: every
// thread is one, in pids.max as in RLIMIT_NPROC, and so are the sandbox
// init's own (a handful; it is a Go program with GOMAXPROCS=1).
//
// Ordinary builds stay far below it. Measured or derived peaks, on a machine
// with N cores:
//
//   - `go test ./...`: up to N test binaries at once, each with about N+10
//     threads, plus the compilers: about N*(N+10), 416 at N=16, 4,736 at N=64;
//   - Gradle with parallel test workers: N JVMs of 40 to 90 threads each
//     (GC and JIT threads grow with N), plus the daemons: about 1,200 at
//     N=16, 6,000 at N=64;
//   - jest or vitest workers: N-1 Node processes of about N+7 threads:
//     about 350 at N=16, 4,400 at N=64;
//   - a headless Chromium run (browser, GPU, network, a renderer per tab, 15
//     to 30 threads each) with 4 to 8 parallel browsers: 500 to 1,500;
//   - cargo build -j N: N rustc processes of up to 16 codegen threads.
//
// So 8192 leaves a 64-core workstation's largest builds room, while a fork
// bomb stops at 8192 tasks: about 8192 * (16 KiB kernel stack + page tables
// and private pages, 100 to 500 KiB for a shell) = 1 to 4 GiB, survivable
// on a developer machine and bounded further by a memory limit; and a
// quarter of the smallest default pid space (pid_max 32768), so the host can
// still start processes to clean up.
const DefaultMaxProcesses = 8192

// Limits are what one run may use; zero means "not limited".
type Limits struct {
	// MaxProcesses caps the tasks (processes and threads) alive at once.
	MaxProcesses uint64 `json:"max_processes"`
	// MemoryBytes caps the memory charged to the run, RAM and swap together.
	MemoryBytes uint64 `json:"memory_bytes"`
}

// Options describe the run, for the parts of the report that depend on it.
type Options struct {
	// UserNamespace says the run's processes live in their own user
	// namespace, where RLIMIT_NPROC (set by the supervisor from the same
	// limit) counts only them.
	UserNamespace bool `json:"user_namespace"`
}

// Kind is the mechanism that holds a limit.
type Kind string

const (
	// NotRequested: the limit is zero.
	NotRequested Kind = "not-requested"
	// CgroupV2: pids.max or memory.max in a cgroup v2 group of the run.
	CgroupV2 Kind = "cgroup-v2"
	// CgroupV1: pids.max or memory.limit_in_bytes in a cgroup v1 group.
	CgroupV1 Kind = "cgroup-v1"
	// RlimitNprocUserNS: no cgroup, but RLIMIT_NPROC, which the kernel
	// counts per user namespace (5.14 and later), so only the run's tasks.
	RlimitNprocUserNS Kind = "rlimit-nproc-userns"
	// RlimitNprocUser: no cgroup and no user namespace; RLIMIT_NPROC counts
	// every task of the real uid on the machine, not only the run's.
	RlimitNprocUser Kind = "rlimit-nproc-user"
	// NotApplied: nothing holds the limit.
	NotApplied Kind = "not-applied"
)

// Outcome says how one limit is held.
type Outcome struct {
	// Limit is the policy key: "max_processes" or "memory".
	Limit string `json:"limit"`
	// Value is the limit asked for.
	Value uint64 `json:"value"`
	Kind  Kind   `json:"kind"`
	// Path is the cgroup directory that holds the limit: in a [Plan] the
	// cordon directory the run's group will be made in, in a [Group] the
	// run's own directory. Also set for NotRequested when the run's tasks
	// are counted there anyway.
	Path string `json:"path,omitempty"`
	// Reason says why no cgroup holds the limit, when none does.
	Reason string `json:"reason,omitempty"`
	// Note qualifies a limit that holds (for example: swap not counted).
	Note string `json:"note,omitempty"`
	// Fix says what would make a cgroup hold it.
	Fix string `json:"fix,omitempty"`
}

// Applied reports whether something holds the limit.
func (o Outcome) Applied() bool {
	switch o.Kind {
	case CgroupV1, CgroupV2, RlimitNprocUserNS, RlimitNprocUser:
		return true
	}
	return false
}

// Mechanism names what holds the limit: "cgroup v2 pids.max at PATH",
// "cgroup v1 pids at PATH", "RLIMIT_NPROC per user namespace", "not
// applied: REASON", and so on.
func (o Outcome) Mechanism() string {
	file := "pids"
	if o.Limit == "memory" {
		file = "memory"
	}
	switch o.Kind {
	case NotRequested:
		if o.Path != "" {
			return "not requested; counted in " + o.Path
		}
		return "not requested"
	case CgroupV2:
		return fmt.Sprintf("cgroup v2 %s.max at %s", file, o.Path)
	case CgroupV1:
		return fmt.Sprintf("cgroup v1 %s at %s", file, o.Path)
	case RlimitNprocUserNS:
		return "RLIMIT_NPROC per user namespace"
	case RlimitNprocUser:
		return "RLIMIT_NPROC of the real uid, which counts every process and thread of the user on this machine, not only the run's"
	}
	return "not applied: " + o.Reason
}

// String is the limit, its mechanism and what qualifies it, for the
// enforcement report.
func (o Outcome) String() string {
	s := o.Mechanism()
	if o.Kind != NotRequested {
		unit := "tasks"
		if o.Limit == "memory" {
			unit = "bytes"
		}
		s = fmt.Sprintf("%d %s: %s", o.Value, unit, s)
	}
	if o.Note != "" {
		s += " (" + o.Note + ")"
	}
	if o.Reason != "" && o.Kind != NotApplied {
		s += "; no cgroup: " + o.Reason
	}
	return s
}

// Status is the outcome as an enforcement report status: a limit no
// mechanism holds is Missing, one held only by an RLIMIT_NPROC that counts
// the whole user is Downgraded.
func (o Outcome) Status() report.Status {
	switch o.Kind {
	case NotRequested:
		return report.Off
	case CgroupV1, CgroupV2, RlimitNprocUserNS:
		return report.Applied
	case RlimitNprocUser:
		return report.Downgraded
	}
	return report.Missing
}

// Location is one cgroup directory under which the run's group is made: one
// per cgroup v1 hierarchy used, and at most one in cgroup v2.
type Location struct {
	// Version is 1 or 2.
	Version int `json:"version"`
	// Mount is where the hierarchy is mounted.
	Mount string `json:"mount"`
	// Cgroup is the parent cgroup's path in the hierarchy, as in
	// /proc/self/cgroup.
	Cgroup string `json:"cgroup"`
	// Dir is the parent cgroup's directory; the run's group is made in
	// Dir/cordon.
	Dir string `json:"dir"`
	// Controllers are those this group limits or counts with: "pids",
	// "memory". Empty for a cgroup v2 group that only holds the processes
	// (so that they can be killed together).
	Controllers []string `json:"controllers,omitempty"`
}

// CordonDir is the directory cordon owns in the parent cgroup.
func (l Location) CordonDir() string { return l.Dir + "/" + cordonName }

func (l Location) has(c string) bool {
	for _, x := range l.Controllers {
		if x == c {
			return true
		}
	}
	return false
}

// cordonName is the directory cordon makes in a parent cgroup to hold its runs.
const cordonName = "cordon"

// Plan is where the run's groups go and how each limit will be held.
type Plan struct {
	Limits  Limits  `json:"limits"`
	Options Options `json:"options"`
	UID     int     `json:"uid"`
	// Groups are the groups to make, cgroup v1 ones first.
	Groups    []Location `json:"groups,omitempty"`
	Processes Outcome    `json:"max_processes"`
	Memory    Outcome    `json:"memory"`
}

// AddTo adds the two limits to an enforcement report, as the layers
// "max_processes" and "memory".
func (p *Plan) AddTo(rep *report.Report) {
	for _, o := range []Outcome{p.Processes, p.Memory} {
		rep.Add(o.Limit, o.Status(), "%s", o.String())
	}
}

// Error is a failure to make, fill or remove a group. It names the file and
// says what to do.
type Error struct {
	// Op is what was being done: "create", "write", "move a process into",
	// "remove", "kill the processes of".
	Op   string
	Path string
	Err  error
	Fix  string
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("cgroup: cannot %s %s", e.Op, e.Path)
	}
	return fmt.Sprintf("cgroup: cannot %s %s: %v", e.Op, e.Path, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Hint says what to do about it.
func (e *Error) Hint() string { return e.Fix }

// Stats are the numbers the groups keep that are cheap to read, for the
// audit record. Zero means "not known" (no such group, or an older kernel).
type Stats struct {
	// TasksPeak is the most tasks alive at once (pids.peak).
	TasksPeak uint64 `json:"tasks_peak,omitempty"`
	// ForksRefused counts forks refused at the limit (pids.events max).
	ForksRefused uint64 `json:"forks_refused,omitempty"`
	// MemoryPeak is the most memory charged at once, in bytes (memory.peak;
	// cgroup v1 memory.max_usage_in_bytes).
	MemoryPeak uint64 `json:"memory_peak_bytes,omitempty"`
	// MemoryLimitHits counts the times the memory limit was reached
	// (memory.events max; cgroup v1 memory.failcnt).
	MemoryLimitHits uint64 `json:"memory_limit_hits,omitempty"`
	// OOMKills counts processes the kernel killed for lack of memory in the
	// group (memory.events oom_kill; cgroup v1 memory.oom_control oom_kill).
	OOMKills uint64 `json:"oom_kills,omitempty"`
}
