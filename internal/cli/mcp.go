package cli

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/mcpserver"
	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func newMCPCmd() *cobra.Command {
	var pf policyFlags
	var maxOutput int
	var progressEvery time.Duration
	cmd := &cobra.Command{
		Use:   "mcp [--workspace DIR] [--policy FILE]",
		Short: "Serve a sandboxed command tool to an agent over MCP (stdio)",
		Long: `Serve the Model Context Protocol on standard input and output, so that any
MCP-capable agent can run commands inside cordon's sandbox. Tools:

  run_command    run a command line (sh -c) or an argv in the sandbox, in a
                 directory of the workspace; returns the exit code, capped
                 stdout and stderr, the duration, and what was refused
  check_command  the command rules' decision, without running anything
  sandbox_info   mode, workspace, writable roots, network, timeouts, and
                 what this machine enforces

The workspace and the policy are fixed here, by these flags: no tool
argument can change the policy, widen the writable roots or turn the
sandbox off. Each command goes the way of cordon run: audit trail, command
rules, and for "ask" a human's answer through cordon's approval channels
(docs/approvals.md), refused when none is available. Log lines go to
standard error. docs/agents.md shows how to add it to an agent.`,
		Example: `  cordon mcp --workspace ~/src/project
  cordon mcp --workspace ~/src/project --policy ~/team-policy.toml --max-output 32768`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := pf.load(cmd)
			if err != nil {
				return err
			}
			// One server is one agent session: its runs share a session id
			// (the audit trail groups them; "this session" answers cover them).
			if os.Getenv(pipeline.SessionEnv) == "" {
				os.Setenv(pipeline.SessionEnv, audit.NewID())
			}
			// One session for the server's life: commands run in warm
			// sandboxes, each with the boundary a cold run would give it.
			session := sandbox.NewSession()
			defer session.Close()
			// The agent's own interface owns the terminal.
			approver := pipeline.Channels(l.policy, l.home, pipeline.ChannelOptions{Status: os.Stderr, NoTerminal: true})
			srv, err := mcpserver.New(mcpserver.Options{
				Policy:        l.policy,
				Workspace:     l.workspace,
				Home:          l.home,
				PolicyFiles:   l.files,
				Environ:       os.Environ(),
				MaxOutput:     maxOutput,
				ProgressEvery: progressEvery,
				Run: func(ctx context.Context, req sandbox.Request) (*sandbox.Result, error) {
					return pipeline.Run(ctx, req, pipeline.Options{Source: "mcp", Approver: approver, Session: session})
				},
				Log:     cmd.ErrOrStderr(),
				Version: buildVersion(),
			})
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// A line that is not a message does not end the session:
			// ServeStdio answers it with a JSON-RPC error and reads the next.
			return srv.ServeStdio(ctx, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	pf.register(cmd, true)
	cmd.Flags().IntVar(&maxOutput, "max-output", 64<<10, "bytes of stdout, and of stderr, returned per command; the rest is cut with a marker")
	cmd.Flags().DurationVar(&progressEvery, "progress-every", 5*time.Second, "how often a long command sends a progress notification, when the client asks for them")
	return cmd
}

// buildVersion is the module version cordon was built from, as reported
// to MCP clients.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
