package mcpserver

// The tools' input and output types, each with its JSON schema (what
// tools/list publishes; the input schemas also check a call's arguments).
// A schema names the type's JSON fields in the order they are declared,
// the ones without omitempty as required; TestSchemasMatchTypes holds
// them to it. An input field a schema does not name is rejected.

// RunInput is run_command's input.
type RunInput struct {
	Command        string   `json:"command,omitempty"`
	Argv           []string `json:"argv,omitempty"`
	Cwd            string   `json:"cwd,omitempty"`
	TimeoutSeconds float64  `json:"timeout_seconds,omitempty"`
	Stdin          string   `json:"stdin,omitempty"`
}

// RunOutput is run_command's result.
type RunOutput struct {
	// Ran is false when the command was refused before it started.
	Ran      bool `json:"ran"`
	ExitCode int  `json:"exit_code"`
	Signal   int  `json:"signal,omitempty"`
	TimedOut bool `json:"timed_out,omitempty"`
	// DurationMS is the wall time from the sandbox's start to its end.
	DurationMS int64  `json:"duration_ms"`
	Stdout     string `json:"stdout"`
	Stderr     string `json:"stderr"`
	// StdoutCut and StderrCut count the bytes left out.
	StdoutCut int64 `json:"stdout_cut_bytes,omitempty"`
	StderrCut int64 `json:"stderr_cut_bytes,omitempty"`
	// Decision is the command rules' decision: allow, ask or deny.
	Decision string    `json:"decision"`
	Refusals []Refusal `json:"refusals"`
	Notes    []string  `json:"notes,omitempty"`
}

// Refusal is one thing the boundary refused, phrased for a model to act on.
type Refusal struct {
	// Kind is one of the Refusal* constants.
	Kind string `json:"kind"`
	// Subject is what was refused: a part of the command line, or
	// host:port for the network.
	Subject string `json:"subject"`
	Host    string `json:"host,omitempty"`
	Port    int    `json:"port,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Reason  string `json:"reason"`
	// Message says what happened and what the agent can do instead.
	Message string `json:"message"`
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
	Command string   `json:"command,omitempty"`
	Argv    []string `json:"argv,omitempty"`
}

// CheckOutput is check_command's result.
type CheckOutput struct {
	Decision string      `json:"decision"`
	Summary  string      `json:"summary"`
	Parts    []CheckPart `json:"parts"`
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
	Mode            string   `json:"mode"`
	Workspace       string   `json:"workspace"`
	WritableRoots   []string `json:"writable_roots"`
	ProtectedPaths  []string `json:"protected_paths"`
	UnreadablePaths []string `json:"unreadable_paths"`
	Network         Network  `json:"network"`
	// MaxTimeoutSeconds is the policy's limit; 0 means none.
	MaxTimeoutSeconds     float64  `json:"max_timeout_seconds,omitempty"`
	DefaultTimeoutSeconds float64  `json:"default_timeout_seconds"`
	MaxOutputBytes        int      `json:"max_output_bytes"`
	Enforcement           []Layer  `json:"enforcement"`
	Machine               Machine  `json:"machine"`
	Notes                 []string `json:"notes,omitempty"`
}

// Network describes the command's network access.
type Network struct {
	Access       string   `json:"access"`
	AllowedHosts []string `json:"allowed_hosts"`
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

// The schemas. They are built when a server is (New), not when the
// program starts: every cordon process links this package, and only
// `cordon mcp` needs them.

func runInputSchema() *schema {
	return object("",
		opt("command", str("a shell command line, run with sh -c inside the sandbox; give this or argv")),
		opt("argv", list(str(""), "the program and its arguments, run without a shell; give this or command")),
		opt("cwd", str("working directory relative to the workspace root (default: the root); it must resolve inside the workspace")),
		opt("timeout_seconds", number("kill the command and everything it started after this many seconds; never longer than the policy allows (see sandbox_info)")),
		opt("stdin", str("text given to the command on standard input (default: nothing)")),
	)
}

func runOutputSchema() *schema {
	return object("",
		req("ran", boolean("whether the command was started; false when it was refused before running (see refusals)")),
		req("exit_code", integer("the command's exit status; 128+N when signal N killed it; 124 when it ran out of time; -1 when it did not run")),
		opt("signal", integer("the signal that killed the command, if one did")),
		opt("timed_out", boolean("the command ran out of time and was killed with everything it started")),
		req("duration_ms", integer("how long the command ran, in milliseconds")),
		req("stdout", str("standard output, capped; a [cordon: ...] marker says where and how much was cut")),
		req("stderr", str("standard error, capped the same way")),
		opt("stdout_cut_bytes", integer("bytes of stdout left out")),
		opt("stderr_cut_bytes", integer("bytes of stderr left out")),
		req("decision", str("what cordon's command rules decided: allow, ask or deny")),
		req("refusals", list(refusalSchema(), "what the boundary refused, each with what to do about it; empty when nothing was refused")),
		opt("notes", list(str(""), "other things worth knowing about this run")),
	)
}

func refusalSchema() *schema {
	return object("",
		req("kind", str("command_rule, approval_required, approval_denied or network")),
		req("subject", str("what was refused: the command, or host:port")),
		opt("host", str("for network refusals, the host")),
		opt("port", integer("for network refusals, the port")),
		opt("rule", str("the policy rule that decided")),
		req("reason", str("why")),
		req("message", str("what happened and what to do next")),
	)
}

func checkInputSchema() *schema {
	return object("",
		opt("command", str("a shell command line, as run_command would run it; give this or argv")),
		opt("argv", list(str(""), "the program and its arguments; give this or command")),
	)
}

func checkOutputSchema() *schema {
	return object("",
		req("decision", str("allow: run_command runs it; ask: it needs a human's approval; deny: it is refused")),
		req("summary", str("the decision in one sentence")),
		req("parts", list(object("",
			req("command", str("")),
			req("decision", str("")),
			opt("category", str("")),
			opt("rule", str("")),
			req("reason", str("")),
		), "every command the line runs, each judged on its own; the strictest decides")),
	)
}

func infoInputSchema() *schema { return object("") }

func infoOutputSchema() *schema {
	return object("",
		req("mode", str("workspace-write, read-only or full-access")),
		req("workspace", str("the workspace root; cwd values are relative to it")),
		req("writable_roots", list(str(""), "where commands may write")),
		req("protected_paths", list(str(""), "read-only even inside the writable roots (names are relative to each root)")),
		req("unreadable_paths", list(str(""), "secrets commands cannot read")),
		req("network", object("",
			req("access", str("none, proxy (only allowed hosts) or host (no boundary)")),
			req("allowed_hosts", list(str(""), "hosts reachable through cordon's proxy")),
			req("detail", str("")),
		)),
		opt("max_timeout_seconds", number("the longest timeout_seconds allowed")),
		req("default_timeout_seconds", number("the timeout when run_command gives none")),
		req("max_output_bytes", integer("how much of stdout and of stderr run_command returns")),
		req("enforcement", list(object("",
			req("name", str("")),
			req("status", str("")),
			opt("detail", str("")),
		), "each layer of the boundary and its status")),
		req("machine", object("what this machine can enforce",
			req("system", str("")),
			req("facts", list(object("",
				req("name", str("")),
				req("ok", boolean("")),
				req("detail", str("")),
			), "")),
			req("modes", list(object("",
				req("mode", str("")),
				req("works", boolean("")),
				req("detail", str("")),
			), "")),
		)),
		opt("notes", list(str(""), "")),
	)
}
