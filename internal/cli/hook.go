package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/agenthook"
	"github.com/cordon-sandbox/cordon/pipeline"
	"github.com/cordon-sandbox/cordon/sandbox"
)

// exitHookBlock is the status that makes Claude Code block a tool call and
// show stderr to the model. Every failure of the hook adapter uses it: any
// other non-zero status would let the call run without cordon.
const exitHookBlock = 2

func newHookCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hook",
		Short: "Adapters for agents' pre-tool hooks, and their installers",
		Long: `Adapters for agents that run a hook before each tool call. The hook
judges the command with cordon's command rules and makes it run inside
cordon run. Supported: claude-code (Claude Code's PreToolUse hook on the
Bash tool). See docs/agents.md.`,
		Example: `  cordon hook install claude-code            # in ~/.claude/settings.json
  cordon hook install claude-code --project  # in .claude/settings.json
  cordon hook uninstall claude-code`,
	}
	cmd.AddCommand(newHookClaudeCodeCmd(), newHookInstallCmd(true), newHookInstallCmd(false))
	// A mistyped hook in an agent's settings must block, not let the call
	// through: the group's own errors exit with the blocking status too.
	return group(cmd, exitHookBlock, "cordon hook fails with status 2, which makes Claude Code block the tool call rather than run it without cordon")
}

