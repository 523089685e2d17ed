//go:build linux

package inject

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestNpmInstallFromPrivateRegistry: npm install inside the sandbox from a
// registry on the host that answers only `Authorization: Bearer TOKEN`,
// with the private-registry example of docs/credentials.md as the policy
// and its .npmrc line (`//HOST/:_authToken=${NPM_TOKEN}`), so that npm
// sends the placeholder and the proxy swaps it. Judged from the host: the
// registry received the real token for the package document and the
// tarball, the package is in the workspace's node_modules as the registry
// served it, the package's install script saw only the placeholder, and
// the token is in no file (npm's cache and lock file included) and
// nothing printed.
func TestNpmInstallFromPrivateRegistry(t *testing.T) {
	need(t, "npm", "node")
	inEveryMode(t, func(t *testing.T, uid int, extra []string) { testNpm(t, newLayout(t, uid, extra)) })
}

func testNpm(t *testing.T, l *layout) {
	secret := "npm_" + randomAlnum(36)
	l.env = []string{"NPM_TOKEN=" + secret}
	ca := newCA(t, "npm test CA")
	reg := &registry{token: secret}
	name, addr := machineName(t)
	srv := startServerAt(t, net.JoinHostPort(addr, "0"), ca.leaf(t, name), reg)
	host := net.JoinHostPort(name, strconv.Itoa(srv.port))
	reg.publish(t, "https://"+host, "corp-pkg", "1.0.0")

	// docs/credentials.md, "Examples", the private npm registry,
	// with the test's host in place of npm.corp.example (a name
	// that resolves to this machine, hence allow_private); the
	// dependency install and the hand-over are both asked about.
	l.write(l.policy, fmt.Sprintf(`version = 1
[network]
mode = "proxy"
allow_private = [%[1]q]
extra_ca = %[2]q

[[credentials]]
name = "npm-corp"
env = "NPM_TOKEN"
from_env = "NPM_TOKEN"
commands = [["npm", "install|ci|publish", "**"]]
[credentials.inject]
hosts = [%[1]q]
`, host, l.writeCA(ca))+l.approver(), 0o644)
	l.setAnswer("allow", "once")
	// The example's .npmrc line; fetch-retries=0 so that a failure
	// fails at once rather than after npm's minute of retries.
	l.write(filepath.Join(l.ws, ".npmrc"), "//"+host+"/:_authToken=${NPM_TOKEN}\nupdate-notifier=false\nfetch-retries=0\n", 0o644)

	l.mustRun("npm", "install", "corp-pkg", "--registry", "https://"+host+"/", "--no-audit", "--no-fund")

	// The registry's side.
	for _, p := range []string{"/corp-pkg", "/corp-pkg/-/corp-pkg-1.0.0.tgz"} {
		got := srv.received(p)
		if len(got) == 0 {
			t.Errorf("npm never asked the registry for %s: %v", p, srv.requests())
		}
		for _, h := range got {
			if h.Get("Authorization") != "Bearer "+secret {
				t.Errorf("%s reached the registry with Authorization %q, not the token", p, h.Get("Authorization"))
			}
		}
	}
	if n := reg.refused(); n != 0 {
		t.Errorf("the registry refused %d requests without the token: %v", n, srv.requests())
	}

	// The workspace's side: the package as served, and what npm
	// held (its install script ran with npm's environment).
	pkg, err := os.ReadFile(filepath.Join(l.ws, "node_modules", "corp-pkg", "index.js"))
	if err != nil || string(pkg) != reg.index {
		t.Errorf("node_modules/corp-pkg/index.js: %q, %v; want what the registry served", pkg, err)
	}
	saw, err := os.ReadFile(filepath.Join(l.ws, "npm-saw.txt"))
	ph := string(saw)
	switch {
	case err != nil:
		t.Errorf("the package's install script left no record: %v", err)
	case ph == secret || len(ph) != len(secret) || !strings.HasPrefix(ph, "npm_"):
		t.Errorf("npm's NPM_TOKEN was %q; want a placeholder shaped like the token", ph)
	}
	l.checkSecretNowhere(t, secret)

	var askedInstall, askedCredential bool
	for _, q := range l.questions() {
		askedInstall = askedInstall || q.Kind == "command" && strings.HasPrefix(q.Command, "npm install corp-pkg")
		askedCredential = askedCredential || q.Kind == "credential" && strings.Contains(q.Command, `"npm-corp"`)
	}
	if !askedInstall || !askedCredential {
		t.Errorf("the approver was not asked about the install (%v) and the hand-over (%v): %+v", askedInstall, askedCredential, l.questions())
	}
}

// registry is a private npm registry stub: a package document and a
// tarball per package, for requests with `Authorization: Bearer token`.
type registry struct {
	token string
	index string // the packages' index.js
	docs  map[string][]byte
	tgz   map[string][]byte

	nRefused atomic.Int32
}

func (reg *registry) refused() int { return int(reg.nRefused.Load()) }

// publish makes package name at version, its tarball served from base.
func (reg *registry) publish(t *testing.T, base, name, version string) {
	reg.index = "module.exports = 'served by the test registry';\n"
	manifest, _ := json.Marshal(map[string]any{
		"name": name, "version": version, "main": "index.js",
		// Runs inside the sandbox with npm's environment.
		"scripts": map[string]string{"postinstall": `printf %s "$NPM_TOKEN" > "$INIT_CWD/npm-saw.txt"`},
	})
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range []struct{ name, body string }{{"package/package.json", string(manifest)}, {"package/index.js", reg.index}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg, ModTime: time.Unix(499162500, 0)})
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	tgz := buf.Bytes()
	sha1sum := sha1.Sum(tgz)
	sha512sum := sha512.Sum512(tgz)
	tarPath := "/" + name + "/-/" + name + "-" + version + ".tgz"
	var v map[string]any
	json.Unmarshal(manifest, &v)
	v["dist"] = map[string]string{
		"tarball":   base + tarPath,
		"shasum":    hex.EncodeToString(sha1sum[:]),
		"integrity": "sha512-" + base64.StdEncoding.EncodeToString(sha512sum[:]),
	}
	doc, _ := json.Marshal(map[string]any{
		"name": name, "dist-tags": map[string]string{"latest": version},
		"versions": map[string]any{version: v},
	})
	reg.docs = map[string][]byte{"/" + name: doc}
	reg.tgz = map[string][]byte{tarPath: tgz}
}

func (reg *registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+reg.token {
		reg.nRefused.Add(1)
		http.Error(w, `{"error":"authentication required"}`, http.StatusUnauthorized)
		return
	}
	if doc, ok := reg.docs[r.URL.Path]; ok && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
		return
	}
	if tgz, ok := reg.tgz[r.URL.Path]; ok && r.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(tgz)
		return
	}
	http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
}
