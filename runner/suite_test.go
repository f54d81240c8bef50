package runner

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"sb/exitcode"
)

// lockedBuffer is a bytes.Buffer that runs going at once may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// suiteRunner is a runner in dir whose logs and output go to one buffer.
func suiteRunner(dir string, opts Options) (*Runner, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	sys := &System{
		Stdin: strings.NewReader(""), Stdout: out, Stderr: errOut,
		Log: zerolog.New(errOut), Getenv: func(string) string { return "" }, Now: time.Now, Cwd: dir,
	}
	return New(sys, opts), out, errOut
}

// recordingBenchmark is a benchmark named name whose hooks append
// "<hook> start|end <benchmark> <v> <unix ns>" lines to ../times.txt, around
// a sleep in prepare (0.2 s; 10 s from the Nth prepare on when ../slow_from
// holds N), and whose cleanup leaves a marker.
func recordingBenchmark(name string) string {
	return fmt.Sprintf(`BENCHMARK_CONFIG = "%[1]s:"

SLEEP = """n=$(cat ../slow_from 2>/dev/null || echo 0); if [ "$n" -gt 0 ] && [ "$(grep -c prepare-start ../times.txt)" -ge "$n" ]; then sleep 10; else sleep 0.2; fi"""

def mark(spec, what):
    spec.run("echo %%s %[1]s %%s $(date +%%%%s%%%%N) >> ../times.txt" %% (what, spec["v"] or "-"), local = True)

def prepare(spec):
    mark(spec, "prepare-start")
    spec.run("echo preparing", local = True)
    spec.run(SLEEP, local = True)
    mark(spec, "prepare-end")

def invoke(spec):
    if spec["fail_invoke"]:
        fail("invoke of %[1]s is broken")
    mark(spec, "invoke")

def cleanup(spec):
    mark(spec, "cleanup")
`, name)
}

type mark struct {
	what, bench, v string
	at             int64
}

func readMarks(t *testing.T, path string) []mark {
	t.Helper()
	var marks []mark
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, path)), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Fatalf("bad mark %q", line)
		}
		at, err := strconv.ParseInt(f[3], 10, 64)
		if err != nil {
			t.Fatalf("bad mark %q: %v", line, err)
		}
		marks = append(marks, mark{f[0], f[1], f[2], at})
	}
	slices.SortStableFunc(marks, func(a, b mark) int { return int(a.at - b.at) })
	return marks
}

