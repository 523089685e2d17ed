package otlp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/jsonl"
)

// received is one log record as the collector's own OTLP decoder saw it.
type received struct {
	eventName string
	severity  string
	body      string
	attrs     map[string]any
	resource  map[string]any
	header    http.Header
}

// reply is what the receiver answers to one request instead of success.
type reply struct {
	status int
	header map[string]string
	body   string
	// keep: decode and keep the request's records (a 200 with a
	// partial-success body).
	keep bool
}

// receiver is an OTLP/HTTP logs endpoint that decodes each request twice:
// with the collector's pdata decoder (plogotlp), as a real collector's otlp
// receiver does, and with protojson into the OTLP protobuf messages, which
// refuses unknown fields and wrongly typed values. A request that either
// refuses fails the test.
type receiver struct {
	t    *testing.T
	srv  *httptest.Server
	fail atomic.Bool // answer 503 while set
	// answer, when set, chooses the reply to the n-th request (from 0);
	// nil means success.
	answer func(n int) *reply
	// block, when set, holds every request until it is closed or the
	// client gives up: a collector that does not answer.
	block chan struct{}

	mu       sync.Mutex
	requests []time.Time // arrival of each request
	recs     []received
	logs     []plog.Logs // the decoded requests that were kept
	arrived  chan struct{}
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, arrived: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/v1/logs" }

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if req.URL.Path != "/v1/logs" || req.Method != http.MethodPost {
		http.Error(w, "not the logs endpoint", http.StatusNotFound)
		return
	}
	r.mu.Lock()
	n := len(r.requests)
	r.requests = append(r.requests, time.Now())
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	if r.block != nil {
		select {
		case <-r.block:
		case <-req.Context().Done():
		}
		return
	}
	if r.fail.Load() {
		http.Error(w, "collector overloaded", http.StatusServiceUnavailable)
		return
	}
	var rep *reply
	if r.answer != nil {
		rep = r.answer(n)
	}
	if rep != nil && !rep.keep {
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" {
		http.Error(w, "content type "+ct, http.StatusUnsupportedMediaType)
		return
	}
	// LogsData has the one field of ExportLogsServiceRequest
	// (resource_logs = 1), so the two share their JSON form.
	if err := protojson.Unmarshal(data, &logspb.LogsData{}); err != nil {
		r.t.Errorf("protojson refuses the request: %v\n%s", err, data)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	er := plogotlp.NewExportRequest()
	if err := er.UnmarshalJSON(data); err != nil {
		r.t.Errorf("pdata refuses the request: %v\n%s", err, data)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.collect(er.Logs(), req.Header)
	w.Header().Set("Content-Type", "application/json")
	if rep != nil {
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
		return
	}
	resp, _ := plogotlp.NewExportResponse().MarshalJSON()
	w.Write(resp)
}

func (r *receiver) collect(logs plog.Logs, h http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, logs)
	for i := range logs.ResourceLogs().Len() {
		rl := logs.ResourceLogs().At(i)
		res := rl.Resource().Attributes().AsRaw()
		for j := range rl.ScopeLogs().Len() {
			lrs := rl.ScopeLogs().At(j).LogRecords()
			for k := range lrs.Len() {
				lr := lrs.At(k)
				r.recs = append(r.recs, received{
					eventName: lr.EventName(),
					severity:  lr.SeverityText(),
					body:      lr.Body().AsString(),
					attrs:     lr.Attributes().AsRaw(),
					resource:  res,
					header:    h.Clone(),
				})
			}
		}
	}
}

func (r *receiver) records() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.recs...)
}

func (r *receiver) decoded() []plog.Logs {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]plog.Logs(nil), r.logs...)
}

func (r *receiver) requestTimes() []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.requests...)
}

func cfg(endpoint string) audit.OTLPConfig {
	return audit.OTLPConfig{Enabled: true, Endpoint: endpoint, TimeoutSeconds: 5}
}

func event(i int) *audit.Event {
	return &audit.Event{Schema: 1, Time: time.Now(), Session: "s", Run: "r", Kind: audit.KindCommandRequested,
		Payload: audit.CommandRequested{Argv: []string{"echo", string(rune('a' + i%26))}}}
}

