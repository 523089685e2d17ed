package macplan

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/cordon-sandbox/cordon/policy"
)

// toolEnv builds the command's environment from the filtered one: the
// caller's proxy settings replaced by cordon's, TMPDIR the private temp dir,
// the tool caches pointed at the private cache. Copied from linuxplan's
// toolEnv (with its lists) so both systems give a command the same
// environment; to be shared once the planners share a package.
func toolEnv(env []string, tmp, cache, dir string, proxy map[string]string) []string {
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

// toolCaches points build tools at the workspace's private cache.
var toolCaches = map[string]string{
	"XDG_CACHE_HOME":      "xdg",
	"GOCACHE":             "go-build",
	"npm_config_cache":    "npm",
	"YARN_CACHE_FOLDER":   "yarn",
	"PIP_CACHE_DIR":       "pip",
	"UV_CACHE_DIR":        "uv",
	"PYTHONPYCACHEPREFIX": "pycache",
}

// Rlimit is one resource limit (soft = hard), with macOS's resource number.
type Rlimit struct {
	Resource int    `json:"resource"`
	Name     string `json:"name"`
	Value    uint64 `json:"value"`
}

// Resource numbers of <sys/resource.h> on macOS (they differ from Linux's).
const (
	rlimitFsize  = 1
	rlimitCore   = 4
	rlimitNproc  = 7
	rlimitNofile = 8
)

// rlimits maps the policy's limits onto macOS. The memory limit has no
// equivalent (see the package documentation); the process limit counts all
// of the user's processes on macOS, so it is set that far above the count
// the user already runs.
func rlimits(p *policy.Policy, userProcs int) []Rlimit {
	out := []Rlimit{{Resource: rlimitCore, Name: "core", Value: 0}}
	add := func(res int, name string, v uint64) {
		if v > 0 {
			out = append(out, Rlimit{Resource: res, Name: name, Value: v})
		}
	}
	// The built-in process limit is for Linux's per-run cgroup; on macOS
	// RLIMIT_NPROC counts all of the user's processes and the kernel's own
	// per-user cap (kern.maxprocperuid) is lower, so only a limit the user
	// set is applied.
	if n := p.Limits.MaxProcesses.Value; n > 0 && p.Limits.MaxProcesses.From.Layer != policy.LayerBuiltin {
		add(rlimitNproc, "max_processes", n+uint64(max(userProcs, 0)))
	}
	add(rlimitNofile, "open_files", p.Limits.OpenFiles.Value)
	add(rlimitFsize, "file_size", p.Limits.FileSize.Value)
	return out
}

func rlimitText(rs []Rlimit) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s=%d", r.Name, r.Value))
	}
	return strings.Join(parts, " ")
}
