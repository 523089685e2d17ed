package netproxy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// systemBundles are the files that hold the system's CA certificates, in
// the order Go's crypto/x509 tries them on Linux (plus macOS's and the
// BSDs'). The first that exists is used.
var systemBundles = []string{
	"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
	"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
	"/etc/ssl/ca-bundle.pem",                            // openSUSE
	"/etc/pki/tls/cacert.pem",                           // OpenELEC
	"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7
	"/etc/ssl/cert.pem",                                 // Alpine, macOS, the BSDs
}

// TrustVars are the variables TrustEnv sets: the ones the common tools read
// their CA bundle from. docs/network.md says which tool reads which, and
// what was tested.
var TrustVars = []string{
	"SSL_CERT_FILE",       // OpenSSL's default (Python's ssl and urllib, Ruby, uv, many C tools) and Go's crypto/x509
	"CURL_CA_BUNDLE",      // the curl tool
	"GIT_SSL_CAINFO",      // git over HTTPS
	"REQUESTS_CA_BUNDLE",  // Python requests (which otherwise uses certifi's own list)
	"PIP_CERT",            // pip (= --cert)
	"NODE_EXTRA_CA_CERTS", // Node.js, npm, pnpm, yarn: added to Node's built-in list
	// npm, pnpm and yarn 1 (= cafile). A cafile or ca in any npmrc (a
	// global npmrc naming the system bundle, say) replaces Node's list,
	// and NODE_EXTRA_CA_CERTS with it; the variable beats every npmrc.
	"npm_config_cafile",
	"CARGO_HTTP_CAINFO", // cargo
	"DENO_CERT",         // Deno
}

// TrustBundle returns the CA bundle a sandboxed command is given when the
// proxy intercepts: the system's CA certificates (so that tunnelled hosts
// still verify), the certificates of the file cfg.ExtraCA names, and the
// certificate of ca. It holds CERTIFICATE blocks only: anything else in
// those files (a key kept beside a certificate) is left out.
func TrustBundle(ca *CA, cfg Config) ([]byte, error) {
	var out bytes.Buffer
	files := slices.Clone(systemBundles)
	if f := os.Getenv("SSL_CERT_FILE"); filepath.IsAbs(f) {
		files = append([]string{f}, files...) // cordon's own choice of roots
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the system's CA certificates in %s: %w", f, err)
		}
		if n := appendCertificates(&out, data); n > 0 {
			break
		}
	}
	if cfg.ExtraCA != "" {
		data, err := os.ReadFile(cfg.ExtraCA)
		if err != nil {
			return nil, keyErrorf(keyExtraCA, "%v", err)
		}
		if appendCertificates(&out, data) == 0 {
			return nil, keyErrorf(keyExtraCA, "%s holds no PEM certificate; name a PEM file of CA certificates", cfg.ExtraCA)
		}
	}
	out.WriteString("# cordon's local CA: the proxy signs the certificates of intercepted hosts with it\n")
	appendCertificates(&out, ca.certPEM)
	return out.Bytes(), nil
}

// appendCertificates copies the CERTIFICATE blocks of data to out and
// returns how many there were.
func appendCertificates(out *bytes.Buffer, data []byte) int {
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return n
		}
		if b.Type == "CERTIFICATE" && len(b.Headers) == 0 {
			pem.Encode(out, b)
			n++
		}
	}
}

// TrustEnv returns the variables that make sandboxed tools trust the bundle
// at path (the path as the sandbox sees it). The caller adds them to the
// command's environment after the policy's filter, replacing the caller's
// own values.
func TrustEnv(path string) map[string]string {
	env := make(map[string]string, len(TrustVars))
	for _, k := range TrustVars {
		env[k] = path
	}
	return env
}

// WriteTrustBundle writes bundle into dir (made mode 0755 if missing) as
// bundle-HASH.pem, named after its content so that concurrent runs never
// change a file another run uses, and returns its path. The file is
// readable by all: it holds certificates only.
func WriteTrustBundle(dir string, bundle []byte) (string, error) {
	sum := sha256.Sum256(bundle)
	path := filepath.Join(dir, "bundle-"+hex.EncodeToString(sum[:12])+".pem")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, bundle) {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cordon's CA bundle: %w", err)
	}
	tmp, err := writeTemp(dir, bundle, 0o644)
	if err != nil {
		return "", fmt.Errorf("cordon's CA bundle: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("cordon's CA bundle: %w", err)
	}
	return path, nil
}

// SandboxTrust writes the bundle for ca and cfg into dir and returns its
// path and the variables that point the sandbox's tools at it. dir must be
// readable inside the sandbox at the same path, and not writable there.
func SandboxTrust(ca *CA, cfg Config, dir string) (env map[string]string, path string, err error) {
	bundle, err := TrustBundle(ca, cfg)
	if err != nil {
		return nil, "", err
	}
	if path, err = WriteTrustBundle(dir, bundle); err != nil {
		return nil, "", err
	}
	return TrustEnv(path), path, nil
}
