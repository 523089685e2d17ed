package cli

import (
	"errors"
	"fmt"
	"io"
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
	cmd.AddCommand(newWindowsCleanupCmd())
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
