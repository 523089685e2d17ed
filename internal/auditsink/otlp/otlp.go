// Package otlp is the audit trail's OpenTelemetry sink: each event becomes a
// log record sent to a collector over OTLP/HTTP in the JSON encoding, its
// kind as the event name and its fields as cordon.* attributes (docs/audit.md,
// "The OTLP sink"). It is written on the standard library: the OpenTelemetry
// SDK it replaces cost a quarter of the binary and linked gRPC and protobuf,
// paid at every start of cordon.
//
// Events are encoded when they are written and queued in memory; one
// background goroutine exports them. An export that fails in a way the OTLP
// specification allows to retry (no answer, 429, 502, 503, 504) leaves the
// records queued for the next attempt, with an exponential backoff that
// honours Retry-After, so a collector that is down for a while loses nothing
// unless the queue overflows. Records the collector refuses for good (other
// statuses, or rejected in a partial success) are dropped, as the
// specification requires. Every loss is counted in Status and every failure
// reported there: nothing is dropped silently. Flush exports synchronously,
// in one attempt within the timeout, which is how Logger.Healthy proves a
// required collector works.
package otlp

import (
	"context"
	"os"

	"github.com/cordon-sandbox/cordon/audit"
)

// Sink exports events as OpenTelemetry log records.
type Sink struct {
	endpoint string // for messages
	client   *client
	queue    *queue
}

var _ audit.Sink = (*Sink)(nil)

// New builds the sink from the policy's [audit.otlp] section, falling back
// to the OTEL_EXPORTER_OTLP_* variables for what it does not set. Nothing
// is sent until the first event.
func New(cfg audit.OTLPConfig) (*Sink, error) {
	s, err := resolve(cfg, os.Getenv)
	if err != nil {
		return nil, err
	}
	c := newClient(s, resourceAttributes(os.Getenv))
	return &Sink{endpoint: s.endpoint, client: c, queue: newQueue(c.send, s.endpoint, s.timeout)}, nil
}

// Name implements audit.Sink.
func (s *Sink) Name() string { return "otlp" }

// Endpoint returns the logs URL events are sent to (without a password).
func (s *Sink) Endpoint() string { return s.endpoint }

// Write encodes ev as a log record and queues it; it does not wait for the
// network.
func (s *Sink) Write(ev *audit.Event) error {
	s.queue.add(appendRecord(nil, ev))
	return nil
}

// Status implements audit.Sink.
func (s *Sink) Status() (pending, lost int, err error) { return s.queue.status() }

// Flush exports every queued record now, in one attempt per batch, within
// the timeout.
func (s *Sink) Flush(ctx context.Context) error { return s.queue.flush(ctx) }

// Close stops the background export and makes a last one within the
// timeout, unless the collector has just failed. It closes the sink's
// connections: a long-lived process (cordon mcp) opens a sink per run.
func (s *Sink) Close() error {
	err := s.queue.shutdown()
	s.client.http.CloseIdleConnections()
	return err
}
