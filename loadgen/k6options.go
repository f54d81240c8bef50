package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.k6.io/k6/lib"
	_ "go.k6.io/k6/lib/executor" // registers the executor types k6 options may name
	"gopkg.in/guregu/null.v3"
)

// ScenarioName is the scenario sb writes into trace-shaped k6 options, as
// ServiBench did.
const ScenarioName = "benchmark_scenario"

// secondsOfIterationAtPeak sizes maxVUs: k6 may grow to enough VUs to keep
// starting arrivals at the peak rate while each iteration takes this long.
// Fewer VUs would make a slow system change the workload (k6 drops arrivals
// when no VU is free); k6 only creates VUs beyond preAllocatedVUs on demand.
const secondsOfIterationAtPeak = 10

type k6Stage struct {
	Target   int    `json:"target"`
	Duration string `json:"duration"`
}

type k6ArrivalScenario struct {
	Executor        string    `json:"executor"`
	TimeUnit        string    `json:"timeUnit"`
	StartRate       int       `json:"startRate"`
	PreAllocatedVUs int       `json:"preAllocatedVUs"`
	MaxVUs          int       `json:"maxVUs"`
	Stages          []k6Stage `json:"stages"`
}

type k6ArrivalOptions struct {
	Scenarios map[string]k6ArrivalScenario `json:"scenarios"`
}

type k6IterationOptions struct {
	VUs        int `json:"vus"`
	Iterations int `json:"iterations"`
}

// iterationsOptions is {"vus": 1, "iterations": n}: n sequential iterations.
func iterationsOptions(n int) []byte {
	return marshalOptions(k6IterationOptions{VUs: 1, Iterations: n})
}

// encodeK6 turns per-second rates into a ramping-arrival-rate scenario. Runs
// of equal rate become stages; every run after the first starts with a 1 s
// stage to its rate so the change is a sharp step rather than a ramp across
// the whole run (k6 ramps linearly from one stage's target to the next).
func encodeK6(rates []int) []byte {
	sc := k6ArrivalScenario{
		Executor: "ramping-arrival-rate",
		TimeUnit: "1s",
		Stages:   []k6Stage{},
	}
	peak := 0
	for _, r := range rates {
		peak = max(peak, r)
	}
	sc.PreAllocatedVUs = (peak + 9) / 10
	sc.MaxVUs = max(sc.PreAllocatedVUs, peak*secondsOfIterationAtPeak)
	for i := 0; i < len(rates); {
		j := i
		for j < len(rates) && rates[j] == rates[i] {
			j++
		}
		rate, n := rates[i], j-i
		switch {
		case i == 0:
			sc.StartRate = rate
			sc.Stages = append(sc.Stages, k6Stage{rate, seconds(n)})
		case n > 1:
			sc.Stages = append(sc.Stages, k6Stage{rate, "1s"}, k6Stage{rate, seconds(n - 1)})
		default:
			sc.Stages = append(sc.Stages, k6Stage{rate, "1s"})
		}
		i = j
	}
	return marshalOptions(k6ArrivalOptions{Scenarios: map[string]k6ArrivalScenario{ScenarioName: sc}})
}

func seconds(n int) string { return fmt.Sprintf("%ds", n) }

// marshalOptions writes k6 options as indented JSON with a final newline.
// Only structs (fixed field order) and single-key maps go in, so the bytes
// depend on nothing but the values.
func marshalOptions(v any) []byte {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil { // only fixed struct types reach here
		panic(fmt.Sprintf("loadgen: marshalling k6 options: %v", err))
	}
	return append(b, '\n')
}

// k6ConfigFile mirrors the JSON k6 reads from --config: the options plus the
// few run settings k6 accepts there. Decoding into it with unknown fields
// disallowed catches typos that k6 itself would silently ignore.
type k6ConfigFile struct {
	lib.Options
	Out             json.RawMessage            `json:"out"`
	Linger          null.Bool                  `json:"linger"`
	NoUsageReport   null.Bool                  `json:"noUsageReport"`
	WebDashboard    null.Bool                  `json:"webDashboard"`
	NoArchiveUpload null.Bool                  `json:"noArchiveUpload"`
	Collectors      map[string]json.RawMessage `json:"collectors"`
}

