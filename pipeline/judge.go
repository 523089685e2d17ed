package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/credentials"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// Approver asks a human about something the policy says to ask about. Ask
// must return when ctx ends. An answer whose Decision is not Allow, or an
// error, refuses.
type Approver = approval.Approver

// Question is what an Approver is asked: the kind (command, network,
// credential), what is asked about as shown to a human, and the policy's
// rule, category and reason.
type Question = approval.Request

// Answer is an Approver's answer: Decision (Allow or Deny), the Scope of an
// allow (ScopeOnce unless the human chose more), and who answered.
type Answer = approval.Answer

// Decisions and scopes of an Answer.
const (
	Allow        = approval.Allow
	Deny         = approval.Deny
	ScopeOnce    = approval.ScopeOnce
	ScopeSession = approval.ScopeSession
	ScopeAlways  = approval.ScopeAlways
)

// ChannelOptions configure Channels.
type ChannelOptions struct {
	// Status receives one line when a question waits in the web inbox.
	Status io.Writer
	// NoTerminal leaves the terminal prompt out: an agent's own interface
	// owns the terminal (cordon mcp).
	NoTerminal bool
}

// Channels returns cordon's own approval channels as policy p configures
// them, in the order they are tried: the policy's approver program, the
// web inbox (`cordon approve`), the terminal. With none available, ask is
// deny and the refusal says how to set one up (docs/approvals.md).
func Channels(p *policy.Policy, home string, o ChannelOptions) Approver {
	return channels{approval.New(approval.Options{Home: home, Command: p.Approval.Approver.Value,
		Timeout: p.Approval.Timeout.Value, Status: o.Status, NoTerminal: o.NoTerminal})}
}

// channels marks cordon's own chain, which already bounds and normalises
// answers.
type channels struct{ approval.Approver }

// judge answers the questions one run's rules raise: remembered grants
// first, then the Approver.
type judge struct {
	p         *policy.Policy
	workspace string
	home      string
	log       *audit.Logger
	ap        approval.Approver
	grants    *approval.Grants
	o         Options
	// hosts came with the approval of the command (its install's
	// registry): the run's network allows them too.
	hosts []string
}

func newJudge(req sandbox.Request, log *audit.Logger, o Options) *judge {
	var ap approval.Approver
	switch a := o.Approver.(type) {
	case channels:
		ap = a.Approver
	case nil:
		// Nobody to ask: the chain answers deny, saying no channel is
		// available.
		ap = approval.Chain(req.Policy.Approval.Timeout.Value)
	default:
		// A program's own approver gets the policy's timeout, and its
		// answers the checks cordon's own channels get.
		ap = approval.Chain(req.Policy.Approval.Timeout.Value, a)
	}
	return &judge{p: req.Policy, workspace: req.Workspace, home: req.Home, log: log, ap: ap,
		grants: approval.NewGrants(req.Home), o: o}
}

// ask settles one question: a remembered grant, or the Approver's answer,
// which is recorded and remembered for its scope.
func (j *judge) ask(ctx context.Context, r approval.Request) (approval.Answer, error) {
	r.Session = os.Getenv(approval.SessionEnv)
	r.Workspace = j.workspace
	if ans, ok := j.grants.Lookup(r); ok {
		j.log.Emit(audit.Decision{Decision: ans.Decision, Subject: r.Kind, Target: r.Command,
			Rule: r.Rule, Category: r.Category, Decider: "grant", Reason: "remembered answer (" + ans.Scope + ")"})
		return ans, nil
	}
	ans, err := j.ap.Ask(ctx, r)
	j.log.Emit(approval.Event(r, ans))
	if err == nil && ans.Allowed() {
		if rerr := j.grants.Remember(r, ans); rerr != nil {
			fmt.Fprintf(j.o.Warnings, "cordon: warning: the answer holds for this run but could not be remembered: %v\n", rerr)
		}
	}
	return ans, err
}

