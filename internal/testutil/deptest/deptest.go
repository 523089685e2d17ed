// Package deptest fences a package's dependencies: a test states which
// packages it must never link, directly or through anything it imports, and
// fails when one appears. The pure layers (the policy, the planners, the
// sandbox's init) are fenced against the proxy server, HTTP, TLS and the
// shell parser, so that a convenient import cannot quietly put a server
// into the init that every sandboxed command re-executes.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// Heavy are the packages no pure layer may link: the proxy server and what
// only a server needs, the command analyser and its shell parser, the CLI
// and the OTLP exporter. The pure layers hold the command rules and the
// credential scopes as policy/cmdrules and policy/credscope; judging a
// command line against them (internal/cmdpolicy, internal/credentials) is
// for the supervisor.
var Heavy = []string{
	"github.com/cordon-sandbox/cordon/internal/netproxy",
	"github.com/cordon-sandbox/cordon/internal/cmdpolicy",
	"github.com/cordon-sandbox/cordon/internal/cli",
	"github.com/cordon-sandbox/cordon/internal/auditsink",
	"github.com/cordon-sandbox/cordon/sandbox",
	"net/http",
	"crypto/tls",
	"mvdan.cc/sh/v3",
	"github.com/spf13/cobra",
	"google.golang.org/grpc",
	"go.opentelemetry.io",
}

// Fence checks that pkg (an import path or a directory such as ".") links
// none of forbidden (each a package path or a path prefix) when built for
// each of goos. A package in pending is forbidden but known to be linked
// today: the test logs it, and fails once it is no longer linked, so that
// the exemption is removed with the import.
func Fence(t *testing.T, pkg string, goos []string, forbidden, pending []string) {
	t.Helper()
	for _, os := range goos {
		cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", pkg)
		cmd.Env = append(cmd.Environ(), "GOOS="+os, "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				t.Fatalf("go list -deps %s (GOOS=%s): %v\n%s", pkg, os, err, ee.Stderr)
			}
			t.Fatalf("go list -deps %s (GOOS=%s): %v", pkg, os, err)
		}
		deps := strings.Fields(string(out))
		seen := map[string]bool{}
		for _, d := range deps {
			for _, f := range forbidden {
				if d != f && !strings.HasPrefix(d, f+"/") {
					continue
				}
				seen[f] = true
				if contains(pending, f) {
					continue
				}
				t.Errorf("%s links %s (GOOS=%s); `go list -deps` shows the path, and `go mod why -m` or `go list -f '{{.Imports}}'` the importer", pkg, d, os)
			}
		}
		for _, p := range pending {
			if !seen[p] {
				t.Errorf("%s no longer links %s (GOOS=%s): remove it from the pending list", pkg, p, os)
			} else {
				t.Logf("%s still links %s (GOOS=%s), pending", pkg, p, os)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
