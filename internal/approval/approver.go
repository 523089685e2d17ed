package approval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/internal/approval/internal/state"
)

// Approver asks a human about a request through one channel.
//
// Ask returns an *UnavailableError when its channel cannot reach anyone
// (no terminal, no inbox running, no command configured): Chain then tries
// the next channel. Any other error means the channel was there and failed;
// Chain then denies without trying another. Ask must return when ctx ends,
// with ctx's error.
type Approver interface {
	Ask(ctx context.Context, r Request) (Answer, error)
}

// UnavailableError says that a channel cannot ask anyone right now.
type UnavailableError struct {
	Channel string
	// Why it is unavailable, for the human reading the deny message.
	Why string
	// Setup says how to make it available.
	Setup string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("approval channel %s is not available: %s", e.Channel, e.Why)
}

// NoApproverError says that no channel could ask, so the answer is deny.
// Its hint says how to set one up.
type NoApproverError struct {
	Unavailable []*UnavailableError
}

func (e *NoApproverError) Error() string {
	var why []string
	for _, u := range e.Unavailable {
		why = append(why, fmt.Sprintf("%s: %s", u.Channel, u.Why))
	}
	msg := "this needs a human's approval and no approval channel is available, so it is denied"
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return msg
}

// Hint says how to set up a channel.
func (e *NoApproverError) Hint() string {
	var setups []string
	for _, u := range e.Unavailable {
		if u.Setup != "" {
			setups = append(setups, u.Setup)
		}
	}
	if len(setups) == 0 {
		return "see docs/approvals.md to set up an approval channel"
	}
	return strings.Join(setups, "; or ") + " (docs/approvals.md)"
}

// Options configure New.
type Options struct {
	// Home is the user's home directory; the state directory is derived
	// from it (and XDG_STATE_HOME).
	Home string
	// Command is the policy's approver program and its arguments; empty
	// when none is configured.
	Command []string
	// Timeout is how long a human has to answer; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// Status receives one line when a request waits in the inbox, so the
	// user of cordon run knows where to answer. Nil discards it.
	Status io.Writer
	// NoTerminal leaves the terminal prompt out: an agent's own interface
	// owns the terminal (cordon mcp).
	NoTerminal bool
}

// New returns cordon's approvers in the order they are tried:
//
//  1. the policy's approver command, when one is configured: an
//     organisation that routes approvals through its own workflow must not
//     be bypassed by whoever sits at a terminal;
//  2. the web inbox, when `cordon approve` is running: the user started it
//     on purpose, typically because the agent owns the terminal (a
//     full-screen agent reads the same terminal the prompt would use);
//  3. the terminal prompt, when cordon has a controlling terminal.
//
// With none available, the answer is deny and the error says how to set
// one up.
func New(o Options) Approver {
	dir := state.Dir(o.Home)
	// An unconfigured command is unavailable, and says how to configure
	// one when no channel is.
	if o.NoTerminal {
		return Chain(o.Timeout, NewCommand(o.Command), NewInbox(dir, o.Status))
	}
	return Chain(o.Timeout, NewCommand(o.Command), NewInbox(dir, o.Status), NewTerminal(dir))
}

// Chain returns an Approver that asks the first available approver of
// approvers and gives the human timeout to answer (DefaultTimeout when
// zero). Its answers are normalised: a timeout is a deny with TimedOut set,
// a failure is a deny with the error, an allow's scope is one the request
// offers, and Latency is measured.
func Chain(timeout time.Duration, approvers ...Approver) Approver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &chain{timeout: timeout, approvers: approvers}
}

type chain struct {
	timeout   time.Duration
	approvers []Approver
}

func (c *chain) Ask(ctx context.Context, r Request) (Answer, error) {
	start := time.Now()
	if r.Kind == "" {
		r.Kind = KindCommand
	}
	if r.ID == "" {
		r.ID = state.RandomHex(8)
	}
	if err := r.Validate(); err != nil {
		return Answer{Decision: Deny, Reason: "the request is invalid: " + err.Error()}, fmt.Errorf("approval request: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var unavailable []*UnavailableError
	for _, ap := range c.approvers {
		a, err := ap.Ask(ctx, r)
		var u *UnavailableError
		if errors.As(err, &u) {
			unavailable = append(unavailable, u)
			continue
		}
		a.Latency = time.Since(start)
		return c.settle(ctx, r, a, err)
	}
	e := &NoApproverError{Unavailable: unavailable}
	return Answer{Decision: Deny, Reason: e.Error() + ". To set one up: " + e.Hint(), Latency: time.Since(start)}, e
}

// settle turns what an approver returned into the chain's answer.
func (c *chain) settle(ctx context.Context, r Request, a Answer, err error) (Answer, error) {
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		// The chain's own timeout (not a deadline inside the approver):
		// nobody answered in time.
		a = Answer{Decision: Deny, Channel: a.Channel, TimedOut: true, Latency: a.Latency,
			Reason: fmt.Sprintf("nobody answered within %s, which counts as deny", c.timeout)}
		return a, nil
	case err != nil && ctx.Err() != nil:
		// The caller gave up (cordon was interrupted).
		return denyBecause(Answer{Channel: a.Channel, Latency: a.Latency}, "the question was withdrawn before anyone answered"), err
	case err != nil:
		return denyBecause(Answer{Channel: a.Channel, Approver: a.Approver, Latency: a.Latency}, "asking failed: "+err.Error()), err
	}
	return a.normalize(r)
}
