package winplan

import (
	"fmt"
	"slices"
	"strings"
)

// Status says how far a layer holds.
type Status string

const (
	// Enforced: the OS refuses what the layer forbids (on Windows: by
	// design, not yet verified on a real Windows host; see Fact.Verified).
	Enforced Status = "enforced"
	// Advisory: programs are steered, not stopped.
	Advisory Status = "advisory"
	// NotEnforced: this mode does nothing for the layer.
	NotEnforced Status = "not enforced"
)

// Fact is one line of what the Windows backend enforces, for `cordon doctor`
// and the enforcement report.
type Fact struct {
	Layer  string
	Status Status
	Detail string
	// Verified is false for every Windows fact: the backend has run only
	// under Wine, which implements the calls but enforces no token, ACL or
	// job restriction.
	Verified bool
}

func (f Fact) String() string {
	s := fmt.Sprintf("%s: %s", f.Layer, f.Status)
	if !f.Verified && f.Status == Enforced {
		s += " (not verified on a real Windows host)"
	}
	if f.Detail != "" {
		s += " - " + f.Detail
	}
	return s
}

// Unverified is the caveat every Windows report carries.
const Unverified = "Windows enforcement is not yet verified on a real Windows host: the backend has been " +
	"exercised only under Wine, which runs the system calls but enforces no token, ACL or job restriction"

// protectedDetail says how protected paths are kept, and how far that is
// known to hold.
const protectedDetail = "deny-write ACEs for the capability SIDs, and FILE_DELETE_CHILD denied to your user " +
	"on the directories that hold them, so they cannot be deleted or renamed away through their parent; " +
	"not verified on Windows: shown against cordon's access-check model only"

// ModeFacts are what unelevated mode enforces on any machine, before a
// policy is known (for `cordon doctor`). scan may be nil when no scan ran.
func ModeFacts(scan *ScanResult) []Fact {
	facts := []Fact{
		{Layer: "verification", Status: NotEnforced, Detail: Unverified},
		{Layer: "filesystem writes", Status: Enforced, Detail: "write-restricted token; writes only where a capability SID, the logon SID or Everyone is granted"},
		{Layer: "protected paths", Status: Enforced, Detail: protectedDetail + "; missing paths are created empty first"},
		readsFact(),
		outsideDeletesFact(),
		networkFilesFact(),
		processesFact(),
		registryFact(),
		credentialsFact(),
		{Layer: "network", Status: Advisory, Detail: "proxy variables point at cordon's proxy; programs that ignore them reach the network; enforced isolation needs the elevated mode"},
		{Layer: "process tree", Status: Enforced, Detail: "job object, assigned before the first instruction, killed on timeout, on exit and when cordon dies; " + processTreeLimit},
		uiFact(),
		{Layer: "environment", Status: Enforced, Detail: "explicit environment block; nothing inherited"},
	}
	facts = append(facts, scanFact(scan))
	return facts
}

// Layers of the facts about what a write-restricted token leaves open. Each
// says why, from the rule that decides it: CreateRestrictedToken's
// WRITE_RESTRICTED ("restricting SIDs that are considered only when
// evaluating write access"), and an object type's generic mapping, which
// says which rights are write rights (accessmodel, Forshaw ch. 7).
const (
	LayerReads       = "filesystem reads"
	LayerProcesses   = "your other processes"
	LayerRegistry    = "registry writes"
	LayerCredentials = "credential stores"
)

func readsFact() Fact {
	return Fact{Layer: LayerReads, Status: NotEnforced,
		Detail: "WRITE_RESTRICTED makes the restricting SIDs count for writes only: the command reads every file you " +
			"can, secrets included; deny-read needs the elevated mode"}
}

