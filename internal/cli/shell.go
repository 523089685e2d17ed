package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func newShellCmd() *cobra.Command {
	var pf policyFlags
	var program string
	cmd := &cobra.Command{
		Use:   "shell [CORDON-FLAGS] [SH-ARGS...]",
		Short: "A drop-in for sh that runs inside the sandbox",
		Long: `cordon shell behaves like sh, inside cordon's sandbox with your policy:
everything after cordon's own flags is handed to sh as it is, so

  cordon shell -c 'CMD'                 runs CMD, like sh -c 'CMD'
  cordon shell -c 'CMD' ARG0 ARGS...    sets $0 and $1..., like sh
  cordon shell < script.sh              reads the script from standard input
  cordon shell script.sh ARGS...        runs a script file

Standard input, output and error are the caller's; the exit status is the
shell's, 128+N when signal N killed it. cordon's own failures use 124
(timeout), 125 (setup or policy), 126 (refused, or cannot execute) and 127.
Inside, $SHELL names the real shell, not cordon.

As with cordon run, the command rules decide first, and every run is in the
audit trail. Code cordon cannot read (a script on standard input or in a
file) needs a human's approval (docs/approvals.md).

cordon's flags must come first, and only the long forms: --workspace,
--policy, --mode, --timeout, --allow-degraded, --allow-broad-roots, and --sh
(the shell to run, default sh). Point an agent's "shell" setting at a
two-line wrapper script that runs cordon shell "$@"; docs/agents.md shows
how for several agents.`,
		Example: `  cordon shell -c 'make test'
  cordon shell --workspace ~/src/app -c 'npm test'
  cordon shell --sh bash -c '[[ -f go.mod ]] && go test ./...'`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			own, rest, help, err := splitOwnFlags(cmd.Flags(), args)
			if err != nil {
				return err
			}
			if help {
				return cmd.Help()
			}
			if err := cmd.Flags().Parse(own); err != nil {
				return &usageError{msg: err.Error(), hint: "cordon's own flags come before sh's arguments, in their long form"}
			}
			if program == "" {
				return &usageError{msg: "--sh needs a shell program"}
			}
			l, err := pf.load(cmd)
			if err != nil {
				return err
			}
			shellPath := program
			if p, err := exec.LookPath(program); err == nil {
				shellPath = p
			}
			req := sandbox.Request{
				Policy:      l.policy,
				Workspace:   l.workspace,
				Dir:         l.dir,
				Argv:        append([]string{program}, rest...),
				Environ:     withVar(os.Environ(), "SHELL", shellPath),
				Home:        l.home,
				PolicyFiles: l.files,
			}
			res, err := pipeline.Run(context.Background(), req, pipeline.Options{Source: "shell",
				Approver: pipeline.Channels(l.policy, l.home, pipeline.ChannelOptions{Status: os.Stderr})})
			if err != nil {
				var ee *sandbox.ExecError
				if errors.As(err, &ee) {
					return &exitError{code: ee.Code, err: err}
				}
				return err
			}
			errw := cmd.ErrOrStderr()
			for _, layer := range res.Report.Weakened() {
				fmt.Fprintf(errw, "cordon: warning: %s %s: %s\n", layer.Name, layer.Status, layer.Detail)
			}
			if res.TimedOut {
				fmt.Fprintf(errw, "cordon: error: the command ran out of time (%s) and was killed with everything it started\n", l.policy.Limits.Timeout.Value)
			} else if res.Signal != 0 {
				dieLike(res.Signal)
			}
			return &exitError{code: res.ExitCode, silent: true}
		},
	}
	fl := cmd.Flags()
	pf.register(cmd, true)
	fl.StringVar(&program, "sh", "sh", "the shell to run inside the sandbox (sh, bash, zsh, ...)")
	return cmd
}

// splitOwnFlags takes cordon's long flags from the front of args and
// leaves the rest, from the first argument that is not one of them, to the
// shell. --help alone asks for cordon's help.
func splitOwnFlags(fs *pflag.FlagSet, args []string) (own, rest []string, help bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--help" {
			return nil, nil, true, nil
		}
		if !strings.HasPrefix(a, "--") || a == "--" {
			return own, args[i:], false, nil
		}
		name, _, hasValue := strings.Cut(a[2:], "=")
		f := fs.Lookup(name)
		if f == nil {
			return own, args[i:], false, nil
		}
		own = append(own, a)
		if !hasValue && f.NoOptDefVal == "" {
			if i+1 >= len(args) {
				return nil, nil, false, &usageError{msg: fmt.Sprintf("flag --%s needs a value", name)}
			}
			i++
			own = append(own, args[i])
		}
	}
	return own, nil, false, nil
}

// withVar returns environ with name set to value.
func withVar(environ []string, name, value string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}

// dieLike ends cordon the way the shell ended, killed by the same signal,
// so that the caller sees what it sees from sh (a shell prints
// "Terminated", Python's returncode is negative). It does so only for
// signals whose default action is to end the process quietly; for the
// others (core dumps, which the Go runtime would turn into a stack trace)
// it returns, and cordon exits with 128+N like a shell reports them.
func dieLike(sig int) {
	s := syscall.Signal(sig)
	switch s {
	case syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL, syscall.SIGPIPE, syscall.SIGALRM:
	default:
		return
	}
	signal.Reset(s)
	p, err := os.FindProcess(os.Getpid())
	if err != nil || p.Signal(s) != nil {
		return
	}
	// The signal ends the process; if the runtime ignored it, fall back
	// to the exit status after a moment.
	time.Sleep(time.Second)
}