func readResults(t *testing.T, path string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(readFile(t, path))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestLoadSuiteErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "a_benchmark.star"), recordingBenchmark("alpha"))
	writeFile(t, filepath.Join(dir, "broken", "x_benchmark.star"), "BENCHMARK_CONFIG = \"x:\"\ndef prepare(spec):\n    pass\n")
	writeFile(t, filepath.Join(dir, "two", "x_benchmark.star"), recordingBenchmark("x"))
	writeFile(t, filepath.Join(dir, "two", "y_benchmark.star"), recordingBenchmark("y"))
	ok := `"benchmarks": ["a"], "steps": ["prepare"]`
	// A broken benchmark fails the suite as it fails sb validate.
	_, brokenErr := New(&System{Cwd: dir}, Options{File: "broken"}).Open()
	for _, tc := range []struct {
		src, err string
		code     exitcode.Code
	}{
		{src: "SUITE = {", err: "s.star:1:10: got end of file"},
		{src: `SUITE = 1 + "a"`, err: "s.star:1:11: unknown binary op: int + string"},
		{src: "BENCHMARKS = []", err: "s.star: no SUITE: define SUITE = {"},
		{src: "SUITE = []", err: "s.star: SUITE is a list; it must be a dict"},
		{src: `SUITE = {` + ok + `, "repetition": 2}`, err: `s.star: SUITE has an unknown key "repetition"; the keys are benchmarks, steps, repetitions, order, seed, parallel`},
		{src: `SUITE = {"benchmarks": ["a"]}`, err: `s.star: SUITE has no "steps"`},
		{src: `SUITE = {"steps": ["prepare"]}`, err: `s.star: SUITE has no "benchmarks"`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": "prepare"}`, err: `SUITE["steps"] is "prepare"; it must be a non-empty list`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": ["prepare", "deploy"]}`, err: `s.star: SUITE["steps"][1]: unknown step "deploy"; the steps are prepare, invoke, wait, get_traces, analyze_traces`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("invoke", "nope")]}`, err: `s.star: SUITE["steps"][0]: invoke: unknown workload "nope"; accepted: single,`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("invoke", "bursty", {"minute": 1})]}`, err: `SUITE["steps"][0]: invoke has no option "minute"; its options are workload_trace,`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("invoke", "bursty", {"rate": "fast"})]}`, err: `SUITE["steps"][0]: invoke option rate is "fast"; it must be a number`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("invoke", "nope.csv")]}`, err: `SUITE["steps"][0]: invoke: `},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("wait",)]}`, err: `SUITE["steps"][0]: wait needs a number of seconds: ("wait", 30)`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("wait", "soon")]}`, err: `SUITE["steps"][0]: wait: "soon" is a string; give a number of seconds`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("wait", -1)]}`, err: `SUITE["steps"][0]: wait: wait needs a non-negative number of seconds, got "-1"`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("get_traces", {"end_offset": "later"})]}`, err: `get_traces end_offset: "later" is not a duration`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [("analyze_traces", {"format": "csv"})]}`, err: `analyze_traces format "csv": use xray, azure or loglines`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": ["cleanup", "prepare"]}`, err: `SUITE["steps"][0]: cleanup ends every run by itself`},
		{src: `SUITE = {"benchmarks": ["a"], "steps": [1]}`, err: `SUITE["steps"][0] is a int; write a step name`},
		{src: `SUITE = {` + ok + `, "repetitions": "2"}`, err: `SUITE["repetitions"] is "2"; it must be a whole number of at least 1`},
		{src: `SUITE = {` + ok + `, "parallel": 0}`, err: `SUITE["parallel"] is 0; it must be a whole number of at least 1`},
		{src: `SUITE = {` + ok + `, "order": "random"}`, err: `SUITE["order"] is "random"; use "sequential" or "interleaved"`},
		{src: `SUITE = {` + ok + `, "seed": 1.5}`, err: `SUITE["seed"] is 1.5; it must be a whole number`},
		{src: `SUITE = {"benchmarks": [], "steps": ["prepare"]}`, err: `SUITE["benchmarks"] is []; it must be a non-empty list`},
		{src: `SUITE = {"benchmarks": ["missing"], "steps": ["prepare"]}`, err: `s.star: SUITE["benchmarks"][0]: no benchmark at missing (paths are relative to the suite file)`},
		{src: `SUITE = {"benchmarks": [{"benchmark": "mock", "cloud": "aws"}], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0]: no benchmark at mock (paths are relative to the suite file), and benchmark mock runs without a cloud: drop --cloud aws`},
		{src: `SUITE = {"benchmarks": [1], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0] is a int; write a path or {"benchmark": path, "set": {...}}`},
		{src: `SUITE = {"benchmarks": [{"set": {}}], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0] has no "benchmark"`},
		{src: `SUITE = {"benchmarks": [{"benchmark": "a", "set": [1]}], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0]["set"] is [1]; it must be a dict`},
		{src: `SUITE = {"benchmarks": [{"benchmark": "a", "set": {"f": len}}], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0]["set"]["f"]: a builtin_function_or_method is not a JSON-compatible value`},
		{src: `SUITE = {"benchmarks": [{"benchmark": "a", "memory": 1}], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0] has an unknown key "memory"; the keys are benchmark, set, name, cloud`},
		{src: `SUITE = {"benchmarks": ["a", "a/"], "steps": ["prepare"]}`, err: `SUITE["benchmarks"][0] and [1] are both named "a"; repeat a benchmark with "repetitions"`},
		{src: `SUITE = {"benchmarks": ["two"], "steps": ["prepare"]}`, err: `s.star: SUITE["benchmarks"][0] "two": found 2 benchmark files`},
		{src: `SUITE = {"benchmarks": ["broken"], "steps": ["prepare"]}`, err: `s.star: SUITE["benchmarks"][0] "broken": x_benchmark.star: missing hook invoke`, code: exitcode.Of(brokenErr)},
	} {
		writeFile(t, filepath.Join(dir, "s.star"), tc.src)
		r, _, _ := suiteRunner(dir, Options{})
		_, err := r.LoadSuite("s.star")
		want := tc.code
		if want == 0 {
			want = exitcode.BadInput
		}
		if err == nil || !strings.Contains(err.Error(), tc.err) || exitcode.Of(err) != want {
			t.Errorf("%s:\n error %v (exit %d)\n want %q (exit %d)", tc.src, err, exitcode.Of(err), tc.err, want)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error spans several lines:\n%v", tc.src, err)
		}
	}
}

