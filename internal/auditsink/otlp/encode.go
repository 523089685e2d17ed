package otlp

import (
	"fmt"
	"net/url"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/auditsink/text"
)

// The encoding is the OTLP/HTTP JSON form of ExportLogsServiceRequest
// (opentelemetry-proto, "JSON Protobuf Encoding"): the protobuf JSON mapping
// with lowerCamelCase field names, 64-bit integers as decimal strings, enums
// as numbers, and fields at their default value left out. cordon sets no
// bytes fields (a record has no trace or span id), so the spec's hex rule
// for those ids does not arise.

// Severity numbers of the OTLP SeverityNumber enum.
const (
	severityInfo  = 9
	severityWarn  = 13
	severityError = 17
)

// scopeName is the instrumentation scope of every record.
const scopeName = "github.com/cordon-sandbox/cordon/audit"

// schemaURL is the semantic-conventions version of the resource attributes;
// service.name, host.name and telemetry.sdk.* are stable in it.
const schemaURL = "https://opentelemetry.io/schemas/1.43.0"

// appendRecord appends ev as one LogRecord object. The event's kind is the
// event name, its time both timestamps, and its fields the attributes
// (docs/audit.md, "The OTLP sink").
func appendRecord(b []byte, ev *audit.Event) []byte {
	sev, sevText := severity(ev.Payload)
	ts := strconv.AppendUint(nil, timeUnixNano(ev.Time), 10)
	b = append(b, `{"timeUnixNano":"`...)
	b = append(b, ts...)
	b = append(b, `","observedTimeUnixNano":"`...)
	b = append(b, ts...)
	b = append(b, `","severityNumber":`...)
	b = strconv.AppendInt(b, sev, 10)
	b = append(b, `,"severityText":`...)
	b = appendString(b, sevText)
	b = append(b, `,"body":{"stringValue":`...)
	b = appendString(b, text.Line(ev, text.Style{}))
	b = append(b, `},"attributes":[`...)
	b = appendAttributes(b, ev)
	b = append(b, `],"eventName":`...)
	b = appendString(b, string(ev.Kind))
	return append(b, '}')
}

// timeUnixNano is t in nanoseconds since the epoch, 0 (unset) before it.
func timeUnixNano(t time.Time) uint64 {
	if n := t.UnixNano(); n > 0 {
		return uint64(n)
	}
	return 0
}

func severity(p audit.Payload) (int64, string) {
	warn := false
	switch e := p.(type) {
	case audit.SinkFailure:
		return severityError, "ERROR"
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
		return severityWarn, "WARN"
	}
	return severityInfo, "INFO"
}

// appendAttributes appends the event's fields as cordon.<field> KeyValues:
// the common fields (the chain fields only when the file sink assigned
// them), then the payload's.
func appendAttributes(b []byte, ev *audit.Event) []byte {
	b = appendKey(b, "cordon.v", false)
	b = appendInt(b, int64(ev.Schema))
	b = appendKey(b, "cordon.time", true)
	b = appendStringValue(b, ev.Time.UTC().Format(audit.TimeFormat))
	b = appendKey(b, "cordon.session", true)
	b = appendStringValue(b, ev.Session)
	b = appendKey(b, "cordon.run", true)
	b = appendStringValue(b, ev.Run)
	b = appendKey(b, "cordon.kind", true)
	b = appendStringValue(b, string(ev.Kind))
	if ev.Seq != 0 {
		b = appendKey(b, "cordon.seq", true)
		b = appendInt(b, int64(ev.Seq))
		b = appendKey(b, "cordon.prev", true)
		b = appendStringValue(b, ev.Prev)
		b = appendKey(b, "cordon.hash", true)
		b = appendStringValue(b, ev.Hash)
	}
	return appendFields(b, "cordon.", reflect.ValueOf(ev.Payload), true)
}

// appendKey opens a KeyValue up to its value: `{"key":"k","value":`. The
// caller closes it with the value's closing brace plus one.
func appendKey(b []byte, k string, comma bool) []byte {
	if comma {
		b = append(b, ',')
	}
	b = append(b, `{"key":`...)
	b = appendString(b, k)
	return append(b, `,"value":`...)
}

var durationType = reflect.TypeFor[audit.Duration]()

// appendFields appends a payload struct's fields as KeyValues named by their
// JSON names, and leaves out the ones the JSON line leaves out (omitempty),
// so that the attributes and the JSON lines share one vocabulary
// (docs/audit.md).
func appendFields(b []byte, prefix string, v reflect.Value, comma bool) []byte {
	for i := range v.NumField() {
		name, opts, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if strings.Contains(","+opts+",", ",omitempty,") && v.Field(i).IsZero() {
			continue // absent from the JSON line too
		}
		b = appendKey(b, prefix+name, comma)
		b = appendValue(b, v.Field(i))
		comma = true
	}
	return b
}

