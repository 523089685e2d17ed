package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/auditsink"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// Exit statuses the pipeline's own refusals and failures carry (ExitCode
// on the errors Run returns, and run_end's exit_code). They are the
// shell's: a caller can tell them from the command's own status.
const (
	// ExitSetup: the command could not be started: an audit sink, the
	// policy, or a sandbox layer failed.
	ExitSetup = 125
	// ExitDenied: the policy, or the human asked, refused the command: it
	// did not run. It is the shell's "cannot execute" status.
	ExitDenied = 126
)

// SessionEnv names the environment variable that carries an agent
// session's id across the runs of one session (an agent's harness sets it
// once). Runs without it get a session of their own in the audit trail,
// and answers scoped to "this session" are not offered.
const SessionEnv = approval.SessionEnv

// Options say how a front end runs a command. The zero value is a Go
// program's: source "api", no one to ask, warnings on stderr.
type Options struct {
	// Source says how the command reached cordon, for the audit trail:
	// "cli", "shell", "mcp", "hook"; empty means "api".
	Source string
	// Verbose sends the audit events to stderr too.
	Verbose bool
	// ApprovedBy names an agent whose own prompt had a human approve the
	// command already (cordon run --approved-by): a rule's ask is answered
	// by that, and recorded. Deny still denies; credentials are still
	// asked about.
	ApprovedBy string
	// Approver is asked where the policy says ask (commands, credentials,
	// hosts). Nil means nobody can be asked: every ask is refused.
	// Channels returns cordon's own.
	Approver Approver
	// Session, when set, runs the command in the session's warm sandboxes;
	// otherwise it runs cold with sandbox.Run.
	Session *sandbox.Session
	// Warnings receives what went wrong without stopping the run (an
	// answer that could not be remembered, an audit sink that failed at
	// the end). Nil means os.Stderr.
	Warnings io.Writer
	// RefuseOnly is for a front end that has judged the command refused
	// and must not run it (the Claude Code hook's deny): the pipeline
	// judges and records as for a run, and runs nothing. If it does not
	// come to a refusal, it records a failed run and returns an error: the
	// two judgements disagree, and the caller must block the command.
	RefuseOnly bool
}

// DeniedError says that the command was not run because it was refused:
// by a command rule, by the human asked, because the rules asked for a
// human and nobody could be asked, or because a credential scoped to it
// could not be handed over.
type DeniedError struct {
	// Msg says what was refused and why; Fix, when set, what to do.
	Msg, Fix string
	// Rule and Reason are the policy's.
	Rule, Reason string
	// NoApprover says that a human should have been asked and no approval
	// channel was available.
	NoApprover bool
}

func (e *DeniedError) Error() string { return e.Msg }

// Hint says what to do.
func (e *DeniedError) Hint() string { return e.Fix }

// ExitCode is ExitDenied.
func (e *DeniedError) ExitCode() int { return ExitDenied }

// SetupError says that the pipeline could not run the command at all: the
// audit trail could not be opened, the command rules are invalid, or cordon
// is already inside a sandbox.
type SetupError struct {
	Msg, Fix string
}

func (e *SetupError) Error() string { return e.Msg }

// Hint says what to do.
func (e *SetupError) Hint() string { return e.Fix }

