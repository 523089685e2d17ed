// Package unotify serves a seccomp user-notification listener
// (seccomp_unotify(2)): it receives the system calls a filter handed over,
// reads their arguments from the caller's memory, fetches the caller's
// descriptors, and answers with a value, an errno or a new descriptor.
//
// It holds the mechanics only; what to do with each call is the caller's
// (internal/apply/linuxinit). It never lets a call continue in the caller
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE): the caller could change the memory the
// arguments point to between the check and the kernel's second reading, so
// a supervisor that wants a call made makes it itself, from the copies it
// read, and returns the result.
//
// # Order of operations for one call
//
//	Receive        the call and its register arguments
//	ReadMemory     copies of what pointer arguments point to
//	FD             the caller's descriptors the call names (pidfd_getfd)
//	Valid          the caller still waits in this call: the copies are its,
//	               not a recycled thread id's
//	(the work)     on the copies only
//	Return / Fail / ReturnFD
//
// Reading memory and fetching descriptors need ptrace access to the caller
// (same user and dumpable, or CAP_SYS_PTRACE over its user namespace).
//
// The package exists on Linux only.
package unotify
