package credscope_test

import (
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/deptest"
)

// The credential scopes are read by the policy, the planners and the
// sandbox's init; the command analyser and its shell parser, which only
// matching a command line needs, must not come in with them.
func TestLinksNoServer(t *testing.T) {
	deptest.Fence(t, ".", []string{"linux", "windows", "darwin"},
		deptest.Heavy, nil)
}
