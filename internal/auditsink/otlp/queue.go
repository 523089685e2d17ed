package otlp

import (
	"context"
	"fmt"
	"sync"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"
)

const (
	queueLimit   = 10000
	batchLimit   = 512
	exportEvery  = time.Second
	maxRetryWait = 30 * time.Second
)

// queue is an sdklog.Processor that, unlike the SDK's BatchProcessor, keeps
// records whose export failed and counts what it drops, so that the sink can
// report both.
type queue struct {
	exporter sdklog.Exporter
	endpoint string
	timeout  time.Duration

	exportMu sync.Mutex // one export at a time, in order

	mu      sync.Mutex
	recs    []sdklog.Record
	base    uint64 // how many records ever left the front of recs
	dropped int
	// unreportedDrop: records were dropped while exports succeeded; Status
	// reports it until the next successful export.
	unreportedDrop bool
	lastErr        error
	stopped        bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}
}

var _ sdklog.Processor = (*queue)(nil)

func newQueue(exp sdklog.Exporter, endpoint string, timeout time.Duration) *queue {
	q := &queue{
		exporter: exp, endpoint: endpoint, timeout: timeout,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go q.run()
	return q
}

// Enabled implements sdklog.Processor.
func (q *queue) Enabled(context.Context, sdklog.EnabledParameters) bool { return true }

// OnEmit implements sdklog.Processor: it queues a copy of r, dropping the
// oldest record when the queue is full.
func (q *queue) OnEmit(_ context.Context, r *sdklog.Record) error {
	q.mu.Lock()
	if q.stopped {
		q.dropped++
		q.mu.Unlock()
		return nil
	}
	if len(q.recs) >= queueLimit {
		q.recs = q.recs[1:]
		q.base++
		q.dropped++
		q.unreportedDrop = q.lastErr == nil
	}
	q.recs = append(q.recs, r.Clone())
	full := len(q.recs) >= batchLimit
	q.mu.Unlock()
	if full {
		select {
		case q.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// run exports every second, or at once when a batch is full, and backs off
// while the collector fails.
func (q *queue) run() {
	defer close(q.done)
	wait := exportEvery
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-q.kick:
		case <-timer.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), q.timeout)
		err := q.exportAll(ctx)
		cancel()
		if err != nil {
			wait = min(max(wait*2, exportEvery), maxRetryWait)
		} else {
			wait = exportEvery
		}
		timer.Reset(wait)
	}
}

// exportAll exports queued records, oldest first, until the queue is empty
// or an export fails; failed records stay queued.
func (q *queue) exportAll(ctx context.Context) error {
	q.exportMu.Lock()
	defer q.exportMu.Unlock()
	for {
		q.mu.Lock()
		n := min(len(q.recs), batchLimit)
		batch := append([]sdklog.Record(nil), q.recs[:n]...)
		end := q.base + uint64(n)
		q.mu.Unlock()
		if n == 0 {
			return nil
		}
		err := q.exporter.Export(ctx, batch)
		q.mu.Lock()
		if err != nil {
			q.lastErr = fmt.Errorf("export to %s: %w", q.endpoint, err)
			err = q.lastErr
			q.mu.Unlock()
			return err
		}
		// OnEmit may have dropped some of this batch meanwhile, so remove
		// by absolute position.
		if end > q.base {
			q.recs = q.recs[end-q.base:]
			q.base = end
		}
		q.lastErr, q.unreportedDrop = nil, false
		q.mu.Unlock()
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

// ForceFlush implements sdklog.Processor.
func (q *queue) ForceFlush(ctx context.Context) error { return q.exportAll(ctx) }

// Shutdown implements sdklog.Processor: a last export, then the exporter
// stops. Records that could not be exported stay counted in status.
func (q *queue) Shutdown(ctx context.Context) error {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return nil
	}
	q.stopped = true
	q.mu.Unlock()
	close(q.stop)
	<-q.done
	err := q.exportAll(ctx)
	if serr := q.exporter.Shutdown(ctx); err == nil {
		err = serr
	}
	return err
}
