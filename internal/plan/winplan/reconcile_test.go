package winplan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func fixedNow() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }

func reconcile(t *testing.T, f *fakeFS, j *memJournal, p *Plan) ReconcileStats {
	t.Helper()
	st, err := Reconcile(f, f, j, &p.ACL, fixedNow)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return st
}

// TestReconcileIdempotent: the first run on a fresh tree writes every ACE
// and placeholder; a second run, planned afresh against the stamped tree,
// writes nothing at all.
func TestReconcileIdempotent(t *testing.T) {
	f := project(t)
	sids := &fixedSIDs{}
	j := &memJournal{}

	p1 := build(t, f, baseInput(), sids)
	st1 := reconcile(t, f, j, p1)
	if f.aceWrites != len(p1.ACL.Grants) || st1.ACEsAdded != len(p1.ACL.Grants) {
		t.Fatalf("first run wrote %d ACEs (stats %d), want all %d", f.aceWrites, st1.ACEsAdded, len(p1.ACL.Grants))
	}
	if f.creates != 2 || len(st1.Created) != 2 {
		t.Fatalf("first run created %d placeholders, want 2", f.creates)
	}
	if len(j.aces) != st1.ACEsAdded || len(j.placeholders) != 2 {
		t.Fatalf("ledger has %d ACEs and %d placeholders, want %d and 2", len(j.aces), len(j.placeholders), st1.ACEsAdded)
	}

	writes, creates := f.aceWrites, f.creates
	p2 := build(t, f, baseInput(), sids)
	st2 := reconcile(t, f, j, p2)
	if f.aceWrites != writes || f.creates != creates || st2.ACEsAdded != 0 || len(st2.Created) != 0 {
		t.Fatalf("second run wrote %d ACEs and created %d placeholders, want none", f.aceWrites-writes, f.creates-creates)
	}
	if st2.ACEsPresent != len(p2.ACL.Grants) {
		t.Fatalf("second run found %d of %d ACEs present", st2.ACEsPresent, len(p2.ACL.Grants))
	}
	if len(j.aces) != st1.ACEsAdded {
		t.Fatalf("second run added ledger entries")
	}
}

// TestReconcileNeedsExplicitACE: an ACE that a protected path only inherits
// (here from a deny on its parent) does not count; the path gets its own.
func TestReconcileNeedsExplicitACE(t *testing.T) {
	f := project(t)
	p := build(t, f, baseInput(), &fixedSIDs{})
	sid := p.Roots[0].SID
	f.nodes[mustKey(testWS+`\.git`)].aces = []ACE{{Type: Deny, Flags: InheritAll, Mask: DenyWriteMask, SID: sid}}
	reconcile(t, f, &memJournal{}, p)
	hooks := f.nodes[mustKey(testWS+`\.git\hooks`)]
	var own []ACE
	for _, a := range hooks.aces {
		if a.SID == sid {
			own = append(own, a)
		}
	}
	if len(own) != 1 || own[0].Type != Deny {
		t.Fatalf(".git\\hooks explicit ACEs = %+v, want its own deny", hooks.aces)
	}
}

// TestReconcileAcceptsEquivalentACE: an explicit ACE that already grants as
// much (here GENERIC_ALL) is not rewritten.
func TestReconcileAcceptsEquivalentACE(t *testing.T) {
	f := project(t)
	p := build(t, f, baseInput(), &fixedSIDs{})
	sid := p.Roots[0].SID
	f.nodes[mustKey(testWS)].aces = []ACE{{Type: Allow, Flags: InheritAll, Mask: GenericAll, SID: sid}}
	reconcile(t, f, &memJournal{}, p)
	got := f.nodes[mustKey(testWS)].aces
	if i := slices.IndexFunc(got, func(a ACE) bool { return a.SID == sid }); i < 0 || got[i].Mask != GenericAll || slices.ContainsFunc(got[i+1:], func(a ACE) bool { return a.SID == sid }) {
		t.Fatalf("root ACEs = %+v, want the GENERIC_ALL ACE untouched", got)
	}
	// Not inheritable is not equivalent.
	f2 := project(t)
	p2 := build(t, f2, baseInput(), &fixedSIDs{})
	f2.nodes[mustKey(testWS)].aces = []ACE{{Type: Allow, Mask: GenericAll, SID: p2.Roots[0].SID}}
	before := f2.aceWrites
	reconcile(t, f2, &memJournal{}, p2)
	if f2.aceWrites == before {
		t.Fatal("a non-inheritable ACE was taken for the inheritable root grant")
	}
}

