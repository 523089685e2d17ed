package credscope

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cordon-sandbox/cordon/policy/cmdrules"
)

// Scope is one entry of a policy file's [[credentials]] list:
//
//	[[credentials]]
//	name = "github"                                  # unique, [a-z0-9-]+
//	env = "GITHUB_TOKEN"                             # the variable the command gets
//	from_env = "GITHUB_TOKEN"                        # read from cordon's own environment ...
//	# from_file = "~/.config/cordon/secrets/github"  # ... or from a file outside the sandbox
//	commands = [["gh", "**"], ["git", "push", "**"]] # command patterns, as in [[commands.rule]] match
//	decision = "ask"                                 # ask (default) or allow
//	reason = "gh needs it to talk to GitHub"
//	[credentials.inject]                             # optional: the secret stays outside (Inject)
//	hosts = ["api.github.com"]
//
// An entry is one of three forms. A definition sets env and one of from_env
// or from_file, and commands. A change names a credential an earlier layer
// defined and sets only commands, decision or reason. A removal names one
// and sets remove = true. Merge and Tighten apply changes and removals; the
// merged list holds only definitions.
type Scope struct {
	Name     string            `toml:"name" json:"name"`
	Env      string            `toml:"env,omitempty" json:"env,omitempty"`
	FromEnv  string            `toml:"from_env,omitempty" json:"from_env,omitempty"`
	FromFile string            `toml:"from_file,omitempty" json:"from_file,omitempty"`
	Commands [][]string        `toml:"commands,omitempty" json:"commands,omitempty"`
	Decision cmdrules.Decision `toml:"decision,omitempty" json:"decision,omitempty"`
	Reason   string            `toml:"reason,omitempty" json:"reason,omitempty"`
	// Inject, when set, keeps the secret outside the sandbox: the command
	// gets a placeholder in Env, and the proxy puts the secret into
	// requests to the hosts Inject names.
	Inject *Inject `toml:"inject,omitempty" json:"inject,omitempty"`
	// Remove drops a credential an earlier layer defined.
	Remove bool `toml:"remove,omitempty" json:"remove,omitempty"`
	// Source is where the definition was written (a policy file's path),
	// for messages and the audit trail. Merge sets it.
	Source string `toml:"-" json:"-"`
}

// Scopes is a policy file's [[credentials]] list, or the merge of several.
type Scopes []Scope

// EffectiveDecision is the scope's decision with the default applied:
// Decision, or Ask when it is unset.
func (s Scope) EffectiveDecision() cmdrules.Decision {
	if s.Decision == 0 {
		return cmdrules.Ask
	}
	return s.Decision
}

// IsDefinition reports whether s defines a credential (sets env, from_env
// or from_file) rather than changing or removing one.
func (s Scope) IsDefinition() bool { return s.Env != "" || s.FromEnv != "" || s.FromFile != "" }

// label names entry i in messages.
func (s Scope) label(i int) string {
	if s.Name != "" {
		return fmt.Sprintf("credentials[%d] (%q)", i, s.Name)
	}
	return fmt.Sprintf("credentials[%d]", i)
}

