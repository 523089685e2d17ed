package winplan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func openState(t *testing.T, dir string) *State {
	t.Helper()
	s, err := OpenState(context.Background(), dir)
	if err != nil {
		t.Fatalf("OpenState: %v", err)
	}
	return s
}

func TestStateSIDsAreStoredAndReused(t *testing.T) {
	dir := t.TempDir()
	s := openState(t, dir)
	first, err := s.SIDsFor([]string{`C:\Src\App`, `D:\cache`})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	app, cache := first[`c:\src\app`], first[`d:\cache`]
	if !IsCapabilitySID(app) || !IsCapabilitySID(cache) || app == cache {
		t.Fatalf("SIDs = %v", first)
	}

	s = openState(t, dir)
	defer s.Close()
	again, err := s.SIDsFor([]string{`c:\src\app\`, `C:/SRC/APP/.`, `E:\new`})
	if err != nil {
		t.Fatal(err)
	}
	if again[`c:\src\app`] != app {
		t.Fatalf("SID for the same root, spelled differently, changed: %s then %s", app, again[`c:\src\app`])
	}
	roots, err := s.StoredRoots()
	if err != nil || len(roots) != 3 {
		t.Fatalf("stored roots = %+v, %v", roots, err)
	}
	// The file holds what the format documentation says.
	data, err := os.ReadFile(filepath.Join(dir, sidStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version int `json:"version"`
		Roots   []struct {
			Key, Path string
			SID       SID
		} `json:"roots"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.Version != 1 || doc.Roots[0].Path != `C:\Src\App` || doc.Roots[0].Key != `c:\src\app` || doc.Roots[0].SID != app {
		t.Fatalf("store file = %s (err %v)", data, err)
	}
}

// TestStateConcurrentGoroutines: many cordon runs at once, each with its
// own State, agree on one SID for a shared root, and no one's new root or
// ledger entry is lost.
func TestStateConcurrentGoroutines(t *testing.T) {
	dir := t.TempDir()
	const n = 16
	got := make([]SID, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = oneRun(dir, i)
		}()
	}
	wg.Wait()
	checkConcurrentResult(t, dir, n, got, errs)
}

// oneRun is what one cordon process does with the state: take the lock, get
// SIDs for a shared root and its own, record an ACE, release.
func oneRun(dir string, i int) (SID, error) {
	s, err := OpenState(context.Background(), dir)
	if err != nil {
		return "", err
	}
	defer s.Close()
	sids, err := s.SIDsFor([]string{`C:\shared`, fmt.Sprintf(`C:\own\%d`, i)})
	if err != nil {
		return "", err
	}
	if err := s.RecordACE(LedgerACE{Path: fmt.Sprintf(`C:\own\%d`, i), Type: "allow", SID: sids[fmt.Sprintf(`c:\own\%d`, i)]}); err != nil {
		return "", err
	}
	return sids[`c:\shared`], nil
}

func checkConcurrentResult(t *testing.T, dir string, n int, got []SID, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	for i := range got {
		if got[i] != got[0] || !IsCapabilitySID(got[i]) {
			t.Fatalf("runs disagree on the shared root's SID: %v", got)
		}
	}
	s := openState(t, dir)
	defer s.Close()
	roots, err := s.StoredRoots()
	if err != nil || len(roots) != n+1 {
		t.Fatalf("store has %d roots (err %v), want %d", len(roots), err, n+1)
	}
	l, err := s.Ledger()
	if err != nil || len(l.ACEs) != n {
		t.Fatalf("ledger has %d entries (err %v), want %d", len(l.ACEs), err, n)
	}
}

// TestStateConcurrentProcesses does the same across processes, the case the
// lock file exists for.
func TestStateConcurrentProcesses(t *testing.T) {
	if os.Getenv("WINPLAN_STATE_CHILD") != "" {
		t.Skip("helper mode")
	}
	dir := t.TempDir()
	const n = 6
	cmds := make([]*exec.Cmd, n)
	outs := make([]*strings.Builder, n)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestStateChildProcess$")
		cmds[i].Env = append(os.Environ(), "WINPLAN_STATE_CHILD="+dir, "WINPLAN_STATE_INDEX="+strconv.Itoa(i))
		outs[i] = &strings.Builder{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]SID, n)
	errs := make([]error, n)
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			errs[i] = fmt.Errorf("%v: %s", err, outs[i])
			continue
		}
		for _, line := range strings.Split(outs[i].String(), "\n") {
			if v, ok := strings.CutPrefix(line, "SHARED-SID="); ok {
				got[i] = SID(v)
			}
		}
	}
	checkConcurrentResult(t, dir, n, got, errs)
}

func TestStateChildProcess(t *testing.T) {
	dir := os.Getenv("WINPLAN_STATE_CHILD")
	if dir == "" {
		t.Skip("runs only as TestStateConcurrentProcesses's child")
	}
	i, _ := strconv.Atoi(os.Getenv("WINPLAN_STATE_INDEX"))
	sid, err := oneRun(dir, i)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("SHARED-SID=%s\n", sid)
}

func TestStateLockHonoursContext(t *testing.T) {
	dir := t.TempDir()
	held := openState(t, dir)
	defer held.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := OpenState(ctx, dir); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("OpenState while locked = %v, want the context's error", err)
	}
	held.Close()
	s := openState(t, dir) // free again
	s.Close()
}

