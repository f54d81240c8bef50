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

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"sb/creds"
	"sb/exitcode"
	"sb/loadgen"
	"sb/tracing/azure"
	"sb/tracing/detect"
	"sb/tracing/loglines"
	"sb/tracing/xray"
)

// TracesFile is where get_traces puts a run's traces, in its logs directory.
const TracesFile = "traces.json"

// progressThreshold is the input size above which analyze_traces shows its
// progress on a terminal.
const progressThreshold = 4 << 20

// AnalyzeTraces analyses the traces in path (a traces.json, a log file or a
// logs directory; default: the last invocation's traces.json) in the given
// format (xray, azure or loglines; "" decides by content) and writes its
// CSV files beside the input.
func (r *Runner) AnalyzeTraces(ctx context.Context, path, format string) error {
	input, err := r.tracesInput(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(input)
	if err != nil {
		return exitcode.With(fmt.Errorf("no traces to analyse: %w", err), exitcode.BadInput)
	}
	f := detect.Format(format)
	if format == "" {
		if fi.Size() == 0 {
			return exitcode.With(fmt.Errorf("%s is empty: there is nothing to analyse", relTo(r.sys.Cwd, input)), exitcode.BadInput)
		}
		if f, err = detect.DetectFile(input); err != nil {
			return exitcode.With(err, exitcode.BadInput)
		}
		r.sys.Log.Debug().Str("format", string(f)).Msg("detected the trace format")
	} else if f, err = detect.Parse(format); err != nil {
		return exitcode.With(fmt.Errorf("--format: %w", err), exitcode.BadInput)
	}
	start := time.Now()
	switch f {
	case detect.Azure:
		s, err := azure.AnalyzeFile(ctx, input, azure.AnalyzeOptions{})
		if err != nil {
			return r.analysisError(ctx, input, err)
		}
		r.reportBreakdown(start, "operations", s.Valid, s.Invalid, s.Duplicates, s.InvalidPercent(), s.Replaced, s.BreakdownPath, s.InvalidPath)
		return nil
	case detect.LogLines:
		opt := loglines.AnalyzeOptions{}
		// Beside a run's k6 metrics, join client- and server-side latency.
		if k6 := filepath.Join(filepath.Dir(input), loadgen.MetricsFile); exists(k6) {
			opt.ClientMetrics = k6
		}
		s, err := loglines.AnalyzeFile(ctx, input, opt)
		if err != nil {
			return r.analysisError(ctx, input, err)
		}
		return r.reportLogLines(s)
	}
	opt := xray.AnalyzeOptions{}
	if r.sys.Terminal && fi.Size() > progressThreshold {
		opt.Progress = r.analysisProgress(fi.Size())
	}
	s, err := xray.AnalyzeFile(ctx, input, opt)
	if opt.Progress != nil {
		fmt.Fprint(r.sys.Stderr, "\r\033[K")
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("analysis interrupted after %d traces (rows so far kept in %s): %w", s.Valid+s.Invalid, relTo(r.sys.Cwd, s.BreakdownPath), ctx.Err())
		}
		return r.analysisError(ctx, input, err)
	}
	r.reportBreakdown(start, "traces", s.Valid, s.Invalid, s.Duplicates, s.InvalidPercent(), s.Replaced, s.BreakdownPath, s.InvalidPath)
	return nil
}

func (r *Runner) analysisError(ctx context.Context, input string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return exitcode.With(fmt.Errorf("analysing %s: %w", relTo(r.sys.Cwd, input), err), exitcode.BadInput)
}

// reportBreakdown prints the counts of a latency breakdown and its files.
func (r *Runner) reportBreakdown(start time.Time, what string, valid, invalid, duplicates int, invalidPct float64, replaced bool, breakdown, invalidPath string) {
	out := r.sys.Stdout
	fmt.Fprintf(out, "analysed %d %s in %s: %d valid, %d invalid (%.1f%%)\n", valid+invalid, what, time.Since(start).Round(time.Millisecond), valid, invalid, invalidPct)
	if duplicates > 0 {
		fmt.Fprintf(out, "  %d of the invalid %s repeat an earlier id\n", duplicates, what)
	}
	verb := "wrote"
	if replaced {
		verb = "replaced"
	}
	fmt.Fprintf(out, "%s %s\n%s %s\n", verb, relTo(r.sys.Cwd, breakdown), verb, relTo(r.sys.Cwd, invalidPath))
}

