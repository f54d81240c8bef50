package runner

// Suites: many benchmarks, many times, unattended. A suite file is Starlark
// with a SUITE dict naming the benchmarks, the steps of one run, the number
// of repetitions, their order and how many benchmarks run at once. Every run
// ends with the benchmark's cleanup, whatever happened; progress is kept in a
// state file beside the suite so an interrupted suite continues where it
// stopped, and the results go to suite_results.csv.

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"sb/exitcode"
	"sb/loadgen"
	"sb/starlarkapi"
)

// SuiteVar is the global of a suite file that describes the suite.
const SuiteVar = "SUITE"

// SuiteResultsFile is written beside the suite file.
const SuiteResultsFile = "suite_results.csv"

// Orders of the runs of a suite.
const (
	// OrderSequential runs every repetition of a benchmark before the next
	// benchmark.
	OrderSequential = "sequential"
	// OrderInterleaved runs rounds: each round runs every benchmark once, in
	// an order shuffled per round (randomised multiple interleaved trials),
	// so that slow drifts of the platform spread over all benchmarks.
	OrderInterleaved = "interleaved"
)

// Statuses of a run in the results.
const (
	RunOK          = "ok"
	RunFailed      = "failed"
	RunInterrupted = "interrupted"
)

// Step names of a suite run, as `sb` spells the commands.
const (
	StepPrepare       = "prepare"
	StepInvoke        = "invoke"
	StepWait          = "wait"
	StepGetTraces     = "get_traces"
	StepAnalyzeTraces = "analyze_traces"
)

const stepList = "prepare, invoke, wait, get_traces, analyze_traces"

// Suite is a loaded and validated suite file.
type Suite struct {
	// Path is the absolute path of the suite file; Name its base name
	// without .star.
	Path, Name string
	// Display is the path as shown in messages (relative to the working
	// directory when shorter).
	Display     string
	Benchmarks  []SuiteBenchmark
	Steps       []SuiteStep
	Repetitions int
	Order       string
	// Seed is SUITE's seed, nil when it has none.
	Seed     *int64
	Parallel int
}

// SuiteBenchmark is one entry of SUITE["benchmarks"].
type SuiteBenchmark struct {
	// Label names the benchmark's runs in logs and results: the entry's
	// "name", else the benchmark's name, made unique with the entry's path
	// and attribute overrides when several entries share it.
	Label string
	// File is the absolute path of the *_benchmark.star file; Dir its
	// directory, which holds the benchmark's state and logs, so two runs
	// with the same Dir never run at once.
	File, Dir string
	// Set are the entry's attribute overrides.
	Set []Override
}

// SuiteStep is one step of a run.
type SuiteStep struct {
	Name string
	// Workload is invoke's planned workload.
	Workload Workload
	// Wait is wait's duration.
	Wait time.Duration
	// EndOffset is get_traces' --end-offset.
	EndOffset time.Duration
	// Path and Format are analyze_traces' input (relative to the run's
	// logs directory; empty for its traces.json) and --format.
	Path, Format string
	// Text is the step as a command line, for logs.
	Text string
}

// SuiteRun is one run of the plan: a benchmark's repetition.
type SuiteRun struct {
	Benchmark  int // index into Suite.Benchmarks
	Repetition int // 1-based
}

// SuiteResult is the outcome of one run, as kept in the state file and
// written to suite_results.csv.
type SuiteResult struct {
	Benchmark  string `json:"benchmark"`
	Repetition int    `json:"repetition"`
	Status     string `json:"status"`
	// Logs are the logs directories of the run's invocations, relative to
	// the suite file's directory.
	Logs     []string      `json:"logs,omitempty"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration_ns"`
	Reason   string        `json:"reason,omitempty"`
}

// SuiteOptions are the arguments of `sb suite`.
type SuiteOptions struct {
	// Path is the suite file, relative to the working directory.
	Path string
	// Restart forgets the progress of an earlier, interrupted run.
	Restart bool
}

// suiteState is the progress file beside the suite.
type suiteState struct {
	Suite string        `json:"suite"`
	Seed  int64         `json:"seed"`
	Runs  []SuiteResult `json:"runs"`
}

// StatePath is where the suite keeps its progress: a hidden file beside it.
func (s *Suite) StatePath() string {
	return filepath.Join(filepath.Dir(s.Path), "."+s.Name+".suite-state.json")
}

// ResultsPath is where the suite writes its results.
func (s *Suite) ResultsPath() string {
	return filepath.Join(filepath.Dir(s.Path), SuiteResultsFile)
}

// Plan orders the runs. Sequential: every repetition of the first
// benchmark, then the next. Interleaved: one round per repetition, each
// round every benchmark once in an order shuffled from seed, so the same
// seed always gives the same plan.
func (s *Suite) Plan(seed int64) []SuiteRun {
	runs := make([]SuiteRun, 0, len(s.Benchmarks)*s.Repetitions)
	if s.Order == OrderInterleaved {
		rng := rand.New(rand.NewPCG(uint64(seed), 0x5b5b5b5b))
		for rep := 1; rep <= s.Repetitions; rep++ {
			perm := make([]int, len(s.Benchmarks))
			for i := range perm {
				perm[i] = i
			}
			rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
			for _, b := range perm {
				runs = append(runs, SuiteRun{Benchmark: b, Repetition: rep})
			}
		}
		return runs
	}
	for b := range s.Benchmarks {
		for rep := 1; rep <= s.Repetitions; rep++ {
			runs = append(runs, SuiteRun{Benchmark: b, Repetition: rep})
		}
	}
	return runs
}

