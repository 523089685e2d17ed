//go:build !unix

package credentials_test

import (
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/internal/credentials"
)

func TestResolveFileUnsupported(t *testing.T) {
	if _, err := credentials.Resolve(fileScope(`C:\secrets\x`), `C:\Users\u`, nil); err == nil || !strings.Contains(err.Error(), "is not supported on") {
		t.Errorf("error %v", err)
	}
}

// writeFuzzSecret names a file that is never read: Resolve refuses
// from_file here before it looks.
func writeFuzzSecret(*testing.T, string, uint16) string { return `C:\nowhere\secret` }
