// Package cmdpolicy decides, from a command line alone, whether a command may
// run, needs a human's approval, or is refused: the command rows of cordon's
// approval matrix.
//
// This layer only decides what a human must see. It is not the boundary:
// every command it allows still runs inside the sandbox, which confines what
// the command can read, write and reach whatever the rules say. A command
// line can always hide what it does (a script file, a program that starts
// others); the rules catch what is visible, the sandbox contains the rest.
//
// # Use
//
//	p, err := cmdpolicy.New(cfg) // cfg is the policy's [commands] table
//	res := p.CheckScript("git status && npm ci")  // a shell command line
//	res = p.Check([]string{"git", "push", "-f"})  // an argument vector
//	// res.Decision is Allow, Ask or Deny; res.Parts says why, per part.
//
// # What it promises
//
//   - The command line is parsed with a real shell parser (mvdan.cc/sh) and
//     split into every command it runs: lists, pipelines, subshells, $(...),
//     backticks, process substitutions, here-documents, function bodies, and
//     what wrappers run (env, sudo, nice, timeout, xargs, parallel, find
//     -exec, npx, ssh, tmux, bash -c with literal code, recursively, to a
//     bounded depth), and what options that hold a command run (git -c,
//     git rebase --exec, tar --to-command, rsync -e, go test -exec, trap,
//     mapfile -C).
//     Every part must pass: the result is the strictest decision of the parts.
//   - For one part, every rule that applies is considered and the strictest
//     decision wins; the default decides only when no rule certainly applies.
//   - What cannot be decided from the text is decided as the strictest rule
//     that could apply, and at least Ask: a program only known at run time,
//     eval, a shell reading code from a pipe or the terminal, a call to a
//     function defined on the same line, an alias, a variable that changes
//     which code runs (PATH, LD_PRELOAD, GIT_PAGER, git -c core.hooksPath),
//     text bash may evaluate as code (arithmetic on values put together
//     from literals that could hold a command substitution, ${x@P}, fc),
//     a program name with non-ASCII characters, and input that cannot be
//     parsed. Such input is never allowed.
//   - Program names are compared after an absolute path is removed
//     (/usr/bin/git is git). A relative path ("./git", ".venv/bin/pip") is a
//     file in the working directory that may be a copy of the program it is
//     named after, so that program's rules could apply to it. Names must
//     match exactly; one that matches only when case or a Windows ".exe" is
//     ignored makes the rule "could apply".
//   - A less-trusted policy layer, merged with Config.Tighten, can only make
//     decisions stricter.
//
// The configuration (Config, Rule, Decision, the categories) is
// policy/cmdrules's, re-exported here: it is pure, so the policy and the
// sandbox's init hold it without linking the shell parser. Its Validate
// accepts exactly the rules New compiles, and its table of built-in rule
// names is this package's catalog (both checked by this package's tests).
//
// The rule language, the built-in rules and their categories are documented
// in docs/commands.md; Builtins and Policy.Rules list them.
package cmdpolicy