// appendValue appends f as an AnyValue closed with its KeyValue's brace
// (see appendKey) when it is an attribute; appendAny leaves that out.
func appendValue(b []byte, f reflect.Value) []byte {
	return append(appendAny(b, f), '}')
}

// appendAny appends f as an AnyValue: strings, integers and booleans keep
// their type, durations are doubles in milliseconds, slices are arrays and
// structs key-value lists.
func appendAny(b []byte, f reflect.Value) []byte {
	if f.Type() == durationType {
		b = append(b, `{"doubleValue":`...)
		b = strconv.AppendFloat(b, float64(f.Int())/float64(time.Millisecond), 'g', -1, 64)
		return append(b, '}')
	}
	switch f.Kind() {
	case reflect.String:
		return appendStringAny(b, f.String())
	case reflect.Bool:
		return append(b, `{"boolValue":`+strconv.FormatBool(f.Bool())+`}`...)
	case reflect.Int, reflect.Int64:
		return appendIntAny(b, f.Int())
	case reflect.Uint64:
		return appendIntAny(b, int64(f.Uint()))
	case reflect.Slice:
		b = append(b, `{"arrayValue":{"values":[`...)
		for i := range f.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAny(b, f.Index(i))
		}
		return append(b, "]}}"...)
	case reflect.Struct:
		b = append(b, `{"kvlistValue":{"values":[`...)
		b = appendFields(b, "", f, false)
		return append(b, "]}}"...)
	}
	return appendStringAny(b, fmt.Sprint(f.Interface()))
}

func appendStringValue(b []byte, s string) []byte { return append(appendStringAny(b, s), '}') }
func appendInt(b []byte, n int64) []byte          { return append(appendIntAny(b, n), '}') }

func appendStringAny(b []byte, s string) []byte {
	b = append(b, `{"stringValue":`...)
	return append(appendString(b, s), '}')
}

// appendIntAny writes an int64 as the protobuf JSON mapping requires: a
// decimal string.
func appendIntAny(b []byte, n int64) []byte {
	b = append(b, `{"intValue":"`...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, `"}`...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Bytes that are not UTF-8 become
// U+FFFD, as with encoding/json: OTLP strings must be UTF-8, and a collector
// would refuse the whole batch over one bad byte.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, `\n`...)
			case '\r':
				b = append(b, `\r`...)
			case '\t':
				b = append(b, `\t`...)
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// resourceAttributes returns the resource's attributes sorted by key:
// service.name = cordon, host.name, telemetry.sdk.*, then
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME over them (the
// specification's precedence: the service name variable wins).
func resourceAttributes(getenv func(string) string) [][2]string {
	attrs := map[string]string{
		"service.name":           "cordon",
		"telemetry.sdk.name":     "cordon",
		"telemetry.sdk.language": "go",
		"telemetry.sdk.version":  buildVersion(),
	}
	if h, err := os.Hostname(); err == nil {
		attrs["host.name"] = h
	}
	// key=value pairs separated by commas, values percent-decoded; entries
	// without '=' or a key are skipped, as the SDK did.
	for entry := range strings.SplitSeq(getenv("OTEL_RESOURCE_ATTRIBUTES"), ",") {
		k, v, ok := strings.Cut(entry, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			continue
		}
		v = strings.TrimSpace(v)
		if dec, err := url.PathUnescape(v); err == nil {
			v = dec
		}
		attrs[k] = v
	}
	if svc := strings.TrimSpace(getenv("OTEL_SERVICE_NAME")); svc != "" {
		attrs["service.name"] = svc
	}
	out := make([][2]string, 0, len(attrs))
	for k, v := range attrs {
		out = append(out, [2]string{k, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// buildVersion is the module version cordon was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// envelope returns the request's JSON around the records: one resource, one
// scope, and the records joined with commas between the two halves.
func envelope(resource [][2]string) (head, tail []byte) {
	head = []byte(`{"resourceLogs":[{"resource":{"attributes":[`)
	for i, kv := range resource {
		head = appendKey(head, kv[0], i > 0)
		head = appendStringValue(head, kv[1])
	}
	head = append(head, `]},"scopeLogs":[{"scope":{"name":`...)
	head = appendString(head, scopeName)
	head = append(head, `},"logRecords":[`...)
	tail = []byte(`]}],"schemaUrl":`)
	tail = appendString(tail, schemaURL)
	return head, append(tail, "}]}"...)
}
