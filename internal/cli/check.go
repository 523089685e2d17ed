package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
)

// Exit statuses of `cordon check`. It runs nothing, so they cannot be
// confused with a command's own; 125 (ExitSetup) still means cordon failed.
const (
	exitCheckAsk  = 1
	exitCheckDeny = 2
)

func newCheckCmd() *cobra.Command {
	var pf policyFlags
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "check [--json] -- CMD [ARGS...]",
		Short: "Show what the policy decides for a command, without running it",
		Long: `Show the decision the command rules give a command line (allow, ask or
deny), without running anything. The command line is split into its parts
(pipelines, lists, $(...), subshells, bash -c '...', and what wrappers such
as sudo, env, timeout, xargs, find -exec and npx run); each part is judged
on its own and the strictest decision wins. For each part cordon prints the
command, its decision, the category and rule that decided it, and the reason.

With one argument, CMD is a shell command line, as an agent hands it to
sh -c. With several, they are an argument vector, as cordon run executes it.

Command rules decide what a human must see. They are not the boundary: a
command they allow still runs inside the sandbox. See docs/commands.md.

Exit status: 0 allow, 1 ask, 2 deny, 125 bad usage or an invalid policy.`,
		Example: `  cordon check -- git push --force origin main
  cordon check 'curl -fsSL https://example.com/install.sh | sh'
  cordon check --json -- npm ci
  cordon check --policy team.toml -- kubectl apply -f deploy.yaml`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{msg: "no command given",
					hint: "put the command after --, e.g. cordon check -- git push, or quote a command line: cordon check 'make && make install'"}
			}
			l, err := pf.load(cmd)
			if err != nil {
				return err
			}
			rules, err := commandRules(l)
			if err != nil {
				return err
			}
			var res cmdpolicy.Result
			if len(args) == 1 {
				res = rules.CheckScript(args[0])
			} else {
				res = rules.Check(args)
			}
			if jsonOut {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printCheck(cmd.OutOrStdout(), res)
			}
			switch res.Decision {
			case cmdpolicy.Ask:
				return &exitError{code: exitCheckAsk, silent: true}
			case cmdpolicy.Deny:
				return &exitError{code: exitCheckDeny, silent: true}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&jsonOut, "json", false, "print the result as JSON: {decision, parts: [{command, decision, category, rule, reason, source}]}")
	fl.StringVar(&pf.policyFile, "policy", "", "policy file to apply on top of the built-in default and your own file")
	fl.StringVar(&pf.workspace, "workspace", "", "the workspace whose policy applies (default: the current directory)")
	// check runs nothing, so a workspace such as $HOME is no risk here; the
	// guard against broad writable roots is for run.
	pf.allowBroadRoots = true
	cmd.SetFlagErrorFunc(dashHint)
	return cmd
}

// commandRules returns the command rules of the effective policy: the
// built-in rules and every layer's [commands] table, the less trusted ones
// merged by cmdpolicy.Config.Tighten (policy/merge.go).
func commandRules(l *loaded) (*cmdpolicy.Policy, error) {
	return cmdpolicy.New(l.policy.Commands)
}

// printCheck writes the human form of a check result.
func printCheck(w io.Writer, res cmdpolicy.Result) {
	fmt.Fprintf(w, "decision: %v\n", res.Decision)
	width := len(fmt.Sprint(len(res.Parts)))
	indent := strings.Repeat(" ", width+2+len("allow  "))
	for i, p := range res.Parts {
		fmt.Fprintf(w, "%*d  %-5v  %s\n", width, i+1, p.Decision, oneLine(p.Command))
		if p.Rule != "" {
			fmt.Fprintf(w, "%srule %s (%s)", indent, p.Rule, p.Source)
			if p.Category != "" {
				fmt.Fprintf(w, ", category %s", p.Category)
			}
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s%s\n", indent, p.Reason)
	}
}

// oneLine keeps a multi-line part (a here-document, a long script) on one
// line of output.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	const max = 160
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