func TestReconcileNullDevice(t *testing.T) {
	// Everyone already may read and write NUL: nothing to add.
	f := project(t)
	nul := f.kernel[mustKey(NullDevice.Path)]
	nul.aces = []ACE{{Type: Allow, Mask: GenericRead | GenericWrite, SID: Everyone}}
	p := build(t, f, baseInput(), &fixedSIDs{})
	reconcile(t, f, &memJournal{}, p)
	if len(nul.aces) != 1 {
		t.Fatalf("NUL ACEs = %+v, want Everyone's alone", nul.aces)
	}
	// Only administrators may: the logon SID gets an ACE.
	nul.aces = []ACE{{Type: Allow, Mask: GenericAll, SID: "S-1-5-32-544"}}
	reconcile(t, f, &memJournal{}, p)
	if len(nul.aces) != 2 || nul.aces[1].SID != testLogon || nul.aces[1].Mask != NullDeviceMask {
		t.Fatalf("NUL ACEs = %+v, want one for the logon SID", nul.aces)
	}
}

func TestReconcileFailsWhenACEDoesNotStick(t *testing.T) {
	f := project(t)
	f.dropWrites = true
	p := build(t, f, baseInput(), &fixedSIDs{})
	_, err := Reconcile(f, f, &memJournal{}, &p.ACL, fixedNow)
	if err == nil || !strings.Contains(err.Error(), "not in its DACL after writing") {
		t.Fatalf("err = %v", err)
	}
}

func TestReconcileRefusesNullDACL(t *testing.T) {
	f := project(t)
	f.nodes[mustKey(testWS)].null = true
	p := build(t, f, baseInput(), &fixedSIDs{})
	_, err := Reconcile(f, f, &memJournal{}, &p.ACL, fixedNow)
	if err == nil || !strings.Contains(err.Error(), "NULL DACL") {
		t.Fatalf("err = %v", err)
	}
}

// failingWriter fails every DACL write, to show the ledger is written first.
type failingWriter struct{ *fakeFS }

func (failingWriter) WriteDACL(Object, DACL) error { return errors.New("access denied") }

func TestReconcileJournalsBeforeWriting(t *testing.T) {
	f := project(t)
	p := build(t, f, baseInput(), &fixedSIDs{})
	j := &memJournal{}
	_, err := Reconcile(f, failingWriter{f}, j, &p.ACL, fixedNow)
	if err == nil {
		t.Fatal("Reconcile succeeded with a failing writer")
	}
	if len(j.aces) != 1 || j.aces[0].Added != fixedNow() {
		t.Fatalf("ledger = %+v, want the attempted ACE recorded", j.aces)
	}
}

func TestCleanupRevokesEverything(t *testing.T) {
	f := project(t)
	nul := f.kernel[mustKey(NullDevice.Path)]
	nul.aces = []ACE{{Type: Allow, Mask: GenericAll, SID: "S-1-5-32-544"}}
	in := baseInput()
	in.WritableRoots = []string{`C:\other`}
	f.mkdir(t, `C:\other`)
	j := &memJournal{}
	p := build(t, f, in, &fixedSIDs{})
	p.AddWorldWritableDenies([]string{`C:\tools`})
	f.mkdir(t, `C:\tools`)
	reconcile(t, f, j, p)
	all := append(p.CapabilitySIDs(), testLogon)
	if len(f.explicitFor(all...)) == 0 {
		t.Fatal("nothing was stamped")
	}
	// Something is put in one placeholder after it was created; that must
	// not disturb the placeholder's own ACEs, or the check below proves
	// nothing for it.
	f.file(t, testWS+`\.vscode\settings.json`, 5)
	if got := f.explicitFor(all...); !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, testWS+`\.vscode: deny`) }) {
		t.Fatalf(".vscode lost its deny ACE before cleanup ran:\n%s", strings.Join(got, "\n"))
	}

	res, err := Cleanup(f, f, j.ledger())
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if left := f.explicitFor(all...); len(left) != 0 {
		t.Fatalf("ACEs left after cleanup:\n%s", strings.Join(left, "\n"))
	}
	if len(res.Remaining.ACEs) != 0 || len(res.Remaining.Placeholders) != 0 {
		t.Fatalf("remaining = %+v", res.Remaining)
	}
	if len(res.Removed) != 1 || res.Removed[0] != testWS+`\.mcp.json` {
		t.Fatalf("removed = %v, want the empty .mcp.json placeholder", res.Removed)
	}
	if len(res.Kept) != 1 || res.Kept[0] != testWS+`\.vscode` {
		t.Fatalf("kept = %v, want .vscode, which is no longer empty", res.Kept)
	}
	if info, _ := f.Lstat(testWS + `\.vscode\settings.json`); !info.Exists {
		t.Fatal("cleanup deleted a user's file")
	}
}

