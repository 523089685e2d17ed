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
//  2. The rules decide (Rules.Decide, pure, in policy/netpolicy): deny entries win, then allow
//     entries and presets; anything else is denied, or asked about when the
//     policy says so and an Asker is set.
//  3. Only then is a name resolved, and every address it resolves to is
//     checked: loopback, private, link-local, CGNAT, multicast, reserved and
//     unspecified addresses are refused unless the rule that allowed the
//     name says private addresses are fine; cloud metadata addresses are
//     refused for every name.
//  4. The proxy dials the address it checked. There is no second lookup, and
//     redirects are relayed to the client, never followed.
//  5. Only for a host an Injection names (a credential the proxy puts into
//     requests), and only after every step above: the proxy opens its own
//     TLS connection to the host, verified against the system's roots and
//     the policy's extra CA file (a failure refuses the connection, with the
//     reason), then answers the client and ends the client's TLS with a
//     certificate its CA signs for that host. It then serves the client's
//     HTTP/2 or HTTP/1.1 requests one by one, forwarding each in the
//     client's own protocol where the host offers it: each must name the
//     same host
//     (another is refused with 421, whether it came on a kept-alive,
//     pipelined or HTTP/2 connection), carries the credential's placeholder
//     only in the credential's header (anywhere else the request is
//     refused), and gets the secret in that header when its path is in
//     scope. An HTTP/1.1 upgrade (WebSocket) is judged the same way, then
//     passed through unmodified until either side closes; HTTP/2's
//     extended CONNECT is not offered. Every other host stays a plain
//     tunnel, never intercepted. Plain HTTP requests carrying a placeholder
//     are refused: a secret never crosses the network in clear text.
//  6. Request rules (Rules.DecideRequest) judge each request the proxy
//     reads, intercepted or plain HTTP, before any of it is sent on: deny
//     answers 403, ask holds the request for the Asker, allow passes; the
//     rule that decided is the event's rule. A tunnel to a host the rules
//     govern but no Injection intercepts is refused, since its requests
//     could not be judged.
//
// A refusal tells the client what to do about it: HTTP 403 with an
// X-Cordon-Denied header and a body naming the host, the rule and how to
// allow it, or the SOCKS5 reply "not allowed by ruleset". Each connection
// produces one ConnEvent, and so does each request inside an intercepted
// connection (ProtoHTTPS, naming the credential, never its secret);
// Server.Summary totals them.
//
// The CA (LoadOrCreateCA, RotateCA) is per user: its key stays in a
// directory the caller keeps from the sandbox, and SandboxTrust gives the
// sandbox the certificate alone, in a bundle with the system's roots.
//
// The rules themselves (Config, Compile, Decide, Tighten, Injection) are
// pure and live in policy/netpolicy, and the client environment (ClientEnv,
// SSHCommand) in internal/netenv, so that the policy and the planners need
// not link this server; this package names them again for its callers. It
// also holds ConnectStdio, which is `cordon __connect`, ssh's ProxyCommand.
//
// docs/network.md describes the policy keys, the matching rules and the
// events for users.
package netproxy
