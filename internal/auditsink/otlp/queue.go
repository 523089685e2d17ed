package otlp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

const (
	queueLimit = 10000   // records held in memory
	batchLimit = 512     // records per request
	batchBytes = 4 << 20 // bytes of records per request, below collectors' usual 20 MiB limit
	// exportEvery is the background export's period, and the first wait
	// after a failure; the wait doubles up to maxRetryWait while exports
	// fail.
	exportEvery  = time.Second
	maxRetryWait = 30 * time.Second
	// maxRetryAfter bounds the wait a collector may ask for with
	// Retry-After.
	maxRetryAfter = 5 * time.Minute
)

// sender delivers one batch of encoded records (client.send): nil, or a
// *sendError saying what became of them.
type sender func(ctx context.Context, recs [][]byte) error

// queue holds encoded records until they are delivered. It keeps the
// records of an export that may be retried, and counts the records it drops
// (overflow, or refused by the collector for good), so that the sink can
// report both.
type queue struct {
	send     sender
	endpoint string
	timeout  time.Duration

	// exporting is held by the one export in progress, so that exports go
	// one at a time and in order. It is a channel so that waiting for it
	// can give up.
	exporting chan struct{}

	mu      sync.Mutex
	recs    [][]byte
	base    uint64 // how many records ever left the front of recs
	dropped int
	// unreportedDrop: records were dropped while exports succeeded; status
	// reports it until the next successful export.
	unreportedDrop bool
	lastErr        error
	// wait is the background export's period: exportEvery, or the backoff
	// after failures that allow a retry. retryAt is when such a failure
	// allows the next attempt; zero otherwise.
	wait    time.Duration
	retryAt time.Time
	stopped bool

	kick   chan struct{}
	cancel context.CancelFunc // stops the background export and its request in flight
	done   chan struct{}
}

func newQueue(send sender, endpoint string, timeout time.Duration) *queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queue{
		send: send, endpoint: endpoint, timeout: timeout,
		exporting: make(chan struct{}, 1), wait: exportEvery,
		kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{}),
	}
	go q.run(ctx)
	return q
}

// add queues one encoded record, dropping the oldest when the queue is
// full.
func (q *queue) add(rec []byte) {
	q.mu.Lock()
	if q.stopped {
		q.dropped++
		q.mu.Unlock()
		return
	}
	if len(q.recs) >= queueLimit {
		q.recs[0] = nil
		q.recs = q.recs[1:]
		q.base++
		q.dropped++
		q.unreportedDrop = q.lastErr == nil
	}
	q.recs = append(q.recs, rec)
	full := len(q.recs) >= batchLimit
	q.mu.Unlock()
	if full {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
}

// run exports every second, or at once when a batch is full, and backs off
// while the collector fails.
func (q *queue) run(ctx context.Context) {
	defer close(q.done)
	timer := time.NewTimer(exportEvery)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.kick:
			if q.untilRetry() > 0 {
				continue // a full batch does not cut a backoff short
			}
		case <-timer.C:
			// A failed Flush may have pushed the next attempt back.
			if d := q.untilRetry(); d > 0 {
				timer.Reset(d)
				continue
			}
		}
		// The request's own deadline is the timeout (http.Client).
		q.exportAll(ctx, true)
		if ctx.Err() != nil {
			return
		}
		q.mu.Lock()
		wait := q.wait
		q.mu.Unlock()
		timer.Reset(wait)
	}
}

// untilRetry is how long the backoff after a failure still lasts.
func (q *queue) untilRetry() time.Duration {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.retryAt.IsZero() {
		return 0
	}
	return time.Until(q.retryAt)
}

// nextWait is the backoff after an export that may be retried: twice the
// last wait, from exportEvery up to maxRetryWait, or what the collector
// asked for when that is longer (up to maxRetryAfter).
func nextWait(last, retryAfter time.Duration) time.Duration {
	w := min(max(2*last, exportEvery), maxRetryWait)
	return max(w, min(retryAfter, maxRetryAfter))
}

// exportAll exports queued records, oldest first, until the queue is empty
// or an export fails. Records of a failure that may be retried stay
// queued; records the collector refused for good are dropped and counted.
// It gives up waiting for an export already in progress when ctx ends. A
// background export does nothing while a failure's backoff lasts (a Flush
// that failed while it waited may have started one).
func (q *queue) exportAll(ctx context.Context, background bool) error {
	select {
	case q.exporting <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("export to %s: an export in progress did not finish in time: %w", q.endpoint, ctx.Err())
	}
	defer func() { <-q.exporting }()
	if background && q.untilRetry() > 0 {
		return nil
	}
	for {
		q.mu.Lock()
		n, size := 0, 0
		for n < len(q.recs) && n < batchLimit && (n == 0 || size+len(q.recs[n]) <= batchBytes) {
			size += len(q.recs[n])
			n++
		}
		batch := append([][]byte(nil), q.recs[:n]...)
		end := q.base + uint64(n)
		q.mu.Unlock()
		if n == 0 {
			return nil
		}
		err := q.send(ctx, batch)
		if err != nil && isStopped(ctx, err) {
			return err // the sink is closing: the records stay for Close
		}
		var se *sendError
		q.mu.Lock()
		if err == nil || errors.As(err, &se) && se.rejected > 0 {
			// Delivered, or refused for good. add may have dropped some of
			// this batch meanwhile, so remove by absolute position.
			if end > q.base {
				q.recs = q.recs[end-q.base:]
				q.base = end
			}
		}
		switch {
		case err == nil:
			q.lastErr, q.unreportedDrop = nil, false
			q.wait, q.retryAt = exportEvery, time.Time{}
			q.mu.Unlock()
			continue
		case se != nil && se.rejected > 0:
			q.dropped += se.rejected
			// The collector works; it refused these records. No backoff.
			q.wait, q.retryAt = exportEvery, time.Time{}
		default:
			var after time.Duration
			if se != nil {
				after = se.retryAfter
			}
			q.wait = nextWait(q.wait, after)
			q.retryAt = time.Now().Add(q.wait)
		}
		q.lastErr = fmt.Errorf("export to %s: %w", q.endpoint, err)
		err = q.lastErr
		q.mu.Unlock()
		return err
	}
}

func (q *queue) status() (pending, lost int, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	err = q.lastErr
	if err == nil && q.unreportedDrop {
		err = fmt.Errorf("export to %s falls behind: the queue of %d records overflowed", q.endpoint, queueLimit)
	}
	return len(q.recs), q.dropped, err
}

// flush exports every queued record now, in one attempt per batch, within
// the timeout: a check gets its answer in one attempt, not after a backoff.
func (q *queue) flush(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	return q.exportAll(ctx, false)
}

// shutdown stops the background export (cancelling its request in flight)
// and makes a last export within the timeout, unless the collector failed
// so recently that a retry is not due yet: then the last failure stands,
// and closing does not wait for the timeout a second time. Records that
// could not be exported stay counted in status.
func (q *queue) shutdown() error {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return nil
	}
	q.stopped = true
	q.mu.Unlock()
	q.cancel()
	<-q.done
	q.mu.Lock()
	pending, lastErr, notDue := len(q.recs), q.lastErr, time.Now().Before(q.retryAt)
	q.mu.Unlock()
	if pending == 0 {
		return nil
	}
	if notDue {
		return lastErr
	}
	return q.flush(context.Background())
}
