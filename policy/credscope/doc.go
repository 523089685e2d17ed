// Package credscope holds the [[credentials]] section of a cordon policy:
// which of the user's secrets may reach which commands, where cordon reads
// each one outside the sandbox, and, for a secret that stays outside, the
// hosts its proxy injects it into. It holds the entries, their checks and
// the two merges. It is pure: it reads no secret and parses no shell, so
// that the policy, the planners and the sandbox's init can hold the section
// without linking the command analyser.
//
// Matching a command line against the scopes, reading the secrets and
// redacting them are in internal/credentials, which re-exports these types.
// docs/credentials.md describes the keys for users.
//
// # What it promises
//
//   - Scopes.Validate reports every problem of a list at once, each naming
//     the entry ("credentials[1] (\"npm\")") and the key. Command patterns
//     are checked by the command rules' own checker (cmdrules.Rule.Check),
//     so their syntax is exactly that of [[commands.rule]] match.
//   - A variable that cordon sets, or that changes which code runs (PATH,
//     LD_*, BASH_ENV, NODE_OPTIONS, ...), is refused as a credential's env.
//   - Scopes.Tighten lets a less-trusted layer only take away: remove a
//     credential, narrow its commands (each pattern one of the credential's
//     own or a narrower form of one), raise allow to ask, narrow an
//     injected credential's hosts and paths. Anything else is an error
//     naming the entry and the key.
//   - Scopes.SecretFiles lists every file the scopes read a secret from, so
//     that the sandbox can mask each one in every run.
package credscope
