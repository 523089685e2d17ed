package unixplan

import (
	"errors"
	"io/fs"
)

// Kind is what a path names.
type Kind int

const (
	KindFile Kind = iota
	KindDir
	KindSymlink
	KindSocket
	KindOther
)

// KindOf returns the Kind of a file mode.
func KindOf(m fs.FileMode) Kind {
	switch {
	case m.IsRegular():
		return KindFile
	case m.IsDir():
		return KindDir
	case m&fs.ModeSymlink != 0:
		return KindSymlink
	case m&fs.ModeSocket != 0:
		return KindSocket
	}
	return KindOther
}

// Info describes one path without following a symbolic link at its end.
type Info struct {
	Kind Kind
	// Nlink is the number of names the file has (0 where the FS does not
	// say).
	Nlink uint64
}

// Entry is one name in a directory, described as by Lstat.
type Entry struct {
	Name string
	Info Info
}

// FS is the file system as the decisions of this package read it: facts,
// never changes. Each planner adapts its own view to it, and the adapter
// decides what a canonical path is on its system (Resolve).
type FS interface {
	// Lstat describes p without following a symbolic link at its end; a
	// missing p gives an error satisfying errors.Is(err, fs.ErrNotExist).
	Lstat(p string) (Info, error)
	// ReadDir lists the entries of dir.
	ReadDir(dir string) ([]Entry, error)
	// ReadFile returns the contents of a file, following links.
	ReadFile(p string) ([]byte, error)
	// Resolve returns p in the form the system's enforcement compares
	// paths with, and whether it exists. A path that does not exist may
	// still come back resolved as far as it exists (macOS) or as given
	// (Linux); an error means it could not be resolved at all.
	Resolve(p string) (real string, exists bool, err error)
	// Glob returns the existing paths an absolute pattern matches; an
	// error means the pattern is malformed.
	Glob(pattern string) ([]string, error)
}

// IsNotExist reports whether err says that a path does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
