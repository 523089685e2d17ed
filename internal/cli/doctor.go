package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/trackedsecrets"
	"github.com/cordon-sandbox/cordon/sandbox"
)

func newDoctorCmd() *cobra.Command {
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Show what this machine can enforce, and which modes work",
		Long: `doctor checks the kernel features cordon's sandbox is built from (user
namespaces, Landlock, seccomp, cgroups, rlimits), runs a probe command in each
mode to prove it works, and says how to fix what is missing. Run in a
workspace, it also names the files the policy masks there that git keeps
readable through its objects (a .env committed once).

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
			ws := checkWorkspace(cmd)
			out := cmd.OutOrStdout()
			if jsonOut {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					*sandbox.Diagnosis
					Workspace workspaceCheck `json:"workspace"`
				}{d, ws}); err != nil {
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
				fmt.Fprintf(out, "\nworkspace %s:\n", ws.Path)
				fmt.Fprintf(out, "  %-4s %-16s %s\n", mark(ws.Error == "" && len(ws.TrackedSecrets.Findings) == 0), "tracked secrets", ws.detail())
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

// workspaceCheck is what doctor found in the workspace it ran in.
type workspaceCheck struct {
	Path           string                `json:"path"`
	TrackedSecrets trackedsecrets.Report `json:"tracked_secrets"`
	// Error says why the workspace could not be checked.
	Error string `json:"error,omitempty"`
}

// checkWorkspace loads the policy for the current directory, as cordon run
// would, and looks for masked files that git keeps readable.
func checkWorkspace(cmd *cobra.Command) workspaceCheck {
	var pf policyFlags
	l, err := pf.load(cmd)
	if err != nil {
		cwd, _ := os.Getwd()
		return workspaceCheck{Path: cwd, Error: "not checked: " + err.Error()}
	}
	rep, err := findTrackedSecrets(l)
	c := workspaceCheck{Path: l.workspace, TrackedSecrets: rep}
	if err != nil {
		c.Error = "could not look for secrets tracked by git: " + err.Error()
	}
	return c
}

func (c workspaceCheck) detail() string {
	switch {
	case c.Error != "":
		return c.Error
	case len(c.TrackedSecrets.Findings) > 0:
		return c.TrackedSecrets.Message()
	}
	return "git holds no file that the policy masks"
}
