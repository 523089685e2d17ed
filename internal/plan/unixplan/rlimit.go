package unixplan

import (
	"fmt"
	"strings"

	"github.com/cordon-sandbox/cordon/policy"
)

// Rlimit is one resource limit (soft = hard), with the number the target
// system gives the resource.
type Rlimit struct {
	Resource int    `json:"resource"`
	Name     string `json:"name"`
	Value    uint64 `json:"value"`
}

// Resources are one system's numbers for the limits a policy sets (they
// differ between Linux and macOS).
type Resources struct {
	Core, Nproc, Nofile, Fsize int
}

// Rlimits returns the limits of l in res's numbers: no core dumps, then
// max_processes, open_files and file_size where they are set. The process
// limit is the caller's nproc, not l's, because what RLIMIT_NPROC counts
// differs by system (Linux: the processes of the run's user namespace;
// macOS: all of the user's); 0 sets none.
func Rlimits(res Resources, l policy.Limits, nproc uint64) []Rlimit {
	out := []Rlimit{{Resource: res.Core, Name: "core", Value: 0}}
	add := func(r int, name string, v uint64) {
		if v > 0 {
			out = append(out, Rlimit{Resource: r, Name: name, Value: v})
		}
	}
	add(res.Nproc, "max_processes", nproc)
	add(res.Nofile, "open_files", l.OpenFiles.Value)
	add(res.Fsize, "file_size", l.FileSize.Value)
	return out
}

// RlimitText describes limits for the enforcement report: name=value ...
func RlimitText(rs []Rlimit) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s=%d", r.Name, r.Value))
	}
	return strings.Join(parts, " ")
}
