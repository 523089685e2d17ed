// Package fswatch holds a cache of filesystem answers that stays true: a
// warm session's planner asks the same few hundred questions before every
// command (does ~/.ssh exist, what does the workspace hold four levels
// down), and the answers rarely change between two commands.
//
// # What it promises
//
// After Sync returns, every answer the Cache gives is what the filesystem
// would answer at that moment, or was true at a moment after the Sync
// began: an answer is kept only while inotify watches every directory the
// lookup consulted (each existing ancestor of the path, and a listed
// directory itself), each added before the lookup was made, and the mount
// table has not changed. Sync drops the answers that a reported change may
// have touched: a change to name N in directory D drops D's listing and
// every answer for D/N and below it; a change to D itself, a lost watch,
// an overflowing event queue or a new mount drops more, up to everything.
//
// Answers are cached only on filesystems whose changes inotify sees
// wherever they are made from (ext2/3/4, xfs, btrfs, tmpfs, overlayfs,
// f2fs, zfs, bcachefs); on others (NFS, SMB, FUSE, proc) and where a watch
// cannot be had (permissions, the inotify limits), every lookup goes to
// the filesystem. File contents and globs are never cached. A FileInfo
// from the Cache describes a path's name and mode only: its size and
// times are zero.
//
// A Recording (Cache.Record) is a series of lookups kept so that one can
// tell later whether each would still be answered the same: Unchanged is
// true only if the Cache has learnt of no change at all since the
// Recording began and every lookup the Cache did not keep true (file
// contents, globs, paths below links, unwatched filesystems) gets the same
// answer when asked again. A warm session uses it to keep a plan's
// boundary between commands.
//
// The Cache is Linux only: elsewhere New reports that it is unsupported,
// and the caller reads the filesystem directly.
package fswatch
