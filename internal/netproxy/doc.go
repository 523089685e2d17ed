// Package netproxy holds cordon's filtering proxy: the only way a sandboxed
// command reaches the network, and only to hosts the policy allows.
//
// One listener serves plain HTTP forwarding (absolute-form requests), HTTP
// CONNECT tunnels and SOCKS5 CONNECT, told apart by the first byte. Every
// destination goes through the same steps, in this order:
//
//  1. The host is normalised (lower case, IDNA A-labels, one trailing dot
//     removed) and rejected if it holds NUL or anything outside the hostname
//     grammar. Every spelling of an IP address (decimal, octal, hex,
//     shortened, IPv4-mapped IPv6) becomes that address and can only match IP
//     rules; zone identifiers are refused.
//  2. The rules decide (Rules.Decide, pure): deny entries win, then allow
//     entries and presets; anything else is denied, or asked about when the
//     policy says so and an Asker is set.
//  3. Only then is a name resolved, and every address it resolves to is
//     checked: loopback, private, link-local, CGNAT, multicast, reserved and
//     unspecified addresses are refused unless the rule that allowed the
//     name says private addresses are fine; cloud metadata addresses are
//     refused for every name.
//  4. The proxy dials the address it checked. There is no second lookup, and
//     redirects are relayed to the client, never followed.
//
// A refusal tells the client what to do about it: HTTP 403 with an
// X-Cordon-Denied header and a body naming the host, the rule and how to
// allow it, or the SOCKS5 reply "not allowed by ruleset". Each connection
// produces one ConnEvent; Server.Summary totals them.
//
// The package also holds the client side used inside the sandbox: ClientEnv
// (the proxy variables a command gets), SSHCommand, and ConnectStdio, which
// is `cordon __connect`, ssh's ProxyCommand.
//
// docs/network.md describes the policy keys, the matching rules and the
// events for users.
package netproxy
