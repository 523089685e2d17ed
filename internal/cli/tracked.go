package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/cordon-sandbox/cordon/internal/trackedsecrets"
	"github.com/cordon-sandbox/cordon/policy"
)

// findTrackedSecrets lists the files in the workspace that the policy masks
// but git keeps readable through its objects (issue 14.5): the sandbox
// cannot hide them without breaking git, so the user is told. It runs git on
// the host, hardened and bounded as the trackedsecrets package describes.
func findTrackedSecrets(l *loaded) (trackedsecrets.Report, error) {
	return trackedsecrets.Find(context.Background(), l.workspace, trackedsecrets.Options{
		Deny:  policy.Values(l.policy.Filesystem.DenyRead),
		Allow: policy.Values(l.policy.Filesystem.AllowRead),
	})
}

// warnTrackedSecrets prints the warning for a report, or why the search
// could not be made; it prints nothing when git holds no masked file.
func warnTrackedSecrets(w io.Writer, rep trackedsecrets.Report, err error) {
	if err != nil {
		fmt.Fprintf(w, "cordon: note: could not look for secrets tracked by git: %v\n", err)
		return
	}
	if msg := rep.Message(); msg != "" {
		fmt.Fprintf(w, "cordon: warning: %s\n", msg)
	}
}
