package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.starlark.net/starlark"

	"sb/exitcode"
	"sb/loadgen"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// testRunner returns a runner on a fresh System per call, as a separate sb
// process would have, writing into the returned buffers.
func testRunner(dir string, opts Options) (*Runner, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	sys := &System{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Log: zerolog.New(&errOut), Getenv: func(string) string { return "" }, Now: time.Now, Cwd: dir,
	}
	return New(sys, opts), &out, &errOut
}

func TestFindBenchmark(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "one", "a_benchmark.star"), "")
	writeFile(t, filepath.Join(dir, "two", "a_benchmark.star"), "")
	writeFile(t, filepath.Join(dir, "two", "b_benchmark.star"), "")
	writeFile(t, filepath.Join(dir, "two", "other.star"), "")
	os.MkdirAll(filepath.Join(dir, "none"), 0o755)

	for _, tc := range []struct{ cwd, file, want, err string }{
		{cwd: "one", want: "one/a_benchmark.star"},
		{cwd: ".", file: "one", want: "one/a_benchmark.star"},
		{cwd: ".", file: "two/b_benchmark.star", want: "two/b_benchmark.star"},
		{cwd: ".", file: "two/b_*.star", want: "two/b_benchmark.star"},
		{cwd: "two", file: "other.star", want: "two/other.star"},
		{cwd: "two", err: "found 2 benchmark files (a_benchmark.star, b_benchmark.star): choose one with --file PATH"},
		{cwd: ".", file: "*/a_benchmark.star", err: "found 2 benchmark files (one/a_benchmark.star, two/a_benchmark.star)"},
		{cwd: "none", err: "no *_benchmark.star file in " + filepath.Join(dir, "none") + ": change into a benchmark's directory or pass --file PATH"},
		{cwd: ".", file: "missing.star", err: `no benchmark file matches "missing.star"`},
	} {
		got, err := FindBenchmark(filepath.Join(dir, tc.cwd), tc.file)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || exitcode.Of(err) != exitcode.BadInput {
				t.Errorf("cwd %s file %q: error %v, want %q (bad input)", tc.cwd, tc.file, err, tc.err)
			}
			continue
		}
		if err != nil || got != filepath.Join(dir, tc.want) {
			t.Errorf("cwd %s file %q: got %q, %v; want %s", tc.cwd, tc.file, got, err, tc.want)
		}
	}
}

func TestSplitChain(t *testing.T) {
	cmds := map[string]bool{"prepare": true, "invoke": true, "wait": true, "cleanup": true, "help": true}
	g := Grammar{
		IsCommand:  func(w string) bool { return cmds[w] },
		TakesValue: func(cmd, flag string) bool { return flag == "-f" || flag == "--file" || flag == "--workload-trace" },
		Unchained:  func(cmd string) bool { return cmd == "help" },
		IsFlag: func(cmd, flag string) bool {
			if cmd == "" {
				return flag == "-f" || flag == "--file" || flag == "--local" || strings.HasPrefix(flag, "--file=")
			}
			return flag == "--workload-trace"
		},
	}
	for _, tc := range []struct {
		args, globals, steps, err string
	}{
		{args: "prepare invoke 10 wait 90 cleanup", steps: "prepare|invoke 10|wait 90|cleanup"},
		{args: "-f x --local prepare cleanup", globals: "-f x --local", steps: "prepare|cleanup"},
		{args: "--file=cleanup prepare", globals: "--file=cleanup", steps: "prepare"},
		{args: "-f prepare invoke", globals: "-f prepare", steps: "invoke"},
		{args: "invoke custom --workload-trace cleanup cleanup", steps: "invoke custom --workload-trace cleanup|cleanup"},
		{args: "help invoke", steps: "help invoke"},
		{args: "invoke 10 -f x cleanup --local", globals: "-f x --local", steps: "invoke 10|cleanup"},
		{args: "-f a invoke 10 --file=b", globals: "-f a --file=b", steps: "invoke 10"},
		{args: "--help", globals: "--help"},
		{args: "deploy", err: `unknown command "deploy": run 'sb --help' to list the commands`},
	} {
		globals, steps, err := SplitChain(strings.Fields(tc.args), g)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		var joined []string
		for _, s := range steps {
			joined = append(joined, strings.Join(s, " "))
		}
		if err != nil || strings.Join(globals, " ") != tc.globals || strings.Join(joined, "|") != tc.steps {
			t.Errorf("%q: globals %q steps %q err %v; want %q %q", tc.args, globals, joined, err, tc.globals, tc.steps)
		}
	}
}

