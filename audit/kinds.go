package audit

// The payload types, one per kind, in the order of docs/audit.md. Field
// comments are short; the document is the reference for their meaning.

// PolicyLoaded records the policy in force for a run and where each layer came
// from.
type PolicyLoaded struct {
	Mode      string        `json:"mode"`
	Workspace string        `json:"workspace"`
	Layers    []PolicyLayer `json:"layers"`
}

// PolicyLayer is one policy file (or the built-in defaults) that was merged.
type PolicyLayer struct {
	Source string `json:"source"` // builtin, user, workspace, flag
	Path   string `json:"path"`
	SHA256 string `json:"sha256"` // of the bytes as read
}

// Enforcement records what the sandbox applied, layer by layer.
type Enforcement struct {
	Platform string             `json:"platform"`
	Mode     string             `json:"mode"`
	Layers   []EnforcementLayer `json:"layers"`
	Accepted []string           `json:"accepted"` // weaker modes the user accepted by name
}

// EnforcementLayer is one protection layer and what became of it.
type EnforcementLayer struct {
	Name   string `json:"name"`
	Status string `json:"status"` // applied, downgraded, missing
	Detail string `json:"detail"`
}

// Layer statuses for EnforcementLayer.Status.
const (
	LayerApplied    = "applied"
	LayerDowngraded = "downgraded"
	LayerMissing    = "missing"
)

// CommandRequested records the command as the agent asked for it.
type CommandRequested struct {
	Argv   []string `json:"argv"`
	Cwd    string   `json:"cwd"`
	Source string   `json:"source"` // cli, shell, mcp, api
	Agent  string   `json:"agent"`
}

// Decision records what the policy decided about one action.
type Decision struct {
	Decision string `json:"decision"` // allow, ask, deny
	Subject  string `json:"subject"`  // command, network, write, read, secret
	Target   string `json:"target"`
	Rule     string `json:"rule"`
	Category string `json:"category"`
	Decider  string `json:"decider"` // policy, default, grant, approval
	Reason   string `json:"reason"`
}

// Decision values, shared by Decision, Approval and NetworkConnection.
const (
	Allow = "allow"
	Ask   = "ask"
	Deny  = "deny"
)

// Approval records a human's answer to an ask, or the timeout.
type Approval struct {
	Decision string   `json:"decision"` // allow, deny
	Target   string   `json:"target"`
	Channel  string   `json:"channel"` // tty, web, command
	Approver string   `json:"approver"`
	Scope    string   `json:"scope"` // once, session, always
	Latency  Duration `json:"latency_ms"`
	TimedOut bool     `json:"timed_out"`
}

// ProcessStart records the command's first process starting in the boundary.
type ProcessStart struct {
	PID        int      `json:"pid"`
	Argv       []string `json:"argv"`
	Executable string   `json:"executable"`
	Cwd        string   `json:"cwd"`
}

// ProcessExit records the end of the command's first process and the
// resources its whole tree used.
type ProcessExit struct {
	PID             int      `json:"pid"`
	ExitCode        int      `json:"exit_code"`
	Signal          string   `json:"signal"`
	TimedOut        bool     `json:"timed_out"`
	Duration        Duration `json:"duration_ms"`
	UserCPU         Duration `json:"user_cpu_ms"`
	SystemCPU       Duration `json:"system_cpu_ms"`
	PeakMemoryBytes int64    `json:"peak_memory_bytes"`
}

// NetworkConnection records one connection attempt through cordon's proxy.
type NetworkConnection struct {
	Host          string   `json:"host"`
	Port          int      `json:"port"`
	Address       string   `json:"address"`
	Protocol      string   `json:"protocol"` // http, connect, socks5, tcp, https
	Decision      string   `json:"decision"` // allow, deny
	Rule          string   `json:"rule"`
	BytesSent     int64    `json:"bytes_sent"`
	BytesReceived int64    `json:"bytes_received"`
	Duration      Duration `json:"duration_ms"`
	Error         string   `json:"error"`
	// Set only for connections the proxy intercepted to inject a
	// credential, and for the requests inside them (protocol https).
	Intercepted bool   `json:"intercepted,omitempty"`
	Method      string `json:"method,omitempty"`
	Path        string `json:"path,omitempty"`
	Status      int    `json:"status,omitempty"`
	Credential  string `json:"credential,omitempty"`
	Injected    bool   `json:"injected,omitempty"`
}

// AccessDenied records an access a layer refused, when cordon could see it.
type AccessDenied struct {
	Operation string `json:"operation"`
	Path      string `json:"path"`
	Layer     string `json:"layer"`
	PID       int    `json:"pid"`
	Detail    string `json:"detail"`
}

// RunEnd is the last event of a run.
type RunEnd struct {
	Outcome  string   `json:"outcome"` // completed, denied, timed_out, failed, interrupted
	ExitCode int      `json:"exit_code"`
	Duration Duration `json:"duration_ms"`
	Error    string   `json:"error"`
}

// SinkFailure reports that a sink stopped accepting or delivering events.
// The Logger emits it; callers do not.
type SinkFailure struct {
	Sink     string `json:"sink"`
	Required bool   `json:"required"`
	Error    string `json:"error"`
	Pending  int    `json:"pending"`
	Lost     int    `json:"lost"`
}

// SinkRecovered reports that a failed sink works again. The Logger emits it.
type SinkRecovered struct {
	Sink      string   `json:"sink"`
	Down      Duration `json:"down_ms"`
	Delivered int      `json:"delivered"`
	Lost      int      `json:"lost"`
}

// Recovery is written by the file sink after an incomplete last line left by
// a writer that was killed mid-write.
type Recovery struct {
	TornBytes  int64  `json:"torn_bytes"`
	TornSHA256 string `json:"torn_sha256"`
}

func (PolicyLoaded) Kind() Kind      { return KindPolicyLoaded }
func (Enforcement) Kind() Kind       { return KindEnforcement }
func (CommandRequested) Kind() Kind  { return KindCommandRequested }
func (Decision) Kind() Kind          { return KindDecision }
func (Approval) Kind() Kind          { return KindApproval }
func (ProcessStart) Kind() Kind      { return KindProcessStart }
func (ProcessExit) Kind() Kind       { return KindProcessExit }
func (NetworkConnection) Kind() Kind { return KindNetworkConnection }
func (AccessDenied) Kind() Kind      { return KindAccessDenied }
func (RunEnd) Kind() Kind            { return KindRunEnd }
func (SinkFailure) Kind() Kind       { return KindSinkFailure }
func (SinkRecovered) Kind() Kind     { return KindSinkRecovered }
func (Recovery) Kind() Kind          { return KindRecovery }

func (PolicyLoaded) isPayload()      {}
func (Enforcement) isPayload()       {}
func (CommandRequested) isPayload()  {}
func (Decision) isPayload()          {}
func (Approval) isPayload()          {}
func (ProcessStart) isPayload()      {}
func (ProcessExit) isPayload()       {}
func (NetworkConnection) isPayload() {}
func (AccessDenied) isPayload()      {}
func (RunEnd) isPayload()            {}
func (SinkFailure) isPayload()       {}
func (SinkRecovered) isPayload()     {}
func (Recovery) isPayload()          {}
