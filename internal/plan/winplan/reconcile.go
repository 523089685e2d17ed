package winplan

import (
	"errors"
	"fmt"
	"time"
)

// LedgerACE records one ACE cordon added, so that cleanup can revoke it.
type LedgerACE struct {
	Path   string    `json:"path"`
	Kernel bool      `json:"kernel,omitempty"`
	Type   string    `json:"type"` // "allow" or "deny"
	SID    SID       `json:"sid"`
	Mask   uint32    `json:"mask"`
	Flags  uint8     `json:"flags"`
	Reason string    `json:"reason"`
	Added  time.Time `json:"added"`
}

// Journal persists what Reconcile is about to change, before it changes it,
// so that a crash between the two leaves a ledger entry too many (harmless
// to revoke), never an ACE the ledger does not know. [State] is the real one.
type Journal interface {
	RecordACE(LedgerACE) error
	RecordPlaceholder(Placeholder) error
}

// ReconcileStats says what a reconcile changed.
type ReconcileStats struct {
	Created     []string // placeholders created
	ACEsAdded   int      // ACEs written
	ACEsPresent int      // wanted ACEs found already in place
	// Failed lists the best-effort grants that could not be made, and the
	// objects a propagation could not rewrite (they keep their ACL, which
	// gives the sandbox nothing new).
	Failed []GrantFailure
	// Propagated counts objects below a directory whose inherited ACEs were
	// rewritten; Skipped lists the reparse points and hard-linked files the
	// propagation left alone.
	Propagated int
	Skipped    []string
}

// GrantFailure is a best-effort grant Reconcile could not make, and why.
type GrantFailure struct {
	Grant Grant
	Err   error
}

// Reconcile makes the system match plan: it creates the missing placeholders
// and adds each wanted ACE that the object's current DACL lacks, journaling
// each change first. An ACE already present (explicit, same SID and type, at
// least the same rights and reach) is not written again, so a second run on
// a stamped tree writes nothing. After writing an ACE it reads the DACL back
// and fails if the ACE is not there: a change that did not take is an error,
// not a weaker sandbox.
func Reconcile(fs FS, w Writer, j Journal, plan *ACLPlan, now func() time.Time) (ReconcileStats, error) {
	var st ReconcileStats
	for _, ph := range plan.Create {
		info, err := fs.Lstat(ph.Path)
		if err != nil {
			return st, fmt.Errorf("checking placeholder %s: %w", ph.Path, err)
		}
		if info.Exists {
			if info.Reparse {
				return st, fmt.Errorf("protected path %s became a link or junction after cordon planned it (another "+
					"command in the workspace may have made it); cordon will not stamp through it: remove %s and run again",
					ph.Path, ph.Path)
			}
			continue
		}
		if err := j.RecordPlaceholder(ph); err != nil {
			return st, err
		}
		if err := w.Create(ph.Path, ph.Dir, []byte(ph.Content)); err != nil {
			return st, fmt.Errorf("creating placeholder for protected path %s: %w", ph.Path, err)
		}
		st.Created = append(st.Created, ph.Path)
	}
	for _, g := range plan.Grants {
		added, err := reconcileGrant(fs, w, j, g, now, &st)
		switch {
		case err != nil && g.BestEffort:
			st.Failed = append(st.Failed, GrantFailure{Grant: g, Err: err})
		case err != nil:
			return st, err
		case added:
			st.ACEsAdded++
		default:
			st.ACEsPresent++
		}
	}
	return st, nil
}

// reconcileGrant makes g hold, and reports whether it wrote an ACE. An
// inheritable ACE written on a directory is propagated below it.
func reconcileGrant(fs FS, w Writer, j Journal, g Grant, now func() time.Time, st *ReconcileStats) (bool, error) {
	dacl, err := fs.ReadDACL(g.Object)
	if err != nil {
		return false, fmt.Errorf("reading the DACL of %s: %w", g.Object.Path, err)
	}
	if satisfied(dacl, g) {
		return false, nil
	}
	if dacl.Null {
		return false, fmt.Errorf("%s has a NULL DACL (everyone may do anything); adding an ACE would replace it "+
			"and lock other users out, so cordon will not touch it: give it a real DACL (icacls %s /reset) first",
			g.Object.Path, g.Object.Path)
	}
	if err := j.RecordACE(ledgerEntry(g, now())); err != nil {
		return false, err
	}
	if err := w.WriteDACL(g.Object, dacl.withACE(g.ACE)); err != nil {
		return false, fmt.Errorf("adding %s ACE for %s on %s (%s): %w", g.ACE.Type, g.ACE.SID, g.Object.Path, g.Reason, err)
	}
	after, err := fs.ReadDACL(g.Object)
	if err != nil {
		return false, fmt.Errorf("reading back the DACL of %s: %w", g.Object.Path, err)
	}
	if !satisfied(after, g) {
		return false, fmt.Errorf("the %s ACE for %s on %s (%s) is not in its DACL after writing it; "+
			"the file system may not support ACLs (FAT, some network shares)", g.ACE.Type, g.ACE.SID, g.Object.Path, g.Reason)
	}
	if !g.Object.Kernel && g.ACE.Flags&InheritAll != 0 {
		propagateInto(fs, w, g.Object.Path, after, st)
	}
	return true, nil
}

