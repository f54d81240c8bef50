package loadgen

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"
)

type decodedOptions struct {
	Scenarios map[string]k6ArrivalScenario `json:"scenarios"`
}

func decodeScenario(t *testing.T, data []byte) k6ArrivalScenario {
	t.Helper()
	var d decodedOptions
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	sc, ok := d.Scenarios[ScenarioName]
	if !ok || len(d.Scenarios) != 1 {
		t.Fatalf("want exactly the scenario %s, got %s", ScenarioName, data)
	}
	return sc
}

func TestEncodeStagesAndStepSplitting(t *testing.T) {
	rates := []int{5, 5, 5, 7, 3, 3, 0, 12, 12, 12, 12}
	sc := decodeScenario(t, encodeK6(rates))
	if sc.Executor != "ramping-arrival-rate" || sc.TimeUnit != "1s" {
		t.Errorf("executor %q timeUnit %q", sc.Executor, sc.TimeUnit)
	}
	if sc.StartRate != 5 {
		t.Errorf("startRate %d, want the first run's rate 5", sc.StartRate)
	}
	want := []k6Stage{
		{5, "3s"},            // first run: one stage of its full length
		{7, "1s"},            // a 1 s run: one 1 s stage
		{3, "1s"}, {3, "1s"}, // a 2 s run: a 1 s step, then the rest
		{0, "1s"},              // 1 s run
		{12, "1s"}, {12, "3s"}, // a 4 s run: a 1 s step, then 3 s
	}
	if !reflect.DeepEqual(sc.Stages, want) {
		t.Errorf("stages\n got %v\nwant %v", sc.Stages, want)
	}
	if sc.PreAllocatedVUs != 2 { // ceil(12/10)
		t.Errorf("preAllocatedVUs %d, want ceil(12/10) = 2", sc.PreAllocatedVUs)
	}
	if sc.MaxVUs != 12*secondsOfIterationAtPeak || sc.MaxVUs < sc.PreAllocatedVUs {
		t.Errorf("maxVUs %d, want %d", sc.MaxVUs, 12*secondsOfIterationAtPeak)
	}
	// The stage durations cover the series exactly.
	total := 0
	for _, st := range sc.Stages {
		d, err := time.ParseDuration(st.Duration)
		if err != nil || d%time.Second != 0 {
			t.Fatalf("stage duration %q is not whole seconds", st.Duration)
		}
		total += int(d / time.Second)
	}
	if total != len(rates) {
		t.Errorf("stages last %d s, series %d s", total, len(rates))
	}
	if err := ValidateK6Options(encodeK6(rates)); err != nil {
		t.Errorf("k6 refuses sb's own options: %v", err)
	}
}

func TestEncodeSingleRunAndVUSizing(t *testing.T) {
	sc := decodeScenario(t, encodeK6([]int{10, 10, 10}))
	if sc.StartRate != 10 || !reflect.DeepEqual(sc.Stages, []k6Stage{{10, "3s"}}) {
		t.Errorf("constant series: startRate %d stages %v", sc.StartRate, sc.Stages)
	}
	if sc.PreAllocatedVUs != 1 { // ceil(10/10) exactly
		t.Errorf("preAllocatedVUs %d, want 1", sc.PreAllocatedVUs)
	}
	sc = decodeScenario(t, encodeK6([]int{1, 11}))
	if sc.PreAllocatedVUs != 2 { // ceil(11/10)
		t.Errorf("preAllocatedVUs %d, want 2", sc.PreAllocatedVUs)
	}
}

func TestIterationsOptions(t *testing.T) {
	var got map[string]int
	if err := json.Unmarshal(iterationsOptions(7), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]int{"vus": 1, "iterations": 7}) {
		t.Errorf("got %v", got)
	}
	if err := ValidateK6Options(iterationsOptions(7)); err != nil {
		t.Error(err)
	}
}

