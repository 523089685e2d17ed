package approval

import "github.com/cordon-sandbox/cordon/audit"

// Event is the audit trail's record of a human's answer to r (or its
// absence). Answers taken from a grant are not approvals: record them as an
// audit.Decision with decider "grant".
func Event(r Request, a Answer) audit.Approval {
	return audit.Approval{
		Decision: a.Decision,
		Target:   r.shownCommand(),
		Channel:  a.Channel,
		Approver: a.Approver,
		Scope:    a.Scope,
		Latency:  audit.Duration(a.Latency),
		TimedOut: a.TimedOut,
	}
}
