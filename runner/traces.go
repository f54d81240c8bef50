package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sb/creds"
	"sb/exitcode"
	"sb/tracing/xray"
)

// TracesFile is where get_traces puts a run's traces, in its logs directory.
const TracesFile = "traces.json"

// progressThreshold is the input size above which analyze_traces shows its
// progress on a terminal.
const progressThreshold = 4 << 20

// AnalyzeTraces breaks down the traces in path (a traces.json or a logs
// directory; default: the last invocation's traces.json) and writes
// trace_breakdown.csv and invalid_traces.csv beside it.
func (r *Runner) AnalyzeTraces(ctx context.Context, path string) error {
	input, err := r.tracesInput(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(input)
	if err != nil {
		return exitcode.With(fmt.Errorf("no traces to analyse: %w", err), exitcode.BadInput)
	}
	opt := xray.AnalyzeOptions{}
	if r.sys.Terminal && fi.Size() > progressThreshold {
		opt.Progress = r.analysisProgress(fi.Size())
	}
	start := time.Now()
	s, err := xray.AnalyzeFile(ctx, input, opt)
	if opt.Progress != nil {
		fmt.Fprint(r.sys.Stderr, "\r\033[K")
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("analysis interrupted after %d traces (rows so far kept in %s): %w", s.Valid+s.Invalid, relTo(r.sys.Cwd, s.BreakdownPath), ctx.Err())
		}
		if errors.Is(err, xray.ErrNoTraces) {
			return exitcode.With(fmt.Errorf("%s: %w", relTo(r.sys.Cwd, input), err), exitcode.BadInput)
		}
		return exitcode.With(fmt.Errorf("analysing %s: %w", relTo(r.sys.Cwd, input), err), exitcode.BadInput)
	}
	out := r.sys.Stdout
	fmt.Fprintf(out, "analysed %d traces in %s: %d valid, %d invalid (%.1f%%)\n", s.Valid+s.Invalid, time.Since(start).Round(time.Millisecond), s.Valid, s.Invalid, s.InvalidPercent())
	if s.Duplicates > 0 {
		fmt.Fprintf(out, "  %d of the invalid traces repeat an earlier trace id\n", s.Duplicates)
	}
	verb := "wrote"
	if s.Replaced {
		verb = "replaced"
	}
	fmt.Fprintf(out, "%s %s\n%s %s\n", verb, relTo(r.sys.Cwd, s.BreakdownPath), verb, relTo(r.sys.Cwd, s.InvalidPath))
	return nil
}

// tracesInput resolves analyze_traces' argument.
func (r *Runner) tracesInput(path string) (string, error) {
	if path == "" {
		b, err := r.Open()
		if err != nil {
			return "", err
		}
		logs := b.LogsDir()
		if logs == "" {
			return "", exitcode.With(errors.New("no invocation recorded for this benchmark, so no logs directory: run sb invoke and sb get_traces first, or give the path of a traces.json"), exitcode.BadInput)
		}
		path = logs
	} else if !filepath.IsAbs(path) {
		path = filepath.Join(r.sys.Cwd, path)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, TracesFile)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return "", exitcode.With(fmt.Errorf("no traces at %s: download them with sb get_traces, or give the path of a traces.json", relTo(r.sys.Cwd, path)), exitcode.BadInput)
	}
	return path, nil
}

// analysisProgress renders a one-line progress display.
func (r *Runner) analysisProgress(total int64) func(xray.Progress) {
	return func(p xray.Progress) {
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(p.Bytes) / float64(total)
		}
		fmt.Fprintf(r.sys.Stderr, "\r\033[Kanalysing: %5.1f%% of %d MB, %d valid, %d invalid", pct, total>>20, p.Valid, p.Invalid)
	}
}

// DefaultEndOffset extends the trace window past the invoke's end, for
// requests that finish in the background after the client got its answer.
const DefaultEndOffset = 5 * time.Minute

// noInvokeWindow is how far back get_traces looks when no invoke is recorded.
const noInvokeWindow = 6 * time.Hour

// traceWindow is the last invocation's window: invoke start … invoke end +
// endOffset; until now when the invoke has not ended; the last 6 hours
// when no invoke is recorded (ServiBench's rules).
func (b *Benchmark) traceWindow(now time.Time, endOffset time.Duration) (start, end time.Time, invoked bool) {
	start, ok := b.State.LastEventTime("invoke", "start")
	if !ok {
		return now.Add(-noInvokeWindow), now, false
	}
	if e, ok := b.State.LastEventTime("invoke", "end"); ok && !e.Before(start) {
		return start, e.Add(endOffset), true
	}
	return start, now, true
}

