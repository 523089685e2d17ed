package macplan

import (
	"slices"
	"testing"
)

// A run whose command is pid 100 (started at time 10), leader of session
// 100, under the watcher (pid 50). Other processes of the user: the shell
// (pid 40, its own session) and an editor (pid 41).
func runTable(extra ...Proc) []Proc {
	return append([]Proc{
		{PID: 1, PPID: 0, PGID: 1, SID: 1, Start: 0},
		{PID: 40, PPID: 1, PGID: 40, SID: 40, Start: 1},
		{PID: 41, PPID: 40, PGID: 41, SID: 40, Start: 2},
		{PID: 50, PPID: 40, PGID: 40, SID: 40, Start: 9},
		{PID: 100, PPID: 50, PGID: 100, SID: 100, Start: 10},
	}, extra...)
}

func pidsOf(ps []Proc) []int {
	var out []int
	for _, p := range ps {
		out = append(out, p.PID)
	}
	return out
}

func TestTreeFollowsTheRun(t *testing.T) {
	root := Proc{PID: 100, PPID: 50, PGID: 100, SID: 100, Start: 10}
	for _, c := range []struct {
		name string
		// looks are the process tables the watcher sees, in order; want is
		// who is killed at the last one.
		looks [][]Proc
		want  []int
	}{
		{"the command alone", [][]Proc{runTable()}, []int{100}},
		{"children and grandchildren", [][]Proc{runTable(
			Proc{PID: 101, PPID: 100, PGID: 100, SID: 100, Start: 11},
			Proc{PID: 102, PPID: 101, PGID: 100, SID: 100, Start: 12})}, []int{100, 101, 102}},
		{"a new process group (setpgid) stays in the session", [][]Proc{runTable(
			Proc{PID: 103, PPID: 1, PGID: 103, SID: 100, Start: 13})}, []int{100, 103}},
		{"setsid while its parent lives, then orphaned: seen at the first look", [][]Proc{
			runTable(Proc{PID: 101, PPID: 100, PGID: 100, SID: 100, Start: 11},
				Proc{PID: 104, PPID: 101, PGID: 104, SID: 104, Start: 14}),
			runTable(Proc{PID: 104, PPID: 1, PGID: 104, SID: 104, Start: 14})},
			[]int{100, 104}},
		{"the command gone, its session lives on", [][]Proc{
			runTable(Proc{PID: 101, PPID: 100, PGID: 100, SID: 100, Start: 11}),
			{{PID: 1, SID: 1}, {PID: 50, PPID: 40, PGID: 40, SID: 40, Start: 9},
				{PID: 101, PPID: 1, PGID: 100, SID: 100, Start: 11}}},
			[]int{101}},
		{"a reused pid is not the run's", [][]Proc{
			runTable(Proc{PID: 105, PPID: 100, PGID: 100, SID: 100, Start: 15}),
			runTable(Proc{PID: 105, PPID: 40, PGID: 105, SID: 40, Start: 30})},
			[]int{100}},
		{"a reused root pid leading another session takes nothing", [][]Proc{
			runTable(),
			{{PID: 1, SID: 1}, {PID: 100, PPID: 40, PGID: 100, SID: 100, Start: 40},
				{PID: 106, PPID: 100, PGID: 100, SID: 100, Start: 41}}},
			nil},
		{"never the watcher, launchd or older processes", [][]Proc{runTable(
			Proc{PID: 107, PPID: 100, PGID: 100, SID: 100, Start: 5})}, []int{100}},
		// The limit the documentation states: setsid and orphaned between
		// two looks is not seen.
		{"setsid and orphaned between two looks escapes", [][]Proc{
			runTable(),
			runTable(Proc{PID: 108, PPID: 1, PGID: 108, SID: 108, Start: 16})},
			[]int{100}},
	} {
		tr := NewTree(root, 50)
		var pids []int
		for _, look := range c.looks {
			pids, _ = tr.Victims(look)
		}
		if !slices.Equal(pids, c.want) {
			t.Errorf("%s: killed %v, want %v", c.name, pids, c.want)
		}
	}
}

func TestVictimGroups(t *testing.T) {
	tr := NewTree(Proc{PID: 100, PPID: 50, PGID: 100, SID: 100, Start: 10}, 50)
	_, groups := tr.Victims(runTable(
		Proc{PID: 101, PPID: 100, PGID: 103, SID: 100, Start: 11},
		Proc{PID: 103, PPID: 100, PGID: 103, SID: 100, Start: 13}))
	if !slices.Equal(groups, []int{100, 103}) {
		t.Errorf("groups = %v", groups)
	}
	for _, g := range groups {
		if g == 40 || g == 1 {
			t.Errorf("the user's own group %d would be killed", g)
		}
	}
}