func processesFact() Fact {
	return Fact{Layer: LayerProcesses, Status: NotEnforced,
		Detail: "reading a process's memory (PROCESS_VM_READ, a read right) and ending it (PROCESS_TERMINATE, an " +
			"execute right) are checked against your own SID alone: the command can read the memory of, and end, " +
			"your processes at medium integrity (not elevated ones, whose integrity label forbids it); writing into " +
			"them, starting threads in them and taking their handles are write rights, denied by design (not verified)"}
}

func registryFact() Fact {
	return Fact{Layer: LayerRegistry, Status: Enforced,
		Detail: "setting values and creating keys are write rights, and HKCU and HKLM name no restricting SID: " +
			"denied by design (not verified); reading the registry, HKCU included, is not confined"}
}

func credentialsFact() Fact {
	return Fact{Layer: LayerCredentials, Status: NotEnforced,
		Detail: "data DPAPI protects for you (saved browser passwords and cookies, many tools' tokens) can " +
			"probably be decrypted with CryptUnprotectData, which serves any process of yours (not verified); " +
			"Credential Manager entries were measured readable, writable and deletable from a write-restricted " +
			"token on Windows 11 (a third-party measurement, not repeated here)"}
}

// LayerUI names the fact about the desktop and the clipboard.
const LayerUI = "UI and clipboard"

func uiFact() Fact {
	return Fact{Layer: LayerUI, Status: NotEnforced,
		Detail: "the command runs on a desktop of its own, and the job's UI restrictions take away the clipboard, " +
			"other processes' window handles, desktop switching and system settings; but your desktop grants your " +
			"logon session full access, and the logon SID is a restricting SID the command needs (PowerShell and the " +
			"CLR fail without it), so it can probably open your desktop and set hooks or record input there (not verified)"}
}

// processTreeLimit says what the job does not hold.
const processTreeLimit = "processes that services start on the command's behalf (WMI, Task Scheduler, COM " +
	"servers) are outside the job; INTERACTIVE is disabled in its token, which the default COM launch " +
	"permissions need (not verified)"

// LayerNetworkFiles names the fact about network shares.
const LayerNetworkFiles = "network file systems"

func networkFilesFact() Fact {
	return Fact{Layer: LayerNetworkFiles, Status: NotEnforced,
		Detail: "a share is checked by its server against your network logon, which carries none of the sandbox " +
			"token's limits: every share and mapped drive you may write (redirected folders included) is writable " +
			"from the sandbox; writable roots on them are refused"}
}

// LayerOutsideDeletes names the fact about deletes and renames outside the
// writable roots.
const LayerOutsideDeletes = "deletes and renames outside writable roots"

func outsideDeletesFact() Fact {
	return Fact{Layer: LayerOutsideDeletes, Status: NotEnforced,
		Detail: "NTFS grants DELETE through FILE_DELETE_CHILD on the parent, which a write-restricted (or read-only) " +
			"token gets from your own Full Control: the command can delete your files and move them into a " +
			"directory it may write; cordon denies that only above its own state, your policy files and the " +
			"deny-read paths; the elevated mode's separate user closes it"}
}

// ReconcileFacts reports what a reconcile could not do: each best-effort
// grant it failed to make.
func ReconcileFacts(st ReconcileStats) []Fact {
	var out []Fact
	for _, f := range st.Failed {
		out = append(out, Fact{Layer: "not applied: " + f.Grant.Reason, Status: NotEnforced,
			Detail: fmt.Sprintf("%s on %s: %v", f.Grant.ACE, f.Grant.Object.Path, f.Err)})
	}
	return out
}

func scanFact(scan *ScanResult) Fact {
	f := Fact{Layer: "Everyone-writable directories"}
	switch {
	case scan == nil:
		f.Status, f.Detail = NotEnforced, "not scanned; Everyone is a restricting SID, so any directory granting Everyone write stays writable from the sandbox"
	case len(scan.Writable) == 0:
		f.Status, f.Detail = Enforced, "none found; "+scan.Summary()
	default:
		f.Status, f.Detail = NotEnforced, scan.Summary()+": "+strings.Join(scan.Writable, ", ")
	}
	return f
}

