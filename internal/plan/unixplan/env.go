package unixplan

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
)

// ToolEnv builds a command's environment from the caller's, already
// filtered by the policy: the caller's proxy settings replaced by proxy
// (cordon's, or none), TMPDIR the private temp dir tmp, PWD dir,
// CORDON_SANDBOX=1, and the tool caches pointed below cache, the
// workspace's private cache (below tmp when cache is empty: read-only mode).
// The result is sorted.
func ToolEnv(env []string, tmp, cache, dir string, proxy map[string]string) []string {
	set := map[string]string{}
	var order []string
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := set[k]; !dup {
			order = append(order, k)
		}
		set[k] = v
	}
	put := func(k, v string) {
		if _, ok := set[k]; !ok {
			order = append(order, k)
		}
		set[k] = v
	}
	// The caller's own proxy settings would lead around cordon's proxy (or
	// nowhere); the sandbox's replace them, or none are passed at all.
	for k := range set {
		if isProxyVar(k) {
			delete(set, k)
			order = slices.DeleteFunc(order, func(o string) bool { return o == k })
		}
	}
	for k, v := range proxy {
		put(k, v)
	}
	put("TMPDIR", tmp)
	put("PWD", dir)
	put("CORDON_SANDBOX", "1")
	if cache == "" {
		// Read-only mode: tools still need somewhere to cache for the
		// duration of one run.
		cache = path.Join(tmp, ".cordon-cache")
	}
	for k, sub := range toolCaches {
		put(k, path.Join(cache, sub))
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+set[k])
	}
	sort.Strings(out)
	return out
}

// isProxyVar reports whether a variable steers a tool's network access.
func isProxyVar(k string) bool {
	switch strings.ToLower(k) {
	case "http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy", "npm_config_proxy",
		"npm_config_https_proxy", "npm_config_noproxy", "yarn_http_proxy", "yarn_https_proxy",
		"pip_proxy", "git_ssh_command", "java_tool_options", "node_use_env_proxy":
		return true
	}
	return false
}

// toolCaches points build tools at the workspace's private cache, so that a
// poisoned cache never reaches the host's tools.
var toolCaches = map[string]string{
	"XDG_CACHE_HOME": "xdg",
	"GOCACHE":        "go-build",
	// go get and go mod download write modules and the checksum
	// database's cache below GOPATH (~/go/pkg/mod, ~/go/pkg/sumdb).
	"GOPATH":              "go",
	"GOMODCACHE":          "go/pkg/mod",
	"npm_config_cache":    "npm",
	"YARN_CACHE_FOLDER":   "yarn",
	"PIP_CACHE_DIR":       "pip",
	"UV_CACHE_DIR":        "uv",
	"PYTHONPYCACHEPREFIX": "pycache",
}

// AllowedText says, for an enforcement report, what the proxy lets
// through: entries counts the allow, allow_private and tcp entries.
func AllowedText(entries int, presets []string) string {
	s := fmt.Sprintf("%d allowed entries", entries)
	if len(presets) > 0 {
		s += " and the preset(s) " + strings.Join(presets, ", ")
	}
	return s
}
