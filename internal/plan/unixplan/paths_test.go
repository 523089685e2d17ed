package unixplan

import (
	"slices"
	"testing"
)

func TestUnder(t *testing.T) {
	for _, c := range []struct {
		p, dir string
		want   bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b/c", "/a/b", true},
		{"/a/bc", "/a/b", false}, // a name that starts like dir is not below it
		{"/a", "/a/b", false},
		{"/a", "/", true},
		{"/", "/", true},
	} {
		if got := Under(c.p, c.dir); got != c.want {
			t.Errorf("Under(%q, %q) = %v, want %v", c.p, c.dir, got, c.want)
		}
	}
}

func TestRootOfIsTheInnermost(t *testing.T) {
	roots := []string{"/w", "/w/inner", "/x"}
	for p, want := range map[string]string{"/w/inner/f": "/w/inner", "/w/f": "/w", "/w/innerx": "/w", "/y": "", "/x": "/x"} {
		if got := RootOf(p, roots); got != want {
			t.Errorf("RootOf(%q) = %q, want %q", p, got, want)
		}
		if got := InAny(p, roots); got != (want != "") {
			t.Errorf("InAny(%q) = %v", p, got)
		}
	}
	if got := Within([]string{"/y", "/w/b", "/x", "/w/a"}, roots); !slices.Equal(got, []string{"/w/b", "/x", "/w/a"}) {
		t.Errorf("Within = %v, want the inside ones in their order", got)
	}
}

func TestOutermost(t *testing.T) {
	got := Outermost([]string{"/a/b/c", "/b", "/a/b", "/a/bc", "/b", "/a/b/d"})
	if want := []string{"/a/b", "/a/bc", "/b"}; !slices.Equal(got, want) {
		t.Errorf("Outermost = %v, want %v", got, want)
	}
	if got := Outermost([]string{"/x", "/"}); !slices.Equal(got, []string{"/"}) {
		t.Errorf("Outermost with / = %v", got)
	}
}

func TestAncestorsStopAtTheInnermostRoot(t *testing.T) {
	roots := []string{"/w", "/w/sub/inner"}
	got := Ancestors([]string{"/w/a/b/.env", "/w/sub/inner/x/y", "/outside/q/r", "/w/top"}, roots)
	want := []string{"/w/a", "/w/a/b", "/w/sub/inner/x"}
	if !slices.Equal(got, want) {
		t.Errorf("Ancestors = %v, want %v (no root, nothing outside the roots, nothing above an inner root)", got, want)
	}
}

func TestOrderHelpers(t *testing.T) {
	if got := SortedByDepth([]string{"/a/b/c", "/z", "/a/b", "/a/a/a"}); !slices.Equal(got, []string{"/z", "/a/b", "/a/a/a", "/a/b/c"}) {
		t.Errorf("SortedByDepth = %v", got)
	}
	if got := Dedupe([]string{"/b", "/a", "/b", "/c", "/a"}); !slices.Equal(got, []string{"/b", "/a", "/c"}) {
		t.Errorf("Dedupe = %v", got)
	}
	if got := KeepIn([]string{"/c", "/a", "/b"}, []string{"/b", "/c"}); !slices.Equal(got, []string{"/c", "/b"}) {
		t.Errorf("KeepIn = %v", got)
	}
	if got := Keys(map[string]bool{"/b": true, "/a": false}); !slices.Equal(got, []string{"/a", "/b"}) {
		t.Errorf("Keys = %v", got)
	}
}
