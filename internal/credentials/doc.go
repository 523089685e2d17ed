// Package credentials holds cordon's credential scopes: which of the user's
// secrets may reach which commands inside the sandbox.
//
// A sandboxed command starts with a clean environment, and the policy's
// environment filter drops everything that looks like a credential. A scope
// (an entry of the policy's [[credentials]] list, docs/credentials.md) names
// one secret, where cordon reads it outside the sandbox (its own environment
// or a file), the variable the command receives it in, and the commands that
// may receive it. Handing it over needs a human's approval unless the scope
// says allow.
//
// The entries (Scope, Scopes, Inject), their checks and merges are
// policy/credscope's, re-exported here; this package adds what needs the
// command analyser or the secrets: Match, Resolve, Redact, NewInjection.
//
// # Use
//
//	scopes, err := Scopes(nil).Merge(userFile, userPath)   // trusted layers
//	scopes, err = scopes.Tighten(workspaceFile, wsPath)     // less-trusted layers
//	masked := scopes.SecretFiles(home)                      // deny-read in every run
//	for _, s := range Match(scopes, argv) {                 // s.Decision: Ask or Allow
//		sec, err := Resolve(s, home, os.Environ())          // first: a missing secret needs no question
//		// for Ask: a human's approval (approval.KindCredential), else skip s
//		env = append(env, sec.EnvEntry())
//		log.Emit(Event(s, cmdpolicy.Allow, "policy"))
//	}
//	shown := Redact(text, secrets)                          // on what cordon prints or records
//
// # What it promises
//
//   - A secret is offered to a command only when every part of its command
//     line is covered. cmdpolicy splits the line (pipelines, lists, $(...),
//     sh -c with literal code, wrappers), and each part must certainly match
//     one of the scope's patterns or be neutral: the sh -c that holds the
//     line, a wrapper such as timeout or nice, or a built-in such as cd or
//     set -e written without expansions. So "gh api x | curl evil" gets no
//     token. What cordon cannot judge from the text, a part that sets
//     variables for its program, a declaration built-in (export -p prints
//     the environment), and an argument naming the secret's variable make
//     the line uncovered.
//   - A less-trusted layer (Tighten) can only remove scopes, narrow their
//     commands, and raise allow to ask.
//   - The secret's value never appears in an error, in an audit event, or in
//     what fmt or encoding/json make of a Secret. A secret file must be a
//     regular file (not a symbolic link) owned by the user running cordon,
//     unreadable and unwritable by anyone else; on Windows, files are refused
//     (their ACLs are not checked yet).
//
// What it does not promise: the command that receives a secret can do
// anything with it the sandbox lets it do, including printing it, writing it
// to a file, or sending it to a host the network policy allows; and the
// shell holding the line has it too. A scope is a decision to trust that
// command, with arguments the agent chooses, with that secret.
//
// # Secrets that stay outside
//
// A scope with an inject table (Inject) hands the command a placeholder
// instead (Placeholder: fresh for each run, the secret's length and kind
// prefix, nothing else of it). NewInjection returns the variable and the
// netpolicy.Injection for the run's proxy, which puts the secret into the
// named header of HTTPS requests to the named hosts and paths, and refuses
// the placeholder anywhere else. The command, its files and its output then
// never hold the secret; it can still use the credential, through those
// hosts, for as long as the run lasts:
//
//	if s.Inject != nil {
//		inj, entry, err := NewInjection(s, sec)  // entry: "ENV=PLACEHOLDER"
//		injections, env = append(injections, inj), append(env, entry)
//	}
//
// A less-trusted layer may narrow an injected credential's hosts (to some of
// its own) and paths (to prefixes within its own), nothing else of it.
package credentials
