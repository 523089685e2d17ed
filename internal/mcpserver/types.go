package mcpserver

// The tools' input and output types. Their JSON schemas are derived from
// these structs; an input field that is not declared here is rejected.

// RunInput is run_command's input.
type RunInput struct {
	Command        string   `json:"command,omitempty" jsonschema:"a shell command line, run with sh -c inside the sandbox; give this or argv"`
	Argv           []string `json:"argv,omitempty" jsonschema:"the program and its arguments, run without a shell; give this or command"`
	Cwd            string   `json:"cwd,omitempty" jsonschema:"working directory relative to the workspace root (default: the root); it must resolve inside the workspace"`
	TimeoutSeconds float64  `json:"timeout_seconds,omitempty" jsonschema:"kill the command and everything it started after this many seconds; never longer than the policy allows (see sandbox_info)"`
	Stdin          string   `json:"stdin,omitempty" jsonschema:"text given to the command on standard input (default: nothing)"`
}

// RunOutput is run_command's result.
type RunOutput struct {
	// Ran is false when the command was refused before it started.
	Ran      bool `json:"ran" jsonschema:"whether the command was started; false when it was refused before running (see refusals)"`
	ExitCode int  `json:"exit_code" jsonschema:"the command's exit status; 128+N when signal N killed it; 124 when it ran out of time; -1 when it did not run"`
	Signal   int  `json:"signal,omitempty" jsonschema:"the signal that killed the command, if one did"`
	TimedOut bool `json:"timed_out,omitempty" jsonschema:"the command ran out of time and was killed with everything it started"`
	// DurationMS is the wall time from the sandbox's start to its end.
	DurationMS int64  `json:"duration_ms" jsonschema:"how long the command ran, in milliseconds"`
	Stdout     string `json:"stdout" jsonschema:"standard output, capped; a [cordon: ...] marker says where and how much was cut"`
	Stderr     string `json:"stderr" jsonschema:"standard error, capped the same way"`
	// StdoutCut and StderrCut count the bytes left out.
	StdoutCut int64 `json:"stdout_cut_bytes,omitempty" jsonschema:"bytes of stdout left out"`
	StderrCut int64 `json:"stderr_cut_bytes,omitempty" jsonschema:"bytes of stderr left out"`
	// Decision is the command rules' decision: allow, ask or deny.
	Decision string    `json:"decision" jsonschema:"what cordon's command rules decided: allow, ask or deny"`
	Refusals []Refusal `json:"refusals" jsonschema:"what the boundary refused, each with what to do about it; empty when nothing was refused"`
	Notes    []string  `json:"notes,omitempty" jsonschema:"other things worth knowing about this run"`
}

// Refusal is one thing the boundary refused, phrased for a model to act on.
type Refusal struct {
	// Kind is one of the Refusal* constants.
	Kind string `json:"kind" jsonschema:"command_rule, approval_required, approval_denied or network"`
	// Subject is what was refused: a part of the command line, or
	// host:port for the network.
	Subject string `json:"subject" jsonschema:"what was refused: the command, or host:port"`
	Host    string `json:"host,omitempty" jsonschema:"for network refusals, the host"`
	Port    int    `json:"port,omitempty" jsonschema:"for network refusals, the port"`
	Rule    string `json:"rule,omitempty" jsonschema:"the policy rule that decided"`
	Reason  string `json:"reason" jsonschema:"why"`
	// Message says what happened and what the agent can do instead.
	Message string `json:"message" jsonschema:"what happened and what to do next"`
}

// Kinds of refusal.
const (
	// RefusalCommandRule: a command rule denies the command; it did not run.
	RefusalCommandRule = "command_rule"
	// RefusalApprovalRequired: the command needs a human's approval and no
	// one could be asked; it did not run.
	RefusalApprovalRequired = "approval_required"
	// RefusalApprovalDenied: a human refused the command; it did not run.
	RefusalApprovalDenied = "approval_denied"
	// RefusalNetwork: the network proxy refused a connection while the
	// command ran (from the proxy's connection events).
	RefusalNetwork = "network"
)

// CheckInput is check_command's input.
type CheckInput struct {
	Command string   `json:"command,omitempty" jsonschema:"a shell command line, as run_command would run it; give this or argv"`
	Argv    []string `json:"argv,omitempty" jsonschema:"the program and its arguments; give this or command"`
}

// CheckOutput is check_command's result.
type CheckOutput struct {
	Decision string      `json:"decision" jsonschema:"allow: run_command runs it; ask: it needs a human's approval; deny: it is refused"`
	Summary  string      `json:"summary" jsonschema:"the decision in one sentence"`
	Parts    []CheckPart `json:"parts" jsonschema:"every command the line runs, each judged on its own; the strictest decides"`
}

// CheckPart is the decision for one command of a command line.
type CheckPart struct {
	Command  string `json:"command"`
	Decision string `json:"decision"`
	Category string `json:"category,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Reason   string `json:"reason"`
}

// InfoInput is sandbox_info's input: nothing.
type InfoInput struct{}

// InfoOutput is sandbox_info's result: the limits the agent works within.
type InfoOutput struct {
	Mode            string   `json:"mode" jsonschema:"workspace-write, read-only or full-access"`
	Workspace       string   `json:"workspace" jsonschema:"the workspace root; cwd values are relative to it"`
	WritableRoots   []string `json:"writable_roots" jsonschema:"where commands may write"`
	ProtectedPaths  []string `json:"protected_paths" jsonschema:"read-only even inside the writable roots (names are relative to each root)"`
	UnreadablePaths []string `json:"unreadable_paths" jsonschema:"secrets commands cannot read"`
	Network         Network  `json:"network"`
	// MaxTimeoutSeconds is the policy's limit; 0 means none.
	MaxTimeoutSeconds     float64  `json:"max_timeout_seconds,omitempty" jsonschema:"the longest timeout_seconds allowed"`
	DefaultTimeoutSeconds float64  `json:"default_timeout_seconds" jsonschema:"the timeout when run_command gives none"`
	MaxOutputBytes        int      `json:"max_output_bytes" jsonschema:"how much of stdout and of stderr run_command returns"`
	Enforcement           []Layer  `json:"enforcement" jsonschema:"each layer of the boundary and its status"`
	Machine               Machine  `json:"machine" jsonschema:"what this machine can enforce"`
	Notes                 []string `json:"notes,omitempty"`
}

// Network describes the command's network access.
type Network struct {
	Access       string   `json:"access" jsonschema:"none, proxy (only allowed hosts) or host (no boundary)"`
	AllowedHosts []string `json:"allowed_hosts" jsonschema:"hosts reachable through cordon's proxy"`
	Detail       string   `json:"detail"`
}

// Layer is one layer of the boundary.
type Layer struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Machine is the doctor's report.
type Machine struct {
	System string        `json:"system"`
	Facts  []MachineFact `json:"facts"`
	Modes  []MachineMode `json:"modes"`
}

// MachineFact is one kernel feature and whether it is there.
type MachineFact struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// MachineMode says whether a mode works here.
type MachineMode struct {
	Mode   string `json:"mode"`
	Works  bool   `json:"works"`
	Detail string `json:"detail"`
}
