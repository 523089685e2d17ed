package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// schema is the part of JSON Schema the tools use: objects with named
// properties, arrays, strings, numbers, integers and booleans. It is both
// what tools/list publishes (MarshalJSON) and what a call's arguments are
// checked against (checkArguments), so the two cannot disagree.
type schema struct {
	// types is one JSON type, or several (a list is "null" or "array").
	types       []string
	items       *schema
	props       []property
	description string
	// closed objects refuse properties they do not name
	// (additionalProperties: false). Every object here is closed.
	closed bool
}

type property struct {
	name     string
	required bool
	s        *schema
}

func str(desc string) *schema     { return &schema{types: []string{"string"}, description: desc} }
func number(desc string) *schema  { return &schema{types: []string{"number"}, description: desc} }
func integer(desc string) *schema { return &schema{types: []string{"integer"}, description: desc} }
func boolean(desc string) *schema { return &schema{types: []string{"boolean"}, description: desc} }

// list is a Go slice: an array, or null.
func list(items *schema, desc string) *schema {
	return &schema{types: []string{"null", "array"}, items: items, description: desc}
}

func object(desc string, props ...property) *schema {
	return &schema{types: []string{"object"}, props: props, description: desc, closed: true}
}

// req is a property every value has; opt one it may leave out.
func req(name string, s *schema) property { return property{name: name, required: true, s: s} }
func opt(name string, s *schema) property { return property{name: name, s: s} }

// MarshalJSON writes the schema with its keywords in a fixed order: the
// order the SDK-based server published them in, which clients have seen.
func (s *schema) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	if len(s.types) == 1 {
		writeJSON(&b, s.types[0])
	} else {
		writeJSON(&b, s.types)
	}
	if s.items != nil {
		b.WriteString(`,"items":`)
		writeJSON(&b, s.items)
	}
	if len(s.props) > 0 {
		b.WriteString(`,"properties":{`)
		for i, p := range s.props {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(&b, p.name)
			b.WriteByte(':')
			writeJSON(&b, p.s)
		}
		b.WriteByte('}')
	}
	if s.description != "" {
		b.WriteString(`,"description":`)
		writeJSON(&b, s.description)
	}
	var required []string
	for _, p := range s.props {
		if p.required {
			required = append(required, p.name)
		}
	}
	if len(required) > 0 {
		b.WriteString(`,"required":`)
		writeJSON(&b, required)
	}
	if s.closed {
		b.WriteString(`,"additionalProperties":false`)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON appends v as JSON; v is a string, a []string or a *schema,
// none of which can fail to encode.
func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: encoding a schema: %v", err))
	}
	b.Write(enc)
}

// maxArgumentDepth bounds how deeply checkArguments descends; the tools'
// schemas are two levels deep.
const maxArgumentDepth = 8

// checkArguments checks a call's arguments against s, the tool's input
// schema, and returns them as a JSON object: absent or null arguments
// are the empty object. The error says what is wrong, in the form the
// SDK-based server used, for the model to correct its call.
func (s *schema) checkArguments(args json.RawMessage) (json.RawMessage, error) {
	if len(args) == 0 || string(args) == "null" {
		args = json.RawMessage("{}")
	}
	if err := s.check(args, "root", 0); err != nil {
		return nil, fmt.Errorf("validating \"arguments\": %w", err)
	}
	return args, nil
}

// check validates v against s; where is s's place in the root schema
// ("root", "/properties/argv", ...), as the error names it.
func (s *schema) check(v json.RawMessage, where string, depth int) error {
	if depth > maxArgumentDepth {
		return fmt.Errorf("validating %s: nested too deeply", where)
	}
	got := jsonType(v)
	ok := false
	for _, t := range s.types {
		// A number with no fraction is an integer, and every integer is
		// a number.
		ok = ok || t == got || (t == "number" && got == "integer")
	}
	if !ok {
		if len(s.types) == 1 {
			return fmt.Errorf("validating %s: type: %s has type %q, want %q", where, shown(v), got, s.types[0])
		}
		return fmt.Errorf("validating %s: type: %s has type %q, want one of %q", where, shown(v), got, strings.Join(s.types, ", "))
	}
	switch got {
	case "array":
		var elems []json.RawMessage
		if err := json.Unmarshal(v, &elems); err != nil {
			return fmt.Errorf("validating %s: %v", where, err)
		}
		if s.items != nil {
			for _, e := range elems {
				if err := s.items.check(e, where+"/items", depth+1); err != nil {
					return fmt.Errorf("validating %s: %w", where, err)
				}
			}
		}
	case "object":
		if err := s.checkObject(v, where, depth); err != nil {
			return fmt.Errorf("validating %s: %w", where, err)
		}
	case "integer", "number":
		// encoding/json cannot hold a number a float64 cannot.
		if f, err := strconv.ParseFloat(string(v), 64); err != nil || math.IsInf(f, 0) {
			return fmt.Errorf("validating %s: %s is out of range for a number", where, v)
		}
	}
	return nil
}

// checkObject checks each property s names, in s's order, then refuses
// the names s does not have, in the order they were written.
func (s *schema) checkObject(v json.RawMessage, where string, depth int) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(v, &members); err != nil {
		return err
	}
	known := map[string]bool{}
	for _, p := range s.props {
		known[p.name] = true
		val, ok := members[p.name]
		if !ok {
			if p.required {
				return fmt.Errorf("required: missing property %q", p.name)
			}
			continue
		}
		if err := p.s.check(val, prefix(where)+"/properties/"+p.name, depth+1); err != nil {
			return err
		}
	}
	if !s.closed {
		return nil
	}
	var extra []string
	for _, name := range memberNames(v) {
		if !known[name] && !contains(extra, name) {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		return fmt.Errorf("unexpected additional properties %q", extra)
	}
	return nil
}

func prefix(where string) string {
	if where == "root" {
		return ""
	}
	return where
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// memberNames lists an object's member names in the order written.
func memberNames(obj json.RawMessage) []string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil
	}
	var names []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return names
		}
		if k, ok := key.(string); ok {
			names = append(names, k)
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return names
		}
	}
	return names
}

// jsonType is the JSON Schema type of a JSON value.
func jsonType(v json.RawMessage) string {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil && f == math.Trunc(f) {
		return "integer"
	}
	return "number"
}

// shown is a value as an error message shows it: a string as its text,
// anything else as its JSON, at most 100 bytes of either.
func shown(v json.RawMessage) string {
	out := string(bytes.TrimSpace(v))
	var s string
	if jsonType(v) == "string" && json.Unmarshal(v, &s) == nil {
		out = s
	}
	if len(out) > 100 {
		out = out[:100] + "..."
	}
	return out
}
