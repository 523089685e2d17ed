package state

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Lock is an advisory lock on a file, held until Unlock.
type Lock struct {
	f *os.File
}

// LockExclusive takes an exclusive lock on path (created 0600 if needed),
// waiting until it is free or ctx ends.
func LockExclusive(ctx context.Context, path string) (*Lock, error) {
	return lockPath(ctx, path, true)
}

// LockShared takes a shared lock on path (created 0600 if needed), waiting
// until no exclusive holder is left or ctx ends.
func LockShared(ctx context.Context, path string) (*Lock, error) {
	return lockPath(ctx, path, false)
}

// TryLockExclusive takes an exclusive lock on path if it is free now; ok is
// false when another process holds it.
func TryLockExclusive(path string) (l *Lock, ok bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600)
	if err != nil {
		return nil, false, err
	}
	got, err := tryLock(f, true)
	if err != nil || !got {
		f.Close()
		return nil, false, err
	}
	return &Lock{f: f}, true, nil
}

// IsLocked reports whether another process holds a lock on path. A path
// that does not exist is not locked.
func IsLocked(path string) (bool, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if os.IsNotExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	got, err := tryLock(f, false)
	if err != nil {
		return false, err
	}
	if got {
		unlock(f)
		return false, nil
	}
	return true, nil
}

func lockPath(ctx context.Context, path string, exclusive bool) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|oNoFollow, 0o600)
	if err != nil {
		return nil, err
	}
	wait := 100 * time.Microsecond
	for {
		got, err := tryLock(f, exclusive)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if got {
			return &Lock{f: f}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: another cordon process holds it: %w", path, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(wait*2, 20*time.Millisecond)
	}
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	unlock(l.f)
	l.f.Close()
	l.f = nil
}