func TestLoadSuite(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", "a_benchmark.star"), recordingBenchmark("alpha"))
	writeFile(t, filepath.Join(dir, "b", "b_benchmark.star"), recordingBenchmark("beta"))
	writeFile(t, filepath.Join(dir, "other", "b", "b_benchmark.star"), recordingBenchmark("beta"))
	writeFile(t, filepath.Join(dir, "trace.csv"), "InvocationsPerMinute\n60\n120\n")
	writeFile(t, filepath.Join(dir, "suites", "s.star"), `
BASE = ["prepare", ("invoke", "../trace.csv", {"seconds-to-skip": 0, "scale_factor": 2})]
SUITE = {
    "benchmarks": [
        "../a",
        {"benchmark": "../a/a_benchmark.star", "set": {"memory": 1024}},
        "../b", "../other/b",
        {"benchmark": "../b", "name": "beta-big", "set": {"memory": 2048}},
        "mock",
    ],
    "steps": BASE + [("wait", 1.5), "get-traces", ("analyze_traces", {"format": "loglines", "path": "app.log"}), "cleanup"],
    "repetitions": 3,
    "order": "interleaved",
    "seed": 9,
    "parallel": 2,
}
`)
	r, _, _ := suiteRunner(dir, Options{})
	s, err := r.LoadSuite(filepath.Join("suites", "s.star"))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, b := range s.Benchmarks {
		labels = append(labels, b.Label)
	}
	if want := []string{"../a", "../a/a_benchmark.star", "../b", "../other/b", "beta-big", "mock"}; !slices.Equal(labels, want) {
		t.Errorf("labels %q, want %q", labels, want)
	}
	// A ready-made benchmark's name is unpacked beside the suite.
	if got, want := s.Benchmarks[5].File, filepath.Join(dir, "suites", ExamplesDir, "mock", "mock_benchmark.star"); got != want {
		t.Errorf("ready-made benchmark at %s, want %s", got, want)
	}
	if s.Benchmarks[0].Dir != s.Benchmarks[1].Dir || s.Benchmarks[2].Dir == s.Benchmarks[3].Dir {
		t.Errorf("benchmark directories %+v", s.Benchmarks)
	}
	if len(s.Benchmarks[1].Set) != 1 || s.Benchmarks[1].Set[0].Key != "memory" || s.Benchmarks[1].Set[0].Value.String() != "1024" {
		t.Errorf("overrides %+v", s.Benchmarks[1].Set)
	}
	var texts []string
	for _, st := range s.Steps {
		texts = append(texts, st.Text)
	}
	want := []string{"prepare", "invoke ../trace.csv --scale-factor 2 --seconds-to-skip 0", "wait 1.5s", "get_traces --end-offset 5m0s", "analyze_traces app.log --format loglines"}
	if !slices.Equal(texts, want) {
		t.Errorf("steps %q, want %q", texts, want)
	}
	w := s.Steps[1].Workload
	if w.Plan.Kind != "trace" || w.Options.ScaleFactor != 2 || w.Options.SecondsToSkip != 0 {
		t.Errorf("workload %+v %+v", w.Plan.Kind, w.Options)
	}
	if s.Repetitions != 3 || s.Order != OrderInterleaved || s.Parallel != 2 || s.Seed == nil || *s.Seed != 9 {
		t.Errorf("suite %+v", s)
	}
	if s.StatePath() != filepath.Join(dir, "suites", ".s.suite-state.json") || s.ResultsPath() != filepath.Join(dir, "suites", "suite_results.csv") {
		t.Errorf("files %s %s", s.StatePath(), s.ResultsPath())
	}
}