func TestScheduleOfEncodedRates(t *testing.T) {
	rates := []int{4, 4, 4, 10, 10, 10, 2, 2}
	sched, ok := ScheduleOf(encodeK6(rates))
	if !ok {
		t.Fatal("schedule of sb's own options unknown")
	}
	if len(sched.PerSecond) != len(rates) {
		t.Fatalf("%d seconds scheduled, want %d", len(sched.PerSecond), len(rates))
	}
	// Area under k6's rate curve: flat first run, then 1 s linear steps.
	area := 4*3 + (4+10)/2.0 + 10*2 + (10+2)/2.0 + 2*1
	if float64(sched.Total) != area {
		t.Errorf("total %d, want the area %v", sched.Total, area)
	}
	// Inside flat stretches k6 starts exactly the rate each second.
	if sched.PerSecond[1] != 4 || sched.PerSecond[4] != 10 || sched.PerSecond[5] != 10 {
		t.Errorf("per second %v", sched.PerSecond)
	}
	sum := 0
	for _, c := range sched.PerSecond {
		sum += c
	}
	if sum != sched.Total {
		t.Errorf("per-second counts add up to %d, total %d", sum, sched.Total)
	}
}

func TestScheduleOfOtherShapes(t *testing.T) {
	for _, c := range []struct {
		opts  string
		total int
		ok    bool
	}{
		{`{"vus": 1, "iterations": 5}`, 5, true},
		{`{"scenarios": {"a": {"executor": "constant-arrival-rate", "rate": 30, "timeUnit": "1m", "duration": "2m", "preAllocatedVUs": 1}}}`, 60, true},
		{`{"scenarios": {"a": {"executor": "per-vu-iterations", "vus": 3, "iterations": 4}}}`, 12, true},
		{`{"vus": 10, "duration": "30s"}`, 0, false},
		{`{"scenarios": {"a": {"executor": "constant-vus", "vus": 3, "duration": "1s"}}}`, 0, false},
	} {
		sched, ok := ScheduleOf([]byte(c.opts))
		if ok != c.ok || sched.Total != c.total {
			t.Errorf("%s: total %d known %v, want %d %v", c.opts, sched.Total, ok, c.total, c.ok)
		}
	}
}

