package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/spf13/cobra"

	applywin "github.com/cordon-sandbox/cordon/internal/apply/windows"
	"github.com/cordon-sandbox/cordon/internal/plan/winplan"
)

func newWindowsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "windows",
		Short: "Manage the Windows sandbox's state on this machine (Windows only)",
		Long: `Commands for the state cordon's Windows sandbox leaves on a Windows machine:
the ACL entries it grants its capability SIDs on writable roots and protected
paths, and the placeholders it creates. See docs/windows.md.`,
	}
	cmd.AddCommand(newWindowsCleanupCmd(), newWindowsSetupCmd(), newWindowsRunnerCmd())
	return cmd
}

// newWindowsRunnerCmd is the elevated mode's runner, which cordon starts
// as the sandbox account; it is not for people, so it is hidden. It takes
// its request on standard input (winplan.RunnerRequest) and exits with the
// command's exit code.
func newWindowsRunnerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "runner",
		Short:  "The elevated Windows mode's runner (started by cordon itself)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runtime.GOOS != "windows" {
				return windowsOnlyError{what: "cordon windows runner"}
			}
			os.Exit(applywin.RunnerMain())
			return nil
		},
	}
}

func newWindowsSetupCmd() *cobra.Command {
	var stateDir string
	var undo bool
	var ports []int
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Set up the elevated Windows mode: sandbox users, firewall rules, deny-read ACEs (Windows only, run elevated; not verified)",
		Long: `setup prepares the elevated Windows mode once per machine, from an elevated
prompt: a local group cordon-sandbox, users cordon-offline and cordon-online
with random passwords kept with DPAPI for you only, the logon rights they need
(batch logon; no interactive, network or remote sign-in), hidden from the
sign-in screen, and Windows Firewall rules that block cordon-offline's
outbound traffic except TCP to the --proxy-port ports on loopback (cordon's
proxy listens on the first free one of them), and deny ACEs that keep the
sandbox users from your secrets (~\.ssh, ~\.aws, ...). Every step is
recorded before it is made; --undo removes them all. Once it is done,
workspace-write runs use the elevated mode: the command runs as
cordon-offline (cordon-online when the policy allows the full network). None
of this has been verified on a Windows host: see docs/windows.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runtime.GOOS != "windows" {
				return windowsOnlyError{what: "cordon windows setup"}
			}
			dir := stateDir
			if dir == "" {
				var err error
				if dir, err = applywin.DefaultStateDir(); err != nil {
					return err
				}
			}
			if undo {
				if err := applywin.Undo(cmd.Context(), dir); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), "removed the sandbox users, group and firewall rules cordon windows setup made")
				return nil
			}
			profile, _ := os.UserHomeDir()
			led, err := applywin.Setup(cmd.Context(), dir, winplan.SetupInput{ProxyPorts: ports, Secrets: winplan.DefaultSecrets(profile)})
			if led != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%d setup steps recorded in %s\\elevated.json\n", len(led.Steps), dir)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", "", `cordon's Windows state directory (default %LOCALAPPDATA%\cordon\windows-sandbox)`)
	cmd.Flags().BoolVar(&undo, "undo", false, "remove everything a previous setup made, from its ledger")
	cmd.Flags().IntSliceVar(&ports, "proxy-port", nil, "loopback TCP port cordon-offline may reach (cordon's proxy); repeatable")
	return cmd
}

func newWindowsCleanupCmd() *cobra.Command {
	var stateDir string
	cmd := &cobra.Command{
		Use:   "cleanup",
		Short: "Remove every ACL entry and placeholder cordon added on this machine",
		Long: `cleanup removes every ACL entry recorded in cordon's ledger (the allow
entries on writable roots, the deny entries on protected paths and the
directories above them, the null device entry), exactly as far as cordon
added it, so that entries you had for the same user or SID stay; removes the
placeholders it created for missing protected paths when they are still
empty; and forgets the capability SIDs, so that the next run starts afresh.
Run it when no cordon command is running.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runtime.GOOS != "windows" {
				return windowsOnlyError{what: "cordon windows cleanup"}
			}
			dir := stateDir
			if dir == "" {
				var err error
				if dir, err = applywin.DefaultStateDir(); err != nil {
					return err
				}
			}
			res, err := applywin.Cleanup(cmd.Context(), dir)
			printCleanup(cmd.OutOrStdout(), res)
			if err != nil {
				return cleanupError{err: err, remaining: len(res.Remaining.ACEs) + len(res.Remaining.Placeholders)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&stateDir, "state-dir", "", `cordon's Windows state directory (default %LOCALAPPDATA%\cordon\windows-sandbox)`)
	return cmd
}

func printCleanup(w io.Writer, res winplan.CleanupResult) {
	fmt.Fprintf(w, "removed %d ACL entries cordon had added; %d were on paths that no longer exist\n", res.Revoked, res.Gone)
	for _, p := range res.Removed {
		fmt.Fprintf(w, "removed placeholder %s\n", p)
	}
	for _, p := range res.Kept {
		fmt.Fprintf(w, "kept placeholder %s: it is no longer empty\n", p)
	}
}

// windowsOnlyError is what the Windows commands say on other systems.
type windowsOnlyError struct{ what string }

func (e windowsOnlyError) Error() string {
	return fmt.Sprintf("%s is Windows-only: this is %s", e.what, runtime.GOOS)
}

func (e windowsOnlyError) Hint() string {
	return "it undoes the ACL changes cordon makes on Windows; on " + runtime.GOOS + " cordon changes no ACLs, so there is nothing to clean up"
}

type cleanupError struct {
	err       error
	remaining int
}

func (e cleanupError) Error() string { return "cleanup incomplete: " + e.err.Error() }
func (e cleanupError) Unwrap() error { return e.err }

func (e cleanupError) Hint() string {
	if errors.Is(e.err, winplan.ErrCorruptState) {
		return "" // the error says what to do
	}
	return fmt.Sprintf("%d entries stay in the ledger; fix the cause (often a path you no longer may change the ACL of) and run cleanup again", e.remaining)
}
