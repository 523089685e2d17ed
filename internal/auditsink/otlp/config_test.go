package otlp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		endpoint string // [audit.otlp] endpoint
		env      map[string]string
		want     string
	}{
		{"policy without a path", "http://c:4318", nil, "http://c:4318/v1/logs"},
		{"policy with /", "http://c:4318/", nil, "http://c:4318/v1/logs"},
		{"policy with a path", "https://c/ingest/logs", nil, "https://c/ingest/logs"},
		{"policy wins", "http://policy:4318", map[string]string{envLogsEndpoint: "http://logs", envEndpoint: "http://generic"}, "http://policy:4318/v1/logs"},
		{"logs variable as it is", "", map[string]string{envLogsEndpoint: "http://l:4318"}, "http://l:4318"},
		{"logs variable wins", "", map[string]string{envLogsEndpoint: "http://l/x", envEndpoint: "http://g"}, "http://l/x"},
		{"generic variable plus /v1/logs", "", map[string]string{envEndpoint: "http://g:4318"}, "http://g:4318/v1/logs"},
		{"generic variable with a base path", "", map[string]string{envEndpoint: "https://g/otlp/"}, "https://g/otlp/v1/logs"},
		{"query kept", "", map[string]string{envEndpoint: "https://g/otlp?tenant=a"}, "https://g/otlp/v1/logs?tenant=a"},
		{"password hidden in messages", "https://u:s3cret@c/v1/logs", nil, "https://u:xxxxx@c/v1/logs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := resolve(audit.OTLPConfig{Endpoint: tc.endpoint, TimeoutSeconds: 1}, envOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if s.endpoint != tc.want {
				t.Errorf("endpoint %s, want %s", s.endpoint, tc.want)
			}
		})
	}
}

func TestResolveHeadersAndCompression(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers map[string]string // [audit.otlp] headers
		env     map[string]string
		want    map[string]string
		gzip    bool
	}{
		{"none", nil, nil, nil, false},
		{"generic variable, decoded and trimmed", nil, map[string]string{envHeaders: " Authorization = Bearer%20tok%3D ,x-tenant=a"},
			map[string]string{"Authorization": "Bearer tok=", "x-tenant": "a"}, false},
		{"logs variable wins", nil, map[string]string{envLogsHeaders: "a=1", envHeaders: "b=2"}, map[string]string{"a": "1"}, false},
		{"policy wins over both", map[string]string{"X-Key": "p"}, map[string]string{envLogsHeaders: "a=1", envHeaders: "b=2"}, map[string]string{"X-Key": "p"}, false},
		{"gzip", nil, map[string]string{envCompression: "gzip"}, nil, true},
		{"logs compression wins", nil, map[string]string{envLogsCompression: "none", envCompression: "gzip"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{envEndpoint: "http://c"}
			for k, v := range tc.env {
				env[k] = v
			}
			s, err := resolve(audit.OTLPConfig{Headers: tc.headers, TimeoutSeconds: 1}, envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			if len(s.headers) != 0 || len(tc.want) != 0 {
				if !reflect.DeepEqual(s.headers, tc.want) {
					t.Errorf("headers %v, want %v", s.headers, tc.want)
				}
			}
			if s.gzip != tc.gzip {
				t.Errorf("gzip %v, want %v", s.gzip, tc.gzip)
			}
		})
	}
}

