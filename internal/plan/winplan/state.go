package winplan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cordon-sandbox/cordon/internal/fsutil"
)

// The state directory holds four files:
//
//	capsids.json  the capability SID store
//	ledger.json   every ACE and placeholder cordon added
//	scan.json     recent scans for writable directories, reused for
//	              ScanCacheTTL (a cache: ignored when missing or unreadable)
//	state.lock    held exclusively while either is read or changed, and
//	              while ACLs are reconciled, so that concurrent cordon
//	              processes neither draw two SIDs for one root nor lose each
//	              other's ACEs in a DACL read-modify-write
//
// capsids.json, format version 1:
//
//	{
//	  "version": 1,
//	  "roots": [
//	    {"key": "c:\\src\\app", "path": "C:\\src\\app",
//	     "sid": "S-1-5-21-3518006405-1230913447-3049934710-99710734",
//	     "created": "2026-11-27T10:00:00Z"}
//	  ]
//	}
//
// key is [PathKey] of the root's final path and is unique, as is sid. The
// SID of a root is drawn once, with crypto/rand, and reused until cleanup.
//
// ledger.json, format version 1:
//
//	{
//	  "version": 1,
//	  "aces": [{"path": "C:\\src\\app", "type": "allow", "sid": "S-1-5-21-...",
//	            "mask": 1245631, "flags": 3, "reason": "writable root",
//	            "added": "2026-11-27T10:00:00Z"}],
//	  "placeholders": [{"path": "C:\\src\\app\\.vscode", "dir": true}]
//	}
//
// Both files are replaced atomically (write to a temporary file, then
// rename). Neither must lie where the sandbox can write: [Input] refuses a
// state directory inside the workspace or a writable root.
const (
	sidStoreFile  = "capsids.json"
	ledgerFile    = "ledger.json"
	scanFile      = "scan.json"
	lockFile      = "state.lock"
	formatVersion = 1
)

// scanCache is scan.json: the recent scans of writable directories
// (CachedScan), which only save time: a corrupt or missing one is ignored.
type scanCache struct {
	Version int          `json:"version"`
	Scans   []CachedScan `json:"scans"`
}

// Scans returns the cached scans; a missing or unreadable cache is empty.
func (s *State) Scans() []CachedScan {
	c := &scanCache{}
	if err := load(filepath.Join(s.dir, scanFile), c); err != nil || c.Version != formatVersion {
		return nil
	}
	return c.Scans
}

// SaveScans replaces the cached scans.
func (s *State) SaveScans(scans []CachedScan) error {
	return s.save(scanFile, &scanCache{Version: formatVersion, Scans: scans})
}

// StoredRoot is one entry of the capability SID store.
type StoredRoot struct {
	Key     string    `json:"key"`
	Path    string    `json:"path"`
	SID     SID       `json:"sid"`
	Created time.Time `json:"created"`
}

type sidStore struct {
	Version int          `json:"version"`
	Roots   []StoredRoot `json:"roots"`
}

// Ledger is the record of everything cordon added to this machine's ACLs.
type Ledger struct {
	Version      int           `json:"version"`
	ACEs         []LedgerACE   `json:"aces"`
	Placeholders []Placeholder `json:"placeholders"`
}

// State is the locked state directory. Open it with [OpenState], and Close
// it to release the lock.
type State struct {
	dir    string
	unlock func() error
	now    func() time.Time
	newSID func() (SID, error)

	sids   *sidStore // loaded on first use
	ledger *Ledger   // loaded on first use
}

// OpenState creates dir if needed (private to the user) and takes its lock,
// waiting until ctx is done if another cordon holds it.
func OpenState(ctx context.Context, dir string) (*State, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating cordon's state directory: %w", err)
	}
	unlock, err := lockPath(ctx, filepath.Join(dir, lockFile))
	if err != nil {
		return nil, fmt.Errorf("locking cordon's state directory %s: %w", dir, err)
	}
	return &State{dir: dir, unlock: unlock, now: time.Now, newSID: NewCapabilitySID}, nil
}

// Close releases the lock.
func (s *State) Close() error {
	if s.unlock == nil {
		return nil
	}
	err := s.unlock()
	s.unlock = nil
	return err
}

