package policy

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/policy/cmdrules"
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
)

// Merge combines parsed layers, in order, into the effective policy, applying
// the trust rules: a layer inside the workspace may only tighten unless the
// user's own file trusts it. o.Workspace must be absolute and canonical.
func Merge(layers []*Layer, o Options) (*Policy, error) {
	p := &Policy{}
	p.Env.Set = map[string]Item{}
	p.Audit = Value[audit.Config]{audit.DefaultConfig(), Source{Layer: LayerBuiltin}}
	p.Network.From = Source{Layer: LayerBuiltin}
	p.Approval.Approver.From = Source{Layer: LayerBuiltin}
	p.Approval.Timeout.From = Source{Layer: LayerBuiltin}
	var errs []error
	for _, l := range layers {
		// Whether workspace files are trusted is decided by the layers
		// before this one: only the user's own file may set it (gateTable).
		trustWorkspace := p.Filesystem.TrustWorkspacePolicy.Value
		trusted := true
		switch l.Kind {
		case LayerWorkspace:
			trusted = trustWorkspace
		case LayerExplicit:
			if insideDir(l.Path, o.Workspace) {
				trusted = trustWorkspace
			}
		}
		p.Layers = append(p.Layers, LayerInfo{Kind: l.Kind, Path: l.Path, SHA256: l.SHA256, Trusted: trusted})
		errs = append(errs, p.apply(l, trusted, o.Home)...)
	}
	errs = append(errs, p.applyFlags(o.Flags)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := p.check(o); err != nil {
		return nil, err
	}
	return p, nil
}

func (l *Layer) source(key string) Source {
	return Source{Layer: l.Kind, File: l.Path, Line: l.line(key)}
}

// widening returns the error for an untrusted layer that tries to widen.
func (l *Layer) widening(key, what string) error {
	return l.errorf(key, "%s would widen the policy, and this file is inside the workspace", what).
		withHint(fmt.Sprintf("a workspace policy can only tighten; to let it widen, set filesystem.trust_workspace_policy = true in your own file (%s), or move the setting there", "~/.config/cordon/policy.toml"))
}

// tighterLimit reports whether limit n is at most cur, where 0 is unlimited.
func tighterLimit(n, cur uint64) bool {
	if n == 0 {
		return cur == 0
	}
	return cur == 0 || n <= cur
}

func limitText(n uint64, duration bool) string {
	if n == 0 {
		return "unlimited"
	}
	if duration {
		return time.Duration(n).String()
	}
	return fmt.Sprint(n)
}

func (p *Policy) applyFlags(f Flags) []error {
	var errs []error
	src := func(flag string) Source { return Source{Layer: LayerFlag, Key: flag} }
	if f.Mode != "" {
		m, err := ParseMode(string(f.Mode))
		if err != nil {
			errs = append(errs, &Error{Msg: "--mode: " + err.Error()})
		} else {
			p.Mode = Value[Mode]{m, src("--mode")}
		}
	}
	if f.Timeout != nil {
		if *f.Timeout < 0 {
			errs = append(errs, &Error{Msg: "--timeout must not be negative"})
		} else {
			p.Limits.Timeout = Value[time.Duration]{*f.Timeout, src("--timeout")}
		}
	}
	if len(f.AllowHosts) > 0 {
		if net, err := allowHosts(p.Network.Value, f.AllowHosts); err != nil {
			errs = append(errs, &Error{Msg: "--allow-host: " + err.Error(),
				Fix: "give a host name, *.suffix or IP address, with an optional :PORT (e.g. --allow-host pypi.org or --allow-host 10.0.0.5:5432)"})
		} else {
			p.Network = Value[netpolicy.Config]{net, src("--allow-host")}
		}
	}
	for _, d := range f.AllowDegraded {
		if _, ok := KnownDegraded[Degraded(d)]; !ok {
			errs = append(errs, &Error{Msg: fmt.Sprintf("--allow-degraded: unknown weaker mode %q", d),
				Fix: "the weaker modes are: " + degradedNames()})
			continue
		}
		p.AllowDegraded = append(p.AllowDegraded, Item{Value: d, From: src("--allow-degraded")})
	}
	return errs
}

// check validates the merged policy as a whole.
func (p *Policy) check(o Options) error {
	var errs []error
	var roots []Item
	if !o.noWorkspace {
		roots = append(roots, Item{Value: o.Workspace, From: Source{Layer: LayerFlag, Key: "workspace"}})
	}
	if p.Mode.Value == ModeWorkspaceWrite {
		roots = append(roots, p.Filesystem.Writable...)
	}
	for _, r := range roots {
		if !o.AllowBroadRoots && (r.Value == "/" || insideDir(o.Home, r.Value)) {
			msg := fmt.Sprintf("writable root %s is too broad: it is / or your home directory or a parent of it (from %s)", r.Value, r.From)
			fix := "name a directory below it in filesystem.writable instead; if you really mean it, pass --allow-broad-roots"
			if r.From.Key == "workspace" {
				// The workspace is the current directory unless --workspace
				// named it: the fix covers both, a source would mislead.
				msg = fmt.Sprintf("workspace %s is too broad: it is / or your home directory or a parent of it", r.Value)
				fix = "run cordon in a project directory (or pass --workspace DIR); if you really mean it, pass --allow-broad-roots"
			}
			errs = append(errs, &Error{Msg: msg, Fix: fix})
		}
		for _, d := range p.Filesystem.DenyRead {
			if !filepath.IsAbs(d.Value) || hasGlob(d.Value) || p.readAllowed(d.Value) {
				continue
			}
			if insideDir(r.Value, d.Value) {
				errs = append(errs, &Error{
					Msg: fmt.Sprintf("writable root %s (from %s) lies inside the denied path %s (from %s)", r.Value, r.From, d.Value, d.From),
					Fix: "remove the writable root, or allow the path with filesystem.allow_read in your own policy file"})
			}
		}
		for _, pr := range p.Filesystem.Protected {
			if filepath.IsAbs(pr.Value) && insideDir(r.Value, pr.Value) {
				errs = append(errs, &Error{
					Msg: fmt.Sprintf("writable root %s (from %s) lies inside the protected path %s (from %s)", r.Value, r.From, pr.Value, pr.From),
					Fix: "choose a writable root outside protected paths, or unprotect the path in your own policy file"})
			}
		}
	}
	return errors.Join(errs...)
}

// readAllowed reports whether an absolute path is an allow_read exception.
func (p *Policy) readAllowed(path string) bool {
	for _, a := range p.Filesystem.AllowRead {
		if a.Value == path {
			return true
		}
	}
	return false
}

// mergeCommands merges a trusted layer's command rules: its default and
// built-in overrides replace earlier ones, its rules and protected branches
// are added.
func mergeCommands(cur, layer cmdrules.Config, source string) cmdrules.Config {
	out := cur
	if layer.Default != 0 {
		out.Default = layer.Default
	}
	out.ProtectedBranches = append(append([]string{}, cur.ProtectedBranches...), layer.ProtectedBranches...)
	if len(layer.Builtin) > 0 {
		b := make(map[string]cmdrules.Decision, len(cur.Builtin)+len(layer.Builtin))
		for k, v := range cur.Builtin {
			b[k] = v
		}
		for k, v := range layer.Builtin {
			b[k] = v
		}
		out.Builtin = b
	}
	out.Rules = append([]cmdrules.Rule{}, cur.Rules...)
	for _, r := range layer.Rules {
		r.Source = source
		out.Rules = append(out.Rules, r)
	}
	return out
}

// mergeNetwork merges a trusted layer's [network]: the mode, the unlisted
// decision and the extra CA file it sets replace earlier ones, its lists
// are added.
func mergeNetwork(cur, layer netpolicy.Config) netpolicy.Config {
	out := cur
	if layer.Mode != "" {
		out.Mode = layer.Mode
	}
	if layer.Unlisted != "" {
		out.Unlisted = layer.Unlisted
	}
	if layer.ExtraCA != "" {
		out.ExtraCA = layer.ExtraCA
	}
	add := func(a, b []string) []string { return append(append([]string{}, a...), b...) }
	out.Presets = add(cur.Presets, layer.Presets)
	out.Allow = add(cur.Allow, layer.Allow)
	out.AllowPrivate = add(cur.AllowPrivate, layer.AllowPrivate)
	out.TCP = add(cur.TCP, layer.TCP)
	out.Deny = add(cur.Deny, layer.Deny)
	out.Requests = append(append([]netpolicy.RequestRule{}, cur.Requests...), layer.Requests...)
	return out
}
