// Package netenv holds the client side of cordon's proxy as environment:
// the variables that point a sandboxed command's tools at the proxy
// (ClientEnv) and the GIT_SSH_COMMAND that tunnels ssh through it
// (SSHCommand). It is pure, so the planners can compute a command's
// environment without linking the proxy server.
package netenv
