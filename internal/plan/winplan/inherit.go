package winplan

import (
	"fmt"
	"slices"
)

// Well-known SIDs inheritance substitutes.
const (
	creatorOwner SID = "S-1-3-0"
	creatorGroup SID = "S-1-3-1"
)

// inheritedACEs returns the ACEs a child of a directory whose DACL is
// parent inherits, by the Win32 "ACE Inheritance Rules" (MS-DTYP 2.5.3.4.4):
// a file takes each OBJECT_INHERIT ACE as an effective ACE (inheritance
// flags cleared, generic rights mapped, CREATOR OWNER and CREATOR GROUP
// replaced by owner and group); a directory takes a CONTAINER_INHERIT ACE
// with its OBJECT_INHERIT and CONTAINER_INHERIT flags (split into an
// effective copy and an inherit-only one when it holds generic rights or a
// creator SID), a CONTAINER_INHERIT and NO_PROPAGATE ACE as an effective
// ACE, and an OBJECT_INHERIT-only ACE as inherit-only for its files. Every
// copy is marked INHERITED. accessmodel implements the same rules
// independently; model_test.go compares the two.
func inheritedACEs(parent []ACE, isDir bool, owner, group SID) []ACE {
	var out []ACE
	effective := func(a ACE) ACE {
		sid := a.SID
		switch sid {
		case creatorOwner:
			sid = owner
		case creatorGroup:
			sid = group
		}
		return ACE{Type: a.Type, Flags: Inherited, Mask: mapGeneric(a.Mask), SID: sid}
	}
	for _, a := range parent {
		if a.Type == Other {
			// Object and callback ACEs cordon neither writes nor reads;
			// keeping the child's copies as they are is not possible here,
			// so propagation refuses DACLs that hold inheritable ones.
			continue
		}
		generic := a.Mask&(GenericRead|GenericWrite|GenericExecute|GenericAll) != 0
		creator := a.SID == creatorOwner || a.SID == creatorGroup
		switch {
		case !isDir:
			if a.Flags&ObjectInherit != 0 {
				out = append(out, effective(a))
			}
		case a.Flags&ContainerInherit != 0 && a.Flags&NoPropagate != 0:
			out = append(out, effective(a))
		case a.Flags&ContainerInherit != 0:
			if generic || creator {
				out = append(out, effective(a))
				a.Flags = a.Flags&InheritAll | InheritOnly | Inherited
				out = append(out, a)
			} else {
				a.Flags = a.Flags&InheritAll | Inherited
				out = append(out, a)
			}
		case a.Flags&ObjectInherit != 0 && a.Flags&NoPropagate == 0:
			a.Flags = ObjectInherit | InheritOnly | Inherited
			out = append(out, a)
		}
	}
	return out
}

// hasInheritableOther reports whether d holds an ACE of a type cordon does
// not decode that children would inherit.
func hasInheritableOther(d DACL) bool {
	return slices.ContainsFunc(d.ACEs, func(a ACE) bool { return a.Type == Other && a.Flags&InheritAll != 0 })
}

// repropagated is child's DACL with its inherited part recomputed from its
// parent's DACL parent, as automatic inheritance does: explicit ACEs first,
// as they are, then the inherited ones. A protected DACL is returned as it
// is.
func repropagated(child DACL, parent DACL, isDir bool) DACL {
	if child.Protected {
		return child
	}
	explicit, _ := child.split()
	return DACL{
		ACEs:      append(explicit, inheritedACEs(parent.ACEs, isDir, child.Owner, child.Group)...),
		Owner:     child.Owner,
		Group:     child.Group,
		Protected: false,
	}
}

// PropagationStats says what one propagation walk did.
type PropagationStats struct {
	Rewritten int // objects whose inherited ACEs were rewritten
	Skipped   []string
	Failed    []GrantFailure
}

// propagate brings the inherited ACEs of everything below dir in line with
// dacl, dir's DACL just written, the way SetNamedSecurityInfo's automatic
// propagation would, but by cordon's own walk (review M9): it does not
// enter reparse points (a junction in a writable root must not carry the
// root's ACEs to what it points at) and leaves files with more than one
// name alone (a hard link shares its descriptor with a file outside); both
// are listed in Skipped and keep their ACL, so the sandbox gets nothing
// through them. An object whose DACL already matches is not written. A
// failure on one object is recorded and the walk goes on.
func propagate(fs FS, w Writer, dir string, dacl DACL, st *PropagationStats) {
	entries, err := fs.ReadDir(dir, 1<<31-1)
	if err != nil {
		st.Failed = append(st.Failed, GrantFailure{Grant: Grant{Object: Object{Path: dir}, Reason: "propagation"}, Err: err})
		return
	}
	for _, e := range entries {
		child := joinPath(dir, e.Name)
		if e.Reparse {
			st.Skipped = append(st.Skipped, child)
			continue
		}
		if !e.Dir {
			info, err := fs.Lstat(child)
			if err != nil || info.Links > 1 || info.Reparse {
				st.Skipped = append(st.Skipped, child)
				continue
			}
		}
		cur, err := fs.ReadDACL(Object{Path: child})
		if err != nil {
			st.Failed = append(st.Failed, GrantFailure{Grant: Grant{Object: Object{Path: child}, Reason: "propagation"}, Err: err})
			continue
		}
		if cur.Protected || cur.Null {
			continue
		}
		next := repropagated(cur, dacl, e.Dir)
		if !slices.Equal(next.ACEs, cur.ACEs) {
			if hasInheritableOther(cur) {
				st.Failed = append(st.Failed, GrantFailure{Grant: Grant{Object: Object{Path: child}, Reason: "propagation"},
					Err: fmt.Errorf("its DACL holds inherited ACEs of a kind cordon cannot recompute")})
				continue
			}
			if err := w.WriteDACL(Object{Path: child}, next); err != nil {
				st.Failed = append(st.Failed, GrantFailure{Grant: Grant{Object: Object{Path: child}, Reason: "propagation"}, Err: err})
				continue
			}
			st.Rewritten++
		}
		if e.Dir {
			propagate(fs, w, child, next, st)
		}
	}
}
