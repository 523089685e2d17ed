package winplan

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestAccountFor(t *testing.T) {
	for mode, want := range map[string]string{"off": OfflineUser, "proxy": OfflineUser, "": OfflineUser, "full": OnlineUser} {
		if got, err := AccountFor(mode); err != nil || got != want {
			t.Errorf("AccountFor(%q) = %q, %v; want %q", mode, got, err, want)
		}
	}
	if _, err := AccountFor("anything"); err == nil {
		t.Error("an unknown network mode chose an account")
	}
}

func testRequest() RunnerRequest {
	job, _ := NewJobSpec(10, 0)
	return RunnerRequest{Version: RunnerProtocol, Caps: []SID{"S-1-5-21-1-2-3-4"}, Instance: "S-1-5-21-9-9-9-9",
		App: `C:\Windows\System32\cmd.exe`, CommandLine: `cmd.exe /c echo hi`, Env: []string{`SystemRoot=C:\Windows`},
		Dir: `C:\src\app`, Job: job}
}

// The frame is read exactly: what follows it in the pipe is the command's
// input and must still be there.
func TestRunnerRequestFrame(t *testing.T) {
	var buf bytes.Buffer
	req := testRequest()
	if err := WriteRunnerRequest(&buf, req); err != nil {
		t.Fatal(err)
	}
	buf.WriteString("stdin of the command")
	got, err := ReadRunnerRequest(oneByte{&buf})
	if err != nil {
		t.Fatal(err)
	}
	if got.App != req.App || got.CommandLine != req.CommandLine || !slices.Equal(got.Caps, req.Caps) || got.Job != req.Job {
		t.Errorf("round trip: %+v, want %+v", got, req)
	}
	if rest, _ := io.ReadAll(&buf); string(rest) != "stdin of the command" {
		t.Errorf("the reader took %q of the command's input", "stdin of the command"[:len("stdin of the command")-len(rest)])
	}
}

// oneByte hands out one byte a read, as a pipe may.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

func TestRunnerRequestRefused(t *testing.T) {
	bad := map[string]func(*RunnerRequest){
		"other version":           func(r *RunnerRequest) { r.Version = 2 },
		"not a capability SID":    func(r *RunnerRequest) { r.Caps = []SID{Everyone} },
		"instance is a cap":       func(r *RunnerRequest) { r.Instance = r.Caps[0] },
		"relative executable":     func(r *RunnerRequest) { r.App = `cmd.exe` },
		"relative directory":      func(r *RunnerRequest) { r.Dir = `src` },
		"empty command line":      func(r *RunnerRequest) { r.CommandLine = "" },
		"no kill on close":        func(r *RunnerRequest) { r.Job.LimitFlags &^= JobLimitKillOnJobClose },
		"breakaway allowed":       func(r *RunnerRequest) { r.Job.LimitFlags |= JobLimitBreakawayOK },
		"environment without '='": func(r *RunnerRequest) { r.Env = []string{"X"} },
	}
	for name, mut := range bad {
		r := testRequest()
		mut(&r)
		if err := WriteRunnerRequest(io.Discard, r); err == nil {
			t.Errorf("%s: written", name)
		}
		// And a runner given it by something else refuses it too.
		data := []byte(`{"version":1}`)
		var n [4]byte
		binary.LittleEndian.PutUint32(n[:], uint32(len(data)))
		if _, err := ReadRunnerRequest(bytes.NewReader(append(n[:], data...))); err == nil {
			t.Errorf("an empty request was accepted")
		}
	}
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], MaxRunnerRequest+1)
	if _, err := ReadRunnerRequest(bytes.NewReader(n[:])); err == nil {
		t.Error("an oversized frame was accepted")
	}
	data := []byte(`{"version":1,"extra":true}`)
	binary.LittleEndian.PutUint32(n[:], uint32(len(data)))
	if _, err := ReadRunnerRequest(bytes.NewReader(append(n[:], data...))); err == nil {
		t.Error("a request with an unknown field was accepted")
	}
}

func TestRunnerCommandLineAndEnv(t *testing.T) {
	if got := RunnerCommandLine(`C:\Program Files\cordon\cordon.exe`); got != `"C:\Program Files\cordon\cordon.exe" windows runner` {
		t.Errorf("command line %s", got)
	}
	env := RunnerEnv([]string{`SystemRoot=C:\Windows`, `SECRET=x`, `windir=C:\Windows`, `PATH=C:\x`, `USERPROFILE=C:\Users\me`})
	if !slices.Equal(env, []string{`SystemRoot=C:\Windows`, `windir=C:\Windows`}) {
		t.Errorf("runner env %v", env)
	}
}

