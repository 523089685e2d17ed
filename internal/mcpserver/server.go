package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// Options fix what the server enforces. They are set by whoever starts the
// server (the user's command line), never by the agent.
type Options struct {
	// Policy is the effective policy. Its command rules are the ones
	// check_command shows and the run pipeline applies.
	Policy *policy.Policy
	// Workspace is the workspace, absolute and canonical.
	Workspace string
	// Home is the user's home directory.
	Home string
	// PolicyFiles are the policy files in use (the sandbox may not write
	// them).
	PolicyFiles []string
	// Environ is the environment commands start from; the policy filters it.
	Environ []string
	// MaxOutput is how many bytes of stdout, and of stderr, a call returns
	// (default 64 KiB each).
	MaxOutput int
	// DefaultTimeout applies when a call gives none (default 10 minutes);
	// the policy's timeout, when set, is the upper bound of both.
	DefaultTimeout time.Duration
	// ProgressEvery is how often a long command reports progress to a
	// client that asked for it (default 5 s).
	ProgressEvery time.Duration
	// Run runs one command; it must be set, and is cordon's run pipeline
	// (pipeline.Run): the audit trail, the command rules, a human asked
	// where they say ask, credentials, and the sandbox. A command refused
	// before it started comes back as *pipeline.DeniedError (or
	// *RefusedError, for a Run of the caller's own).
	Run func(ctx context.Context, req sandbox.Request) (*sandbox.Result, error)
	// Log receives one line per call and cordon's full error messages, for
	// the human running the server. Nil discards them.
	Log io.Writer
	// Version is reported to clients.
	Version string
}

// RefusedError is how the server holds a command that was refused before
// it started: by the command rules, by a human, or because the rules asked
// for a human and none could be asked. Options.Run may return one; a
// *pipeline.DeniedError is turned into one.
type RefusedError struct {
	// NoApprover is set when no human could be asked.
	NoApprover bool
	// Reason says why; it is redacted before the agent sees it.
	Reason string
}

func (e *RefusedError) Error() string { return e.Reason }

const (
	defaultMaxOutput     = 64 << 10
	defaultTimeout       = 10 * time.Minute
	defaultProgressEvery = 5 * time.Second
)

// Server is cordon's MCP server. Build it with New and serve one client
// with ServeStdio.
type Server struct {
	opts Options
	// rules are the policy's command rules, to explain a refusal and
	// answer check_command.
	rules  *cmdpolicy.Policy
	redact *redactor
	// tools are the tools, in the order tools/list gives them (by name).
	tools []*tool
	// toolsJSON is what tools/list answers, encoded once.
	toolsJSON json.RawMessage

	// runs holds every call in progress; stop cancels them.
	runs sync.WaitGroup
	base context.Context
	stop context.CancelFunc

	logMu sync.Mutex

	infoOnce sync.Once
	machine  Machine
}

// instructions is what initialize tells the client about the server.
const instructions = "Every command run_command runs is confined by cordon's sandbox: writes only inside the " +
	"workspace, no network unless the policy allows a host, secrets unreadable. Call sandbox_info " +
	"first to learn the limits; when a command is refused, read refusals[].message for what to do."

// New checks the options and builds the server and its tools.
func New(o Options) (*Server, error) {
	switch {
	case o.Policy == nil:
		return nil, errors.New("mcpserver: no policy")
	case o.Workspace == "":
		return nil, errors.New("mcpserver: no workspace")
	case o.Run == nil:
		// Commands go through the run pipeline or not at all: there is no
		// way around its audit trail and approvals.
		return nil, errors.New("mcpserver: no run pipeline (Options.Run)")
	}
	rules, err := cmdpolicy.New(o.Policy.Commands)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: command rules: %w", err)
	}
	if o.MaxOutput <= 0 {
		o.MaxOutput = defaultMaxOutput
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = defaultTimeout
	}
	if max := o.Policy.Limits.Timeout.Value; max > 0 && o.DefaultTimeout > max {
		o.DefaultTimeout = max
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = defaultProgressEvery
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	s := &Server{opts: o, rules: rules, redact: newRedactor(o.Workspace, o.Policy, o.Environ)}
	s.base, s.stop = context.WithCancel(context.Background())
	// By name: the order tools/list has always given them in.
	s.tools = []*tool{
		{
			Name:         "check_command",
			Title:        "Check a command against cordon's policy",
			Description:  "Show what cordon's command rules decide for a command line (allow, ask or deny) and why, without running it.",
			Annotations:  &toolAnnotations{ReadOnlyHint: true},
			InputSchema:  checkInputSchema(),
			OutputSchema: checkOutputSchema(),
			handle:       handler(s.checkCommand),
		},
		{
			Name:  "run_command",
			Title: "Run a command in cordon's sandbox",
			Description: "Run a shell command line (command, with sh -c) or a program (argv) inside cordon's sandbox, " +
				"in a directory of the workspace. Returns the exit code, stdout and stderr (capped), the duration, " +
				"and refusals: what the policy or the boundary refused, with what to do next.",
			InputSchema:  runInputSchema(),
			OutputSchema: runOutputSchema(),
			handle:       handler(s.runCommand),
		},
		{
			Name:         "sandbox_info",
			Title:        "Describe cordon's sandbox",
			Description:  "The limits commands run within: mode, workspace, writable roots, protected and unreadable paths, network, timeouts, output caps, and what this machine enforces.",
			Annotations:  &toolAnnotations{ReadOnlyHint: true},
			InputSchema:  infoInputSchema(),
			OutputSchema: infoOutputSchema(),
			handle:       handler(s.sandboxInfo),
		},
	}
	b, err := json.Marshal(s.tools)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: encoding the tools: %w", err)
	}
	s.toolsJSON = b
	return s, nil
}

func (s *Server) tool(name string) *tool {
	for _, t := range s.tools {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func (s *Server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.opts.Log, "cordon mcp: "+format+"\n", args...)
}

// toolError logs err in full and returns the redacted form for the agent.
func (s *Server) toolError(tool string, err error) error {
	s.logf("%s: error: %v", tool, err)
	msg := s.redact.clean(err.Error())
	var h interface{ Hint() string }
	if errors.As(err, &h) && h.Hint() != "" {
		msg += " (" + s.redact.clean(h.Hint()) + ")"
	}
	return errors.New(msg)
}