func TestCleanupSkipsVanishedPathsAndReportsFailures(t *testing.T) {
	f := project(t)
	j := &memJournal{}
	p := build(t, f, baseInput(), &fixedSIDs{})
	reconcile(t, f, j, p)
	delete(f.nodes, mustKey(testWS+`\.git\hooks`))
	l := j.ledger()
	l.ACEs = append(l.ACEs, LedgerACE{Path: `C:\gone\x`, Type: "deny", SID: p.Roots[0].SID})
	locked := ACE{Type: Allow, Flags: InheritAll, Mask: RootAllowMask, SID: p.Roots[0].SID}
	f.mkdir(t, `C:\locked`, locked)
	l.ACEs = append(l.ACEs, LedgerACE{Path: `C:\locked`, Type: "allow", SID: locked.SID, Mask: locked.Mask, Flags: locked.Flags})
	res, err := Cleanup(f, revokeFails{f, `C:\locked`}, l)
	if err == nil || !strings.Contains(err.Error(), `C:\locked`) {
		t.Fatalf("err = %v, want the failure on C:\\locked", err)
	}
	onHooks := 0
	for _, e := range l.ACEs {
		if e.Path == testWS+`\.git\hooks` {
			onHooks++
		}
	}
	if onHooks != 2 || res.Gone != onHooks+1 {
		t.Fatalf("gone = %d, want %d (the ACEs on .git\\hooks and C:\\gone\\x)", res.Gone, onHooks+1)
	}
	if len(res.Remaining.ACEs) != 1 || res.Remaining.ACEs[0].Path != `C:\locked` {
		t.Fatalf("remaining = %+v", res.Remaining.ACEs)
	}
}

type revokeFails struct {
	*fakeFS
	path string
}

func (r revokeFails) WriteDACL(obj Object, d DACL) error {
	if obj.Path == r.path {
		return errors.New("access denied")
	}
	return r.fakeFS.WriteDACL(obj, d)
}

// TestReconcileBestEffort: a best-effort grant that cannot be made is
// reported and the rest goes on; a required one still fails the run.
func TestReconcileBestEffort(t *testing.T) {
	f := project(t)
	p := build(t, f, baseInput(), &fixedSIDs{})
	w := revokeFails{f, testProfile}
	st, err := Reconcile(f, w, &memJournal{}, &p.ACL, fixedNow)
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	if len(st.Failed) != 1 || st.Failed[0].Grant.Object.Path != testProfile || !st.Failed[0].Grant.BestEffort {
		t.Fatalf("failed = %+v, want the guard on the profile", st.Failed)
	}
	facts := ReconcileFacts(st)
	if len(facts) != 1 || facts[0].Status != NotEnforced || !strings.Contains(facts[0].Detail, testProfile) {
		t.Fatalf("facts = %+v", facts)
	}
	if st.ACEsAdded != len(p.ACL.Grants)-1 {
		t.Fatalf("added %d of %d", st.ACEsAdded, len(p.ACL.Grants)-1)
	}
	f2 := project(t)
	p2 := build(t, f2, baseInput(), &fixedSIDs{})
	if _, err := Reconcile(f2, revokeFails{f2, testWS}, &memJournal{}, &p2.ACL, fixedNow); err == nil {
		t.Fatal("a required grant failed and Reconcile went on")
	}
}

