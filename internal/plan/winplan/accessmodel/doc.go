// Package accessmodel is a model of the Windows access check, of NTFS's
// delete, rename, link and create rules and of ACE inheritance, written from
// Microsoft's documentation so that cordon's Windows plans can be judged on
// any system. cordon itself never runs it: it exists for tests, and for the
// verification kit, which compares its answers with a real Windows host.
//
// It is deliberately independent of winplan (it imports nothing of it and
// has its own constants, path parser and inheritance code), so that a
// mistake in the planner is not repeated by the judge.
//
// # What it models, and from where
//
//   - The access check (check.go): MS-DTYP 2.5.3.2 (the DACL walk, NULL and
//     empty DACLs, owner rights and OWNER RIGHTS S-1-3-4), with the order and
//     the restricted-token rules of Forshaw, "Windows Security Internals"
//     (No Starch, 2024), chapter 7, listings 7-19 to 7-21 and the chapter's
//     reference implementation of Get-PSGrantedAccess: the mandatory
//     integrity check first, then privileges (SeTakeOwnershipPrivilege,
//     SeSecurityPrivilege), then owner rights, then the normal DACL pass, then
//     for a restricted token a second pass over the restricting SIDs, in
//     which deny ACEs count too. For a WRITE_RESTRICTED token the second
//     pass runs only when the request holds a "write" bit: DELETE, WRITE_DAC,
//     WRITE_OWNER, ACCESS_SYSTEM_SECURITY, or a bit of the object type's
//     GENERIC_WRITE mapping that is not also a read or execute bit. For files
//     that is 0x116 (FILE_WRITE_DATA, FILE_APPEND_DATA, FILE_WRITE_EA,
//     FILE_WRITE_ATTRIBUTES); FILE_DELETE_CHILD (0x40) is not one, so a
//     request for it alone is decided by the normal pass, that is by the
//     user's own rights. CreateRestrictedToken's documentation says the same
//     in general terms: "WRITE_RESTRICTED: The new token contains restricting
//     SIDs that are considered only when evaluating write access".
//   - Group attributes (token.go): "SID Attributes in an Access Token":
//     allow ACEs match enabled SIDs, deny ACEs match enabled and deny-only
//     SIDs; restricting SIDs are matched by both kinds in the second pass.
//     CreateRestrictedToken's SidsToDisable turn SIDs deny-only and
//     DISABLE_MAX_PRIVILEGE leaves only SeChangeNotifyPrivilege.
//   - Inheritance (inherit.go): "ACE Inheritance Rules" and "Automatic
//     Propagation of Inheritable ACEs" (Win32 documentation), MS-DTYP
//     2.5.3.4 (CreateSecurityDescriptor, ComputeACL): object-inherit and
//     container-inherit, inherit-only, no-propagate, the INHERITED_ACE flag,
//     protected DACLs, CREATOR OWNER and CREATOR GROUP, generic rights mapped
//     in the effective copy, and the token's default DACL when the parent
//     gives nothing to inherit. Inherited ACEs are copied when an object is
//     created or a parent's DACL is propagated, never computed on the fly, so
//     an object moved on the same volume keeps its old descriptor
//     (KB310316, "Permissions are retained when you move files").
//   - The file system (fs.go): MS-FSA 2.1.5.1.2.1 ("Algorithm to Check Access
//     to an Existing File") and KB238018 ("DELETE Standard Access Right on a
//     File Securable Object"): DELETE on an object is granted when the access
//     check grants it on the object, or FILE_DELETE_CHILD on the parent the
//     object is opened through, and FILE_READ_ATTRIBUTES likewise through
//     FILE_LIST_DIRECTORY on the parent; DeleteFileW's remark ("To delete or
//     rename a file, you must have either delete permission on the file, or
//     delete child permission in the parent directory"). Creating a file or
//     directory needs FILE_ADD_FILE or FILE_ADD_SUBDIRECTORY on the parent;
//     a rename needs DELETE on the source, the add right on the destination
//     directory and DELETE on a replaced target (MS-FSA 2.1.5.14.11); a hard
//     link needs FILE_ADD_FILE on the destination directory, and, for a
//     sandboxed caller, FILE_WRITE_ATTRIBUTES on the target (a switch:
//     Forshaw, "Windows 10^H^H Symbolic Link Mitigations", Project Zero, 2015);
//     a junction needs FILE_WRITE_DATA or FILE_WRITE_ATTRIBUTES on its
//     directory (MS-FSA FSCTL_SET_REPARSE_POINT) and a symbolic link
//     SeCreateSymbolicLinkPrivilege. Names are case-insensitive, 8.3 short
//     names and alternate data streams reach the same object (streams share
//     the file's security descriptor), and Win32 paths drop trailing dots and
//     spaces of each component while \\?\ paths are taken literally.
//     Bypass-traverse checking (SeChangeNotifyPrivilege) is modelled; without
//     it every directory on the way needs FILE_TRAVERSE.
//   - Remote volumes: a file on an SMB share is checked by the server against
//     the user's network logon, which carries none of the client token's
//     restrictions (a switch, on by default; marked as reasoning, not a
//     documented rule, in the review).
//   - Kernel objects (objects.go): processes and threads get the creating
//     token's default DACL and its integrity level with NO_WRITE_UP and
//     NO_READ_UP ("CreateProcessAsUser": "The default security descriptor is
//     that of the user referenced in the hToken parameter"), checked with the
//     process generic mapping.
//
// What it leaves out: object ACEs, callback (conditional) ACEs, central access
// policies, AppContainer and lowbox checks, SACLs and auditing, trust labels,
// and share modes and open handles (a directory with open files below it can
// be harder to rename on real Windows than here). Where real Windows might be
// stricter than the model the model errs towards allowing, so that a plan it
// passes is not passed only for the model's sake.
package accessmodel