// ValidateK6Options checks that data is a k6 options JSON object that k6
// will accept: known option names, well-typed values, known executors and
// valid scenario settings. It uses k6's own option types and validation.
func ValidateK6Options(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("k6 options must be a JSON object such as {\"vus\": 1, \"iterations\": 10}")
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var cfg k6ConfigFile
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("not valid k6 options: %w", err)
	}
	if dec.More() {
		return errors.New("not valid k6 options: extra data after the JSON object")
	}
	var problems []string
	for _, err := range cfg.Options.Validate() {
		problems = append(problems, err.Error())
	}
	for _, err := range cfg.Scenarios.Validate() {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("not valid k6 options: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Schedule is the arrival plan that k6 options describe, as far as sb can
// tell it in advance.
type Schedule struct {
	// Total is the number of iterations k6 is asked to start.
	Total int
	// PerSecond holds, for arrival-rate scenarios, how many iterations k6
	// schedules to start in each second of the run; nil otherwise.
	PerSecond []int
}

// ScheduleOf reads k6 options and returns the planned arrivals. ok is false
// when the options are not of a shape sb can plan (several scenarios, or an
// executor whose iteration count depends on how fast the system answers).
func ScheduleOf(options []byte) (sched Schedule, ok bool) {
	var raw struct {
		VUs        *int `json:"vus"`
		Iterations *int `json:"iterations"`
		Scenarios  map[string]struct {
			Executor   string    `json:"executor"`
			TimeUnit   string    `json:"timeUnit"`
			Rate       float64   `json:"rate"`
			Duration   string    `json:"duration"`
			StartRate  float64   `json:"startRate"`
			VUs        *int      `json:"vus"`
			Iterations *int      `json:"iterations"`
			Stages     []k6Stage `json:"stages"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(options, &raw); err != nil {
		return Schedule{}, false
	}
	if len(raw.Scenarios) == 0 {
		if raw.Iterations == nil {
			return Schedule{}, false
		}
		return Schedule{Total: *raw.Iterations}, true
	}
	if len(raw.Scenarios) != 1 {
		return Schedule{}, false
	}
	for _, sc := range raw.Scenarios {
		unit := time.Second
		if sc.TimeUnit != "" {
			d, err := time.ParseDuration(sc.TimeUnit)
			if err != nil || d <= 0 {
				return Schedule{}, false
			}
			unit = d
		}
		perSecond := float64(time.Second) / float64(unit)
		var segs []rateSegment
		switch sc.Executor {
		case "ramping-arrival-rate":
			from := sc.StartRate * perSecond
			for _, st := range sc.Stages {
				d, err := time.ParseDuration(st.Duration)
				if err != nil {
					return Schedule{}, false
				}
				to := float64(st.Target) * perSecond
				segs = append(segs, rateSegment{from, to, d.Seconds()})
				from = to
			}
		case "constant-arrival-rate":
			d, err := time.ParseDuration(sc.Duration)
			if err != nil {
				return Schedule{}, false
			}
			r := sc.Rate * perSecond
			segs = append(segs, rateSegment{r, r, d.Seconds()})
		case "shared-iterations":
			return Schedule{Total: valueOr(sc.Iterations, 1)}, true
		case "per-vu-iterations":
			return Schedule{Total: valueOr(sc.VUs, 1) * valueOr(sc.Iterations, 1)}, true
		default:
			return Schedule{}, false
		}
		return arrivalsPerSecond(segs), true
	}
	return Schedule{}, false
}

func valueOr(p *int, d int) int {
	if p == nil {
		return d
	}
	return *p
}

// rateSegment is a stretch of linearly changing arrival rate (per second).
type rateSegment struct{ from, to, seconds float64 }

// arrivalsPerSecond counts, per whole second, the arrivals k6's
// arrival-rate executors schedule: the i-th iteration (i = 1, 2, …) starts
// when the area under the rate curve reaches i, so second s holds the i with
// A(s) ≤ i < A(s+1), and the last one is due at the very end.
func arrivalsPerSecond(segs []rateSegment) Schedule {
	duration := 0.0
	for _, s := range segs {
		duration += s.seconds
	}
	n := int(math.Ceil(duration))
	area := func(t float64) float64 {
		a, start := 0.0, 0.0
		for _, s := range segs {
			if t <= start {
				break
			}
			if s.seconds <= 0 {
				continue
			}
			tau := math.Min(t-start, s.seconds)
			a += s.from*tau + (s.to-s.from)*tau*tau/(2*s.seconds)
			start += s.seconds
		}
		return a
	}
	// A small tolerance keeps whole-number areas whole despite rounding.
	const eps = 1e-9
	perSecond := make([]int, n)
	total := 0
	prev := 1.0 // events are numbered from 1
	for s := range n {
		next := math.Ceil(area(float64(s+1)) - eps)
		if s == n-1 {
			next = math.Floor(area(duration)+eps) + 1 // the final event, due at the end, counts here
		}
		c := max(0, int(next-math.Max(prev, 1)))
		perSecond[s] = c
		total += c
		prev = math.Max(prev, next)
	}
	return Schedule{Total: total, PerSecond: perSecond}
}