func TestStateCorruptFiles(t *testing.T) {
	good := `{"version":1,"roots":[{"key":"c:\\a","path":"C:\\a","sid":"S-1-5-21-1-2-3-4","created":"2026-01-01T00:00:00Z"}]}`
	cases := []struct {
		name, file, content, want string
	}{
		{"not JSON", sidStoreFile, "{garbage", "capability SID store"},
		{"truncated", sidStoreFile, good[:40], "capability SID store"},
		{"newer version", sidStoreFile, `{"version":2,"roots":[]}`, "format version 2"},
		{"unknown field", sidStoreFile, `{"version":1,"roots":[],"extra":1}`, "unknown field"},
		{"bad SID", sidStoreFile, strings.Replace(good, "S-1-5-21-1-2-3-4", "S-1-5-32-544", 1), "not a capability SID"},
		{"key mismatch", sidStoreFile, strings.Replace(good, `c:\\a`, `c:\\b`, 1), "does not match its path"},
		{"shared SID", sidStoreFile, `{"version":1,"roots":[{"key":"c:\\a","path":"C:\\a","sid":"S-1-5-21-1-2-3-4"},{"key":"c:\\b","path":"C:\\b","sid":"S-1-5-21-1-2-3-4"}]}`, "two roots"},
		{"trailing data", sidStoreFile, good + good, "trailing data"},
		{"ledger not JSON", ledgerFile, "[", "ACE ledger"},
		{"ledger entry incomplete", ledgerFile, `{"version":1,"aces":[{"path":"C:\\a","type":"allow"}],"placeholders":[]}`, "incomplete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, c.file)
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := openState(t, dir)
			defer s.Close()
			var err error
			if c.file == sidStoreFile {
				_, err = s.SIDsFor([]string{`C:\a`})
			} else {
				_, err = s.Ledger()
			}
			if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want ErrCorruptState naming %s and %q", err, path, c.want)
			}
			// The file is left for the user to inspect.
			if data, _ := os.ReadFile(path); string(data) != c.content {
				t.Fatal("the corrupt file was changed")
			}
		})
	}
}

// TestStateResetForgetsSIDs: after a complete cleanup the next run draws new
// SIDs; a cleanup works even when the SID store is corrupt.
func TestStateResetForgetsSIDs(t *testing.T) {
	dir := t.TempDir()
	s := openState(t, dir)
	before, _ := s.SIDsFor([]string{`C:\a`})
	if err := s.RecordACE(LedgerACE{Path: `C:\a`, Type: "allow", SID: before[`c:\a`]}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, sidStoreFile), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}

	s = openState(t, dir)
	l, err := s.Ledger()
	if err != nil || len(l.ACEs) != 1 {
		t.Fatalf("ledger = %+v, %v", l, err)
	}
	if err := s.Reset(Ledger{}); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	after, err := s.SIDsFor([]string{`C:\a`})
	if err != nil {
		t.Fatal(err)
	}
	if after[`c:\a`] == before[`c:\a`] {
		t.Fatal("the SID survived a complete cleanup")
	}
	s.Close()

	// A partial cleanup keeps the SIDs, which the remaining ACEs still name.
	s = openState(t, dir)
	defer s.Close()
	if err := s.Reset(Ledger{ACEs: []LedgerACE{{Path: `C:\a`, Type: "allow", SID: after[`c:\a`]}}}); err != nil {
		t.Fatal(err)
	}
	kept, _ := s.SIDsFor([]string{`C:\a`})
	if kept[`c:\a`] != after[`c:\a`] {
		t.Fatal("a partial cleanup forgot a SID that remaining ACEs use")
	}
}

func TestScanCache(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	places := []string{`C:\`, `C:\Windows`}
	sids := []SID{Everyone, testLogon}
	res := ScanResult{Writable: []string{`C:\tools`}, Checked: 40}
	cache := WithScan(nil, places, sids, now, res)
	got, ok := CachedScanFor(cache, []string{`c:\`, `c:\windows`}, []SID{testLogon, Everyone}, now.Add(time.Minute))
	if !ok || !slices.Equal(got.Writable, res.Writable) || !got.Cached.Equal(now) {
		t.Fatalf("fresh entry: %+v, %t", got, ok)
	}
	if !strings.Contains(got.Summary(), "reused for") {
		t.Errorf("summary %q does not say the result was reused", got.Summary())
	}
	if _, ok := CachedScanFor(cache, places, sids, now.Add(ScanCacheTTL)); ok {
		t.Error("an expired entry was used")
	}
	if _, ok := CachedScanFor(cache, places, []SID{Everyone}, now); ok {
		t.Error("an entry for other SIDs was used")
	}
	if _, ok := CachedScanFor(cache, places, sids, now.Add(-time.Second)); ok {
		t.Error("an entry from the future was used")
	}
	inc := WithScan(nil, places, sids, now, ScanResult{Incomplete: "time budget spent"})
	if _, ok := CachedScanFor(inc, places, sids, now); ok {
		t.Error("an incomplete scan was reused")
	}
	for i := 0; i < 40; i++ {
		cache = WithScan(cache, []string{fmt.Sprintf(`C:\p%d`, i)}, sids, now, res)
	}
	if len(cache) != maxCachedScans {
		t.Errorf("%d entries kept, want %d", len(cache), maxCachedScans)
	}

	st, err := OpenState(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.Scans(); got != nil {
		t.Fatalf("new state has scans %v", got)
	}
	if err := st.SaveScans(cache[:2]); err != nil {
		t.Fatal(err)
	}
	if got := st.Scans(); len(got) != 2 || got[0].Result.Checked != 40 {
		t.Fatalf("scans read back %+v", got)
	}
	if err := os.WriteFile(filepath.Join(st.dir, scanFile), []byte("{bad"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := st.Scans(); got != nil {
		t.Fatalf("a corrupt cache gave %v", got)
	}
}
