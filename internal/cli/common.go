package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/policy"
)

// policyFlags are the flags that choose and shape the effective policy; every
// command that needs the policy takes the same ones.
type policyFlags struct {
	policyFile      string
	workspace       string
	mode            string
	timeout         time.Duration
	allowDegraded   []string
	allowBroadRoots bool
	allowHosts      []string
}

func (f *policyFlags) register(cmd *cobra.Command, withTimeout bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.policyFile, "policy", "", "policy file to apply on top of the built-in default and your own file")
	fl.StringVar(&f.workspace, "workspace", "", "the workspace: the directory commands may write (default: the current directory)")
	fl.StringVar(&f.mode, "mode", "", `boundary mode: "workspace-write" (default), "read-only" or "full-access"`)
	if withTimeout {
		fl.DurationVar(&f.timeout, "timeout", 0, "kill the command and everything it started after this long (e.g. 90s, 10m)")
	}
	fl.StringSliceVar(&f.allowDegraded, "allow-degraded", nil, `accept a named weaker mode when the machine cannot do better ("landlock")`)
	fl.BoolVar(&f.allowBroadRoots, "allow-broad-roots", false, "permit /, your home directory or a parent of it as the workspace or a writable root")
	fl.StringArrayVar(&f.allowHosts, "allow-host", nil, "let the command reach HOST[:PORT] through cordon's proxy for this run (repeatable; default ports 80 and 443)")
}

// loaded is the effective policy with the facts it was loaded for.
type loaded struct {
	policy    *policy.Policy
	workspace string
	home      string
	dir       string
	files     []string
}

func (f *policyFlags) load(cmd *cobra.Command) (*loaded, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, &usageError{msg: "cannot find your home directory", hint: "set HOME"}
	}
	if real, err := filepath.EvalSymlinks(home); err == nil {
		home = real
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("current directory: %w", err)
	}
	if real, err := filepath.EvalSymlinks(cwd); err == nil {
		cwd = real
	}
	ws := f.workspace
	if ws == "" {
		ws = cwd
	}
	opts := policy.Options{
		Workspace:       ws,
		Home:            home,
		ExplicitFile:    f.policyFile,
		AllowBroadRoots: f.allowBroadRoots,
		Flags:           policy.Flags{Mode: policy.Mode(f.mode), AllowDegraded: f.allowDegraded, AllowHosts: f.allowHosts},
	}
	if cmd.Flags().Changed("timeout") {
		opts.Flags.Timeout = &f.timeout
	}
	p, err := policy.Load(opts)
	if err != nil {
		return nil, err
	}
	l := &loaded{policy: p, home: home}
	for _, layer := range p.Layers {
		if layer.Path != "" {
			l.files = append(l.files, layer.Path)
		}
	}
	// policy.Load canonicalised the workspace; find it again the same way.
	l.workspace, _ = filepath.EvalSymlinks(mustAbs(ws))
	l.dir = l.workspace
	if rel, err := filepath.Rel(l.workspace, cwd); err == nil && rel != ".." && !filepath.IsAbs(rel) && !startsWithDotDot(rel) {
		l.dir = cwd
	}
	return l, nil
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func startsWithDotDot(rel string) bool {
	return rel == ".." || len(rel) > 2 && rel[:3] == "../"
}

// usageError is a mistake on the command line, or in a file it names. err,
// when set, is the cause, and the message is err's.
type usageError struct {
	msg  string
	hint string
	err  error
}

func (e *usageError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return e.msg
}
func (e *usageError) Hint() string  { return e.hint }
func (e *usageError) Unwrap() error { return e.err }
