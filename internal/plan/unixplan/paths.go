package unixplan

import (
	"path"
	"sort"
	"strings"
)

// Under reports whether p is dir or below it. Both must be clean.
func Under(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// InAny reports whether p is one of dirs or below one of them.
func InAny(p string, dirs []string) bool { return RootOf(p, dirs) != "" }

// RootOf returns the innermost dir of dirs that holds p, or "".
func RootOf(p string, dirs []string) string {
	best := ""
	for _, d := range dirs {
		if Under(p, d) && len(d) > len(best) {
			best = d
		}
	}
	return best
}

// Within keeps the paths that lie inside one of roots, in their order.
func Within(paths, roots []string) []string {
	var out []string
	for _, p := range paths {
		if InAny(p, roots) {
			out = append(out, p)
		}
	}
	return out
}

// Outermost returns the paths, sorted and without duplicates, less those
// that lie below another of them.
func Outermost(paths []string) []string {
	sorted := append([]string{}, paths...)
	sort.Strings(sorted)
	var out []string
	for _, p := range sorted {
		// Under(p, p) holds, so this drops duplicates too.
		if len(out) > 0 && Under(p, out[len(out)-1]) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// Ancestors returns, sorted, the directories strictly between each path and
// the innermost of roots that holds it; paths outside every root have none.
// They are what must keep their names: renaming one would move the path
// below it to a name no rule covers.
func Ancestors(paths, roots []string) []string {
	set := map[string]bool{}
	for _, p := range paths {
		root := RootOf(p, roots)
		if root == "" {
			continue
		}
		for a := path.Dir(p); a != root && Under(a, root); a = path.Dir(a) {
			set[a] = true
		}
	}
	return Keys(set)
}

// KeepIn keeps the entries of list that are also in set, in list's order.
func KeepIn(list, set []string) []string {
	in := map[string]bool{}
	for _, s := range set {
		in[s] = true
	}
	var out []string
	for _, l := range list {
		if in[l] {
			out = append(out, l)
		}
	}
	return out
}

// SortedByDepth orders paths so that a parent comes before its children
// (fewer components first, then by name).
func SortedByDepth(paths []string) []string {
	out := append([]string{}, paths...)
	sort.Slice(out, func(i, j int) bool {
		di, dj := strings.Count(out[i], "/"), strings.Count(out[j], "/")
		if di != dj {
			return di < dj
		}
		return out[i] < out[j]
	})
	return out
}

// Keys returns the keys of a set, sorted.
func Keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Dedupe drops repeated entries, keeping the first of each in its place.
func Dedupe(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
