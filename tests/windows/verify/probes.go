// Command verify is cordon's verification kit for a real Windows host: it
// prepares cordon's unelevated sandbox on a scratch workspace in the user's
// profile, runs escape probes inside it (the kit itself, started as the
// sandboxed command), and prints each result against cordon's promise and
// against the access-check model's prediction for the same token and
// descriptors, then "N passed, N failed, N observed, N model mismatches".
// Run it as a standard user from a normal prompt: scripts/windows/verify.ps1.
package main

// outcome is what cordon's documentation promises for a probe.
type outcome string

const (
	allowed outcome = "allowed"
	denied  outcome = "denied"
	// gap: a documented hole of the unelevated mode; the probe is expected
	// to be allowed, and is reported so that the documentation can be
	// checked.
	gap outcome = "gap (allowed)"
	// observe: no promise either way; the result is printed.
	observe outcome = "observe"
)

// probe is one operation the sandboxed child tries. Kind selects the
// child's code; Path and To are relative to the scratch directory's layout
// ("ws\..." the workspace, "out\..." outside it, "state\..." cordon's state),
// resolved by the parent.
type probe struct {
	Name   string
	Kind   string
	Path   string
	To     string
	Expect outcome
}

// probes is the table, in the order they run. The file probes repeat the
// model's table (internal/plan/winplan/model_test.go) on a real host.
var probes = []probe{
	{"write a workspace file", "write", `ws\main.go`, "", allowed},
	{"create a workspace file", "create", `ws\new.go`, "", allowed},
	{"delete a workspace file", "delete", `ws\lib.go`, "", allowed},
	{"rename a workspace file", "rename", `ws\main.go`, `ws\main2.go`, allowed},
	{"write the command's TEMP", "write-temp", "", "", allowed},
	{"write .git\\config", "write", `ws\.git\config`, "", denied},
	{"append to .git\\config", "append", `ws\.git\config`, "", denied},
	{"write .git\\config through its 8.3 name", "write-short", `ws\.git\config`, "", denied},
	{"write .git\\config through a stream", "write", `ws\.git\config:cordon`, "", denied},
	{"delete .git\\config (review C1)", "delete", `ws\.git\config`, "", denied},
	{"rename .git\\config away (C1)", "rename", `ws\.git\config`, `ws\.git\config.old`, denied},
	{"replace .git\\config by a rename (C1)", "replace", `ws\forged`, `ws\.git\config`, denied},
	{"create a hook", "create", `ws\.git\hooks\pre-commit`, "", denied},
	{"delete a hook sample (C1)", "delete", `ws\.git\hooks\pre-commit.sample`, "", denied},
	{"rename .git\\hooks away (C1)", "rename", `ws\.git\hooks`, `ws\.git\hooks.old`, denied},
	{"rename .git away (C1)", "rename", `ws\.git`, `ws\.git.old`, denied},
	{"write the placeholder .mcp.json", "write", `ws\.mcp.json`, "", denied},
	{"delete the placeholder .vscode (C1)", "delete", `ws\.vscode`, "", denied},
	{"write the DACL of a workspace file", "write-dac", `ws\lib2.go`, "", denied},
	{"write an outside file", "write", `out\doc.txt`, "", denied},
	{"create an outside file", "create", `out\new.txt`, "", denied},
	{"read an outside file", "read", `out\doc.txt`, "", allowed},
	{"read a secret (reads are not confined)", "read", `out\secret.txt`, "", gap},
	{"delete an outside file (review C2)", "delete", `out\doc2.txt`, "", gap},
	{"move an outside file into the workspace (C2)", "rename", `out\doc3.txt`, `ws\moved.txt`, gap},
	{"delete cordon's ledger (C2)", "delete", `state\ledger.json`, "", denied},
	{"hard-link an outside file into the workspace", "link", `out\doc.txt`, `ws\link.txt`, denied},
	{"write into the user's own TEMP", "create", `%TEMP%\cordon-verify.tmp`, "", denied},
	{"read the memory of cordon's process (review H6)", "proc-read", "", "", gap},
	{"write the memory of cordon's process", "proc-write", "", "", denied},
	{"start a thread in cordon's process", "proc-thread", "", "", denied},
	{"write HKCU (a new key)", "reg-write", "", "", denied},
	{"read HKCU", "reg-read", "", "", gap},
	{"read the clipboard", "clipboard", "", "", denied},
	{"open the user's desktop for hooks (review H4)", "desktop", "", "", observe},
	{"connect to 1.1.1.1:443 around the proxy", "connect", "1.1.1.1:443", "", gap},
	{"leave a process running after the command ends", "survivor", "", "", denied},
}
