package linuxplan

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is what the planner reads of the filesystem.
type FS interface {
	Lstat(path string) (fs.FileInfo, error)
	Stat(path string) (fs.FileInfo, error)
	ReadFile(path string) ([]byte, error)
	ReadDir(path string) ([]fs.DirEntry, error)
	EvalSymlinks(path string) (string, error)
	Glob(pattern string) ([]string, error)
}

// OSFS reads the real filesystem.
type OSFS struct{}

func (OSFS) Lstat(p string) (fs.FileInfo, error)     { return os.Lstat(p) }
func (OSFS) Stat(p string) (fs.FileInfo, error)      { return os.Stat(p) }
func (OSFS) ReadFile(p string) ([]byte, error)       { return os.ReadFile(p) }
func (OSFS) ReadDir(p string) ([]fs.DirEntry, error) { return os.ReadDir(p) }
func (OSFS) EvalSymlinks(p string) (string, error)   { return filepath.EvalSymlinks(p) }
func (OSFS) Glob(pattern string) ([]string, error)   { return filepath.Glob(pattern) }

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