// decide applies the command rules to argv before anything runs: deny
// refuses, ask waits for a human, allow goes on (inside the sandbox, like
// every command).
func (j *judge) decide(ctx context.Context, argv []string, dir string) error {
	rules, err := cmdpolicy.New(j.p.Commands)
	if err != nil {
		return &SetupError{Msg: "command rules: " + err.Error(), Fix: "fix the [commands] section of your policy (docs/commands.md)"}
	}
	res := rules.Check(argv)
	line := strings.Join(argv, " ")
	var first *cmdpolicy.Part
	for i := range res.Parts {
		if res.Parts[i].Decision == res.Decision {
			first = &res.Parts[i]
			break
		}
	}
	ev := audit.Decision{Decision: res.Decision.String(), Subject: "command", Target: line, Decider: "policy"}
	if first != nil {
		ev.Rule, ev.Category, ev.Reason = first.Rule, first.Category, first.Reason
	}
	j.log.Emit(ev)
	switch res.Decision {
	case cmdpolicy.Deny:
		return &DeniedError{
			Msg: fmt.Sprintf("the policy denies this command (rule %s): %s", ev.Rule, ev.Reason),
			Fix: "see why with: cordon check -- " + shellJoin(argv), Rule: ev.Rule, Reason: ev.Reason}
	case cmdpolicy.Ask:
		r := approval.Request{Kind: approval.KindCommand, Command: line, Argv: argv, Cwd: dir,
			Category: ev.Category, Rule: ev.Rule, Reason: ev.Reason, Network: j.installHosts(ev.Category, ev.Rule)}
		if len(r.Network) > 0 {
			r.Reason += "; approving it also lets this one command reach " + strings.Join(r.Network, ", ") + " through cordon's proxy"
		}
		if j.o.ApprovedBy != "" {
			j.log.Emit(approval.Event(r, approval.Answer{Decision: "allow", Scope: "once",
				Channel: "agent", Approver: j.o.ApprovedBy, Reason: "approved in the agent's own prompt"}))
			j.hosts = r.Network
			return nil
		}
		ans, err := j.ask(ctx, r)
		if ans.Allowed() {
			j.hosts = r.Network
		}
		if !ans.Allowed() {
			d := &DeniedError{Msg: fmt.Sprintf("the command needs approval (%s: %s) and was not approved", ev.Category, ev.Reason),
				Rule: ev.Rule, Reason: ev.Reason}
			var noChannel *approval.NoApproverError
			switch {
			case errors.As(err, &noChannel):
				d.Msg += ": no approval channel is available"
				d.Fix = noChannel.Hint()
				d.NoApprover = true
			case err != nil:
				d.Msg += ": " + err.Error()
			case ans.Reason != "":
				d.Msg += fmt.Sprintf(" (%s via %s: %s)", ans.Approver, ans.Channel, ans.Reason)
			}
			return d
		}
	}
	return nil
}

// installHosts returns the registry that an install the rules ask about
// downloads from (netpolicy.InstallRegistry) when the run's network would
// not reach it otherwise: a human who approves `npm install` approves the
// download, and an approved install with no network would only fail. A
// host the network denies explicitly stays denied (deny wins), so it is
// not offered either.
func (j *judge) installHosts(category, rule string) []string {
	if category != cmdpolicy.CategoryDependencyInstall {
		return nil
	}
	cfg := j.p.Network.Value
	if cfg.Mode == netpolicy.ModeFull {
		return nil
	}
	rules, err := netpolicy.Compile(cfg)
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range netpolicy.InstallRegistry(rule) {
		d := rules.Decide(h, 443)
		if cfg.Mode == netpolicy.ModeProxy && d.Verdict == netpolicy.Allow || d.Verdict == netpolicy.Deny && d.Rule != "" {
			continue // allowed already, or denied by an entry of the policy's
		}
		out = append(out, h)
	}
	return out
}

// networkAsker asks a human about a host the network policy does not list,
// when it says to ask.
type networkAsker struct{ j *judge }

