package cmdrules

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Config is the [commands] table of a policy file:
//
//	[commands]
//	default = "allow"                       # when no rule matches: allow | ask | deny
//	protected_branches = ["prod", "hotfix/*"] # added to main, master, release/*
//
//	[commands.builtin]                      # change built-in rules, by category or by name
//	dependency-install = "allow"
//	"pr-merge/git-push-force" = "deny"
//
//	[[commands.rule]]
//	name = "no-rm-root"
//	match = ["rm", "-rf", "/"]
//	decision = "deny"
//	category = "destructive"
//	reason = "deleting the root is never intended"
//
// The zero Config is valid: built-in rules at their default decisions, and
// allow for everything else (the sandbox still confines it).
type Config struct {
	// Default is the decision for a command no rule matches. Unset means Allow.
	Default Decision `toml:"default,omitempty" json:"default,omitempty"`
	// ProtectedBranches are branch name patterns, in addition to main,
	// master and release/*, that pushing to needs a human (pr-merge).
	ProtectedBranches []string `toml:"protected_branches,omitempty" json:"protected_branches,omitempty"`
	// Builtin changes the decision of built-in rules: keys are a category
	// ("deploy") or a rule name ("deploy/kubectl"). A rule's own entry wins
	// over its category's. Rules of the "undecidable" category can be made
	// deny but never less than ask.
	Builtin map[string]Decision `toml:"builtin,omitempty" json:"builtin,omitempty"`
	// Rules are the policy's own rules, checked together with the built-in ones.
	Rules []Rule `toml:"rule,omitempty" json:"rule,omitempty"`

	// raised holds decisions that less-trusted layers raised with Tighten,
	// by rule name or category. They only ever make a rule stricter.
	raised map[string]Decision
	// layerBranches are protected branches added by less-trusted layers,
	// by layer. They make a tighten-only copy of the protected-branch rule:
	// added to the trusted rule, a branch could make it apply where it
	// would otherwise not, and its ask would replace a stricter default.
	layerBranches []LayerBranch
}

// LayerBranch is a protected branch a less-trusted layer added (Tighten),
// and the layer's name.
type LayerBranch struct{ Branch, Source string }

// LayerBranches returns the protected branches less-trusted layers added,
// in the order they were added. The analyser applies each layer's branches
// through a tighten-only copy of the protected-branch rule.
func (c Config) LayerBranches() []LayerBranch { return slices.Clone(c.layerBranches) }

// Rule is one command rule.
//
// Match is the program name and the leading arguments. Each token is a
// pattern: '*' matches any run of characters, '?' one character, '|'
// separates alternatives ("install|i|add") and a backslash makes the next
// character literal. A token that is just "*" therefore stands for exactly
// one argument. "**" as the last token stands for any remaining arguments,
// none included; without it the command must have exactly as many arguments
// as there are tokens. The program token is compared with the program's
// name after its directory is removed (/usr/bin/git is git) and must match
// exactly: case and Unicode look-alikes differ.
//
// AnyArg, if set, additionally requires that at least one argument after the
// program matches one of its patterns ("--force|-f", "*.ssh/id_*").
type Rule struct {
	Name     string   `toml:"name,omitempty" json:"name,omitempty"`
	Match    []string `toml:"match" json:"match"`
	AnyArg   []string `toml:"any_arg,omitempty" json:"any_arg,omitempty"`
	Decision Decision `toml:"decision" json:"decision"`
	Category string   `toml:"category,omitempty" json:"category,omitempty"`
	Reason   string   `toml:"reason,omitempty" json:"reason,omitempty"`
	// Source says where the rule was written, for messages and listings
	// (the policy file's path, say). The policy loader sets it; empty means
	// "policy".
	Source string `toml:"-" json:"-"`

	// tightenOnly marks a rule added by a less-trusted layer: it can make a
	// command's decision stricter, never looser.
	tightenOnly bool
}

// TightenOnly reports whether r was added by a less-trusted layer
// (Tighten): such a rule can make a command's decision stricter, never
// looser, and never replaces the default or another rule's decision.
func (r Rule) TightenOnly() bool { return r.tightenOnly }

// DefaultDecision is the decision for commands no rule matches: Default,
// or Allow when it is unset.
func (c Config) DefaultDecision() Decision {
	if c.Default == 0 {
		return Allow
	}
	return c.Default
}

