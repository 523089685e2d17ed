//go:build !unix

package credentials

import (
	"errors"
	"runtime"
)

// readSecretFile is not supported here: on Windows a file's ACL, not its
// mode bits, says who can read it, and cordon does not check ACLs yet.
// Reading the file anyway could hand over a secret others can change.
func readSecretFile(string) (string, error) {
	return "", errors.New("from_file is not supported on " + runtime.GOOS + " yet (cordon cannot check who else may read or change the file); use from_env")
}
