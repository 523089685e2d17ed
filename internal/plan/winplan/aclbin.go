package winplan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The binary forms of SIDs and ACLs (MS-DTYP 2.4.2.2 SID, 2.4.4.1
// ACE_HEADER, 2.4.4.2 ACCESS_ALLOWED_ACE, 2.4.4.4 ACCESS_DENIED_ACE, 2.4.5
// ACL). The system-call layer reads and writes DACLs as these bytes, so that
// what cordon writes is exactly the DACL planned here, decoded and encoded
// by code the tests run on every system.

const (
	aclRevision   = 2 // ACL_REVISION
	aclRevisionDS = 4 // ACL_REVISION_DS, needed for object ACEs

	aceTypeAllowed = 0x0
	aceTypeDenied  = 0x1
)

// EncodeSID returns the binary form of a string SID (S-1-IA-SA...).
func EncodeSID(s SID) ([]byte, error) {
	parts := strings.Split(string(s), "-")
	if len(parts) < 3 || !strings.EqualFold(parts[0], "S") || parts[1] != "1" {
		return nil, fmt.Errorf("%q is not a SID", s)
	}
	subs := parts[3:]
	if len(subs) > 15 {
		return nil, fmt.Errorf("SID %s has more than 15 sub-authorities", s)
	}
	var ia uint64
	var err error
	if strings.HasPrefix(parts[2], "0x") || strings.HasPrefix(parts[2], "0X") {
		ia, err = strconv.ParseUint(parts[2][2:], 16, 48)
	} else {
		ia, err = strconv.ParseUint(parts[2], 10, 32)
	}
	if err != nil {
		return nil, fmt.Errorf("SID %s: bad identifier authority", s)
	}
	b := make([]byte, 8+4*len(subs))
	b[0], b[1] = 1, byte(len(subs))
	for i := 0; i < 6; i++ {
		b[2+i] = byte(ia >> (8 * (5 - i)))
	}
	for i, v := range subs {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("SID %s: bad sub-authority %q", s, v)
		}
		binary.LittleEndian.PutUint32(b[8+4*i:], uint32(n))
	}
	return b, nil
}

// DecodeSID reads a binary SID from the start of b and returns it with its
// length.
func DecodeSID(b []byte) (SID, int, error) {
	if len(b) < 8 || b[0] != 1 {
		return "", 0, errors.New("not a SID (revision or length)")
	}
	n := int(b[1])
	size := 8 + 4*n
	if n > 15 || len(b) < size {
		return "", 0, errors.New("SID truncated")
	}
	var ia uint64
	for i := 0; i < 6; i++ {
		ia = ia<<8 | uint64(b[2+i])
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	if ia >= 1<<32 {
		fmt.Fprintf(&sb, "0x%012X", ia)
	} else {
		sb.WriteString(strconv.FormatUint(ia, 10))
	}
	for i := 0; i < n; i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}
	return SID(sb.String()), size, nil
}

// DecodeACL reads a binary ACL. Allow and deny ACEs are decoded; every
// other ACE type is kept whole in ACE.Raw, so that writing the DACL back
// keeps it unchanged.
func DecodeACL(b []byte) ([]ACE, error) {
	if len(b) < 8 {
		return nil, errors.New("ACL header truncated")
	}
	size := int(binary.LittleEndian.Uint16(b[2:]))
	count := int(binary.LittleEndian.Uint16(b[4:]))
	if size < 8 || size > len(b) {
		return nil, fmt.Errorf("ACL size %d does not fit its %d bytes", size, len(b))
	}
	b = b[:size]
	var out []ACE
	off := 8
	for i := 0; i < count; i++ {
		if off+4 > len(b) {
			return nil, fmt.Errorf("ACE %d header truncated", i)
		}
		typ, flags := b[off], b[off+1]
		asize := int(binary.LittleEndian.Uint16(b[off+2:]))
		if asize < 8 || off+asize > len(b) {
			return nil, fmt.Errorf("ACE %d has a bad size %d", i, asize)
		}
		ace := b[off : off+asize]
		a := ACE{Flags: flags, Mask: binary.LittleEndian.Uint32(ace[4:])}
		switch typ {
		case aceTypeAllowed, aceTypeDenied:
			sid, _, err := DecodeSID(ace[8:])
			if err != nil {
				return nil, fmt.Errorf("ACE %d: %w", i, err)
			}
			a.SID, a.Type = sid, Allow
			if typ == aceTypeDenied {
				a.Type = Deny
			}
		default:
			a.Type, a.Raw = Other, string(ace)
		}
		out = append(out, a)
		off += asize
	}
	return out, nil
}

// EncodeACL returns the binary ACL holding aces in order.
func EncodeACL(aces []ACE) ([]byte, error) {
	body := []byte{}
	rev := byte(aclRevision)
	for i, a := range aces {
		switch a.Type {
		case Allow, Deny:
			sid, err := EncodeSID(a.SID)
			if err != nil {
				return nil, fmt.Errorf("ACE %d: %w", i, err)
			}
			typ := byte(aceTypeAllowed)
			if a.Type == Deny {
				typ = aceTypeDenied
			}
			ace := make([]byte, 8, 8+len(sid))
			ace[0], ace[1] = typ, a.Flags
			binary.LittleEndian.PutUint16(ace[2:], uint16(8+len(sid)))
			binary.LittleEndian.PutUint32(ace[4:], a.Mask)
			body = append(body, append(ace, sid...)...)
		default:
			if len(a.Raw) < 8 {
				return nil, fmt.Errorf("ACE %d of an unknown type has no raw form to keep", i)
			}
			if t := a.Raw[0]; (t >= 0x5 && t <= 0x8) || t == 0xB || t == 0xC || t == 0xF || t == 0x10 {
				rev = aclRevisionDS
			}
			body = append(body, a.Raw...)
		}
	}
	size := 8 + len(body)
	if size > 0xFFFF || len(aces) > 0xFFFF {
		return nil, fmt.Errorf("the ACL would be %d bytes, more than an ACL can hold", size)
	}
	b := make([]byte, 8, size)
	b[0] = rev
	binary.LittleEndian.PutUint16(b[2:], uint16(size))
	binary.LittleEndian.PutUint16(b[4:], uint16(len(aces)))
	return append(b, body...), nil
}
