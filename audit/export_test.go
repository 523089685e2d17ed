package audit

import "time"

// PayloadTypes exposes the payload list to the external doc test.
var PayloadTypes = payloadTypes

// SetClock makes l stamp events with now (tests only).
func (l *Logger) SetClock(now func() time.Time) { l.now = now }
