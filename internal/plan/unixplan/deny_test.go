package unixplan

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cordon-sandbox/cordon/policy"
)

func items(vs ...string) []policy.Item {
	out := make([]policy.Item, len(vs))
	for i, v := range vs {
		out[i] = policy.Item{Value: v, From: policy.Source{Layer: policy.LayerUser, File: "u.toml"}}
	}
	return out
}

// project is a home with a workspace holding secrets at several depths.
func project() *fakeFS {
	f := newFS()
	f.file("/h/.ssh/id", "k").file("/h/.aws/credentials", "k")
	f.file("/w/.env", "s").file("/w/.env.example", "").file("/w/a/b/c/.env.local", "s")
	f.file("/w/d1/d2/d3/d4/.env", "s") // depth 5: not searched
	f.file("/w/node_modules/p/.env", "s").file("/w/.git/.env", "s")
	f.file("/w/config/secrets.yml", "s").file("/w/x/config/secrets.yml", "s")
	f.file("/w/k.pem", "s").dir("/w/pem.d").file("/w/pem.d/inner.pem", "s")
	f.file("/c/.env", "s") // cordon's cache
	return f
}

func TestDeniedSearchesTheWorkspace(t *testing.T) {
	h := Host{FS: project()}
	got, err := h.Denied(DenyInput{
		DenyRead:  items("/h/.ssh", "/h/.aws", ".env", ".env.*", "config/secrets.yml", "*.pem", "pem.d"),
		AllowRead: items(".env.example"),
		Search:    []string{"/w", "/c"}, Cache: "/c", Roots: []string{"/w", "/c"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/h/.aws", "/h/.ssh", "/w/.env", "/w/a/b/c/.env.local", "/w/config/secrets.yml", "/w/k.pem", "/w/pem.d"}
	if !slices.Equal(got, want) {
		t.Errorf("denied =\n%v\nwant\n%v\n(depth %d is the bound; node_modules, .git and the cache are not searched; pem.d holds inner.pem)", got, want, MaxPatternDepth)
	}
}

func TestDeniedAbsentPathsOnlyWhereTheSystemDeniesByName(t *testing.T) {
	f := newFS().dir("/w").dir("/state")
	in := DenyInput{DenyRead: items("/h/.kube"), Private: []string{"/state", "/gone"}, Roots: []string{"/w"}}
	got, err := Host{FS: linuxLike(f)}.Denied(in)
	if err != nil || !slices.Equal(got, []string{"/state"}) {
		t.Errorf("masks need an existing file: denied = %v, %v; want [/state]", got, err)
	}
	got, err = Host{FS: f, DenyAbsent: true}.Denied(in)
	if err != nil || !slices.Equal(got, []string{"/gone", "/h/.kube", "/state"}) {
		t.Errorf("by name: denied = %v, %v; want the absent ones too", got, err)
	}
}

func TestAllowReadExceptsByNameAndByTarget(t *testing.T) {
	f := newFS().dir("/w").file("/h/real/key", "k").link("/h/alias", "/h/real").file("/h/keep", "k").file("/h/other", "k")
	got, err := Host{FS: f}.Denied(DenyInput{
		DenyRead:  items("/h/alias", "/h/keep", "/h/other"),
		AllowRead: items("/h/real", "/h/kee?"),
		Private:   []string{"/h/real/key"}, // allow_read does not reach cordon's own
		Roots:     []string{"/w"},
	})
	if err != nil || !slices.Equal(got, []string{"/h/other", "/h/real/key"}) {
		t.Errorf("denied = %v, %v; want the entry whose target is allowed and the allowed one left out, the private path kept", got, err)
	}
}

func TestDeniedGlobs(t *testing.T) {
	f := newFS().dir("/w").file("/etc/ssh/ssh_host_rsa_key", "").file("/etc/ssh/ssh_host_rsa_key.pub", "")
	got, err := Host{FS: f}.Denied(DenyInput{DenyRead: items("/etc/ssh/ssh_host_*_key"), Roots: []string{"/w"}})
	if err != nil || !slices.Equal(got, []string{"/etc/ssh/ssh_host_rsa_key"}) {
		t.Errorf("denied = %v, %v", got, err)
	}
	_, err = Host{FS: f}.Denied(DenyInput{DenyRead: items("/etc/[x"), Roots: []string{"/w"}})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), `"/etc/[x" (from user (u.toml))`) {
		t.Errorf("a malformed glob: err = %v, want an input error naming the entry and its file", err)
	}
}

func TestLinksNamedLikeSecrets(t *testing.T) {
	f := newFS().file("/h/real.env", "s").file("/h/fine.env", "").dir("/w")
	f.link("/w/.env", "/h/real.env").link("/w/a/.env", "/h/nowhere").link("/w/b/.env", "/h/fine.env")
	in := DenyInput{DenyRead: items(".env"), AllowRead: items("/h/fine.env"), Search: []string{"/w"}, Roots: []string{"/w"}}
	got, err := Host{FS: f, DenyLinkTargets: true}.Denied(in)
	if err != nil || !slices.Equal(got, []string{"/h/real.env"}) {
		t.Errorf("by target: denied = %v, %v; want only the existing, not allowed target", got, err)
	}
	got, err = Host{FS: f}.Denied(in)
	if err != nil || !slices.Equal(got, []string{"/w/.env", "/w/a/.env", "/w/b/.env"}) {
		t.Errorf("by name: denied = %v, %v; want the links' own paths", got, err)
	}
	// macOS: both, and a target that does not exist yet too.
	got, err = Host{FS: f, DenyLinkTargets: true, DenyLinkPaths: true, DenyAbsent: true}.Denied(in)
	if want := []string{"/h/nowhere", "/h/real.env", "/w/.env", "/w/a/.env", "/w/b/.env"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("by both: denied = %v, %v; want %v", got, err, want)
	}
}

func TestDeniedPathHoldingARootIsRefused(t *testing.T) {
	f := newFS().dir("/h/src/w")
	_, err := Host{FS: f}.Denied(DenyInput{Private: []string{"/h/src"}, Roots: []string{"/h/src/w"}})
	var ie *InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "holds the writable root /h/src/w") || ie.Hint() == "" {
		t.Errorf("err = %v, want a refusal with a hint", err)
	}
	// Searching is not holding: the read-only workspace of macOS is
	// searched but no root.
	if _, err := (Host{FS: f}).Denied(DenyInput{Private: []string{"/h/src"}, Search: []string{"/h/src/w"}}); err != nil {
		t.Errorf("a searched directory that is no root: %v", err)
	}
}

