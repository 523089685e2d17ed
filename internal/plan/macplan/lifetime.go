package macplan

import "sort"

// The run's lifetime on macOS. There is no PID namespace, no subreaper and
// no parent-death signal: a process that calls setsid(2) and whose parent
// then exits is adopted by launchd, and nothing in the process table says
// where it came from. So the watcher (internal/apply/darwin), a process
// outside the sandbox, follows the run from its start:
//
//   - the command is started as the leader of a new session, and every
//     process in that session is the run's (setpgid(2) cannot leave it);
//   - every process whose parent is one of the run's, at any look at the
//     process table, is the run's from then on, even after it leaves the
//     session (recorded by pid and start time, so a reused pid is not
//     mistaken for it);
//   - the watcher looks at the table often (each time a process of the run
//     forks, and on a short tick), and at the end kills every process of
//     the run and every process group one of them leads, until a look
//     finds none.
//
// What remains: a process that calls setsid and is orphaned between two
// looks is not seen. It stays inside the sandbox, and its network ends with
// the run's proxy, but it keeps running. Tree is the pure part of this, so
// the rules are tested on every system.

// Proc is one entry of the process table.
type Proc struct {
	PID, PPID, PGID, SID int
	// Start is when the process started (any fixed unit), which tells a
	// reused pid from the process that had it before.
	Start int64
}

// Tree follows the processes of one run.
type Tree struct {
	root  Proc
	known map[int]int64
	// self is the watcher's own pid, never a member.
	self int
}

// NewTree starts following a run whose command is root, the leader of its
// own session; self is the watcher, which is never killed.
func NewTree(root Proc, self int) *Tree {
	return &Tree{root: root, known: map[int]int64{root.PID: root.Start}, self: self}
}

// Observe takes a look at the process table and returns the run's
// processes in it, remembering them.
func (t *Tree) Observe(procs []Proc) []Proc {
	byPID := map[int]Proc{}
	for _, p := range procs {
		byPID[p.PID] = p
	}
	// The session is the run's while its leader is the command, or gone:
	// a reused pid that leads another session does not make it ours.
	sessionOurs := true
	if p, ok := byPID[t.root.PID]; ok && p.Start != t.root.Start {
		sessionOurs = false
	}
	member := map[int]bool{}
	for _, p := range procs {
		if t.eligible(p) && (t.isKnown(p) || sessionOurs && p.SID == t.root.PID) {
			member[p.PID] = true
		}
	}
	// Children of members are members; repeat until nothing changes.
	for changed := true; changed; {
		changed = false
		for _, p := range procs {
			if member[p.PID] || !t.eligible(p) {
				continue
			}
			if parent, ok := byPID[p.PPID]; ok && member[parent.PID] && p.Start >= parent.Start {
				member[p.PID] = true
				changed = true
			}
		}
	}
	var out []Proc
	for _, p := range procs {
		if member[p.PID] {
			t.known[p.PID] = p.Start
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

func (t *Tree) isKnown(p Proc) bool {
	start, ok := t.known[p.PID]
	return ok && start == p.Start
}

// eligible leaves out what is never the run's: launchd, the kernel, the
// watcher, and processes older than the command.
func (t *Tree) eligible(p Proc) bool {
	return p.PID > 1 && p.PID != t.self && p.Start >= t.root.Start
}

// Victims returns, for one look at the table, the pids to kill and the
// process groups to kill whole: the group of every member (killing a group
// is one call, which a fork inside it cannot race). Every such group is the
// run's: setpgid(2) joins only groups of the caller's own session, and every
// session a member is in was made by a member.
func (t *Tree) Victims(procs []Proc) (pids, groups []int) {
	members := t.Observe(procs)
	seen := map[int]bool{}
	for _, p := range members {
		pids = append(pids, p.PID)
		if p.PGID > 1 && !seen[p.PGID] {
			seen[p.PGID] = true
			groups = append(groups, p.PGID)
		}
	}
	sort.Ints(groups)
	return pids, groups
}