// reportLogLines prints what the log-line analysis found and its step table.
func (r *Runner) reportLogLines(s loglines.Summary) error {
	out := r.sys.Stdout
	fmt.Fprintf(out, "read %d lines: %d instrumentation marks in %d invocations, %d other lines ignored, %d malformed\n", s.Lines, s.Marks, s.Groups, s.Ignored, s.Invalid)
	for _, l := range s.InvalidLines {
		fmt.Fprintf(out, "  %v\n", l)
	}
	if s.Invalid > len(s.InvalidLines) {
		fmt.Fprintf(out, "  ... and %d more in %s\n", s.Invalid-len(s.InvalidLines), relTo(r.sys.Cwd, s.InvalidPath))
	}
	fmt.Fprintf(out, "wrote %s\nwrote %s\n", relTo(r.sys.Cwd, s.TimestampsPath), relTo(r.sys.Cwd, s.DurationsPath))
	if s.InvalidPath != "" {
		fmt.Fprintf(out, "wrote %s\n", relTo(r.sys.Cwd, s.InvalidPath))
	}
	if s.Join != nil {
		fmt.Fprintf(out, "wrote %s\n", relTo(r.sys.Cwd, s.Join.Path))
	}
	fmt.Fprintln(out)
	if err := loglines.WriteTable(out, s.Steps); err != nil {
		return err
	}
	if s.Join != nil {
		return loglines.WriteJoin(out, s.Join)
	}
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
		local := filepath.Join(path, LocalTracesFile)
		path = filepath.Join(path, TracesFile)
		if !exists(path) && exists(local) {
			path = local
		}
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
	isAWS, isAzure, isLocal := slices.Contains(providers, "aws"), slices.Contains(providers, "azure"), slices.Contains(providers, "local")
	if !isAWS && !isAzure && !isLocal {
		return exitcode.With(fmt.Errorf("get_traces downloads traces of provider aws, azure or local; this benchmark's provider is %s: set provider in BENCHMARK_CONFIG", describeProviders(providers)), exitcode.BadInput)
	}
	if isAzure && !isAWS && b.State.Attr("insights_workspace_id") == "" {
		return exitcode.With(fmt.Errorf("%w: set it in BENCHMARK_CONFIG or store it in prepare (spec[\"insights_workspace_id\"] = ...)", azure.ErrNoWorkspace), exitcode.ScriptError)
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
	switch {
	case isAWS:
		return r.getXRayTraces(ctx, b, start, end, dir)
	case isAzure:
		return r.getAzureTraces(ctx, b, start, end, dir)
	}
	return r.getLocalTraces(ctx, b, start, dir)
}

// LocalTracesFile is where get_traces collects the output of a local
// benchmark's services (provider: local), for the log-line analysis.
const LocalTracesFile = "traces.log"

// getLocalTraces gathers the output since start of every service the
// benchmark started with spec.serve into traces.log.
func (r *Runner) getLocalTraces(ctx context.Context, b *Benchmark, start time.Time, dir string) error {
	e, err := r.engine(ctx)
	if err != nil {
		return err
	}
	services, err := e.Services(ctx, b.Script.Name)
	if err != nil {
		return exitcode.With(err, exitcode.Infrastructure)
	}
	if len(services) == 0 {
		return exitcode.With(fmt.Errorf("no running service of benchmark %s: get_traces gathers the output of the containers its prepare started with spec.serve, so run it before cleanup", b.Script.Name), exitcode.BadInput)
	}
	path := filepath.Join(dir, LocalTracesFile)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return exitcode.With(fmt.Errorf("%s already holds traces: sb never overwrites them; move the file away to gather again", relTo(r.sys.Cwd, path)), exitcode.BadInput)
	}
	if err != nil {
		return exitcode.With(err, exitcode.Infrastructure)
	}
	names := make([]string, len(services))
	for i, svc := range services {
		names[i] = svc.Name
		if err := e.WriteLogs(ctx, svc.Name, start, f); err != nil {
			f.Close()
			os.Remove(path)
			return exitcode.With(fmt.Errorf("reading the output of %s: %w", svc.Name, err), exitcode.Infrastructure)
		}
	}
	if err := f.Close(); err != nil {
		return exitcode.With(err, exitcode.Infrastructure)
	}
	fi, _ := os.Stat(path)
	fmt.Fprintf(r.sys.Stdout, "gathered the output of %s (%d bytes) into %s\n", strings.Join(names, ", "), fi.Size(), relTo(r.sys.Cwd, path))
	return nil
}