// label names rule i of c in error messages.
func (r Rule) label(i int) string {
	if r.Name != "" {
		return fmt.Sprintf("commands.rule[%d] (%q)", i, r.Name)
	}
	return fmt.Sprintf("commands.rule[%d]", i)
}

// Validate reports every problem in c, each naming the rule or key and the
// bad value.
func (c Config) Validate() error {
	var errs []error
	if c.Default != 0 && !c.Default.Valid() {
		errs = append(errs, fmt.Errorf("commands.default: %v is not a decision; use allow, ask or deny", c.Default))
	}
	for i, b := range c.ProtectedBranches {
		if err := validateBranchPattern(b); err != nil {
			errs = append(errs, fmt.Errorf("commands.protected_branches[%d] %q: %w", i, b, err))
		}
	}
	for _, key := range slices.Sorted(maps.Keys(c.Builtin)) {
		if err := validateBuiltinKey(key, c.Builtin[key]); err != nil {
			errs = append(errs, err)
		}
	}
	seen := map[string]int{}
	for i, r := range c.Rules {
		if r.Name != "" {
			if j, dup := seen[r.Name]; dup {
				errs = append(errs, fmt.Errorf("%s: the name is already used by commands.rule[%d]; rule names must be unique", r.label(i), j))
			}
			seen[r.Name] = i
		}
		if err := r.Check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.label(i), err))
		}
	}
	return errors.Join(errs...)
}

func validateBranchPattern(b string) error {
	if b == "" || strings.ContainsAny(b, " \t\n:") {
		return errors.New("is not a branch name pattern (no spaces or ':'; '*' matches any characters)")
	}
	return CheckPattern(strings.TrimPrefix(b, "refs/heads/"))
}

func validateBuiltinKey(key string, d Decision) error {
	if !d.Valid() {
		return fmt.Errorf("commands.builtin.%s: %v is not a decision; use allow, ask or deny", key, d)
	}
	if !IsCategory(key) && !IsBuiltinName(key) {
		return fmt.Errorf("commands.builtin: %q is neither a built-in category (%s) nor a built-in rule name; `cordon policy show` lists the rules",
			key, strings.Join(Categories(), ", "))
	}
	if (key == CategoryUndecidable || strings.HasPrefix(key, CategoryUndecidable+"/")) && d < Ask {
		return fmt.Errorf("commands.builtin.%s = %v: commands cordon cannot judge are at least ask; you may make them deny", key, d)
	}
	return nil
}

// Check reports the first problem of one rule, without naming the rule:
// "match[1] \"**\": only the last token may be ...". Validate reports it
// with the rule's label.
func (r Rule) Check() error {
	if strings.Contains(r.Name, "/") || strings.TrimSpace(r.Name) != r.Name {
		return fmt.Errorf("name %q: must not contain '/' (reserved for built-in rules) or surrounding spaces", r.Name)
	}
	if r.Name == "default" {
		return errors.New(`name "default" is reserved for the default decision`)
	}
	if !r.Decision.Valid() {
		return errors.New("decision is missing: use allow, ask or deny")
	}
	if r.Category != "" && !validCategoryName(r.Category) {
		return fmt.Errorf("category %q: use lower-case letters, digits and '-'", r.Category)
	}
	if len(r.Match) == 0 {
		return errors.New("match is empty: give at least the program name, or \"**\" for any command")
	}
	for i, tok := range r.Match {
		if tok == "**" {
			if i != len(r.Match)-1 {
				return fmt.Errorf("match[%d] \"**\": only the last token may be \"**\" (any remaining arguments)", i)
			}
			continue
		}
		if err := CheckPattern(tok); err != nil {
			return fmt.Errorf("match[%d] %q: %w", i, tok, err)
		}
	}
	for i, a := range r.AnyArg {
		if err := CheckPattern(a); err != nil {
			return fmt.Errorf("any_arg[%d] %q: %w", i, a, err)
		}
	}
	return nil
}

func validCategoryName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return s != ""
}