func propagateInto(fs FS, w Writer, dir string, d DACL, st *ReconcileStats) {
	if info, err := fs.Lstat(dir); err != nil || !info.Dir || info.Reparse {
		return
	}
	var ps PropagationStats
	propagate(fs, w, dir, d, &ps)
	st.Propagated += ps.Rewritten
	st.Skipped = append(st.Skipped, ps.Skipped...)
	st.Failed = append(st.Failed, ps.Failed...)
}

func satisfied(d DACL, g Grant) bool {
	if len(g.AnyOf) > 0 && d.effective(g.AnyOf...)&g.ACE.Mask == g.ACE.Mask {
		return true
	}
	if len(g.NoneOf) > 0 && !d.Null && d.effective(g.NoneOf...)&g.ACE.Mask == 0 {
		return true
	}
	return d.hasExplicit(g.ACE)
}

func ledgerEntry(g Grant, at time.Time) LedgerACE {
	return LedgerACE{
		Path:   g.Object.Path,
		Kernel: g.Object.Kernel,
		Type:   g.ACE.Type.String(),
		SID:    g.ACE.SID,
		Mask:   g.ACE.Mask,
		Flags:  g.ACE.Flags,
		Reason: g.Reason,
		Added:  at.UTC(),
	}
}

// CleanupResult says what Cleanup undid and what it left.
type CleanupResult struct {
	// Revoked counts the ledger's ACEs removed (or found removed already).
	Revoked int
	// Gone counts ledger entries whose object no longer exists.
	Gone int
	// Removed lists placeholders deleted; Kept those left because something
	// was put in them or written to them since.
	Removed, Kept []string
	// Remaining is what could not be undone; it stays in the ledger.
	Remaining Ledger
}

// Cleanup removes every ACE in the ledger (exactly the rights cordon added,
// from explicit ACEs of the same type, SID and flags, so that ACEs the user
// had for the same SID stay) and removes the placeholders that are still
// empty, newest first. It goes on past failures and returns them joined,
// with what remains.
func Cleanup(fs FS, w Writer, l Ledger) (CleanupResult, error) {
	var res CleanupResult
	var errs []error
	done := map[string]bool{}
	for _, e := range l.ACEs {
		obj := Object{Path: e.Path, Kernel: e.Kernel}
		ace, err := e.ace()
		if err != nil {
			errs = append(errs, fmt.Errorf("ledger entry for %s: %w", e.Path, err))
			res.Remaining.ACEs = append(res.Remaining.ACEs, e)
			continue
		}
		key := fmt.Sprintf("%t|%s|%s", e.Kernel, mustKeyLoose(e.Path), ace)
		if done[key] {
			continue
		}
		if !e.Kernel {
			info, err := fs.Lstat(e.Path)
			if err == nil && !info.Exists {
				done[key] = true
				res.Gone++
				continue
			}
		}
		if err := removeACE(fs, w, obj, ace); err != nil {
			errs = append(errs, fmt.Errorf("removing the %s ACE for %s on %s: %w", ace.Type, e.SID, e.Path, err))
			res.Remaining.ACEs = append(res.Remaining.ACEs, e)
			continue
		}
		done[key] = true
		res.Revoked++
	}
	for i := len(l.Placeholders) - 1; i >= 0; i-- {
		ph := l.Placeholders[i]
		removed, err := w.RemovePlaceholder(ph.Path, ph.Dir, []byte(ph.Content))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("removing placeholder %s: %w", ph.Path, err))
			res.Remaining.Placeholders = append([]Placeholder{ph}, res.Remaining.Placeholders...)
		case removed:
			res.Removed = append(res.Removed, ph.Path)
		default:
			res.Kept = append(res.Kept, ph.Path)
		}
	}
	return res, errors.Join(errs...)
}

// mustKeyLoose folds a ledger path for comparison, whether or not it parses.
func mustKeyLoose(p string) string {
	if k, err := PathKey(p); err == nil {
		return k
	}
	return p
}

func removeACE(fs FS, w Writer, obj Object, ace ACE) error {
	d, err := fs.ReadDACL(obj)
	if err != nil {
		return err
	}
	nd, changed := d.withoutACE(ace)
	if !changed {
		return nil
	}
	if err := w.WriteDACL(obj, nd); err != nil {
		return err
	}
	if !obj.Kernel && ace.Flags&InheritAll != 0 {
		var st ReconcileStats
		propagateInto(fs, w, obj.Path, nd, &st)
		if len(st.Failed) > 0 {
			return fmt.Errorf("the ACE is gone from %s, but not from everything below it: %s: %w", obj.Path,
				st.Failed[0].Grant.Object.Path, st.Failed[0].Err)
		}
	}
	return nil
}

// ace is the ACE a ledger entry records.
func (e LedgerACE) ace() (ACE, error) {
	a := ACE{Flags: e.Flags, Mask: e.Mask, SID: e.SID}
	switch e.Type {
	case "allow":
		a.Type = Allow
	case "deny":
		a.Type = Deny
	default:
		return ACE{}, fmt.Errorf("unknown ACE type %q", e.Type)
	}
	return a, nil
}
