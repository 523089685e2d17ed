package otlp

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/cordon-sandbox/cordon/audit"
)

var update = flag.Bool("update", false, "rewrite testdata/sdk_export.json from what the sink sends")

// goldenPath holds what the OpenTelemetry SDK exporter (otlploghttp v0.23,
// SDK v1.47) sent for sampleEvents, decoded by pdata and written as OTLP
// JSON. It was captured before the switch to this exporter; after a
// deliberate change of the mapping, rewrite it with -update.
const goldenPath = "testdata/sdk_export.json"

// The records arrive as the SDK exporter sent them: every field of every
// record, the scope, and the resource except what names the exporter.
func TestSameRecordsAsTheSDK(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	t.Setenv("OTEL_SERVICE_NAME", "")
	rcv := newReceiver(t)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range sampleEvents() {
		sink.Write(ev)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	decoded := rcv.decoded()
	if len(decoded) != 1 {
		t.Fatalf("%d requests, want 1", len(decoded))
	}
	got := decoded[0]
	if *update {
		data, err := (&plog.JSONMarshaler{}).MarshalLogs(got)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		json.Indent(&buf, data, "", "  ")
		buf.WriteByte('\n')
		if err := os.WriteFile(goldenPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	data, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	want, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(data)
	if err != nil {
		t.Fatal(err)
	}

	if got.ResourceLogs().Len() != 1 || want.ResourceLogs().Len() != 1 {
		t.Fatalf("resource logs: got %d, want 1", got.ResourceLogs().Len())
	}
	grl, wrl := got.ResourceLogs().At(0), want.ResourceLogs().At(0)
	if grl.SchemaUrl() != wrl.SchemaUrl() {
		t.Errorf("resource schema URL %q, want %q", grl.SchemaUrl(), wrl.SchemaUrl())
	}
	gres, wres := grl.Resource().Attributes().AsRaw(), wrl.Resource().Attributes().AsRaw()
	host, _ := os.Hostname()
	// The SDK named itself; this exporter names cordon.
	for k, v := range map[string]any{"host.name": host, "telemetry.sdk.name": "cordon", "telemetry.sdk.language": "go", "telemetry.sdk.version": buildVersion()} {
		if gres[k] != v {
			t.Errorf("resource %s = %v, want %v", k, gres[k], v)
		}
		delete(gres, k)
		delete(wres, k)
	}
	if !reflect.DeepEqual(gres, wres) {
		t.Errorf("resource attributes\n got %v\nwant %v", gres, wres)
	}

	if grl.ScopeLogs().Len() != 1 || wrl.ScopeLogs().Len() != 1 {
		t.Fatalf("scope logs: got %d, want 1", grl.ScopeLogs().Len())
	}
	gsl, wsl := grl.ScopeLogs().At(0), wrl.ScopeLogs().At(0)
	gs, ws := gsl.Scope(), wsl.Scope()
	if gs.Name() != ws.Name() || gs.Version() != ws.Version() || gsl.SchemaUrl() != wsl.SchemaUrl() ||
		!reflect.DeepEqual(gs.Attributes().AsRaw(), ws.Attributes().AsRaw()) {
		t.Errorf("scope %q %q %q %v, want %q %q %q %v", gs.Name(), gs.Version(), gsl.SchemaUrl(), gs.Attributes().AsRaw(),
			ws.Name(), ws.Version(), wsl.SchemaUrl(), ws.Attributes().AsRaw())
	}
	grs, wrs := gsl.LogRecords(), wsl.LogRecords()
	if grs.Len() != wrs.Len() {
		t.Fatalf("%d records, want %d", grs.Len(), wrs.Len())
	}
	for i := range grs.Len() {
		g, w := flatten(grs.At(i)), flatten(wrs.At(i))
		for _, d := range diffRecords(g, w) {
			t.Errorf("record %d (%s): %s", i, w.EventName, d)
		}
	}
}

// flatRecord is every field of a LogRecord, comparable with DeepEqual.
type flatRecord struct {
	Time, Observed    time.Time
	SeverityNumber    plog.SeverityNumber
	SeverityText      string
	Body              any
	EventName         string
	Flags             uint32
	TraceID, SpanID   string
	DroppedAttributes uint32
	AttributeKeys     []string // in the order sent
	Attributes        map[string]any
}

// diffRecords names the fields, and the attributes, in which g differs
// from w.
func diffRecords(g, w flatRecord) []string {
	var diffs []string
	gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		if name == "Attributes" {
			continue
		}
		if a, b := gv.Field(i).Interface(), wv.Field(i).Interface(); !reflect.DeepEqual(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s = %v, want %v", name, a, b))
		}
	}
	for k, b := range w.Attributes {
		if a, ok := g.Attributes[k]; !ok || !reflect.DeepEqual(a, b) {
			diffs = append(diffs, fmt.Sprintf("attribute %s = %#v, want %#v", k, a, b))
		}
	}
	for k, a := range g.Attributes {
		if _, ok := w.Attributes[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("attribute %s = %#v, not sent by the SDK", k, a))
		}
	}
	return diffs
}

func flatten(lr plog.LogRecord) flatRecord {
	f := flatRecord{
		Time: lr.Timestamp().AsTime(), Observed: lr.ObservedTimestamp().AsTime(),
		SeverityNumber: lr.SeverityNumber(), SeverityText: lr.SeverityText(),
		Body: lr.Body().AsRaw(), EventName: lr.EventName(), Flags: uint32(lr.Flags()),
		TraceID: lr.TraceID().String(), SpanID: lr.SpanID().String(),
		DroppedAttributes: lr.DroppedAttributesCount(), Attributes: lr.Attributes().AsRaw(),
	}
	for k := range lr.Attributes().All() {
		f.AttributeKeys = append(f.AttributeKeys, k)
	}
	return f
}

// Every field of an event's JSON line arrives as the attribute cordon.<field>
// with the same value, so the file and the collector share one vocabulary.
func TestAttributesMatchTheJSONLine(t *testing.T) {
	rcv := newReceiver(t)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	evs := sampleEvents()
	for _, ev := range evs {
		sink.Write(ev)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	recs := rcv.records()
	if len(recs) != len(evs) {
		t.Fatalf("%d records, want %d", len(recs), len(evs))
	}
	for i, ev := range evs {
		line, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var fields map[string]any
		if err := dec.Decode(&fields); err != nil {
			t.Fatal(err)
		}
		attrs := recs[i].attrs
		for k, v := range fields {
			a, ok := attrs["cordon."+k]
			if !ok {
				t.Errorf("%s: field %s has no attribute", ev.Kind, k)
				continue
			}
			if err := sameValue(v, a); err != nil {
				t.Errorf("%s: field %s: %v", ev.Kind, k, err)
			}
		}
		if len(attrs) != len(fields) {
			t.Errorf("%s: %d attributes for %d fields: %v", ev.Kind, len(attrs), len(fields), attrs)
		}
	}
}

// sameValue compares a JSON value (numbers as json.Number) with an
// attribute value as pdata decodes it.
func sameValue(j, a any) error {
	switch j := j.(type) {
	case json.Number:
		switch a := a.(type) {
		case int64:
			if j.String() == strconv.FormatInt(a, 10) {
				return nil
			}
		case float64:
			if f, err := j.Float64(); err == nil && f == a {
				return nil
			}
		}
	case []any:
		as, ok := a.([]any)
		if !ok || len(as) != len(j) {
			return fmt.Errorf("%v is not the array %v", a, j)
		}
		for i := range j {
			if err := sameValue(j[i], as[i]); err != nil {
				return err
			}
		}
		return nil
	case map[string]any:
		am, ok := a.(map[string]any)
		if !ok || len(am) != len(j) {
			return fmt.Errorf("%v is not the object %v", a, j)
		}
		for k := range j {
			if err := sameValue(j[k], am[k]); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		}
		return nil
	default:
		if j == a {
			return nil
		}
	}
	return fmt.Errorf("attribute %#v, JSON line %#v", a, j)
}

// Bytes that are not UTF-8 become U+FFFD, and the record is delivered. (The
// SDK exporter failed the whole batch on them, and kept failing it.)
func TestInvalidUTF8IsDelivered(t *testing.T) {
	rcv := newReceiver(t)
	sink, err := New(cfg(rcv.url()))
	if err != nil {
		t.Fatal(err)
	}
	sink.Write(&audit.Event{Schema: 1, Time: time.Now(), Session: "s", Run: "r", Kind: audit.KindCommandRequested,
		Payload: audit.CommandRequested{Argv: []string{"cat", "caf\xe9.txt"}}})
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	recs := rcv.records()
	if len(recs) != 1 || recs[0].attrs["cordon.argv"].([]any)[1] != "caf\uFFFD.txt" {
		t.Fatalf("records %+v", recs)
	}
}

// appendString decodes, with encoding/json, to what encoding/json encodes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"quoted" \back\slash`, "\x00\x01\x1f\x7f", "\n\r\t\b\f", "ü € 😀 \u2028\u2029",
		"caf\xe9", "\xff\xfe", "\xed\xa0\x80", "<html>&amp;", "a\x80b\xc0\xafc", "\U0010FFFF", strings.Repeat("é", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendString(nil, s)
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%q encodes as %s, which is not JSON: %v", s, enc, err)
		}
		ref, _ := json.Marshal(s)
		var want string
		json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("%q: decodes as %q, want %q", s, got, want)
		}
	})
}