func TestElevatedSetupFor(t *testing.T) {
	_, _, err := ElevatedSetupFor(nil, OfflineUser, false)
	if !errors.Is(err, ErrSetupMissing) || !strings.Contains(err.Error(), "cordon windows setup") || !strings.Contains(err.Error(), "windows-unelevated") {
		t.Errorf("no setup: %v", err)
	}
	led := &SetupLedger{Version: 1, Group: "S-1-5-21-5-6-7-1000",
		Steps: []SetupStep{{Kind: "group", Name: SandboxGroup}, {Kind: "user", Name: OfflineUser}, {Kind: "user", Name: OnlineUser}},
		Accounts: []SetupAccount{
			{Name: OfflineUser, SID: "S-1-5-21-5-6-7-1001", Password: []byte{1}},
			{Name: OnlineUser, SID: "S-1-5-21-5-6-7-1002"},
		}}
	a, pw, err := ElevatedSetupFor(led, OfflineUser, true)
	if err != nil || a.SID != "S-1-5-21-5-6-7-1001" || a.Group != led.Group || len(pw) != 1 {
		t.Errorf("offline: %+v %v %v", a, pw, err)
	}
	if _, _, err := ElevatedSetupFor(led, OfflineUser, false); !errors.Is(err, ErrSetupMissing) {
		t.Errorf("accounts gone: %v", err)
	}
	if _, _, err := ElevatedSetupFor(led, OnlineUser, true); !errors.Is(err, ErrSetupMissing) {
		t.Errorf("no password: %v", err)
	}
	led.Group = ""
	if _, _, err := ElevatedSetupFor(led, OfflineUser, true); !errors.Is(err, ErrSetupMissing) {
		t.Errorf("no group SID: %v", err)
	}
}

// The elevated plan: the sandbox group gets the roots and the runner, the
// deny-read paths get their denies before any allow, FILE_DELETE_CHILD is
// denied to the group and not to the user, and the refusals of the
// unelevated mode do not apply.
func TestBuildElevated(t *testing.T) {
	f := newFakeFS()
	f.mkdir(t, `C:\Users\me`)
	f.mkdir(t, `C:\Users\me\src\app\.git`)
	f.file(t, `C:\Users\me\src\app\.git\config`, 1)
	f.file(t, `C:\Users\me\src\app\.env`, 1)
	f.file(t, `C:\Program Files\cordon\cordon.exe`, 1)
	in := Input{Workspace: `C:\Users\me\src\app`, StateDir: `C:\Users\me\AppData\Local\cordon\windows-sandbox`, ProfileDir: `C:\Users\me`,
		ProtectedPaths:          []ProtectedPath{{Path: `C:\Users\me\src\app\.git\config`}},
		DenyRead:                []string{`C:\Users\me\src\app\.env`, `C:\Users\me\.aws`},
		RequireNetworkIsolation: true,
		Sandbox:                 &SandboxAccount{Name: OfflineUser, SID: "S-1-5-21-5-6-7-1001", Group: "S-1-5-21-5-6-7-1000"},
		Runner:                  `C:\Program Files\cordon\cordon.exe`}
	id := Identity{User: "S-1-5-21-5-6-7-500", Logon: "S-1-5-5-0-1"}
	p, err := Build(in, f, &fixedSIDs{}, id)
	if err != nil {
		t.Fatal(err)
	}
	seenAllow := false
	var reasons []string
	for _, g := range p.ACL.Grants {
		reasons = append(reasons, g.Reason)
		if g.ACE.Type == Allow && g.Object != NullDevice {
			seenAllow = true
		} else if g.ACE.Type == Deny && seenAllow {
			t.Errorf("deny %s after an allow", g.ACE)
		}
		if g.ACE.Mask&FileDeleteChild != 0 && g.ACE.Type == Deny && g.ACE.SID == id.User {
			t.Errorf("the user is denied FILE_DELETE_CHILD on %s in the elevated mode", g.Object.Path)
		}
		if g.Reason == ReasonNullDevice && g.ACE.SID == id.Logon {
			t.Errorf("the null device is granted the caller's logon SID, which the command does not hold")
		}
	}
	for _, want := range []string{ReasonSandboxRoot, ReasonSandboxRunner, ReasonDenyRead, ReasonDeleteChild} {
		if !slices.Contains(reasons, want) {
			t.Errorf("no %q grant: %v", want, reasons)
		}
	}
	if !slices.Equal(p.DenyReadSkipped, []string{`C:\Users\me\.aws`}) {
		t.Errorf("skipped %v", p.DenyReadSkipped)
	}
	if slices.Contains(p.ScanSIDs(), id.Logon) {
		t.Errorf("scan SIDs %v hold the caller's logon SID", p.ScanSIDs())
	}
	for _, fact := range p.Facts(nil, nil) {
		if (fact.Layer == LayerReads || fact.Layer == "network") && fact.Status != Enforced {
			t.Errorf("elevated fact %s", fact)
		}
	}
	// The runner inside a writable root could be replaced by the command.
	in.Runner = `C:\Users\me\src\app\cordon.exe`
	f.file(t, in.Runner, 1)
	if _, err := Build(in, f, &fixedSIDs{}, id); !errors.Is(err, ErrRefused) {
		t.Errorf("runner inside the workspace: %v", err)
	}
	// Without the sandbox account the same input is refused, naming the setup.
	in.Sandbox, in.Runner = nil, ""
	if _, err := Build(in, f, &fixedSIDs{}, id); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "cordon windows setup") {
		t.Errorf("unelevated: %v", err)
	}
}

func TestRunnerJobAndFlags(t *testing.T) {
	j := RunnerJobSpec()
	if j.LimitFlags&JobLimitKillOnJobClose == 0 || j.LimitFlags&(JobLimitBreakawayOK|JobLimitSilentBreakawayOK) != 0 || j.UIRestrictions&JobUILimitDesktop != 0 {
		t.Errorf("runner job %+v", j)
	}
	if RunnerCreationFlags&createSuspended == 0 || RunnerCreationFlags&extendedStartupInfoPresent != 0 {
		// CreateProcessWithLogonW takes no attribute list.
		t.Errorf("runner creation flags %#x", RunnerCreationFlags)
	}
}