// RunLabel names a run in logs: benchmark#repetition.
func (s *Suite) RunLabel(run SuiteRun) string {
	return fmt.Sprintf("%s#%d", s.Benchmarks[run.Benchmark].Label, run.Repetition)
}

// LoadSuite reads and validates a suite file: SUITE's shape, every step and
// workload, and every benchmark (found, loaded and checked with its
// overrides, as `sb validate` does). Errors are one line naming the suite
// file, where in SUITE the problem is, and what is wrong.
func (r *Runner) LoadSuite(path string) (*Suite, error) {
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.sys.Cwd, path)
	}
	s := &Suite{Path: abs, Display: relTo(r.sys.Cwd, abs), Name: strings.TrimSuffix(filepath.Base(abs), ".star")}
	bad := func(format string, a ...any) error {
		return exitcode.With(fmt.Errorf("%s: "+format, append([]any{s.Display}, a...)...), exitcode.BadInput)
	}
	// within keeps the code of a deeper error (a broken benchmark script).
	within := func(err error) error {
		return exitcode.With(fmt.Errorf("%s: %w", s.Display, err), exitcode.BadInput)
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, exitcode.With(fmt.Errorf("no suite file %s: give the path of a .star file defining SUITE", s.Display), exitcode.BadInput)
		}
		return nil, exitcode.With(fmt.Errorf("cannot read suite file: %w", err), exitcode.BadInput)
	}
	thread := &starlark.Thread{Name: "suite " + s.Display, Print: func(_ *starlark.Thread, msg string) { r.sys.Log.Info().Msg(msg) }}
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, s.Display, src, nil)
	if err != nil {
		return nil, exitcode.With(errors.New(starlarkOneLine(err)), exitcode.BadInput)
	}
	v, ok := globals[SuiteVar]
	if !ok {
		return nil, bad(`no SUITE: define SUITE = {"benchmarks": ["path/to/benchmark"], "steps": ["prepare", "invoke"]}`)
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, bad("SUITE is a %s; it must be a dict", v.Type())
	}
	fields := map[string]starlark.Value{}
	for _, item := range d.Items() {
		k, ok := item[0].(starlark.String)
		if !ok {
			return nil, bad("SUITE key %s is a %s; keys are strings", item[0], item[0].Type())
		}
		switch string(k) {
		case "benchmarks", "steps", "repetitions", "order", "seed", "parallel":
			fields[string(k)] = item[1]
		default:
			return nil, bad("SUITE has an unknown key %q; the keys are benchmarks, steps, repetitions, order, seed, parallel", string(k))
		}
	}

	if s.Repetitions, err = intField(fields, "repetitions", 1, 1); err != nil {
		return nil, within(err)
	}
	if s.Parallel, err = intField(fields, "parallel", 1, 1); err != nil {
		return nil, within(err)
	}
	s.Order = OrderSequential
	if v, ok := fields["order"]; ok {
		o, ok := v.(starlark.String)
		if !ok || (o != OrderSequential && o != OrderInterleaved) {
			return nil, bad(`SUITE["order"] is %s; use "sequential" or "interleaved"`, v)
		}
		s.Order = string(o)
	}
	if v, ok := fields["seed"]; ok {
		i, ok := v.(starlark.Int)
		seed, exact := i.Int64()
		if !ok || !exact {
			return nil, bad(`SUITE["seed"] is %s; it must be a whole number`, v)
		}
		s.Seed = &seed
	}

	steps, ok := fields["steps"]
	if !ok {
		return nil, bad(`SUITE has no "steps": list what each run does, e.g. ["prepare", ("invoke", "bursty"), ("wait", 60), "get_traces"]`)
	}
	if s.Steps, err = r.parseSteps(steps, filepath.Dir(abs)); err != nil {
		return nil, within(err)
	}

	list, ok := fields["benchmarks"]
	if !ok {
		return nil, bad(`SUITE has no "benchmarks": list the benchmarks' paths (files or directories, relative to the suite file)`)
	}
	if err := r.parseBenchmarks(s, list); err != nil {
		return nil, within(err)
	}
	return s, nil
}

// starlarkOneLine reports a suite file's Starlark error on one line:
// file:line:col: message.
func starlarkOneLine(err error) string {
	var evalErr *starlark.EvalError
	if errors.As(err, &evalErr) {
		if n := len(evalErr.CallStack); n > 0 {
			return evalErr.CallStack.At(n-1).Pos.String() + ": " + evalErr.Msg
		}
		return evalErr.Msg
	}
	return err.Error()
}

func intField(fields map[string]starlark.Value, key string, def, min int) (int, error) {
	v, ok := fields[key]
	if !ok {
		return def, nil
	}
	i, isInt := v.(starlark.Int)
	n, exact := i.Int64()
	if !isInt || !exact || n < int64(min) || n > math.MaxInt32 {
		return 0, fmt.Errorf("SUITE[%q] is %s; it must be a whole number of at least %d", key, v, min)
	}
	return int(n), nil
}