// Facts are what this plan enforces, for the enforcement report. scan is
// the scan that ran before it (nil if none), st what the reconcile did (nil
// if none ran).
func (p *Plan) Facts(scan *ScanResult, st *ReconcileStats) []Fact {
	var roots []string
	for _, r := range p.Roots {
		roots = append(roots, r.Path+" ("+string(r.SID)+")")
	}
	writes := "writable: " + strings.Join(roots, ", ")
	if len(roots) == 0 {
		writes = "read-only: no writable root"
	}
	var protected []string
	denied := false
	for _, g := range p.ACL.Grants {
		switch g.Reason {
		case ReasonProtected:
			protected = append(protected, g.Object.Path)
		case ReasonWorldWritable:
			denied = true
		}
	}
	facts := []Fact{
		{Layer: "verification", Status: NotEnforced, Detail: Unverified},
		{Layer: "filesystem writes", Status: Enforced, Detail: writes},
		{Layer: "protected paths", Status: Enforced, Detail: fmt.Sprintf("%d inside writable roots, %d outside every writable root; ", len(dedupeStrings(protected)), len(p.Unprotected)) + protectedDetail},
		readsFact(),
		outsideDeletesFact(),
		networkFilesFact(),
		processesFact(),
		registryFact(),
		credentialsFact(),
		{Layer: "network", Status: Advisory, Detail: "HTTP_PROXY, HTTPS_PROXY and ALL_PROXY point at cordon's proxy; enforced isolation needs the elevated mode"},
		{Layer: "process tree", Status: Enforced, Detail: p.Job.describe() + "; " + processTreeLimit},
		uiFact(),
		p.tempFact(),
	}
	if p.Elevated != nil {
		facts = p.elevatedFacts(facts)
	}
	f := scanFact(scan)
	if scan != nil && len(scan.Writable) > 0 && denied && len(p.Roots) > 0 {
		var unfixed []string
		if st != nil {
			for _, fl := range st.Failed {
				if fl.Grant.Reason == ReasonWorldWritable {
					unfixed = append(unfixed, fl.Grant.Object.Path)
				}
			}
		}
		unfixed = dedupeStrings(unfixed)
		var fixed []string
		for _, w := range scan.Writable {
			if !slices.ContainsFunc(unfixed, func(u string) bool { return mustKeyLoose(u) == mustKeyLoose(w) }) {
				fixed = append(fixed, w)
			}
		}
		f.Status, f.Detail = Enforced, scan.Summary()
		if len(fixed) > 0 {
			f.Detail += "; deny-write ACEs added on " + strings.Join(fixed, ", ")
		}
		if len(unfixed) > 0 {
			f.Status = NotEnforced
			f.Detail += "; still writable from the sandbox, because you may not change their ACLs: " + strings.Join(unfixed, ", ")
		}
	}
	return append(facts, f)
}

func (p *Plan) tempFact() Fact {
	if p.TempRoot == "" {
		return Fact{Layer: "private temp", Status: NotEnforced, Detail: "no private temp directory: TEMP and TMP are not set"}
	}
	return Fact{Layer: "private temp", Status: Enforced,
		Detail: "TEMP and TMP point at a directory of each command's own below " + p.TempRoot +
			", this workspace's temp root (a writable root also in read-only mode), removed when the command ends"}
}

func (j JobSpec) describe() string {
	s := "job object, kill on close"
	if j.LimitFlags&JobLimitActiveProcess != 0 {
		s += fmt.Sprintf(", at most %d processes", j.ActiveProcessLimit)
	}
	if j.LimitFlags&JobLimitJobMemory != 0 {
		s += fmt.Sprintf(", at most %d bytes of memory", j.JobMemoryLimit)
	}
	return s
}

func dedupeStrings(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[mustKeyLoose(s)] {
			seen[mustKeyLoose(s)] = true
			out = append(out, s)
		}
	}
	return out
}
