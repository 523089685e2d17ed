//go:build unix

package netproxy

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTrustBundle(t *testing.T) {
	ca, _ := NewCA()
	other := newTestCA(t)
	dir := t.TempDir()
	// A company CA file that also holds a key by mistake: only the
	// certificate may reach the sandbox.
	extra := filepath.Join(dir, "corp.pem")
	keyBlock := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not really a key")})
	os.WriteFile(extra, append(keyBlock, other.certPEM...), 0o600)

	b, err := TrustBundle(ca, Config{ExtraCA: extra})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY")) {
		t.Error("the bundle holds a private key")
	}
	if !bytes.Contains(b, ca.CertPEM()) || !bytes.Contains(b, other.certPEM) {
		t.Error("the bundle lacks cordon's CA or the extra CA")
	}
	if sys, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt"); err == nil && len(b) < len(sys)/2 {
		t.Errorf("the bundle (%d bytes) lacks the system's roots (%d bytes)", len(b), len(sys))
	}

	for _, bad := range []string{filepath.Join(dir, "missing.pem"), keyOnly(t, dir, keyBlock)} {
		if _, err := TrustBundle(ca, Config{ExtraCA: bad}); err == nil || !strings.Contains(err.Error(), "network.extra_ca") {
			t.Errorf("extra_ca %s: %v", bad, err)
		}
	}

	out := filepath.Join(dir, "bundles")
	p1, err := WriteTrustBundle(out, b)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p1); fi.Mode().Perm() != 0o644 {
		t.Errorf("bundle mode %v", fi.Mode().Perm())
	}
	if p2, _ := WriteTrustBundle(out, b); p2 != p1 {
		t.Errorf("the same bundle got two names: %s, %s", p1, p2)
	}
	if p3, _ := WriteTrustBundle(out, append(b, '\n')); p3 == p1 {
		t.Error("another bundle got the same name, which a running sandbox may be reading")
	}
	env := TrustEnv(p1)
	for _, k := range TrustVars {
		if env[k] != p1 {
			t.Errorf("%s = %q", k, env[k])
		}
	}
}

func keyOnly(t *testing.T, dir string, key []byte) string {
	p := filepath.Join(dir, "key-only.pem")
	os.WriteFile(p, key, 0o600)
	return p
}
