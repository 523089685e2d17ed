package otlp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// The standard OTLP exporter variables (OpenTelemetry specification,
// "OTLP Exporter Configuration") that the sink honours. For each setting the
// logs-specific variable wins over the generic one. OTEL_EXPORTER_OTLP_TIMEOUT
// is not read: [audit.otlp] timeout_seconds always sets the timeout.
const (
	envLogsEndpoint    = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	envEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envLogsHeaders     = "OTEL_EXPORTER_OTLP_LOGS_HEADERS"
	envHeaders         = "OTEL_EXPORTER_OTLP_HEADERS"
	envLogsCompression = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION"
	envCompression     = "OTEL_EXPORTER_OTLP_COMPRESSION"
	envLogsCA          = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE"
	envCA              = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	envLogsClientCert  = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE"
	envLogsClientKey   = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY"
	envClientCert      = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
	envClientKey       = "OTEL_EXPORTER_OTLP_CLIENT_KEY"
)

// settings is the exporter's configuration once the policy and the
// environment are resolved.
type settings struct {
	url      *url.URL // where exports are posted
	endpoint string   // url without its password, for messages
	headers  map[string]string
	gzip     bool
	tls      *tls.Config // nil: the system's roots, no client certificate
	timeout  time.Duration
}

// resolve reads cfg, then the environment through getenv for what cfg does
// not set. Unlike the SDK it replaces, it refuses a malformed variable
// instead of skipping it: a sink configured other than the user meant must
// not look like it works.
func resolve(cfg audit.OTLPConfig, getenv func(string) string) (*settings, error) {
	s := &settings{timeout: cfg.Timeout()}
	var err error
	if s.url, err = endpointURL(cfg, getenv); err != nil {
		return nil, err
	}
	s.endpoint = s.url.Redacted()
	if len(cfg.Headers) > 0 {
		s.headers = cfg.Headers
	} else if s.headers, err = envHeaderMap(getenv); err != nil {
		return nil, err
	}
	for k, v := range s.headers {
		if strings.ContainsFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return nil, &configError{
				msg:  fmt.Sprintf("the value of the OTLP header %q holds control characters", k),
				hint: "check the header's value in [audit.otlp] headers or OTEL_EXPORTER_OTLP_*HEADERS",
			}
		}
	}
	if s.gzip, err = compression(getenv); err != nil {
		return nil, err
	}
	if s.tls, err = tlsConfig(getenv); err != nil {
		return nil, err
	}
	if s.tls != nil && s.url.Scheme != "https" {
		return nil, &configError{
			msg:  fmt.Sprintf("the OTLP endpoint %s is plain http, but TLS settings (%s and friends) are set", s.endpoint, envCA),
			hint: "use an https:// endpoint, or unset the OTEL_EXPORTER_OTLP_*CERTIFICATE and *CLIENT_KEY variables",
		}
	}
	return s, nil
}

// endpointURL: the policy's endpoint (with /v1/logs when it has no path),
// else the logs variable as it is, else the generic variable plus /v1/logs.
func endpointURL(cfg audit.OTLPConfig, getenv func(string) string) (*url.URL, error) {
	var (
		raw, source string
		appendPath  bool
	)
	switch {
	case cfg.Endpoint != "":
		raw, source = cfg.Endpoint, "[audit.otlp] endpoint"
	case getenv(envLogsEndpoint) != "":
		raw, source = getenv(envLogsEndpoint), envLogsEndpoint
	case getenv(envEndpoint) != "":
		raw, source, appendPath = getenv(envEndpoint), envEndpoint, true
	default:
		return nil, &noEndpointError{}
	}
	u, err := url.Parse(raw)
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // without the URL
	}
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("not an http:// or https:// URL with a host")
	}
	if err != nil {
		// The URL is not quoted back: it may carry a password.
		return nil, &configError{
			msg:  fmt.Sprintf("%s: %v", source, err),
			hint: "write the collector's URL in full, for example http://localhost:4318",
		}
	}
	switch {
	case appendPath:
		u.Path = path.Join("/", u.Path, "v1/logs")
		u.RawPath = ""
	case source == envLogsEndpoint:
		// The signal-specific variable is used as it is.
	case u.Path == "" || u.Path == "/":
		u.Path = "/v1/logs"
	}
	return u, nil
}

