package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestNoGroupExitsZeroOnABadSubcommand walks the whole command tree, hidden
// and cobra's own commands included, and runs every command that has
// subcommands with an unknown subcommand, a typo of a real one, and none.
// Each must fail with its group's status (2 for hook, which Claude Code
// treats as "block"; 125 for the others), print nothing on stdout (cobra's
// fail-open path prints the help there) and name every subcommand.
func TestNoGroupExitsZeroOnABadSubcommand(t *testing.T) {
	groups := 0
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
		if !c.HasSubCommands() {
			return
		}
		groups++
		want := ExitSetup
		if len(path) > 0 && path[0] == "hook" {
			want = exitHookBlock
		}
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		if len(names) == 0 {
			t.Errorf("%q has subcommands but none is available", path)
			return
		}
		typo := names[0][:len(names[0])-1] // "claude-cod", "defaul", ...
		for _, tail := range [][]string{{"no-such-subcommand"}, {typo}, {}, {"no-such-subcommand", "--help-me"}} {
			args := append(append([]string{}, path...), tail...)
			var stdout, stderr bytes.Buffer
			// The hook reads the tool call from stdin; give it one that
			// would run unsandboxed if the hook let it through.
			stdin := strings.NewReader(`{"tool_name":"Bash","tool_input":{"command":"rm -rf ~"}}`)
			code := run(args, stdin, &stdout, &stderr)
			if code != want {
				t.Errorf("cordon %s: exit %d, want %d; stderr:\n%s", strings.Join(args, " "), code, want, &stderr)
			}
			if stdout.Len() > 0 {
				t.Errorf("cordon %s wrote to stdout:\n%s", strings.Join(args, " "), &stdout)
			}
			if !strings.HasPrefix(stderr.String(), "cordon: error: ") {
				t.Errorf("cordon %s: stderr does not start with an error line:\n%s", strings.Join(args, " "), &stderr)
			}
			if len(tail) > 1 {
				continue // a flag error: the status is what matters
			}
			for _, n := range names {
				if !strings.Contains(stderr.String(), n) {
					t.Errorf("cordon %s: stderr does not name the subcommand %s:\n%s", strings.Join(args, " "), n, &stderr)
				}
			}
			if len(tail) == 1 && tail[0] == typo && !strings.Contains(stderr.String(), "did you mean "+names[0]) {
				t.Errorf("cordon %s: no suggestion of %s:\n%s", strings.Join(args, " "), names[0], &stderr)
			}
		}
	}
	walk(newRootCmd(), nil)
	// root, policy, audit, hook, windows, completion at least.
	if groups < 6 {
		t.Errorf("found only %d groups; the walk misses some", groups)
	}
}

// TestGroupsStillHaveHelp: --help on a group is a request, not an error.
func TestGroupsStillHaveHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"hook", "--help"}, {"policy", "--help"}, {"help", "audit"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "Usage:") {
			t.Errorf("cordon %s: exit %d, stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, &stdout, &stderr)
		}
	}
}
