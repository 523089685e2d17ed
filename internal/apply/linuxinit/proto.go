// Package linuxinit is the sandbox's init on Linux: the cordon binary
// re-executed inside fresh namespaces, which applies a linuxplan.Plan layer by
// layer, starts the command and reports back to the supervisor.
//
// # Handshake
//
// The supervisor starts the init with the control socket as fd 3 and
// InitArg as argv[1]. Messages are JSON, one per line:
//
//	supervisor                         init (pid 1 of the new PID namespace)
//	    | --- Plan ------------------------> |  set parent-death signal; read plan
//	    |                                    |  mounts, pivot_root, hostname
//	    |                                    |  drop capabilities, no_new_privs
//	    |                                    |  Landlock (verified), rlimits
//	    |                                    |  seccomp (verified)
//	    | <-- error {layer, error, hint} --- |  if any layer fails: nothing runs
//	    | --- Start ------------------------> |  the init is in the run's cgroup
//	    | <-- started {pid} ---------------- |  fork+exec of the command
//	    | <-- denied {op, target} ---------- |  a supervised call refused (any time)
//	    | <-- gitdir {target} -------------- |  a repository made in this run
//	    | <-- gitdir_moved {from, target} -- |  ... and renamed
//	    | <-- exec_error {code, error} ----- |  if the command cannot start
//	    | <-- exit {code, signal, usage} --- |  when the command ends; then the
//	    |                                    |  init exits and the kernel kills
//	    |                                    |  everything left in the namespace
//
// Start is a line of its own: moving a thread into a cgroup v1 group waits
// for an RCU grace period (up to ~20 ms measured here), so the supervisor
// does it while the init applies the plan, and the init forks the command
// only once it is done.
//
// Every layer is checked after it is applied; a layer that cannot be applied
// or checked ends the init with an error message and the command never runs.
package linuxinit

// InitArg is argv[1] of the cordon binary when it runs as the sandbox's init.
const InitArg = "__cordon_init"

// ControlFD is the init's end of the control socket.
const ControlFD = 3

// Start is the supervisor's second line: the command may be started.
const Start = "start"

// Message types sent by the init.
const (
	MsgError     = "error"
	MsgStarted   = "started"
	MsgExecError = "exec_error"
	MsgExit      = "exit"
	// MsgDenied reports a call the init's supervisor refused (a unix
	// socket outside the sandbox, say), for the audit trail. It may come at
	// any time while the command runs.
	MsgDenied = "denied"
	// MsgGitDir names a directory that acquired a HEAD in this run: a git
	// repository the supervisor checks, and disarms, when the run ends.
	MsgGitDir = "gitdir"
	// MsgGitDirMoved says such a directory (or one above it) was renamed,
	// From to Target.
	MsgGitDirMoved = "gitdir_moved"
)

// Message is one line from the init to the supervisor.
type Message struct {
	Type string `json:"type"`
	// error
	Layer string `json:"layer,omitempty"`
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
	// started
	PID int `json:"pid,omitempty"`
	// Path is the executable the command resolved to.
	Path string `json:"path,omitempty"`
	// Phases is how long each setup step took, in microseconds since the
	// init started, for --verbose.
	Phases []Phase `json:"phases,omitempty"`
	// exec_error and exit
	Code int `json:"code,omitempty"`
	// exit
	Signal int    `json:"signal,omitempty"`
	Usage  *Usage `json:"usage,omitempty"`
	// denied: the operation and what it was aimed at; Error says why, PID
	// is the caller's thread.
	Op     string `json:"op,omitempty"`
	Target string `json:"target,omitempty"`
	// gitdir_moved: the path before the rename.
	From string `json:"from,omitempty"`
	// Dirty, on a warm sandbox's exit: what the init could not clean up
	// after the command; the sandbox must not serve another.
	Dirty string `json:"dirty,omitempty"`
}

// Usage is what the command's processes used.
type Usage struct {
	UserMicros   int64 `json:"user_us"`
	SystemMicros int64 `json:"system_us"`
	MaxRSSKiB    int64 `json:"max_rss_kib"`
}

// Phase is one timed setup step of the init.
type Phase struct {
	Name   string `json:"name"`
	Micros int64  `json:"us"`
}
