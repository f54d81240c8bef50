package xray

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/xray"
	"github.com/aws/aws-sdk-go-v2/service/xray/types"
)

// Files written by Download into the target directory.
const (
	TracesFile      = "traces.json"
	TraceIDsFile    = "trace_ids.txt"
	UnprocessedFile = "unprocessed_trace_ids.txt"
)

// batchSize is the most trace ids BatchGetTraces accepts per call.
const batchSize = 5

// summaryWindow is the longest time range asked of GetTraceSummaries in
// one go; longer windows are split (the API limits the range).
const summaryWindow = 6 * time.Hour

// ErrTracesExist is returned (wrapped) when the target directory already
// holds a traces.json: a download never overwrites one.
var ErrTracesExist = errors.New("traces already downloaded")

// DownloadOptions say what to download where.
type DownloadOptions struct {
	// Start and End delimit the window of trace start times.
	Start, End time.Time
	// Dir receives traces.json, trace_ids.txt and, when some ids could not
	// be fetched, unprocessed_trace_ids.txt. It must exist.
	Dir string
	// Concurrency is the number of BatchGetTraces calls in flight; 0 means
	// 8. The SDK's adaptive retry mode slows down when X-Ray throttles.
	Concurrency int
	// MaxAttempts per call (0: 10) and MaxBackoff between attempts (0:
	// 20 s) tune the retries of throttled or failed calls.
	MaxAttempts int
	MaxBackoff  time.Duration
	// Progress, when set, is called from a single goroutine after every
	// page of ids and every batch of traces.
	Progress func(DownloadProgress)
}

// DownloadProgress reports how far a download has come.
type DownloadProgress struct {
	// Listing is true while trace ids are being listed; IDs counts the
	// unique ids found so far.
	Listing bool
	IDs     int
	// Fetched counts the ids whose traces were requested and answered
	// (including unprocessed ones), out of IDs.
	Fetched int
}

// DownloadSummary is the outcome of a download.
type DownloadSummary struct {
	Start, End time.Time
	// Listed counts the ids GetTraceSummaries returned, Duplicates the
	// repeated ones among them (fetched once).
	Listed, Duplicates int
	// Traces counts the traces written to traces.json; Unprocessed the ids
	// X-Ray did not return.
	Traces, Unprocessed int
	// Paths of the files written; UnprocessedPath is empty when every id
	// was processed.
	TracesPath, TraceIDsPath, UnprocessedPath string
}