// parseSteps reads SUITE["steps"]: each a step name, or a tuple (or list)
// of the name and its argument and/or options dict.
func (r *Runner) parseSteps(v starlark.Value, dir string) ([]SuiteStep, error) {
	list, ok := v.(*starlark.List)
	if !ok || list.Len() == 0 {
		return nil, fmt.Errorf(`SUITE["steps"] is %s; it must be a non-empty list, e.g. ["prepare", ("invoke", "bursty"), ("wait", 60)]`, v)
	}
	var steps []SuiteStep
	for i := 0; i < list.Len(); i++ {
		where := fmt.Sprintf(`SUITE["steps"][%d]`, i)
		var name string
		var args []starlark.Value
		switch e := list.Index(i).(type) {
		case starlark.String:
			name = string(e)
		case starlark.Tuple, *starlark.List:
			seq := e.(starlark.Indexable)
			if seq.Len() == 0 {
				return nil, fmt.Errorf("%s is empty; write a step name: %s", where, stepList)
			}
			n, ok := seq.Index(0).(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s starts with %s; a step starts with its name: %s", where, seq.Index(0), stepList)
			}
			name = string(n)
			for j := 1; j < seq.Len(); j++ {
				args = append(args, seq.Index(j))
			}
		default:
			return nil, fmt.Errorf("%s is a %s; write a step name (%s) or a tuple like (\"wait\", 30)", where, e.Type(), stepList)
		}
		name = strings.ReplaceAll(name, "-", "_")
		if name == "cleanup" {
			// cleanup always ends a run; writing it last is harmless.
			if i != list.Len()-1 || len(args) > 0 {
				return nil, fmt.Errorf("%s: cleanup ends every run by itself, after the other steps; leave it out of steps", where)
			}
			continue
		}
		step, err := r.parseStep(name, args, dir)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		steps = append(steps, step)
	}
	if len(steps) == 0 {
		return nil, errors.New(`SUITE["steps"] has nothing but cleanup, which ends every run anyway; add what a run does, e.g. "prepare", ("invoke", "bursty")`)
	}
	return steps, nil
}

func (r *Runner) parseStep(name string, args []starlark.Value, dir string) (SuiteStep, error) {
	step := SuiteStep{Name: name, Text: name}
	// The last argument may be a dict of options (flags without dashes).
	var opts *starlark.Dict
	if n := len(args); n > 0 {
		if d, ok := args[n-1].(*starlark.Dict); ok {
			opts, args = d, args[:n-1]
		}
	}
	optKeys := map[string]starlark.Value{}
	if opts != nil {
		for _, item := range opts.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return step, fmt.Errorf("%s option %s is a %s; option names are strings", name, item[0], item[0].Type())
			}
			optKeys[strings.ReplaceAll(string(k), "-", "_")] = item[1]
		}
	}
	allow := func(max int, keys ...string) error {
		if len(args) > max {
			return fmt.Errorf("%s takes at most %d argument(s) besides an options dict, got %d", name, max, len(args))
		}
		for k := range optKeys {
			if !contains(keys, k) {
				if len(keys) == 0 {
					return fmt.Errorf("%s takes no options, got %q", name, k)
				}
				return fmt.Errorf("%s has no option %q; its options are %s", name, k, strings.Join(keys, ", "))
			}
		}
		return nil
	}
	switch name {
	case StepPrepare:
		return step, allow(0)
	case StepWait:
		if err := allow(1); err != nil {
			return step, err
		}
		if len(args) != 1 {
			return step, errors.New(`wait needs a number of seconds: ("wait", 30)`)
		}
		secs, err := seconds(args[0])
		if err != nil {
			return step, fmt.Errorf("wait: %v", err)
		}
		step.Wait = secs
		step.Text = "wait " + secs.String()
		return step, nil
	case StepGetTraces:
		if err := allow(0, "end_offset"); err != nil {
			return step, err
		}
		step.EndOffset = DefaultEndOffset
		if v, ok := optKeys["end_offset"]; ok {
			d, err := duration(v)
			if err != nil {
				return step, fmt.Errorf("get_traces end_offset: %v", err)
			}
			step.EndOffset = d
		}
		step.Text = "get_traces --end-offset " + step.EndOffset.String()
		return step, nil
	case StepAnalyzeTraces:
		if err := allow(0, "path", "format"); err != nil {
			return step, err
		}
		for k, v := range optKeys {
			s, ok := v.(starlark.String)
			if !ok {
				return step, fmt.Errorf("analyze_traces %s is %s; it must be a string", k, v)
			}
			if k == "path" {
				step.Path = string(s)
			} else {
				step.Format = string(s)
			}
		}
		if step.Format != "" && !contains([]string{"xray", "azure", "loglines"}, step.Format) {
			return step, fmt.Errorf("analyze_traces format %q: use xray, azure or loglines", step.Format)
		}
		if step.Path != "" {
			step.Text += " " + step.Path
		}
		if step.Format != "" {
			step.Text += " --format " + step.Format
		}
		return step, nil
	case StepInvoke:
		if err := allow(1, "workload_trace", "workload_options", "scale_factor", "scale_type", "seconds_to_skip", "seed", "rate", "minutes"); err != nil {
			return step, err
		}
		w, text, err := r.suiteWorkload(args, optKeys, dir)
		if err != nil {
			return step, err
		}
		step.Workload, step.Text = w, "invoke "+text
		return step, nil
	}
	return step, fmt.Errorf("unknown step %q; the steps are %s (cleanup ends every run by itself)", name, stepList)
}

