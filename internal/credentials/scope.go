package credentials

import "github.com/cordon-sandbox/cordon/policy/credscope"

// The scope types are policy/credscope's, which holds them, their checks
// and their merges without the command analyser; they are named here too so
// that callers that match and resolve scopes need one import.
type (
	// Scope is credscope.Scope, one [[credentials]] entry.
	Scope = credscope.Scope
	// Scopes is credscope.Scopes, a [[credentials]] list or a merge of several.
	Scopes = credscope.Scopes
	// Inject is credscope.Inject, the inject table of an entry.
	Inject = credscope.Inject
)
