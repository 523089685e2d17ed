package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/trackedsecrets"
	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/policy"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func newRunCmd() *cobra.Command {
	var pf policyFlags
	var explain, jsonOut, verbose, forceDegraded bool
	var approvedBy string
	cmd := &cobra.Command{
		Use:   "run [flags] -- CMD [ARGS...]",
		Short: "Run a command inside the sandbox",
		Long: `Run a command inside cordon's sandbox, with the effective policy: the
built-in default, your own file (~/.config/cordon/policy.toml), the
workspace's .cordon/policy.toml (which may only tighten), --policy FILE, and
these flags.

By default the command may read almost everything except secrets, write only
inside the workspace (the current directory), a private /tmp and a private
tool cache, and has no network. Protected paths such as .git/hooks and
.git/config stay read-only. When the command ends, everything it started is
killed.

Exit status: the command's own, or 128+N if signal N killed it. cordon's own
failures use codes the shell also reserves: 124 timeout, 125 setup or policy
error, 126 cannot execute, 127 not found.`,
		Example: `  cordon run -- make test
  cordon run --timeout 10m -- go test ./...
  cordon run --mode read-only -- grep -r TODO .
  cordon run --explain -- npm test      # show the boundary, run nothing`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{msg: "no command given", hint: "put the command after --, e.g. cordon run -- make test"}
			}
			l, err := pf.load(cmd)
			if err != nil {
				return err
			}
			req := sandbox.Request{
				Policy:      l.policy,
				Workspace:   l.workspace,
				Dir:         l.dir,
				Argv:        args,
				Environ:     os.Environ(),
				Home:        l.home,
				PolicyFiles: l.files,
			}
			if forceDegraded {
				if len(pf.allowDegraded) != 1 {
					return &usageError{msg: "--force-degraded needs exactly one weaker mode named with --allow-degraded"}
				}
				req.ForceDegraded = policy.Degraded(pf.allowDegraded[0])
			}
			if explain {
				plan, err := sandbox.Explain(req)
				if err != nil {
					return err
				}
				rep, terr := findTrackedSecrets(l)
				warnTrackedSecrets(cmd.ErrOrStderr(), rep, terr)
				return printExplain(cmd, plan, jsonOut)
			}
			// With -v, git's objects are searched for masked secrets while the
			// command runs (read-only: git writes nothing), and the finding
			// is printed with the report.
			type tracked struct {
				rep trackedsecrets.Report
				err error
			}
			var trackedDone chan tracked
			if verbose {
				trackedDone = make(chan tracked, 1)
				go func() {
					rep, err := findTrackedSecrets(l)
					trackedDone <- tracked{rep, err}
				}()
			}
			res, err := pipeline.Run(context.Background(), req, pipeline.Options{Source: "cli", Verbose: verbose, ApprovedBy: approvedBy,
				Approver: pipeline.Channels(l.policy, l.home, pipeline.ChannelOptions{Status: os.Stderr})})
			if err != nil {
				var ee *sandbox.ExecError
				if errors.As(err, &ee) {
					return &exitError{code: ee.Code, err: err}
				}
				return err
			}
			errw := cmd.ErrOrStderr()
			if weak := res.Report.Weakened(); len(weak) > 0 && !verbose {
				for _, l := range weak {
					fmt.Fprintf(errw, "cordon: warning: %s %s: %s\n", l.Name, l.Status, l.Detail)
				}
			}
			if verbose {
				fmt.Fprint(errw, res.Report.String())
				t := <-trackedDone
				warnTrackedSecrets(errw, t.rep, t.err)
				for _, ph := range res.Phases {
					fmt.Fprintf(errw, "  %-22s %8.2f ms\n", ph.Name, float64(ph.At.Microseconds())/1000)
				}
				fmt.Fprintf(errw, "cordon: exit %d after %s (user %s, system %s, max RSS %d KiB)\n",
					res.ExitCode, res.Duration.Round(1e6), res.Usage.User, res.Usage.System, res.Usage.MaxRSSKiB)
				if n := res.Network; n != nil {
					fmt.Fprintf(errw, "cordon: network: %d connections, %d allowed, %d denied, %d bytes out, %d in\n",
						n.Connections, n.Allowed, n.Denied, n.BytesSent, n.BytesReceived)
					for _, h := range n.Hosts {
						fmt.Fprintf(errw, "  %s:%d allowed %d denied %d %s\n", h.Host, h.Port, h.Allowed, h.Denied, h.Reason)
					}
				}
			}
			printDenials(errw, res.Denied, verbose)
			if res.TimedOut {
				fmt.Fprintf(errw, "cordon: error: the command ran out of time (%s) and was killed with everything it started\n", l.policy.Limits.Timeout.Value)
				fmt.Fprintf(errw, "cordon: hint: raise it with --timeout or limits.timeout in the policy\n")
			}
			return &exitError{code: res.ExitCode, silent: true}
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&explain, "explain", false, "print the enforcement plan and exit without running anything")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "with --explain: print the plan as JSON")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the enforcement report and the command's resource use on stderr")
	cmd.Flags().StringVar(&approvedBy, "approved-by", "", "an agent whose own prompt already had a human approve this command (e.g. claude-code): a rule's ask is answered by that, and recorded; deny still denies")
	cmd.Flags().BoolVar(&forceDegraded, "force-degraded", false, "use the weaker mode named by --allow-degraded even where the full sandbox works (for testing)")
	cmd.Flags().MarkHidden("force-degraded")
	cmd.Flags().SetInterspersed(false)
	cmd.SetFlagErrorFunc(dashHint)
	return cmd
}

func printExplain(cmd *cobra.Command, plan *sandbox.Plan, jsonOut bool) error {
	out := cmd.OutOrStdout()
	if jsonOut {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(plan)
	}
	fmt.Fprint(out, plan.Report.String())
	b, err := json.MarshalIndent(plan.Details, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "plan:\n%s\n", b)
	return nil
}

// maxDenialLines bounds the refusals printed after a run; the audit trail
// has them all.
const maxDenialLines = 5

// printDenials tells the user what the sandbox refused and could see, so
// that a "permission denied" inside has a visible reason: repositories
// disarmed always, other refusals briefly (all of them with -v).
func printDenials(w io.Writer, ds []sandbox.Denial, verbose bool) {
	shown := 0
	for _, d := range ds {
		if d.Operation == "disarm" {
			fmt.Fprintf(w, "cordon: warning: disarmed %s, in a repository the command made: %s (review it before you put it back: git would run it outside the sandbox)\n", d.Target, d.Why)
			continue
		}
		if shown == maxDenialLines && !verbose {
			fmt.Fprintf(w, "cordon: note: %d more refusals; see `cordon audit tail`\n", len(ds)-shown)
			return
		}
		shown++
		fmt.Fprintf(w, "cordon: note: refused %s %s: %s\n", d.Operation, d.Target, d.Why)
	}
}