// suiteWorkload plans invoke's workload as `sb invoke` would, with files
// relative to the suite file's directory.
func (r *Runner) suiteWorkload(args []starlark.Value, opts map[string]starlark.Value, dir string) (Workload, string, error) {
	o, err := loadgen.DefaultOptions()
	if err != nil {
		return Workload{}, "", exitcode.With(err, exitcode.BadInput)
	}
	if r.opts.Seed != nil {
		o.Seed = *r.opts.Seed // as `sb --seed N invoke` does
	}
	arg := ""
	if len(args) == 1 {
		switch a := args[0].(type) {
		case starlark.String:
			arg = string(a)
		case starlark.Int:
			arg = a.String()
		default:
			return Workload{}, "", fmt.Errorf("invoke's workload is a %s; write it as sb invoke takes it, e.g. \"bursty\" or 10", a.Type())
		}
	}
	inDir := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	text := arg
	if text == "" {
		text = loadgen.DefaultWorkload
	}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := opts[k]
		text += " --" + strings.ReplaceAll(k, "_", "-") + " " + strings.Trim(v.String(), `"`)
		var err error
		switch k {
		case "workload_trace", "workload_options", "scale_type":
			s, ok := v.(starlark.String)
			if !ok {
				return Workload{}, "", fmt.Errorf("invoke option %s is %s; it must be a string", k, v)
			}
			switch k {
			case "workload_trace":
				o.Trace = inDir(string(s))
			case "workload_options":
				o.OptionsFile = inDir(string(s))
			default:
				o.ScaleType = string(s)
			}
		case "scale_factor", "rate":
			f, ok := starlark.AsFloat(v)
			if !ok {
				return Workload{}, "", fmt.Errorf("invoke option %s is %s; it must be a number", k, v)
			}
			if k == "rate" {
				o.Rate = f
			} else {
				o.ScaleFactor = f
			}
		case "seconds_to_skip", "minutes":
			var n int
			if err = starlark.AsInt(v, &n); err != nil {
				return Workload{}, "", fmt.Errorf("invoke option %s is %s; it must be a whole number", k, v)
			}
			if k == "minutes" {
				o.Minutes = n
			} else {
				o.SecondsToSkip = n
			}
		case "seed":
			var n int64
			if err = starlark.AsInt(v, &n); err != nil {
				return Workload{}, "", fmt.Errorf("invoke option seed is %s; it must be a whole number", v)
			}
			o.Seed = n
		}
	}
	if strings.HasSuffix(strings.ToLower(arg), ".csv") {
		arg = inDir(arg)
	}
	w, err := ParseWorkload(arg, o)
	if err != nil {
		return Workload{}, "", fmt.Errorf("invoke: %w", err)
	}
	return w, text, nil
}

// seconds reads a non-negative number of seconds.
func seconds(v starlark.Value) (time.Duration, error) {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return 0, fmt.Errorf("%s is a %s; give a number of seconds", v, v.Type())
	}
	return ParseSeconds(strconv.FormatFloat(f, 'g', -1, 64))
}

// duration reads a number of seconds or a Go duration string ("5m").
func duration(v starlark.Value) (time.Duration, error) {
	if s, ok := v.(starlark.String); ok {
		d, err := time.ParseDuration(string(s))
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s is not a duration; write e.g. \"5m\" or a number of seconds", v)
		}
		return d, nil
	}
	return seconds(v)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// parseBenchmarks reads SUITE["benchmarks"] and validates every benchmark.