// SIDsFor returns the capability SID of each root (final paths), keyed by
// [PathKey], drawing and storing SIDs for roots seen for the first time.
func (s *State) SIDsFor(roots []string) (map[string]SID, error) {
	if err := s.loadSIDs(); err != nil {
		return nil, err
	}
	byKey := map[string]SID{}
	used := map[SID]bool{}
	for _, r := range s.sids.Roots {
		byKey[r.Key] = r.SID
		used[r.SID] = true
	}
	out := map[string]SID{}
	changed := false
	for _, root := range roots {
		clean, err := CleanPath(root)
		if err != nil {
			return nil, err
		}
		key := mustKey(clean)
		sid, ok := byKey[key]
		if !ok {
			for sid == "" || used[sid] {
				if sid, err = s.newSID(); err != nil {
					return nil, err
				}
			}
			used[sid] = true
			byKey[key] = sid
			s.sids.Roots = append(s.sids.Roots, StoredRoot{Key: key, Path: clean, SID: sid, Created: s.now().UTC()})
			changed = true
		}
		out[key] = sid
	}
	if changed {
		if err := s.save(sidStoreFile, s.sids); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// StoredRoots returns the capability SID store's entries.
func (s *State) StoredRoots() ([]StoredRoot, error) {
	if err := s.loadSIDs(); err != nil {
		return nil, err
	}
	return append([]StoredRoot(nil), s.sids.Roots...), nil
}

// Ledger returns a copy of the ledger.
func (s *State) Ledger() (Ledger, error) {
	if err := s.loadLedger(); err != nil {
		return Ledger{}, err
	}
	return Ledger{
		Version:      s.ledger.Version,
		ACEs:         append([]LedgerACE(nil), s.ledger.ACEs...),
		Placeholders: append([]Placeholder(nil), s.ledger.Placeholders...),
	}, nil
}

// RecordACE appends e to the ledger and saves it (implements [Journal]).
func (s *State) RecordACE(e LedgerACE) error {
	if err := s.loadLedger(); err != nil {
		return err
	}
	s.ledger.ACEs = append(s.ledger.ACEs, e)
	return s.save(ledgerFile, s.ledger)
}

// RecordPlaceholder appends p to the ledger and saves it (implements
// [Journal]).
func (s *State) RecordPlaceholder(p Placeholder) error {
	if err := s.loadLedger(); err != nil {
		return err
	}
	s.ledger.Placeholders = append(s.ledger.Placeholders, p)
	return s.save(ledgerFile, s.ledger)
}

// Reset replaces the ledger with remaining (what a cleanup could not undo)
// and, once nothing remains, forgets every capability SID, so that the next
// run draws new ones. It works even when the SID store is corrupt.
func (s *State) Reset(remaining Ledger) error {
	remaining.Version = formatVersion
	s.ledger = &remaining
	if err := s.save(ledgerFile, s.ledger); err != nil {
		return err
	}
	if len(remaining.ACEs) > 0 || len(remaining.Placeholders) > 0 {
		return nil
	}
	s.sids = &sidStore{Version: formatVersion}
	if err := os.Remove(filepath.Join(s.dir, sidStoreFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the capability SID store: %w", err)
	}
	return nil
}

func (s *State) loadSIDs() error {
	if s.sids != nil {
		return nil
	}
	st := &sidStore{Version: formatVersion}
	path := filepath.Join(s.dir, sidStoreFile)
	if err := load(path, st); err != nil {
		return err
	}
	if err := st.check(); err != nil {
		return corrupt(path, "capability SID store", err)
	}
	s.sids = st
	return nil
}

func (s *State) loadLedger() error {
	if s.ledger != nil {
		return nil
	}
	l := &Ledger{Version: formatVersion}
	path := filepath.Join(s.dir, ledgerFile)
	if err := load(path, l); err != nil {
		return err
	}
	if l.Version != formatVersion {
		return corrupt(path, "ACE ledger", fmt.Errorf("format version %d, this cordon reads version %d", l.Version, formatVersion))
	}
	for i, e := range l.ACEs {
		if e.Path == "" || e.SID == "" || (e.Type != "allow" && e.Type != "deny") {
			return corrupt(path, "ACE ledger", fmt.Errorf("entry %d is incomplete: %+v", i, e))
		}
	}
	s.ledger = l
	return nil
}

func (st *sidStore) check() error {
	if st.Version != formatVersion {
		return fmt.Errorf("format version %d, this cordon reads version %d", st.Version, formatVersion)
	}
	keys := map[string]bool{}
	sids := map[SID]bool{}
	for i, r := range st.Roots {
		if !IsCapabilitySID(r.SID) {
			return fmt.Errorf("entry %d (%s) has %q, which is not a capability SID S-1-5-21-a-b-c-d", i, r.Path, r.SID)
		}
		k, err := PathKey(r.Path)
		if err != nil || k != r.Key {
			return fmt.Errorf("entry %d has key %q that does not match its path %q", i, r.Key, r.Path)
		}
		if keys[r.Key] {
			return fmt.Errorf("root %s appears twice", r.Path)
		}
		if sids[r.SID] {
			return fmt.Errorf("SID %s is given to two roots", r.SID)
		}
		keys[r.Key], sids[r.SID] = true, true
	}
	return nil
}

// load decodes the JSON file at path into v; a missing file leaves v as is.
func load(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	what := "capability SID store"
	if filepath.Base(path) == ledgerFile {
		what = "ACE ledger"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return corrupt(path, what, err)
	}
	if dec.More() {
		return corrupt(path, what, errors.New("trailing data after the JSON document"))
	}
	return nil
}

// ErrCorruptState marks a state file cordon cannot trust.
var ErrCorruptState = errors.New("corrupt cordon state file")

func corrupt(path, what string, err error) error {
	advice := "move it aside; the ACEs it lists stay in place until you revoke them by hand (icacls PATH /remove SID)"
	if what != "ACE ledger" {
		advice = "move it aside and run \"cordon windows cleanup\", which revokes the ACEs in the ledger; the next run draws new SIDs"
	}
	return fmt.Errorf("%w: the %s %s cannot be used (%v); cordon will not guess what it held: %s",
		ErrCorruptState, what, path, err, advice)
}

// save writes v to name in the state directory atomically.
func (s *State) save(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(s.dir, name), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving %s: %w", name, err)
	}
	return nil
}
