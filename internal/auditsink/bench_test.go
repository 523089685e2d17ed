package auditsink

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// runEvents are the events a typical `cordon run` emits.
func runEvents() []audit.Payload {
	return []audit.Payload{
		audit.PolicyLoaded{Mode: "workspace-write", Workspace: "/home/dev/src/shop", Layers: []audit.PolicyLayer{{Source: "builtin", SHA256: "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"}, {Source: "user", Path: "/home/dev/.config/cordon/policy.toml", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}}},
		audit.Enforcement{Platform: "linux", Mode: "workspace-write", Layers: []audit.EnforcementLayer{{Name: "landlock", Status: "applied"}, {Name: "seccomp", Status: "applied"}, {Name: "user_namespace", Status: "applied"}}},
		audit.CommandRequested{Argv: []string{"/bin/true"}, Cwd: "/home/dev/src/shop", Source: "cli"},
		audit.Decision{Decision: "allow", Subject: "command", Target: "/bin/true", Decider: "default"},
		audit.ProcessStart{PID: 4242, Argv: []string{"/bin/true"}, Executable: "/bin/true", Cwd: "/home/dev/src/shop"},
		audit.ProcessExit{PID: 4242, Duration: audit.Duration(700 * time.Microsecond)},
		audit.RunEnd{Outcome: "completed", Duration: audit.Duration(5 * time.Millisecond)},
	}
}

// What the audit trail adds to one `cordon run`: open the log, write a run's
// events, close (fsync). Compare with BenchmarkRunFileSinkOff.
func BenchmarkRunFileSink(b *testing.B) { benchmarkRun(b, true, false) }

// The same with the file sink required: Healthy adds an fsync before the
// command starts.
func BenchmarkRunFileSinkRequired(b *testing.B) { benchmarkRun(b, true, true) }

// The audit trail with no sink at all: the Logger's own cost.
func BenchmarkRunFileSinkOff(b *testing.B) { benchmarkRun(b, false, false) }

func benchmarkRun(b *testing.B, fileOn, required bool) {
	cfg := audit.DefaultConfig()
	cfg.File.Enabled, cfg.File.Required = fileOn, required
	cfg.File.Path = filepath.Join(b.TempDir(), "audit.jsonl")
	events := runEvents()
	for b.Loop() {
		l, err := Open(cfg, audit.IDs{Session: "bench", Run: audit.NewID()})
		if err != nil {
			b.Fatal(err)
		}
		for i, p := range events {
			l.Emit(p)
			if i == 3 && required { // after the decision, before the command starts
				if err := l.Healthy(); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