func (n networkAsker) Ask(ctx context.Context, q netproxy.Question) (bool, error) {
	ans, err := n.j.ask(ctx, networkRequest(q))
	return ans.Allowed(), err
}

// networkRequest is the question the proxy's q puts to a human. What it
// asks about (Command) is also what a "this session" answer is remembered
// for, so it names exactly what was shown: a host for a host the policy
// does not list, and the method, path and host of the one request a
// request rule asks about (never the host alone, or a grant for one merge
// would let every later request on that host through unasked).
func networkRequest(q netproxy.Question) approval.Request {
	r := approval.Request{Kind: approval.KindNetwork, Command: fmt.Sprintf("%s:%d", q.Host, q.Port),
		Category: "network-unfamiliar", Reason: q.Reason}
	if q.Method != "" {
		// A method is a token and an escaped path holds no space, so the
		// text names one request and no host question's text.
		r.Command = fmt.Sprintf("%s %s on %s:%d", q.Method, q.Path, q.Host, q.Port)
		r.Category, r.Rule = "network-request", q.Rule
	}
	return r
}

// shellJoin quotes argv for a POSIX shell, for messages a user may paste.
func shellJoin(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == "" {
			quoted[i] = a
		} else {
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// credentials hands the command the secrets the policy scopes to it: each
// is read outside the sandbox (from environ, the caller's environment, or
// a file), asked about unless the policy allows it outright, recorded (by
// name, never by value), and returned as KEY=VALUE for the sandbox to add
// after its environment filter. A credential with inject stays outside:
// the command gets a placeholder, and the returned injection tells the
// run's proxy where to put the secret.
func (j *judge) credentials(ctx context.Context, argv []string, dir string, environ []string) ([]string, []netproxy.Injection, error) {
	var out []string
	var injections []netproxy.Injection
	line := strings.Join(argv, " ")
	for _, sc := range credentials.Match(j.p.Credentials, argv) {
		sec, err := credentials.Resolve(sc, j.home, environ)
		if err != nil {
			return nil, nil, &DeniedError{Msg: fmt.Sprintf("credential %q: %v", sc.Name, err),
				Fix: "fix the credential's source (docs/credentials.md)", Rule: "credentials/" + sc.Name}
		}
		decider := "policy"
		if sc.Decision == cmdpolicy.Ask {
			r := approval.Request{Kind: approval.KindCredential, Cwd: dir,
				Command:  fmt.Sprintf("credential %q (%s) for: %s", sc.Name, sc.Env, line),
				Category: cmdpolicy.CategorySecretAccess, Rule: "credentials/" + sc.Name, Reason: sc.Reason}
			ans, err := j.ask(ctx, r)
			if !ans.Allowed() {
				j.log.Emit(credentials.Event(sc, cmdpolicy.Deny, "human"))
				d := &DeniedError{Msg: fmt.Sprintf("the credential %q was not handed to the command", sc.Name), Rule: r.Rule, Reason: sc.Reason}
				var noChannel *approval.NoApproverError
				if errors.As(err, &noChannel) {
					d.Msg += ": it needs approval and no approval channel is available"
					d.Fix, d.NoApprover = noChannel.Hint(), true
				}
				return nil, nil, d
			}
			decider = "human"
			if ans.Channel == "grant" {
				decider = "grant"
			}
		}
		if sc.Inject != nil {
			inj, entry, err := credentials.NewInjection(sc, sec)
			if err != nil {
				return nil, nil, &DeniedError{Msg: err.Error(), Rule: "credentials/" + sc.Name}
			}
			j.log.Emit(credentials.Event(sc, cmdpolicy.Allow, decider))
			out, injections = append(out, entry), append(injections, inj)
			continue
		}
		j.log.Emit(credentials.Event(sc, cmdpolicy.Allow, decider))
		out = append(out, sec.EnvEntry())
	}
	return out, injections, nil
}
