package audit

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// SchemaVersion is the version of the event schema this package writes and
// reads (docs/audit.md, "Schema version").
const SchemaVersion = 1

// TimeFormat is the layout of the time field: RFC 3339, UTC, nine fractional
// digits, so that lines sort and compare as text.
const TimeFormat = "2006-01-02T15:04:05.000000000Z"

// ZeroHash is the prev of the first event of a chain.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Kind names an event kind; the values are the kind names of docs/audit.md.
type Kind string

// The event kinds of schema version 1.
const (
	KindPolicyLoaded      Kind = "policy_loaded"
	KindEnforcement       Kind = "enforcement"
	KindCommandRequested  Kind = "command_requested"
	KindDecision          Kind = "decision"
	KindApproval          Kind = "approval"
	KindProcessStart      Kind = "process_start"
	KindProcessExit       Kind = "process_exit"
	KindNetworkConnection Kind = "network_connection"
	KindAccessDenied      Kind = "access_denied"
	KindRunEnd            Kind = "run_end"
	KindSinkFailure       Kind = "sink_failure"
	KindSinkRecovered     Kind = "sink_recovered"
	KindRecovery          Kind = "recovery"
)

// Kinds returns every kind of schema version 1, in the order docs/audit.md
// lists them.
func Kinds() []Kind {
	kinds := make([]Kind, len(payloadTypes))
	for i, p := range payloadTypes {
		kinds[i] = p.Kind()
	}
	return kinds
}

// payloadTypes holds one zero value per kind; it is the single list from
// which parsing and Kinds are derived.
var payloadTypes = []Payload{
	PolicyLoaded{}, Enforcement{}, CommandRequested{}, Decision{}, Approval{},
	ProcessStart{}, ProcessExit{}, NetworkConnection{}, AccessDenied{}, RunEnd{},
	SinkFailure{}, SinkRecovered{}, Recovery{},
}

// Payload is the kind-specific part of an event. The payload types of this
// package are the only implementations: the schema is closed.
type Payload interface {
	Kind() Kind
	isPayload()
}

// IDs identify where an event comes from: the agent session and the run.
type IDs struct {
	Session string
	Run     string
}

// NewID returns a random 128-bit id as 32 hex digits, for sessions and runs.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

// Event is one audit record: the common fields of docs/audit.md and the
// kind's payload. A Logger fills in everything but the chain fields (Seq,
// Prev, Hash), which the file sink assigns when it writes the event.
type Event struct {
	Schema  int       `json:"v"`
	Time    time.Time `json:"time"`
	Session string    `json:"session"`
	Run     string    `json:"run"`
	Kind    Kind      `json:"kind"`
	Seq     uint64    `json:"seq"`
	Prev    string    `json:"prev"`
	Hash    string    `json:"hash"`
	Payload Payload   `json:"-"`
}

// wireHeader is the JSON form of the common fields before the payload; the
// doc test checks that its members match Event's tags.
type wireHeader struct {
	Schema  int    `json:"v"`
	Time    string `json:"time"`
	Session string `json:"session"`
	Run     string `json:"run"`
	Kind    Kind   `json:"kind"`
	Seq     uint64 `json:"seq,omitempty"`
	Prev    string `json:"prev,omitempty"`
}

// MarshalJSON writes the event as one JSON object: the common fields, then
// the payload's fields, then hash (when set) as the last member. There is no
// whitespace and no HTML escaping, so the bytes are exactly a log line.
func (e *Event) MarshalJSON() ([]byte, error) {
	if e.Payload == nil {
		return nil, errors.New("audit: event has no payload")
	}
	if e.Kind != "" && e.Kind != e.Payload.Kind() {
		return nil, fmt.Errorf("audit: event kind %q does not match its %T payload", e.Kind, e.Payload)
	}
	head, err := marshalCompact(wireHeader{
		Schema:  e.Schema,
		Time:    e.Time.UTC().Format(TimeFormat),
		Session: e.Session,
		Run:     e.Run,
		Kind:    e.Payload.Kind(),
		Seq:     e.Seq,
		Prev:    e.Prev,
	})
	if err != nil {
		return nil, err
	}
	body, err := marshalCompact(withEmptySlices(e.Payload))
	if err != nil {
		return nil, err
	}
	out := head[:len(head)-1] // drop '}'
	if len(body) > 2 {        // not "{}"
		out = append(out, ',')
		out = append(out, body[1:len(body)-1]...)
	}
	if e.Hash != "" {
		out = append(out, `,"hash":`...)
		out = strconv.AppendQuote(out, e.Hash)
	}
	return append(out, '}'), nil
}

