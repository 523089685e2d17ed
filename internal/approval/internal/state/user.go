package state

import (
	"os"
	"os/user"
	"strconv"
)

// CurrentUser names the OS user this process runs as, for the record of
// who answered a question.
func CurrentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "uid " + strconv.Itoa(os.Getuid())
}
