// Package otlp is the audit trail's OpenTelemetry sink: each event becomes a
// log record sent over OTLP/HTTP with the OpenTelemetry Go SDK, its kind as
// the event name and its fields as cordon.* attributes (docs/audit.md, "The
// OTLP sink"). It is its own package so that only what builds sinks links
// the SDK.
//
// Records are queued in memory and exported by one background goroutine; an
// export that fails leaves the records queued for the next attempt, so a
// collector that is down for a while loses nothing unless the queue
// overflows, and then the loss is counted in Status. Flush exports
// synchronously, which is how Logger.Healthy proves a required collector
// works.
package otlp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/text"
)

// Sink exports events as OpenTelemetry log records.
type Sink struct {
	endpoint string // for messages
	timeout  time.Duration
	queue    *queue
	provider *sdklog.LoggerProvider
	logger   log.Logger
}

var _ audit.Sink = (*Sink)(nil)

// Standard OTLP exporter variables (OpenTelemetry specification).
const (
	envLogsEndpoint = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"
	envEndpoint     = "OTEL_EXPORTER_OTLP_ENDPOINT"
)

// New builds the sink from the policy's [audit.otlp] section, falling back
// to the OTEL_EXPORTER_OTLP_* variables for what it does not set. Nothing
// is sent until the first event.
func New(cfg audit.OTLPConfig) (*Sink, error) {
	endpoint, opts, err := exporterOptions(cfg)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter for %s: %w", endpoint, err)
	}
	// Later options win: the environment (OTEL_SERVICE_NAME,
	// OTEL_RESOURCE_ATTRIBUTES) may rename the service.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "cordon")),
		resource.WithHost(),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && res == nil {
		return nil, fmt.Errorf("OTLP resource: %w", err)
	}
	q := newQueue(exp, endpoint, cfg.Timeout())
	provider := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(q))
	return &Sink{
		endpoint: endpoint,
		timeout:  cfg.Timeout(),
		queue:    q,
		provider: provider,
		logger:   provider.Logger("github.com/cordon-sandbox/cordon/audit"),
	}, nil
}

// exporterOptions resolves the endpoint and headers (policy first, then the
// environment) and returns the endpoint as a URL for messages.
func exporterOptions(cfg audit.OTLPConfig) (string, []otlploghttp.Option, error) {
	opts := []otlploghttp.Option{
		otlploghttp.WithTimeout(cfg.Timeout()),
		// The queue retries failed batches itself, so that Flush (and thus
		// Healthy) gets an answer in one attempt instead of a minute of
		// backoff.
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}),
	}
	var endpoint string
	switch {
	case cfg.Endpoint != "":
		u, err := url.Parse(cfg.Endpoint)
		if err != nil {
			return "", nil, fmt.Errorf("[audit.otlp] endpoint: %w", err)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/logs"
		}
		endpoint = u.String()
		opts = append(opts, otlploghttp.WithEndpointURL(endpoint))
	case os.Getenv(envLogsEndpoint) != "":
		endpoint = os.Getenv(envLogsEndpoint)
	case os.Getenv(envEndpoint) != "":
		endpoint = strings.TrimSuffix(os.Getenv(envEndpoint), "/") + "/v1/logs"
	default:
		return "", nil, &noEndpointError{}
	}
	if len(cfg.Headers) > 0 {
		opts = append(opts, otlploghttp.WithHeaders(cfg.Headers))
	}
	return endpoint, opts, nil
}

type noEndpointError struct{}

func (*noEndpointError) Error() string {
	return "the OTLP sink is enabled but has no endpoint"
}

func (*noEndpointError) Hint() string {
	return "set [audit.otlp] endpoint in the policy, or OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) in the environment"
}

// Name implements audit.Sink.
func (s *Sink) Name() string { return "otlp" }

// Endpoint returns the logs URL events are sent to.
func (s *Sink) Endpoint() string { return s.endpoint }