// Validate reports every problem in one policy file's list (or in a merged
// list), each naming the entry and the bad value. It checks each entry in
// the form it has (definition, change or removal); whether a change or
// removal names a credential that exists is for Merge and Tighten to say.
func (ss Scopes) Validate() error {
	var errs []error
	names := map[string]int{}
	envs := map[string]int{}
	for i, s := range ss {
		if err := validName(s.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s: name %q: %w", s.label(i), s.Name, err))
		}
		if j, dup := names[s.Name]; dup && s.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the name is already used by credentials[%d]; names must be unique", s.label(i), j))
		} else {
			names[s.Name] = i
		}
		switch {
		case s.Remove:
			if s.IsDefinition() || s.Commands != nil || s.Decision != 0 || s.Reason != "" || s.Inject != nil {
				errs = append(errs, fmt.Errorf("%s: remove = true takes no other key than name", s.label(i)))
			}
			continue
		case s.IsDefinition():
			errs = append(errs, s.validateDefinition(i)...)
			if s.Env != "" {
				key := strings.ToUpper(s.Env) // Windows compares variable names without case
				if j, dup := envs[key]; dup {
					errs = append(errs, fmt.Errorf("%s: env %q is already given by credentials[%d] (%q); one variable, one credential",
						s.label(i), s.Env, j, ss[j].Name))
				} else {
					envs[key] = i
				}
			}
		case s.Commands == nil && s.Decision == 0 && s.Reason == "" && s.Inject == nil:
			errs = append(errs, fmt.Errorf("%s: sets nothing: define a credential (env, from_env or from_file, commands), change one an earlier layer defined (commands, decision, reason, inject), or remove it (remove = true)", s.label(i)))
			continue
		case s.Inject != nil:
			// A change: hosts and paths may be narrowed (Tighten) or
			// replaced (Merge); an empty list would mean "everything".
			if len(s.Inject.Hosts) == 0 && len(s.Inject.Paths) == 0 && s.Inject.Header == "" && s.Inject.Format == "" && s.Inject.User == "" {
				errs = append(errs, fmt.Errorf("%s: inject sets nothing; give hosts or paths (to withdraw the credential, set remove = true)", s.label(i)))
			}
		}
		if s.Inject != nil {
			in := *s.Inject
			if !s.IsDefinition() && len(in.Hosts) == 0 {
				in.Hosts = []string{"unchanged.invalid"} // a change need not repeat the hosts
			}
			errs = append(errs, in.validate(s.label(i))...)
		}
		if s.Commands != nil && len(s.Commands) == 0 {
			errs = append(errs, fmt.Errorf("%s: commands is empty; name at least one command, e.g. [[\"gh\", \"**\"]] (to withdraw the credential, remove the entry or set remove = true)", s.label(i)))
		}
		for j, pat := range s.Commands {
			if err := validatePattern(pat); err != nil {
				errs = append(errs, fmt.Errorf("%s: commands[%d]%s", s.label(i), j, err))
			}
		}
		switch s.Decision {
		case 0, cmdrules.Ask, cmdrules.Allow:
		case cmdrules.Deny:
			errs = append(errs, fmt.Errorf("%s: decision deny: a credential the policy does not list is never handed over; remove the entry instead (remove = true in a workspace policy)", s.label(i)))
		default:
			errs = append(errs, fmt.Errorf("%s: decision %v: use ask (the default) or allow", s.label(i), s.Decision))
		}
	}
	return errors.Join(errs...)
}

// validateDefinition checks the keys only a definition has.
func (s Scope) validateDefinition(i int) []error {
	var errs []error
	if s.Env == "" {
		errs = append(errs, fmt.Errorf("%s: env is missing: name the variable the command receives the secret in", s.label(i)))
	} else if err := validEnvName(s.Env); err != nil {
		errs = append(errs, fmt.Errorf("%s: env %q: %w", s.label(i), s.Env, err))
	} else if err := reservedEnv(s.Env); err != nil {
		errs = append(errs, fmt.Errorf("%s: env %q: %w", s.label(i), s.Env, err))
	}
	switch {
	case s.FromEnv == "" && s.FromFile == "":
		errs = append(errs, fmt.Errorf("%s: say where the secret comes from: from_env (a variable of cordon's own environment) or from_file (a file outside the sandbox)", s.label(i)))
	case s.FromEnv != "" && s.FromFile != "":
		errs = append(errs, fmt.Errorf("%s: from_env %q and from_file %q are both set; keep one", s.label(i), s.FromEnv, s.FromFile))
	case s.FromEnv != "":
		if err := validEnvName(s.FromEnv); err != nil {
			errs = append(errs, fmt.Errorf("%s: from_env %q: %w", s.label(i), s.FromEnv, err))
		}
	default:
		if err := validFromFile(s.FromFile); err != nil {
			errs = append(errs, fmt.Errorf("%s: from_file %q: %w", s.label(i), s.FromFile, err))
		}
	}
	if s.Commands == nil {
		errs = append(errs, fmt.Errorf("%s: commands is missing: name the commands that may receive the secret, e.g. [[\"gh\", \"**\"]]", s.label(i)))
	}
	return errs
}

func validName(name string) error {
	if name == "" {
		return errors.New("is missing; give each credential a name of lower-case letters, digits and '-'")
	}
	if len(name) > 64 {
		return errors.New("is longer than 64 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			continue
		}
		return errors.New("use lower-case letters, digits and '-'")
	}
	return nil
}

func validEnvName(name string) error {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return errors.New("is not a variable name (letters, digits and '_', not starting with a digit)")
	}
	if name == "" {
		return errors.New("is empty")
	}
	return nil
}

