package cli

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/approval/inbox"
)

func newApproveCmd() *cobra.Command {
	var serve bool
	cmd := &cobra.Command{
		Use:   "approve [--serve]",
		Short: "Run the web approval inbox: answer agents' questions in a browser",
		Long: `cordon approve runs the approval inbox: a web page on 127.0.0.1 that lists
the commands waiting for a human's approval, live, with buttons to allow them
(once, for this session, or always) or deny them, and the recent decisions.

While it runs, every cordon process of yours that must ask a human sends the
question here instead of the terminal, and waits for the answer. Open the URL
it prints in your browser: the URL holds a secret that logs the browser in,
so do not share it. Stop the inbox with Ctrl-C; questions still waiting are
then denied.

The inbox is outside the sandbox and out of its reach: sandboxed commands
cannot connect to it, nor read the token it publishes for cordon processes.
See docs/approvals.md.`,
		Example: `  cordon approve
  CORDON_SESSION=$(uuidgen) my-agent   # in another terminal: session grants need a session id`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !serve {
				return &usageError{msg: "cordon approve only serves the approval inbox; --serve=false leaves nothing to do",
					hint: "run cordon approve (or cordon approve --serve)"}
			}
			if os.Getenv("CORDON_SANDBOX") == "1" {
				return &usageError{msg: "cordon approve cannot run inside cordon's sandbox",
					hint: "run it in a terminal of your own, outside any cordon run"}
			}
			home, err := os.UserHomeDir()
			if err != nil {
				return &usageError{msg: "cannot find your home directory", hint: "set HOME"}
			}
			if real, err := filepath.EvalSymlinks(home); err == nil {
				home = real
			}
			srv, err := inbox.Start(inbox.Options{Home: home, Log: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			defer srv.Close()
			fmt.Fprintln(cmd.ErrOrStderr(), "cordon approve: the approval inbox is running. Open this URL in your browser (it holds a secret: do not share it):")
			fmt.Fprintln(cmd.OutOrStdout(), srv.LoginURL())
			fmt.Fprintln(cmd.ErrOrStderr(), "cordon approve: waiting for questions; Ctrl-C stops the inbox (questions still waiting are then denied)")
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			fmt.Fprintln(cmd.ErrOrStderr(), "cordon approve: stopping")
			return nil
		},
	}
	cmd.Flags().BoolVar(&serve, "serve", true, "run the inbox (the default; kept as an explicit alias)")
	return cmd
}
