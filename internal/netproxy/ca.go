package netproxy

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Files of a CA directory. The key file holds the private key and the
// certificate, and only its owner may read it; the certificate file holds
// the certificate alone, for anyone to read.
const (
	CAKeyFile  = "ca-key.pem"
	CACertFile = "ca-cert.pem"
)

const (
	// caValidity is how long a new CA is valid; caRenewBefore is how long
	// before its end LoadOrCreateCA replaces it.
	caValidity    = 365 * 24 * time.Hour
	caRenewBefore = 30 * 24 * time.Hour
	// leafValidity is how long a host certificate is valid; a cached one is
	// replaced when less than leafRenewBefore is left.
	leafValidity    = 24 * time.Hour
	leafRenewBefore = time.Hour
	// clockSkew backdates certificates, for clients whose clock is behind.
	clockSkew = time.Hour
)

// CA is cordon's per-user certificate authority for intercepted hosts. Its
// key stays outside the sandbox (in cordon's state directory, which the
// sandbox cannot read); only its certificate is given to sandboxed tools,
// which then accept the host certificates it signs. It is safe for
// concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
	// dir is where it was loaded from; empty for a CA made in memory.
	dir string

	mu     sync.Mutex
	leaves map[string]*tls.Certificate // by host as targets spell it
}

// Certificate is the CA's certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// CertPEM is the CA's certificate in PEM form: the part that may be shown
// and shared.
func (ca *CA) CertPEM() []byte { return bytes.Clone(ca.certPEM) }

// Fingerprint is the SHA-256 of the certificate, as colon-separated hex.
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.cert.Raw)
	var b strings.Builder
	for i, c := range sum {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02X", c)
	}
	return b.String()
}

// CertPath is the file holding the certificate alone, or "" for a CA made
// in memory.
func (ca *CA) CertPath() string {
	if ca.dir == "" {
		return ""
	}
	return filepath.Join(ca.dir, CACertFile)
}

// NewCA makes a CA in memory, for tests and for callers that keep it
// themselves.
func NewCA() (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate the CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"cordon"},
			CommonName:   "cordon local CA for " + caOwner() + " " + serial.Text(16)[:8],
		},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sign the CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &CA{cert: cert, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}, nil
}

func caOwner() string {
	name := "this user"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		name += "@" + h
	}
	return name
}

func randomSerial() (*big.Int, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("draw a certificate serial number: %w", err)
	}
	return serial.Add(serial, big.NewInt(1)), nil
}

// LoadCA reads the CA kept in dir, whether or not it is still valid. The
// key file must be a regular file owned by this user that nobody else can
// read or write. fs.ErrNotExist (wrapped) means there is none yet.
func LoadCA(dir string) (*CA, error) {
	path := filepath.Join(dir, CAKeyFile)
	data, err := readKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("cordon's CA: %s: %w", path, err)
	}
	ca, err := parseCA(data)
	if err != nil {
		return nil, fmt.Errorf("cordon's CA: %s: %w; replace it with `cordon ca rotate`", path, err)
	}
	ca.dir = dir
	return ca, nil
}

// LoadOrCreateCA returns the CA kept in dir, creating it (and dir, mode
// 0700) on first use. A CA that ended, or ends within 30 days, is replaced. Two
// cordon processes creating it at once end up with the same CA.
func LoadOrCreateCA(dir string) (*CA, error) {
	ca, err := LoadCA(dir)
	switch {
	case err == nil && time.Until(ca.cert.NotAfter) > caRenewBefore:
		return ca, nil
	case err == nil:
		return RotateCA(dir)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	ca, err = NewCA()
	if err != nil {
		return nil, err
	}
	if err := ca.save(dir, false); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadCA(dir) // another process made it first
		}
		return nil, err
	}
	ca.dir = dir
	return ca, nil
}

// RotateCA replaces the CA kept in dir by a new one. Sandboxes already
// running keep the CA they started with; later runs use the new one.
func RotateCA(dir string) (*CA, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	if err := ca.save(dir, true); err != nil {
		return nil, err
	}
	ca.dir = dir
	return ca, nil
}

// save writes the key file (key and certificate, mode 0600) and the
// certificate file. Without replace, an existing key file is an error
// wrapping fs.ErrExist and nothing is changed.
func (ca *CA) save(dir string, replace bool) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cordon's CA: create %s: %w", dir, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return err
	}
	var keyFile bytes.Buffer
	pem.Encode(&keyFile, &pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	keyFile.Write(ca.certPEM)
	final := filepath.Join(dir, CAKeyFile)
	tmp, err := writeTemp(dir, keyFile.Bytes(), 0o600)
	if err != nil {
		return fmt.Errorf("cordon's CA: write the key in %s: %w", dir, err)
	}
	defer os.Remove(tmp)
	if replace {
		err = os.Rename(tmp, final)
	} else {
		// A hard link never replaces: the first process to link wins.
		err = os.Link(tmp, final)
	}
	if err != nil {
		return fmt.Errorf("cordon's CA: %s: %w", final, err)
	}
	certTmp, err := writeTemp(dir, ca.certPEM, 0o644)
	if err != nil {
		return fmt.Errorf("cordon's CA: write the certificate in %s: %w", dir, err)
	}
	if err := os.Rename(certTmp, filepath.Join(dir, CACertFile)); err != nil {
		os.Remove(certTmp)
		return fmt.Errorf("cordon's CA: %w", err)
	}
	return nil
}

// writeTemp writes data to a new file in dir with mode perm, synced, and
// returns its path.
func writeTemp(dir string, data []byte, perm os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", err
	}
	return name, nil
}

func parseCA(data []byte) (*CA, error) {
	ca := &CA{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the key does not parse: %w", err)
			}
			ek, ok := k.(*ecdsa.PrivateKey)
			if !ok {
				return nil, errors.New("the key is not an ECDSA key")
			}
			ca.key = ek
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("the certificate does not parse: %w", err)
			}
			ca.cert, ca.certPEM = c, pem.EncodeToMemory(b)
		}
	}
	switch {
	case ca.key == nil || ca.cert == nil:
		return nil, errors.New("it does not hold both a private key and a certificate")
	case !ca.cert.IsCA:
		return nil, errors.New("the certificate is not a CA certificate")
	case !ca.key.PublicKey.Equal(ca.cert.PublicKey):
		return nil, errors.New("the key does not belong to the certificate")
	}
	return ca, nil
}

// leaf returns a certificate for host (a normalised name or IP address),
// signed by the CA, from the cache while it has more than an hour left.
func (ca *CA) leaf(host string) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c := ca.leaves[host]; c != nil && time.Until(c.Leaf.NotAfter) > leafRenewBefore {
		return c, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(leafValidity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"cordon"}, CommonName: host},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign a certificate for %s: %w", host, err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	c := &tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key, Leaf: parsed}
	if ca.leaves == nil {
		ca.leaves = map[string]*tls.Certificate{}
	}
	ca.leaves[host] = c
	return c, nil
}
