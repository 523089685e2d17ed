package winplan

import (
	"fmt"
	"math"
)

// Job object limits (winnt.h).
const (
	JobLimitActiveProcess           uint32 = 0x00000008
	JobLimitJobMemory               uint32 = 0x00000200
	JobLimitDieOnUnhandledException uint32 = 0x00000400
	JobLimitBreakawayOK             uint32 = 0x00000800
	JobLimitSilentBreakawayOK       uint32 = 0x00001000
	JobLimitKillOnJobClose          uint32 = 0x00002000

	JobUILimitHandles          uint32 = 0x01
	JobUILimitReadClipboard    uint32 = 0x02
	JobUILimitWriteClipboard   uint32 = 0x04
	JobUILimitSystemParameters uint32 = 0x08
	JobUILimitDisplaySettings  uint32 = 0x10
	JobUILimitGlobalAtoms      uint32 = 0x20
	JobUILimitDesktop          uint32 = 0x40
	JobUILimitExitWindows      uint32 = 0x80
)

// Process creation flags (winbase.h) the command is started with: suspended,
// so it is in the job before its first instruction; with an explicit UTF-16
// environment; with an extended STARTUPINFO carrying the handle list.
const (
	createSuspended            uint32 = 0x00000004
	createUnicodeEnvironment   uint32 = 0x00000400
	extendedStartupInfoPresent uint32 = 0x00080000

	CreationFlags = createSuspended | createUnicodeEnvironment | extendedStartupInfoPresent
)

// JobSpec is the job object holding the command and everything it starts.
type JobSpec struct {
	// LimitFlags always has KILL_ON_JOB_CLOSE (when cordon's handle closes,
	// on exit or death, every process in the job dies) and never a
	// breakaway flag.
	LimitFlags         uint32
	ActiveProcessLimit uint32
	JobMemoryLimit     uint64
	// UIRestrictions: no USER handles from outside the job (no messages to
	// the user's windows), no clipboard, no system settings, no global atoms,
	// no desktop switching, no logoff.
	UIRestrictions uint32
}

// NewJobSpec builds the job specification; zero means no cap.
func NewJobSpec(maxProcesses int, memoryBytes uint64) (JobSpec, error) {
	j := JobSpec{
		LimitFlags: JobLimitKillOnJobClose | JobLimitDieOnUnhandledException,
		UIRestrictions: JobUILimitHandles | JobUILimitReadClipboard | JobUILimitWriteClipboard |
			JobUILimitSystemParameters | JobUILimitDisplaySettings | JobUILimitGlobalAtoms |
			JobUILimitDesktop | JobUILimitExitWindows,
	}
	switch {
	case maxProcesses < 0 || maxProcesses > math.MaxUint32:
		return JobSpec{}, fmt.Errorf("process limit %d is out of range", maxProcesses)
	case maxProcesses > 0:
		j.LimitFlags |= JobLimitActiveProcess
		j.ActiveProcessLimit = uint32(maxProcesses)
	}
	if memoryBytes > 0 {
		j.LimitFlags |= JobLimitJobMemory
		j.JobMemoryLimit = memoryBytes
	}
	return j, nil
}