// An entry that is no path but the name of a ready-made benchmark (see sb
// examples) is unpacked beside the suite file, in the entry's "cloud"
// version, else --cloud's.
func (r *Runner) parseBenchmarks(s *Suite, v starlark.Value) error {
	list, ok := v.(*starlark.List)
	if !ok || list.Len() == 0 {
		return fmt.Errorf(`SUITE["benchmarks"] is %s; it must be a non-empty list of paths or {"benchmark": path, "set": {...}} dicts`, v)
	}
	dir := filepath.Dir(s.Path)
	paths := make([]string, list.Len())
	names := make([]string, list.Len())
	for i := 0; i < list.Len(); i++ {
		where := fmt.Sprintf(`SUITE["benchmarks"][%d]`, i)
		var b SuiteBenchmark
		var path string
		cloud := r.opts.Cloud
		switch e := list.Index(i).(type) {
		case starlark.String:
			path = string(e)
		case *starlark.Dict:
			for _, item := range e.Items() {
				k, _ := item[0].(starlark.String)
				switch k {
				case "benchmark":
					p, ok := item[1].(starlark.String)
					if !ok {
						return fmt.Errorf(`%s["benchmark"] is %s; it must be a path`, where, item[1])
					}
					path = string(p)
				case "cloud":
					c, ok := item[1].(starlark.String)
					if !ok || c == "" {
						return fmt.Errorf(`%s["cloud"] is %s; it must be the name of a cloud, e.g. "aws"`, where, item[1])
					}
					cloud = string(c)
				case "name":
					n, ok := item[1].(starlark.String)
					if !ok || n == "" {
						return fmt.Errorf(`%s["name"] is %s; it must be a non-empty string`, where, item[1])
					}
					b.Label = string(n)
				case "set":
					set, ok := item[1].(*starlark.Dict)
					if !ok {
						return fmt.Errorf(`%s["set"] is %s; it must be a dict of attribute: value`, where, item[1])
					}
					for _, kv := range set.Items() {
						key, ok := kv[0].(starlark.String)
						if !ok || key == "" {
							return fmt.Errorf(`%s["set"] key %s is not an attribute name`, where, kv[0])
						}
						if string(key) == starlarkapi.ReservedKey {
							return fmt.Errorf(`%s["set"]: %s is sb's own event log`, where, key)
						}
						if err := starlarkapi.CheckJSON(kv[1]); err != nil {
							return fmt.Errorf(`%s["set"][%s]: %v`, where, key, err)
						}
						b.Set = append(b.Set, Override{Key: string(key), Value: kv[1]})
					}
				default:
					return fmt.Errorf(`%s has an unknown key %s; the keys are benchmark, set, name, cloud`, where, item[0])
				}
			}
			if path == "" {
				return fmt.Errorf(`%s has no "benchmark": give the path of the benchmark file or directory`, where)
			}
		default:
			return fmt.Errorf(`%s is a %s; write a path or {"benchmark": path, "set": {...}}`, where, e.Type())
		}
		paths[i] = path
		target := path
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(path, `/\*?[.`) {
			resolved, err := ResolveExample(dir, path, cloud)
			if err != nil {
				if exitcode.Of(err) == exitcode.BadInput {
					return fmt.Errorf("%s: no benchmark at %s (paths are relative to the suite file), and %v", where, relTo(r.sys.Cwd, target), err)
				}
				return fmt.Errorf("%s %q: %w", where, path, err)
			}
			target = resolved
			if cloud != "" {
				paths[i] += "/" + cloud
			}
		}
		file, err := FindBenchmark(dir, target)
		if err != nil {
			if _, statErr := os.Stat(target); errors.Is(statErr, fs.ErrNotExist) {
				return fmt.Errorf("%s: no benchmark at %s (paths are relative to the suite file)", where, relTo(r.sys.Cwd, target))
			}
			return fmt.Errorf("%s %q: %w", where, path, err)
		}
		check := New(r.sys, Options{File: file, Seed: r.opts.Seed, Set: append(append([]Override{}, b.Set...), r.opts.Set...)})
		bench, err := check.Open()
		if err != nil {
			return fmt.Errorf("%s %q: %w", where, path, err)
		}
		b.File, b.Dir = bench.Script.Path, bench.Script.Dir
		names[i] = bench.Script.Name
		s.Benchmarks = append(s.Benchmarks, b)
	}
	return labelBenchmarks(s.Benchmarks, paths, names)
}

// labelBenchmarks names each entry: its "name", else the benchmark's name;
// entries sharing a name are told apart by their path, then by their
// overrides. Entries that still look alike are an error.
func labelBenchmarks(bs []SuiteBenchmark, paths, names []string) error {
	explicit := make([]bool, len(bs))
	for i := range bs {
		explicit[i] = bs[i].Label != ""
		if !explicit[i] {
			bs[i].Label = names[i]
		}
	}
	refine := func(f func(i int) string) {
		count := map[string]int{}
		for _, b := range bs {
			count[b.Label]++
		}
		for i := range bs {
			if !explicit[i] && count[bs[i].Label] > 1 {
				bs[i].Label = f(i)
			}
		}
	}
	refine(func(i int) string { return filepath.ToSlash(filepath.Clean(paths[i])) })
	refine(func(i int) string {
		if len(bs[i].Set) == 0 {
			return bs[i].Label
		}
		var kv []string
		for _, o := range bs[i].Set {
			v := o.Value.String()
			if s, ok := o.Value.(starlark.String); ok {
				v = string(s)
			}
			kv = append(kv, o.Key+"="+v)
		}
		return bs[i].Label + "[" + strings.Join(kv, ",") + "]"
	})
	seen := map[string]int{}
	for i, b := range bs {
		if j, ok := seen[b.Label]; ok {
			return fmt.Errorf(`SUITE["benchmarks"][%d] and [%d] are both named %q; repeat a benchmark with "repetitions", or give the entries distinct "name"s`, j, i, b.Label)
		}
		seen[b.Label] = i
	}
	return nil
}

