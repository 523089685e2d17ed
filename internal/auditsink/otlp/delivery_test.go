package otlp

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/jsonl"
)

// hangGuard bounds waits that only a hang would exceed; it is no measure of
// speed.
const hangGuard = 30 * time.Second

func writeN(t *testing.T, s *Sink, n int) {
	t.Helper()
	for i := range n {
		if err := s.Write(event(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func wantStatus(t *testing.T, s *Sink, pending, lost int, failing bool) {
	t.Helper()
	p, l, err := s.Status()
	if p != pending || l != lost || (err != nil) != failing {
		t.Errorf("Status() = %d pending, %d lost, %v; want %d, %d, failing %v", p, l, err, pending, lost, failing)
	}
}

// 429, 502, 503 and 504 may be retried (OTLP specification): the records
// stay queued, and the next attempt delivers them.
func TestRetryableStatusesKeepTheRecords(t *testing.T) {
	for _, tc := range []struct {
		status      int
		contentType string
		body, want  string
	}{
		{429, "text/plain", "slow down", "429 Too Many Requests: slow down"},
		{502, "text/plain", "", "502 Bad Gateway: (no message)"},
		{503, "application/json", `{"code":14,"message":"try later"}`, "503 Service Unavailable: try later"},
		{504, "text/plain", "upstream\x1b[31m timeout\n", "504 Gateway Timeout: upstream[31m timeout"},
	} {
		t.Run(strconv.Itoa(tc.status), func(t *testing.T) {
			rcv := newReceiver(t)
			rcv.answer = func(n int) *reply {
				if n == 0 {
					return &reply{status: tc.status, header: map[string]string{"Content-Type": tc.contentType}, body: tc.body}
				}
				return nil
			}
			sink, err := New(cfg(rcv.url()))
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			writeN(t, sink, 3)
			err = sink.Flush(t.Context())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Flush: %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\x1b") {
				t.Errorf("the collector's control characters reach the message: %q", err)
			}
			wantStatus(t, sink, 3, 0, true)
			if err := sink.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, sink, 0, 0, false)
			if n := len(rcv.records()); n != 3 {
				t.Errorf("%d records delivered, want 3", n)
			}
		})
	}
}

// Other statuses must not be retried: the records are dropped, counted as
// lost, and the failure says why.
func TestOtherStatusesDropTheRecords(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 413, 500} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rcv := newReceiver(t)
			rcv.answer = func(n int) *reply {
				if n == 0 {
					return &reply{status: status, body: "refused by the test"}
				}
				return nil
			}
			sink, err := New(cfg(rcv.url()))
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			writeN(t, sink, 3)
			err = sink.Flush(t.Context())
			want := fmt.Sprintf("%d %s: refused by the test; the collector refused 3 records", status, http.StatusText(status))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Flush: %v, want %q", err, want)
			}
			wantStatus(t, sink, 0, 3, true)
			writeN(t, sink, 1)
			if err := sink.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, sink, 0, 3, false)
			if n := len(rcv.records()); n != 1 {
				t.Errorf("%d records delivered, want only the one written after the refusal", n)
			}
		})
	}
}

// Through the Logger: records the collector refused make a required sink
// fail, are recorded in the file as lost, and make Close report them.
func TestRefusedRecordsAreReported(t *testing.T) {
	rcv := newReceiver(t)
	rcv.answer = func(int) *reply { return &reply{status: 401, body: "bad token"} }
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	file, err := jsonl.Open(filepath.Join(t.TempDir(), "audit.jsonl"), jsonl.Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	l := audit.New(audit.IDs{Session: "s", Run: "r"}, &warn, audit.Output{Sink: file}, audit.Output{Sink: sink, Required: true})
	l.Emit(audit.CommandRequested{Argv: []string{"true"}})
	if err := l.Healthy(); err == nil || !strings.Contains(err.Error(), "401 Unauthorized: bad token") {
		t.Fatalf("Healthy: %v", err)
	}
	err = l.Close()
	if err == nil || !strings.Contains(err.Error(), "audit sink otlp: 1 events not recorded") {
		t.Fatalf("Close: %v", err)
	}
	data, _ := os.ReadFile(file.Path())
	if !strings.Contains(string(data), `"kind":"sink_failure"`) || !strings.Contains(string(data), `"lost":1`) {
		t.Errorf("the file does not record the loss:\n%s", data)
	}
	if !strings.Contains(warn.String(), "1 events never reached sink otlp") {
		t.Errorf("stderr: %s", warn.String())
	}
}

// A partial success (200 with rejected records) is a failure for the
// rejected records, which are not sent again; a partial success that only
// warns is a success.
func TestPartialSuccess(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		lost       int
		want       string
	}{
		{"rejected as string", `{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"attribute too long"}}`, 2, "the collector rejected 2 of 3 records: attribute too long"},
		{"rejected as number", `{"partialSuccess":{"rejectedLogRecords":2}}`, 2, "the collector rejected 2 of 3 records: no reason given"},
		{"more than sent", `{"partialSuccess":{"rejectedLogRecords":"99"}}`, 3, "rejected 3 of 3"},
		{"warning only", `{"partialSuccess":{"errorMessage":"field deprecated"}}`, 0, ""},
		{"empty", `{}`, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t)
			rcv.answer = func(n int) *reply {
				if n == 0 {
					return &reply{status: 200, body: tc.body, keep: true}
				}
				return nil
			}
			sink, err := New(cfg(rcv.url()))
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			writeN(t, sink, 3)
			err = sink.Flush(t.Context())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Flush: %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Flush: %v, want %q", err, tc.want)
			}
			wantStatus(t, sink, 0, tc.lost, tc.want != "")
			writeN(t, sink, 1)
			if err := sink.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			if n := len(rcv.records()); n != 4 {
				t.Errorf("the collector saw %d records, want 4 (nothing sent twice)", n)
			}
		})
	}
}