// Write queues ev as a log record; it does not wait for the network.
func (s *Sink) Write(ev *audit.Event) error {
	var r log.Record
	r.SetEventName(string(ev.Kind))
	r.SetTimestamp(ev.Time)
	r.SetObservedTimestamp(ev.Time)
	sev, sevText := severity(ev.Payload)
	r.SetSeverity(sev)
	r.SetSeverityText(sevText)
	r.SetBody(attribute.StringValue(text.Line(ev, text.Style{})))
	r.AddAttributes(Attributes(ev)...)
	s.logger.Emit(context.Background(), r)
	return nil
}

func severity(p audit.Payload) (log.Severity, string) {
	warn := false
	switch e := p.(type) {
	case audit.SinkFailure:
		return log.SeverityError, "ERROR"
	case audit.Decision:
		warn = e.Decision == audit.Deny
	case audit.Approval:
		warn = e.Decision == audit.Deny
	case audit.NetworkConnection:
		warn = e.Decision == audit.Deny
	case audit.AccessDenied, audit.Recovery:
		warn = true
	}
	if warn {
		return log.SeverityWarn, "WARN"
	}
	return log.SeverityInfo, "INFO"
}

// Attributes returns the event's fields as cordon.<field> attributes: the
// common fields (the chain fields only when the file sink assigned them),
// then the payload's.
func Attributes(ev *audit.Event) []attribute.KeyValue {
	kv := []attribute.KeyValue{
		attribute.Int("cordon.v", ev.Schema),
		attribute.String("cordon.time", ev.Time.UTC().Format(audit.TimeFormat)),
		attribute.String("cordon.session", ev.Session),
		attribute.String("cordon.run", ev.Run),
		attribute.String("cordon.kind", string(ev.Kind)),
	}
	if ev.Seq != 0 {
		kv = append(kv,
			attribute.Int64("cordon.seq", int64(ev.Seq)),
			attribute.String("cordon.prev", ev.Prev),
			attribute.String("cordon.hash", ev.Hash))
	}
	return append(kv, structAttrs("cordon.", reflect.ValueOf(ev.Payload))...)
}

var durationType = reflect.TypeFor[audit.Duration]()

// structAttrs converts a payload struct by its JSON field names, so that the
// attributes and the JSON lines share one vocabulary (docs/audit.md).
func structAttrs(prefix string, v reflect.Value) []attribute.KeyValue {
	var kv []attribute.KeyValue
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		kv = append(kv, attribute.KeyValue{Key: attribute.Key(prefix + name), Value: value(v.Field(i))})
	}
	return kv
}

func value(f reflect.Value) attribute.Value {
	if f.Type() == durationType {
		return attribute.Float64Value(float64(f.Int()) / float64(time.Millisecond))
	}
	switch f.Kind() {
	case reflect.String:
		return attribute.StringValue(f.String())
	case reflect.Bool:
		return attribute.BoolValue(f.Bool())
	case reflect.Int, reflect.Int64:
		return attribute.Int64Value(f.Int())
	case reflect.Uint64:
		return attribute.Int64Value(int64(f.Uint()))
	case reflect.Slice:
		vals := make([]attribute.Value, f.Len())
		for i := range f.Len() {
			vals[i] = value(f.Index(i))
		}
		return attribute.SliceValue(vals...)
	case reflect.Struct:
		return attribute.MapValue(structAttrs("", f)...)
	}
	return attribute.StringValue(fmt.Sprint(f.Interface()))
}

// Status implements audit.Sink.
func (s *Sink) Status() (pending, lost int, err error) { return s.queue.status() }

// Flush exports every queued record now, in one attempt per batch.
func (s *Sink) Flush(ctx context.Context) error { return s.queue.ForceFlush(ctx) }

// Close exports what is queued and stops the exporter.
func (s *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout+time.Second)
	defer cancel()
	err := s.provider.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("export to %s did not finish within %s", s.endpoint, s.timeout)
	}
	return err
}
