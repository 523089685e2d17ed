package winplan

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// SID is a security identifier in its string form (S-1-5-21-...). The
// system-call layer converts it with ConvertStringSidToSid; everything that
// decides which SIDs go where works on this form.
type SID string

// Well-known SIDs the backend names.
const (
	// Everyone must be a restricting SID: without it much of Windows
	// (PowerShell, the CLR, pipes) fails the restricted check. It is also the
	// backend's known hole, which [Scan] looks for.
	Everyone SID = "S-1-1-0"
	// LocalSystem gets full access in the token's default DACL, next to the
	// logon SID.
	LocalSystem SID = "S-1-5-18"
)

// capabilityPrefix is the authority and first sub-authority of capability
// SIDs. They look like domain SIDs and belong to no account.
const capabilityPrefix = "S-1-5-21-"

// NewCapabilitySID draws a fresh capability SID S-1-5-21-a-b-c-d with four
// sub-authorities from crypto/rand.
func NewCapabilitySID() (SID, error) {
	return newCapabilitySID(rand.Reader)
}

func newCapabilitySID(r io.Reader) (SID, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("drawing a capability SID from the system's random source: %w", err)
	}
	var sb strings.Builder
	sb.WriteString(capabilityPrefix[:len(capabilityPrefix)-1])
	for i := 0; i < 4; i++ {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[4*i:])), 10))
	}
	return SID(sb.String()), nil
}

// NewInstanceSID draws the SID that marks one run: a restricting SID of its
// token and the owner of its objects in the default DACL, named by no ACE
// on disk, so that nothing but the run's own processes passes a check for
// it. It has the capability SID form.
func NewInstanceSID() (SID, error) {
	return newCapabilitySID(rand.Reader)
}

// IsCapabilitySID reports whether s has the capability SID form
// S-1-5-21-a-b-c-d, each sub-authority a decimal uint32 without leading
// zeros.
func IsCapabilitySID(s SID) bool {
	rest, ok := strings.CutPrefix(string(s), capabilityPrefix)
	if !ok {
		return false
	}
	subs := strings.Split(rest, "-")
	if len(subs) != 4 {
		return false
	}
	for _, v := range subs {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || strconv.FormatUint(n, 10) != v {
			return false
		}
	}
	return true
}

// IsLogonSID reports whether s has the logon-session SID form S-1-5-5-X-Y.
func IsLogonSID(s SID) bool {
	rest, ok := strings.CutPrefix(string(s), "S-1-5-5-")
	if !ok {
		return false
	}
	subs := strings.Split(rest, "-")
	if len(subs) != 2 {
		return false
	}
	for _, v := range subs {
		if _, err := strconv.ParseUint(v, 10, 32); err != nil {
			return false
		}
	}
	return true
}