func TestDeniedVisitsEveryEntryInOrder(t *testing.T) {
	f := newFS().file("/w/b", "").file("/w/a/x", "").file("/w/node_modules/m", "").file("/w/1/2/3/4/5", "")
	var seen []string
	_, err := Host{FS: f}.Denied(DenyInput{Search: []string{"/w"}, Visit: func(full string, _ Info) { seen = append(seen, full) }})
	want := []string{"/w/1", "/w/1/2", "/w/1/2/3", "/w/1/2/3/4", "/w/a", "/w/a/x", "/w/b", "/w/node_modules"}
	if err != nil || !slices.Equal(seen, want) {
		t.Errorf("visited %v, %v; want %v", seen, err, want)
	}
}

func TestDeniedFoldsCase(t *testing.T) {
	f := newFS().file("/w/app/.ENV", "s").file("/w/Keep/.Env", "")
	in := DenyInput{DenyRead: items(".env"), AllowRead: items("keep/.env"), Search: []string{"/w"}}
	got, _ := Host{FS: f, Fold: true}.Denied(in)
	if !slices.Equal(got, []string{"/w/app/.ENV"}) {
		t.Errorf("folding: denied = %v", got)
	}
	if got, _ := (Host{FS: f}).Denied(in); len(got) != 0 {
		t.Errorf("bytes: denied = %v, want none", got)
	}
}
