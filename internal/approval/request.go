package approval

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of actions a human can be asked about.
const (
	KindCommand    = "command"
	KindNetwork    = "network"
	KindCredential = "credential"
)

// Decisions.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Scopes of an allow answer.
const (
	// ScopeOnce allows this one action.
	ScopeOnce = "once"
	// ScopeSession allows the same action again in the runs that carry the
	// same session id, in the same workspace.
	ScopeSession = "session"
	// ScopeAlways writes a rule that allows the same command into the user's
	// own policy file.
	ScopeAlways = "always"
)

// Channels an answer came through. ChannelGrant marks an answer taken from
// a remembered grant rather than from a human just now.
const (
	ChannelTerminal = "tty"
	ChannelWeb      = "web"
	ChannelCommand  = "command"
	ChannelGrant    = "grant"
)

// SessionEnv names the environment variable an agent's harness sets once
// per agent session; Request.Session is its value. (pipeline.SessionEnv
// names the same variable for the audit trail.)
const SessionEnv = "CORDON_SESSION"

// DefaultTimeout is how long a human has to answer when Options.Timeout is
// not set. No answer in time means deny.
const DefaultTimeout = 5 * time.Minute

// Request is one question for a human.
type Request struct {
	// ID identifies the request in logs and the inbox; Ask sets a random one
	// when empty.
	ID string `json:"id"`
	// Kind is KindCommand (the default), KindNetwork or KindCredential.
	Kind string `json:"kind"`
	// Command is what is asked about, as shown to the human: the command
	// line, HOST:PORT, or the secret's name and where it would go.
	Command string `json:"command"`
	// Argv is the command's argument vector (KindCommand). An "always"
	// grant is offered only when it is set, and matches it exactly.
	Argv []string `json:"argv,omitempty"`
	// Cwd is the command's working directory.
	Cwd string `json:"cwd"`
	// Workspace is the workspace directory, absolute. Session grants are
	// kept per workspace.
	Workspace string `json:"workspace"`
	// Session is the value of CORDON_SESSION, or empty when it is not set
	// (then "this session" is not offered).
	Session string `json:"session,omitempty"`
	// Category, Rule and Reason say why the policy asks.
	Category string `json:"category,omitempty"`
	Rule     string `json:"rule,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Network are the hosts an approval of this command also lets it
	// reach, for this one run (the registry of a dependency install); the
	// Reason says so to the human.
	Network []string `json:"network,omitempty"`
}

// Answer is a human's answer, or the deny that stands in for one.
type Answer struct {
	// Decision is Allow or Deny.
	Decision string `json:"decision"`
	// Scope is how far an allow reaches (ScopeOnce, ScopeSession,
	// ScopeAlways); empty for a deny.
	Scope string `json:"scope,omitempty"`
	// Channel is where the answer came from (ChannelTerminal, ChannelWeb,
	// ChannelCommand, ChannelGrant); empty when no channel was available.
	Channel string `json:"channel,omitempty"`
	// Approver is who answered: the OS user at the terminal or running the
	// inbox, or what the approval command says; empty on timeout.
	Approver string `json:"approver,omitempty"`
	// Reason explains the answer to the agent and the log: what the human
	// wrote, that nobody answered, or why no channel could ask.
	Reason string `json:"reason,omitempty"`
	// TimedOut is set when nobody answered in time.
	TimedOut bool `json:"timed_out,omitempty"`
	// Latency is the time from the question to the answer.
	Latency time.Duration `json:"-"`
}

// Allowed reports whether the answer lets the action go ahead.
func (a Answer) Allowed() bool { return a.Decision == Allow }

// Scopes returns the scopes an allow answer may have for r, narrowest
// first: "once" always; "session" when r carries a session id; "always" for
// a command whose argument vector a policy rule can name exactly.
func (r Request) Scopes() []string {
	scopes := []string{ScopeOnce}
	if r.Session != "" {
		scopes = append(scopes, ScopeSession)
	}
	if r.kind() == KindCommand && ruleCanName(r.Argv) {
		scopes = append(scopes, ScopeAlways)
	}
	return scopes
}

// offers reports whether scope is one of r.Scopes().
func (r Request) offers(scope string) bool { return slices.Contains(r.Scopes(), scope) }

func (r Request) kind() string {
	if r.Kind == "" {
		return KindCommand
	}
	return r.Kind
}

// ruleCanName reports whether a command rule can match argv exactly: every
// argument must be non-empty UTF-8 (a rule token cannot be empty, and the
// policy file is UTF-8).
func ruleCanName(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	for _, a := range argv {
		if a == "" || !utf8.ValidString(a) || strings.ContainsRune(a, 0) {
			return false
		}
	}
	return true
}

// maxSessionLen bounds a session id; it names nothing on disk (it is hashed)
// but is shown to humans.
const maxSessionLen = 256

// Validate reports what is wrong with r. The inbox checks the requests it
// receives with it; Chain checks every request.
func (r Request) Validate() error {
	var errs []error
	switch r.kind() {
	case KindCommand, KindNetwork, KindCredential:
	default:
		errs = append(errs, fmt.Errorf("kind %q: use command, network or credential", r.Kind))
	}
	if strings.TrimSpace(r.Command) == "" && len(r.Argv) == 0 {
		errs = append(errs, errors.New("nothing to ask about: command and argv are empty"))
	}
	if len(r.Session) > maxSessionLen {
		errs = append(errs, fmt.Errorf("session id is %d bytes long; at most %d", len(r.Session), maxSessionLen))
	}
	return errors.Join(errs...)
}

// shownCommand is the text the human reads for r.
func (r Request) shownCommand() string {
	if r.Command != "" {
		return r.Command
	}
	return strings.Join(r.Argv, " ")
}

// normalize checks an approver's answer for r and fills what the chain
// knows. An answer that is neither allow nor deny is an error (and a deny).
// An allow whose scope r does not offer is narrowed to once, and the reason
// says so: the human allowed at least this one action.
func (a Answer) normalize(r Request) (Answer, error) {
	switch a.Decision {
	case Allow:
		if a.Scope == "" {
			a.Scope = ScopeOnce
		}
		switch a.Scope {
		case ScopeOnce, ScopeSession, ScopeAlways:
		default:
			return denyBecause(a, fmt.Sprintf("the answer's scope %q is not once, session or always", a.Scope)),
				fmt.Errorf("approver answered with an unknown scope %q", a.Scope)
		}
		if !r.offers(a.Scope) {
			note := fmt.Sprintf("allowed once: scope %q is not available for this request (%s)", a.Scope, scopeUnavailable(r, a.Scope))
			a.Scope = ScopeOnce
			a.Reason = joinReason(a.Reason, note)
		}
	case Deny:
		a.Scope = ""
	default:
		return denyBecause(a, fmt.Sprintf("the answer %q is neither allow nor deny", a.Decision)),
			fmt.Errorf("approver answered %q, which is neither allow nor deny", a.Decision)
	}
	return a, nil
}

func scopeUnavailable(r Request, scope string) string {
	switch scope {
	case ScopeSession:
		return SessionEnv + " is not set"
	case ScopeAlways:
		if r.kind() != KindCommand {
			return "only commands can be allowed always"
		}
		return "a policy rule cannot name this exact argument vector"
	}
	return "not offered"
}

func denyBecause(a Answer, why string) Answer {
	a.Decision, a.Scope = Deny, ""
	a.Reason = joinReason(a.Reason, why)
	return a
}

func joinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