func TestParseArguments(t *testing.T) {
	opts, _ := loadgen.DefaultOptions()
	for arg, want := range map[string]string{"": `{"vus":1,"iterations":1}`, "single": `{"vus":1,"iterations":1}`, "10": `{"vus":1,"iterations":10}`} {
		w, err := ParseWorkload(arg, opts)
		if err != nil || compact(string(w.Plan.K6Options)) != want {
			t.Errorf("ParseWorkload(%q) = %s, %v; want %s", arg, w.Plan.K6Options, err, want)
		}
	}
	for _, arg := range []string{"0", "-3", "burst", "1.5", "steady2"} {
		if _, err := ParseWorkload(arg, opts); err == nil || !strings.Contains(err.Error(), loadgen.AcceptedWorkloads) || exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("ParseWorkload(%q) error %v", arg, err)
		}
	}
	if d, err := ParseSeconds("1.5"); err != nil || d != 1500*time.Millisecond {
		t.Errorf("ParseSeconds(1.5) = %v, %v", d, err)
	}
	for _, arg := range []string{"-1", "x", "inf", "NaN"} {
		if _, err := ParseSeconds(arg); err == nil || exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("ParseSeconds(%q) accepted", arg)
		}
	}
}

const mockBenchmark = `BENCHMARK_CONFIG = """
mock:
  description: static
  region: us-east-1
"""

def prepare(spec):
    spec["deploy_id"] = spec["deploy_id"] or "sb%d" % random.randint(1000, 9999)
    spec["region"] = "changed-by-hook"
    spec["counter"] = (spec["counter"] or 0) + 1
    spec["ratio"] = 1.0
    spec["yes"] = "yes"

def invoke(spec):
    spec["seen_logs_dir"] = spec.logs_dir
    spec["invocations"] = (spec["invocations"] or 0) + 1

def cleanup(spec):
    spec.run("exit " + str(spec["cleanup_exit"] or 0), local = True)
`

func TestStatePersistsAndStaticConfigWins(t *testing.T) {
	dir := t.TempDir()
	bench := filepath.Join(dir, "mock_benchmark.star")
	writeFile(t, bench, mockBenchmark)
	ctx := context.Background()

	r, _, _ := testRunner(dir, Options{})
	if err := r.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	state := readFile(t, filepath.Join(dir, ".sb", "config.yml"))
	for _, want := range []string{"mock:\n  description: static\n  region: changed-by-hook\n  deploy_id: sb", "  counter: 1\n  ratio: 1.0\n  yes: \"yes\"\n", "  sb_event_log:\n    - ", ",prepare,start\n", ",prepare,end\n", "sb:\n  host_path: " + dir + "\n  host_system: Linux\n"} {
		if !strings.Contains(state, want) {
			t.Errorf("state file lacks %q:\n%s", want, state)
		}
	}

	// A second, separate run: stored values come back, static ones win.
	writeFile(t, bench, strings.Replace(mockBenchmark, "description: static", "description: edited", 1))
	r2, _, _ := testRunner(dir, Options{})
	b, err := r2.Open()
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{"description": "edited", "region": "us-east-1", "counter": "1", "ratio": "1.0", "yes": "yes"} {
		if got := b.State.Attr(key); got != want {
			v, _, _ := b.State.Values.Get(starlark.String(key))
			if v == nil || v.String() != want {
				t.Errorf("%s = %v, want %s", key, v, want)
			}
		}
	}
	if len(b.State.Events) != 2 {
		t.Errorf("events %v", b.State.Events)
	}
	if err := r2.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	if state := readFile(t, filepath.Join(dir, ".sb", "config.yml")); !strings.Contains(state, "counter: 2") {
		t.Errorf("counter not incremented across runs:\n%s", state)
	}
}

