// Package sandbox runs a command inside cordon's OS-enforced boundary and
// supervises it: it turns the policy into a plan for this system, starts the
// sandbox's init, passes stdin, stdout and stderr through unchanged, forwards
// signals, enforces the timeout, and makes sure that nothing of the command is
// left running when Run returns.
//
// # Promises
//
//   - If a layer the policy asks for cannot be applied, the command does not
//     run: Run returns a *LayerError naming the layer and what to do.
//   - A weaker boundary is used only when the policy or the caller accepted
//     it by name (policy.Degraded), and the Result's Report says so.
//   - When Run returns, every process the command started has ended.
//
// # The boundary, not the judgement
//
// Run confines a command; it does not judge it. It applies no command
// rules, asks nobody, hands over no credentials of its own accord and
// records only the boundary's events (enforcement, process start and exit,
// network connections, refused accesses) to the Request's Audit log. A
// program that wants cordon's judgement, as every front end of cordon
// gets it, calls pipeline.Run, which does all of that and then calls Run
// (or a Session's Run).
//
// # Library use
//
// The sandbox's init is the calling binary itself, re-executed. A program
// that uses this package must call Init first thing in main:
//
//	func main() {
//		sandbox.Init()
//		...
//	}
package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
)

// Request describes one command to run.
type Request struct {
	// Policy is the effective policy (see policy.Load).
	Policy *policy.Policy
	// Workspace is the workspace directory, absolute and canonical.
	Workspace string
	// Dir is the working directory inside the sandbox; empty means the
	// workspace.
	Dir string
	// Argv is the command and its arguments.
	Argv []string
	// Environ is the caller's environment; the policy filters it.
	Environ []string
	// Secrets are KEY=VALUE entries added after the filter: credentials the
	// policy scopes to this command and a human (or the policy) granted.
	// For a credential the proxy injects, the value is its placeholder.
	Secrets []string
	// Inject are the granted credentials the proxy puts into requests
	// (credentials.NewInjection). They need network.mode = "proxy".
	Inject []netproxy.Injection
	// Home is the user's home directory.
	Home string
	// PolicyFiles are the policy files in use; the sandbox may not write them.
	PolicyFiles []string
	// Stdin, Stdout and Stderr are passed to the command as they are.
	Stdin, Stdout, Stderr *os.File
	// Audit, when set, receives the enforcement report and the process's
	// start and exit. The caller opens and closes it, and records the rest
	// of the run (policy, command, decisions, end).
	Audit *audit.Logger
	// NetworkAsker is asked about hosts the network policy does not list,
	// when it says to ask; without one, ask means deny.
	NetworkAsker NetworkAsker
	// ForceDegraded uses this weaker mode even where the full boundary
	// would work (for tests and for hosts where the full mode misbehaves).
	// The policy must accept it by name.
	ForceDegraded policy.Degraded
}

// Result is how the command ended.
type Result struct {
	// ExitCode is the command's exit status, or 128+N when signal N killed
	// it.
	ExitCode int
	// Signal is the signal that killed the command, or 0.
	Signal int
	// TimedOut is set when the policy's timeout ended the command.
	TimedOut bool
	// PID is the command's process id inside the sandbox.
	PID      int
	Started  time.Time
	Duration time.Duration
	Usage    Usage
	// Report is what the boundary was made of.
	Report *report.Report
	// Network totals the connections through cordon's proxy, when the
	// network went through it.
	Network *NetworkSummary
	// Phases times the setup, for --verbose: the supervisor's own steps
	// since Run was called, and the init's since it started.
	Phases []Phase
	// Denied lists accesses the sandbox refused and could see (the first
	// ones; each is also an access_denied audit event).
	Denied []Denial
}

// Denial is one refused access the sandbox saw.
type Denial struct {
	// Operation is the system call refused: connect, bind, listen, create.
	Operation string
	// Target is what it aimed at: a path, or @name for an abstract socket.
	Target string
	// Layer is the part of the sandbox that refused it.
	Layer string
	// Why says why, and what would allow it.
	Why string
	PID int
}

// Phase is one timed step of the setup.
type Phase struct {
	Name string
	At   time.Duration
}

// NetworkAsker asks a human whether a host may be reached.
type NetworkAsker = netproxy.Asker

// NetworkSummary totals a run's connections through the proxy.
type NetworkSummary = netproxy.Summary

