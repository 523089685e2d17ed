// Package netpolicy holds the [network] section of a cordon policy and the
// rules it compiles to: which destinations a sandboxed command may reach
// through cordon's proxy, and which credentials the proxy injects where.
// It is pure: it resolves no name, dials nothing and serves nothing, so
// that the policy, the planners and the sandbox's init can read it without
// linking the proxy (internal/netproxy), which enforces it.
//
// # Promises
//
//   - Every spelling of a destination is normalised first (ParseHost): names
//     are lower-cased IDNA A-labels without a trailing dot, every spelling of
//     an IP address (decimal, octal, hex, shortened, IPv4-mapped IPv6) becomes
//     that address and can only match IP rules, and zone identifiers,
//     control bytes and anything outside the host-name grammar are refused.
//   - Rules.Decide is pure and fails closed: deny entries win, then allow
//     entries and presets; anything else is denied, or asked about when the
//     policy says so. An unparsable destination is denied.
//   - Config.Validate reports every problem at once, each a KeyError naming
//     the key (with [i] for a list entry) so that the policy can point at
//     its line.
//   - Config.Tighten lets a less trusted layer only narrow: it refuses, per
//     key, every raise of the mode, every switch of unlisted to ask, every
//     preset, extra CA file and list entry the more trusted layer does not
//     already cover.
//   - Rules.DecideRequest judges one HTTP request by the request rules
//     ([[network.requests]]): a matching deny wins, then the first matching
//     rule; a path that not every server would read alike (dot segments,
//     encoded slashes) is denied on a governed host. Tighten adds only ask
//     and deny request rules, ahead of the more trusted ones, so a merged
//     layer never decides a request more loosely.
//   - A name allowed by a rule reaches private addresses only when the rule
//     says so (allow_private), and cloud metadata addresses never
//     (Decision.CheckResolved, Decision.CheckLiteral).
//
// docs/network.md describes the keys and the matching rules for users.
package netpolicy