// TestPropagateSkipsLinks: the propagation walk rewrites what inherits
// from the directory, leaves reparse points, hard-linked files and
// protected DACLs alone, writes nothing where the DACL already matches, and
// records a failure without stopping.
func TestPropagateSkipsLinks(t *testing.T) {
	f := newFakeFS()
	f.mkdir(t, `C:\r`, ACE{Type: Allow, Flags: InheritAll, Mask: FileGenericRead, SID: Everyone})
	f.file(t, `C:\r\a`, 1)
	f.mkdir(t, `C:\r\sub`)
	f.file(t, `C:\r\sub\b`, 1)
	f.link(t, `C:\r\j`, `D:\x`)
	f.mkdir(t, `D:\x`)
	f.file(t, `C:\r\linked`, 1)
	f.file(t, `C:\r\prot`, 1).protected = true
	st := &PropagationStats{}
	d, _ := f.ReadDACL(Object{Path: `C:\r`})
	lw := linkCounts{f, map[string]int{mustKey(`C:\r\linked`): 2}}
	propagate(lw, f, `C:\r`, d, st)
	// The fake computes inheritance on read, so a sound tree needs nothing.
	if f.aceWrites != 0 || st.Rewritten != 0 {
		t.Fatalf("wrote %d DACLs on a tree that inherits already", f.aceWrites)
	}
	if !slices.Equal(st.Skipped, []string{`C:\r\j`, `C:\r\linked`}) {
		t.Fatalf("skipped %v, want the junction and the hard link", st.Skipped)
	}
	// A stale explicit-looking inherited ACE (as a move leaves) is rewritten.
	f.nodes[mustKey(`C:\r\sub\b`)].aces = []ACE{{Type: Allow, Flags: Inherited, Mask: FileAllAccess, SID: "S-1-5-21-9-9-9-9"}}
	st = &PropagationStats{}
	propagate(lw, f, `C:\r`, d, st)
	if st.Rewritten != 1 || f.aceWrites != 1 {
		t.Fatalf("rewrote %d (writes %d), want the stale file", st.Rewritten, f.aceWrites)
	}
	st = &PropagationStats{}
	f.nodes[mustKey(`C:\r\sub\b`)].aces = []ACE{{Type: Allow, Flags: Inherited, Mask: FileAllAccess, SID: "S-1-5-21-9-9-9-9"}}
	propagate(lw, revokeFails{f, `C:\r\sub\b`}, `C:\r`, d, st)
	if len(st.Failed) != 1 || st.Failed[0].Grant.Object.Path != `C:\r\sub\b` {
		t.Fatalf("failed = %+v", st.Failed)
	}
}

// linkCounts reports hard-link counts the fake does not model.
type linkCounts struct {
	*fakeFS
	links map[string]int
}

func (l linkCounts) Lstat(p string) (FileInfo, error) {
	info, err := l.fakeFS.Lstat(p)
	if n, ok := l.links[strings.ToLower(p)]; ok {
		info.Links = n
	}
	return info, err
}

// countingFS counts the reads a reconcile makes.
type countingFS struct {
	*fakeFS
	lstats, dacls, dirs int
}

func (c *countingFS) Lstat(p string) (FileInfo, error) { c.lstats++; return c.fakeFS.Lstat(p) }
func (c *countingFS) ReadDACL(o Object) (DACL, error)  { c.dacls++; return c.fakeFS.ReadDACL(o) }
func (c *countingFS) ReadDir(p string, max int) ([]DirEntry, error) {
	c.dirs++
	return c.fakeFS.ReadDir(p, max)
}

// TestReconcileLargeTree: issue 15, point 3. On a workspace of 100,000
// files, the first run walks the tree once (its propagation), and a second
// run, planned afresh, writes nothing and reads a number of DACLs that
// depends on the protected paths, not on the tree. The wall time is logged,
// not asserted.
func TestReconcileLargeTree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-file tree")
	}
	f := project(t)
	for d := 0; d < 100; d++ {
		for i := 0; i < 1000; i++ {
			p := fmt.Sprintf(`%s\pkg%03d\f%04d.go`, testWS, d, i)
			f.nodes[mustKey(p)] = &fakeNode{path: p, size: 1}
		}
		f.ensureDir(t, fmt.Sprintf(`%s\pkg%03d`, testWS, d))
	}
	f.indexChildren()
	sids := &fixedSIDs{}
	c := &countingFS{fakeFS: f}
	start := time.Now()
	p1, err := Build(baseInput(), c, sids, testID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reconcile(c, f, &memJournal{}, &p1.ACL, fixedNow); err != nil {
		t.Fatal(err)
	}
	first := time.Since(start)
	if c.dirs < 100 {
		t.Fatalf("the first run listed %d directories: the propagation did not walk the tree", c.dirs)
	}
	writes := f.aceWrites
	c.lstats, c.dacls, c.dirs = 0, 0, 0
	start = time.Now()
	p2, err := Build(baseInput(), c, sids, testID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Reconcile(c, f, &memJournal{}, &p2.ACL, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	second := time.Since(start)
	if f.aceWrites != writes || st.ACEsAdded != 0 || st.Propagated != 0 {
		t.Fatalf("the second run wrote %d DACLs (%+v)", f.aceWrites-writes, st)
	}
	if c.dacls > 2*len(p2.ACL.Grants) || c.dirs > 10 {
		t.Fatalf("the second run read %d DACLs and listed %d directories for %d grants: it depends on the tree",
			c.dacls, c.dirs, len(p2.ACL.Grants))
	}
	t.Logf("100,000 files: first run %s, second run %s (%d DACL reads, %d listings, %d lstats, 0 writes)",
		first, second, c.dacls, c.dirs, c.lstats)
}
