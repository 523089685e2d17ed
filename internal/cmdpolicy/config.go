package cmdpolicy

import (
	"fmt"

	"github.com/cordon-sandbox/cordon/policy/cmdrules"
)

// The configuration types are policy/cmdrules's, which holds them without
// the shell parser; they are named here too so that the analyser's callers
// need one import.
type (
	// Decision is cmdrules.Decision: allow, ask or deny.
	Decision = cmdrules.Decision
	// Config is cmdrules.Config, the [commands] table of a policy file.
	Config = cmdrules.Config
	// Rule is cmdrules.Rule, one command rule.
	Rule = cmdrules.Rule
)

// The decisions, from loosest to strictest.
const (
	Allow = cmdrules.Allow
	Ask   = cmdrules.Ask
	Deny  = cmdrules.Deny
)

// The built-in categories (cmdrules documents each).
const (
	CategorySecretAccess      = cmdrules.CategorySecretAccess
	CategoryDependencyInstall = cmdrules.CategoryDependencyInstall
	CategoryDatabaseWrite     = cmdrules.CategoryDatabaseWrite
	CategoryDeploy            = cmdrules.CategoryDeploy
	CategoryPRMerge           = cmdrules.CategoryPRMerge
	CategoryNetworkUnfamiliar = cmdrules.CategoryNetworkUnfamiliar
	CategoryUndecidable       = cmdrules.CategoryUndecidable
)

// Categories lists the built-in categories.
func Categories() []string { return cmdrules.Categories() }

// ParseDecision parses "allow", "ask" or "deny" (case-insensitive).
func ParseDecision(s string) (Decision, error) { return cmdrules.ParseDecision(s) }

// compileRule checks a rule (Rule.Check, the same check Config.Validate
// makes) and turns it into a matcher.
func compileRule(r Rule) (*patternMatcher, error) {
	if err := r.Check(); err != nil {
		return nil, err
	}
	m := &patternMatcher{}
	for i, tok := range r.Match {
		if tok == "**" { // Check has made sure it is the last token
			m.rest = true
			continue
		}
		p, err := parsePattern(tok)
		if err != nil {
			return nil, fmt.Errorf("match[%d] %q: %w", i, tok, err)
		}
		m.tokens = append(m.tokens, p)
	}
	for i, a := range r.AnyArg {
		p, err := parsePattern(a)
		if err != nil {
			return nil, fmt.Errorf("any_arg[%d] %q: %w", i, a, err)
		}
		m.anyArg = append(m.anyArg, p)
	}
	return m, nil
}

// ruleLabel names rule i of a Config in error messages, as Config.Validate
// does.
func ruleLabel(r Rule, i int) string {
	if r.Name != "" {
		return fmt.Sprintf("commands.rule[%d] (%q)", i, r.Name)
	}
	return fmt.Sprintf("commands.rule[%d]", i)
}
