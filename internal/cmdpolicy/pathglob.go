package cmdpolicy

// Pathname expansion. An unquoted "src/*.go" becomes the names of existing
// files, and bash's wildcards there never match a '/' and never match a
// '.' at the start of a name (unless the dotglob option is on). So
// "src/*.go" cannot name "src/.env", and "*" does not name ".env": reading
// them is not reading a credential file.

// pathnameGlob returns the pattern of a pathGlob word with the wildcards of
// pathname expansion (globSegOne, globSegAny, and globNotDot at the start
// of each component that begins with a wildcard).
func pathnameGlob(w word) (glob, bool) {
	if !w.pathGlob || w.pattern == nil {
		return nil, false
	}
	out := make(glob, 0, len(w.pattern)+2)
	start := true
	for _, e := range w.pattern {
		switch e.kind {
		case globAny, globOne:
			if start {
				out = append(out, globElem{kind: globNotDot})
			}
			kind := globSegAny
			if e.kind == globOne {
				kind = globSegOne
			}
			out = append(out, globElem{kind: kind})
			start = false
		default:
			out = append(out, e)
			start = e.r == '/'
		}
	}
	return out, true
}

// intersectsPath reports whether some string matches both the rule glob a
// and the pathname glob b (from pathnameGlob). Like intersects, it may say
// yes when the answer is no, never the other way round.
func intersectsPath(a, b glob) bool {
	if (len(a)+1)*(len(b)+1) > maxIntersectCells {
		return true
	}
	memo := make([]int8, (len(a)+1)*(len(b)+1))
	var f func(i, j int) bool
	f = func(i, j int) bool {
		cell := &memo[i*(len(b)+1)+j]
		if *cell != 0 {
			return *cell > 0
		}
		ok := false
		switch {
		case i == len(a) && j == len(b):
			ok = true
		case j < len(b) && b[j].kind == globNotDot:
			// A star in a may still put a '.' here; that only says yes more often.
			ok = !(i < len(a) && a[i].kind == globRune && a[i].r == '.') && f(i, j+1)
		case i < len(a) && a[i].kind == globAny:
			ok = f(i+1, j) || (j < len(b) && f(i, j+1))
		case j < len(b) && b[j].kind == globSegAny:
			ok = f(i, j+1) || (i < len(a) && (a[i].kind == globOne || a[i].kind == globRune && a[i].r != '/') && f(i+1, j))
		case i < len(a) && j < len(b):
			ea, eb := a[i], b[j]
			switch eb.kind {
			case globSegOne:
				ok = (ea.kind == globOne || ea.r != '/') && f(i+1, j+1)
			default:
				ok = (ea.kind == globOne || ea.r == eb.r) && f(i+1, j+1)
			}
		}
		if ok {
			*cell = 1
		} else {
			*cell = -1
		}
		return ok
	}
	return f(0, 0)
}
