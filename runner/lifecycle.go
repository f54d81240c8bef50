package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"go.starlark.net/starlark"

	"sb/dockerenv"
	"sb/exitcode"
	"sb/loadgen"
	"sb/starlarkapi"
)

// Runner carries out sb's commands on one benchmark.
type Runner struct {
	sys  *System
	opts Options
}

// New returns a Runner working with sys and the global options.
func New(sys *System, opts Options) *Runner { return &Runner{sys: sys, opts: opts} }

// UseExample makes the runner work on the ready-made benchmark name (for
// cloud), as --benchmarks asks.
func (r *Runner) UseExample(name, cloud string) {
	r.opts.Example, r.opts.Cloud = name, cloud
}

// Benchmark is an opened benchmark: its script and its state.
type Benchmark struct {
	Script *starlarkapi.Script
	State  *State
}

// Open finds, loads and validates the benchmark and reads its state.
func (r *Runner) Open() (*Benchmark, error) {
	file := r.opts.File
	if r.opts.Example != "" {
		dir, err := ResolveExample(r.sys.Cwd, r.opts.Example, r.opts.Cloud)
		if err != nil {
			return nil, err
		}
		file = dir
	}
	path, err := FindBenchmark(r.sys.Cwd, file)
	if err != nil {
		return nil, err
	}
	script, err := starlarkapi.Load(path, starlarkapi.LoadOptions{Seed: r.opts.Seed, Log: r.sys.Log})
	if err != nil {
		return nil, err
	}
	st, err := loadState(script)
	if err != nil {
		return nil, err
	}
	for _, o := range r.opts.Set {
		if err := st.Values.SetKey(starlark.String(o.Key), o.Value); err != nil {
			return nil, err
		}
	}
	return &Benchmark{Script: script, State: st}, nil
}

// LogsDir is the directory of the last invocation (ServiBench derives it
// from the last invoke start), or "" before the first invoke.
func (b *Benchmark) LogsDir() string {
	t, ok := b.State.LastEventTime("invoke", "start")
	if !ok {
		return ""
	}
	return logsDirFor(b.Script.Dir, t)
}

func logsDirFor(dir string, t time.Time) string {
	return filepath.Join(dir, "logs", t.Format("2006-01-02_15-04-05"))
}

// Prepare runs the prepare hook.
func (r *Runner) Prepare(ctx context.Context) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	_, err = r.callHook(ctx, b, "prepare", time.Time{})
	return err
}

// Invoke writes the workload's k6 options, starts a logs directory and runs
// the invoke hook.
func (r *Runner) Invoke(ctx context.Context, w Workload) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	return r.invoke(ctx, b, w)
}

func (r *Runner) invoke(ctx context.Context, b *Benchmark, w Workload) error {
	if r.opts.DryRun {
		if err := b.recordWorkload(w); err != nil {
			return err
		}
		_, err := r.callHook(ctx, b, "invoke", r.sys.Now())
		return err
	}
	optionsPath := b.workloadOptionsPath()
	if err := loadgen.WriteOptionsFile(optionsPath, w.Plan.K6Options); err != nil {
		return exitcode.With(fmt.Errorf("writing workload options: %w", err), exitcode.Infrastructure)
	}
	// A logs directory is named after the invoke's start second and never
	// reused: a second invoke within the same second waits for the next one.
	start := r.sys.Now()
	for exists(logsDirFor(b.Script.Dir, start)) {
		next := start.Truncate(time.Second).Add(time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(next.Sub(start)):
		}
		start = r.sys.Now()
	}
	logs := logsDirFor(b.Script.Dir, start)
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return exitcode.With(fmt.Errorf("creating logs directory: %w", err), exitcode.Infrastructure)
	}
	if err := writeNew(filepath.Join(logs, filepath.Base(optionsPath)), w.Plan.K6Options); err != nil {
		return exitcode.With(fmt.Errorf("copying workload options to the logs: %w", err), exitcode.Infrastructure)
	}
	if err := b.recordWorkload(w); err != nil {
		return err
	}
	_, hookErr := r.callHook(ctx, b, "invoke", start)
	// encode leaves out (and reports) values that are not JSON-compatible;
	// the copy holds everything else.
	if cfg, _ := b.State.encode(); cfg != nil {
		if err := writeNew(filepath.Join(logs, "sb_config.yml"), cfg); err != nil {
			r.sys.Log.Warn().Err(err).Msg("could not copy the config into the logs directory")
		}
	}
	r.sys.Log.Info().Str("logs", relTo(r.sys.Cwd, logs)).Msg("invocation logs")
	return hookErr
}

