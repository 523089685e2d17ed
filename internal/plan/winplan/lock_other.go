//go:build !linux && !darwin && !windows

package winplan

import (
	"context"
	"errors"
)

// lockPath has no implementation here: without a lock, concurrent cordon
// processes could draw two SIDs for one root, so the state is not opened.
func lockPath(context.Context, string) (func() error, error) {
	return nil, errors.New("locking files is not implemented on this system; cordon's Windows state is kept on Windows (and tested on Linux and macOS)")
}
