// Package cmdrules holds the [commands] section of a cordon policy: the
// decisions (allow, ask, deny), the policy's own command rules, the changes
// to built-in rules, and the checks and the tighten-only merge over them.
// It is pure and small: it parses no shell and matches no command line, so
// that the policy, the planners and the sandbox's init can hold a command
// configuration without linking the shell parser. The analyser that judges
// command lines against it is internal/cmdpolicy, which re-exports these
// types.
//
// # What it promises
//
//   - Config.Validate reports every problem at once, each naming the key or
//     the rule ("commands.rule[2] (\"no-rm\"): match[1] ...") and the bad
//     value. A Config it accepts is one the analyser compiles: the rule
//     language's syntax is checked here (Rule.Check, CheckPattern), and the
//     analyser's tests check that it compiles exactly what these accept.
//   - Config.Tighten merges a less-trusted layer so that no command line's
//     decision becomes looser, and refuses, naming the key, whatever would
//     loosen: a lower default, a built-in entry below a rule's current
//     decision, an allow rule, a rule name a more-trusted layer uses.
//     Rules, raised decisions and protected branches it adds are marked
//     tighten-only (Rule.TightenOnly, LayerBranches), and only Tighten can
//     set these marks.
//   - BuiltinNames and Categories name exactly the analyser's built-in rules
//     and categories (checked by the analyser's tests), so that a Builtin
//     key is checked against the rules that exist.
//
// docs/commands.md documents the rule language and the built-in rules.
package cmdrules