// Download fetches the X-Ray traces that started in [opt.Start, opt.End]:
// GetTraceSummaries (paginated) lists the ids into trace_ids.txt, the unique
// ids are fetched with BatchGetTraces in batches of five, several batches at
// a time, and written one trace per line to traces.json in the shape
// BatchGetTraces returns ({"Id","Duration","LimitExceeded","Segments":
// [{"Id","Document"}]}), in the order the ids were listed. Ids X-Ray does
// not return go to unprocessed_trace_ids.txt. traces.json appears only when
// the download is complete; an existing one is never overwritten.
func Download(ctx context.Context, cfg aws.Config, opt DownloadOptions) (DownloadSummary, error) {
	sum := DownloadSummary{Start: opt.Start, End: opt.End}
	if !opt.End.After(opt.Start) {
		return sum, fmt.Errorf("download traces: the window end %s is not after its start %s", opt.End.Format(time.RFC3339), opt.Start.Format(time.RFC3339))
	}
	if st, err := os.Stat(opt.Dir); err != nil || !st.IsDir() {
		return sum, fmt.Errorf("download traces: target directory %q does not exist", opt.Dir)
	}
	sum.TracesPath = filepath.Join(opt.Dir, TracesFile)
	sum.TraceIDsPath = filepath.Join(opt.Dir, TraceIDsFile)
	if _, err := os.Stat(sum.TracesPath); err == nil {
		return sum, fmt.Errorf("%s exists: %w for this invocation; remove it to download again", sum.TracesPath, ErrTracesExist)
	}
	if cfg.Region == "" {
		return sum, errors.New("download traces: no AWS region configured: set region in the benchmark configuration or AWS_REGION")
	}
	client := xray.NewFromConfig(cfg, func(o *xray.Options) {
		o.Retryer = retry.NewAdaptiveMode(func(ao *retry.AdaptiveModeOptions) {
			ao.StandardOptions = append(ao.StandardOptions, func(so *retry.StandardOptions) {
				so.MaxAttempts = cmpOr(opt.MaxAttempts, 10)
				so.MaxBackoff = cmpOr(opt.MaxBackoff, 20*time.Second)
				// The adaptive send rate does the slowing down; the retry
				// quota would only turn a long throttled download into
				// "retry quota exceeded" failures.
				so.RateLimiter = ratelimit.None
			})
		})
	})
	report := func(p DownloadProgress) {
		if opt.Progress != nil {
			opt.Progress(p)
		}
	}

	ids, err := listTraceIDs(ctx, client, opt, &sum, report)
	if err != nil {
		return sum, err
	}
	traces, unprocessed, err := fetchTraces(ctx, client, ids, opt, sum.TracesPath, report)
	sum.Traces = traces
	if err != nil {
		return sum, err
	}
	sum.Unprocessed = len(unprocessed)
	if len(unprocessed) > 0 {
		sum.UnprocessedPath = filepath.Join(opt.Dir, UnprocessedFile)
		if err := writeLines(sum.UnprocessedPath, unprocessed); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// listTraceIDs pages through GetTraceSummaries, writing every id to
// trace_ids.txt and returning the unique ones in listing order.
func listTraceIDs(ctx context.Context, client *xray.Client, opt DownloadOptions, sum *DownloadSummary, report func(DownloadProgress)) ([]string, error) {
	f, err := os.Create(sum.TraceIDsPath)
	if err != nil {
		return nil, fmt.Errorf("download traces: %w", err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	seen := map[string]bool{}
	var ids []string
	for from := opt.Start; from.Before(opt.End); from = from.Add(summaryWindow) {
		to := from.Add(summaryWindow)
		if to.After(opt.End) {
			to = opt.End
		}
		pages := xray.NewGetTraceSummariesPaginator(client, &xray.GetTraceSummariesInput{
			StartTime: aws.Time(from), EndTime: aws.Time(to),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("list X-Ray traces between %s and %s: %w", from.Format(time.RFC3339), to.Format(time.RFC3339), err)
			}
			for _, s := range page.TraceSummaries {
				if s.Id == nil {
					continue
				}
				id := *s.Id
				sum.Listed++
				fmt.Fprintln(w, id)
				// BatchGetTraces rejects a batch holding an id twice.
				if seen[id] {
					sum.Duplicates++
					continue
				}
				seen[id] = true
				ids = append(ids, id)
			}
			report(DownloadProgress{Listing: true, IDs: len(ids)})
		}
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", sum.TraceIDsPath, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", sum.TraceIDsPath, err)
	}
	return ids, nil
}

type batchResult struct {
	traces      []types.Trace
	unprocessed []string
	err         error
	done        chan struct{}
}

// traceLine is a trace as stored in traces.json: BatchGetTraces' shape,
// absent fields left out (so that the analysis can tell them missing).
type traceLine struct {
	ID            *string       `json:"Id,omitempty"`
	Duration      *float64      `json:"Duration,omitempty"`
	LimitExceeded *bool         `json:"LimitExceeded,omitempty"`
	Segments      []segmentLine `json:"Segments"`
}

type segmentLine struct {
	ID       *string `json:"Id,omitempty"`
	Document *string `json:"Document,omitempty"`
}

// fetchTraces fetches ids in batches, opt.Concurrency batches at a time,
// and writes the traces in batch order to a temporary file that becomes
// path when everything succeeded.
func fetchTraces(ctx context.Context, client *xray.Client, ids []string, opt DownloadOptions, path string, report func(DownloadProgress)) (int, []string, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+TracesFile+".*")
	if err != nil {
		return 0, nil, fmt.Errorf("download traces: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // no-op after the rename
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// Stop the dispatcher and wait for the workers whatever the outcome.
	defer func() {
		cancel()
		wg.Wait()
	}()
	n := (len(ids) + batchSize - 1) / batchSize
	results := make([]*batchResult, n)
	for i := range results {
		results[i] = &batchResult{done: make(chan struct{})}
	}
	concurrency := cmpOr(opt.Concurrency, 8)
	// Batches are handed out in order and at most window of them wait to
	// be written, so a slow batch holds back memory only that far.
	window := make(chan struct{}, 4*concurrency)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := 0; i < n; i++ {
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for k := 0; k < concurrency; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				batch := ids[i*batchSize : min((i+1)*batchSize, len(ids))]
				r := results[i]
				r.traces, r.unprocessed, r.err = fetchBatch(ctx, client, batch)
				close(r.done)
			}
		}()
	}
	written, fetched := 0, 0
	var unprocessed []string
	for i, r := range results {
		select {
		case <-r.done:
		case <-ctx.Done():
			return written, nil, fmt.Errorf("download traces: %w", ctx.Err())
		}
		if r.err != nil {
			return written, nil, fmt.Errorf("fetch X-Ray traces %v: %w", ids[i*batchSize:min((i+1)*batchSize, len(ids))], r.err)
		}
		for _, t := range r.traces {
			line := traceLine{ID: t.Id, Duration: t.Duration, LimitExceeded: t.LimitExceeded, Segments: []segmentLine{}}
			for _, s := range t.Segments {
				line.Segments = append(line.Segments, segmentLine{ID: s.Id, Document: s.Document})
			}
			if err := enc.Encode(line); err != nil {
				return written, nil, fmt.Errorf("write %s: %w", path, err)
			}
			written++
		}
		unprocessed = append(unprocessed, r.unprocessed...)
		fetched += min((i+1)*batchSize, len(ids)) - i*batchSize
		results[i] = nil
		<-window
		report(DownloadProgress{IDs: len(ids), Fetched: fetched})
	}
	if err := w.Flush(); err != nil {
		return written, nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return written, nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return written, nil, fmt.Errorf("write %s: %w", path, err)
	}
	// Link fails if traces.json appeared meanwhile: never overwrite it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return written, nil, fmt.Errorf("%s appeared during the download: %w", path, ErrTracesExist)
		}
		return written, nil, fmt.Errorf("write %s: %w", path, err)
	}
	return written, unprocessed, nil
}

// fetchBatch gets up to five traces, following BatchGetTraces' pages.
func fetchBatch(ctx context.Context, client *xray.Client, ids []string) ([]types.Trace, []string, error) {
	var traces []types.Trace
	var unprocessed []string
	pages := xray.NewBatchGetTracesPaginator(client, &xray.BatchGetTracesInput{TraceIds: ids})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, nil, err
		}
		traces = append(traces, page.Traces...)
		unprocessed = append(unprocessed, page.UnprocessedTraceIds...)
	}
	return traces, unprocessed, nil
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