// Events go through a Logger with the file sink first, as cordon run does,
// and arrive at the receiver with their kind as event name, their fields as
// attributes, and the file chain's seq and hash.
func TestExportReceivedAndDecoded(t *testing.T) {
	rcv := newReceiver(t)
	c := cfg(rcv.srv.URL) // no path: /v1/logs is added
	c.Headers = map[string]string{"X-Cordon-Tenant": "team-a"}
	sink, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if sink.Endpoint() != rcv.srv.URL+"/v1/logs" {
		t.Fatalf("endpoint %s", sink.Endpoint())
	}
	logPath := filepath.Join(t.TempDir(), "audit.jsonl")
	file, err := jsonl.Open(logPath, jsonl.Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	l := audit.New(audit.IDs{Session: "sess-1", Run: "run-1"}, &warn,
		audit.Output{Sink: file}, audit.Output{Sink: sink, Required: true})
	l.Emit(audit.PolicyLoaded{Mode: "workspace-write", Workspace: "/w", Layers: []audit.PolicyLayer{{Source: "user", Path: "/p.toml", SHA256: strings.Repeat("ab", 32)}}})
	l.Emit(audit.Decision{Decision: "deny", Subject: "command", Target: "git push --force", Rule: "r1"})
	l.Emit(audit.ProcessExit{PID: 42, ExitCode: 137, Signal: "SIGKILL", Duration: audit.Duration(1500 * time.Microsecond), PeakMemoryBytes: 1 << 20})
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if warn.Len() > 0 {
		t.Fatalf("warnings: %s", warn.String())
	}

	recs := rcv.records()
	var names []string
	for _, r := range recs {
		names = append(names, r.eventName)
	}
	if strings.Join(names, ",") != "policy_loaded,decision,process_exit" {
		t.Fatalf("event names %v", names)
	}
	fileLines, _ := os.ReadFile(logPath)
	lines := strings.Split(strings.TrimSpace(string(fileLines)), "\n")
	for i, r := range recs {
		ev, err := audit.ParseEvent([]byte(lines[i]))
		if err != nil {
			t.Fatal(err)
		}
		if r.attrs["cordon.seq"] != int64(i+1) || r.attrs["cordon.hash"] != ev.Hash || r.attrs["cordon.prev"] != ev.Prev {
			t.Errorf("%s: chain attributes %v %v, file has seq %d hash %s", r.eventName, r.attrs["cordon.seq"], r.attrs["cordon.hash"], ev.Seq, ev.Hash)
		}
		if r.attrs["cordon.session"] != "sess-1" || r.attrs["cordon.run"] != "run-1" || r.attrs["cordon.kind"] != r.eventName || r.attrs["cordon.v"] != int64(1) {
			t.Errorf("%s: common attributes %v", r.eventName, r.attrs)
		}
		if r.header.Get("X-Cordon-Tenant") != "team-a" {
			t.Errorf("header not sent: %v", r.header)
		}
		if r.resource["service.name"] != "cordon" {
			t.Errorf("resource %v", r.resource)
		}
	}
	layers, _ := recs[0].attrs["cordon.layers"].([]any)
	if len(layers) != 1 || layers[0].(map[string]any)["path"] != "/p.toml" || layers[0].(map[string]any)["source"] != "user" {
		t.Errorf("layers attribute: %#v", recs[0].attrs["cordon.layers"])
	}
	if recs[1].attrs["cordon.decision"] != "deny" || recs[1].attrs["cordon.target"] != "git push --force" || recs[1].severity != "WARN" {
		t.Errorf("decision record: %s %v", recs[1].severity, recs[1].attrs)
	}
	if !strings.Contains(recs[1].body, "deny command git push --force") {
		t.Errorf("body %q", recs[1].body)
	}
	if recs[2].attrs["cordon.exit_code"] != int64(137) || recs[2].attrs["cordon.signal"] != "SIGKILL" ||
		recs[2].attrs["cordon.duration_ms"] != 1.5 || recs[2].attrs["cordon.timed_out"] != false || recs[2].severity != "INFO" {
		t.Errorf("process_exit record: %v", recs[2].attrs)
	}
}

func TestEndpointAndHeadersFromEnvironment(t *testing.T) {
	rcv := newReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.srv.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20s3cret")
	sink, err := New(cfg(""))
	if err != nil {
		t.Fatal(err)
	}
	ev := &audit.Event{Schema: 1, Time: time.Now(), Session: "s", Run: "r", Kind: audit.KindRunEnd, Payload: audit.RunEnd{Outcome: "completed"}}
	if err := sink.Write(ev); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	recs := rcv.records()
	if len(recs) != 1 || recs[0].eventName != "run_end" || recs[0].header.Get("Authorization") != "Bearer s3cret" {
		t.Fatalf("records %+v", recs)
	}
	if _, ok := recs[0].attrs["cordon.seq"]; ok {
		t.Errorf("an event never written to a file has no chain attributes: %v", recs[0].attrs)
	}

	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	_, err = New(cfg(""))
	var ne *noEndpointError
	if !errors.As(err, &ne) || !strings.Contains(ne.Hint(), "OTEL_EXPORTER_OTLP_ENDPOINT") {
		t.Fatalf("no endpoint anywhere: %v", err)
	}
}

// OTEL_EXPORTER_OTLP_COMPRESSION=gzip compresses the requests, and the
// collector decodes them.
func TestGzip(t *testing.T) {
	rcv := newReceiver(t)
	t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(event(0))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	recs := rcv.records()
	if len(recs) != 1 || recs[0].header.Get("Content-Encoding") != "gzip" || recs[0].attrs["cordon.argv"].([]any)[0] != "echo" {
		t.Fatalf("records %+v", recs)
	}
}

// A required collector that refuses connections makes Healthy fail with a
// message naming the sink, the endpoint and the cause.
func TestRequiredCollectorDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String() + "/v1/logs"
	ln.Close() // nothing listens there now

	sink, err := New(cfg(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	l := audit.New(audit.IDs{Session: "s", Run: "r"}, &warn, audit.Output{Sink: sink, Required: true})
	l.Emit(audit.CommandRequested{Argv: []string{"true"}})
	err = l.Healthy()
	var sde *audit.SinkDownError
	if !errors.As(err, &sde) || sde.Sink != "otlp" {
		t.Fatalf("Healthy with the collector down: %v", err)
	}
	for _, want := range []string{"audit sink otlp is required by the policy but is down", endpoint, "connection refused"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err.Error(), want)
		}
	}
	if !strings.Contains(sde.Hint(), "required = false") {
		t.Errorf("hint %q", sde.Hint())
	}
	if !strings.Contains(warn.String(), "cordon: audit: sink otlp failed") {
		t.Errorf("the failure was not reported on stderr: %q", warn.String())
	}
	if err := l.Close(); err == nil || !strings.Contains(err.Error(), "1 events not recorded") {
		t.Errorf("Close with the event undelivered: %v", err)
	}
}