func TestValidateK6Options(t *testing.T) {
	for _, good := range []string{
		`{"vus": 2, "duration": "10s"}`,
		`{"scenarios": {"s": {"executor": "constant-arrival-rate", "rate": 5, "duration": "1m", "preAllocatedVUs": 2}}, "thresholds": {"http_req_duration": ["p(95)<500"]}}`,
		`{"vus": 1, "iterations": 3, "noUsageReport": true}`,
	} {
		if err := ValidateK6Options([]byte(good)); err != nil {
			t.Errorf("%s refused: %v", good, err)
		}
	}
	for _, bad := range []string{
		``,
		`[1, 2]`,
		`{"vus": 1, "iterations": 3`,
		`{"vu": 1}`,       // typo k6 would ignore
		`{"vus": "many"}`, // wrong type
		`{"iterations": "x"}`,
		`{"scenarios": {"s": {"executor": "warp-drive"}}}`,
		`{"scenarios": {"s": {"executor": "ramping-arrival-rate", "stages": [{"target": 1, "duration": "1s"}]}}}`, // no preAllocatedVUs
		`{"vus": 1} {"vus": 2}`,
	} {
		if err := ValidateK6Options([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestScaleLinear(t *testing.T) {
	got, err := scaleRates([]float64{0, 1.5, 4}, 2.5, ScaleLinear)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []float64{0, 3.75, 10}) {
		t.Errorf("got %v", got)
	}
}

func TestScaleCompound(t *testing.T) {
	// Worked by hand: shares .1,.1,.1,.1,.6; q = NumPy's 95th percentile =
	// .1 + .8·(.6-.1) = .5; e = ln 2 / ln 1.5 = 1.70951; 1·1.1^e = 1.17696,
	// 6·1.6^e = 13.3997; clip at the 95th percentile of the scaled rates,
	// 1.17696 + .8·(13.3997-1.17696) = 10.9552.
	got, err := scaleRates([]float64{1, 1, 1, 1, 6}, 2, ScaleCompound)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{1.17696, 1.17696, 1.17696, 1.17696, 10.9552}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-5*want[i]+1e-4 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	// A rate whose share is exactly q is multiplied by exactly the factor.
	q := quantile([]float64{.1, .1, .1, .1, .6}, 0.95)
	e := math.Log(2) / math.Log1p(q)
	if f := math.Pow(1+q, e); math.Abs(f-2) > 1e-12 {
		t.Errorf("(1+q)^e = %v, want the scale factor 2", f)
	}
}

func TestScaleCompoundClipsAtP95(t *testing.T) {
	rates := make([]float64, 100)
	for i := range rates {
		rates[i] = float64(i + 1)
	}
	got, err := scaleRates(rates, 3, ScaleCompound)
	if err != nil {
		t.Fatal(err)
	}
	clip := got[len(got)-1]
	above := 0
	for i, v := range got {
		if v > clip+1e-9 {
			t.Fatalf("rate %d = %v above the clip %v", i, v, clip)
		}
		if v == clip {
			above++
		}
		if i > 0 && v < got[i-1] {
			t.Fatalf("scaling broke the order at %d", i)
		}
	}
	if above != 5 { // the top 5 % sit at the clip
		t.Errorf("%d rates at the clip, want 5", above)
	}
	// The busy seconds grow more than the quiet ones.
	if got[90]/rates[90] <= got[10]/rates[10] {
		t.Errorf("compound scaling did not favour busy seconds: %v vs %v", got[90]/rates[90], got[10]/rates[10])
	}
}

func TestScaleCompoundAllQuiet(t *testing.T) {
	rates := make([]float64, 100)
	rates[0] = 5
	if _, err := scaleRates(rates, 2, ScaleCompound); err == nil {
		t.Error("compound scaling of a trace with a zero 95th percentile accepted")
	}
}

func TestRoundHalfToEven(t *testing.T) {
	got := roundRates([]float64{0.5, 1.5, 2.5, 2.4999, 2.5001, 3.5})
	if !reflect.DeepEqual(got, []int{0, 2, 2, 2, 3, 4}) {
		t.Errorf("got %v", got)
	}
}

func TestSkipStart(t *testing.T) {
	rates := []int{1, 2, 3, 4, 5}
	if got, n := skipStart(rates, 3); !reflect.DeepEqual(got, []int{4, 5}) || n != 3 {
		t.Errorf("skip 3 of 5: %v %d", got, n)
	}
	if got, n := skipStart(rates, 5); !reflect.DeepEqual(got, rates) || n != 0 {
		t.Errorf("a series not longer than the skip is kept whole: %v %d", got, n)
	}
	if got, n := skipStart(rates, 0); !reflect.DeepEqual(got, rates) || n != 0 {
		t.Errorf("skip 0: %v %d", got, n)
	}
}

func TestPerSecondRatesKeepMinuteTotals(t *testing.T) {
	perMinute := []float64{600, 0, 1234, 60}
	rates, err := perSecondRates(perMinute, 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(rates) != 240 {
		t.Fatalf("%d seconds, want 240", len(rates))
	}
	for m, want := range perMinute {
		sum := 0.0
		for _, r := range rates[m*60 : (m+1)*60] {
			if r < 0 {
				t.Fatalf("negative rate %v", r)
			}
			sum += r
		}
		if math.Abs(sum-want) > 1e-9*math.Max(1, want) {
			t.Errorf("minute %d: seconds add up to %v, want %v", m, sum, want)
		}
	}
	// The within-minute shape is not flat.
	lo, hi := math.Inf(1), 0.0
	for _, r := range rates[:60] {
		lo, hi = math.Min(lo, r), math.Max(hi, r)
	}
	if hi-lo < 0.01 {
		t.Errorf("minute 1 is flat: %v..%v", lo, hi)
	}
}
