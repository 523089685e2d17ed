// Package cli holds cordon's command-line front end: one file per command,
// results on stdout, everything else on stderr, errors as one line with a
// hint, and exit codes that cannot be confused with the sandboxed command's
// own (see exitcodes.go and docs/cli.md).
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Main runs the command line and returns the process exit status.
func Main(args []string) int {
	return run(args, os.Stdin, os.Stdout, os.Stderr)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var exit *exitError
	if errors.As(err, &exit) && exit.silent {
		return exit.code
	}
	printError(stderr, err)
	return exitCodeOf(err)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cordon",
		Short: "Run an AI agent's commands inside an OS-enforced sandbox",
		Long: `cordon runs the commands an AI coding agent wants to execute inside an
OS-enforced boundary: writes only to the workspace, no secrets, no network,
nothing left running. A policy file decides the boundary; see docs/policy.md.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.AddCommand(
		newRunCmd(),
		newDoctorCmd(),
		newPolicyCmd(),
		newAuditCmd(),
		newProxyCmd(), newConnectCmd(),
		newWindowsCmd(),
		newCheckCmd(),
		newApproveCmd(),
		newMCPCmd(), newShellCmd(), newHookCmd(),
	)
	root.SetFlagErrorFunc(onFlagError)
	// Add cobra's own commands now rather than in Execute, so that
	// guardGroups sees them too (completion is a group).
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	guardGroups(root)
	return root
}

// printError writes err as "cordon: error: ..." followed by one
// "cordon: hint: ..." line per line of the hints the error carries.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "cordon: error: %v\n", err)
	for _, h := range hintsOf(err) {
		for _, line := range strings.Split(h, "\n") {
			fmt.Fprintf(w, "cordon: hint: %s\n", line)
		}
	}
}

// hinter is implemented by errors that know what the user can do about them.
type hinter interface {
	Hint() string
}

func hintsOf(err error) []string {
	var hints []string
	seen := map[string]bool{}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if h, ok := e.(hinter); ok && h.Hint() != "" && !seen[h.Hint()] {
			seen[h.Hint()] = true
			hints = append(hints, h.Hint())
		}
	}
	return hints
}
