package linuxplan

import (
	"io/fs"
	"os"
	"path/filepath"
)

// absentCache answers, during one plan, "does this path exist?" for names
// in directories the planner asks about again and again (the workspace
// root holds most protected names, the home directory most denied ones):
// once a directory has had missAfter absent names looked up, its names are
// read once, and further absent names in it cost no system call. Existing
// names are still looked up in the filesystem. The plan is a snapshot
// either way: what changes while it is made is the next plan's business.
type absentCache struct {
	FS
	dirs map[string]*dirNames
}

type dirNames struct {
	misses int
	names  map[string]bool // nil until read
}

const missAfter = 3

func newAbsentCache(fsys FS) *absentCache {
	return &absentCache{FS: fsys, dirs: map[string]*dirNames{}}
}

func (c *absentCache) Lstat(p string) (fs.FileInfo, error) {
	dir, name := filepath.Dir(p), filepath.Base(p)
	d := c.dirs[dir]
	if d == nil {
		d = &dirNames{}
		c.dirs[dir] = d
	}
	if d.names != nil && !d.names[name] {
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: fs.ErrNotExist}
	}
	fi, err := c.FS.Lstat(p)
	if err != nil && os.IsNotExist(err) && d.names == nil {
		if d.misses++; d.misses >= missAfter {
			d.names = c.list(dir)
		}
	}
	return fi, err
}

// list reads the names in dir; a directory that cannot be read is looked
// up name by name.
func (c *absentCache) list(dir string) map[string]bool {
	es, err := c.FS.ReadDir(dir)
	if err != nil {
		return nil
	}
	names := make(map[string]bool, len(es))
	for _, e := range es {
		names[e.Name()] = true
	}
	return names
}
