package netenv

import (
	"net"
	"net/url"
	"os"
	"strings"
)

// NoProxy is the NO_PROXY value a sandboxed command gets: loopback only, the
// one place inside the sandbox that is not behind the proxy.
const NoProxy = "localhost,127.0.0.1,::1"

// ClientEnv returns the environment that points a sandboxed command's tools
// at the proxy at proxyURL (http://[cordon:SECRET@]HOST:PORT): the common
// proxy variables in both cases, the settings of tools that ignore them or
// let a config file override them, and GIT_SSH_COMMAND with cordon itself as
// ssh's ProxyCommand. docs/network.md lists which tool reads what.
//
// The caller passes the result on as it is and must not also pass the
// caller's own values for these names.
func ClientEnv(proxyURL string) map[string]string {
	u, err := url.Parse(proxyURL)
	if err != nil || u.Host == "" {
		// A programming error in the caller: fail closed by pointing the
		// tools at nothing rather than leaving them to connect directly.
		u = &url.URL{Scheme: "http", Host: "127.0.0.1:9"}
	}
	httpURL := *u
	httpURL.Scheme = "http"
	socksURL := *u
	socksURL.Scheme = "socks5h"
	h, s := httpURL.String(), socksURL.String()

	env := map[string]string{
		// curl/libcurl (git over https, cargo), Go, Python (pip, requests,
		// httpx, urllib), uv, Ruby, .NET, Deno, Bun. curl reads http_proxy
		// only in lower case.
		"HTTP_PROXY": h, "http_proxy": h,
		"HTTPS_PROXY": h, "https_proxy": h,
		// Tools that only know one setting for every scheme, and SOCKS-only
		// clients; socks5h: the proxy resolves names.
		"ALL_PROXY": s, "all_proxy": s,
		"NO_PROXY": NoProxy, "no_proxy": NoProxy,
		// npm, pnpm and yarn 1 read npm_config_*, which beats a proxy a
		// user's .npmrc sets.
		"npm_config_proxy": h, "npm_config_https_proxy": h, "npm_config_noproxy": NoProxy,
		// yarn 2+ ignores HTTP(S)_PROXY. There is deliberately no
		// YARN_NO_PROXY: yarn 2+ rejects it as an unknown setting.
		"YARN_HTTP_PROXY": h, "YARN_HTTPS_PROXY": h,
		// pip: beats a proxy set in pip.conf.
		"PIP_PROXY": h,
		// Node.js 22.21+ and 24.5+: fetch() and http(s) honour the variables
		// above only with this set.
		"NODE_USE_ENV_PROXY": "1",
		// git over ssh: tunnel through the proxy with cordon as connector.
		"GIT_SSH_COMMAND": SSHCommand(connectorPath()),
	}
	if u.User == nil {
		// The JVM (Gradle, Maven, sbt) ignores the variables. It cannot send
		// Basic credentials on CONNECT by default, so this only helps where
		// the proxy needs no secret (the bridge inside a network namespace).
		host, port, err := net.SplitHostPort(u.Host)
		if err == nil {
			host = strings.Trim(host, "[]")
			env["JAVA_TOOL_OPTIONS"] = strings.Join([]string{
				"-Dhttp.proxyHost=" + host, "-Dhttp.proxyPort=" + port,
				"-Dhttps.proxyHost=" + host, "-Dhttps.proxyPort=" + port,
				"-Dhttp.nonProxyHosts=localhost|127.0.0.1|[::1]",
			}, " ")
		}
	}
	return env
}

// SSHCommand is the GIT_SSH_COMMAND that makes ssh reach its host through
// the proxy, using the cordon binary at cordonPath as the connector
// (`cordon __connect HOST PORT`). git runs it through the shell, and ssh runs
// the ProxyCommand through the shell again, so the path is quoted for both;
// ssh expands %-tokens in it, so a literal % is doubled.
func SSHCommand(cordonPath string) string {
	proxyCommand := strings.ReplaceAll(shellQuote(cordonPath), "%", "%%") + " __connect %h %p"
	return "ssh -o " + shellQuote("ProxyCommand="+proxyCommand)
}

// connectorPath is the cordon binary that ssh runs as its ProxyCommand. The
// sandbox sees the host's binaries read-only, so the path stays valid inside.
func connectorPath() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return "cordon"
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+=:,@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