func newHookClaudeCodeCmd() *cobra.Command {
	var pf policyFlags
	cmd := &cobra.Command{
		Use:   "claude-code [--policy FILE] [--workspace DIR]",
		Short: "Claude Code PreToolUse hook: judge a Bash command and sandbox it",
		Long: `Reads Claude Code's PreToolUse hook input on standard input and writes
the decision on standard output, as Claude Code's hooks reference documents.

For a Bash tool call, the command is judged by cordon's command rules:
deny refuses it and tells the model why; ask leaves the decision to you in
Claude Code's permission prompt; allow lets it run without a prompt. Allowed
and approved commands are rewritten to run inside cordon run, in the
project's workspace ($CLAUDE_PROJECT_DIR, else the hook's cwd). Other tools
are left alone.

Input cordon cannot read, or any other failure, exits with status 2, which
makes Claude Code block the call: a command never runs unsandboxed because
the hook failed. Install it with cordon hook install claude-code.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out, err := claudeCodeHook(cmd, &pf)
			if err != nil {
				return &exitError{code: exitHookBlock, err: fmt.Errorf("%w; the tool call was blocked", err)}
			}
			if out != nil {
				w := cmd.OutOrStdout()
				if _, err := w.Write(append(out, '\n')); err != nil {
					return &exitError{code: exitHookBlock, err: err}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pf.policyFile, "policy", "", "policy file to apply on top of the built-in default and your own file")
	cmd.Flags().StringVar(&pf.workspace, "workspace", "", "the workspace (default: $CLAUDE_PROJECT_DIR, else the hook input's cwd)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitHookBlock, err: fmt.Errorf("%w; the tool call was blocked", err)}
	})
	return cmd
}

// claudeCodeHook answers one PreToolUse call.
func claudeCodeHook(cmd *cobra.Command, pf *policyFlags) ([]byte, error) {
	in, err := agenthook.ReadPreToolUse(cmd.InOrStdin())
	if err != nil {
		return nil, err
	}
	if in.ToolName != agenthook.ClaudeCodeBashTool {
		return nil, nil
	}
	if pf.workspace == "" {
		pf.workspace = os.Getenv("CLAUDE_PROJECT_DIR")
	}
	if pf.workspace == "" {
		pf.workspace = in.Cwd
	}
	if pf.workspace == "" || !filepath.IsAbs(pf.workspace) {
		return nil, fmt.Errorf("cannot tell the project directory: $CLAUDE_PROJECT_DIR is unset and the hook input's cwd is %q", in.Cwd)
	}
	l, err := pf.load(cmd)
	if err != nil {
		return nil, err
	}
	rules, err := commandRules(l)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find cordon's own path: %w", err)
	}
	if real, err := filepath.EvalSymlinks(self); err == nil {
		self = real
	}
	var prefix []string
	if in.SessionID != "" {
		// The runs of one Claude Code session are one cordon session: the
		// audit trail groups them, and "this session" answers cover them.
		prefix = append(prefix, pipeline.SessionEnv+"="+agenthook.ShellQuote(in.SessionID))
	}
	prefix = append(prefix, agenthook.ShellQuote(self), "run", "--workspace", agenthook.ShellQuote(l.workspace))
	if pf.policyFile != "" {
		abs, err := filepath.Abs(pf.policyFile)
		if err != nil {
			return nil, err
		}
		prefix = append(prefix, "--policy", agenthook.ShellQuote(abs))
	}
	out, refused, err := in.Answer(rules, func(command string, askedUser bool) string {
		args := prefix
		if askedUser {
			// Claude Code runs this only after the user approved it in its
			// own prompt; cordon records that instead of asking again.
			args = append(append([]string{}, prefix...), "--approved-by", "claude-code")
		}
		// Claude Code's Bash tool runs bash; the model writes bash.
		args = append(args, "--", "bash", "-c")
		return strings.Join(args, " ") + " " + agenthook.ShellQuote(command)
	})
	if err != nil || !refused {
		return out, err
	}
	// A refusal is recorded as cordon run records one, by the same
	// pipeline, which runs nothing here. Allowed and asked commands are
	// recorded when the rewritten cordon run runs them.
	req := sandbox.Request{Policy: l.policy, Workspace: l.workspace, Dir: l.dir, Home: l.home, PolicyFiles: l.files,
		Argv: []string{"bash", "-c", in.Command}, Environ: os.Environ()}
	if in.SessionID != "" {
		os.Setenv(pipeline.SessionEnv, in.SessionID)
	}
	var denied *pipeline.DeniedError
	if _, err := pipeline.Run(context.Background(), req, pipeline.Options{Source: "hook", RefuseOnly: true}); !errors.As(err, &denied) {
		return nil, fmt.Errorf("recording the refusal: %v", err)
	}
	return out, nil
}

func newHookInstallCmd(install bool) *cobra.Command {
	var user, project, local bool
	var policyFile string
	verb, short := "install", "Add cordon's hook to an agent's settings"
	if !install {
		verb, short = "uninstall", "Remove cordon's hook from an agent's settings"
	}
	cmd := &cobra.Command{
		Use:   verb + " claude-code [--user|--project|--local]",
		Short: short,
		Long: short + `, keeping every other setting and hook.

Where: --user (default) is ~/.claude/settings.json ($CLAUDE_CONFIG_DIR if
set), --project is .claude/settings.json in the current directory (shared
with the repository), --local is .claude/settings.local.json (this machine
only). The entry runs this cordon binary by its absolute path. Running the
command twice changes nothing the second time.`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"claude-code"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != "claude-code" {
				return &usageError{msg: fmt.Sprintf("unknown agent %q", args[0]), hint: "supported: claude-code"}
			}
			path, err := claudeSettingsPath(user, project, local)
			if err != nil {
				return err
			}
			var res agenthook.InstallResult
			if install {
				self, err := os.Executable()
				if err != nil {
					return fmt.Errorf("find cordon's own path: %w", err)
				}
				if real, err := filepath.EvalSymlinks(self); err == nil {
					self = real
				}
				var hookArgs []string
				if policyFile != "" {
					abs, err := filepath.Abs(policyFile)
					if err != nil {
						return err
					}
					if _, err := os.Stat(abs); err != nil {
						return &usageError{msg: fmt.Sprintf("policy file: %v", err)}
					}
					hookArgs = append(hookArgs, "--policy", abs)
				}
				res, err = agenthook.InstallClaudeCode(path, agenthook.ClaudeCodeHookCommand(self, hookArgs...))
				if err != nil {
					return err
				}
			} else {
				res, err = agenthook.UninstallClaudeCode(path)
				if err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			switch {
			case install && res.Changed:
				fmt.Fprintf(out, "installed cordon's PreToolUse hook for Bash in %s\n", path)
			case install:
				fmt.Fprintf(out, "cordon's hook is already installed in %s\n", path)
			case res.Changed:
				fmt.Fprintf(out, "removed cordon's hook from %s\n", path)
			default:
				fmt.Fprintf(out, "cordon's hook is not in %s; nothing to remove\n", path)
			}
			for _, n := range res.Notes {
				fmt.Fprintf(cmd.ErrOrStderr(), "cordon: note: %s\n", n)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&user, "user", false, "your settings for every project: ~/.claude/settings.json (the default)")
	fl.BoolVar(&project, "project", false, "the project's shared settings: .claude/settings.json in the current directory")
	fl.BoolVar(&local, "local", false, "the project's settings on this machine: .claude/settings.local.json")
	if install {
		fl.StringVar(&policyFile, "policy", "", "policy file the hook applies on top of the built-in default and your own file")
	}
	return cmd
}

func claudeSettingsPath(user, project, local bool) (string, error) {
	n := 0
	for _, b := range []bool{user, project, local} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", &usageError{msg: "choose one of --user, --project and --local"}
	}
	if project || local {
		cwd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		name := "settings.json"
		if local {
			name = "settings.local.json"
		}
		return filepath.Join(cwd, ".claude", name), nil
	}
	if dir := os.Getenv("CLAUDE_CONFIG_DIR"); dir != "" {
		if !filepath.IsAbs(dir) {
			return "", errors.New("CLAUDE_CONFIG_DIR is not an absolute path")
		}
		return filepath.Join(dir, "settings.json"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", &usageError{msg: "cannot find your home directory", hint: "set HOME"}
	}
	return filepath.Join(home, ".claude", "settings.json"), nil
}