// reservedEnv refuses variables that cordon sets itself or that change
// which code runs: a secret there would break the sandbox's own setup or be
// read as code.
func reservedEnv(name string) error {
	n := strings.ToUpper(name)
	for _, exact := range []string{"PATH", "HOME", "PWD", "TMPDIR", "SHELL", "ENV", "BASH_ENV", "IFS", "PS4",
		"SHELLOPTS", "BASHOPTS", "PROMPT_COMMAND", "NODE_OPTIONS", "PYTHONPATH", "PYTHONSTARTUP", "PERL5OPT",
		"RUBYOPT", "JAVA_TOOL_OPTIONS", "GOFLAGS", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"} {
		if n == exact {
			return errors.New("is set by cordon or changes which code runs; choose the variable the program reads its secret from")
		}
	}
	for _, prefix := range []string{"CORDON_", "LD_", "DYLD_", "BASH_FUNC_", "GIT_CONFIG"} {
		if strings.HasPrefix(n, prefix) {
			return fmt.Errorf("%s* variables are set by cordon or change which code runs; choose the variable the program reads its secret from", prefix)
		}
	}
	return nil
}

func validFromFile(p string) error {
	switch {
	case strings.HasPrefix(p, "~/") && len(p) > 2:
	case strings.HasPrefix(p, "/"), filepath.IsAbs(p):
	default:
		return errors.New("must be an absolute path or start with ~/")
	}
	return nil
}

// validatePattern checks one command pattern with the command rules' own
// checker (cmdrules.Rule.Check), so that the syntax is exactly that of
// [[commands.rule]] match. Its message continues "commands[j]": either
// "[k] TOKEN: why" or " [PATTERN]: why".
func validatePattern(pat []string) error {
	switch {
	case len(pat) == 0:
		return errors.New(" []: is empty; give at least the program name")
	case pat[0] == "*" || pat[0] == "**":
		return fmt.Errorf("[0] %q: name the program; a credential for any program is no scope at all", pat[0])
	}
	err := cmdrules.Rule{Name: "credential", Match: pat, Decision: cmdrules.Ask}.Check()
	if err == nil {
		return nil
	}
	// Check names the token as in [commands] ("match[1] \"**\": ..."); here
	// the caller names the entry and the pattern.
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "match["); ok {
		return errors.New("[" + rest)
	}
	return fmt.Errorf(" %s: %s", quoteList(pat), msg)
}

