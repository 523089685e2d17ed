package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// client posts export requests to the collector (OTLP/HTTP, "JSON Protobuf
// Encoding") and sorts the answers as the specification's "Failures"
// section does.
type client struct {
	url        string
	endpoint   string // for messages
	header     http.Header
	gzip       bool
	timeout    time.Duration
	http       *http.Client
	head, tail []byte // the request around the records (envelope)
}

// maxResponse bounds how much of a response is read: a success carries at
// most a partial-success note, a failure a status message.
const maxResponse = 64 << 10

func newClient(s *settings, resource [][2]string) *client {
	h := http.Header{}
	h.Set("User-Agent", "cordon/"+buildVersion())
	for k, v := range s.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	if s.gzip {
		h.Set("Content-Encoding", "gzip")
	}
	head, tail := envelope(resource)
	return &client{
		url:      s.url.String(),
		endpoint: s.endpoint,
		header:   h,
		gzip:     s.gzip,
		timeout:  s.timeout,
		head:     head,
		tail:     tail,
		http: &http.Client{
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSClientConfig:       s.tls,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          2,
				IdleConnTimeout:       90 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ExpectContinueTimeout: time.Second,
			},
			Timeout: s.timeout,
			// A redirect would carry the headers, which hold credentials,
			// to wherever the collector points; the endpoint is configured,
			// so a move is the user's to make.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// sendError is a failed export: why, and what became of its records.
type sendError struct {
	msg string
	// rejected > 0: the collector refused that many records for good, and
	// the specification forbids sending them again. 0: none was taken, and
	// all may be sent again.
	rejected int
	// retryAfter is the wait the collector asked for (Retry-After).
	retryAfter time.Duration
	err        error
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

// send posts one request holding recs. It returns nil when the collector
// took every record, and otherwise a *sendError.
func (c *client) send(ctx context.Context, recs [][]byte) error {
	body := c.body(recs)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return &sendError{msg: err.Error(), err: err}
	}
	req.Header = c.header.Clone()
	resp, err := c.http.Do(req)
	if err != nil {
		// Unreachable, refused, timed out, TLS: the records were not taken.
		msg := err.Error()
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			msg = fmt.Sprintf("no answer within %s (%v)", c.timeout, err)
		}
		return &sendError{msg: msg, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch sc := resp.StatusCode; {
	case sc >= 200 && sc <= 299:
		// The records are taken even if the body cannot be read.
		if err != nil {
			return nil
		}
		return partialSuccess(resp.Header, data, len(recs))
	case sc == http.StatusTooManyRequests, sc == http.StatusBadGateway,
		sc == http.StatusServiceUnavailable, sc == http.StatusGatewayTimeout:
		return &sendError{
			msg:        fmt.Sprintf("%s: %s", resp.Status, statusMessage(resp.Header, data)),
			retryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	case sc >= 300 && sc <= 399:
		return &sendError{msg: fmt.Sprintf("%s: the collector redirects to %q; cordon does not follow redirects, so set the endpoint to that URL",
			resp.Status, sanitize(resp.Header.Get("Location")))}
	default:
		return &sendError{
			msg:      fmt.Sprintf("%s: %s; the collector refused %d records, which are not sent again", resp.Status, statusMessage(resp.Header, data), len(recs)),
			rejected: len(recs),
		}
	}
}

func (c *client) body(recs [][]byte) []byte {
	n := len(c.head) + len(c.tail) + len(recs)
	for _, r := range recs {
		n += len(r)
	}
	b := make([]byte, 0, n)
	b = append(b, c.head...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	b = append(b, c.tail...)
	if !c.gzip {
		return b
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b) // writes to a bytes.Buffer do not fail
	zw.Close()
	return z.Bytes()
}

// partialSuccess reads an ExportLogsServiceResponse. A partial_success with
// rejected records is a failure whose records must not be sent again; one
// with only a message is a warning, and the export a success.
func partialSuccess(h http.Header, data []byte, sent int) error {
	if len(data) == 0 || !isJSON(h) {
		return nil
	}
	var resp struct {
		PartialSuccess *struct {
			RejectedLogRecords json.RawMessage `json:"rejectedLogRecords"`
			ErrorMessage       string          `json:"errorMessage"`
		} `json:"partialSuccess"`
	}
	if json.Unmarshal(data, &resp) != nil || resp.PartialSuccess == nil {
		return nil
	}
	// An int64 is a string in the JSON mapping; parsers accept a number.
	raw := strings.Trim(string(resp.PartialSuccess.RejectedLogRecords), `"`)
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n <= 0 {
		return nil
	}
	n = min(n, int64(sent))
	msg := sanitize(resp.PartialSuccess.ErrorMessage)
	if msg == "" {
		msg = "no reason given"
	}
	return &sendError{
		msg:      fmt.Sprintf("the collector rejected %d of %d records: %s", n, sent, msg),
		rejected: int(n),
	}
}

// statusMessage is the reason a failure's body gives: the message of a
// google.rpc.Status in JSON, else the text.
func statusMessage(h http.Header, data []byte) string {
	if isJSON(h) {
		var st struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &st) == nil && st.Message != "" {
			return sanitize(st.Message)
		}
	}
	if msg := sanitize(string(data)); msg != "" {
		return msg
	}
	return "(no message)"
}

func isJSON(h http.Header) bool {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return mt == "application/json"
}

// sanitize makes collector text fit for one line on a terminal: the
// collector is not trusted to send no control characters.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if !unicode.IsPrint(r) && r != ' ' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "…"
	}
	return s
}

// retryAfter reads a Retry-After value: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

// isStopped reports whether err comes from the sink closing under a
// background export, which is no failure of the collector.
func isStopped(ctx context.Context, err error) bool {
	return ctx.Err() != nil && errors.Is(err, context.Canceled)
}
