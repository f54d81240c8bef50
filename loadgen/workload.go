package loadgen

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sb/internal/atomicfile"
)

// SeedEnv names the environment variable that sets the default seed, as in
// ServiBench.
const SeedEnv = "SB_WORKLOADGEN_SEED"

// Defaults of the workload flags.
const (
	DefaultSeed          = 42
	DefaultRate          = 20.0 // requests per second
	DefaultMinutes       = 20
	DefaultSecondsToSkip = 180
	DefaultScaleFactor   = 1.0
	DefaultWorkload      = "single"
)

// Options are the `sb invoke` / `sb workload show` flags that shape a
// workload. Start from DefaultOptions and override what the user set.
type Options struct {
	Trace         string  // --workload-trace: per-minute CSV for `custom`
	OptionsFile   string  // --workload-options: k6 options JSON for `custom`
	ScaleFactor   float64 // --scale-factor
	ScaleType     string  // --scale-type: linear or compound
	SecondsToSkip int     // --seconds-to-skip
	Seed          int64   // --seed
	Rate          float64 // --rate: mean requests per second of a built-in pattern
	Minutes       int     // --minutes: length of a built-in pattern
}

// DefaultOptions returns the defaults, with the seed taken from
// SB_WORKLOADGEN_SEED when that is set.
func DefaultOptions() (Options, error) {
	o := Options{
		ScaleFactor:   DefaultScaleFactor,
		ScaleType:     ScaleLinear,
		SecondsToSkip: DefaultSecondsToSkip,
		Seed:          DefaultSeed,
		Rate:          DefaultRate,
		Minutes:       DefaultMinutes,
	}
	if v, ok := os.LookupEnv(SeedEnv); ok && strings.TrimSpace(v) != "" {
		seed, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return o, fmt.Errorf("%s=%q is not an integer seed; unset it or set a whole number", SeedEnv, v)
		}
		o.Seed = seed
	}
	return o, nil
}

// Workload kinds.
const (
	KindIterations = "iterations" // single or N: sequential iterations
	KindPattern    = "pattern"    // a built-in, generated pattern
	KindTrace      = "trace"      // a user's per-minute CSV
	KindCustom     = "custom"     // the user's k6 options file
)

// Workload is a planned workload: what k6 will be asked to do.
type Workload struct {
	Name       string // as the user gave it
	Kind       string // one of the Kind constants
	Pattern    string // steady, bursty, spikes or jump for KindPattern
	Source     string // the trace or options file, for KindTrace and KindCustom
	Iterations int    // for KindIterations
	Seed       int64  // for KindPattern and KindTrace
	// PerMinute is the per-minute series (pattern or trace) before
	// scaling, including the minutes that are skipped.
	PerMinute []float64
	// PerSecond are the rates k6 is given, after scaling, rounding and
	// skipping; SkippedSeconds were dropped from the start.
	PerSecond      []int
	SkippedSeconds int
	// K6Options is the content of workload_options.json.
	K6Options []byte
}

// AcceptedWorkloads is the one-line list of what `sb invoke` accepts.
const AcceptedWorkloads = "single, a positive number of iterations (e.g. 10), steady, bursty (or fluctuating), spikes, jump, a path to a .csv trace with an InvocationsPerMinute column, or custom with --workload-trace FILE.csv or --workload-options FILE.json"

// Plan turns the `sb invoke` workload argument and flags into k6 options. It
// reads the files it names but writes nothing, so a refused workload leaves
// an existing workload_options.json as it was.
func Plan(workload string, o Options) (*Workload, error) {
	name := strings.TrimSpace(workload)
	if name == "" {
		name = DefaultWorkload
	}
	if name != "custom" && (o.Trace != "" || o.OptionsFile != "") {
		return nil, fmt.Errorf("--workload-trace and --workload-options go with the workload custom, not %q", name)
	}
	switch {
	case name == "single":
		return &Workload{Name: name, Kind: KindIterations, Iterations: 1, K6Options: iterationsOptions(1)}, nil
	case isInteger(name):
		n, err := strconv.Atoi(name)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("workload %q: the number of iterations must be a positive whole number; accepted: %s", name, AcceptedWorkloads)
		}
		return &Workload{Name: name, Kind: KindIterations, Iterations: n, K6Options: iterationsOptions(n)}, nil
	case canonicalPattern(name) != "":
		if err := o.validate(true); err != nil {
			return nil, err
		}
		return planPattern(name, o)
	case name == "custom":
		return planCustom(o)
	case strings.EqualFold(filepath.Ext(name), ".csv"):
		if err := o.validate(false); err != nil {
			return nil, err
		}
		return planTrace(name, name, o)
	}
	return nil, fmt.Errorf("unknown workload %q; accepted: %s", name, AcceptedWorkloads)
}

