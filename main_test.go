package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"sb/tracing/xray/synthetic"
)

// TestMain lets the test binary act as sb inside testscript sessions, so the
// scripts run the real command line end to end.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"sb": main})
}

// TestCLI runs the user sessions in testdata/script/*.txtar. Each starts
// with a copy of examples/ in $WORK/examples.
func TestCLI(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// A local application for workloads to load: counts requests
			// and remembers their trace headers.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "trace=%s\n", r.Header.Get("X-Amzn-Trace-Id"))
			}))
			env.Defer(srv.Close)
			env.Setenv("APP_URL", srv.URL)
			xr := fakeXRay(30)
			env.Defer(xr.Close)
			env.Setenv("FAKE_XRAY_URL", xr.URL)
			return copyExamples(filepath.Join(env.WorkDir, "examples"))
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// waitfor PATH [SECONDS]: wait until a file exists (for
			// interrupting a background sb at a known point).
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				limit := 10 * time.Second
				if len(args) == 2 {
					s, _ := strconv.Atoi(args[1])
					limit = time.Duration(s) * time.Second
				}
				deadline := time.Now().Add(limit)
				for time.Now().Before(deadline) {
					if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
				ts.Fatalf("%s did not appear within %s", args[0], limit)
			},
			// gentraces N PATH: write N synthetic X-Ray traces, one per line.
			"gentraces": func(ts *testscript.TestScript, neg bool, args []string) {
				n, err := strconv.Atoi(args[0])
				ts.Check(err)
				ts.Check(os.MkdirAll(filepath.Dir(ts.MkAbs(args[1])), 0o755))
				f, err := os.Create(ts.MkAbs(args[1]))
				ts.Check(err)
				ts.Check(synthetic.WriteRandom(f, n, 1))
				ts.Check(f.Close())
			},
			// logsdirs N: the benchmark in the current directory has N logs directories.
			"logsdirs": func(ts *testscript.TestScript, neg bool, args []string) {
				dirs, _ := filepath.Glob(ts.MkAbs("logs/*"))
				if want, _ := strconv.Atoi(args[0]); len(dirs) != want {
					ts.Fatalf("%d logs directories %v, want %s", len(dirs), dirs, args[0])
				}
			},
		},
	})
}

// copyExamples copies examples/ as a fresh checkout has it: without the
// state, logs and options that local runs leave behind.
func copyExamples(dst string) error {
	return filepath.WalkDir("examples", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("examples", path)
		switch {
		case d.IsDir() && (d.Name() == "logs" || d.Name() == ".sb"):
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case d.Name() == "workload_options.json":
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
}

// TestCrashIsOneLine: a bug in sb shows one line and keeps the stack in a file.
func TestCrashIsOneLine(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	if code := crashed("boom"); code != 4 {
		t.Errorf("exit code %d", code)
	}
	files, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "sb-crash-*.txt"))
	if len(files) != 1 {
		t.Fatalf("crash files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	if !strings.Contains(string(data), "panic: boom") || !strings.Contains(string(data), "TestCrashIsOneLine") {
		t.Errorf("crash file lacks the panic and the stack:\n%s", data)
	}
}

// fakeXRay speaks enough of X-Ray's REST-JSON API for get_traces: n traces,
// listed in two pages with one id repeated.
func fakeXRay(n int) *httptest.Server {
	traces := map[string]json.RawMessage{}
	var ids []string
	for i := 0; i < n; i++ {
		line := synthetic.Trace(7, i)
		var t struct{ Id string }
		json.Unmarshal(line, &t)
		traces[t.Id] = line
		ids = append(ids, t.Id)
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		var req struct {
			NextToken *string
			TraceIds  []string
		}
		json.NewDecoder(r.Body).Decode(&req)
		type summary struct{ Id string }
		switch r.URL.Path {
		case "/TraceSummaries":
			page, next := ids[:n/2+1], "p2"
			if req.NextToken != nil {
				page, next = ids[n/2:], ""
			}
			var list []summary
			for _, id := range page {
				list = append(list, summary{id})
			}
			out := map[string]any{"TraceSummaries": list}
			if next != "" {
				out["NextToken"] = next
			}
			json.NewEncoder(w).Encode(out)
		case "/Traces":
			var found []json.RawMessage
			for _, id := range req.TraceIds {
				found = append(found, traces[id])
			}
			json.NewEncoder(w).Encode(map[string]any{"Traces": found, "UnprocessedTraceIds": []string{}})
		default:
			http.NotFound(w, r)
		}
	}))
}
