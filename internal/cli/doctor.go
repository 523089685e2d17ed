package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/sandbox"
)

func newDoctorCmd() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Show what this machine can enforce, and which modes work",
		Long: `doctor checks the kernel features cordon's sandbox is built from (user
namespaces, Landlock, seccomp, cgroups, rlimits), runs a probe command in each
mode to prove it works, and says how to fix what is missing.

Exit status: 0 when the default mode works, 1 otherwise.`,
		Example: `  cordon doctor
  cordon doctor --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := os.UserHomeDir()
			if err != nil {
				return &usageError{msg: "cannot find your home directory", hint: "set HOME"}
			}
			d := sandbox.Doctor(home)
			out := cmd.OutOrStdout()
			if jsonOut {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(d); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(out, "system: %s\n\n", d.System)
				for _, f := range d.Facts {
					fmt.Fprintf(out, "  %-4s %-16s %s\n", mark(f.OK), f.Name, f.Detail)
					if f.Fix != "" && !f.OK {
						fmt.Fprintf(out, "       %-16s fix: %s\n", "", f.Fix)
					}
				}
				fmt.Fprintln(out, "\nmodes:")
				for _, m := range d.Modes {
					fmt.Fprintf(out, "  %-4s %s: %s\n", mark(m.Works), m.Mode, m.Detail)
				}
			}
			if len(d.Modes) == 0 || !d.Modes[0].Works {
				return &exitError{code: 1, silent: true}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the diagnosis as JSON")
	return cmd
}

func mark(ok bool) string {
	if ok {
		return "ok"
	}
	return "--"
}
