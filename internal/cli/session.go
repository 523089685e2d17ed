package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/auditsink"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// SessionEnv names the environment variable that carries an agent session's
// id across the runs of one session (an agent's harness sets it once); runs
// without it get a session of their own.
const SessionEnv = approval.SessionEnv

// auditedRun runs req in the sandbox with the audit trail around it: the
// policy and the command are recorded first, a required sink that is down
// stops the run before anything starts, the command rules decide (and a
// human is asked where they say ask), and the run's end is recorded
// whatever happens. Every front end (run, shell, mcp, hook) goes through it.
// runOptions says how a front end runs a command.
type runOptions struct {
	source  string // cli, shell, mcp, hook: recorded in the audit trail
	verbose bool   // events on stderr too
	// approvedBy names an agent whose own prompt had a human approve the
	// command already (cordon run --approved-by).
	approvedBy string
	// noTerminal keeps approvals off the terminal, which an agent's own
	// interface owns (cordon mcp).
	noTerminal bool
	// session, when set, runs the command in the session's warm
	// sandboxes (cordon mcp); otherwise it runs cold.
	session *sandbox.Session
}

func auditedRun(ctx context.Context, l *loaded, req sandbox.Request, o runOptions) (*sandbox.Result, error) {
	source, verbose := o.source, o.verbose
	if os.Getenv("CORDON_SANDBOX") == "1" {
		return nil, &usageError{msg: "cordon is already running inside a cordon sandbox, which cannot start another (it may not create namespaces)",
			hint: "run the command directly: it is sandboxed already"}
	}
	cfg := l.policy.Audit.Value
	if verbose {
		cfg.Stderr.Enabled = true
	}
	session := os.Getenv(SessionEnv)
	if session == "" {
		session = audit.NewID()
	}
	log, err := auditsink.Open(cfg, audit.IDs{Session: session, Run: audit.NewID()})
	if err != nil {
		return nil, &usageError{msg: "audit: " + err.Error(), hint: "fix the [audit] section of your policy (docs/audit.md)"}
	}
	begin := time.Now()
	log.Emit(policyLoaded(l))
	log.Emit(audit.CommandRequested{Argv: req.Argv, Cwd: req.Dir, Source: source})
	if err := log.Healthy(); err != nil {
		log.Emit(audit.RunEnd{Outcome: "failed", ExitCode: ExitSetup, Duration: audit.Duration(time.Since(begin)), Error: err.Error()})
		log.Close()
		return nil, err
	}
	ap := newApprovals(l, log, os.Stderr, o.noTerminal)
	ap.approvedBy = o.approvedBy
	err = ap.decide(ctx, req.Argv, req.Dir)
	if err == nil {
		req.Secrets, req.Inject, err = ap.credentials(ctx, req.Argv, req.Dir)
	}
	if err != nil {
		log.Emit(audit.RunEnd{Outcome: "denied", ExitCode: exitCodeOf(err), Duration: audit.Duration(time.Since(begin)), Error: err.Error()})
		log.Close()
		return nil, err
	}
	req.Audit = log
	req.NetworkAsker = networkAsker{ap}
	run := sandbox.Run
	if o.session != nil {
		run = o.session.Run
	}
	res, runErr := run(ctx, req)
	end := audit.RunEnd{Duration: audit.Duration(time.Since(begin))}
	switch {
	case runErr != nil:
		end.Outcome, end.ExitCode, end.Error = "failed", exitCodeOf(runErr), runErr.Error()
		var ee *sandbox.ExecError
		if errors.As(runErr, &ee) {
			end.ExitCode = ee.Code
		}
	case res.TimedOut:
		end.Outcome, end.ExitCode = "timed_out", res.ExitCode
	default:
		end.Outcome, end.ExitCode = "completed", res.ExitCode
	}
	log.Emit(end)
	if err := log.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "cordon: warning: audit: %v\n", err)
	}
	return res, runErr
}

func policyLoaded(l *loaded) audit.PolicyLoaded {
	ev := audit.PolicyLoaded{Mode: string(l.policy.Mode.Value), Workspace: l.workspace}
	for _, layer := range l.policy.Layers {
		ev.Layers = append(ev.Layers, audit.PolicyLayer{Source: string(layer.Kind), Path: layer.Path, SHA256: layer.SHA256})
	}
	if len(l.policy.AllowDegraded) > 0 || hasFlagLayer(l.policy) {
		ev.Layers = append(ev.Layers, audit.PolicyLayer{Source: string(policy.LayerFlag)})
	}
	return ev
}

func hasFlagLayer(p *policy.Policy) bool {
	return p.Mode.From.Layer == policy.LayerFlag || p.Limits.Timeout.From.Layer == policy.LayerFlag
}
