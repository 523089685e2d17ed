//go:build linux

package pipeline

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/mcpclient"
	"github.com/cordon-sandbox/cordon/pipeline"
)

// TestEveryFrontEndJudgesAlike (issue 16): the same denied, asked and
// allowed command lines, sent through every way in (cordon run, cordon
// shell, an MCP client of cordon mcp, the Claude Code hook, and
// pipeline.Run), are judged the same and recorded the same: the same kinds
// of audit events in the same order, the same decision with its rule and
// category, and the same end. No approval channel exists, so the ask is
// refused everywhere but in the hook, which leaves asks to Claude Code's
// own prompt and records nothing until the approved command runs. The
// outcome is judged from the host too: a file the command would make.
func TestEveryFrontEndJudgesAlike(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name, line string
		made       string // the file the command makes when it runs
		runs       bool
	}{
		{"denied", "rm -f keep && touch made-denied", "made-denied", false},
		{"asked", "touch made-asked", "made-asked", false},
		{"allowed", "echo hi > made-allowed", "made-allowed", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := map[string]summary{}
			for _, fe := range []string{"run", "shell", "mcp", "hook", "api"} {
				os.Remove(e.ws + "/" + c.made)
				var evs []map[string]any
				switch fe {
				case "api":
					_, evs, _ = e.api(pipeline.Options{}, "bash", "-c", c.line)
				case "hook":
					evs = e.hook(t, c.line, c.name)
				default:
					evs = e.frontEnd(t, fe, c.line)
				}
				if _, err := os.Stat(e.ws + "/" + c.made); (err == nil) != c.runs {
					t.Errorf("%s: the command ran = %v, want %v", fe, err == nil, c.runs)
				}
				got[fe] = summarize(evs)
			}
			want := got["run"]
			if len(want.Kinds) == 0 {
				t.Fatalf("cordon run recorded nothing")
			}
			for fe, s := range got {
				if fe == "hook" && c.name == "asked" {
					if len(s.Kinds) != 0 {
						t.Errorf("hook: an ask left to Claude Code's prompt was recorded: %+v", s)
					}
					continue
				}
				if !reflect.DeepEqual(s, want) {
					t.Errorf("%s judged or recorded %q differently from cordon run:\n%s: %+v\nrun: %+v", fe, c.line, fe, s, want)
				}
			}
		})
	}
}

// summary is what must agree between front ends: the kinds of events, the
// command's decision, and how the run ended.
type summary struct {
	Kinds                             []any
	Decision, Rule, Category          any
	Outcome, ExitCode, FirstLineOfErr any
}

func summarize(evs []map[string]any) summary {
	var s summary
	for _, ev := range evs {
		s.Kinds = append(s.Kinds, ev["kind"])
		switch {
		case ev["kind"] == "decision" && ev["subject"] == "command":
			s.Decision, s.Rule, s.Category = ev["decision"], ev["rule"], ev["category"]
		case ev["kind"] == "run_end":
			s.Outcome, s.ExitCode = ev["outcome"], ev["exit_code"]
			if msg, _ := ev["error"].(string); msg != "" {
				s.FirstLineOfErr = strings.SplitN(msg, ":", 2)[0]
			}
		}
	}
	return s
}

func (e *env) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(cordonBin, args...)
	cmd.Dir = e.ws
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin",
		"XDG_CONFIG_HOME=" + e.config, "XDG_STATE_HOME=" + e.state(name)}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// frontEnd sends one command line through cordon run (as bash -c, as the
// hook's rewrite does), cordon shell -c, or one call of cordon mcp.
func (e *env) frontEnd(t *testing.T, fe, line string) []map[string]any {
	t.Helper()
	switch fe {
	case "run":
		e.command(fe, "run", "--", "bash", "-c", line).Run()
	case "shell":
		e.command(fe, "shell", "--sh", "bash", "-c", line).Run()
	case "mcp":
		c, err := mcpclient.Start(e.command(fe, "mcp"), "t")
		if err != nil {
			t.Fatal(err)
		}
		c.RunCommand(map[string]any{"command": line}) // refused or not: the audit trail is judged
		c.Close()
	}
	return e.events(fe)
}

// hook asks the Claude Code hook about the line and, when it lets the
// call through, runs the rewritten command as Claude Code would.
func (e *env) hook(t *testing.T, line, name string) []map[string]any {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"session_id": "s-" + name, "cwd": e.ws, "hook_event_name": "PreToolUse",
		"tool_name": "Bash", "tool_input": map[string]any{"command": line}})
	cmd := e.command("hook", "hook", "claude-code")
	cmd.Stdin = strings.NewReader(string(payload))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("hook: %v", err)
	}
	var ans struct {
		H struct {
			PermissionDecision string                     `json:"permissionDecision"`
			UpdatedInput       map[string]json.RawMessage `json:"updatedInput"`
		} `json:"hookSpecificOutput"`
	}
	if err := json.Unmarshal(out, &ans); err != nil {
		t.Fatalf("hook said %s: %v", out, err)
	}
	if ans.H.PermissionDecision == "allow" {
		var rewritten string
		json.Unmarshal(ans.H.UpdatedInput["command"], &rewritten)
		run := exec.Command("/bin/sh", "-c", rewritten)
		run.Dir, run.Env = e.ws, e.command("hook").Env
		if b, err := run.CombinedOutput(); err != nil {
			t.Fatalf("the hook's rewritten command %q: %v\n%s", rewritten, err, b)
		}
	}
	if _, err := os.Stat(e.state("hook") + "/cordon/audit.jsonl"); err != nil {
		return nil // nothing recorded
	}
	return e.events("hook")
}