// The background export waits as long as Retry-After asks before it tries
// again, and then delivers.
func TestBackgroundExportHonoursRetryAfter(t *testing.T) {
	rcv := newReceiver(t)
	rcv.answer = func(n int) *reply {
		if n == 0 {
			return &reply{status: 503, header: map[string]string{"Retry-After": "3"}, body: "busy"}
		}
		return nil
	}
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	writeN(t, sink, 1) // no Flush: the background export sends it
	deadline := time.Now().Add(hangGuard)
	for len(rcv.records()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the record was never delivered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	times := rcv.requestTimes()
	if len(times) != 2 {
		t.Fatalf("%d requests, want 2", len(times))
	}
	if gap := times[1].Sub(times[0]); gap < 3*time.Second {
		t.Errorf("retried after %s; the collector asked for 3s (the backoff alone is 2s)", gap)
	}
	wantStatus(t, sink, 0, 0, false)
}

func TestNextWait(t *testing.T) {
	for _, tc := range []struct{ last, retryAfter, want time.Duration }{
		{exportEvery, 0, 2 * time.Second},
		{2 * time.Second, 0, 4 * time.Second},
		{16 * time.Second, 0, maxRetryWait},
		{maxRetryWait, 0, maxRetryWait},
		{exportEvery, 10 * time.Second, 10 * time.Second},
		{8 * time.Second, time.Second, 16 * time.Second},
		{exportEvery, time.Hour, maxRetryAfter},
	} {
		if got := nextWait(tc.last, tc.retryAfter); got != tc.want {
			t.Errorf("nextWait(%s, %s) = %s, want %s", tc.last, tc.retryAfter, got, tc.want)
		}
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 7 ":                           7 * time.Second,
		"0":                             0,
		"-3":                            0,
		"99999999999":                   maxRetryAfter,
		"soon":                          0,
		"Thu, 02 Jan 2025 03:04:35 GMT": 30 * time.Second,
		"Thu, 02 Jan 2025 03:00:00 GMT": 0,
	} {
		if got := retryAfter(v, now); got != want {
			t.Errorf("retryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

// A collector that never answers: Healthy and Close each give up after the
// configured timeout with a message that says so, and Close does not wait a
// second time for a collector that has just timed out.
func TestSlowCollectorDoesNotHangTheRun(t *testing.T) {
	rcv := newReceiver(t)
	rcv.block = make(chan struct{})
	t.Cleanup(func() { close(rcv.block) })
	c := cfg(rcv.url())
	c.TimeoutSeconds = 1
	sink, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	l := audit.New(audit.IDs{Session: "s", Run: "r"}, &warn, audit.Output{Sink: sink, Required: true})
	l.Emit(audit.CommandRequested{Argv: []string{"true"}})
	err = within(t, l.Healthy)
	if err == nil || !strings.Contains(err.Error(), "no answer within 1s") {
		t.Fatalf("Healthy: %v", err)
	}
	err = within(t, l.Close)
	if err == nil || !strings.Contains(err.Error(), "1 events not recorded") {
		t.Fatalf("Close: %v", err)
	}
	// Healthy's attempt, and Close's flush; the sink's own Close did not
	// try again.
	if n := len(rcv.requestTimes()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// Close while the background export waits on a collector that does not
// answer: Close stops it, makes its last attempt within the timeout, and
// reports the records as pending.
func TestCloseDuringASlowBackgroundExport(t *testing.T) {
	rcv := newReceiver(t)
	rcv.block = make(chan struct{})
	t.Cleanup(func() { close(rcv.block) })
	c := cfg(rcv.url())
	c.TimeoutSeconds = 1
	sink, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, sink, 1)
	select {
	case <-rcv.arrived: // the background export is in flight
	case <-time.After(hangGuard):
		t.Fatal("no background export")
	}
	err = within(t, sink.Close)
	if err == nil || !strings.Contains(err.Error(), "no answer within 1s") {
		t.Fatalf("Close: %v", err)
	}
	wantStatus(t, sink, 1, 0, true)
}

// within runs f and fails the test if it has not returned within hangGuard.
func within(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangGuard):
		t.Fatalf("still waiting after %s", hangGuard)
		return nil
	}
}

// A redirect is not followed: it would carry the headers, which hold
// credentials, elsewhere. The records stay queued and the message says what
// to do.
func TestRedirectIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	rcv := newReceiver(t)
	rcv.answer = func(int) *reply {
		return &reply{status: 307, header: map[string]string{"Location": other.URL + "/v1/logs"}}
	}
	c := cfg(rcv.url())
	c.Headers = map[string]string{"X-Api-Key": "s3cret"}
	sink, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	writeN(t, sink, 1)
	err = sink.Flush(t.Context())
	if err == nil || !strings.Contains(err.Error(), "redirects to \""+other.URL+"/v1/logs\"; cordon does not follow redirects") {
		t.Fatalf("Flush: %v", err)
	}
	if elsewhere.Load() != 0 {
		t.Error("the request followed the redirect")
	}
	wantStatus(t, sink, 1, 0, true)
}

// Beyond 10000 queued records the oldest are dropped and counted; the rest
// are delivered in requests of at most 512 records.
func TestQueueOverflowIsCounted(t *testing.T) {
	rcv := newReceiver(t)
	rcv.fail.Store(true)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for i := range queueLimit + 5 {
		sink.Write(&audit.Event{Schema: 1, Time: time.Now(), Session: "s", Run: "r", Kind: audit.KindCommandRequested,
			Payload: audit.CommandRequested{Argv: []string{strconv.Itoa(i)}}})
	}
	wantStatus(t, sink, queueLimit, 5, true)
	rcv.fail.Store(false)
	if err := sink.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, sink, 0, 5, false)
	recs := rcv.records()
	if len(recs) != queueLimit || recs[0].attrs["cordon.argv"].([]any)[0] != "5" {
		t.Fatalf("%d records delivered, the first %v", len(recs), recs[0].attrs["cordon.argv"])
	}
	for i, l := range rcv.decoded() {
		if n := l.LogRecordCount(); n > batchLimit {
			t.Errorf("request %d holds %d records", i, n)
		}
	}
}

// Large records are split into requests of at most 4 MiB.
func TestLargeRecordsAreSplit(t *testing.T) {
	rcv := newReceiver(t)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	const size = 100_000
	big := strings.Repeat("x", size)
	for range 60 {
		sink.Write(&audit.Event{Schema: 1, Time: time.Now(), Session: "s", Run: "r", Kind: audit.KindCommandRequested,
			Payload: audit.CommandRequested{Argv: []string{"echo", big}}})
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	logs := rcv.decoded()
	total := 0
	for i, l := range logs {
		total += l.LogRecordCount()
		if l.LogRecordCount()*size > batchBytes {
			t.Errorf("request %d holds %d records of %d bytes", i, l.LogRecordCount(), size)
		}
	}
	if total != 60 || len(logs) < 2 {
		t.Errorf("%d records in %d requests", total, len(logs))
	}
}

func TestWriteAfterCloseIsCountedLost(t *testing.T) {
	rcv := newReceiver(t)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	writeN(t, sink, 1)
	wantStatus(t, sink, 0, 1, false)
	if err := sink.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// Close closes the sink's connections to the collector: cordon mcp opens a
// sink per run, and idle connections would pile up.
func TestCloseReleasesConnections(t *testing.T) {
	rcv := &receiver{t: t, arrived: make(chan struct{}, 100)}
	rcv.srv = httptest.NewUnstartedServer(http.HandlerFunc(rcv.serve))
	var open atomic.Int32
	rcv.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			open.Add(1)
		case http.StateClosed, http.StateHijacked:
			open.Add(-1)
		}
	}
	rcv.srv.Start()
	t.Cleanup(rcv.srv.Close)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	writeN(t, sink, 1)
	if err := sink.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if open.Load() != 1 {
		t.Fatalf("%d connections open after an export, want 1", open.Load())
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(hangGuard)
	for open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still open after Close", open.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
