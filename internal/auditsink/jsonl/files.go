package jsonl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// rotatedName is the name the log at path gets when it is rotated after the
// event seq: audit.jsonl -> audit.000000004711.jsonl. Names sort in chain
// order.
func rotatedName(path string, seq uint64) string {
	dir, base := filepath.Split(path)
	ext := filepath.Ext(base)
	return filepath.Join(dir, fmt.Sprintf("%s.%012d%s", strings.TrimSuffix(base, ext), seq, ext))
}

// rotatedFiles returns the rotated files of the log at path, oldest first.
func rotatedFiles(path string) ([]string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext) + "."
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	type rotated struct {
		seq  uint64
		name string
	}
	var found []rotated
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, stem) || !strings.HasSuffix(name, ext) || len(name) <= len(stem)+len(ext) {
			continue
		}
		digits := name[len(stem) : len(name)-len(ext)]
		seq, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || len(digits) < 12 {
			continue
		}
		found = append(found, rotated{seq, filepath.Join(dir, name)})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].seq < found[j].seq })
	names := make([]string, len(found))
	for i, r := range found {
		names[i] = r.name
	}
	return names, nil
}

// Files returns the files that hold the chain of the log at path, in chain
// order: the rotated files, oldest first, then the log itself if it exists.
func Files(path string) ([]string, error) {
	files, err := rotatedFiles(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err == nil {
		files = append(files, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return files, nil
}
