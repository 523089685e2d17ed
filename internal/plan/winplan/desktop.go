package winplan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// DesktopSpec is the desktop a run's commands are started on (review H4):
// one of its own in the interactive window station, as Microsoft's
// "Restricted Tokens" page asks of applications that run restricted code,
// so that the command's windows and hooks live apart from the user's.
type DesktopSpec struct {
	// Name is the desktop's name in winsta0.
	Name string
	// DACL: the user (cordon creates and closes it), the run's instance
	// SID (its commands, through both passes) and SYSTEM. Not the logon
	// SID: other sandboxes of the session hold it.
	DACL []ACE
}

// NewDesktopSpec builds the desktop of the run whose instance SID is
// instance, for user.
func NewDesktopSpec(instance, user SID) (DesktopSpec, error) {
	if !IsCapabilitySID(instance) || user == "" || instance == user {
		return DesktopSpec{}, fmt.Errorf("desktop for instance %q, user %q: invalid SIDs", instance, user)
	}
	sum := sha256.Sum256([]byte(instance))
	return DesktopSpec{
		Name: "cordon-" + hex.EncodeToString(sum[:8]),
		DACL: []ACE{
			{Type: Allow, Mask: GenericAll, SID: user},
			{Type: Allow, Mask: GenericAll, SID: instance},
			{Type: Allow, Mask: GenericAll, SID: LocalSystem},
		},
	}, nil
}

// StartupDesktop is the lpDesktop of the command's STARTUPINFO.
func (d DesktopSpec) StartupDesktop() string { return `winsta0\` + d.Name }