// Tighten merges a less-trusted policy layer (a workspace's policy, say)
// into c and returns the result; c is not modified. source names the layer
// in messages and in the rules' Source.
//
// A layer may only tighten. "Tighter" means: for every command line, the
// decision of the merged configuration is at least as strict as that of c.
// Tighten guarantees it by construction and rejects, with an error naming
// the key, anything that would loosen:
//   - default may be raised (allow → ask → deny), never lowered;
//   - builtin entries may raise a category or rule, never lower any rule they
//     cover below its current decision;
//   - rules may not be allow; ask and deny rules are added as tighten-only
//     rules, which raise the decision of the commands they match and never
//     replace the default or another rule's decision;
//   - protected_branches are added through a tighten-only copy of the
//     protected-branch rule.
func (c Config) Tighten(layer Config, source string) (Config, error) {
	if err := layer.Validate(); err != nil {
		return Config{}, fmt.Errorf("policy layer %s: %w", source, err)
	}
	out := Config{
		Default:           c.Default,
		ProtectedBranches: slices.Clone(c.ProtectedBranches),
		Builtin:           maps.Clone(c.Builtin),
		Rules:             slices.Clone(c.Rules),
		raised:            maps.Clone(c.raised),
		layerBranches:     slices.Clone(c.layerBranches),
	}
	for _, b := range layer.ProtectedBranches {
		out.layerBranches = append(out.layerBranches, LayerBranch{Branch: b, Source: source})
	}
	var errs []error
	if layer.Default != 0 {
		if layer.Default < c.DefaultDecision() {
			errs = append(errs, fmt.Errorf("policy layer %s: commands.default = %v would loosen the default %v; a less-trusted layer may only make it stricter",
				source, layer.Default, c.DefaultDecision()))
		} else {
			out.Default = layer.Default
		}
	}
	for _, key := range slices.Sorted(maps.Keys(layer.Builtin)) {
		d := layer.Builtin[key]
		if IsCategory(key) && d < c.CategoryDecision(key) {
			errs = append(errs, fmt.Errorf("policy layer %s: commands.builtin.%s = %v would loosen the category (now %v); a less-trusted layer may only make it stricter",
				source, key, d, c.CategoryDecision(key)))
			continue
		}
		for _, name := range builtinNames[:] {
			if name != key && CategoryOf(name) != key {
				continue
			}
			if cur := c.BuiltinDecision(name); d < cur {
				errs = append(errs, fmt.Errorf("policy layer %s: commands.builtin.%s = %v would loosen built-in rule %s (now %v); a less-trusted layer may only make rules stricter",
					source, key, d, name, cur))
				break
			}
		}
		if out.raised == nil {
			out.raised = map[string]Decision{}
		}
		out.raised[key] = max(out.raised[key], d)
	}
	names := map[string]bool{}
	for _, r := range c.Rules {
		names[r.Name] = true
	}
	for i, r := range layer.Rules {
		if r.Decision == Allow {
			errs = append(errs, fmt.Errorf("policy layer %s: %s: decision allow would loosen the policy; a less-trusted layer may only add ask or deny rules",
				source, r.label(i)))
			continue
		}
		if r.Name != "" && names[r.Name] {
			errs = append(errs, fmt.Errorf("policy layer %s: %s: a rule of that name already exists in a more-trusted layer; choose another name",
				source, r.label(i)))
			continue
		}
		r.Source = source
		r.tightenOnly = true
		out.Rules = append(out.Rules, r)
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return out, nil
}

// BuiltinDecision returns the decision the built-in rule name
// ("deploy/kubectl", one of BuiltinNames) has under c: its own Builtin
// entry, else its category's, else Ask; raised by what less-trusted layers
// set (Tighten); and at least Ask for the undecidable rules.
func (c Config) BuiltinDecision(name string) Decision {
	category := CategoryOf(name)
	d := Ask
	if v, ok := c.Builtin[name]; ok {
		d = v
	} else if v, ok := c.Builtin[category]; ok {
		d = v
	}
	d = max(d, c.raised[name], c.raised[category])
	if category == CategoryUndecidable {
		d = max(d, Ask)
	}
	return d
}

// CategoryDecision returns the decision for a built-in category that has no
// command rules of its own: the network proxy asks it for
// CategoryNetworkUnfamiliar (a host the network policy does not name).
func (c Config) CategoryDecision(category string) Decision {
	d := Ask
	if v, ok := c.Builtin[category]; ok {
		d = v
	}
	return max(d, c.raised[category])
}
