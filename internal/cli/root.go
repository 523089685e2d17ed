// Package cli holds cordon's command-line front end: one file per command,
// results on stdout, everything else on stderr, errors as one line per
// problem followed by hints, command groups that fail on a missing or
// unknown subcommand (group.go), and exit codes that cannot be confused with
// the sandboxed command's own (see exitcodes.go and docs/cli.md).
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
		newProxyCmd(), newConnectCmd(), newCACmd(),
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

// printError writes err as one "cordon: error: ..." line per problem it
// holds, then one "cordon: hint: ..." line per line of the hints anywhere in
// it, each hint once. An error joined from several (errors.Join, as the
// policy's checks return them) is several problems, each on its own line
// with its own prefix; a wrapper's context ("x: %w") stays with each.
func printError(w io.Writer, err error) {
	for _, msg := range messagesOf(err) {
		fmt.Fprintf(w, "cordon: error: %s\n", msg)
	}
	for _, h := range hintsOf(err) {
		for _, line := range strings.Split(h, "\n") {
			fmt.Fprintf(w, "cordon: hint: %s\n", line)
		}
	}
}

// messagesOf splits err into one line per problem.
func messagesOf(err error) []string {
	text := err.Error()
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		// A join whose text is its parts' texts, one a line, is split
		// into them. Another multi-error (fmt.Errorf with two %w) says
		// what it says.
		var parts, texts []string
		for _, e := range u.Unwrap() {
			if e == nil {
				continue
			}
			texts = append(texts, e.Error())
			parts = append(parts, messagesOf(e)...)
		}
		if strings.Join(texts, "\n") == text {
			return parts
		}
	case interface{ Unwrap() error }:
		// A wrapper around a multi-line error: keep its words around each
		// line of the inner one.
		if inner := u.Unwrap(); inner != nil && strings.Contains(text, "\n") {
			in := inner.Error()
			if i := strings.Index(text, in); i >= 0 {
				prefix, suffix := text[:i], text[i+len(in):]
				var out []string
				for _, m := range messagesOf(inner) {
					out = append(out, prefix+m+suffix)
				}
				return out
			}
		}
	}
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}

// hinter is implemented by errors that know what the user can do about them.
type hinter interface {
	Hint() string
}

// hintsOf returns the hints of every error in err's tree, in order, each
// once: it follows both Unwrap() error and Unwrap() []error.
func hintsOf(err error) []string {
	var hints []string
	seen := map[string]bool{}
	var walk func(e error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if h, ok := e.(hinter); ok && h.Hint() != "" && !seen[h.Hint()] {
			seen[h.Hint()] = true
			hints = append(hints, h.Hint())
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner)
			}
		}
	}
	walk(err)
	return hints
}
