// Package report holds the enforcement report: for each layer of the
// boundary, whether it was applied, downgraded, missing or switched off, and
// why. Planners fill it in; the sandbox's init confirms it; the CLI, the audit
// trail and `cordon doctor` print it. A downgrade is never silent: it is in
// this report or the command does not run.
package report

import (
	"fmt"
	"strings"
)

// Status of one layer.
type Status string

const (
	// Applied: the layer is in force as the policy asks.
	Applied Status = "applied"
	// Downgraded: the layer is in force but weaker than the policy asks,
	// because the user accepted a named weaker mode or the kernel lacks a
	// feature the other layers cover.
	Downgraded Status = "downgraded"
	// Missing: the layer is not in force although the policy asks for it,
	// and the user accepted that by name.
	Missing Status = "missing"
	// Off: the policy does not ask for this layer (for example full-access).
	Off Status = "off"
)

// Layer is one line of the report.
type Layer struct {
	Name   string `json:"layer"`
	Status Status `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// Report lists the layers in the order they are applied.
type Report struct {
	Mode     string  `json:"mode"`
	Degraded string  `json:"degraded,omitempty"`
	Layers   []Layer `json:"layers"`
}

// Add appends a layer.
func (r *Report) Add(name string, s Status, format string, args ...any) {
	r.Layers = append(r.Layers, Layer{Name: name, Status: s, Detail: fmt.Sprintf(format, args...)})
}

// Weakened lists the layers that are downgraded or missing.
func (r *Report) Weakened() []Layer {
	var out []Layer
	for _, l := range r.Layers {
		if l.Status == Downgraded || l.Status == Missing {
			out = append(out, l)
		}
	}
	return out
}

// String renders the report for a terminal, one layer a line.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mode: %s", r.Mode)
	if r.Degraded != "" {
		fmt.Fprintf(&b, " (weaker mode %q accepted)", r.Degraded)
	}
	b.WriteByte('\n')
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "  %-13s %-10s %s\n", l.Name, l.Status, l.Detail)
	}
	return b.String()
}
