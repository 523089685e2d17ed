package winplan

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCleanPath(t *testing.T) {
	cases := []struct{ in, want string }{
		{`C:\src\app`, `C:\src\app`},
		{`c:/src//app/`, `C:\src\app`},
		{`C:\src\.\app\..\lib`, `C:\src\lib`},
		{`C:\..\..\x`, `C:\x`},
		{`C:\src\.git.`, `C:\src\.git`},
		{`C:\src\.git  \hooks`, `C:\src\.git\hooks`},
		{`C:\`, `C:\`},
		{`c:`[:2] + `\`, `C:\`},
		{`\\?\C:\x`, `C:\x`},
		{`\\?\UNC\srv\share\x`, `\\srv\share\x`},
		{`\\srv\share`, `\\srv\share\`},
		{`//srv/share/a/`, `\\srv\share\a`},
	}
	for _, c := range cases {
		got, err := CleanPath(c.in)
		if err != nil || got != c.want {
			t.Errorf("CleanPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{``, `src\app`, `C:src`, `\src`, `\\srv`, `\\.\NUL`, `/usr/bin`} {
		if got, err := CleanPath(bad); err == nil {
			t.Errorf("CleanPath(%q) = %q, want an error", bad, got)
		}
	}
}

func TestPathRelations(t *testing.T) {
	if !within(`C:\Src\App\x`, `c:\src\app`) || within(`C:\src\apple`, `C:\src\app`) || !within(`C:\x`, `C:\`) {
		t.Error("within is wrong")
	}
	if strictlyWithin(`C:\a`, `c:\A`) {
		t.Error("a path is strictly within itself")
	}
	parents := map[string]string{`C:\a\b`: `C:\a`, `C:\a`: `C:\`, `C:\`: ``, `\\s\h\a`: `\\s\h\`, `\\s\h\`: ``}
	for p, want := range parents {
		if got := parentOf(p); got != want {
			t.Errorf("parentOf(%s) = %q, want %q", p, got, want)
		}
	}
	if got := ancestorsBetween(`C:\w`, `C:\w\a\b\c`); !slices.Equal(got, []string{`C:\w\a`, `C:\w\a\b`}) {
		t.Errorf("ancestorsBetween = %q", got)
	}
}

func TestCapabilitySIDs(t *testing.T) {
	sid, err := newCapabilitySID(bytes.NewReader([]byte{1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}))
	if err != nil || sid != "S-1-5-21-1-2-3-4294967295" {
		t.Fatalf("sid = %s, %v", sid, err)
	}
	if _, err := newCapabilitySID(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("a short random read was accepted")
	}
	seen := map[SID]bool{}
	for i := 0; i < 1000; i++ {
		s, err := NewCapabilitySID()
		if err != nil || !IsCapabilitySID(s) || seen[s] {
			t.Fatalf("draw %d: %s, %v (seen before: %t)", i, s, err, seen[s])
		}
		seen[s] = true
	}
	for _, bad := range []SID{"S-1-5-21-1-2-3", "S-1-5-21-1-2-3-4-5", "S-1-5-21-1-2-3-01", "S-1-5-21-1-2-3-4294967296", "S-1-5-32-1-2-3-4", "S-1-1-0"} {
		if IsCapabilitySID(bad) {
			t.Errorf("IsCapabilitySID(%s) = true", bad)
		}
	}
}

func TestTokenSpec(t *testing.T) {
	caps := []SID{"S-1-5-21-1-2-3-4", "S-1-5-21-5-6-7-8"}
	const inst SID = "S-1-5-21-9-9-9-9"
	spec, err := NewTokenSpec(caps, inst, testLogon, testUser)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Flags != DisableMaxPrivilege|LuaToken|WriteRestricted {
		t.Errorf("flags = %#x", spec.Flags)
	}
	want := []SID{caps[0], caps[1], inst, testLogon, Everyone}
	if !slices.Equal(spec.RestrictingSIDs, want) {
		t.Errorf("restricting SIDs = %v, want %v", spec.RestrictingSIDs, want)
	}
	if containsSID(spec.RestrictingSIDs, testUser) {
		t.Error("the user's SID is a restricting SID")
	}
	wantDACL := []ACE{{Type: Allow, Mask: GenericAll, SID: testUser}, {Type: Allow, Mask: GenericAll, SID: inst}, {Type: Allow, Mask: GenericAll, SID: LocalSystem}}
	if !slices.Equal(spec.DefaultDACL, wantDACL) {
		t.Errorf("default DACL = %+v, want the user, the instance SID and SYSTEM (never the logon SID)", spec.DefaultDACL)
	}
	if !slices.Equal(spec.EnablePrivileges, []string{"SeChangeNotifyPrivilege"}) {
		t.Errorf("privileges = %v", spec.EnablePrivileges)
	}
	if !slices.Equal(spec.DisableSIDs, []SID{Interactive}) {
		t.Errorf("SIDs to disable = %v, want INTERACTIVE", spec.DisableSIDs)
	}
	d, err := NewDesktopSpec(inst, testUser)
	if err != nil || !strings.HasPrefix(d.StartupDesktop(), `winsta0\cordon-`) || slices.ContainsFunc(d.DACL, func(a ACE) bool { return IsLogonSID(a.SID) || a.SID == Everyone }) {
		t.Errorf("desktop %+v, %v: want winsta0\\cordon-..., no logon SID or Everyone", d, err)
	}
	if _, err := NewTokenSpec([]SID{testUser}, inst, testLogon, testUser); err == nil {
		t.Error("the user's SID was accepted as a capability SID")
	}
	if _, err := NewTokenSpec(caps, "S-1-5-18", testLogon, testUser); err == nil {
		t.Error("a well-known SID was accepted as the instance SID")
	}
	if _, err := NewTokenSpec(caps, caps[0], testLogon, testUser); err == nil {
		t.Error("a capability SID was accepted as the instance SID")
	}
	if _, err := NewTokenSpec(caps, inst, "S-1-5-18", testUser); err == nil {
		t.Error("a non-logon SID was accepted as the logon SID")
	}
	a, err := NewInstanceSID()
	b, err2 := NewInstanceSID()
	if err != nil || err2 != nil || a == b || !IsCapabilitySID(a) {
		t.Errorf("instance SIDs %s, %s (%v, %v)", a, b, err, err2)
	}
}

func TestJobSpec(t *testing.T) {
	j, err := NewJobSpec(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if j.LimitFlags&JobLimitKillOnJobClose == 0 || j.LimitFlags&(JobLimitBreakawayOK|JobLimitSilentBreakawayOK) != 0 {
		t.Errorf("limit flags = %#x: want kill-on-close, never breakaway", j.LimitFlags)
	}
	if j.LimitFlags&(JobLimitActiveProcess|JobLimitJobMemory) != 0 {
		t.Errorf("limits set without being asked: %#x", j.LimitFlags)
	}
	for _, ui := range []uint32{JobUILimitHandles, JobUILimitReadClipboard, JobUILimitWriteClipboard, JobUILimitDesktop} {
		if j.UIRestrictions&ui == 0 {
			t.Errorf("UI restriction %#x missing", ui)
		}
	}
	j, _ = NewJobSpec(64, 1<<30)
	if j.LimitFlags&JobLimitActiveProcess == 0 || j.ActiveProcessLimit != 64 || j.LimitFlags&JobLimitJobMemory == 0 || j.JobMemoryLimit != 1<<30 {
		t.Errorf("limits = %+v", j)
	}
	if _, err := NewJobSpec(-1, 0); err == nil {
		t.Error("a negative process limit was accepted")
	}
	if CreationFlags&createSuspended == 0 || CreationFlags&createUnicodeEnvironment == 0 {
		t.Errorf("creation flags = %#x", CreationFlags)
	}
}

func TestModeFactsAreHonest(t *testing.T) {
	facts := ModeFacts(nil)
	byLayer := map[string]Fact{}
	for _, f := range facts {
		byLayer[f.Layer] = f
		if f.Verified {
			t.Errorf("%s claims to be verified", f.Layer)
		}
	}
	if !strings.Contains(byLayer["verification"].Detail, "not yet verified on a real Windows host") {
		t.Errorf("no unverified caveat: %+v", byLayer["verification"])
	}
	if byLayer["network"].Status != Advisory || byLayer["filesystem reads"].Status != NotEnforced {
		t.Errorf("network %s, reads %s", byLayer["network"].Status, byLayer["filesystem reads"].Status)
	}
	if s := byLayer["filesystem writes"].String(); !strings.Contains(s, "not verified on a real Windows host") {
		t.Errorf("enforced fact without caveat: %s", s)
	}
}

// fakeClock advances by step on every reading.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func TestScan(t *testing.T) {
	f := newFakeFS()
	everyoneWrite := ACE{Type: Allow, Flags: InheritAll, Mask: FileGenericRead | FileGenericWrite, SID: Everyone}
	f.mkdir(t, `C:\Windows\System32`, ACE{Type: Allow, Mask: GenericRead, SID: Everyone})
	f.mkdir(t, `C:\Windows\Tasks`, ACE{Type: Allow, Mask: FileWriteData, SID: Everyone})
	f.mkdir(t, `C:\Windows\Installer`, everyoneWrite) // never entered
	f.mkdir(t, `C:\tools`, ACE{Type: Allow, Mask: GenericAll, SID: Everyone})
	f.mkdir(t, `C:\tools\bin`) // inherits Everyone's GENERIC_ALL? only with inheritance flags: no
	f.mkdir(t, `C:\shared`, everyoneWrite)
	f.mkdir(t, `C:\shared\sub`) // inherits Everyone write
	f.mkdir(t, `C:\denied`, ACE{Type: Deny, Mask: FileWriteData | FileAppendData | FileWriteEA | FileWriteAttributes, SID: Everyone}, everyoneWrite)
	f.mkdir(t, `C:\inheritonly`, ACE{Type: Allow, Flags: InheritAll | InheritOnly, Mask: GenericWrite, SID: Everyone})
	f.mkdir(t, `C:\users\me\src\app`, everyoneWrite) // inside a writable root
	f.mkdir(t, `D:\real`, everyoneWrite)
	f.link(t, `C:\junction`, `D:\real`)

	env := ScanEnv{
		Workspace: `C:\users\me\src\app`, SystemDrive: `C:`, SystemRoot: `C:\Windows`,
		Path: []string{`C:\tools`, `"C:\shared"`, ``},
	}
	places := ScanPlaces(env)
	if !slices.Equal(places, []string{`C:\users\me\src\app`, `C:\tools`, `C:\shared`, `C:\`, `C:\Windows`}) {
		t.Fatalf("places = %q", places)
	}
	clock := &fakeClock{step: time.Millisecond}
	res := Scan(f, places, []string{`C:\users\me\src\app`}, []SID{Everyone}, DefaultScanLimits, clock.now)
	want := []string{`C:\tools`, `C:\shared`, `C:\shared\sub`, `C:\Windows\Tasks`}
	slices.Sort(want)
	got := slices.Clone(res.Writable)
	slices.Sort(got)
	if !slices.Equal(got, want) || res.Incomplete != "" {
		t.Fatalf("writable = %q (incomplete %q), want %q", got, res.Incomplete, want)
	}

	// The limits hold, and say so.
	res = Scan(f, places, nil, []SID{Everyone}, ScanLimits{Budget: time.Hour, MaxChecks: 3, MaxPerDir: 1000}, clock.now)
	if res.Checked != 3 || !strings.Contains(res.Incomplete, "check limit") {
		t.Fatalf("check limit: %+v", res)
	}
	res = Scan(f, places, nil, []SID{Everyone}, ScanLimits{Budget: 5 * time.Second, MaxChecks: 1000, MaxPerDir: 1000}, (&fakeClock{step: time.Second}).now)
	if !strings.Contains(res.Incomplete, "time budget") || res.Checked >= 10 {
		t.Fatalf("time budget: %+v", res)
	}
	res = Scan(f, []string{`C:\`}, nil, []SID{Everyone}, ScanLimits{Budget: time.Hour, MaxChecks: 1000, MaxPerDir: 2}, clock.now)
	if res.Checked != 3 {
		t.Fatalf("per-directory limit: checked %d, want C:\\ and two children", res.Checked)
	}
}

func TestVolumeRoot(t *testing.T) {
	for in, want := range map[string]string{`C:\x\y`: `C:\`, `c:\`: `C:\`, `\\srv\share\a`: `\\srv\share\`, `\\?\UNC\srv\share`: `\\srv\share\`} {
		if got, err := VolumeRoot(in); err != nil || got != want {
			t.Errorf("VolumeRoot(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := VolumeRoot(`rel\x`); err == nil {
		t.Error("a relative path has a volume root")
	}
}

func TestSplit(t *testing.T) {
	for in, want := range map[string][2]string{`C:\a\b`: {`C:\a`, "b"}, `C:\a`: {`C:\`, "a"}, `C:\`: {`C:\`, ""}, `\\s\h\x`: {`\\s\h\`, "x"}} {
		if d, n := Split(in); d != want[0] || n != want[1] {
			t.Errorf("Split(%s) = %q, %q; want %q", in, d, n, want)
		}
	}
}

func TestCheckCaller(t *testing.T) {
	for _, c := range []struct {
		elevated bool
		typ      uint32
		ok       bool
	}{
		{false, ElevationLimited, true}, // a UAC-filtered administrator
		{false, ElevationDefault, true}, // a standard user
		{true, ElevationFull, false},    // "Run as administrator"
		{true, ElevationDefault, false}, // UAC off, administrator
		{false, ElevationFull, false},   // inconsistent: refuse
	} {
		err := CheckCaller(c.elevated, c.typ)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrElevated)) {
			t.Errorf("CheckCaller(%t, %d) = %v, want ok %t", c.elevated, c.typ, err, c.ok)
		}
	}
}