// GetTraces downloads the traces of the last invocation window into its
// logs directory, from the provider the benchmark declares.
func (r *Runner) GetTraces(ctx context.Context, endOffset time.Duration) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	providers, err := b.providers()
	if err != nil {
		return err
	}
	if !slices.Contains(providers, "aws") {
		return exitcode.With(fmt.Errorf("get_traces downloads traces of provider aws; this benchmark's provider is %s: set provider in BENCHMARK_CONFIG", describeProviders(providers)), exitcode.BadInput)
	}
	now := r.sys.Now()
	start, end, invoked := b.traceWindow(now, endOffset)
	dir := b.LogsDir()
	if !invoked {
		r.sys.Log.Warn().Msg("no invoke recorded: downloading the traces of the last 6 hours")
		dir = logsDirFor(b.Script.Dir, now)
	}
	if end.After(now) {
		r.sys.Log.Warn().Str("until", end.Format(time.TimeOnly)).Msg("the trace window has not ended yet: traces still in progress will be missing")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return exitcode.With(fmt.Errorf("creating logs directory: %w", err), exitcode.Infrastructure)
	}
	return r.getXRayTraces(ctx, b, start, end, dir)
}

func describeProviders(p []string) string {
	if len(p) == 0 {
		return "not set"
	}
	return strings.Join(p, ", ")
}

// getXRayTraces downloads X-Ray traces with the SDK's standard configuration,
// or with the credentials `sb login aws` stored in the aws-secrets volume.
func (r *Runner) getXRayTraces(ctx context.Context, b *Benchmark, start, end time.Time, dir string) error {
	opt := xray.ConfigOptions{Region: b.State.Attr("region")}
	shared, cleanup, err := r.loginFiles(ctx, "aws")
	if err != nil {
		return err
	}
	defer cleanup()
	opt.SharedDir = shared
	cfg, err := xray.LoadConfig(ctx, opt)
	if err != nil {
		return exitcode.With(fmt.Errorf("AWS configuration: %w", err), exitcode.BadInput)
	}
	r.sys.Log.Info().Str("from", start.Format(time.DateTime)).Str("to", end.Format(time.DateTime)).Str("region", cfg.Region).Msg("downloading X-Ray traces")
	var progress func(xray.DownloadProgress)
	if r.sys.Terminal {
		progress = func(p xray.DownloadProgress) {
			if p.Listing {
				fmt.Fprintf(r.sys.Stderr, "\r\033[Klisting traces: %d ids", p.IDs)
			} else {
				fmt.Fprintf(r.sys.Stderr, "\r\033[Kdownloading traces: %d of %d", p.Fetched, p.IDs)
			}
		}
	}
	t0 := time.Now()
	s, err := xray.Download(ctx, cfg, xray.DownloadOptions{Start: start, End: end, Dir: dir, Progress: progress})
	if progress != nil {
		fmt.Fprint(r.sys.Stderr, "\r\033[K")
	}
	switch {
	case errors.Is(err, xray.ErrTracesExist):
		return exitcode.With(fmt.Errorf("%s already holds traces: sb never overwrites them; move the file away to download again", relTo(r.sys.Cwd, filepath.Join(dir, xray.TracesFile))), exitcode.BadInput)
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return exitcode.With(fmt.Errorf("downloading X-Ray traces: %w", err), exitcode.Infrastructure)
	}
	fmt.Fprintf(r.sys.Stdout, "downloaded %d traces in %s (%d ids listed, %d duplicates, %d unprocessed) into %s\n",
		s.Traces, time.Since(t0).Round(time.Millisecond), s.Listed, s.Duplicates, s.Unprocessed, relTo(r.sys.Cwd, s.TracesPath))
	return nil
}

// loginFiles copies the credentials `sb login PROVIDER` stored in its volume
// into a private temporary directory, when there are any and a Docker engine
// to read them from; "" means the provider's standard configuration applies.
func (r *Runner) loginFiles(ctx context.Context, provider string) (dir string, cleanup func(), err error) {
	cleanup = func() {}
	p, err := creds.Lookup(provider)
	if err != nil {
		return "", cleanup, err
	}
	e, err := r.engine(ctx)
	if err != nil {
		r.sys.Log.Debug().Err(err).Msg("no Docker engine: using the standard credentials configuration")
		return "", cleanup, nil
	}
	if ok, err := e.VolumeExists(ctx, p.Volume); err != nil || !ok {
		return "", cleanup, nil
	}
	dir, err = os.MkdirTemp("", "sb-"+provider+"-")
	if err != nil {
		return "", cleanup, exitcode.With(err, exitcode.Infrastructure)
	}
	cleanup = func() { os.RemoveAll(dir) }
	if err := e.CopyVolumeTo(ctx, p.Volume, p.Image(), dir); err != nil {
		cleanup()
		return "", func() {}, exitcode.With(fmt.Errorf("reading the credentials of sb login %s: %w", provider, err), exitcode.Infrastructure)
	}
	r.sys.Log.Debug().Str("volume", p.Volume).Msg("using the credentials of sb login")
	return dir, cleanup, nil
}
