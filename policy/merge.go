package policy

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
	"github.com/cordon-sandbox/cordon/internal/credentials"
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
	trustWorkspace := false
	for _, l := range layers {
		trusted := true
		switch l.Kind {
		case LayerWorkspace:
			trusted = trustWorkspace
		case LayerExplicit:
			if insideDir(l.Path, o.Workspace) {
				trusted = trustWorkspace
			}
		}
		if fs := l.file.Filesystem; fs != nil && fs.TrustWorkspacePolicy != nil {
			if l.Kind != LayerUser && l.Kind != LayerBuiltin {
				errs = append(errs, l.errorf("filesystem.trust_workspace_policy",
					"trusting workspace policy files would widen the policy; only your own policy file (%s) may decide it", DefaultUserFile(o.Home)))
			} else {
				trustWorkspace = *fs.TrustWorkspacePolicy
				p.Filesystem.TrustWorkspacePolicy = Value[bool]{*fs.TrustWorkspacePolicy, l.source("filesystem.trust_workspace_policy")}
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

func (p *Policy) apply(l *Layer, trusted bool, home string) []error {
	var errs []error
	f := &l.file
	items := func(key string, vals []string, expand bool) []Item {
		out := make([]Item, 0, len(vals))
		for _, v := range vals {
			if expand {
				v = expandPath(v, home)
			}
			out = append(out, Item{Value: v, From: l.source(key)})
		}
		return out
	}
	if f.Mode != nil {
		m := Mode(*f.Mode)
		if !trusted && m.strictness() < p.Mode.Value.strictness() {
			errs = append(errs, l.widening("mode", fmt.Sprintf("mode %q (was %q)", m, p.Mode.Value)))
		} else {
			p.Mode = Value[Mode]{m, l.source("mode")}
		}
	}
	if len(f.AllowDegraded) > 0 {
		if !trusted {
			errs = append(errs, l.widening("allow_degraded", "accepting a weaker mode"))
		} else {
			p.AllowDegraded = append(p.AllowDegraded, items("allow_degraded", f.AllowDegraded, false)...)
		}
	}
	if fs := f.Filesystem; fs != nil {
		if len(fs.Writable) > 0 {
			if !trusted {
				errs = append(errs, l.widening("filesystem.writable", "adding writable roots"))
			} else {
				p.Filesystem.Writable = append(p.Filesystem.Writable, items("filesystem.writable", fs.Writable, true)...)
			}
		}
		if len(fs.HostSockets) > 0 {
			if !trusted {
				errs = append(errs, l.widening("filesystem.host_sockets", "granting host sockets"))
			} else {
				p.Filesystem.HostSockets = append(p.Filesystem.HostSockets, items("filesystem.host_sockets", fs.HostSockets, true)...)
			}
		}
		p.Filesystem.DenyRead = append(p.Filesystem.DenyRead, items("filesystem.deny_read", fs.DenyRead, true)...)
		if len(fs.AllowRead) > 0 {
			if !trusted {
				errs = append(errs, l.widening("filesystem.allow_read", "allowing reads of denied paths"))
			} else {
				p.Filesystem.AllowRead = append(p.Filesystem.AllowRead, items("filesystem.allow_read", fs.AllowRead, true)...)
			}
		}
		p.Filesystem.Protected = append(p.Filesystem.Protected, items("filesystem.protected", fs.Protected, true)...)
		if len(fs.Unprotect) > 0 {
			if !trusted {
				errs = append(errs, l.widening("filesystem.unprotect", "removing protected paths"))
			} else {
				for _, u := range items("filesystem.unprotect", fs.Unprotect, true) {
					kept := p.Filesystem.Protected[:0]
					found := false
					for _, it := range p.Filesystem.Protected {
						if it.Value == u.Value {
							found = true
							continue
						}
						kept = append(kept, it)
					}
					p.Filesystem.Protected = kept
					if !found {
						errs = append(errs, l.errorf("filesystem.unprotect", "%q is not a protected path", u.Value).
							withHint("see the protected paths with: cordon policy show"))
					}
					p.Filesystem.Unprotect = append(p.Filesystem.Unprotect, u)
				}
			}
		}
	}
	if env := f.Environment; env != nil {
		if len(env.Pass) > 0 {
			if !trusted {
				errs = append(errs, l.widening("environment.pass", "passing more variables"))
			} else {
				p.Env.Pass = append(p.Env.Pass, items("environment.pass", env.Pass, false)...)
			}
		}
		p.Env.Deny = append(p.Env.Deny, items("environment.deny", env.Deny, false)...)
		if len(env.Set) > 0 {
			if !trusted {
				errs = append(errs, l.widening("environment.set", "setting variables"))
			} else {
				keys := make([]string, 0, len(env.Set))
				for k := range env.Set {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					p.Env.Set[k] = Item{Value: env.Set[k], From: l.source("environment.set." + k)}
				}
			}
		}
	}
	if f.Audit != nil {
		if !trusted {
			errs = append(errs, l.widening("audit", "changing where the audit trail goes"))
		} else {
			// Decode the layer's [audit] over what earlier layers set, so
			// that it changes only the keys it names.
			cfg := p.Audit.Value
			over := struct {
				Audit *audit.Config `toml:"audit"`
			}{&cfg}
			if err := toml.Unmarshal(l.data, &over); err != nil {
				errs = append(errs, decodeError(l.Path, err))
			} else if err := cfg.Validate(); err != nil {
				errs = append(errs, l.keyErrors("audit", err, `see docs/audit.md ("Configuration") for the [audit] keys`)...)
			} else {
				p.Audit = Value[audit.Config]{cfg, l.source("audit")}
			}
		}
	}
	if a := f.Approval; a != nil {
		if a.Approver != nil {
			if !trusted {
				errs = append(errs, l.widening("approval.approver", "naming who approves"))
			} else {
				p.Approval.Approver = Value[[]string]{a.Approver, l.source("approval.approver")}
			}
		}
		if a.Timeout != nil {
			d, _ := parseDuration(a.Timeout) // checked in ParseFile
			if !trusted && !tighterLimit(uint64(d), uint64(p.Approval.Timeout.Value)) {
				errs = append(errs, l.widening("approval.timeout", "a longer approval timeout"))
			} else {
				p.Approval.Timeout = Value[time.Duration]{d, l.source("approval.timeout")}
			}
		}
	}
	if len(f.Credentials) > 0 {
		source := l.Path
		if source == "" {
			source = string(l.Kind)
		}
		var merged credentials.Scopes
		var err error
		if trusted {
			merged, err = p.Credentials.Merge(f.Credentials, source)
		} else {
			merged, err = p.Credentials.Tighten(f.Credentials, source)
		}
		if err != nil {
			e := l.errorf("credentials", "%v", err)
			if !trusted {
				e = e.withHint("a workspace policy may only remove credentials, narrow their commands or the hosts and paths they are injected into, or raise allow to ask")
			}
			errs = append(errs, e)
		} else {
			p.Credentials = merged
		}
	}
	if f.Network != nil {
		if trusted {
			p.Network = Value[netpolicy.Config]{mergeNetwork(p.Network.Value, *f.Network), l.source("network")}
		} else if narrowed, err := p.Network.Value.Tighten(*f.Network); err != nil {
			errs = append(errs, l.keyErrors("network", err, "a workspace policy may only remove allowed hosts or add denied ones")...)
		} else {
			p.Network = Value[netpolicy.Config]{narrowed, l.source("network")}
		}
	}
	if f.Commands != nil {
		source := l.Path
		if source == "" {
			source = string(l.Kind)
		}
		if trusted {
			p.Commands = mergeCommands(p.Commands, *f.Commands, source)
		} else if merged, err := p.Commands.Tighten(*f.Commands, source); err != nil {
			errs = append(errs, l.errorf("commands", "%v", err).
				withHint("a workspace policy may only add ask or deny command rules and raise decisions"))
		} else {
			p.Commands = merged
		}
	}
	if lim := f.Limits; lim != nil {
		if lim.Timeout != nil {
			d, _ := parseDuration(lim.Timeout) // checked in ParseFile
			if !trusted && !tighterLimit(uint64(d), uint64(p.Limits.Timeout.Value)) {
				errs = append(errs, l.widening("limits.timeout", fmt.Sprintf("timeout %s (was %s)", limitText(uint64(d), true), limitText(uint64(p.Limits.Timeout.Value), true))))
			} else {
				p.Limits.Timeout = Value[time.Duration]{d, l.source("limits.timeout")}
			}
		}
		for _, c := range []struct {
			key  string
			v    any
			size bool
			dst  *Value[uint64]
		}{
			{"limits.max_processes", lim.MaxProcesses, false, &p.Limits.MaxProcesses},
			{"limits.open_files", lim.OpenFiles, false, &p.Limits.OpenFiles},
			{"limits.file_size", lim.FileSize, true, &p.Limits.FileSize},
			{"limits.memory", lim.Memory, true, &p.Limits.Memory},
			{"limits.tmp_size", lim.TmpSize, true, &p.Limits.TmpSize},
		} {
			if c.v == nil {
				continue
			}
			n, _ := parseCount(c.v, c.size) // checked in ParseFile
			if !trusted && !tighterLimit(n, c.dst.Value) {
				errs = append(errs, l.widening(c.key, fmt.Sprintf("%d (was %s)", n, limitText(c.dst.Value, false))))
				continue
			}
			*c.dst = Value[uint64]{n, l.source(c.key)}
		}
	}
	return errs
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
		net := p.Network.Value
		net.Allow = append(append([]string{}, net.Allow...), f.AllowHosts...)
		if net.Mode == "" || net.Mode == netpolicy.ModeOff {
			net.Mode = netpolicy.ModeProxy
		}
		if err := net.Validate(); err != nil {
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
func mergeCommands(cur, layer cmdpolicy.Config, source string) cmdpolicy.Config {
	out := cur
	if layer.Default != 0 {
		out.Default = layer.Default
	}
	out.ProtectedBranches = append(append([]string{}, cur.ProtectedBranches...), layer.ProtectedBranches...)
	if len(layer.Builtin) > 0 {
		b := make(map[string]cmdpolicy.Decision, len(cur.Builtin)+len(layer.Builtin))
		for k, v := range cur.Builtin {
			b[k] = v
		}
		for k, v := range layer.Builtin {
			b[k] = v
		}
		out.Builtin = b
	}
	out.Rules = append([]cmdpolicy.Rule{}, cur.Rules...)
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
	return out
}
