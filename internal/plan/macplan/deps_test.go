package macplan_test

import (
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/deptest"
)

// The pure layers must not link the proxy server, HTTP, TLS, the shell
// parser or the CLI: the sandbox's init, which every sandboxed command
// re-executes, links what they link, and every package initialiser of it
// runs there before the init can act.
func TestLinksNoServer(t *testing.T) {
	deptest.Fence(t, ".", []string{"linux", "darwin"}, deptest.Heavy, nil)
}