// Suite runs a suite file: loads and validates it, plans the runs, skips
// those an earlier, interrupted `sb suite` completed, and runs the rest,
// `parallel` at a time but never two of the same benchmark at once. Every
// run ends with the benchmark's cleanup, also after a failed step or an
// interrupt (Ctrl-C finishes the started runs' cleanups, then returns an
// error wrapping context.Canceled). It prints the results and writes
// suite_results.csv; the error says how many runs failed.
func (r *Runner) Suite(ctx context.Context, so SuiteOptions) error {
	if r.opts.File != "" {
		return exitcode.With(errors.New("--file has no meaning for sb suite: the suite file names its benchmarks"), exitcode.BadInput)
	}
	s, err := r.LoadSuite(so.Path)
	if err != nil {
		return err
	}
	if r.opts.DryRun {
		return r.dryRunSuite(ctx, s)
	}
	st, err := r.suiteProgress(s, so.Restart)
	if err != nil {
		return err
	}
	plan := s.Plan(st.Seed)
	done := map[string]bool{}
	for _, res := range st.Runs {
		if res.Status == RunOK || res.Status == RunFailed {
			done[fmt.Sprintf("%s#%d", res.Benchmark, res.Repetition)] = true
		}
	}
	var todo []SuiteRun
	for _, run := range plan {
		if !done[s.RunLabel(run)] {
			todo = append(todo, run)
		}
	}
	ev := r.sys.Log.Info().Int("benchmarks", len(s.Benchmarks)).Int("repetitions", s.Repetitions).Str("order", s.Order).Int("parallel", s.Parallel)
	if s.Order == OrderInterleaved {
		ev = ev.Int64("seed", st.Seed)
	}
	if len(todo) < len(plan) {
		ev = ev.Int("done_before", len(plan)-len(todo))
	}
	ev.Msgf("suite %s: %d run(s) to go", s.Display, len(todo))
	if len(todo) == 0 {
		r.sys.Log.Info().Msgf("every run of the suite is done already; run sb suite %s --restart to run it again", s.Display)
	}

	var mu sync.Mutex // guards st and the files written from it
	record := func(res SuiteResult) {
		mu.Lock()
		defer mu.Unlock()
		st.Runs = replaceResult(st.Runs, res)
		if err := r.saveSuiteProgress(s, st); err != nil {
			r.sys.Log.Warn().Err(err).Msg("could not save the suite's progress")
		}
		// The results so far, in case sb is killed before the end.
		if err := writeAtomic(s.ResultsPath(), resultsCSV(planOrder(s, plan, st.Runs))); err != nil {
			r.sys.Log.Warn().Err(err).Msgf("could not write %s", SuiteResultsFile)
		}
	}
	r.schedule(ctx, s, todo, record)

	mu.Lock()
	defer mu.Unlock()
	results := planOrder(s, plan, st.Runs)
	if err := writeAtomic(s.ResultsPath(), resultsCSV(results)); err != nil {
		return exitcode.With(fmt.Errorf("writing %s: %w", SuiteResultsFile, err), exitcode.Infrastructure)
	}
	printResults(r.sys.Stdout, results)
	counts := map[string]int{}
	for _, res := range results {
		counts[res.Status]++
	}
	r.sys.Log.Info().Int("ok", counts[RunOK]).Int("failed", counts[RunFailed]).Int("interrupted", counts[RunInterrupted]).
		Str("results", relTo(r.sys.Cwd, s.ResultsPath())).Msg("suite results")
	if finished := counts[RunOK] + counts[RunFailed]; ctx.Err() != nil && finished < len(plan) {
		return interrupted{fmt.Sprintf("suite interrupted with %d of %d run(s) done; run sb suite %s again to continue",
			finished, len(plan), s.Display), ctx.Err()}
	}
	if counts[RunFailed] > 0 {
		return exitcode.With(fmt.Errorf("%d of %d suite run(s) failed: see %s", counts[RunFailed], len(plan), relTo(r.sys.Cwd, s.ResultsPath())), exitcode.BenchmarkFailed)
	}
	return nil
}

// interrupted is an interrupt that was handled: its message says what to
// do next, and it unwraps to the context's error for the exit status.
type interrupted struct {
	msg string
	err error
}

func (e interrupted) Error() string { return e.msg }
func (e interrupted) Unwrap() error { return e.err }

// schedule runs todo in order, up to s.Parallel at once, starting at each
// turn the first pending run whose benchmark is not running. After an
// interrupt it starts nothing more and waits for the started runs.
func (r *Runner) schedule(ctx context.Context, s *Suite, todo []SuiteRun, record func(SuiteResult)) {
	out := r.suiteOutput()
	busy := map[string]bool{} // benchmark directories with a run going
	finished := make(chan SuiteRun)
	active := 0
	for {
		for active < s.Parallel && ctx.Err() == nil {
			next := -1
			for i, run := range todo {
				if !busy[s.Benchmarks[run.Benchmark].Dir] {
					next = i
					break
				}
			}
			if next < 0 {
				break
			}
			run := todo[next]
			todo = append(todo[:next:next], todo[next+1:]...)
			busy[s.Benchmarks[run.Benchmark].Dir] = true
			active++
			go func() {
				record(r.suiteRun(ctx, s, run, out))
				finished <- run
			}()
		}
		if active == 0 {
			return
		}
		run := <-finished
		active--
		busy[s.Benchmarks[run.Benchmark].Dir] = false
	}
}

// runFor is the runner of one run: its own logger field and output prefix,
// the benchmark's file and overrides (the command line's --set win).
func (r *Runner) runFor(s *Suite, run SuiteRun, out suiteOutput) (*Runner, func()) {
	b := s.Benchmarks[run.Benchmark]
	label := s.RunLabel(run)
	sys := *r.sys
	sys.Log = r.sys.Log.With().Str("run", label).Logger()
	errW := &prefixWriter{out: out.stderr, prefix: label + " | "}
	sys.Stderr = errW
	sys.Terminal = false // countdowns and progress lines would mix
	sys.Cwd = filepath.Dir(s.Path)
	var outW *prefixWriter
	if s.Parallel > 1 && !r.opts.DryRun {
		outW = &prefixWriter{out: out.stdout, prefix: label + " | "}
		sys.Stdout = outW
	}
	opts := r.opts
	opts.File, opts.Example, opts.Cloud = b.File, "", ""
	opts.Set = append(append([]Override{}, b.Set...), r.opts.Set...)
	return New(&sys, opts), func() {
		errW.Flush()
		if outW != nil {
			outW.Flush()
		}
	}
}