// A collector that fails for a while: the other sinks are told at once,
// nothing is lost, and when it works again the queued events arrive and the
// recovery is recorded.
func TestCollectorOutageIsReportedAndRecovered(t *testing.T) {
	rcv := newReceiver(t)
	rcv.fail.Store(true)
	sink, err := New(cfg(rcv.srv.URL + "/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := jsonl.Open(filepath.Join(t.TempDir(), "audit.jsonl"), jsonl.Options{MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	l := audit.New(audit.IDs{Session: "s", Run: "r"}, &warn, audit.Output{Sink: file}, audit.Output{Sink: sink, Required: true})
	l.Emit(audit.CommandRequested{Argv: []string{"one"}})
	if err := l.Healthy(); err == nil || !strings.Contains(err.Error(), "collector overloaded") {
		t.Fatalf("Healthy during the outage: %v", err)
	}
	l.Emit(audit.CommandRequested{Argv: []string{"two"}})
	rcv.fail.Store(false)
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy after the outage: %v", err)
	}
	l.Emit(audit.RunEnd{Outcome: "completed"})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rcv.records() {
		names = append(names, r.eventName)
	}
	// sink_failure went to the file only (the collector was the one down);
	// sink_recovered goes everywhere.
	if got := strings.Join(names, ","); got != "command_requested,command_requested,sink_recovered,run_end" {
		t.Fatalf("the collector got %s", got)
	}
	r, err := jsonl.Verify([]string{file.Path()})
	if err != nil || len(r.Findings) != 0 {
		t.Fatalf("verify: %v %v", err, r.Findings)
	}
	data, _ := os.ReadFile(file.Path())
	for _, want := range []string{`"kind":"sink_failure","seq":2`, `"sink":"otlp","required":true,"error":"export to ` + rcv.srv.URL, `"kind":"sink_recovered"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the file lacks %s:\n%s", want, data)
		}
	}
}
