// Package audit holds cordon's audit events and the Logger that records them.
//
// The schema is specified in docs/audit.md, and a test keeps this package and
// that document in agreement: every kind has a payload type here (PolicyLoaded,
// Decision, ProcessExit, ...), every field a tagged struct field. Events are
// versioned (SchemaVersion) and written as one JSON object each.
//
// # Recording a run
//
// The sinks (the hash-chained file, stderr, OTLP) are built from the policy's
// [audit] section by internal/auditsink.Open, which returns a *Logger:
//
//	l, err := auditsink.Open(cfg, audit.IDs{Session: s, Run: audit.NewID()})
//	l.Emit(audit.PolicyLoaded{...})
//	l.Emit(audit.Decision{...})
//	if err := l.Healthy(); err != nil { refuse to start the command }
//	...
//	l.Emit(audit.RunEnd{...})
//	err = l.Close() // flush, fsync
//
// # Promises
//
// The Logger stamps each payload with the schema version, the time, the
// session and run ids and the kind; the file sink adds the chain fields.
// Emit never waits for the network and waits for the file lock for at most a
// couple of seconds. No event is dropped silently: a failing sink is reported
// on stderr and by a sink_failure event to the other sinks, the events it
// missed are held for it, and what is finally lost is reported by Close. A
// sink marked required makes Healthy fail while it is down.
//
// This package imports only the standard library, so the policy package can
// embed Config; the OTLP exporter lives in its own package.
package audit