// Run judges, approves, confines and records one command; see the package
// documentation for the steps. It returns the sandbox's result, or why the
// command did not run (*DeniedError, *SetupError, a sandbox error) or could
// not start (*sandbox.ExecError, with the result nil).
func Run(ctx context.Context, req sandbox.Request, o Options) (*sandbox.Result, error) {
	if os.Getenv("CORDON_SANDBOX") == "1" {
		return nil, &SetupError{Msg: "cordon is already running inside a cordon sandbox, which cannot start another (it may not create namespaces)",
			Fix: "run the command directly: it is sandboxed already"}
	}
	if req.Policy == nil {
		return nil, errors.New("pipeline: no policy")
	}
	if o.Source == "" {
		o.Source = "api"
	}
	if o.Warnings == nil {
		o.Warnings = os.Stderr
	}
	cfg := req.Policy.Audit.Value
	if o.Verbose {
		cfg.Stderr.Enabled = true
	}
	session := os.Getenv(SessionEnv)
	if session == "" {
		session = audit.NewID()
	}
	log, err := auditsink.Open(cfg, audit.IDs{Session: session, Run: audit.NewID()})
	if err != nil {
		return nil, &SetupError{Msg: "audit: " + err.Error(), Fix: "fix the [audit] section of your policy (docs/audit.md)"}
	}
	begin := time.Now()
	log.Emit(policyLoaded(req.Policy, req.Workspace))
	log.Emit(audit.CommandRequested{Argv: req.Argv, Cwd: req.Dir, Source: o.Source})
	if err := log.Healthy(); err != nil {
		log.Emit(audit.RunEnd{Outcome: "failed", ExitCode: ExitSetup, Duration: audit.Duration(time.Since(begin)), Error: err.Error()})
		log.Close()
		return nil, err
	}
	j := newJudge(req, log, o)
	err = j.decide(ctx, req.Argv, req.Dir)
	if err == nil {
		req.Secrets, req.Inject, err = j.credentials(ctx, req.Argv, req.Dir, req.Environ)
	}
	if err == nil && o.RefuseOnly {
		err = &SetupError{Msg: "the caller refused this command, and cordon's judgement of it is not a refusal; it was not run",
			Fix: "report this as a bug in cordon: the front end and the pipeline judged one command differently"}
		log.Emit(audit.RunEnd{Outcome: "failed", ExitCode: ExitSetup, Duration: audit.Duration(time.Since(begin)), Error: err.Error()})
		log.Close()
		return nil, err
	}
	if err != nil {
		log.Emit(audit.RunEnd{Outcome: "denied", ExitCode: exitCodeOf(err), Duration: audit.Duration(time.Since(begin)), Error: err.Error()})
		log.Close()
		return nil, err
	}
	if len(j.hosts) > 0 {
		// What came with the approval, for this run only.
		granted, err := req.Policy.WithAllowedHosts(j.hosts, policy.Source{Layer: policy.LayerFlag, Key: "approval of the install"})
		if err != nil {
			log.Emit(audit.RunEnd{Outcome: "failed", ExitCode: ExitSetup, Duration: audit.Duration(time.Since(begin)), Error: err.Error()})
			log.Close()
			return nil, &SetupError{Msg: "the registry that came with the approval: " + err.Error()}
		}
		req.Policy = granted
		log.Emit(audit.Decision{Decision: "allow", Subject: "network", Target: strings.Join(j.hosts, " "),
			Decider: "approval", Reason: "the registry of the approved install, for this run"})
	}
	req.Audit = log
	req.NetworkAsker = networkAsker{j}
	run := sandbox.Run
	if o.Session != nil {
		run = o.Session.Run
	}
	res, runErr := run(ctx, req)
	end := audit.RunEnd{Duration: audit.Duration(time.Since(begin))}
	switch {
	case runErr != nil:
		end.Outcome, end.ExitCode, end.Error = "failed", exitCodeOf(runErr), runErr.Error()
	case res.TimedOut:
		end.Outcome, end.ExitCode = "timed_out", res.ExitCode
	default:
		end.Outcome, end.ExitCode = "completed", res.ExitCode
	}
	log.Emit(end)
	if err := log.Close(); err != nil {
		fmt.Fprintf(o.Warnings, "cordon: warning: audit: %v\n", err)
	}
	return res, runErr
}

// exitCodeOf is the status an error stands for: its own (ExitCode), else
// ExitSetup.
func exitCodeOf(err error) int {
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return ExitSetup
}

func policyLoaded(p *policy.Policy, workspace string) audit.PolicyLoaded {
	ev := audit.PolicyLoaded{Mode: string(p.Mode.Value), Workspace: workspace}
	for _, layer := range p.Layers {
		ev.Layers = append(ev.Layers, audit.PolicyLayer{Source: string(layer.Kind), Path: layer.Path, SHA256: layer.SHA256})
	}
	if len(p.AllowDegraded) > 0 || hasFlagLayer(p) {
		ev.Layers = append(ev.Layers, audit.PolicyLayer{Source: string(policy.LayerFlag)})
	}
	return ev
}

func hasFlagLayer(p *policy.Policy) bool {
	return p.Mode.From.Layer == policy.LayerFlag || p.Limits.Timeout.From.Layer == policy.LayerFlag
}