// getAzureTraces downloads the Application Insights rows of the window from
// the benchmark's Log Analytics workspace, with a token from the Azure CLI
// credentials `sb login azure` stored, else azidentity's standard chain.
func (r *Runner) getAzureTraces(ctx context.Context, b *Benchmark, start, end time.Time, dir string) error {
	cred, err := r.azureCredential(ctx)
	if err != nil {
		return err
	}
	r.sys.Log.Info().Str("from", start.Format(time.DateTime)).Str("to", end.Format(time.DateTime)).Msg("downloading Application Insights operations")
	var progress func(azure.DownloadProgress)
	if r.sys.Terminal {
		progress = func(p azure.DownloadProgress) {
			fmt.Fprintf(r.sys.Stderr, "\r\033[Kquerying %s %s–%s: %d rows so far", p.Table, p.From.Format(time.TimeOnly), p.To.Format(time.TimeOnly), p.Total)
		}
	}
	t0 := time.Now()
	s, err := azure.Download(ctx, cred, azure.DownloadOptions{WorkspaceID: b.State.Attr("insights_workspace_id"), Start: start, End: end, Dir: dir, Progress: progress})
	if progress != nil {
		fmt.Fprint(r.sys.Stderr, "\r\033[K")
	}
	switch {
	case errors.Is(err, azure.ErrTracesExist):
		return exitcode.With(fmt.Errorf("%s already holds traces: sb never overwrites them; move the file away to download again", relTo(r.sys.Cwd, filepath.Join(dir, azure.TracesFile))), exitcode.BadInput)
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return exitcode.With(fmt.Errorf("downloading Application Insights traces: %w", err), exitcode.Infrastructure)
	}
	fmt.Fprintf(r.sys.Stdout, "downloaded %d operations in %s (%d requests, %d dependencies, %d traces; %d rows without operation left out) into %s\n",
		s.Operations, time.Since(t0).Round(time.Millisecond), s.Requests, s.Dependencies, s.Traces, s.WithoutOperation, relTo(r.sys.Cwd, s.TracesPath))
	return nil
}

// azureCredential prefers the login sb stored (a token from the Azure CLI
// in the azure-secrets volume) and falls back to azidentity's chain.
func (r *Runner) azureCredential(ctx context.Context) (azcore.TokenCredential, error) {
	p, err := creds.Lookup("azure")
	if err != nil {
		return nil, err
	}
	if e, err := r.engine(ctx); err == nil {
		if ok, _ := e.VolumeExists(ctx, p.Volume); ok {
			tok, err := azure.TokenFromCLI(ctx, e, azure.CLITokenOptions{})
			if err != nil {
				return nil, exitcode.With(fmt.Errorf("token from the credentials of sb login azure: %w", err), exitcode.Infrastructure)
			}
			return tok, nil
		}
	}
	cred, err := azure.DefaultCredential()
	if err != nil {
		return nil, exitcode.With(fmt.Errorf("no Azure credentials: run sb login azure, or configure azidentity (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or az login): %w", err), exitcode.BadInput)
	}
	return cred, nil
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
