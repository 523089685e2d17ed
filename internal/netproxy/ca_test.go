//go:build unix

package netproxy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCACreatedOnFirstUseAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "ca")
	ca, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("CA directory: %v, mode %v; want 0700", err, fi.Mode().Perm())
	}
	pub, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pub, ca.CertPEM()) || bytes.Contains(pub, []byte("PRIVATE KEY")) {
		t.Errorf("the certificate file is not the certificate alone:\n%s", pub)
	}
	if ca.CertPath() != filepath.Join(dir, CACertFile) {
		t.Errorf("CertPath = %q", ca.CertPath())
	}
	c := ca.Certificate()
	if !c.IsCA || !c.MaxPathLenZero || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("not a CA that may sign only leaves: IsCA %v MaxPathLenZero %v usage %v", c.IsCA, c.MaxPathLenZero, c.KeyUsage)
	}

	again, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint() != ca.Fingerprint() {
		t.Errorf("a second use made another CA: %s, was %s", again.Fingerprint(), ca.Fingerprint())
	}
}

func TestCARotate(t *testing.T) {
	dir := t.TempDir()
	old, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := RotateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Fingerprint() == old.Fingerprint() {
		t.Fatal("rotate kept the CA")
	}
	loaded, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Fingerprint() != rotated.Fingerprint() {
		t.Errorf("after rotate the directory holds %s, want the new %s", loaded.Fingerprint(), rotated.Fingerprint())
	}
	pub, _ := os.ReadFile(filepath.Join(dir, CACertFile))
	if !bytes.Equal(pub, rotated.CertPEM()) {
		t.Error("the certificate file still holds the old certificate")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %d files, want the key and the certificate only", len(entries))
	}
}

func TestCAConcurrentFirstUse(t *testing.T) {
	dir := t.TempDir()
	const n = 8
	prints := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ca, err := LoadOrCreateCA(dir)
			if err != nil {
				t.Error(err)
				return
			}
			prints[i] = ca.Fingerprint()
		}()
	}
	wg.Wait()
	for _, p := range prints[1:] {
		if p != prints[0] {
			t.Fatalf("concurrent first uses made different CAs: %v", prints)
		}
	}
}

func TestCAKeyFileChecks(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreateCA(dir); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, CAKeyFile)

	os.Chmod(key, 0o640)
	if _, err := LoadOrCreateCA(dir); err == nil || !strings.Contains(err.Error(), "ca rotate") {
		t.Errorf("a key readable by the group was used: %v", err)
	}
	os.Chmod(key, 0o600)

	other := t.TempDir()
	if err := os.Symlink(key, filepath.Join(other, CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(other); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a symbolic link to a key was followed: %v", err)
	}

	garbage := t.TempDir()
	os.WriteFile(filepath.Join(garbage, CAKeyFile), []byte("not pem"), 0o600)
	if _, err := LoadOrCreateCA(garbage); err == nil || !strings.Contains(err.Error(), "both a private key and a certificate") {
		t.Errorf("a broken key file was accepted or replaced silently: %v", err)
	}
}

// TestCARenewedBeforeItEnds: a CA with less than 30 days left is replaced on
// use, so that host certificates never outlive it.
func TestCARenewedBeforeItEnds(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "old"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	data := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	os.WriteFile(filepath.Join(dir, CAKeyFile), data, 0o600)
	old, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ca.Fingerprint() == old.Fingerprint() || time.Until(ca.Certificate().NotAfter) < 300*24*time.Hour {
		t.Errorf("a CA ending in two days was kept (until %v)", ca.Certificate().NotAfter)
	}
}

func TestLeafCertificates(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	for _, host := range []string{"api.example.com", "127.0.0.1", "::1"} {
		c, err := ca.leaf(host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots}); err != nil {
			t.Errorf("%s: the leaf does not verify: %v", host, err)
		}
		if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: "other.example.com", Roots: roots}); err == nil {
			t.Errorf("%s: the leaf also verifies for another host", host)
		}
		if life := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore); life > leafValidity+clockSkew {
			t.Errorf("%s: the leaf is valid for %v", host, life)
		}
		if again, _ := ca.leaf(host); again != c {
			t.Errorf("%s: the leaf was not cached", host)
		}
	}
	other, _ := NewCA()
	c, _ := ca.leaf("api.example.com")
	pool := x509.NewCertPool()
	pool.AddCert(other.Certificate())
	if _, err := c.Leaf.Verify(x509.VerifyOptions{DNSName: "api.example.com", Roots: pool}); err == nil {
		t.Error("a leaf verifies against another CA")
	}
}