func TestInvokeLogsAndCleanup(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mock_benchmark.star"), mockBenchmark)
	ctx := context.Background()
	r, _, _ := testRunner(dir, Options{})
	if err := r.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	w := Iterations(2)
	// Two invokes in a row: two logs directories, nothing overwritten.
	for i := 0; i < 2; i++ {
		if err := r.Invoke(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	if len(dirs) != 2 {
		t.Fatalf("logs dirs %v, want 2", dirs)
	}
	for _, d := range dirs {
		if got := readFile(t, filepath.Join(d, "workload_options.json")); compact(got) != `{"vus":1,"iterations":2}` {
			t.Errorf("%s: options %s", d, got)
		}
		cfg := readFile(t, filepath.Join(d, "sb_config.yml"))
		if !strings.Contains(cfg, "workload_type: \"2\"") || !strings.Contains(cfg, ",invoke,end") {
			t.Errorf("%s: sb_config.yml:\n%s", d, cfg)
		}
	}
	if got := readFile(t, filepath.Join(dir, "workload_options.json")); compact(got) != `{"vus":1,"iterations":2}` {
		t.Errorf("options beside the benchmark: %s", got)
	}
	b, _ := r.Open()
	if got, want := b.State.Attr("seen_logs_dir"), dirs[1]; got != want {
		t.Errorf("spec.logs_dir in invoke = %q, want %q", got, want)
	}

	// Cleanup whose last command failed keeps the state; a good one removes it.
	statePath := filepath.Join(dir, ".sb", "config.yml")
	st := readFile(t, statePath)
	writeFile(t, statePath, strings.Replace(st, "mock:\n", "mock:\n  cleanup_exit: 1\n", 1))
	if err := r.Cleanup(ctx); err != nil {
		t.Fatalf("cleanup with a failing command must carry on: %v", err)
	}
	if st := readFile(t, statePath); !strings.Contains(st, ",cleanup,end") {
		t.Fatalf("state not kept after a failed cleanup command:\n%s", st)
	}
	writeFile(t, statePath, strings.Replace(readFile(t, statePath), "cleanup_exit: 1", "cleanup_exit: 0", 1))
	if err := r.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(statePath); !os.IsNotExist(err) {
		t.Errorf("state still there after a successful cleanup: %v", err)
	}
}

func TestCorruptStateIsKept(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mock_benchmark.star"), mockBenchmark)
	for name, content := range map[string]string{
		"not yaml":        "mock: [\n",
		"not mapping":     "- a\n",
		"bad event":       "mock:\n  sb_event_log:\n    - yesterday,prepare\n",
		"other benchmark": "other:\n  a: 1\n",
	} {
		statePath := filepath.Join(dir, ".sb", "config.yml")
		writeFile(t, statePath, content)
		r, _, _ := testRunner(dir, Options{})
		err := r.Prepare(context.Background())
		if err == nil || !strings.Contains(err.Error(), "corrupt state file "+statePath) || exitcode.Of(err) != exitcode.BadInput {
			t.Errorf("%s: error %v", name, err)
		}
		if got := readFile(t, statePath); got != content {
			t.Errorf("%s: state file changed to %q", name, got)
		}
	}
}

func TestInterruptSavesState(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x_benchmark.star"), `BENCHMARK_CONFIG = "mock:"
def prepare(spec):
    spec["deploy_id"] = "d1"
    spec.run("echo started; sleep 30", local = True)
    spec["after"] = True
def invoke(spec):
    pass
def cleanup(spec):
    pass
`)
	r, _, errOut := testRunner(dir, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	err := r.Prepare(ctx)
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("error %v, exit code %d; want interrupted", err, exitcode.Of(err))
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("interrupt took %s: the command was not stopped", d)
	}
	st := readFile(t, filepath.Join(dir, ".sb", "config.yml"))
	if !strings.Contains(st, "deploy_id: d1") || strings.Contains(st, "after:") || strings.Contains(st, "prepare,end") {
		t.Errorf("state after interrupt:\n%s", st)
	}
	if !strings.Contains(errOut.String(), "started") {
		t.Errorf("command output not streamed: %s", errOut.String())
	}
}

func TestLocalRun(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x_benchmark.star"), `BENCHMARK_CONFIG = "mock:"
def prepare(spec):
    spec["pwd"] = spec.run("pwd", local = True).strip()
    spec["quoted"] = spec.run("""echo "$GREETING" '$HOME' | awk '{print $1}'""", local = True, env = {"GREETING": "a b"})
    spec["both"] = spec.run("echo out; echo err >&2", local = True)
    spec["timeout"] = str(catch_timeout(spec))
def catch_timeout(spec):
    return spec.run("sleep 5", local = True, timeout = 0.2, check = False)
def invoke(spec):
    pass
def cleanup(spec):
    pass
`)
	r, _, errOut := testRunner(dir, Options{})
	err := r.Prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "command `sleep 5` timed out after 200ms") {
		t.Fatalf("timeout: %v", err)
	}
	b, _ := r.Open()
	for key, want := range map[string]string{"pwd": dir, "quoted": "a\n", "both": "out\nerr\n"} {
		if got := b.State.Attr(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if !strings.Contains(errOut.String(), "  [pwd] "+dir+"\n") {
		t.Errorf("output not streamed with its command's prefix:\n%s", errOut.String())
	}
}

func compact(s string) string { return strings.Join(strings.Fields(s), "") }
