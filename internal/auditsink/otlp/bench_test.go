package otlp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// benchEvents are the events a typical `cordon run` emits, stamped as the
// Logger stamps them and with the chain fields the file sink adds.
func benchEvents() []*audit.Event {
	payloads := []audit.Payload{
		audit.PolicyLoaded{Mode: "workspace-write", Workspace: "/home/dev/src/shop", Layers: []audit.PolicyLayer{{Source: "builtin", SHA256: "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"}, {Source: "user", Path: "/home/dev/.config/cordon/policy.toml", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
		audit.Enforcement{Platform: "linux", Mode: "workspace-write", Layers: []audit.EnforcementLayer{{Name: "landlock", Status: "applied"}, {Name: "seccomp", Status: "applied"}, {Name: "user_namespace", Status: "applied"}}},
		audit.CommandRequested{Argv: []string{"/bin/true"}, Cwd: "/home/dev/src/shop", Source: "cli"},
		audit.Decision{Decision: "allow", Subject: "command", Target: "/bin/true", Decider: "default"},
		audit.ProcessStart{PID: 4242, Argv: []string{"/bin/true"}, Executable: "/bin/true", Cwd: "/home/dev/src/shop"},
		audit.ProcessExit{PID: 4242, Duration: audit.Duration(700 * time.Microsecond)},
		audit.RunEnd{Outcome: "completed", Duration: audit.Duration(5 * time.Millisecond)},
	}
	evs := make([]*audit.Event, len(payloads))
	for i, p := range payloads {
		evs[i] = &audit.Event{
			Schema: audit.SchemaVersion, Time: time.Now().UTC(), Session: "bench-session", Run: "bench-run",
			Kind: p.Kind(), Seq: uint64(i + 1), Prev: audit.ZeroHash, Hash: audit.ZeroHash, Payload: p,
		}
	}
	return evs
}

// benchCollector accepts every export without decoding it, so that the
// benchmarks measure the exporter, not the receiver.
func benchCollector(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	return srv.URL + "/v1/logs"
}

// The cost of one event on the caller's path (Write) plus its share of the
// exports, in batches of 512 as the queue sends them.
func BenchmarkEvent(b *testing.B) {
	sink, err := New(audit.OTLPConfig{Enabled: true, Endpoint: benchCollector(b), TimeoutSeconds: 5})
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	evs := benchEvents()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if err := sink.Write(evs[n%len(evs)]); err != nil {
			b.Fatal(err)
		}
		if n++; n%512 == 0 {
			if err := sink.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := sink.Flush(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// What the OTLP sink adds to one `cordon run`: open it, write the run's
// seven events, flush them before the command (Healthy does), close.
func BenchmarkRun(b *testing.B) {
	endpoint := benchCollector(b)
	evs := benchEvents()
	b.ReportAllocs()
	for b.Loop() {
		sink, err := New(audit.OTLPConfig{Enabled: true, Endpoint: endpoint, TimeoutSeconds: 5})
		if err != nil {
			b.Fatal(err)
		}
		for _, ev := range evs {
			if err := sink.Write(ev); err != nil {
				b.Fatal(err)
			}
		}
		if err := sink.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := sink.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