func TestSuitePlan(t *testing.T) {
	s := &Suite{Benchmarks: make([]SuiteBenchmark, 4), Repetitions: 3, Order: OrderSequential}
	for i := range s.Benchmarks {
		s.Benchmarks[i].Label = string(rune('a' + i))
	}
	str := func(plan []SuiteRun) string {
		var parts []string
		for _, run := range plan {
			parts = append(parts, s.RunLabel(run))
		}
		return strings.Join(parts, " ")
	}
	if got, want := str(s.Plan(1)), "a#1 a#2 a#3 b#1 b#2 b#3 c#1 c#2 c#3 d#1 d#2 d#3"; got != want {
		t.Errorf("sequential plan %s, want %s", got, want)
	}
	s.Order = OrderInterleaved
	orders := map[string]bool{}
	for seed := int64(0); seed < 20; seed++ {
		plan := s.Plan(seed)
		if again := s.Plan(seed); str(again) != str(plan) {
			t.Fatalf("seed %d: two plans differ:\n%s\n%s", seed, str(plan), str(again))
		}
		if len(plan) != 12 {
			t.Fatalf("seed %d: %d runs", seed, len(plan))
		}
		// Every round runs every benchmark once, in round order.
		for round := 0; round < 3; round++ {
			seen := map[int]bool{}
			var order []string
			for _, run := range plan[round*4 : round*4+4] {
				if run.Repetition != round+1 || seen[run.Benchmark] {
					t.Fatalf("seed %d: round %d is %s", seed, round+1, str(plan))
				}
				seen[run.Benchmark] = true
				order = append(order, s.Benchmarks[run.Benchmark].Label)
			}
			orders[strings.Join(order, "")] = true
		}
	}
	// 60 shuffled rounds of 4 benchmarks (24 orders) that gave only a few
	// distinct orders would not be shuffled at all.
	if len(orders) < 10 {
		t.Errorf("interleaved rounds take only %d distinct orders: %v", len(orders), orders)
	}
}

