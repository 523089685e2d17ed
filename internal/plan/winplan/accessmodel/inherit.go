package accessmodel

// InheritedACEs returns the ACEs a new child of a directory whose DACL is
// parent inherits ("ACE Inheritance Rules"; MS-DTYP 2.5.3.4.4). owner and
// group are the child's, for CREATOR OWNER and CREATOR GROUP. The parent's
// own INHERIT_ONLY flag does not matter: it only keeps the ACE out of the
// parent's own check.
//
// For a file, each OBJECT_INHERIT ACE becomes an effective ACE: inheritance
// flags cleared, generic rights mapped, creator SIDs replaced.
//
// For a directory:
//   - CONTAINER_INHERIT with NO_PROPAGATE: an effective ACE, flags cleared;
//   - CONTAINER_INHERIT without it: the ACE keeps OBJECT_INHERIT and
//     CONTAINER_INHERIT, so it reaches the grandchildren too; if its mask
//     holds generic rights or its SID is a creator SID, it is split into an
//     effective copy (mapped, SID replaced) and an inherit-only copy that
//     keeps the original for the next generation;
//   - OBJECT_INHERIT alone, without NO_PROPAGATE: an inherit-only ACE for
//     the directory's files;
//   - anything else is not inherited.
//
// Every inherited ACE carries INHERITED_ACE.
func InheritedACEs(parent []ACE, isDir bool, owner, group SID, m GenericMapping) []ACE {
	var out []ACE
	effective := func(a ACE) ACE {
		return ACE{Type: a.Type, Flags: Inherited, Mask: m.Map(a.Mask), SID: substCreator(a.SID, owner, group)}
	}
	for _, a := range parent {
		if !isDir {
			if a.Flags&ObjectInherit != 0 {
				out = append(out, effective(a))
			}
			continue
		}
		switch {
		case a.Flags&ContainerInherit != 0 && a.Flags&NoPropagate != 0:
			out = append(out, effective(a))
		case a.Flags&ContainerInherit != 0:
			if a.Mask&genericBits != 0 || isCreator(a.SID) {
				out = append(out, effective(a))
				out = append(out, ACE{Type: a.Type, Flags: a.Flags&(ObjectInherit|ContainerInherit) | InheritOnly | Inherited, Mask: a.Mask, SID: a.SID})
			} else {
				out = append(out, ACE{Type: a.Type, Flags: a.Flags&(ObjectInherit|ContainerInherit) | Inherited, Mask: a.Mask, SID: a.SID})
			}
		case a.Flags&ObjectInherit != 0 && a.Flags&NoPropagate == 0:
			out = append(out, ACE{Type: a.Type, Flags: ObjectInherit | InheritOnly | Inherited, Mask: a.Mask, SID: a.SID})
		}
	}
	return out
}

func isCreator(s SID) bool { return eqSID(s, CreatorOwner) || eqSID(s, CreatorGroup) }

func substCreator(s, owner, group SID) SID {
	switch {
	case eqSID(s, CreatorOwner):
		return owner
	case eqSID(s, CreatorGroup):
		return group
	}
	return s
}

// NewSD is the descriptor of a new object created by t below a directory
// with descriptor parent (MS-DTYP 2.5.3.4.1 CreateSecurityDescriptor without
// a creator descriptor): t's default owner and primary group, the inherited
// ACEs, or t's default DACL (mapped, no inheritance flags) when nothing is
// inherited; a label when t is below medium integrity.
func NewSD(parent *SD, t *Token, isDir bool, m GenericMapping) *SD {
	sd := &SD{Owner: t.owner(), Group: t.PrimaryGroup}
	if sd.Group == "" {
		sd.Group = t.User
	}
	if parent != nil && !parent.NullDACL {
		sd.DACL = InheritedACEs(parent.DACL, isDir, sd.Owner, sd.Group, m)
	}
	if len(sd.DACL) == 0 {
		for _, a := range t.DefaultDACL {
			sd.DACL = append(sd.DACL, ACE{Type: a.Type, Mask: m.Map(a.Mask), SID: a.SID})
		}
	}
	if t.Integrity != 0 && t.Integrity < MediumIntegrity {
		sd.Label, sd.LabelPolicy = t.Integrity, NoWriteUp
	}
	return sd
}

// Explicit returns the ACEs of dacl that are not inherited.
func Explicit(dacl []ACE) []ACE {
	var out []ACE
	for _, a := range dacl {
		if a.Flags&Inherited == 0 {
			out = append(out, a)
		}
	}
	return out
}

// Repropagated is child's descriptor after its parent's DACL became parent
// ("Automatic Propagation of Inheritable ACEs"): its explicit ACEs first,
// then the ACEs inherited from the new parent DACL. A protected DACL is
// left as it is.
func Repropagated(child *SD, parent []ACE, isDir bool, m GenericMapping) *SD {
	c := child.Clone()
	if c.Protected {
		return c
	}
	inherited := InheritedACEs(parent, isDir, c.Owner, c.Group, m)
	if c.NullDACL {
		// "If a child object with no DACL inherits an ACE, the result is a
		// child object with a DACL that contains only the inherited ACE."
		if len(inherited) > 0 {
			c.NullDACL, c.DACL = false, inherited
		}
		return c
	}
	c.DACL = append(Explicit(c.DACL), inherited...)
	return c
}
