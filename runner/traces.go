package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

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
