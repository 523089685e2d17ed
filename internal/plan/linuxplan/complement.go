package linuxplan

import (
	"path/filepath"
	"sort"

	"github.com/cordon-sandbox/cordon/internal/plan/unixplan"
)

// complement returns paths whose subtrees together hold everything on the
// filesystem except the denied paths, for a Landlock read rule that cannot
// express "everything but". Each ancestor of a denied path is left out (only
// its other children are granted), so files created later directly in such
// an ancestor are not readable; that is the price of the weaker mode.
//
// It returns the paths to grant reading and the ancestors to grant listing.
func complement(fsys FS, denied []string) (readable, listable []string) {
	if len(denied) == 0 {
		return []string{"/"}, nil
	}
	ancestors := map[string]bool{}
	deniedSet := map[string]bool{}
	for _, d := range denied {
		deniedSet[d] = true
		for a := filepath.Dir(d); ; a = filepath.Dir(a) {
			ancestors[a] = true
			if a == "/" {
				break
			}
		}
	}
	var grant []string
	var visit func(dir string)
	visit = func(dir string) {
		entries, err := fsys.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			child := filepath.Join(dir, e.Name())
			switch {
			case deniedSet[child]:
			case ancestors[child]:
				visit(child)
			default:
				grant = append(grant, child)
			}
		}
	}
	visit("/")
	sort.Strings(grant)
	return grant, unixplan.Keys(ancestors)
}