// A malformed setting fails New, naming the variable and with a hint, and
// never quotes a header value (credentials) or an endpoint (passwords).
func TestResolveRefusesMalformedSettings(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tc := range []struct {
		name     string
		endpoint string
		env      map[string]string
		want     string // in the message
	}{
		{"logs endpoint without a scheme", "", map[string]string{envLogsEndpoint: "localhost:4318"}, envLogsEndpoint},
		{"generic endpoint not http", "", map[string]string{envEndpoint: "ftp://u:s3cret@c"}, envEndpoint},
		{"header without =", "http://c", map[string]string{envHeaders: "a=1,s3cret"}, envHeaders + ": entry 2 has no '='"},
		{"bad header name", "http://c", map[string]string{envLogsHeaders: "bad key=s3cret"}, "invalid header name"},
		{"bad percent-encoding", "http://c", map[string]string{envHeaders: "Authorization=Bearer%zzs3cret"}, "(Authorization) has a value that is not percent-encoded"},
		{"control character in a value", "http://c", map[string]string{envHeaders: "X-Key=s3cret%0Aevil: 1"}, `the value of the OTLP header "X-Key" holds control characters`},
		{"unknown compression", "http://c", map[string]string{envCompression: "br"}, `unknown compression "br"`},
		{"missing CA file", "https://c", map[string]string{envCA: filepath.Join(dir, "nope.pem")}, envCA},
		{"CA file not PEM", "https://c", map[string]string{envLogsCA: notPEM}, "holds no PEM certificate"},
		{"client certificate without key", "https://c", map[string]string{envClientCert: notPEM}, "must be set together"},
		{"unparsable endpoint", "", map[string]string{envEndpoint: "http://u:s3cret@[::1"}, envEndpoint + ": missing ']' in host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := resolve(audit.OTLPConfig{Endpoint: tc.endpoint, TimeoutSeconds: 1}, envOf(tc.env))
			var ce *configError
			if !errors.As(err, &ce) || ce.Hint() == "" {
				t.Fatalf("error %v, want a configError with a hint", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("message %q lacks %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("message %q quotes a secret", err)
			}
		})
	}
	// TLS on http is checked after loading; with real files it is the
	// plain-http error that stops it.
	ca := writeCertPEM(t, dir, "ca.pem", selfSigned(t))
	_, err := resolve(audit.OTLPConfig{Endpoint: "http://c", TimeoutSeconds: 1}, envOf(map[string]string{envCA: ca}))
	if err == nil || !strings.Contains(err.Error(), "is plain http") {
		t.Errorf("TLS settings with an http endpoint: %v", err)
	}
}

// OTEL_EXPORTER_OTLP_CERTIFICATE trusts the collector's CA, and the client
// certificate variables present a certificate the collector requires.
func TestTLSFromEnvironment(t *testing.T) {
	rcv := &receiver{t: t, arrived: make(chan struct{}, 100)}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(rcv.serve))
	clientCert := selfSigned(t)
	pool := x509.NewCertPool()
	pool.AddCert(clientCert.Leaf)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	ca := filepath.Join(dir, "collector-ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	certFile := writeCertPEM(t, dir, "client.pem", clientCert)
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "client-key.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	// Without the client certificate the collector refuses the handshake.
	t.Setenv(envCA, ca)
	sink, err := New(cfg(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(event(0))
	if err := sink.Flush(t.Context()); err == nil {
		t.Fatal("the collector took an export without a client certificate")
	}
	sink.Close()

	t.Setenv(envLogsClientCert, certFile)
	t.Setenv(envLogsClientKey, keyFile)
	sink, err = New(cfg(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(event(0))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.records()); n != 1 {
		t.Fatalf("%d records over mutual TLS, want 1", n)
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cordon test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func writeCertPEM(t *testing.T, dir, name string, c tls.Certificate) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The resource carries service.name = cordon unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES say otherwise (the service name variable wins),
// with the attribute values percent-decoded.
func TestResourceFromEnvironment(t *testing.T) {
	rcv := newReceiver(t)
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod, team = a%20b ,service.name=from-attrs,novalue,=nokey")
	t.Setenv("OTEL_SERVICE_NAME", "")
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(event(0))
	sink.Flush(t.Context())
	t.Setenv("OTEL_SERVICE_NAME", "agent-box")
	sink2, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	sink2.Write(event(1))
	if err := errors.Join(sink.Close(), sink2.Close()); err != nil {
		t.Fatal(err)
	}
	recs := rcv.records()
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0].resource
	if r["service.name"] != "from-attrs" || r["deployment.environment"] != "prod" || r["team"] != "a b" || r["telemetry.sdk.language"] != "go" {
		t.Errorf("resource %v", r)
	}
	if _, ok := r["novalue"]; ok || r[""] != nil {
		t.Errorf("malformed entries kept: %v", r)
	}
	if recs[1].resource["service.name"] != "agent-box" {
		t.Errorf("OTEL_SERVICE_NAME did not win: %v", recs[1].resource)
	}
}