// Cleanup runs the cleanup hook and removes the state, unless the hook's
// last command failed: then the state stays so a later cleanup can retry
// with the same deployment ids.
func (r *Runner) Cleanup(ctx context.Context) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	return r.cleanup(ctx, b)
}

func (r *Runner) cleanup(ctx context.Context, b *Benchmark) error {
	spec, err := r.callHook(ctx, b, "cleanup", time.Time{})
	if r.opts.DryRun {
		return err
	}
	r.removeLeftovers(b)
	if err != nil {
		return err
	}
	r.sys.Log.Info().Str("total", b.State.TotalDuration(r.sys.Now()).Round(time.Millisecond).String()).Msg("benchmark finished")
	if spec.LastRunFailed() {
		r.sys.Log.Warn().Str("state", relTo(r.sys.Cwd, b.State.Path)).Msg("keeping the state because cleanup's last command failed; run sb cleanup again to retry")
		return nil
	}
	return b.State.Remove()
}

// removeLeftovers removes any container still labelled with the benchmark
// (e.g. from an sb that was killed), when a Docker engine is there at all.
func (r *Runner) removeLeftovers(b *Benchmark) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := r.sys.Engine
	if e == nil {
		var err error
		if e, err = dockerenv.Connect(ctx); err != nil {
			return // no engine, so no containers
		}
		r.sys.Engine = e
	}
	n, err := e.RemoveContainers(ctx, b.Script.Name)
	if err != nil {
		r.sys.Log.Warn().Err(err).Msg("could not remove the benchmark's leftover containers")
	} else if n > 0 {
		r.sys.Log.Info().Int("containers", n).Msg("removed leftover containers of the benchmark")
	}
}

// Test runs prepare, invoke (3 sequential iterations, or the benchmark's
// test_workload), for provider: local get_traces and analyze_traces, and
// then cleanup, also after a failed step, so nothing stays deployed; after
// Ctrl-C it stops at once and leaves cleanup to the user.
func (r *Runner) Test(ctx context.Context) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	w, err := b.testWorkload()
	if err != nil {
		return err
	}
	err = r.testSteps(ctx, b, w)
	if ctx.Err() != nil {
		r.sys.Log.Warn().Msg("interrupted: the application may still be deployed; run sb cleanup")
		return err
	}
	if err != nil {
		r.sys.Log.Warn().Msg("a step failed: cleaning up anyway")
	}
	return errors.Join(err, r.cleanup(ctx, b))
}

// testSteps are sb test's steps before cleanup: prepare, invoke and, for a
// benchmark whose traces are at hand at once (provider: local), get_traces
// and analyze_traces.
func (r *Runner) testSteps(ctx context.Context, b *Benchmark, w Workload) error {
	if _, err := r.callHook(ctx, b, "prepare", time.Time{}); err != nil {
		return err
	}
	if err := r.invoke(ctx, b, w); err != nil {
		return err
	}
	if providers, _ := b.providers(); !slices.Contains(providers, "local") || r.opts.DryRun {
		return nil
	}
	if err := r.GetTraces(ctx, 0); err != nil {
		return err
	}
	return r.AnalyzeTraces(ctx, "", "")
}

// testWorkload is what `sb test` invokes: 3 sequential iterations, or the
// benchmark's test_workload attribute, a workload name or a mapping with the
// invoke flags (type, rate, minutes, seconds_to_skip, scale_factor,
// scale_type, seed, workload_trace, workload_options).
func (b *Benchmark) testWorkload() (Workload, error) {
	v, found, _ := b.State.Values.Get(starlark.String("test_workload"))
	if !found || v == starlark.None {
		return Iterations(3), nil
	}
	opts, err := loadgen.DefaultOptions()
	if err != nil {
		return Workload{}, exitcode.With(err, exitcode.BadInput)
	}
	bad := func(format string, a ...any) (Workload, error) {
		return Workload{}, exitcode.With(fmt.Errorf("test_workload in BENCHMARK_CONFIG: "+format, a...), exitcode.ScriptError)
	}
	switch v := v.(type) {
	case starlark.Int, starlark.String:
		arg := v.String()
		if s, ok := v.(starlark.String); ok {
			arg = string(s)
		}
		return ParseWorkload(arg, opts)
	case *starlark.Dict:
		arg := "single"
		for _, item := range v.Items() {
			key, _ := starlark.AsString(item[0])
			val := item[1]
			str, isStr := starlark.AsString(val)
			num, isNum := starlark.AsFloat(val)
			switch {
			case key == "type" && isStr:
				arg = str
			case key == "type":
				arg = val.String()
			case key == "scale_type" && isStr:
				opts.ScaleType = str
			case key == "workload_trace" && isStr:
				opts.Trace = filepath.Join(b.Script.Dir, str)
			case key == "workload_options" && isStr:
				opts.OptionsFile = filepath.Join(b.Script.Dir, str)
			case !isNum:
				return bad("%s must be a number, got %s", key, val)
			case key == "rate":
				opts.Rate = num
			case key == "minutes":
				opts.Minutes = int(num)
			case key == "seconds_to_skip":
				opts.SecondsToSkip = int(num)
			case key == "scale_factor":
				opts.ScaleFactor = num
			case key == "seed":
				opts.Seed = int64(num)
			default:
				return bad("unknown key %q (use type, rate, minutes, seconds_to_skip, scale_factor, scale_type, seed, workload_trace, workload_options)", key)
			}
		}
		return ParseWorkload(arg, opts)
	}
	return bad("must be a workload name, a number or a mapping, not %s", v.Type())
}

