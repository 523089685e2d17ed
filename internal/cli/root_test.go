package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/policy"
)

func TestPrintErrorSplitsJoinedErrorsAndKeepsTheirHints(t *testing.T) {
	widen := &policy.FileError{File: "ws.toml", Line: 2, Key: "mode", Msg: "would widen", Fix: "a workspace policy can only tighten"}
	widen2 := &policy.FileError{File: "ws.toml", Line: 5, Key: "filesystem.writable", Msg: "would widen", Fix: "a workspace policy can only tighten"}
	broad := &policy.Error{Msg: "workspace / is too broad", Fix: "run cordon in a project directory"}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"single", broad, `
cordon: error: workspace / is too broad
cordon: hint: run cordon in a project directory`},
		{"joined, hints once", errors.Join(widen, widen2), `
cordon: error: ws.toml:2: mode: would widen
cordon: error: ws.toml:5: filesystem.writable: would widen
cordon: hint: a workspace policy can only tighten`},
		{"nested joins", errors.Join(errors.Join(widen, broad), errors.New("third")), `
cordon: error: ws.toml:2: mode: would widen
cordon: error: workspace / is too broad
cordon: error: third
cordon: hint: a workspace policy can only tighten
cordon: hint: run cordon in a project directory`},
		{"wrapped join", fmt.Errorf("built-in policy: %w", errors.Join(widen, broad)), `
cordon: error: built-in policy: ws.toml:2: mode: would widen
cordon: error: built-in policy: workspace / is too broad
cordon: hint: a workspace policy can only tighten
cordon: hint: run cordon in a project directory`},
		{"wrapped join with a suffix, in an exitError", &exitError{code: exitHookBlock, err: fmt.Errorf("%w; the tool call was blocked", errors.Join(widen, widen2))}, `
cordon: error: ws.toml:2: mode: would widen; the tool call was blocked
cordon: error: ws.toml:5: filesystem.writable: would widen; the tool call was blocked
cordon: hint: a workspace policy can only tighten`},
		{"multi-line hint", &groupError{path: "cordon hook", typed: "claude", subs: []string{"claude-code"}, suggest: []string{"claude-code"}, word: "subcommand"}, `
cordon: error: unknown subcommand "claude" for cordon hook
cordon: hint: did you mean claude-code?
cordon: hint: the subcommands of cordon hook are: claude-code (see cordon hook --help)`},
	} {
		var b strings.Builder
		printError(&b, c.err)
		if got, want := b.String(), strings.TrimPrefix(c.want, "\n")+"\n"; got != want {
			t.Errorf("%s:\ngot:\n%swant:\n%s", c.name, got, want)
		}
	}
}
