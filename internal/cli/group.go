package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// groupAnnotation marks a command made a group by group; its value is the
// exit status of the group's usage errors.
const groupAnnotation = "cordon.group.exit"

// group makes cmd a command group: a command that only holds subcommands.
//
// Cobra runs a command without a Run function as "print the help and
// succeed", whatever follows it, so a mistyped subcommand exits 0: for
// `cordon hook claude` (claude-code) that tells Claude Code "no decision"
// and the tool call runs without cordon. A group fails instead, with exit
// status code, when its subcommand is missing or unknown, and names the
// subcommands that exist. A flag error on the group itself exits with code
// too. note, when set, is one more hint line for those errors.
//
// newRootCmd applies group, with ExitSetup, to every command that has
// subcommands and is not a group yet, so a new group cannot forget it; a
// group whose status must differ (hook: 2, which blocks) calls it first.
func group(cmd *cobra.Command, code int, note string) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[groupAnnotation] = strconv.Itoa(code)
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	cmd.DisableFlagsInUseLine = true
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		e := &groupError{path: c.CommandPath(), code: code, note: note, word: "subcommand"}
		if !c.HasParent() {
			e.word = "command"
		}
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				e.subs = append(e.subs, sub.Name())
			}
		}
		if len(args) > 0 {
			e.typed = args[0]
			e.suggest = c.SuggestionsFor(args[0])
		}
		return e
	}
	return cmd
}

// groupCode returns the exit status of usage errors on cmd: its group's
// when cmd is a group, else ExitSetup.
func groupCode(cmd *cobra.Command) int {
	if v, ok := cmd.Annotations[groupAnnotation]; ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return ExitSetup
}

// guardGroups makes every command below root (root included) that has
// subcommands a group, unless it is one already.
func guardGroups(root *cobra.Command) {
	if root.HasSubCommands() {
		if _, ok := root.Annotations[groupAnnotation]; !ok {
			group(root, ExitSetup, "")
		}
	}
	for _, c := range root.Commands() {
		guardGroups(c)
	}
}

// groupError is a missing or unknown subcommand of a group.
type groupError struct {
	path    string
	typed   string // empty: no subcommand given
	subs    []string
	suggest []string
	code    int
	note    string
	word    string // "subcommand", or "command" for the root
}

func (e *groupError) Error() string {
	if e.typed == "" {
		return fmt.Sprintf("%s needs a %s", e.path, e.word)
	}
	return fmt.Sprintf("unknown %s %q for %s", e.word, e.typed, e.path)
}

// Hint is one line per piece of advice.
func (e *groupError) Hint() string {
	var lines []string
	if len(e.suggest) > 0 {
		lines = append(lines, fmt.Sprintf("did you mean %s?", strings.Join(e.suggest, " or ")))
	}
	lines = append(lines, fmt.Sprintf("the %ss of %s are: %s (see %s --help)", e.word, e.path, strings.Join(e.subs, ", "), e.path))
	if e.note != "" {
		lines = append(lines, e.note)
	}
	return strings.Join(lines, "\n")
}

func (e *groupError) ExitCode() int { return e.code }

// flagError is a bad flag or flag value. Its status is the group's when the
// flag was given to a group, else ExitSetup.
type flagError struct {
	err  error
	hint string
	code int
}

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }
func (e *flagError) Hint() string  { return e.hint }
func (e *flagError) ExitCode() int { return e.code }

// dashHint is the advice for a flag error of a command that takes a
// command line after --.
func dashHint(c *cobra.Command, err error) error {
	return &flagError{err: err, code: ExitSetup,
		hint: fmt.Sprintf("%s's own flags come before --, the command and its arguments after it: %s %s (see %s --help)", c.CommandPath(), c.Parent().CommandPath(), c.Use, c.CommandPath())}
}

// onFlagError is the root's flag error function, which every command
// inherits unless it sets its own.
func onFlagError(cmd *cobra.Command, err error) error {
	return &flagError{err: err, hint: fmt.Sprintf("see %s --help", cmd.CommandPath()), code: groupCode(cmd)}
}