// envHeaderMap parses OTEL_EXPORTER_OTLP_LOGS_HEADERS, else
// OTEL_EXPORTER_OTLP_HEADERS: comma-separated key=value pairs whose values
// are percent-decoded. Errors name the variable and the key, never a value:
// headers carry credentials.
func envHeaderMap(getenv func(string) string) (map[string]string, error) {
	name, list := envLogsHeaders, getenv(envLogsHeaders)
	if list == "" {
		name, list = envHeaders, getenv(envHeaders)
	}
	if list == "" {
		return nil, nil
	}
	bad := func(i int, why string) error {
		return &configError{
			msg:  fmt.Sprintf("%s: entry %d %s", name, i+1, why),
			hint: "write the headers as key=value pairs separated by commas, with the values percent-encoded (Authorization=Bearer%20TOKEN)",
		}
	}
	h := map[string]string{}
	for i, entry := range strings.Split(list, ",") {
		k, v, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, bad(i, "has no '='")
		}
		k = strings.TrimSpace(k)
		if !validHeaderName(k) {
			return nil, bad(i, fmt.Sprintf("has the invalid header name %q", k))
		}
		dec, err := url.PathUnescape(v)
		if err != nil {
			return nil, bad(i, fmt.Sprintf("(%s) has a value that is not percent-encoded correctly", k))
		}
		h[k] = strings.TrimSpace(dec)
	}
	return h, nil
}

// validHeaderName reports whether k is an HTTP token (RFC 9110, 5.6.2).
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func compression(getenv func(string) string) (bool, error) {
	name, v := envLogsCompression, getenv(envLogsCompression)
	if v == "" {
		name, v = envCompression, getenv(envCompression)
	}
	switch v {
	case "", "none":
		return false, nil
	case "gzip":
		return true, nil
	}
	return false, &configError{
		msg:  fmt.Sprintf("%s: unknown compression %q", name, v),
		hint: `the OTLP exporter supports "gzip" and "none"`,
	}
}

// tlsConfig loads the CA bundle and the client certificate named by the
// environment; nil when none is set.
func tlsConfig(getenv func(string) string) (*tls.Config, error) {
	var cfg tls.Config
	set := false
	caVar, ca := envLogsCA, getenv(envLogsCA)
	if ca == "" {
		caVar, ca = envCA, getenv(envCA)
	}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, tlsError(caVar, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, tlsError(caVar, fmt.Errorf("%s holds no PEM certificate", ca))
		}
		set = true
	}
	for _, pair := range [][2]string{{envLogsClientCert, envLogsClientKey}, {envClientCert, envClientKey}} {
		cert, key := getenv(pair[0]), getenv(pair[1])
		if cert == "" && key == "" {
			continue
		}
		if cert == "" || key == "" {
			return nil, &configError{
				msg:  fmt.Sprintf("%s and %s must be set together", pair[0], pair[1]),
				hint: "set both to PEM files (the client certificate and its key), or neither",
			}
		}
		kp, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, tlsError(pair[0], err)
		}
		cfg.Certificates = []tls.Certificate{kp}
		set = true
		break
	}
	if !set {
		return nil, nil
	}
	return &cfg, nil
}

func tlsError(name string, err error) error {
	return &configError{
		msg:  fmt.Sprintf("%s: %v", name, err),
		hint: "point the variable at a readable PEM file, or unset it",
	}
}

// configError is a configuration the sink cannot work with.
type configError struct{ msg, hint string }

func (e *configError) Error() string { return "OTLP sink: " + e.msg }
func (e *configError) Hint() string  { return e.hint }

type noEndpointError struct{}

func (*noEndpointError) Error() string {
	return "the OTLP sink is enabled but has no endpoint"
}

func (*noEndpointError) Hint() string {
	return "set [audit.otlp] endpoint in the policy, or OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) in the environment"
}
