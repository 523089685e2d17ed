package accessmodel

// Process is a process object. CreateProcessAsUser gives it the creating
// token's default DACL ("The default security descriptor is that of the user
// referenced in the hToken parameter") and a mandatory label at the token's
// integrity level with NO_WRITE_UP and NO_READ_UP, which Windows puts on
// process objects.
type Process struct {
	SD    *SD
	Token *Token
}

// NewProcess is a process started with token t.
func NewProcess(t *Token) *Process {
	sd := &SD{Owner: t.owner(), Group: t.PrimaryGroup, Label: t.Integrity, LabelPolicy: NoWriteUp | NoReadUp}
	for _, a := range t.DefaultDACL {
		sd.DACL = append(sd.DACL, ACE{Type: a.Type, Mask: ProcessMapping.Map(a.Mask), SID: a.SID})
	}
	if sd.Label == 0 {
		sd.Label = MediumIntegrity
	}
	return &Process{SD: sd, Token: t}
}

// Open checks whether t may open p for desired (OpenProcess).
func (p *Process) Open(t *Token, desired Mask) error {
	return AccessCheck(t, p.SD, desired, ProcessMapping)
}
