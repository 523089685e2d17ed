package cli

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
)

// ExitDenied is cordon's status when the policy, or the human asked, refuses
// a command: it did not run. It is the shell's "cannot execute" status.
const ExitDenied = ExitCannotExecute

// deniedError says that the command was not run because it was refused.
type deniedError struct {
	msg, hint string
	// Rule and Reason are the policy's; NoChannel says that a human should
	// have been asked and no approval channel was available.
	rule, reason string
	noChannel    bool
}

func (e *deniedError) Error() string { return e.msg }
func (e *deniedError) Hint() string  { return e.hint }
func (e *deniedError) ExitCode() int { return ExitDenied }

// approvals answers the questions a run's rules raise: grants first, then a
// human through the configured channels.
type approvals struct {
	l      *loaded
	log    *audit.Logger
	ap     approval.Approver
	grants *approval.Grants
	// approvedBy names an agent whose own prompt already had a human
	// approve this command (cordon run --approved-by).
	approvedBy string
}

func newApprovals(l *loaded, log *audit.Logger, status io.Writer, noTerminal bool) *approvals {
	return &approvals{
		l:   l,
		log: log,
		ap: approval.New(approval.Options{Home: l.home, Command: l.policy.Approval.Approver.Value,
			Timeout: l.policy.Approval.Timeout.Value, Status: status, NoTerminal: noTerminal}),
		grants: approval.NewGrants(l.home),
	}
}

// ask settles one question: a remembered grant, or a human's answer, which
// is recorded and remembered for its scope.
func (a *approvals) ask(ctx context.Context, r approval.Request) (approval.Answer, error) {
	r.Session = os.Getenv(approval.SessionEnv)
	r.Workspace = a.l.workspace
	if ans, ok := a.grants.Lookup(r); ok {
		a.log.Emit(audit.Decision{Decision: ans.Decision, Subject: r.Kind, Target: r.Command,
			Rule: r.Rule, Category: r.Category, Decider: "grant", Reason: "remembered answer (" + ans.Scope + ")"})
		return ans, nil
	}
	ans, err := a.ap.Ask(ctx, r)
	a.log.Emit(approval.Event(r, ans))
	if err == nil && ans.Allowed() {
		if rerr := a.grants.Remember(r, ans); rerr != nil {
			fmt.Fprintf(os.Stderr, "cordon: warning: the answer holds for this run but could not be remembered: %v\n", rerr)
		}
	}
	return ans, err
}

// decide applies the command rules to argv before anything runs: deny
// refuses, ask waits for a human, allow goes on (inside the sandbox, like
// every command).
func (a *approvals) decide(ctx context.Context, argv []string, dir string) error {
	rules, err := cmdpolicy.New(a.l.policy.Commands)
	if err != nil {
		return &usageError{msg: "command rules: " + err.Error(), hint: "fix the [commands] section of your policy (docs/commands.md)"}
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
	a.log.Emit(ev)
	switch res.Decision {
	case cmdpolicy.Deny:
		return &deniedError{
			msg:  fmt.Sprintf("the policy denies this command (rule %s): %s", ev.Rule, ev.Reason),
			hint: "see why with: cordon check -- " + shellJoin(argv), rule: ev.Rule, reason: ev.Reason}
	case cmdpolicy.Ask:
		r := approval.Request{Kind: approval.KindCommand, Command: line, Argv: argv, Cwd: dir,
			Category: ev.Category, Rule: ev.Rule, Reason: ev.Reason}
		if a.approvedBy != "" {
			a.log.Emit(approval.Event(r, approval.Answer{Decision: "allow", Scope: "once",
				Channel: "agent", Approver: a.approvedBy, Reason: "approved in the agent's own prompt"}))
			return nil
		}
		ans, err := a.ask(ctx, r)
		if !ans.Allowed() {
			d := &deniedError{msg: fmt.Sprintf("the command needs approval (%s: %s) and was not approved", ev.Category, ev.Reason),
				rule: ev.Rule, reason: ev.Reason}
			var noChannel *approval.NoApproverError
			switch {
			case errors.As(err, &noChannel):
				d.msg += ": no approval channel is available"
				d.hint = noChannel.Hint()
				d.noChannel = true
			case err != nil:
				d.msg += ": " + err.Error()
			case ans.Reason != "":
				d.msg += fmt.Sprintf(" (%s via %s: %s)", ans.Approver, ans.Channel, ans.Reason)
			}
			return d
		}
	}
	return nil
}

// networkAsker asks a human about a host the network policy does not list,
// when it says to ask.
type networkAsker struct{ a *approvals }

func (n networkAsker) Ask(ctx context.Context, q netproxy.Question) (bool, error) {
	ans, err := n.a.ask(ctx, approval.Request{Kind: approval.KindNetwork, Command: fmt.Sprintf("%s:%d", q.Host, q.Port),
		Category: "network-unfamiliar", Reason: q.Reason})
	return ans.Allowed(), err
}

// shellJoin quotes argv for a POSIX shell, for messages the user may paste.
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
// is read outside the sandbox, asked about unless the policy allows it
// outright, recorded (by name, never by value), and returned as KEY=VALUE
// for the sandbox to add after its environment filter. A credential with
// inject stays outside: the command gets a placeholder, and the returned
// injection tells the run's proxy where to put the secret.
func (a *approvals) credentials(ctx context.Context, argv []string, dir string) ([]string, []netproxy.Injection, error) {
	var out []string
	var injections []netproxy.Injection
	line := strings.Join(argv, " ")
	for _, sc := range credentials.Match(a.l.policy.Credentials, argv) {
		sec, err := credentials.Resolve(sc, a.l.home, os.Environ())
		if err != nil {
			return nil, nil, &deniedError{msg: fmt.Sprintf("credential %q: %v", sc.Name, err),
				hint: "fix the credential's source (docs/credentials.md)", rule: "credentials/" + sc.Name}
		}
		decider := "policy"
		if sc.Decision == cmdpolicy.Ask {
			r := approval.Request{Kind: approval.KindCredential, Cwd: dir,
				Command:  fmt.Sprintf("credential %q (%s) for: %s", sc.Name, sc.Env, line),
				Category: cmdpolicy.CategorySecretAccess, Rule: "credentials/" + sc.Name, Reason: sc.Reason}
			ans, err := a.ask(ctx, r)
			if !ans.Allowed() {
				a.log.Emit(credentials.Event(sc, cmdpolicy.Deny, "human"))
				d := &deniedError{msg: fmt.Sprintf("the credential %q was not handed to the command", sc.Name), rule: r.Rule, reason: sc.Reason}
				var noChannel *approval.NoApproverError
				if errors.As(err, &noChannel) {
					d.msg += ": it needs approval and no approval channel is available"
					d.hint, d.noChannel = noChannel.Hint(), true
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
				return nil, nil, &deniedError{msg: err.Error(), rule: "credentials/" + sc.Name}
			}
			a.log.Emit(credentials.Event(sc, cmdpolicy.Allow, decider))
			out, injections = append(out, entry), append(injections, inj)
			continue
		}
		a.log.Emit(credentials.Event(sc, cmdpolicy.Allow, decider))
		out = append(out, sec.EnvEntry())
	}
	return out, injections, nil
}
