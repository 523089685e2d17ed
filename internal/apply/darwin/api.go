package darwin

import (
	"errors"

	"github.com/cordon-sandbox/cordon/internal/plan/macplan"
)

// ErrUnsupported is returned by every entry point on systems other than
// macOS.
var ErrUnsupported = errors.New("the macOS sandbox runs only on macOS")

// WatcherArg is the hidden argument under which the cordon binary runs as
// a run's watcher; ShimArg (macplan.ShimArg) the one under which it runs
// inside the sandbox, just before the command.
const WatcherArg = "__darwin-watch"

// ShimArg is macplan.ShimArg, for Main's dispatch.
const ShimArg = macplan.ShimArg

// Spec is what the watcher starts: Argv (the plan's ExecArgv) in Dir with
// Env, in a new session.
type Spec struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
	// Sandboxed: the shim must report that the profile is in force before
	// the command counts as started.
	Sandboxed bool `json:"sandboxed"`
}

// Message types, from the watcher to cordon, one JSON object a line.
const (
	// MsgStarted: the process that becomes the command exists (PID).
	MsgStarted = "started"
	// MsgApplied: the shim proved the profile holds and execs the command.
	MsgApplied = "applied"
	// MsgError: a layer could not be applied (Layer, Error, Hint); the
	// command did not run.
	MsgError = "error"
	// MsgExecError: the command could not be started (Code 126 or 127).
	MsgExecError = "exec_error"
	// MsgExit: the command ended (Code, Signal, Usage) and every process of
	// the run was killed (Killed) or had already ended; Survivors lists any
	// the watcher saw and could not kill.
	MsgExit = "exit"
)

// Message is one line from the watcher (or, relayed, from the shim).
type Message struct {
	Type      string `json:"type"`
	PID       int    `json:"pid,omitempty"`
	Code      int    `json:"code,omitempty"`
	Signal    int    `json:"signal,omitempty"`
	Layer     string `json:"layer,omitempty"`
	Error     string `json:"error,omitempty"`
	Hint      string `json:"hint,omitempty"`
	Usage     *Usage `json:"usage,omitempty"`
	Killed    int    `json:"killed,omitempty"`
	Survivors []int  `json:"survivors,omitempty"`
}

// Usage is the command's own resource use (its process, as wait4 reports
// it, and the children it waited for).
type Usage struct {
	UserMicros   int64 `json:"user_us"`
	SystemMicros int64 `json:"system_us"`
	MaxRSSKiB    int64 `json:"max_rss_kib"`
}

// Control requests, from cordon to the watcher. The end of the stream
// (cordon died or closed it) kills the run.
type Control struct {
	// Signal forwards a signal to the command's process group.
	Signal int `json:"signal,omitempty"`
	// Stop kills the whole run now (timeout, cancellation).
	Stop bool `json:"stop,omitempty"`
}
