// Package cgroup gives one sandbox run its own control groups on Linux, with
// a limit on the tasks (processes and threads) alive at once and a limit on
// memory, and says exactly which mechanism holds each limit, or why none
// does.
//
// It holds a pure decision ([Decide], from /proc/self/cgroup,
// /proc/self/mountinfo, the uid and a small [FS]; tested with a fake
// filesystem on every OS) and, on Linux, the code that applies it ([Probe],
// [Create], [Group]) and cleans up after supervisors that died
// ([RemoveStale]). Other systems get stubs that fail with
// errors.ErrUnsupported.
//
// # Use
//
// The supervisor, for each run:
//
//	cgroup.RemoveStale()                 // groups of supervisors that were killed
//	g, err := cgroup.Create(runID, cgroup.Limits{MaxProcesses: n, MemoryBytes: m},
//		cgroup.Options{UserNamespace: true})
//	defer g.Close()                      // kills what is left, removes the directories
//	g.AddTo(report)                      // "max_processes" and "memory" layers
//	g.CloneInto(cmd.SysProcAttr)         // optional: born inside (cgroup v2)
//	cmd.Start()
//	g.Add(cmd.Process.Pid)               // before the init may start anything
//	...
//	g.Kill()                             // at the end, or on timeout
//	stats := g.Stats()                   // peaks for the audit record
//
// A limit no cgroup can hold is not an error of Create: the outcomes
// ([Group.Processes], [Group.Memory]) say what holds it and why, and the
// caller decides, by the policy, whether the run may go on.
//
// # Which mechanism, when
//
// Each controller lives in one hierarchy. On a hybrid host (this project's
// CI: cgroup v1 for every controller, a cgroup2 mount without any) the pids
// and memory groups are made in their v1 hierarchies, under the caller's own
// cgroup there (.../pids/<caller>/cordon/<run>), so the run stays inside
// whatever limits the caller is under; and a cgroup v2 group without
// controllers is made as well, to hold the processes together for
// cgroup.kill. On a cgroup v2 host one group holds it all, under the
// nearest cgroup, from the caller's own upwards, that enables the
// controllers for its children and where the caller may make a directory and
// move a process (write its cgroup.procs: it is the common ancestor). For a
// user on a systemd desktop that is typically
// user@UID.service/app.slice/cordon/<run>, beside the terminal's own scope:
// the caller's own cgroup holds processes and so, by cgroup v2's rule, may
// not have children that use controllers.
//
// Without a pids cgroup, the limit on tasks falls back on RLIMIT_NPROC,
// which the supervisor sets from the same policy value: since Linux 5.14 it
// is counted per user namespace, so in the run's own user namespace it
// counts only the run's tasks; without one it counts every task of the
// user on the machine (reported as such); and the kernel exempts uid 0, so
// for root nothing holds it and the outcome says "not applied".
//
// # What it promises
//
//   - Every process of a run added with [Group.Add] (and every process it
//     starts) is in every group of the run; a fork past pids.max fails with
//     EAGAIN; memory charged past the limit is reclaimed or the kernel's OOM
//     killer ends a process of the group.
//   - The memory limit bounds RAM and swap together (cgroup v2 memory.max
//     with memory.swap.max = 0; v1 memory.limit_in_bytes and, when the
//     kernel keeps a swap account, memory.memsw.limit_in_bytes at the same
//     value), so a run cannot push its excess to swap. Without a swap
//     account the outcome says "RAM only".
//   - [Group.Kill] ends every process in the groups within a few seconds or
//     says how many are left; it never signals a process outside them.
//   - [Group.Close] leaves no directory behind when it returns nil, and
//     removes cordon's own directory above the runs when it is empty.
//   - [RemoveStale] only touches directories cordon named, in its cordon
//     directories, whose supervisor (pid, start time, PID namespace) is gone.
//
// # What it does not promise
//
//   - Memory is what the kernel charges to the group, not what a program
//     thinks it uses: anonymous memory, page cache and the kernel memory the
//     kernel accounts. Pages of page cache and tmpfs count for the group that
//     first touched them (a tmpfs file outlives its writer and stays
//     charged), and charges made before a process was added stay where they
//     were. cgroup v1 and v2 differ in swap (v1 keeps one memory+swap
//     counter, set to the limit; v2 a separate swap counter, set to 0) and in
//     their counters (v1 memory.max_usage_in_bytes, failcnt and
//     oom_control; v2 memory.peak and memory.events). The peak is therefore
//     close to, not equal to, the sum of the processes' RSS, and the kernel
//     may charge up to a batch of pages past the limit before it reclaims.
//   - Kernel memory the kernel does not account, and CPU and I/O, are not
//     limited here.
//   - A task count includes threads, and the sandbox init's own (a handful).
//     Moving a process in is never refused by pids.max, so a group may
//     briefly show more tasks than its limit right after Add.
//   - Where no cgroup can be had (no delegation, a read-only mount, a missing
//     controller) nothing in this package holds the limit; the outcome says
//     so, with the reason and the fix, and [Group.Holds] is false when the
//     run's processes are in no group at all, so [Group.Kill] cannot reach
//     them (the PID namespace still ends them with the init).
//   - A supervisor killed with SIGKILL leaves its groups; they are removed
//     by the next [RemoveStale] from a supervisor in the same cgroups.
package cgroup