// Usage is what the command's processes used.
type Usage struct {
	User      time.Duration
	System    time.Duration
	MaxRSSKiB int64
}

// Plan is what Explain returns: the enforcement report and the plan's
// details for this system, without running anything.
type Plan struct {
	Report *report.Report `json:"report"`
	// Details is the system-specific plan (for Linux a linuxplan.Plan).
	Details any `json:"plan"`
}

// LayerError says that a layer of the boundary could not be applied, so the
// command did not run.
type LayerError struct {
	Layer string
	Err   error
	Fix   string
}

func (e *LayerError) Error() string {
	return fmt.Sprintf("sandbox layer %q could not be applied: %v", e.Layer, e.Err)
}

func (e *LayerError) Unwrap() error { return e.Err }

// Hint says what to do.
func (e *LayerError) Hint() string { return e.Fix }

// ExecError says that the command could not be started inside the sandbox.
type ExecError struct {
	// Code is 127 when the command was not found, 126 when it could not be
	// executed.
	Code int
	Msg  string
}

func (e *ExecError) Error() string { return e.Msg }

// ExitCode follows the shell's convention.
func (e *ExecError) ExitCode() int { return e.Code }

// ErrUnsupported is returned on systems where cordon cannot enforce a
// boundary yet.
var ErrUnsupported = errors.New("cordon cannot enforce a sandbox on this operating system yet")

// StateDir is cordon's state directory: audit logs, grants, locks, the CA
// key. It is never writable, nor readable, inside the sandbox.
func StateDir(home string) string {
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "cordon")
	}
	return filepath.Join(home, ".local", "state", "cordon")
}

// CADir holds cordon's CA for credential injection (netproxy.LoadOrCreateCA):
// in the state directory, so its key never reaches the sandbox.
func CADir(home string) string { return filepath.Join(StateDir(home), "ca") }

// TrustDir holds the CA bundles sandboxed commands are given when their
// proxy intercepts (netproxy.SandboxTrust): certificates only, readable
// inside the sandbox and outside every writable root.
func TrustDir(home string) string { return filepath.Join(cacheBase(home), "cordon", "ca") }

// cacheBase is the user's cache directory (XDG_CACHE_HOME or ~/.cache).
func cacheBase(home string) string {
	if x := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(x) {
		return x
	}
	return filepath.Join(home, ".cache")
}

// cacheDir returns (and creates) the workspace's private tool cache: build
// tools inside the sandbox write there, never into the host's caches. The
// same workspace keeps the same cache on every system.
func cacheDir(home, workspace string) (string, error) {
	sum := sha256.Sum256([]byte(workspace))
	dir := filepath.Join(cacheBase(home), "cordon", "workspaces", filepath.Base(workspace)+"-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the workspace's private cache: %w", err)
	}
	return filepath.EvalSymlinks(dir)
}

// Run runs the command and waits for it and everything it started. The
// context's cancellation kills the command.
func Run(ctx context.Context, req Request) (*Result, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return run(ctx, req)
}

// Explain returns the plan for the request without running it.
func Explain(req Request) (*Plan, error) {
	if err := req.check(); err != nil {
		return nil, err
	}
	return explain(req)
}

func (req *Request) check() error {
	switch {
	case req.Policy == nil:
		return errors.New("sandbox: no policy")
	case len(req.Argv) == 0:
		return errors.New("sandbox: no command")
	case req.Workspace == "":
		return errors.New("sandbox: no workspace")
	case len(req.Inject) > 0 && runtime.GOOS != "linux":
		return &LayerError{Layer: "network", Err: fmt.Errorf("credential %q is injected by cordon's proxy, which is not wired on %s yet", req.Inject[0].Name, runtime.GOOS),
			Fix: "remove the credential's inject table to hand it over in its variable instead"}
	case req.ForceDegraded != "" && !req.Policy.Accepts(req.ForceDegraded):
		return &LayerError{Layer: "policy", Err: fmt.Errorf("the weaker mode %q was forced but not accepted", req.ForceDegraded),
			Fix: fmt.Sprintf("accept it by name with --allow-degraded=%s", req.ForceDegraded)}
	}
	if req.Stdin == nil {
		req.Stdin = os.Stdin
	}
	if req.Stdout == nil {
		req.Stdout = os.Stdout
	}
	if req.Stderr == nil {
		req.Stderr = os.Stderr
	}
	return nil
}
