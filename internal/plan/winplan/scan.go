package winplan

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ScanLimits bound the Everyone-writable scan, which runs before commands
// and in doctor and must not hold them up.
type ScanLimits struct {
	Budget    time.Duration // wall time
	MaxChecks int           // DACLs read
	MaxPerDir int           // entries listed per directory
}

// DefaultScanLimits are those of the Codex sandbox's world-writable audit
// (openai/codex codex-rs/windows-sandbox-rs/src/audit.rs).
var DefaultScanLimits = ScanLimits{Budget: 2 * time.Second, MaxChecks: 50000, MaxPerDir: 1000}

// ScanEnv is where the scan looks, taken from the caller's environment.
type ScanEnv struct {
	Workspace   string
	Temp, Tmp   string
	UserProfile string
	Public      string
	Path        []string // the entries of PATH
	SystemDrive string   // C:
	SystemRoot  string   // C:\Windows
}

// ScanPlaces lists the directories whose Everyone-writable status matters
// most (the places the Codex sandbox's audit scans): the workspace, TEMP and TMP, the profile,
// PUBLIC, every PATH entry, the system drive's root and the Windows
// directory. Each is checked with its direct subdirectories, except the
// ones in skipChildren.
func ScanPlaces(env ScanEnv) []string {
	var places []string
	add := func(p string) {
		if c, err := CleanPath(p); p != "" && err == nil {
			places = append(places, c)
		}
	}
	add(env.Workspace)
	add(env.Temp)
	add(env.Tmp)
	add(env.UserProfile)
	add(env.Public)
	for _, p := range env.Path {
		add(strings.Trim(p, `"`))
	}
	if env.SystemDrive != "" {
		add(strings.TrimSuffix(env.SystemDrive, `\`) + `\`)
	}
	add(env.SystemRoot)
	return places
}

// skipChildren names subdirectories the scan does not enter: large, and
// never Everyone-writable on a sound system.
var skipChildren = []string{`windows\installer`, `windows\registration`, `programdata`}

func skipped(p string) bool {
	k := mustKey(p)
	for _, s := range skipChildren {
		if strings.HasSuffix(k, `\`+s) {
			return true
		}
	}
	return false
}

// ScanResult is what a scan found.
type ScanResult struct {
	// Writable lists directories whose DACL gives one of the scanned SIDs
	// (the token's restricting SIDs: Everyone, the logon SID, the roots'
	// capability SIDs) a write right (FILE_WRITE_DATA, FILE_APPEND_DATA,
	// FILE_WRITE_EA or FILE_WRITE_ATTRIBUTES), outside every writable root.
	// Those rights are granted to the sandbox by its restricted pass, and
	// the normal pass grants them wherever the user may write.
	Writable []string
	Checked  int
	// Unreadable counts directories whose DACL could not be read.
	Unreadable int
	// Incomplete says why the scan stopped early, or is empty.
	Incomplete string `json:"incomplete,omitempty"`
	// Cached is when the scan ran, if its result was taken from the cache.
	Cached time.Time `json:"-"`
}

// Summary is a one-line account of the result.
func (r ScanResult) Summary() string {
	s := fmt.Sprintf("%d director(ies) writable through Everyone, the logon SID or a capability SID found in %d checked", len(r.Writable), r.Checked)
	if !r.Cached.IsZero() {
		s += " (a scan of " + r.Cached.UTC().Format(time.RFC3339) + ", reused for " + ScanCacheTTL.String() + ")"
	}
	if r.Incomplete != "" {
		s += "; scan incomplete: " + r.Incomplete
	}
	return s
}

// Scan checks places and their direct subdirectories for DACLs that let
// sids (the command token's restricting SIDs; see [Plan.ScanSIDs]) write,
// the restricted half of the access check, skipping reparse points and
// anything inside skipWithin (the writable roots, writable anyway). It
// stops at the limits and says so. now is the clock (time.Now outside
// tests).
func Scan(fs FS, places, skipWithin []string, sids []SID, limits ScanLimits, now func() time.Time) ScanResult {
	var res ScanResult
	start := now()
	seen := map[string]bool{}
	stop := func() bool {
		switch {
		case res.Incomplete != "":
			return true
		case res.Checked >= limits.MaxChecks:
			res.Incomplete = fmt.Sprintf("check limit of %d reached", limits.MaxChecks)
		case now().Sub(start) >= limits.Budget:
			res.Incomplete = fmt.Sprintf("time budget of %s spent", limits.Budget)
		default:
			return false
		}
		return true
	}
	check := func(p string) {
		k := mustKey(p)
		if seen[k] || skipped(p) {
			return
		}
		seen[k] = true
		for _, r := range skipWithin {
			if c, err := CleanPath(r); err == nil && within(p, c) {
				return
			}
		}
		res.Checked++
		dacl, err := fs.ReadDACL(Object{Path: p})
		if err != nil {
			res.Unreadable++
			return
		}
		if dacl.effective(sids...)&writeRights != 0 {
			res.Writable = append(res.Writable, p)
		}
	}
	for _, place := range places {
		if stop() {
			break
		}
		info, err := fs.Lstat(place)
		if err != nil || !info.Exists || !info.Dir || info.Reparse {
			continue
		}
		check(place)
		entries, err := fs.ReadDir(place, limits.MaxPerDir)
		if err != nil {
			res.Unreadable++
			continue
		}
		for _, e := range entries {
			if stop() {
				break
			}
			if e.Dir && !e.Reparse {
				check(joinPath(place, e.Name))
			}
		}
	}
	return res
}

// ScanCacheTTL is how long a scan's result is reused (issue 15, point 3:
// the scan cost up to its whole budget before every command). A directory
// that becomes writable through a restricting SID in that time is found by
// the next scan after it, and the facts say when the scan ran.
const ScanCacheTTL = 10 * time.Minute

// CachedScan is one scan's result with what it was taken for.
type CachedScan struct {
	Places []string   `json:"places"`
	SIDs   []SID      `json:"sids"`
	Taken  time.Time  `json:"taken"`
	Result ScanResult `json:"result"`
}

// scanKey identifies what a scan looked at and for whom.
func scanKey(places []string, sids []SID) string {
	ps := make([]string, len(places))
	for i, p := range places {
		ps[i] = mustKeyLoose(p)
	}
	ss := make([]string, len(sids))
	for i, s := range sids {
		ss[i] = strings.ToUpper(string(s))
	}
	sort.Strings(ss)
	return strings.Join(ps, "|") + "#" + strings.Join(ss, "|")
}

// CachedScanFor returns the cached result for these places and SIDs if it
// was taken less than ScanCacheTTL before now and the scan was complete,
// with its Cached set to when it ran.
func CachedScanFor(cache []CachedScan, places []string, sids []SID, now time.Time) (ScanResult, bool) {
	key := scanKey(places, sids)
	for _, c := range cache {
		if scanKey(c.Places, c.SIDs) == key && !c.Taken.After(now) && now.Sub(c.Taken) < ScanCacheTTL && c.Result.Incomplete == "" {
			r := c.Result
			r.Cached = c.Taken
			return r, true
		}
	}
	return ScanResult{}, false
}

// WithScan returns cache with res recorded for places and sids at now,
// replacing an entry for the same key and dropping expired ones; at most
// maxCachedScans entries are kept, the newest.
func WithScan(cache []CachedScan, places []string, sids []SID, now time.Time, res ScanResult) []CachedScan {
	key := scanKey(places, sids)
	out := []CachedScan{{Places: places, SIDs: sids, Taken: now.UTC(), Result: res}}
	for _, c := range cache {
		if scanKey(c.Places, c.SIDs) != key && now.Sub(c.Taken) < ScanCacheTTL && len(out) < maxCachedScans {
			out = append(out, c)
		}
	}
	return out
}

const maxCachedScans = 16