// TestSuiteRunsFailuresAndResume runs an interleaved suite with a failing
// step, checks the order, results and cleanups, then interrupts a second
// run and resumes it.
func TestSuiteRunsFailuresAndResume(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b", "c"} {
		writeFile(t, filepath.Join(dir, n, n+"_benchmark.star"), recordingBenchmark(n))
	}
	writeFile(t, filepath.Join(dir, "s.star"), `
SUITE = {
    "benchmarks": ["a", {"benchmark": "b", "set": {"fail_invoke": True}}, "c"],
    "steps": ["prepare", ("invoke", 2), ("wait", 0)],
    "repetitions": 2,
    "order": "interleaved",
    "seed": 5,
}
`)
	r, out, errOut := suiteRunner(dir, Options{})
	err := r.Suite(context.Background(), SuiteOptions{Path: "s.star"})
	if err == nil || exitcode.Of(err) != exitcode.BenchmarkFailed || err.Error() != "2 of 6 suite run(s) failed: see suite_results.csv" {
		t.Fatalf("error %v (exit %d)", err, exitcode.Of(err))
	}
	s, _ := r.LoadSuite("s.star")
	var planned []string
	for _, run := range s.Plan(5) {
		planned = append(planned, s.Benchmarks[run.Benchmark].Label)
	}
	var prepared, cleaned []string
	for _, m := range readMarks(t, filepath.Join(dir, "times.txt")) {
		switch m.what {
		case "prepare-start":
			prepared = append(prepared, m.bench)
		case "cleanup":
			cleaned = append(cleaned, m.bench)
		}
	}
	if !slices.Equal(prepared, planned) || !slices.Equal(cleaned, planned) {
		t.Errorf("prepared %v and cleaned %v, want the plan %v", prepared, cleaned, planned)
	}
	rows := readResults(t, filepath.Join(dir, "suite_results.csv"))
	if want := []string{"benchmark", "repetition", "status", "logs_dir", "duration_s", "failure_reason", "start_time"}; !slices.Equal(rows[0], want) {
		t.Errorf("header %v", rows[0])
	}
	if len(rows) != 7 {
		t.Fatalf("%d rows:\n%v", len(rows), rows)
	}
	for i, row := range rows[1:] {
		if row[0] != planned[i] {
			t.Errorf("row %d is %v, want benchmark %s", i+1, row, planned[i])
		}
		logs, err := filepath.Glob(filepath.Join(dir, row[0], "logs", "*"))
		if err != nil || !strings.HasPrefix(row[3], row[0]+"/logs/") || !slices.Contains(logs, filepath.Join(dir, row[3])) {
			t.Errorf("row %v: logs dir %q not among %v", row, row[3], logs)
		}
		if d, err := strconv.ParseFloat(row[4], 64); err != nil || d < 0.2 {
			t.Errorf("row %v: duration %q, want the prepare's sleep at least", row, row[4])
		}
		if row[0] == "b" {
			if row[2] != RunFailed || row[5] != "invoke 2: b_benchmark.star:16:13: fail: invoke of b is broken" {
				t.Errorf("failing run: %v", row)
			}
		} else if row[2] != RunOK || row[5] != "" {
			t.Errorf("run: %v", row)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "b", StateDir, StateFile)); !os.IsNotExist(err) {
		t.Errorf("the failing benchmark was not cleaned up: %v", err)
	}
	if !strings.Contains(out.String(), "BENCHMARK  REP  STATUS") || !strings.Contains(errOut.String(), `"run":"b#2"`) || !strings.Contains(errOut.String(), "b#1 |   [echo preparing] preparing\n") {
		t.Errorf("output does not name the runs:\n%s\n%s", out, errOut)
	}

	// Everything done: a second sb suite runs nothing and reports again.
	os.Remove(filepath.Join(dir, "times.txt"))
	r, _, _ = suiteRunner(dir, Options{})
	if err := r.Suite(context.Background(), SuiteOptions{Path: "s.star"}); exitcode.Of(err) != exitcode.BenchmarkFailed {
		t.Errorf("rerun of a finished suite: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "times.txt")); !os.IsNotExist(err) {
		t.Errorf("a finished suite ran again: %v", err)
	}

	// --restart runs it all again; interrupt it during the third run's
	// prepare: that run is cleaned up and marked interrupted.
	writeFile(t, filepath.Join(dir, "slow_from"), "3")
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for ctx.Err() == nil {
			if data, _ := os.ReadFile(filepath.Join(dir, "times.txt")); strings.Count(string(data), "prepare-start") == 3 {
				cancel()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	r, _, _ = suiteRunner(dir, Options{})
	start := time.Now()
	err = r.Suite(ctx, SuiteOptions{Path: "s.star", Restart: true})
	if exitcode.Of(err) != exitcode.Interrupted || err.Error() != "suite interrupted with 2 of 6 run(s) done; run sb suite s.star again to continue" {
		t.Fatalf("interrupted suite: %v (exit %d)", err, exitcode.Of(err))
	}
	if time.Since(start) > 8*time.Second {
		t.Errorf("the interrupt did not stop the running step")
	}
	marks := readMarks(t, filepath.Join(dir, "times.txt"))
	if last := marks[len(marks)-1]; last.what != "cleanup" || last.bench != planned[2] {
		t.Errorf("the interrupted run was not cleaned up last: %+v", marks)
	}
	rows = readResults(t, filepath.Join(dir, "suite_results.csv"))
	if len(rows) != 4 || rows[3][0] != planned[2] || rows[3][2] != RunInterrupted || rows[3][5] != "interrupted during prepare" {
		t.Errorf("results after the interrupt: %v", rows)
	}

	// Resume: the two completed runs are skipped, the interrupted one
	// starts over.
	os.Remove(filepath.Join(dir, "slow_from"))
	os.Remove(filepath.Join(dir, "times.txt"))
	r, _, _ = suiteRunner(dir, Options{})
	if err := r.Suite(context.Background(), SuiteOptions{Path: "s.star"}); exitcode.Of(err) != exitcode.BenchmarkFailed {
		t.Errorf("resumed suite: %v", err)
	}
	prepared = nil
	for _, m := range readMarks(t, filepath.Join(dir, "times.txt")) {
		if m.what == "prepare-start" {
			prepared = append(prepared, m.bench)
		}
	}
	if !slices.Equal(prepared, planned[2:]) {
		t.Errorf("resumed runs %v, want %v", prepared, planned[2:])
	}
	rows = readResults(t, filepath.Join(dir, "suite_results.csv"))
	if len(rows) != 7 || rows[3][2] == RunInterrupted {
		t.Errorf("results after the resume: %v", rows)
	}
}

// TestSuiteParallel runs three entries, two of them the same benchmark with
// different overrides, three at a time: runs of different benchmarks
// overlap, runs of one benchmark never do.
func TestSuiteParallel(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		writeFile(t, filepath.Join(dir, n, n+"_benchmark.star"), recordingBenchmark(n))
	}
	writeFile(t, filepath.Join(dir, "s.star"), `
SUITE = {
    "benchmarks": [{"benchmark": "a", "set": {"v": "1"}}, {"benchmark": "a", "set": {"v": "2"}}, "b"],
    "steps": ["prepare", "invoke"],
    "repetitions": 2,
    "parallel": 3,
}
`)
	r, _, errOut := suiteRunner(dir, Options{})
	if err := r.Suite(context.Background(), SuiteOptions{Path: "s.star"}); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	// A run spans from its prepare's start to its cleanup.
	type span struct {
		bench    string
		from, to int64
	}
	var spans []span
	open := map[string]int64{}
	for _, m := range readMarks(t, filepath.Join(dir, "times.txt")) {
		switch m.what {
		case "prepare-start":
			if _, ok := open[m.bench]; ok {
				t.Fatalf("a run of %s started while another was going", m.bench)
			}
			open[m.bench] = m.at
		case "cleanup":
			spans = append(spans, span{m.bench, open[m.bench], m.at})
			delete(open, m.bench)
		}
	}
	if len(spans) != 6 {
		t.Fatalf("%d runs: %+v", len(spans), spans)
	}
	overlaps := 0
	for i, a := range spans {
		for _, b := range spans[i+1:] {
			if a.from < b.to && b.from < a.to {
				if a.bench == b.bench {
					t.Errorf("two runs of %s overlap: %+v %+v", a.bench, a, b)
				}
				overlaps++
			}
		}
	}
	if overlaps == 0 {
		t.Errorf("parallel 3 ran nothing at once: %+v", spans)
	}
	rows := readResults(t, filepath.Join(dir, "suite_results.csv"))
	var labels []string
	for _, row := range rows[1:] {
		if row[2] != RunOK {
			t.Errorf("run %v", row)
		}
		labels = append(labels, row[0]+"#"+row[1])
	}
	slices.Sort(labels)
	if want := []string{"a[v=1]#1", "a[v=1]#2", "a[v=2]#1", "a[v=2]#2", "b#1", "b#2"}; !slices.Equal(labels, want) {
		t.Errorf("runs %q, want %q", labels, want)
	}
}

func TestReasonLine(t *testing.T) {
	for in, want := range map[string]string{
		"boom": "boom",
		"Traceback (most recent call last):\n  x_benchmark.star:9:5: in prepare\n  lib.star:2:9: in helper\nError in fail: fail: broken": "lib.star:2:9: fail: broken",
		"first\nsecond": "first second",
	} {
		if got := reasonLine(fmt.Errorf("%s", in)); got != want {
			t.Errorf("reasonLine(%q) = %q, want %q", in, got, want)
		}
	}
}
