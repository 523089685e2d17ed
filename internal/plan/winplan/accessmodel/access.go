package accessmodel

import (
	"fmt"
	"strings"
)

// Mask is an ACCESS_MASK (MS-DTYP 2.4.3).
type Mask uint32

// Standard, generic and special rights.
const (
	Delete               Mask = 0x00010000
	ReadControl          Mask = 0x00020000
	WriteDAC             Mask = 0x00040000
	WriteOwner           Mask = 0x00080000
	Synchronize          Mask = 0x00100000
	AccessSystemSecurity Mask = 0x01000000
	MaximumAllowed       Mask = 0x02000000
	GenericAll           Mask = 0x10000000
	GenericExecute       Mask = 0x20000000
	GenericWrite         Mask = 0x40000000
	GenericRead          Mask = 0x80000000

	genericBits = GenericAll | GenericExecute | GenericWrite | GenericRead
)

// File and directory rights (winnt.h, "File Access Rights Constants").
// Directory rights share the bits: FILE_LIST_DIRECTORY is FILE_READ_DATA,
// FILE_ADD_FILE is FILE_WRITE_DATA, FILE_ADD_SUBDIRECTORY is
// FILE_APPEND_DATA, FILE_TRAVERSE is FILE_EXECUTE.
const (
	FileReadData        Mask = 0x0001
	FileWriteData       Mask = 0x0002
	FileAppendData      Mask = 0x0004
	FileReadEA          Mask = 0x0008
	FileWriteEA         Mask = 0x0010
	FileExecute         Mask = 0x0020
	FileDeleteChild     Mask = 0x0040
	FileReadAttributes  Mask = 0x0080
	FileWriteAttributes Mask = 0x0100

	FileListDirectory   = FileReadData
	FileAddFile         = FileWriteData
	FileAddSubdirectory = FileAppendData
	FileTraverse        = FileExecute

	FileAllAccess Mask = 0x001F01FF
)

// Process rights (winnt.h, "Process Security and Access Rights").
const (
	ProcessTerminate               Mask = 0x0001
	ProcessCreateThread            Mask = 0x0002
	ProcessVMOperation             Mask = 0x0008
	ProcessVMRead                  Mask = 0x0010
	ProcessVMWrite                 Mask = 0x0020
	ProcessDupHandle               Mask = 0x0040
	ProcessCreateProcess           Mask = 0x0080
	ProcessSetQuota                Mask = 0x0100
	ProcessSetInformation          Mask = 0x0200
	ProcessQueryInformation        Mask = 0x0400
	ProcessSuspendResume           Mask = 0x0800
	ProcessQueryLimitedInformation Mask = 0x1000
	ProcessAllAccess               Mask = 0x001FFFFF
)

// GenericMapping maps the four generic rights to an object type's specific
// rights (MS-DTYP 2.5.3.3, GENERIC_MAPPING).
type GenericMapping struct {
	Read, Write, Execute, All Mask
}

// The mappings of the object types the model knows (as reported by
// NtQueryObject for the File and Process types, and in winnt.h as
// FILE_GENERIC_READ, FILE_GENERIC_WRITE, FILE_GENERIC_EXECUTE).
var (
	FileMapping = GenericMapping{
		Read:    ReadControl | FileReadData | FileReadAttributes | FileReadEA | Synchronize,                     // 0x120089
		Write:   ReadControl | FileWriteData | FileWriteAttributes | FileWriteEA | FileAppendData | Synchronize, // 0x120116
		Execute: ReadControl | FileReadAttributes | FileExecute | Synchronize,                                   // 0x1200A0
		All:     FileAllAccess,
	}
	ProcessMapping = GenericMapping{
		Read: ReadControl | ProcessVMRead | ProcessQueryInformation, // 0x20410
		Write: ReadControl | ProcessCreateThread | ProcessVMOperation | ProcessVMWrite | ProcessDupHandle |
			ProcessCreateProcess | ProcessSetQuota | ProcessSetInformation | ProcessSuspendResume, // 0x20BEA
		Execute: Synchronize | ReadControl | ProcessTerminate | ProcessQueryLimitedInformation, // 0x121001
		All:     ProcessAllAccess,
	}
)

