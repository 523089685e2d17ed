package cgroup

import (
	"fmt"
	"strconv"
	"strings"
)

// owner identifies the supervisor that made a group, so that a later one
// can tell a group of a dead run from a live one: its pid, the pid's start
// time (clock ticks after boot, /proc/PID/stat field 22, which tells a
// reused pid apart) and its PID namespace (a pid means nothing in another).
type owner struct {
	pid   int
	start uint64
	pidNS uint64
}

// groupName is a run's directory name: RUNID.PID.START.PIDNS.
func groupName(runID string, o owner) string {
	return fmt.Sprintf("%s.%d.%d.%d", runID, o.pid, o.start, o.pidNS)
}

// parseGroupName undoes groupName; ok is false for names cordon did not make.
func parseGroupName(name string) (runID string, o owner, ok bool) {
	f := strings.Split(name, ".")
	if len(f) != 4 || validRunID(f[0]) != nil {
		return "", owner{}, false
	}
	pid, err1 := strconv.Atoi(f[1])
	start, err2 := strconv.ParseUint(f[2], 10, 64)
	ns, err3 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pid <= 0 {
		return "", owner{}, false
	}
	return f[0], owner{pid, start, ns}, true
}

// validRunID accepts 1 to 64 letters, digits, '-' and '_'.
func validRunID(id string) error {
	if id == "" || len(id) > 64 {
		return fmt.Errorf("run id %q: want 1 to 64 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("run id %q: only letters, digits, '-' and '_' may be used", id)
		}
	}
	return nil
}

// parseStat returns the start time (field 22) of a /proc/PID/stat line.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(s string) (uint64, bool) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, err == nil
}

// keyValue reads "key N" from a flat-keyed cgroup file (pids.events,
// memory.events, memory.oom_control).
func keyValue(s, key string) uint64 {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && f[0] == key {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v
		}
	}
	return 0
}

// number reads a single-number cgroup file ("max" and errors are 0).
func number(s string) uint64 {
	v, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return v
}