func quoteList(pat []string) string {
	q := make([]string, len(pat))
	for i, t := range pat {
		q[i] = fmt.Sprintf("%q", t)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// Merge adds a trusted layer (the user's own file, a --policy file outside
// the workspace) to ss and returns the result; ss is not modified. A
// definition adds a credential, or replaces the one of the same name; a
// change sets the commands, decision or reason it names; a removal drops the
// credential. source names the layer in messages and in Scope.Source.
func (ss Scopes) Merge(layer Scopes, source string) (Scopes, error) {
	if err := layer.Validate(); err != nil {
		return nil, fmt.Errorf("policy layer %s: %w", source, err)
	}
	out := slices.Clone(ss)
	var errs []error
	for i, s := range layer {
		at := slices.IndexFunc(out, func(b Scope) bool { return b.Name == s.Name })
		switch {
		case s.IsDefinition():
			s.Source = source
			if at >= 0 {
				out[at] = s
			} else {
				out = append(out, s)
			}
		case at < 0:
			errs = append(errs, fmt.Errorf("policy layer %s: %s: no earlier layer defines a credential of that name; define it here (env, from_env or from_file, commands)", source, s.label(i)))
		case s.Remove:
			out = slices.Delete(out, at, at+1)
		default:
			b := &out[at]
			if s.Commands != nil {
				b.Commands = clonePatterns(s.Commands)
			}
			if s.Decision != 0 {
				b.Decision = s.Decision
			}
			if s.Reason != "" {
				b.Reason = s.Reason
			}
			if s.Inject != nil {
				merged := b.Inject.clone()
				if merged == nil {
					merged = &Inject{}
				}
				if s.Inject.Hosts != nil {
					merged.Hosts = slices.Clone(s.Inject.Hosts)
				}
				if s.Inject.Paths != nil {
					merged.Paths = slices.Clone(s.Inject.Paths)
				}
				if s.Inject.Header != "" {
					merged.Header = s.Inject.Header
				}
				if s.Inject.Format != "" {
					merged.Format = s.Inject.Format
				}
				if s.Inject.User != "" {
					merged.User = s.Inject.User
				}
				b.Inject = merged
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("policy layer %s: %w", source, err)
	}
	return out, nil
}

// Tighten merges a less-trusted layer (a workspace's own policy file) into
// ss and returns the result; ss is not modified. The layer may only take
// away: remove a credential (remove = true), replace its commands with
// patterns each as narrow as or narrower than one it had, raise allow to
// ask, and narrow an injected credential's hosts (to some of its own) and
// paths (to prefixes within its own). Anything else is an error naming the entry and the key: a
// definition (a new credential, or another source or variable for one), a
// pattern that is not narrower, decision allow where the credential asks,
// a new reason (the human reads it when asked), a name no trusted layer
// defines.
func (ss Scopes) Tighten(layer Scopes, source string) (Scopes, error) {
	if err := layer.Validate(); err != nil {
		return nil, fmt.Errorf("policy layer %s: %w", source, err)
	}
	out := slices.Clone(ss)
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("policy layer %s: "+format, append([]any{source}, args...)...))
	}
	for i, s := range layer {
		at := slices.IndexFunc(out, func(b Scope) bool { return b.Name == s.Name })
		switch {
		case s.IsDefinition():
			key := "env"
			switch {
			case s.FromEnv != "":
				key = "from_env"
			case s.FromFile != "":
				key = "from_file"
			}
			fail("%s.%s: a less-trusted layer may not define a credential or change where its secret comes from or goes; it may only narrow commands, set decision = \"ask\", or remove = true", s.label(i), key)
			continue
		case at < 0:
			fail("%s: no trusted layer defines a credential of that name, and a less-trusted layer may not add one", s.label(i))
			continue
		case s.Remove:
			out = slices.Delete(out, at, at+1)
			continue
		}
		b := out[at]
		if s.Reason != "" && s.Reason != b.Reason {
			fail("%s.reason: a less-trusted layer may not reword a credential's reason (the human reads it when asked)", s.label(i))
		}
		if s.Decision != 0 {
			if s.Decision < b.EffectiveDecision() {
				fail("%s.decision = %v would loosen %v; a less-trusted layer may only raise allow to ask", s.label(i), s.Decision, b.EffectiveDecision())
			} else {
				b.Decision = s.Decision
			}
		}
		if s.Commands != nil {
			for j, pat := range s.Commands {
				if !slices.ContainsFunc(b.Commands, func(base []string) bool { return narrower(pat, base) }) {
					fail("%s.commands[%d] %s: adds a command; each pattern must be one of the credential's own or a narrower form of one (its tokens, then more before \"**\")", s.label(i), j, quoteList(pat))
				}
			}
			b.Commands = clonePatterns(s.Commands)
		}
		if s.Inject != nil {
			if ierrs := s.Inject.narrows(b.Inject, s.label(i)); len(ierrs) > 0 {
				for _, e := range ierrs {
					fail("%v", e)
				}
			} else {
				narrowed := b.Inject.clone()
				if s.Inject.Hosts != nil {
					narrowed.Hosts = slices.Clone(s.Inject.Hosts)
				}
				if s.Inject.Paths != nil {
					narrowed.Paths = slices.Clone(s.Inject.Paths)
				}
				b.Inject = narrowed
			}
		}
		out[at] = b
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// SecretFiles returns the files ss reads secrets from (from_file, with ~/
// expanded to home). The sandbox must mask every one of them, whichever
// command runs: add them to the deny-read list of each run. A file that
// cannot be expanded (~/ with no home) is left out; reading its secret fails.
func (ss Scopes) SecretFiles(home string) []string {
	var out []string
	for _, s := range ss {
		if p, ok := s.SecretFile(home); ok && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// SecretFile returns the file s reads its secret from: from_file, with ~/
// expanded to home. It is false when s has no from_file, or when ~/ cannot
// be expanded (home is empty or relative).
func (s Scope) SecretFile(home string) (string, bool) {
	p := s.FromFile
	if p == "" {
		return "", false
	}
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home == "" || !filepath.IsAbs(home) {
			return "", false
		}
		return filepath.Join(home, rest), true
	}
	return p, true
}

// narrower reports whether every command pat matches is also matched by
// base. It holds when they are equal, or when base ends in "**" and pat
// starts with base's other tokens: pat's further tokens only restrict the
// arguments base's "**" accepts. (cmdpolicy gives a certain match only when
// every token matches certainly, so this holds for certain matches too.)
func narrower(pat, base []string) bool {
	if slices.Equal(pat, base) {
		return true
	}
	k := len(base) - 1
	return k >= 1 && base[k] == "**" && len(pat) >= k && slices.Equal(pat[:k], base[:k])
}

func clonePatterns(p [][]string) [][]string {
	out := make([][]string, len(p))
	for i, t := range p {
		out[i] = slices.Clone(t)
	}
	return out
}
