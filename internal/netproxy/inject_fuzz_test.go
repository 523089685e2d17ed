package netproxy

import (
	"github.com/cordon-sandbox/cordon/policy/netpolicy"
	"golang.org/x/net/http/httpguts"

	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strings"
	"testing"
)

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

// FuzzReplaceReader: streaming the replacement through any chunking gives
// exactly bytes.ReplaceAll of the whole stream.
func FuzzReplaceReader(f *testing.F) {
	f.Add([]byte("abc SECRET def SECRETSECRET SECR"), "SECRET", 1, 3)
	f.Add([]byte("aaaaaaaaaa"), "aaa", 2, 1)
	f.Add([]byte("xxxxxxxxxxxxxxyxxxxxxxyxxxxxxxxxxxxxxxxxxxxxxxxxxxyxyxy"), "xy", 5, 7)
	f.Fuzz(func(t *testing.T, data []byte, old string, chunk, readSize int) {
		if old == "" || len(old) > 64 || len(data) > 8<<10 || chunk < 1 || readSize < 1 || chunk > 1<<17 || readSize > 1<<17 {
			t.Skip()
		}
		checkReplaceReader(t, data, old, chunk, readSize)
	})
}

// TestReplaceReaderLongStream crosses the reader's internal chunks.
func TestReplaceReaderLongStream(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789SECRET-VALUExx"), 20000)
	for _, c := range [][2]int{{1, 1 << 16}, {1000, 7}, {1 << 17, 1 << 17}, {32<<10 - 3, 32 << 10}} {
		checkReplaceReader(t, data, "SECRET-VALUE", c[0], c[1])
	}
}

func checkReplaceReader(t *testing.T, data []byte, old string, chunk, readSize int) {
	t.Helper()
	{
		nb := []byte(old)
		for i := range nb {
			nb[i]++ // same length, different bytes
		}
		want := bytes.ReplaceAll(data, []byte(old), nb)
		r := newReplaceReader(io.NopCloser(&chunkReader{data: data, n: chunk}), old, string(nb))
		var got bytes.Buffer
		buf := make([]byte, readSize)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("streamed %q, want %q", got.Bytes(), want)
		}
	}
}

// FuzzInjectionCheck: whatever a request carries, the secret goes only into
// the credential's header of a request in its scope, never into plain
// HTTP, and a placeholder anywhere else stops the request.
func FuzzInjectionCheck(f *testing.F) {
	const ph, secret = "PLACEHOLDER-0123", "SECRET-abcdefgh"
	f.Add("Authorization", "Bearer "+ph, "/repos/acme/x", "X-Other", "v", true)
	f.Add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("u:"+ph)), "/repos/acme/x", "X-Other", ph, true)
	f.Add("X-Api", ph, "/repos/acme/../x", "Cookie", "a", false)
	f.Add("Authorization", "token "+ph+ph, "/repos/acme/%2e%2e/x?q="+ph, "X", "y", true)
	f.Fuzz(func(t *testing.T, name, value, rawPath, name2, value2 string, tlsConn bool) {
		if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldName(name2) {
			t.Skip()
		}
		u, err := url.ParseRequestURI(rawPath)
		if err != nil {
			t.Skip()
		}
		injs, err := compileInjections([]Injection{{Name: "c", Hosts: []string{"api.test"}, Paths: []string{"/repos/acme/"},
			Placeholder: ph, Secret: secret}})
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Add(name, value)
		h.Add(name2, value2)
		var tg *target
		if tlsConn {
			tg = &target{Name: "api.test", Port: 443}
		}
		use, refusedBy, _ := injectors(injs).check(h, u, tg)
		inScope := tlsConn && netpolicy.CleanPath(u.EscapedPath()) && strings.HasPrefix(u.EscapedPath(), "/repos/acme/")
		elsewhere := false
		for k, vs := range h {
			if inScope && k == "Authorization" {
				continue
			}
			for _, v := range vs {
				dec, _ := basicCredentials(v)
				elsewhere = elsewhere || strings.Contains(v, ph) || strings.Contains(dec, ph) || strings.Contains(k, ph)
			}
		}
		dec, _ := url.PathUnescape(u.RequestURI())
		elsewhere = elsewhere || strings.Contains(dec, ph) || strings.Contains(u.RequestURI(), ph)
		switch {
		case elsewhere && refusedBy == "":
			t.Fatalf("the placeholder is outside the injected header (%v %q) and the request was not refused", h, u)
		case refusedBy != "" && use != nil:
			t.Fatal("a refused request would get the secret")
		case use != nil && !inScope:
			t.Fatalf("a request outside the scope (tls=%v path %q) would get the secret", tlsConn, u.EscapedPath())
		}
		if use == nil {
			return
		}
		before := h.Clone()
		use.inject(h)
		for k, vs := range h {
			joined := strings.Join(vs, "\n")
			if k != "Authorization" {
				if joined != strings.Join(before[k], "\n") {
					t.Fatalf("inject changed %s", k)
				}
				continue
			}
			if strings.Contains(joined, ph) {
				t.Fatalf("the placeholder survived in %s: %q", k, joined)
			}
		}
		if textproto.CanonicalMIMEHeaderKey(name) != "Authorization" && textproto.CanonicalMIMEHeaderKey(name2) != "Authorization" &&
			h.Get("Authorization") != "Bearer "+secret {
			t.Fatalf("a request without the header got %q", h.Get("Authorization"))
		}
	})
}

// FuzzCleanPath: a path cleanPath accepts resolves, at any server, to a
// path with the same prefix: a prefix check on it holds at the server.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{"/repos/acme/x", "/repos/acme/../x", "/repos/acme/%2e%2e/x", "/repos/acme//x", "/repos/acme/./x", "/repos/acme/x/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		const prefix = "/repos/acme/"
		if !netpolicy.CleanPath(p) || !strings.HasPrefix(p, prefix) {
			return
		}
		dec, err := url.PathUnescape(p)
		if err != nil {
			return // a server refuses it
		}
		if got := path.Clean(dec) + "/"; !strings.HasPrefix(got, prefix) {
			t.Fatalf("%q passes the check but resolves to %q", p, path.Clean(dec))
		}
	})
}
