package sandbox

import (
	"runtime"
	"syscall"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/netproxy"
	"github.com/cordon-sandbox/cordon/internal/report"
)

// emit sends an event to the request's audit log, if it has one.
func (req *Request) emit(p audit.Payload) {
	if req.Audit != nil {
		req.Audit.Emit(p)
	}
}

// enforcementEvent records what the boundary is made of.
func enforcementEvent(rep *report.Report, accepted []string) audit.Enforcement {
	ev := audit.Enforcement{Platform: runtime.GOOS, Mode: rep.Mode, Accepted: accepted}
	for _, l := range rep.Layers {
		ev.Layers = append(ev.Layers, audit.EnforcementLayer{Name: l.Name, Status: string(l.Status), Detail: l.Detail})
	}
	return ev
}

// exitEvent records how the command ended.
func exitEvent(res *Result) audit.ProcessExit {
	ev := audit.ProcessExit{
		PID:             res.PID,
		ExitCode:        res.ExitCode,
		TimedOut:        res.TimedOut,
		Duration:        audit.Duration(res.Duration),
		UserCPU:         audit.Duration(res.Usage.User),
		SystemCPU:       audit.Duration(res.Usage.System),
		PeakMemoryBytes: res.Usage.MaxRSSKiB * 1024,
	}
	if res.Signal != 0 {
		ev.Signal = syscall.Signal(res.Signal).String()
	}
	return ev
}

// connectionEvent records one connection through the proxy.
func connectionEvent(ev netproxy.ConnEvent) audit.NetworkConnection {
	decision := audit.Deny
	if ev.Allowed {
		decision = audit.Allow
	}
	return audit.NetworkConnection{
		Host: ev.Host, Port: ev.Port, Address: ev.Addr, Protocol: ev.Protocol,
		Decision: decision, Rule: ev.Rule, BytesSent: ev.BytesSent, BytesReceived: ev.BytesReceived,
		Duration: audit.Duration(ev.Duration), Error: ev.Reason,
		Intercepted: ev.Intercepted, Method: ev.Method, Path: ev.Path, Status: ev.Status,
		Credential: ev.Credential, Injected: ev.Injected,
	}
}
