package cmdrules_test

import (
	"testing"

	"github.com/cordon-sandbox/cordon/internal/testutil/deptest"
)

// The command-rule configuration is read by the policy, the planners and
// the sandbox's init; the shell parser, which only the analyser needs, must
// not come in with it.
func TestLinksNoServer(t *testing.T) {
	deptest.Fence(t, ".", []string{"linux", "windows", "darwin"}, deptest.Heavy, nil)
}
