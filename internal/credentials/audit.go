package credentials

import (
	"fmt"
	"strings"

	"github.com/cordon-sandbox/cordon/audit"
	"github.com/cordon-sandbox/cordon/internal/cmdpolicy"
)

// AuditSubject is the subject of the audit trail's decisions about
// credentials, and the kind of an approval request for one
// (approval.KindCredential).
const AuditSubject = "credential"

// Event is the audit trail's record of a decision about handing s's secret
// to a command: d is Allow when it is handed over, Ask when a human is
// asked, Deny when it is not (zero means s's own decision); decider is
// "policy" (the scope's decision), "grant" (a remembered approval) or
// "default". The event names the credential, never its value.
func Event(s Scope, d cmdpolicy.Decision, decider string) audit.Decision {
	if d == 0 {
		d = s.EffectiveDecision()
	}
	rule := fmt.Sprintf("credentials %q", s.Name)
	if s.Source != "" {
		rule = s.Source + ": " + rule
	}
	reason := s.Reason
	switch {
	case reason != "":
	case s.Inject != nil:
		reason = fmt.Sprintf("the policy scopes credential %q to this command; the command gets a placeholder in %s, and cordon's proxy puts the secret into requests to %s",
			s.Name, s.Env, strings.Join(s.Inject.Hosts, ", "))
	default:
		reason = fmt.Sprintf("the policy scopes credential %q (variable %s) to this command", s.Name, s.Env)
	}
	return audit.Decision{Decision: d.String(), Subject: AuditSubject, Target: s.Name, Rule: rule,
		Category: cmdpolicy.CategorySecretAccess, Decider: decider, Reason: reason}
}
