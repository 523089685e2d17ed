package credentials

import (
	"fmt"
	"strings"

	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
)

// Match returns the scopes whose secret may be handed to the command argv,
// in the order of scopes, each with its Decision set (Ask or Allow; Ask
// when the policy left it unset). argv is the command as `cordon run --
// CMD...` receives it; a shell command line is []string{"sh", "-c", LINE}.
// scopes is a merged list (Merge, Tighten): entries that are not
// definitions never match.
//
// A scope covers argv only when every part of the command line does: cmdpolicy
// splits argv into the commands it runs (lists, pipelines, subshells, $(...),
// what sh -c and wrappers run), and each part must either certainly match one
// of the scope's patterns or be neutral (neutralBuiltins, neutralRunners); at
// least one part must match a pattern. The secret is in the environment of
// the whole line, so this is what keeps it from programs the scope does not
// name. These make a line uncovered: a part only known at run time (a
// variable as the program, eval, a script file), a part that sets variables
// for its program (A=1 gh ...), a declaration built-in (export, declare),
// and an argument that names the scope's variable or uses ${!name}.
func Match(scopes []Scope, argv []string) []Scope {
	var out []Scope
	for _, s := range scopes {
		if covers(s, argv) {
			s.Decision = s.EffectiveDecision()
			out = append(out, s)
		}
	}
	return out
}

// Rule names and reasons of the rules covers compiles. A part whose
// decision is Ask and whose reason is exactly one of these was decided by
// that rule with a certain match: cmdpolicy appends a detail to the reason
// when a rule only could apply, and every other rule is allow or deny.
const (
	scopeRulePrefix   = "credential-scope-"
	builtinRulePrefix = "credential-builtin-"
	runnerRulePrefix  = "credential-runner-"
	scopeReason       = "covered by the credential's command patterns"
	neutralReason     = "runs no other program and prints no variable"
)

// neutralBuiltins are shell built-ins that may appear in a covered line
// without being named by the scope: they run nothing and print nothing of
// the environment. They must be written without any expansion ($ or `):
// `cd "$X"` is not neutral, since cd's error message would print $X. set is
// neutral only with the options scripts begin with; a bare set prints every
// variable, and set -a would export every later assignment.
var neutralBuiltins = [][]string{
	{"cd"}, {"cd", "*"}, {"pushd", "*"}, {"popd"},
	{"true"}, {"false"}, {":"},
	{"exit"}, {"exit", "*"}, {"wait"},
	{"set", "-e|-u|-eu|-ue|+e|+u"},
	{"set", "-o|-eo|-uo|-euo|-ueo", "pipefail|errexit|nounset"},
}

// neutralRunners run another command, which is a part of its own and must
// be covered too: the shell holding a literal line (sh -c LINE, nothing
// after LINE), and wrappers that only change how the command runs. env,
// sudo, xargs, strace and the like are not neutral (env alone prints the
// environment, sudo and xargs change what runs, strace -v prints it).
var neutralRunners = [][]string{
	{"sh|bash|dash|zsh|ksh|mksh|ash", "-c", "*"},
	{"timeout|nice|nohup|stdbuf|ionice|time|exec|command", "**"},
}

// declarations are the declaration built-ins, which cmdpolicy lists only
// when a rule names them: export -p and declare -p print the environment,
// and export changes what the covered program does. A rule that denies
// them makes them parts, and so makes the line uncovered.
var declarations = []string{"export|declare|typeset|local|readonly|nameref"}

// covers reports whether every part of argv is covered by s.
func covers(s Scope, argv []string) bool {
	if !s.IsDefinition() || s.Remove || s.Env == "" || len(argv) == 0 || len(s.Commands) == 0 {
		return false
	}
	for _, a := range argv {
		// The variable by name, or any variable by a name only known at run
		// time (${!name}).
		if strings.Contains(strings.ToUpper(a), strings.ToUpper(s.Env)) || strings.Contains(a, "${!") {
			return false
		}
	}
	p, err := cmdpolicy.New(coverageConfig(s))
	if err != nil {
		return false // Validate accepted the patterns, so this does not happen; if it does, nothing is handed over
	}
	named := false
	for _, part := range p.Check(argv).Parts {
		switch {
		case part.Decision != cmdpolicy.Ask, setsVariables(part.Command):
			return false
		case strings.HasPrefix(part.Rule, scopeRulePrefix) && part.Reason == scopeReason:
			named = true
		case strings.HasPrefix(part.Rule, runnerRulePrefix) && part.Reason == neutralReason:
		case strings.HasPrefix(part.Rule, builtinRulePrefix) && part.Reason == neutralReason &&
			!strings.ContainsAny(part.Command, "$`"):
		default:
			return false
		}
	}
	return named
}

// coverageConfig turns a scope into a command policy whose decision for a
// part says whether the part is covered: the scope's patterns and the
// neutral ones ask, every built-in category allows (so that none hides a
// pattern), and what cordon cannot judge, declarations, and every program
// no pattern certainly matches (the default) are denied.
func coverageConfig(s Scope) cmdpolicy.Config {
	cfg := cmdpolicy.Config{Default: cmdpolicy.Deny, Builtin: map[string]cmdpolicy.Decision{}}
	for _, c := range cmdpolicy.Categories() {
		cfg.Builtin[c] = cmdpolicy.Allow
	}
	cfg.Builtin[cmdpolicy.CategoryUndecidable] = cmdpolicy.Deny
	add := func(prefix, reason string, pats [][]string, d cmdpolicy.Decision) {
		for i, pat := range pats {
			cfg.Rules = append(cfg.Rules, cmdpolicy.Rule{Name: fmt.Sprintf("%s%d", prefix, i),
				Match: pat, Decision: d, Reason: reason})
		}
	}
	add(scopeRulePrefix, scopeReason, s.Commands, cmdpolicy.Ask)
	add(builtinRulePrefix, neutralReason, neutralBuiltins, cmdpolicy.Ask)
	add(runnerRulePrefix, neutralReason, neutralRunners, cmdpolicy.Ask)
	add("credential-declaration-", "a declaration built-in", [][]string{declarations}, cmdpolicy.Deny)
	return cfg
}

// setsVariables reports whether a part, as cmdpolicy writes it, starts with
// variable assignments for its program ("GIT_TRACE_REDACT=0 git push"):
// they change what the program does with the secret, and no pattern shows
// them.
func setsVariables(command string) bool {
	i := 0
	for i < len(command) {
		c := command[i]
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			i++
			continue
		}
		break
	}
	rest := command[i:]
	return i > 0 && (strings.HasPrefix(rest, "=") || strings.HasPrefix(rest, "+=") || strings.HasPrefix(rest, "["))
}
