package sandbox

import (
	"context"
	"os"
	"runtime"

	applywin "github.com/cordon-sandbox/cordon/internal/apply/windows"
	"github.com/cordon-sandbox/cordon/internal/report"
	"github.com/cordon-sandbox/cordon/policy"
)

// Doctor examines this machine: what the unelevated Windows backend can
// enforce here.
func Doctor(home string) *Diagnosis {
	d := &Diagnosis{System: "windows " + runtime.GOARCH}
	ws, _ := os.Getwd()
	facts, err := applywin.Doctor(context.Background(), ws)
	if err != nil {
		d.Facts = append(d.Facts, Fact{Name: "windows", Detail: err.Error()})
	}
	for _, f := range facts {
		d.Facts = append(d.Facts, Fact{Name: f.Layer, OK: winStatus(f.Status) == report.Applied, Detail: f.Detail + " (not verified on a real Windows host: cordon's Windows backend has only run under Wine)"})
	}
	d.Modes = append(d.Modes, ModeSupport{Mode: "workspace-write", Works: err == nil,
		Detail: "needs --allow-degraded=" + string(policy.DegradedWindowsUnelevated) + ": " + policy.KnownDegraded[policy.DegradedWindowsUnelevated]})
	return d
}