// withEmptySlices returns p with every nil slice field replaced by an empty
// one, so that arrays are written as [] and never as null.
func withEmptySlices(p Payload) any {
	v := reflect.ValueOf(p)
	var cp reflect.Value
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Slice || !f.IsNil() {
			continue
		}
		if !cp.IsValid() {
			cp = reflect.New(v.Type()).Elem()
			cp.Set(v)
		}
		cp.Field(i).Set(reflect.MakeSlice(f.Type(), 0, 0))
	}
	if cp.IsValid() {
		return cp.Interface()
	}
	return p
}

func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnsupportedVersionError is returned for an event written with a schema
// version this package does not read.
type UnsupportedVersionError struct{ Version int }

func (e *UnsupportedVersionError) Error() string {
	if e.Version > SchemaVersion {
		return fmt.Sprintf("event has schema version %d; this cordon reads version %d: upgrade cordon to read it", e.Version, SchemaVersion)
	}
	return fmt.Sprintf("event has schema version %d; this cordon reads version %d", e.Version, SchemaVersion)
}

// ParseEvent decodes one event (one log line, without its newline). It checks
// the schema version and the kind but not the hash chain; that is the file
// sink's verifier's job.
func ParseEvent(line []byte) (*Event, error) {
	var h struct {
		wireHeader
		Hash string `json:"hash"`
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return nil, fmt.Errorf("not a JSON event: %w", err)
	}
	if h.Schema != SchemaVersion {
		return nil, &UnsupportedVersionError{Version: h.Schema}
	}
	t, err := time.Parse(time.RFC3339Nano, h.Time)
	if err != nil {
		return nil, fmt.Errorf("event time %q: %w", h.Time, err)
	}
	p, err := newPayload(h.Kind)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(line, p); err != nil {
		return nil, fmt.Errorf("%s event: %w", h.Kind, err)
	}
	return &Event{
		Schema:  h.Schema,
		Time:    t.UTC(),
		Session: h.Session,
		Run:     h.Run,
		Kind:    h.Kind,
		Seq:     h.Seq,
		Prev:    h.Prev,
		Hash:    h.Hash,
		Payload: derefPayload(p),
	}, nil
}

// newPayload returns a pointer to a new zero payload of kind k.
func newPayload(k Kind) (any, error) {
	switch k {
	case KindPolicyLoaded:
		return &PolicyLoaded{}, nil
	case KindEnforcement:
		return &Enforcement{}, nil
	case KindCommandRequested:
		return &CommandRequested{}, nil
	case KindDecision:
		return &Decision{}, nil
	case KindApproval:
		return &Approval{}, nil
	case KindProcessStart:
		return &ProcessStart{}, nil
	case KindProcessExit:
		return &ProcessExit{}, nil
	case KindNetworkConnection:
		return &NetworkConnection{}, nil
	case KindAccessDenied:
		return &AccessDenied{}, nil
	case KindRunEnd:
		return &RunEnd{}, nil
	case KindSinkFailure:
		return &SinkFailure{}, nil
	case KindSinkRecovered:
		return &SinkRecovered{}, nil
	case KindRecovery:
		return &Recovery{}, nil
	case "":
		return nil, errors.New("event has no kind")
	}
	return nil, fmt.Errorf("unknown event kind %q for schema version %d", k, SchemaVersion)
}

func derefPayload(p any) Payload {
	switch p := p.(type) {
	case *PolicyLoaded:
		return *p
	case *Enforcement:
		return *p
	case *CommandRequested:
		return *p
	case *Decision:
		return *p
	case *Approval:
		return *p
	case *ProcessStart:
		return *p
	case *ProcessExit:
		return *p
	case *NetworkConnection:
		return *p
	case *AccessDenied:
		return *p
	case *RunEnd:
		return *p
	case *SinkFailure:
		return *p
	case *SinkRecovered:
		return *p
	case *Recovery:
		return *p
	}
	panic(fmt.Sprintf("audit: no payload type %T", p))
}

// Duration is a time span written as a JSON number of milliseconds with up
// to six decimals (docs/audit.md, "Field types").
type Duration time.Duration

// MarshalJSON writes d as milliseconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(d)/float64(time.Millisecond), 'f', -1, 64), nil
}

// UnmarshalJSON reads milliseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	ms, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("duration must be a number of milliseconds, got %s", b)
	}
	*d = Duration(math.Round(ms * float64(time.Millisecond)))
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }
