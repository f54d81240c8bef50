package starlarkapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"

	"sb/exitcode"
)

// fakeHost records what hooks ask for. `exit N` commands exit with N.
type fakeHost struct {
	runs   []RunRequest
	builds []BuildRequest
	k6     []K6Request
	serves []ServeRequest
	stops  []string
}

func (h *fakeHost) Run(_ context.Context, req RunRequest) (RunResult, error) {
	h.runs = append(h.runs, req)
	code := 0
	if n, ok := strings.CutPrefix(req.Cmd, "exit "); ok {
		code, _ = strconv.Atoi(n)
	}
	return RunResult{Output: "ran: " + req.Cmd + "\n", ExitCode: code}, nil
}

func (h *fakeHost) Build(_ context.Context, req BuildRequest) error {
	h.builds = append(h.builds, req)
	return nil
}

func (h *fakeHost) RunK6(_ context.Context, req K6Request) error {
	h.k6 = append(h.k6, req)
	return nil
}

func (h *fakeHost) Serve(_ context.Context, req ServeRequest) (ServeResult, error) {
	h.serves = append(h.serves, req)
	ports := map[int]int{}
	for c, p := range req.Ports {
		if p == 0 {
			p = 40000 + c
		}
		ports[c] = p
	}
	return ServeResult{Name: req.Name, Ports: ports}, nil
}

func (h *fakeHost) Logs(_ context.Context, name string, since time.Time) (string, error) {
	if since.IsZero() {
		return "logs of " + name, nil
	}
	return fmt.Sprintf("logs of %s since %d", name, since.Unix()), nil
}

func (h *fakeHost) Stop(_ context.Context, name string) error {
	h.stops = append(h.stops, name)
	return nil
}

func (h *fakeHost) RemoveImage(_ context.Context, ref string) error {
	h.stops = append(h.stops, "image "+ref)
	return nil
}

// TestScripts runs testdata/*_test.star with the assert module, the
// predeclared builtins, a spec over a fake host and a local HTTP server.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*_test.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test scripts: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := new(bytes.Buffer)
		body.ReadFrom(r.Body)
		w.Header().Set("X-Method", r.Method)
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"method": %q, "got": %q, "type": %q, "trace": %q}`, r.Method, body.String(), r.Header.Get("Content-Type"), r.Header.Get("X-Trace"))
		case "/missing":
			http.NotFound(w, r)
		default:
			fmt.Fprint(w, "hello")
		}
	}))
	defer srv.Close()

	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var logs bytes.Buffer
			seed := int64(7)
			host := &fakeHost{}
			pre := predeclared(LoadOptions{Seed: &seed, Log: zerolog.New(&logs)})
			spec := NewSpec("demo", starlark.NewDict(0))
			spec.SetLogsDir("logs/2021-03-27_12-21-50")
			thread := &starlark.Thread{Load: func(_ *starlark.Thread, module string) (starlark.StringDict, error) {
				if module == "assert.star" {
					return starlarktest.LoadAssertModule()
				}
				return nil, fmt.Errorf("unknown module %s", module)
			}}
			starlarktest.SetReporter(thread, t)
			thread.SetLocal(localContext, context.Background())
			thread.SetLocal(localHost, host)
			thread.SetLocal(localHook, "prepare")
			pre["spec"] = spec
			pre["base_url"] = starlark.String(srv.URL)
			pre["set_hook"] = starlark.NewBuiltin("set_hook", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				var hook string
				if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hook", &hook); err != nil {
					return nil, err
				}
				th.SetLocal(localHook, hook)
				return starlark.None, nil
			})
			pre["host_runs"] = starlark.NewBuiltin("host_runs", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				var out []starlark.Value
				for _, r := range host.runs {
					env := starlark.NewDict(len(r.Env))
					for k, v := range r.Env {
						env.SetKey(starlark.String(k), starlark.String(v))
					}
					out = append(out, starlark.Tuple{starlark.String(r.Cmd), starlark.String(r.Image), starlark.String(r.Shell), env, starlark.Float(r.Timeout.Seconds()), starlark.Bool(r.Local)})
				}
				for _, b := range host.builds {
					out = append(out, starlark.Tuple{starlark.String("build"), starlark.String(b.Tag), starlark.String(b.File), starlark.String(b.Context)})
				}
				for _, k := range host.k6 {
					out = append(out, starlark.Tuple{starlark.String("k6"), starlark.String(k.Options), starlark.String(k.Image), starlark.String(k.Script)})
				}
				return starlark.NewList(out), nil
			})
			pre["logs"] = starlark.NewBuiltin("logs", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				return starlark.String(logs.String()), nil
			})
			if _, err := starlark.ExecFileOptions(fileOptions, thread, file, nil, pre); err != nil {
				var ee *starlark.EvalError
				if errors.As(err, &ee) {
					t.Fatal(ee.Backtrace())
				}
				t.Fatal(err)
			}
		})
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const hooks = "def prepare(spec):\n    pass\n\ndef invoke(spec):\n    pass\n\ndef cleanup(spec):\n    pass\n"

func TestLoadConfigForms(t *testing.T) {
	for name, src := range map[string]string{
		"yaml":      "BENCHMARK_CONFIG = \"\"\"\nmock:\n  description: d\n  provider: aws\n  root: ..\n\"\"\"\n" + hooks,
		"dict":      "BENCHMARK_CONFIG = {\"mock\": {\"description\": \"d\", \"provider\": \"aws\", \"root\": \"..\"}}\n" + hooks,
		"no_attrs":  "BENCHMARK_CONFIG = \"mock:\"\n" + hooks,
		"dict_none": "BENCHMARK_CONFIG = {\"mock\": None}\n" + hooks,
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"b/x_benchmark.star": src})
			s, err := Load(filepath.Join(dir, "b", "x_benchmark.star"), LoadOptions{Log: zerolog.Nop()})
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != "mock" {
				t.Errorf("name %q", s.Name)
			}
			want := 3
			if strings.HasPrefix(name, "no_") || strings.HasSuffix(name, "none") {
				want = 0
			}
			if s.Config.Len() != want {
				t.Errorf("config %s, want %d attributes", s.Config, want)
			}
			if want == 3 {
				if keys := strings.Join(dictKeys(s.Config), ","); keys != "description,provider,root" {
					t.Errorf("attributes out of file order: %s", keys)
				}
			}
		})
	}
}

// TestLoadErrors pins the one-line message of every bad benchmark file.
func TestLoadErrors(t *testing.T) {
	cfg := "BENCHMARK_CONFIG = \"\"\"\nmock:\n  description: d\n\"\"\"\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax", cfg + "def prepare(spec)\n    pass\n", "x_benchmark.star:6:1: got newline, want ':'"},
		{"undefined", cfg + hooks + "x = undefined_name\n", "x_benchmark.star:13:5: undefined: undefined_name"},
		{"missing config", hooks, "x_benchmark.star: BENCHMARK_CONFIG is missing: define it as a YAML string whose single top-level key is the benchmark's name"},
		{"not yaml", "BENCHMARK_CONFIG = \"\"\"\nmock:\n  a: [1\n\"\"\"\n" + hooks, "x_benchmark.star:2: BENCHMARK_CONFIG is not valid YAML (did not find expected ',' or ']'): fix the YAML or use a dict"},
		{"zero keys", "BENCHMARK_CONFIG = \"\"\n" + hooks, "x_benchmark.star:1: BENCHMARK_CONFIG must have exactly one top-level key, the benchmark's name, with its attributes below it; found 0 key(s)"},
		{"several keys", "BENCHMARK_CONFIG = \"\"\"\na:\n  x: 1\nb:\n  y: 2\n\"\"\"\n" + hooks, "x_benchmark.star:1: BENCHMARK_CONFIG must have exactly one top-level key, the benchmark's name, with its attributes below it; found 2 key(s): a, b"},
		{"scalar yaml", "BENCHMARK_CONFIG = \"just a string\"\n" + hooks, "found 0 key(s)"},
		{"int config", "BENCHMARK_CONFIG = 3\n" + hooks, "x_benchmark.star:1: BENCHMARK_CONFIG is a int; it must be a YAML string or a dict with one key, the benchmark's name"},
		{"attrs not mapping", "BENCHMARK_CONFIG = \"mock: [1, 2]\"\n" + hooks, "the attributes of \"mock\" in BENCHMARK_CONFIG must be a mapping, not a list"},
		{"missing hook", cfg + "def prepare(spec):\n    pass\ndef invoke(spec):\n    pass\n", "x_benchmark.star: missing hook cleanup: define `def cleanup(spec):` (every benchmark needs prepare, invoke and cleanup)"},
		{"hook not function", cfg + "prepare = 1\ndef invoke(spec):\n    pass\ndef cleanup(spec):\n    pass\n", "x_benchmark.star: prepare must be a function `def prepare(spec):`, not a int"},
		{"arity 0", cfg + "def prepare():\n    pass\ndef invoke(spec):\n    pass\ndef cleanup(spec):\n    pass\n", "x_benchmark.star:5:1: hook prepare takes 0 parameter(s); it must take exactly one: `def prepare(spec):`"},
		{"arity 2", cfg + "def prepare(spec):\n    pass\ndef invoke(spec, n):\n    pass\ndef cleanup(spec):\n    pass\n", "x_benchmark.star:7:1: hook invoke takes 2 parameter(s); it must take exactly one: `def invoke(spec):`"},
		{"toplevel fail", cfg + hooks + "fail(\"not ready\")\n", "Traceback (most recent call last):\n  x_benchmark.star:13:5: in <toplevel>\nError in fail: fail: not ready"},
		{"load outside root", "load(\"../secret.star\", \"x\")\n" + cfg + hooks, "is outside the benchmark's root"},
		{"load missing", "load(\"nope.star\", \"x\")\n" + cfg + hooks, "load(\"nope.star\"): no file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"b/x_benchmark.star": tc.src, "secret.star": "x = 1\n"})
			_, err := Load(filepath.Join(dir, "b", "x_benchmark.star"), LoadOptions{Log: zerolog.Nop()})
			if err == nil {
				t.Fatal("loaded a bad benchmark")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%s\nwant it to contain:\n%s", err, tc.want)
			}
			if got := exitcode.Of(err); got != exitcode.ScriptError {
				t.Errorf("exit code %d, want %d (script error)", got, exitcode.ScriptError)
			}
		})
	}
}

func TestLoadSiblingsAndRoot(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"app/aws/x_benchmark.star": "load(\"lib/helpers.star\", \"greet\")\nload(\"../shared/common.star\", \"REGION\")\n" +
			"BENCHMARK_CONFIG = \"\"\"\nmock:\n  root: ..\n\"\"\"\n" +
			"def prepare(spec):\n    spec[\"greeting\"] = greet(REGION)\ndef invoke(spec):\n    pass\ndef cleanup(spec):\n    pass\n",
		"app/aws/lib/helpers.star": "load(\"util.star\", \"upper\")\ndef greet(x):\n    return \"hello \" + upper(x)\n",
		"app/aws/lib/util.star":    "def upper(x):\n    return x.upper()\n",
		"app/shared/common.star":   "REGION = \"eu-west-1\"\n",
	})
	s, err := Load(filepath.Join(dir, "app", "aws", "x_benchmark.star"), LoadOptions{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	spec := NewSpec(s.Name, starlark.NewDict(0))
	if err := s.Call(context.Background(), "prepare", spec, &fakeHost{}); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := spec.Get(starlark.String("greeting")); v != starlark.String("hello EU-WEST-1") {
		t.Errorf("greeting = %v", v)
	}
}

// TestHookBacktrace pins the text users see when a hook fails.
func TestHookBacktrace(t *testing.T) {
	src := "BENCHMARK_CONFIG = \"mock:\"\n" +
		"def deploy(spec):\n    spec.run(\"exit 3\")\n" +
		"def prepare(spec):\n    deploy(spec)\n" +
		"def invoke(spec):\n    spec[\"f\"] = lambda: 1\n" +
		"def cleanup(spec):\n    {}[\"missing\"]\n"
	dir := writeFiles(t, map[string]string{"x_benchmark.star": src})
	s, err := Load(filepath.Join(dir, "x_benchmark.star"), LoadOptions{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hook, want string
		code       exitcode.Code
	}{
		{"prepare", "Traceback (most recent call last):\n  x_benchmark.star:5:11: in prepare\n  x_benchmark.star:3:13: in deploy\nError in run: command `exit 3` exited with status 3", exitcode.BenchmarkFailed},
		{"invoke", "Traceback (most recent call last):\n  x_benchmark.star:7:9: in invoke\nError: spec[\"f\"]: a function is not a JSON-compatible value; use None, bool, int, float, string, list or dict", exitcode.ScriptError},
		{"cleanup", "Traceback (most recent call last):\n  x_benchmark.star:9:7: in cleanup\nError: key \"missing\" not in dict", exitcode.ScriptError},
	} {
		err := s.Call(context.Background(), tc.hook, NewSpec("mock", starlark.NewDict(0)), &fakeHost{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: error\n%v\nwant\n%s", tc.hook, err, tc.want)
		}
		if got := exitcode.Of(err); got != tc.code {
			t.Errorf("%s: exit code %d, want %d", tc.hook, got, tc.code)
		}
	}
}

func TestCallInterrupted(t *testing.T) {
	src := "BENCHMARK_CONFIG = \"mock:\"\n" +
		"def prepare(spec):\n    spec[\"before\"] = 1\n    while True:\n        pass\n" +
		"def invoke(spec):\n    pass\ndef cleanup(spec):\n    pass\n"
	dir := writeFiles(t, map[string]string{"x_benchmark.star": src})
	s, err := Load(filepath.Join(dir, "x_benchmark.star"), LoadOptions{Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	spec := NewSpec("mock", starlark.NewDict(0))
	time.AfterFunc(50*time.Millisecond, cancel)
	err = s.Call(ctx, "prepare", spec, &fakeHost{})
	if exitcode.Of(err) != exitcode.Interrupted {
		t.Fatalf("error %v has exit code %d, want interrupted", err, exitcode.Of(err))
	}
	if ok, _ := spec.Has(starlark.String("before")); !ok {
		t.Error("the value stored before the interrupt is gone")
	}
}
