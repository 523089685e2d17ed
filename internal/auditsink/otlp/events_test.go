package otlp

import (
	"testing"
	"time"

	"github.com/cordon-sandbox/cordon/audit"
)

// sampleEvents holds one event of every kind with every field set, chain
// fields included, and strings that JSON must escape. The times are fixed so
// that what is sent can be compared with testdata/sdk_export.json.
func sampleEvents() []*audit.Event {
	t0 := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	payloads := []audit.Payload{
		audit.PolicyLoaded{Mode: "workspace-write", Workspace: "/home/dev/src/shop", Layers: []audit.PolicyLayer{
			{Source: "builtin", SHA256: "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"},
			{Source: "user", Path: "/home/dev/.config/cordon/policy.toml", SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		}},
		audit.Enforcement{Platform: "linux", Mode: "workspace-write", Layers: []audit.EnforcementLayer{
			{Name: "landlock", Status: "downgraded", Detail: "ABI 3: no \"refer\" right"},
			{Name: "seccomp", Status: "applied"},
		}, Accepted: []string{"landlock-only"}},
		audit.CommandRequested{Argv: []string{"sh", "-c", "echo \"$HOME\"\n\tprintf '\\x00' </dev/null >&2 # ü € 😀 \u2028"}, Cwd: "/w", Source: "mcp", Agent: "claude-code"},
		audit.Decision{Decision: "deny", Subject: "command", Target: "git push --force", Rule: "no-force-push", Category: "pr_merge", Decider: "policy", Reason: "force pushes rewrite history"},
		audit.Approval{Decision: "allow", Target: "npm install left-pad", Channel: "web", Approver: "alice@example.com", Scope: "session", Latency: audit.Duration(2345678 * time.Microsecond), TimedOut: false},
		audit.ProcessStart{PID: 4242, Argv: []string{"/bin/true"}, Executable: "/bin/true", Cwd: "/w"},
		audit.ProcessExit{PID: 4242, ExitCode: -1, Signal: "SIGKILL", TimedOut: true, Duration: audit.Duration(1500 * time.Microsecond), UserCPU: audit.Duration(3 * time.Millisecond), SystemCPU: audit.Duration(250 * time.Microsecond), PeakMemoryBytes: 1 << 40},
		audit.NetworkConnection{Host: "registry.npmjs.org", Port: 443, Address: "[2606:4700::6810:123]:443", Protocol: "connect", Decision: "deny", Rule: "default", BytesSent: 9007199254740993, BytesReceived: 0, Duration: audit.Duration(42 * time.Millisecond), Error: "host not allowed"},
		audit.AccessDenied{Operation: "write", Path: "/home/dev/.ssh/authorized_keys", Layer: "landlock", PID: 4243, Detail: "EACCES"},
		audit.RunEnd{Outcome: "completed", ExitCode: 0, Duration: audit.Duration(5 * time.Millisecond)},
		audit.SinkFailure{Sink: "file", Required: true, Error: "write /var/log/audit.jsonl: no space left on device", Pending: 3, Lost: 1},
		audit.SinkRecovered{Sink: "file", Down: audit.Duration(90 * time.Second), Delivered: 3, Lost: 1},
		audit.Recovery{TornBytes: 17, TornSHA256: "d2a84f4b8b650937ec8f73cd8be2c74add5a911ba64df27458ed8229da804a26"},
	}
	evs := make([]*audit.Event, len(payloads))
	for i, p := range payloads {
		evs[i] = &audit.Event{
			Schema: audit.SchemaVersion, Time: t0.Add(time.Duration(i) * time.Millisecond),
			Session: "5e55105e55105e55105e55105e551050", Run: "0123456789abcdef0123456789abcdef",
			Kind: p.Kind(), Seq: uint64(1<<62 + i), Prev: audit.ZeroHash,
			Hash: "aa" + audit.ZeroHash[2:], Payload: p,
		}
	}
	// One event never written to the file sink: no chain attributes.
	evs = append(evs, &audit.Event{
		Schema: audit.SchemaVersion, Time: t0.Add(time.Second), Session: "s", Run: "r",
		Kind: audit.KindRunEnd, Payload: audit.RunEnd{Outcome: "failed", ExitCode: 127, Error: "exec: \"nope\": executable file not found in $PATH"},
	})
	return evs
}

// The sample covers every kind, so that a new kind cannot skip the
// comparison with what the SDK exporter sent.
func TestSampleEventsCoverEveryKind(t *testing.T) {
	seen := map[audit.Kind]bool{}
	for _, ev := range sampleEvents() {
		seen[ev.Kind] = true
	}
	for _, k := range audit.Kinds() {
		if !seen[k] {
			t.Errorf("sampleEvents has no %s event", k)
		}
	}
}
