package unixplan

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestToolEnvReplacesTheCallersProxyAndCaches(t *testing.T) {
	env := []string{"PATH=/usr/bin", "HTTPS_PROXY=http://corp:8080", "no_proxy=.corp", "Git_SSH_Command=ssh -J jump",
		"JAVA_TOOL_OPTIONS=-Dhttp.proxyHost=corp", "GOCACHE=/host/go", "TMPDIR=/host/tmp", "A=1", "A=2"}
	proxy := map[string]string{"HTTPS_PROXY": "http://127.0.0.1:3128"}
	got := ToolEnv(env, "/tmp", "/c", "/w/sub", proxy)
	if !sort.StringsAreSorted(got) {
		t.Errorf("not sorted: %v", got)
	}
	want := []string{"A=2", "CORDON_SANDBOX=1", "GOCACHE=/c/go-build", "GOMODCACHE=/c/go/pkg/mod", "GOPATH=/c/go", "HTTPS_PROXY=http://127.0.0.1:3128", "PATH=/usr/bin",
		"PIP_CACHE_DIR=/c/pip", "PWD=/w/sub", "PYTHONPYCACHEPREFIX=/c/pycache", "TMPDIR=/tmp", "UV_CACHE_DIR=/c/uv",
		"XDG_CACHE_HOME=/c/xdg", "YARN_CACHE_FOLDER=/c/yarn", "npm_config_cache=/c/npm"}
	if !slices.Equal(got, want) {
		t.Errorf("ToolEnv =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestToolEnvWithoutCacheOrProxy(t *testing.T) {
	got := ToolEnv([]string{"http_proxy=http://corp", "ALL_PROXY=socks5://corp"}, "/private/tmp/run", "", "/w", nil)
	for _, kv := range got {
		if strings.Contains(strings.ToLower(kv), "proxy") {
			t.Errorf("a proxy setting passes with no proxy of cordon's: %s", kv)
		}
	}
	if !slices.Contains(got, "GOCACHE=/private/tmp/run/.cordon-cache/go-build") {
		t.Errorf("read-only mode: the caches are not below TMPDIR: %v", got)
	}
}
