// Command loadgen measures how faithfully the embedded k6 replays a
// trace-shaped workload: it plans a bursty schedule, scales it to a peak
// rate, runs it with sb's own k6 runner against a local HTTP server on
// 127.0.0.1 and compares, second by second, the arrivals the server saw
// with the arrivals the k6 options schedule.
//
//	go run ./bench/loadgen [-seconds 120] [-peak 500] [-seed 42] [-csv out.csv]
//
// It is a measurement, not a test: the figures depend on the machine's load.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"sb/loadgen"
	"sb/loadgen/k6x"
)

const script = `
import http from "k6/http";
import sb from "k6/x/sb";

export default function () {
  http.get(__ENV.BASE_URL, { headers: { "X-Amzn-Trace-Id": sb.xrayTraceHeader() } });
}
`

func main() {
	// This binary is also the k6 that the run starts, as sb is.
	if len(os.Args) > 1 && os.Args[1] == "k6" {
		k6x.RunK6Main(os.Args[2:])
	}
	seconds := flag.Int("seconds", 120, "length of the replayed schedule in seconds")
	peak := flag.Int("peak", 500, "peak arrival rate (requests per second) to scale the schedule to")
	seed := flag.Int64("seed", 42, "workload seed")
	csvOut := flag.String("csv", "", "write the per-second figures to this CSV file")
	flag.Parse()
	if err := run(*seconds, *peak, *seed, *csvOut); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen benchmark:", err)
		os.Exit(1)
	}
}

// arrivals records when requests reach the server.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	now := time.Now()
	a.mu.Lock()
	a.times = append(a.times, now)
	a.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func run(seconds, peak int, seed int64, csvOut string) error {
	if seconds < 10 || peak < 1 || peak > 2000 {
		return fmt.Errorf("want -seconds ≥ 10 and -peak between 1 and 2000 (the load stays on this machine)")
	}
	// A bursty pattern long enough that, after the usual 180 s skip, the
	// requested number of seconds remains.
	o, err := loadgen.DefaultOptions()
	if err != nil {
		return err
	}
	o.Seed = seed
	o.Minutes = max(loadgen.MinPatternMinutes, (seconds+o.SecondsToSkip+59)/60)
	o.SecondsToSkip = 60*o.Minutes - seconds
	w, err := loadgen.Plan("bursty", o)
	if err != nil {
		return err
	}
	o.ScaleFactor = float64(peak) / float64(slices.Max(w.PerSecond))
	if w, err = loadgen.Plan("bursty", o); err != nil {
		return err
	}
	sched, ok := loadgen.ScheduleOf(w.K6Options)
	if !ok {
		return fmt.Errorf("cannot read the schedule back from the options")
	}

	dir, err := os.MkdirTemp("", "sb-loadgen-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "workload_script.js"), []byte(script), 0o644); err != nil {
		return err
	}
	if err := loadgen.WriteOptionsFile(filepath.Join(dir, "workload_options.json"), w.K6Options); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rec := &arrivals{times: make([]time.Time, 0, sched.Total+1000)}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Close below
	defer srv.Close()

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Printf("replaying %d s of bursty (seed %d) scaled ×%.2f: peak %d rps, %d arrivals scheduled\n",
		len(w.PerSecond), seed, o.ScaleFactor, slices.Max(w.PerSecond), sched.Total)
	logs := filepath.Join(dir, "logs")
	err = loadgen.RunK6(ctx, loadgen.K6Run{
		Exe: exe, Dir: dir, Script: "workload_script.js", OptionsFile: "workload_options.json",
		LogsDir: logs, Envs: map[string]string{"BASE_URL": "http://" + ln.Addr().String() + "/"},
		ExtraArgs: "--quiet", Stdout: os.Stdout, Stderr: os.Stderr,
	})
	if err != nil {
		return err
	}
	summary, err := loadgen.ReadSummary(logs, w.K6Options)
	if err != nil {
		return err
	}

	rec.mu.Lock()
	times := slices.Clone(rec.times)
	rec.mu.Unlock()
	if len(times) == 0 {
		return fmt.Errorf("the server saw no request")
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	// k6 starts the first iteration 1/startRate after the scenario starts;
	// anchor the seconds there (request latency here is well under 1 ms).
	first := time.Duration(float64(time.Second) / float64(max(1, w.PerSecond[0])))
	start := times[0].Add(-first)
	achieved := make([]int, len(sched.PerSecond))
	late := 0
	for _, t := range times {
		s := int(t.Sub(start) / time.Second)
		if s >= 0 && s < len(achieved) {
			achieved[s]++
		} else {
			late++
		}
	}

	var absSum, schedSum float64
	worst, worstSec := 0.0, 0
	for s := range achieved {
		d := math.Abs(float64(achieved[s] - sched.PerSecond[s]))
		absSum += d
		schedSum += float64(sched.PerSecond[s])
		if d > worst {
			worst, worstSec = d, s
		}
	}
	n := float64(len(achieved))
	mae := absSum / n
	fmt.Printf("\nseconds: %d, scheduled arrivals: %d, received by the server: %d (%d outside the schedule's seconds)\n",
		len(achieved), sched.Total, len(times), late)
	fmt.Printf("per-second mean absolute error: %.2f requests = %.3f%% of the mean scheduled rate %.1f/s\n",
		mae, 100*mae/(schedSum/n), schedSum/n)
	fmt.Printf("worst second: %d (scheduled %d, achieved %d, off by %.0f = %.2f%%)\n",
		worstSec, sched.PerSecond[worstSec], achieved[worstSec], worst, 100*worst/math.Max(1, float64(sched.PerSecond[worstSec])))
	fmt.Printf("dropped iterations: %d\n", summary.Dropped)
	if err := summary.Write(os.Stdout); err != nil {
		return err
	}
	if csvOut != "" {
		f, err := os.Create(csvOut)
		if err != nil {
			return err
		}
		cw := csv.NewWriter(f)
		_ = cw.Write([]string{"second", "rate", "scheduled", "achieved"})
		for s := range achieved {
			_ = cw.Write([]string{strconv.Itoa(s), strconv.Itoa(w.PerSecond[s]), strconv.Itoa(sched.PerSecond[s]), strconv.Itoa(achieved[s])})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}
