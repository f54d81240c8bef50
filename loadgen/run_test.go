package loadgen

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestK6Args(t *testing.T) {
	got, err := K6Args(K6Run{
		Script:      "workload_script.js",
		OptionsFile: "workload_options.json",
		LogsDir:     "logs/2024-01-02_03-04-05",
		Envs:        map[string]string{"BASE_URL": "http://x", "A": "1 2"},
		ExtraArgs:   `--tag 'name=my test' --http-debug`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"run", "--config", "workload_options.json",
		"--out", "csv=logs/2024-01-02_03-04-05/k6_metrics.csv",
		"--summary-export", "logs/2024-01-02_03-04-05/k6_summary.json",
		"--summary-trend-stats", summaryTrendStats,
		"--env", "A=1 2", "--env", "BASE_URL=http://x",
		"--tag", "name=my test", "--http-debug",
		"workload_script.js",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	if _, err := K6Args(K6Run{Script: "s.js", OptionsFile: "o.json", LogsDir: "l", ExtraArgs: `--tag "x`}); err == nil {
		t.Error("unterminated quote accepted")
	}
	if _, err := K6Args(K6Run{Script: "s.js", OptionsFile: "o.json", LogsDir: "l", Envs: map[string]string{"A=B": "1"}}); err == nil {
		t.Error("env name with = accepted")
	}
}

func TestSplitArgs(t *testing.T) {
	for in, want := range map[string][]string{
		"":                          nil,
		"  --vus 10  ":              {"--vus", "10"},
		`--tag "a b" 'c d'`:         {"--tag", "a b", "c d"},
		`a\ b "q\"uote" 'lit\eral'`: {"a b", `q"uote`, `lit\eral`},
		`x="" ''`:                   {"x=", ""},
	} {
		got, err := SplitArgs(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `trailing\`} {
		if _, err := SplitArgs(bad); err == nil {
			t.Errorf("SplitArgs(%q) accepted", bad)
		}
	}
}

func TestRunSummaryFromExport(t *testing.T) {
	dir := t.TempDir()
	// The shape of k6's --summary-export file, including a threshold
	// object that is not a number.
	export := `{"metrics": {
	  "http_reqs": {"count": 1000, "rate": 50},
	  "http_req_failed": {"passes": 12, "fails": 988, "value": 0.012},
	  "iterations": {"count": 990, "rate": 49.5},
	  "dropped_iterations": {"count": 10, "rate": 0.5},
	  "http_req_duration": {"avg": 30, "min": 1, "med": 20, "max": 900, "p(90)": 80, "p(95)": 120.5, "p(99)": 1500,
	    "thresholds": {"p(95)<500": false}}
	}}`
	if err := os.WriteFile(filepath.Join(dir, SummaryFile), []byte(export), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSummary(dir, encodeK6([]int{50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50, 50}))
	if err != nil {
		t.Fatal(err)
	}
	want := RunSummary{Requests: 1000, Failures: 12, Iterations: 990, Dropped: 10, P50: 20, P95: 120.5, P99: 1500, HasLatency: true, Scheduled: 1000, HasSchedule: true}
	if *s != want {
		t.Errorf("\n got %+v\nwant %+v", *s, want)
	}
	var out bytes.Buffer
	if err := s.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"1000 sent, 12 failed", "p50 20.0ms, p95 120.5ms, p99 1.50s", "990 achieved of 1000 scheduled", "WARNING: k6 DROPPED 10 ITERATIONS (1.0% of the scheduled arrivals)"} {
		if !strings.Contains(out.String(), part) {
			t.Errorf("summary lacks %q:\n%s", part, out.String())
		}
	}
}

func TestRunSummaryP99FromMetricsCSV(t *testing.T) {
	dir := t.TempDir()
	export := `{"metrics": {"http_reqs": {"count": 4}, "iterations": {"count": 4},
	  "http_req_duration": {"med": 2, "p(95)": 3}}}`
	csv := "metric_name,timestamp,metric_value,check,error\n" +
		"http_req_duration,1700000000,1,,\nhttp_reqs,1700000000,1,,\n" +
		"http_req_duration,1700000000,2,,\nhttp_req_duration,1700000001,3,,\nhttp_req_duration,1700000001,101,,\n"
	_ = os.WriteFile(filepath.Join(dir, SummaryFile), []byte(export), 0o644)
	_ = os.WriteFile(filepath.Join(dir, MetricsFile), []byte(csv), 0o644)
	s, err := ReadSummary(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// NumPy-style 99th percentile of 1, 2, 3, 101: 3 + .97·98 = 98.06.
	if !s.HasLatency || s.P99 < 98.05 || s.P99 > 98.07 || s.HasSchedule {
		t.Errorf("%+v", *s)
	}
	if n, err := CountMetric(filepath.Join(dir, MetricsFile), "http_req_duration"); err != nil || n != 4 {
		t.Errorf("CountMetric = %d, %v", n, err)
	}
}
