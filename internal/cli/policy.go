package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cordon-sandbox/cordon/internal/approval"
	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/policy"
)

func newPolicyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Show or check policies",
		Long: `A policy is the merge of the built-in default, your own file
(~/.config/cordon/policy.toml), the workspace's .cordon/policy.toml (which may
only tighten) and --policy FILE. The format is in docs/policy.md.`,
	}
	cmd.AddCommand(newPolicyShowCmd(), newPolicyValidateCmd(), newPolicyDefaultCmd())
	return cmd
}

func newPolicyShowCmd() *cobra.Command {
	var pf policyFlags
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the effective policy and where each value came from",
		Example: `  cordon policy show
  cordon policy show --json
  cordon policy show --workspace ~/src/project --policy ci.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := pf.load(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if jsonOut {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Workspace string         `json:"workspace"`
					Policy    *policy.Policy `json:"policy"`
				}{l.workspace, l.policy})
			}
			printPolicy(out, l)
			return nil
		},
	}
	pf.register(cmd, true)
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print as JSON")
	return cmd
}

func printPolicy(w io.Writer, l *loaded) {
	p := l.policy
	fmt.Fprintf(w, "# workspace: %s\n# layers:\n", l.workspace)
	for _, layer := range p.Layers {
		trust := "trusted"
		if !layer.Trusted {
			trust = "untrusted: may only tighten"
		}
		name := layer.Path
		if name == "" {
			name = "(built in)"
		}
		fmt.Fprintf(w, "#   %-9s %s (%s)\n", layer.Kind, name, trust)
	}
	scalar := func(key string, val any, from policy.Source) {
		fmt.Fprintf(w, "%-24s = %-28v # %s\n", key, val, from)
	}
	list := func(key string, items []policy.Item) {
		fmt.Fprintf(w, "%s = [\n", key)
		for _, it := range items {
			fmt.Fprintf(w, "  %-41s # %s\n", fmt.Sprintf("%q,", it.Value), it.From)
		}
		fmt.Fprintln(w, "]")
	}
	scalar("mode", fmt.Sprintf("%q", p.Mode.Value), p.Mode.From)
	list("allow_degraded", p.AllowDegraded)
	fmt.Fprintln(w, "\n[filesystem]")
	list("writable", p.Filesystem.Writable)
	list("deny_read", p.Filesystem.DenyRead)
	list("allow_read", p.Filesystem.AllowRead)
	list("protected", p.Filesystem.Protected)
	list("unprotect", p.Filesystem.Unprotect)
	list("host_sockets", p.Filesystem.HostSockets)
	scalar("trust_workspace_policy", p.Filesystem.TrustWorkspacePolicy.Value, p.Filesystem.TrustWorkspacePolicy.From)
	fmt.Fprintln(w, "\n[environment]")
	list("pass", p.Env.Pass)
	list("deny", p.Env.Deny)
	fmt.Fprintln(w, "set = {")
	keys := make([]string, 0, len(p.Env.Set))
	for k := range p.Env.Set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s = %q # %s\n", k, p.Env.Set[k].Value, p.Env.Set[k].From)
	}
	fmt.Fprintln(w, "}")
	fmt.Fprintln(w, "\n[limits]")
	scalar("timeout", fmt.Sprintf("%q", p.Limits.Timeout.Value), p.Limits.Timeout.From)
	scalar("max_processes", p.Limits.MaxProcesses.Value, p.Limits.MaxProcesses.From)
	scalar("open_files", p.Limits.OpenFiles.Value, p.Limits.OpenFiles.From)
	scalar("file_size", p.Limits.FileSize.Value, p.Limits.FileSize.From)
	scalar("memory", p.Limits.Memory.Value, p.Limits.Memory.From)
	scalar("tmp_size", p.Limits.TmpSize.Value, p.Limits.TmpSize.From)
	net := p.Network.Value
	fmt.Fprintf(w, "\n[network]  # %s (docs/network.md)\n", p.Network.From)
	fmt.Fprintf(w, "mode = %q\nunlisted = %q\n", orDefault(string(net.Mode), "off"), orDefault(net.Unlisted, "deny"))
	for _, l := range []struct {
		key  string
		vals []string
	}{{"presets", net.Presets}, {"allow", net.Allow}, {"allow_private", net.AllowPrivate}, {"tcp", net.TCP}, {"deny", net.Deny}} {
		fmt.Fprintf(w, "%s = %s\n", l.key, tomlList(l.vals))
	}
	if net.ExtraCA != "" {
		fmt.Fprintf(w, "extra_ca = %q\n", net.ExtraCA)
	}
	a := p.Audit.Value
	fmt.Fprintf(w, "\n[audit]  # %s (docs/audit.md)\n", p.Audit.From)
	fmt.Fprintf(w, "file.enabled = %v\nfile.path = %q\nfile.required = %v\nstderr.enabled = %v\notlp.enabled = %v\notlp.endpoint = %q\notlp.required = %v\n",
		a.File.Enabled, orDefault(a.File.Path, "(default: $XDG_STATE_HOME/cordon/audit.jsonl)"), a.File.Required,
		a.Stderr.Enabled, a.OTLP.Enabled, orDefault(a.OTLP.Endpoint, "(OTEL_EXPORTER_OTLP_* variables)"), a.OTLP.Required)
	fmt.Fprintln(w, "\n[approval]  # docs/approvals.md")
	scalar("approver", tomlList(p.Approval.Approver.Value), p.Approval.Approver.From)
	timeout := fmt.Sprintf("%q", p.Approval.Timeout.Value.String())
	if p.Approval.Timeout.Value == 0 {
		timeout = fmt.Sprintf("%q", approval.DefaultTimeout.String())
	}
	scalar("timeout", timeout, p.Approval.Timeout.From)
	for _, c := range p.Credentials {
		from := "env " + c.FromEnv
		if c.FromFile != "" {
			from = "file " + c.FromFile
		}
		fmt.Fprintf(w, "\n[[credentials]]  # %s (docs/credentials.md)\nname = %q\nenv = %q  # from %s\ncommands = %v\ndecision = %q\n",
			c.Source, c.Name, c.Env, from, c.Commands, orDefault(c.Decision.String(), "ask"))
		if in := c.Inject; in != nil {
			fmt.Fprintf(w, "inject = { hosts = %s, paths = %s, header = %q, format = %q }  # %s gets a placeholder; the proxy adds the secret\n",
				tomlList(in.Hosts), tomlList(in.Paths), orDefault(in.Header, "Authorization"), orDefault(in.Format, "(bearer for Authorization, else raw)"), c.Env)
		}
	}
	fmt.Fprintln(w, "\n[commands]  # every command rule, built-in ones included (docs/commands.md)")
	if rules, err := cmdpolicy.New(p.Commands); err == nil {
		for _, r := range rules.Rules() {
			fmt.Fprintf(w, "#   %-5v %-38s %s  (%s)\n", r.Decision, r.Name, r.Match, r.Source)
		}
	}
	fmt.Fprintln(w, "\n# environment the command would get from yours:")
	env, decisions := p.FilterEnv(os.Environ())
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		fmt.Fprintf(w, "#   pass %s\n", name)
	}
	for _, d := range decisions {
		if !d.Passed && d.From.Layer != "" {
			fmt.Fprintf(w, "#   drop %s (matches %q from %s)\n", d.Name, d.Rule, d.From)
		}
	}
}

func newPolicyValidateCmd() *cobra.Command {
	var workspace string
	var allowBroadRoots bool
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check policy files: syntax, keys, values, conflicts, and what run checks",
		Long: `validate checks each file as cordon run would use it, and runs nothing.
A workspace's own file (DIR/.cordon/policy.toml) is checked as the policy of
workspace DIR: over the built-in default and your own file, and allowed only
to tighten. Any other file is checked as your own policy file, over the
built-in default; with --workspace DIR, as the file given with --policy to a
run in DIR. Besides syntax, keys, values and conflicts, validate checks what
the machine must provide (every writable root exists) and refuses writable
roots that are too broad unless --allow-broad-roots is given, as run does.
Every problem is reported with its file, line and key. Exit status 0 when
all files are valid, 1 otherwise.`,
		Example: `  cordon policy validate ~/.config/cordon/policy.toml
  cordon policy validate .cordon/policy.toml
  cordon policy validate --workspace ~/src/project ci.toml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			home, err := os.UserHomeDir()
			if err != nil {
				return &usageError{msg: "cannot find your home directory", hint: "set HOME"}
			}
			if real, err := filepath.EvalSymlinks(home); err == nil {
				home = real
			}
			var failed []error
			for _, f := range args {
				err := policy.Validate(f, policy.Options{Home: home, Workspace: workspace, AllowBroadRoots: allowBroadRoots})
				if err != nil {
					failed = append(failed, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: ok\n", f)
			}
			if len(failed) > 0 {
				for _, err := range failed {
					printError(cmd.ErrOrStderr(), err)
				}
				return &exitError{code: 1, silent: true}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", "check each file as the --policy file of a run in this workspace")
	cmd.Flags().BoolVar(&allowBroadRoots, "allow-broad-roots", false, "accept /, your home directory or a parent of it as a writable root, as run --allow-broad-roots does")
	return cmd
}

func newPolicyDefaultCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "default",
		Short: "Print the built-in default policy (a starting point for your own file)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := io.WriteString(cmd.OutOrStdout(), policy.BuiltinText())
			return err
		},
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func tomlList(vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = fmt.Sprintf("%q", v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