func isInteger(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (o Options) validate(pattern bool) error {
	if math.IsNaN(o.ScaleFactor) || math.IsInf(o.ScaleFactor, 0) || o.ScaleFactor <= 0 {
		return fmt.Errorf("--scale-factor %v: must be a number greater than 0 (1 keeps the trace as it is)", o.ScaleFactor)
	}
	if o.ScaleType != ScaleLinear && o.ScaleType != ScaleCompound {
		return fmt.Errorf("--scale-type %q: accepted: %s, %s", o.ScaleType, ScaleLinear, ScaleCompound)
	}
	if o.SecondsToSkip < 0 {
		return fmt.Errorf("--seconds-to-skip %d: must be 0 or more", o.SecondsToSkip)
	}
	if pattern {
		if math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate <= 0 {
			return fmt.Errorf("--rate %v: must be a number of requests per second greater than 0", o.Rate)
		}
		if o.Minutes < MinPatternMinutes || o.Minutes > MaxMinutes {
			return fmt.Errorf("--minutes %d: must be between %d and %d", o.Minutes, MinPatternMinutes, MaxMinutes)
		}
	}
	return nil
}

func planPattern(name string, o Options) (*Workload, error) {
	class := canonicalPattern(name)
	skipMinutes := 0
	if 60*o.Minutes > o.SecondsToSkip {
		skipMinutes = (o.SecondsToSkip + 59) / 60
	}
	perMinute := generatePattern(class, o.Minutes, o.Rate, o.Seed, skipMinutes)
	w := &Workload{Name: name, Kind: KindPattern, Pattern: class, Seed: o.Seed, PerMinute: perMinute}
	if err := w.shape(o); err != nil {
		return nil, err
	}
	return w, nil
}

func planTrace(name, path string, o Options) (*Workload, error) {
	perMinute, err := ReadTraceFile(path)
	if err != nil {
		return nil, err
	}
	w := &Workload{Name: name, Kind: KindTrace, Source: path, Seed: o.Seed, PerMinute: perMinute}
	if err := w.shape(o); err != nil {
		return nil, fmt.Errorf("workload trace %s: %w", path, err)
	}
	return w, nil
}

func planCustom(o Options) (*Workload, error) {
	switch {
	case o.Trace != "" && o.OptionsFile != "":
		return nil, errors.New("custom takes either --workload-trace FILE.csv or --workload-options FILE.json, not both")
	case o.Trace != "":
		if !strings.EqualFold(filepath.Ext(o.Trace), ".csv") {
			return nil, fmt.Errorf("--workload-trace %s: expected a .csv file with an %s column", o.Trace, TraceColumn)
		}
		if err := o.validate(false); err != nil {
			return nil, err
		}
		return planTrace("custom", o.Trace, o)
	case o.OptionsFile != "":
		data, err := os.ReadFile(o.OptionsFile)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("--workload-options %s does not exist", o.OptionsFile)
			}
			return nil, fmt.Errorf("--workload-options: %w", err)
		}
		if err := ValidateK6Options(data); err != nil {
			return nil, fmt.Errorf("--workload-options %s: %w", o.OptionsFile, err)
		}
		return &Workload{Name: "custom", Kind: KindCustom, Source: o.OptionsFile, K6Options: data}, nil
	}
	return nil, errors.New("custom needs --workload-trace FILE.csv (invocations per minute) or --workload-options FILE.json (k6 options)")
}

// shape runs a per-minute series through the per-second pipeline: fBm
// within-minute shape, scaling, rounding, skipping, k6 encoding.
func (w *Workload) shape(o Options) error {
	if len(w.PerMinute) > MaxMinutes {
		return fmt.Errorf("more than %d minutes (a week)", MaxMinutes)
	}
	rates, err := perSecondRates(w.PerMinute, o.Seed)
	if err != nil {
		return err
	}
	scaled, err := scaleRates(rates, o.ScaleFactor, o.ScaleType)
	if err != nil {
		return err
	}
	w.PerSecond, w.SkippedSeconds = skipStart(roundRates(scaled), o.SecondsToSkip)
	peak := 0
	for _, r := range w.PerSecond {
		peak = max(peak, r)
	}
	if peak == 0 {
		return errors.New("the workload would send no requests (every per-second rate rounds to 0); raise --scale-factor or use a busier trace")
	}
	w.K6Options = encodeK6(w.PerSecond)
	return nil
}

// WriteOptionsFile writes k6 options to path atomically (a temporary file
// renamed into place), so readers never see half a file and a failure leaves
// the previous file intact.
func WriteOptionsFile(path string, data []byte) error {
	return atomicfile.WriteFile(path, data)
}
