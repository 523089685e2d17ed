//go:build !unix

package netproxy

import (
	"errors"
	"runtime"
)

// readKeyFile is not supported here: on Windows a file's ACL, not its mode
// bits, says who can read it, and cordon does not check ACLs yet. A CA key
// others might have read would let them impersonate every intercepted host
// to the sandbox.
func readKeyFile(string) ([]byte, error) {
	return nil, errors.New("cordon's CA is not supported on " + runtime.GOOS + " yet (cordon cannot check who else may read the key file)")
}
