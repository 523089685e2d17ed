// Package policy holds cordon's policy: the file format (TOML, version 1), the
// built-in defaults, the merge of policy layers and the checks that keep a
// policy meaningful. It decides nothing about how a boundary is enforced; the
// planners under internal/plan turn a Policy into what each system applies.
//
// # Layers and trust
//
// A policy is the merge of up to four layers, in this order: the built-in
// default, the user's own file ($XDG_CONFIG_HOME/cordon/policy.toml), a file in
// the workspace (.cordon/policy.toml) and a file named with --policy. Command-line
// flags come last. A file that lies inside a writable root (the workspace or an
// extra root) can be edited by the sandboxed commands themselves, so it is
// untrusted: it may only tighten the policy (a stricter mode, more denied paths,
// more protected paths, lower limits) and any attempt to widen it is an error
// that names the file, the line and the key. The user's own file may declare the
// workspace file trusted.
//
// # Promises
//
//   - Every value of the effective Policy carries the layer, file and line it
//     came from (see Source), so `cordon policy show` can say why it is so.
//   - Unknown keys, values of the wrong type, bad values and conflicting rules
//     are errors (FileError) naming the file, the line and the key.
//   - Load never returns a Policy with a writable root of /, the home directory
//     or a parent of it unless the caller passed Options.AllowBroadRoots.
//   - Load (and Validate, which checks one file in the role Load gives it)
//     refuses a writable root that does not exist on this machine, at the
//     file and line that named it; Merge reads no files and does not check.
//
// The format is documented in docs/policy.md.
package policy
