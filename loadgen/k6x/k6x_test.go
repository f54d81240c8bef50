package k6x

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sb/loadgen"
)

// childEnv makes the test binary act as sb: `TESTBINARY k6 …` runs the
// embedded k6, exactly as `sb k6 …` does.
const childEnv = "SB_K6X_TEST_AS_SB"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "k6" {
		RunK6Main(os.Args[2:])
	}
	os.Exit(m.Run())
}

var (
	xrayHeaderRe  = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)
	traceparentRe = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`)
)

func TestTraceHeaders(t *testing.T) {
	now := time.Unix(0x5f6a1b2c, 0)
	h := NewXrayTraceHeader(now)
	if !xrayHeaderRe.MatchString(h) || !strings.HasPrefix(h, "Root=1-5f6a1b2c-") {
		t.Fatalf("X-Ray header %q", h)
	}
	if NewXrayTraceHeader(now) == h {
		t.Fatal("two X-Ray headers share a trace id")
	}
	tp := NewTraceparent()
	if !traceparentRe.MatchString(tp) {
		t.Fatalf("traceparent %q", tp)
	}
	if NewTraceparent()[3:35] == tp[3:35] {
		t.Fatal("two traceparents share a trace id")
	}
}

// workloadScript requests BASE_URL with both trace headers from k6/x/sb.
const workloadScript = `
import http from "k6/http";
import sb from "k6/x/sb";

export default function () {
  const xray = sb.xrayTraceHeader();
  http.get(__ENV.BASE_URL, {
    headers: { "X-Amzn-Trace-Id": xray, "traceparent": sb.traceparent() },
    tags: { trace_id: xray },
  });
}
`

type counterServer struct {
	all, traced atomic.Int64
}

func (c *counterServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.all.Add(1)
	if xrayHeaderRe.MatchString(r.Header.Get("X-Amzn-Trace-Id")) && traceparentRe.MatchString(r.Header.Get("traceparent")) {
		c.traced.Add(1)
	}
	w.WriteHeader(http.StatusNoContent)
}

// benchmarkDir writes a workload script and options into a fresh directory.
func benchmarkDir(t *testing.T, options string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "workload_script.js"), []byte(workloadScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadgen.ValidateK6Options([]byte(options)); err != nil {
		t.Fatal(err)
	}
	if err := loadgen.WriteOptionsFile(filepath.Join(dir, "workload_options.json"), []byte(options)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func k6Run(t *testing.T, dir, baseURL string, out *bytes.Buffer) loadgen.K6Run {
	t.Setenv(childEnv, "1")
	return loadgen.K6Run{
		Exe:         os.Args[0],
		Dir:         dir,
		Script:      "workload_script.js",
		OptionsFile: "workload_options.json",
		LogsDir:     filepath.Join(dir, "logs", "run1"),
		Envs:        map[string]string{"BASE_URL": baseURL},
		ExtraArgs:   "--quiet --no-color --tag 'testid=k6x e2e'",
		Stdout:      out,
		Stderr:      out,
	}
}

func TestRunK6ConstantArrivalRate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs k6 for several seconds")
	}
	srv := &counterServer{}
	ts := httptest.NewServer(srv) // listens on 127.0.0.1
	defer ts.Close()

	const rate, seconds = 50, 4
	options := `{"scenarios": {"constant": {"executor": "constant-arrival-rate", "rate": 50, "timeUnit": "1s",
	  "duration": "4s", "preAllocatedVUs": 5, "maxVUs": 50}}}`
	dir := benchmarkDir(t, options)
	var out bytes.Buffer
	run := k6Run(t, dir, ts.URL, &out)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := loadgen.RunK6(ctx, run); err != nil {
		t.Fatalf("k6 run: %v\n%s", err, out.String())
	}

	want := float64(rate * seconds)
	got, err := loadgen.CountMetric(filepath.Join(run.LogsDir, loadgen.MetricsFile), "http_reqs")
	if err != nil {
		t.Fatal(err)
	}
	if d := float64(got) - want; d < -0.05*want || d > 0.05*want {
		t.Fatalf("k6_metrics.csv has %d requests, want %v ±5%%\n%s", got, want, out.String())
	}
	if int64(got) != srv.all.Load() {
		t.Errorf("k6 recorded %d requests, the server received %d", got, srv.all.Load())
	}
	if srv.traced.Load() != srv.all.Load() {
		t.Errorf("%d of %d requests carried well-formed trace headers from k6/x/sb", srv.traced.Load(), srv.all.Load())
	}

	sum, err := loadgen.ReadSummary(run.LogsDir, []byte(options))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != int64(got) || sum.Failures != 0 || sum.Dropped != 0 {
		t.Errorf("summary %+v, want %d requests, no failures, none dropped", sum, got)
	}
	if !sum.HasLatency || sum.P50 <= 0 || sum.P50 > sum.P95 || sum.P95 > sum.P99 {
		t.Errorf("latency percentiles %+v", sum)
	}
	if !sum.HasSchedule || sum.Scheduled != rate*seconds {
		t.Errorf("scheduled arrivals %d (known %v), want %d", sum.Scheduled, sum.HasSchedule, rate*seconds)
	}
	var report bytes.Buffer
	if err := sum.Write(&report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report.String(), "requests: ") || strings.Contains(report.String(), "WARNING") {
		t.Errorf("report:\n%s", report.String())
	}
}

func TestRunK6InterruptKeepsSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs k6")
	}
	ts := httptest.NewServer(&counterServer{})
	defer ts.Close()
	options := `{"scenarios": {"long": {"executor": "constant-arrival-rate", "rate": 10, "timeUnit": "1s",
	  "duration": "10m", "preAllocatedVUs": 2, "maxVUs": 10}}}`
	dir := benchmarkDir(t, options)
	var out bytes.Buffer
	run := k6Run(t, dir, ts.URL, &out)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	err := loadgen.RunK6(ctx, run)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("interrupted run returned %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("k6 took %v to stop after the interrupt", took)
	}
	// k6 stopped gracefully: it still wrote its summary.
	if _, err := loadgen.ReadSummary(run.LogsDir, []byte(options)); err != nil {
		t.Fatalf("no summary after an interrupt: %v\n%s", err, out.String())
	}
}

func TestRunK6MissingScriptNamesPath(t *testing.T) {
	dir := t.TempDir()
	err := loadgen.RunK6(context.Background(), loadgen.K6Run{
		Exe: os.Args[0], Dir: dir, Script: "workload_script.js",
		OptionsFile: "workload_options.json", LogsDir: filepath.Join(dir, "logs"),
	})
	want := filepath.Join(dir, "workload_script.js")
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v does not name %s", err, want)
	}
}

func TestK6ExitCode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs k6")
	}
	dir := benchmarkDir(t, `{"vus": 1, "iterations": 1}`)
	// A script that throws at init time makes k6 fail.
	if err := os.WriteFile(filepath.Join(dir, "workload_script.js"), []byte(`throw new Error("broken on purpose");`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	run := k6Run(t, dir, "http://127.0.0.1:1", &out)
	err := loadgen.RunK6(context.Background(), run)
	var exitErr *loadgen.K6ExitError
	if !errors.As(err, &exitErr) || exitErr.Code == 0 {
		t.Fatalf("broken script returned %v", err)
	}
	if !strings.Contains(out.String(), "broken on purpose") {
		t.Errorf("k6 output does not show the script error:\n%s", out.String())
	}
}