// suiteRun carries out one run: its steps until one fails or the suite is
// interrupted, then cleanup with a context of its own, so that it runs to
// its end even after Ctrl-C.
func (r *Runner) suiteRun(ctx context.Context, s *Suite, run SuiteRun, out suiteOutput) SuiteResult {
	b := s.Benchmarks[run.Benchmark]
	res := SuiteResult{Benchmark: b.Label, Repetition: run.Repetition, Start: r.sys.Now()}
	rr, flush := r.runFor(s, run, out)
	defer flush()
	log := rr.sys.Log
	log.Info().Msgf("run %s started", s.RunLabel(run))
	var stepErr error
	failed := ""
	for _, step := range s.Steps {
		if stepErr = ctx.Err(); stepErr != nil {
			failed = step.Text
			break
		}
		if stepErr = rr.suiteStep(ctx, step); stepErr != nil {
			failed = step.Text
			break
		}
	}
	res.Logs = runLogs(rr, res.Start, filepath.Dir(s.Path))
	if stepErr != nil && ctx.Err() == nil {
		log.Error().Msgf("%s failed: %v", failed, stepErr)
	}
	cleanErr := rr.Cleanup(context.WithoutCancel(ctx))
	if cleanErr != nil {
		log.Error().Msgf("cleanup failed: %v", cleanErr)
	}
	res.Duration = r.sys.Now().Sub(res.Start)
	switch {
	case stepErr != nil && errors.Is(stepErr, context.Canceled):
		res.Status, res.Reason = RunInterrupted, "interrupted during "+failed
	case stepErr != nil:
		res.Status, res.Reason = RunFailed, failed+": "+reasonLine(stepErr)
	case cleanErr != nil:
		res.Status, res.Reason = RunFailed, "cleanup: "+reasonLine(cleanErr)
	default:
		res.Status = RunOK
	}
	if cleanErr != nil && stepErr != nil {
		res.Reason += "; cleanup: " + reasonLine(cleanErr)
	}
	log.Info().Str("status", res.Status).Str("duration", res.Duration.Round(time.Millisecond).String()).Msgf("run %s finished", s.RunLabel(run))
	return res
}

// suiteStep carries out one step with the run's runner.
func (r *Runner) suiteStep(ctx context.Context, step SuiteStep) error {
	switch step.Name {
	case StepPrepare:
		return r.Prepare(ctx)
	case StepInvoke:
		return r.Invoke(ctx, step.Workload)
	case StepWait:
		return r.Wait(ctx, step.Wait)
	case StepGetTraces:
		return r.GetTraces(ctx, step.EndOffset)
	case StepAnalyzeTraces:
		path := step.Path
		if path != "" && !filepath.IsAbs(path) {
			b, err := r.Open()
			if err != nil {
				return err
			}
			if logs := b.LogsDir(); logs != "" {
				path = filepath.Join(logs, path)
			} else {
				path = filepath.Join(b.Script.Dir, path)
			}
		}
		return r.AnalyzeTraces(ctx, path, step.Format)
	}
	return fmt.Errorf("unknown step %q", step.Name)
}

// runLogs lists the logs directories of the invocations the run started,
// relative to base.
func runLogs(rr *Runner, start time.Time, base string) []string {
	b, err := rr.Open()
	if err != nil {
		return nil
	}
	since := start.Truncate(time.Microsecond) // event times keep microseconds
	var dirs []string
	for _, e := range b.State.Events {
		if e.Name == "invoke" && e.Type == "start" && !e.Time.Before(since) {
			dirs = append(dirs, filepath.ToSlash(relTo(base, logsDirFor(b.Script.Dir, e.Time))))
		}
	}
	return dirs
}

// reasonLine makes an error one line for the results: a Starlark backtrace
// becomes its innermost position and message.
func reasonLine(err error) string {
	lines := strings.Split(strings.TrimSpace(err.Error()), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	var pos, msg string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "Error"):
			msg = t
			if _, after, ok := strings.Cut(t, ": "); ok {
				msg = after
			}
		case strings.Contains(t, ": in "):
			pos, _, _ = strings.Cut(t, ": in ") // innermost frame last
		}
	}
	if msg == "" {
		return strings.Join(strings.Fields(strings.Join(lines, " ")), " ")
	}
	if pos != "" {
		return pos + ": " + msg
	}
	return msg
}

// suiteOutput is where the runs write: one lock per stream keeps the lines
// of runs going at once whole.
type suiteOutput struct {
	stderr, stdout *lockedWriter
}

func (r *Runner) suiteOutput() suiteOutput {
	return suiteOutput{
		stderr: &lockedWriter{w: r.sys.Stderr, mu: &sync.Mutex{}},
		stdout: &lockedWriter{w: r.sys.Stdout, mu: &sync.Mutex{}},
	}
}

