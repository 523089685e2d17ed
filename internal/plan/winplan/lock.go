package winplan

import "time"

// lockPoll is how often a waiting OpenState tries the lock again.
const lockPoll = 20 * time.Millisecond
