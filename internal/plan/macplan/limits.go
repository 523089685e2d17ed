package macplan

import (
	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
	"github.com/cordon-sandbox/cordon/policy"
)

// Rlimit is one resource limit (soft = hard), with macOS's resource number.
type Rlimit = unixplan.Rlimit

// rlimitNumbers are the resource numbers of <sys/resource.h> on macOS
// (they differ from Linux's).
var rlimitNumbers = unixplan.Resources{Fsize: 1, Core: 4, Nproc: 7, Nofile: 8}

// rlimits maps the policy's limits onto macOS. The memory limit has no
// equivalent (see the package documentation); the process limit counts all
// of the user's processes on macOS, so it is set that far above the count
// the user already runs.
func rlimits(p *policy.Policy, userProcs int) []Rlimit {
	// The built-in process limit is for Linux's per-run cgroup; on macOS
	// RLIMIT_NPROC counts all of the user's processes and the kernel's own
	// per-user cap (kern.maxprocperuid) is lower, so only a limit the user
	// set is applied.
	var nproc uint64
	if n := p.Limits.MaxProcesses.Value; n > 0 && p.Limits.MaxProcesses.From.Layer != policy.LayerBuiltin {
		nproc = n + uint64(max(userProcs, 0))
	}
	return unixplan.Rlimits(rlimitNumbers, p.Limits, nproc)
}