// lockedWriter serialises whole writes to w.
type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// prefixWriter writes whole lines, each prefixed, so that the output of
// runs going at once stays readable and each line names its run.
type prefixWriter struct {
	out    io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	var lines []byte
	for {
		i := strings.IndexByte(string(p.buf), '\n')
		if i < 0 {
			break
		}
		lines = append(append(lines, p.prefix...), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
	}
	if len(lines) > 0 {
		if _, err := p.out.Write(lines); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// Flush writes a last line that had no newline.
func (p *prefixWriter) Flush() {
	if len(p.buf) > 0 {
		p.out.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = nil
	}
}

// suiteProgress reads the state of an earlier run of the suite (unless
// restarting) and settles the seed: --seed, else SUITE's, else the one an
// interrupted run used, else a new random one (logged, so the order can be
// repeated).
func (r *Runner) suiteProgress(s *Suite, restart bool) (*suiteState, error) {
	st := &suiteState{Suite: filepath.Base(s.Path)}
	path := s.StatePath()
	if restart {
		for _, p := range []string{path, s.ResultsPath()} {
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, exitcode.With(fmt.Errorf("starting the suite over: %w", err), exitcode.Infrastructure)
			}
		}
	}
	data, err := os.ReadFile(path)
	resumed := false
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, exitcode.With(fmt.Errorf("cannot read the suite's progress: %w", err), exitcode.Infrastructure)
	default:
		if err := json.Unmarshal(data, st); err != nil {
			return nil, exitcode.With(fmt.Errorf("corrupt suite progress file %s: %v; run sb suite %s --restart to start over", relTo(r.sys.Cwd, path), err, s.Display), exitcode.BadInput)
		}
		resumed = true
	}
	switch {
	case r.opts.Seed != nil:
		st.Seed = *r.opts.Seed
	case s.Seed != nil:
		st.Seed = *s.Seed
	case resumed:
	default:
		st.Seed = rand.Int64N(1 << 31)
	}
	return st, r.saveSuiteProgress(s, st)
}

func (r *Runner) saveSuiteProgress(s *Suite, st *suiteState) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(s.StatePath(), append(data, '\n')); err != nil {
		return exitcode.With(fmt.Errorf("saving the suite's progress: %w", err), exitcode.Infrastructure)
	}
	return nil
}

// replaceResult puts res in place of an earlier result of the same run.
func replaceResult(runs []SuiteResult, res SuiteResult) []SuiteResult {
	for i, old := range runs {
		if old.Benchmark == res.Benchmark && old.Repetition == res.Repetition {
			runs[i] = res
			return runs
		}
	}
	return append(runs, res)
}

// planOrder lists the results of the plan's runs that were attempted, in
// the order they started.
func planOrder(s *Suite, plan []SuiteRun, runs []SuiteResult) []SuiteResult {
	byKey := map[string]SuiteResult{}
	for _, res := range runs {
		byKey[fmt.Sprintf("%s#%d", res.Benchmark, res.Repetition)] = res
	}
	var out []SuiteResult
	for _, run := range plan {
		if res, ok := byKey[s.RunLabel(run)]; ok {
			out = append(out, res)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// resultsCSV is suite_results.csv: one row per run.
func resultsCSV(results []SuiteResult) []byte {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"benchmark", "repetition", "status", "logs_dir", "duration_s", "failure_reason", "start_time"})
	for _, res := range results {
		w.Write([]string{
			res.Benchmark, strconv.Itoa(res.Repetition), res.Status, strings.Join(res.Logs, ";"),
			strconv.FormatFloat(res.Duration.Seconds(), 'f', 3, 64), res.Reason, res.Start.Format(time.RFC3339Nano),
		})
	}
	w.Flush()
	return []byte(b.String())
}

// printResults prints the results as a table.
func printResults(out io.Writer, results []SuiteResult) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "BENCHMARK\tREP\tSTATUS\tDURATION\tLOGS\tREASON")
	for _, res := range results {
		logs := strings.Join(res.Logs, " ")
		if logs == "" {
			logs = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", res.Benchmark, res.Repetition, res.Status,
			res.Duration.Round(100*time.Millisecond), logs, res.Reason)
	}
	tw.Flush()
}

// dryRunSuite walks the plan with the hooks in dry-run mode: it prints what
// every run would do and changes no file (no progress, no results).
func (r *Runner) dryRunSuite(ctx context.Context, s *Suite) error {
	seed := int64(0)
	switch {
	case r.opts.Seed != nil:
		seed = *r.opts.Seed
	case s.Seed != nil:
		seed = *s.Seed
	}
	out := r.sys.Stdout
	if s.Order == OrderInterleaved && r.opts.Seed == nil && s.Seed == nil {
		fmt.Fprintln(out, "(the interleaved order below uses seed 0; a real run draws a seed unless SUITE or --seed gives one)")
	}
	outputs := r.suiteOutput()
	for _, run := range s.Plan(seed) {
		fmt.Fprintf(out, "run %s (%s):\n", s.RunLabel(run), relTo(r.sys.Cwd, s.Benchmarks[run.Benchmark].File))
		rr, flush := r.runFor(s, run, outputs)
		err := rr.dryRunSteps(ctx, s.Steps)
		flush()
		if err != nil {
			return fmt.Errorf("run %s: %w", s.RunLabel(run), err)
		}
	}
	return nil
}

// dryRunSteps runs one run's hooks in dry-run mode on one opened benchmark,
// so that what prepare stores reaches invoke and cleanup as it would for
// real, where each step reads the state the previous one saved.
func (r *Runner) dryRunSteps(ctx context.Context, steps []SuiteStep) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	for _, step := range steps {
		switch step.Name {
		case StepPrepare:
			_, err = r.callHook(ctx, b, "prepare", time.Time{})
		case StepInvoke:
			err = r.invoke(ctx, b, step.Workload)
		default:
			fmt.Fprintf(r.sys.Stdout, "%s (not carried out in a dry run)\n", step.Text)
		}
		if err != nil {
			// A script error reaches the user as its backtrace alone.
			r.sys.Log.Error().Msgf("%s failed", step.Text)
			return fmt.Errorf("%s: %w", step.Text, err)
		}
	}
	return r.cleanup(ctx, b)
}
