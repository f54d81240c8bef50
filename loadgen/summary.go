package loadgen

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// RunSummary is what sb reports after a k6 run.
type RunSummary struct {
	Requests   int64 // HTTP requests sent (http_reqs)
	Failures   int64 // of which failed (http_req_failed)
	Iterations int64 // completed iterations: achieved arrivals
	Dropped    int64 // arrivals k6 could not start (dropped_iterations)
	// Latency percentiles of http_req_duration in milliseconds; HasLatency
	// is false when no request was made.
	P50, P95, P99 float64
	HasLatency    bool
	// Scheduled is the number of arrivals the options asked for;
	// HasSchedule is false when the options do not fix it in advance.
	Scheduled   int
	HasSchedule bool
}

// ReadSummary reads k6_summary.json in logsDir (and k6_metrics.csv there for
// p99 when the summary lacks it) and the k6 options of the run.
func ReadSummary(logsDir string, k6Options []byte) (*RunSummary, error) {
	path := filepath.Join(logsDir, SummaryFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the k6 summary: %w", err)
	}
	var doc struct {
		Metrics map[string]map[string]json.RawMessage `json:"metrics"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("reading the k6 summary %s: %w", path, err)
	}
	value := func(metric, field string) (float64, bool) {
		raw, ok := doc.Metrics[metric][field]
		if !ok {
			return 0, false
		}
		var v float64
		if json.Unmarshal(raw, &v) != nil {
			return 0, false
		}
		return v, true
	}
	count := func(metric, field string) int64 {
		v, _ := value(metric, field)
		return int64(math.Round(v))
	}
	s := &RunSummary{
		Requests:   count("http_reqs", "count"),
		Failures:   count("http_req_failed", "passes"), // "passes" counts true values: failed requests
		Iterations: count("iterations", "count"),
		Dropped:    count("dropped_iterations", "count"),
	}
	if s.Requests > 0 {
		p50, ok50 := value("http_req_duration", "med")
		p95, ok95 := value("http_req_duration", "p(95)")
		p99, ok99 := value("http_req_duration", "p(99)")
		if !ok50 || !ok95 || !ok99 {
			if d, err := requestDurations(filepath.Join(logsDir, MetricsFile)); err == nil && len(d) > 0 {
				p50, p95, p99 = quantile(d, 0.5), quantile(d, 0.95), quantile(d, 0.99)
				ok50, ok95, ok99 = true, true, true
			}
		}
		if ok50 && ok95 && ok99 {
			s.P50, s.P95, s.P99, s.HasLatency = p50, p95, p99, true
		}
	}
	if sched, ok := ScheduleOf(k6Options); ok {
		s.Scheduled, s.HasSchedule = sched.Total, true
	}
	return s, nil
}

// requestDurations returns every http_req_duration value of a k6 CSV.
func requestDurations(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []float64
	err = eachMetric(f, func(name string, _ int64, value float64) {
		if name == "http_req_duration" {
			out = append(out, value)
		}
	})
	return out, err
}

// eachMetric calls fn for every sample row of a k6 CSV output (columns
// metric_name, timestamp, metric_value, …). The timestamp is whatever unit
// the CSV was written with.
func eachMetric(r io.Reader, fn func(name string, timestamp int64, value float64)) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("reading k6 metrics: %w", err)
	}
	iName, iTime, iValue := slices.Index(header, "metric_name"), slices.Index(header, "timestamp"), slices.Index(header, "metric_value")
	if iName < 0 || iTime < 0 || iValue < 0 {
		return errors.New("reading k6 metrics: no metric_name, timestamp and metric_value columns")
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading k6 metrics: %w", err)
		}
		if len(rec) <= max(iName, iTime, iValue) {
			continue
		}
		ts, err1 := strconv.ParseInt(rec[iTime], 10, 64)
		v, err2 := strconv.ParseFloat(rec[iValue], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		fn(rec[iName], ts, v)
	}
}

// CountMetric counts the samples of one metric in a k6 CSV output (for
// example http_reqs: one row per request).
func CountMetric(csvPath, metric string) (int, error) {
	f, err := os.Open(csvPath)
	if err != nil {
		return 0, fmt.Errorf("reading k6 metrics: %w", err)
	}
	defer f.Close()
	n := 0
	err = eachMetric(f, func(name string, _ int64, _ float64) {
		if name == metric {
			n++
		}
	})
	return n, err
}

// Write prints the summary, with a loud warning when k6 dropped arrivals.
func (s *RunSummary) Write(w io.Writer) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	failPct := 0.0
	if s.Requests > 0 {
		failPct = 100 * float64(s.Failures) / float64(s.Requests)
	}
	p("requests: %d sent, %d failed (%.2f%%)\n", s.Requests, s.Failures, failPct)
	if s.HasLatency {
		p("latency: p50 %s, p95 %s, p99 %s\n", formatMillis(s.P50), formatMillis(s.P95), formatMillis(s.P99))
	}
	if s.HasSchedule && s.Scheduled > 0 {
		p("arrivals: %d achieved of %d scheduled (%.1f%%)\n", s.Iterations, s.Scheduled, 100*float64(s.Iterations)/float64(s.Scheduled))
	} else {
		p("arrivals: %d iterations completed\n", s.Iterations)
	}
	if s.Dropped > 0 {
		share := ""
		if s.HasSchedule && s.Scheduled > 0 {
			share = fmt.Sprintf(" (%.1f%% of the scheduled arrivals)", 100*float64(s.Dropped)/float64(s.Scheduled))
		}
		p("WARNING: k6 DROPPED %d ITERATIONS%s: no VU was free when they were due, so the system got less load than the workload describes. Raise maxVUs in the k6 options, or check why requests are slow.\n", s.Dropped, share)
	}
	return err
}

func formatMillis(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.2fs", ms/1000)
	}
	return fmt.Sprintf("%.1fms", ms)
}
