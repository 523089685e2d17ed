// Package inbox is the web approval inbox that `cordon approve` runs: an
// HTTP server on 127.0.0.1 that holds the questions cordon processes submit
// (approval.NewInbox is the client) until a human answers them in a
// browser.
//
// # Security
//
//   - It listens on 127.0.0.1 only, on a random port, and answers only
//     requests whose Host header names that address and port (a DNS
//     rebinding page cannot reach it under another name).
//   - Two secrets, each 256 random bits. The requester token is published
//     in cordon's state directory (mode 0600, masked inside the sandbox);
//     it lets a cordon process submit a question and wait for its answer,
//     nothing else. The login token is never written to disk: it is in the
//     URL printed on the inbox's terminal, and opening that URL gives the
//     browser a session cookie (HttpOnly, SameSite=Strict) and redirects to
//     a URL without the token. Nothing else is served without one of them.
//   - The token cannot leak through Referer: the login response carries
//     Referrer-Policy: no-referrer and redirects before any page loads, every
//     other page carries Referrer-Policy: same-origin, and the page loads
//     nothing from elsewhere (Content-Security-Policy default-src 'none',
//     scripts and styles only from itself).
//   - Answers are form posts that must carry the session's CSRF token,
//     and, when the browser sends them, an Origin of the inbox itself and
//     Sec-Fetch-Site: same-origin.
//   - Everything shown comes from approval.Request.Fields (control and
//     formatting characters escaped) through html/template.
package inbox