// callHook records the hook's start (at start, or now when zero), runs it,
// records its end when it succeeded and saves the state in every case, also
// when the hook failed or was interrupted.
func (r *Runner) callHook(ctx context.Context, b *Benchmark, hook string, start time.Time) (*starlarkapi.Spec, error) {
	now := start
	if now.IsZero() {
		now = r.sys.Now()
	}
	b.State.AddEvent(now, hook, "start")
	if !r.opts.DryRun {
		if err := b.State.Save(); err != nil {
			return nil, err
		}
	}
	r.sys.Log.Info().Str("benchmark", b.Script.Name).Msgf("%s()", hook)
	spec := starlarkapi.NewSpec(b.Script.Name, b.State.Values)
	spec.SetLogsDir(b.LogsDir())
	var h starlarkapi.Host = &host{r: r, b: b}
	if r.opts.DryRun {
		plan := &dryRun{b: b, local: r.opts.Local}
		h = plan
		defer plan.print(r.sys.Stdout, hook)
	}
	hookErr := b.Script.Call(ctx, hook, spec, h)
	if hookErr == nil {
		end := b.State.AddEvent(r.sys.Now(), hook, "end")
		r.sys.Log.Info().Str("benchmark", b.Script.Name).Str("duration", end.Time.Sub(now).Round(time.Millisecond).String()).Msgf("%s() done", hook)
	} else if ctx.Err() != nil {
		r.sys.Log.Warn().Msgf("%s() interrupted; state saved", hook)
	}
	if r.opts.DryRun {
		return spec, hookErr
	}
	if err := b.State.Save(); err != nil {
		if hookErr != nil {
			return spec, errors.Join(hookErr, err)
		}
		return spec, exitcode.With(err, exitcode.ScriptError)
	}
	return spec, hookErr
}

// workloadOptionsPath is where workload_options.json goes: as configured,
// else beside the configured workload script, else beside the benchmark.
func (b *Benchmark) workloadOptionsPath() string {
	dir := b.Script.Dir
	if p := b.State.Attr("workload_options"); p != "" {
		return filepath.Join(dir, p)
	}
	if s := b.State.Attr("workload_script"); s != "" {
		return filepath.Join(dir, filepath.Dir(s), "workload_options.json")
	}
	return filepath.Join(dir, "workload_options.json")
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func relTo(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil && !filepath.IsAbs(r) && len(r) < len(path) {
		return r
	}
	return path
}

// recordWorkload stores the workload and its flags in the state, under
// ServiBench's keys, so a run's sb_config.yml tells how it was invoked.
func (b *Benchmark) recordWorkload(w Workload) error {
	o := w.Options
	set := func(k string, v starlark.Value) error { return b.State.Values.SetKey(starlark.String(k), v) }
	optional := func(s string) starlark.Value {
		if s == "" {
			return starlark.None
		}
		return starlark.String(s)
	}
	for _, kv := range []struct {
		k string
		v starlark.Value
	}{
		{"workload_type", starlark.String(w.Plan.Name)},
		{"scale_factor", starlark.Float(o.ScaleFactor)},
		{"scale_type", starlark.String(o.ScaleType)},
		{"workload_trace", optional(o.Trace)},
		{"workload_options_file", optional(o.OptionsFile)},
		{"seconds_to_skip", starlark.MakeInt(o.SecondsToSkip)},
		{"workload_seed", starlark.MakeInt64(o.Seed)},
	} {
		if err := set(kv.k, kv.v); err != nil {
			return err
		}
	}
	return nil
}
