package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Endpoint is what a running approval inbox publishes for the cordon
// processes that submit requests to it. Token authorises submitting a
// request and waiting for its answer, nothing else: the token that lets a
// browser answer is never written to disk.
type Endpoint struct {
	URL     string    `json:"url"`
	Token   string    `json:"token"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// ErrNoInbox means that no inbox is running for this user.
var ErrNoInbox = errors.New("no approval inbox is running")

// InboxFile is where the running inbox publishes its Endpoint.
func InboxFile(stateDir string) string { return filepath.Join(stateDir, "approve", "inbox.json") }

// inboxLock is held by the running inbox for its whole life: a published
// file without a holder is stale.
func inboxLock(stateDir string) string { return filepath.Join(stateDir, "approve", "inbox.lock") }

// RunningError says that another inbox already serves this user.
type RunningError struct {
	Endpoint Endpoint
}

func (e *RunningError) Error() string {
	if e.Endpoint.PID != 0 {
		return fmt.Sprintf("an approval inbox is already running (pid %d, %s)", e.Endpoint.PID, e.Endpoint.URL)
	}
	return "an approval inbox is already running"
}

// Hint says what to do.
func (e *RunningError) Hint() string {
	return "use the inbox that is running (its URL was printed where it was started), or stop it first"
}

// PublishInbox makes ep known to requesters. Only one inbox per state
// directory can be published at a time; withdraw removes the file and
// releases the claim.
func PublishInbox(stateDir string, ep Endpoint) (withdraw func(), err error) {
	dir := filepath.Dir(InboxFile(stateDir))
	if err := MkdirPrivate(dir); err != nil {
		return nil, err
	}
	lock, ok, err := TryLockExclusive(inboxLock(stateDir))
	if err != nil {
		return nil, err
	}
	if !ok {
		running, _ := readEndpoint(stateDir)
		return nil, &RunningError{Endpoint: running}
	}
	data, err := json.MarshalIndent(ep, "", "  ")
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	if err := WriteFileAtomic(InboxFile(stateDir), append(data, '\n')); err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("publish the inbox's address: %w", err)
	}
	return func() {
		os.Remove(InboxFile(stateDir))
		lock.Unlock()
	}, nil
}

// ReadInbox returns the running inbox's Endpoint, or ErrNoInbox when none
// runs (no file, or a file left by an inbox that is gone).
func ReadInbox(stateDir string) (Endpoint, error) {
	locked, err := IsLocked(inboxLock(stateDir))
	if err != nil {
		return Endpoint{}, fmt.Errorf("check for a running approval inbox: %w", err)
	}
	if !locked {
		return Endpoint{}, ErrNoInbox
	}
	return readEndpoint(stateDir)
}

func readEndpoint(stateDir string) (Endpoint, error) {
	data, err := ReadPrivateFile(InboxFile(stateDir))
	if os.IsNotExist(err) {
		return Endpoint{}, ErrNoInbox
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read the approval inbox's address: %w", err)
	}
	var ep Endpoint
	if err := json.Unmarshal(data, &ep); err != nil || ep.URL == "" || ep.Token == "" {
		return Endpoint{}, fmt.Errorf("%s is not an inbox address file (%v); stop the inbox and start it again", InboxFile(stateDir), err)
	}
	return ep, nil
}
