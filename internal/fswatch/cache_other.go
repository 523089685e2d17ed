//go:build !linux

package fswatch

import (
	"errors"
	"io/fs"
)

// Cache is not available on this system; see New.
type Cache struct{}

// New reports that the cache needs Linux's inotify.
func New() (*Cache, error) {
	return nil, errors.New("fswatch: the filesystem cache needs inotify (Linux)")
}

func (*Cache) Sync()                                   {}
func (*Cache) Close() error                            { return nil }
func (*Cache) Lstat(p string) (fs.FileInfo, error)     { return nil, errors.ErrUnsupported }
func (*Cache) Stat(p string) (fs.FileInfo, error)      { return nil, errors.ErrUnsupported }
func (*Cache) ReadFile(p string) ([]byte, error)       { return nil, errors.ErrUnsupported }
func (*Cache) ReadDir(p string) ([]fs.DirEntry, error) { return nil, errors.ErrUnsupported }
func (*Cache) EvalSymlinks(p string) (string, error)   { return "", errors.ErrUnsupported }
func (*Cache) Glob(pattern string) ([]string, error)   { return nil, errors.ErrUnsupported }

// Recording is not available on this system; see New.
type Recording struct{}

func (*Cache) Record() *Recording                          { return &Recording{} }
func (*Recording) Unchanged() bool                         { return false }
func (*Recording) Lstat(p string) (fs.FileInfo, error)     { return nil, errors.ErrUnsupported }
func (*Recording) Stat(p string) (fs.FileInfo, error)      { return nil, errors.ErrUnsupported }
func (*Recording) ReadFile(p string) ([]byte, error)       { return nil, errors.ErrUnsupported }
func (*Recording) ReadDir(p string) ([]fs.DirEntry, error) { return nil, errors.ErrUnsupported }
func (*Recording) EvalSymlinks(p string) (string, error)   { return "", errors.ErrUnsupported }
func (*Recording) Glob(pattern string) ([]string, error)   { return nil, errors.ErrUnsupported }