// Map replaces generic rights in m by the specific rights they stand for
// (MapGenericMask).
func (g GenericMapping) Map(m Mask) Mask {
	if m&GenericRead != 0 {
		m |= g.Read
	}
	if m&GenericWrite != 0 {
		m |= g.Write
	}
	if m&GenericExecute != 0 {
		m |= g.Execute
	}
	if m&GenericAll != 0 {
		m |= g.All
	}
	return m &^ genericBits
}

// WriteSet is the set of rights that makes a WRITE_RESTRICTED token's
// request go through the restricting SIDs: the standard write rights and
// the GENERIC_WRITE bits that are not also read or execute bits (Forshaw,
// ch. 7; NtObjectManager's Test-NtAccessMask -WriteRestricted).
func (g GenericMapping) WriteSet() Mask {
	return Delete | WriteDAC | WriteOwner | AccessSystemSecurity | (g.Write &^ (g.Read | g.Execute))
}

var fileRightNames = []struct {
	m    Mask
	name string
}{
	{FileReadData, "READ_DATA"}, {FileWriteData, "WRITE_DATA"}, {FileAppendData, "APPEND_DATA"},
	{FileReadEA, "READ_EA"}, {FileWriteEA, "WRITE_EA"}, {FileExecute, "EXECUTE"},
	{FileDeleteChild, "DELETE_CHILD"}, {FileReadAttributes, "READ_ATTRIBUTES"},
	{FileWriteAttributes, "WRITE_ATTRIBUTES"}, {Delete, "DELETE"}, {ReadControl, "READ_CONTROL"},
	{WriteDAC, "WRITE_DAC"}, {WriteOwner, "WRITE_OWNER"}, {Synchronize, "SYNCHRONIZE"},
	{GenericAll, "GA"}, {GenericRead, "GR"}, {GenericWrite, "GW"}, {GenericExecute, "GX"},
}

// String names the file rights in m, for failure messages.
func (m Mask) String() string {
	var parts []string
	rest := m
	for _, r := range fileRightNames {
		if m&r.m != 0 {
			parts = append(parts, r.name)
			rest &^= r.m
		}
	}
	if rest != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Desktop rights ("Desktop Security and Access Rights").
const (
	DesktopReadObjects     Mask = 0x0001
	DesktopCreateWindow    Mask = 0x0002
	DesktopCreateMenu      Mask = 0x0004
	DesktopHookControl     Mask = 0x0008
	DesktopJournalRecord   Mask = 0x0010
	DesktopJournalPlayback Mask = 0x0020
	DesktopEnumerate       Mask = 0x0040
	DesktopWriteObjects    Mask = 0x0080
	DesktopSwitchDesktop   Mask = 0x0100
)

// DesktopMapping is the desktop generic mapping of the same page:
// GENERIC_READ is DESKTOP_ENUMERATE, DESKTOP_READOBJECTS and
// STANDARD_RIGHTS_READ; GENERIC_WRITE the create, hook, journal and
// write-objects rights and STANDARD_RIGHTS_WRITE; GENERIC_EXECUTE
// DESKTOP_SWITCHDESKTOP and STANDARD_RIGHTS_EXECUTE.
var DesktopMapping = GenericMapping{
	Read:    ReadControl | DesktopEnumerate | DesktopReadObjects,
	Write:   ReadControl | DesktopCreateWindow | DesktopCreateMenu | DesktopHookControl | DesktopJournalRecord | DesktopJournalPlayback | DesktopWriteObjects,
	Execute: ReadControl | DesktopSwitchDesktop,
	All:     0xF01FF,
}
