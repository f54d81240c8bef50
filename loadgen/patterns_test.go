package loadgen

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// The shape checks describe the four classes as workloads.md does. They
// are applied both to generated series (over many seeds) and to
// ServiBench's own 20-minute files, so the generator is held to the same
// yardstick as the traces it replaces.

func cv(x []float64) float64 {
	m, sd := stat.MeanStdDev(x, nil)
	return sd / m
}

func checkSteady(t *testing.T, label string, x []float64) {
	if c := cv(x); c < 0.03 || c > 0.05 {
		t.Errorf("%s: steady CV %.3f, want about 0.04", label, c)
	}
}

func checkBursty(t *testing.T, label string, x []float64, maxStep float64) {
	if c := cv(x); c < 0.13 || c > 0.21 {
		t.Errorf("%s: bursty CV %.3f, want about 0.17", label, c)
	}
	if s := maxRelativeStep(x); s > maxStep {
		t.Errorf("%s: neighbouring minutes differ by %.0f%%", label, 100*s)
	}
}

func checkSpikes(t *testing.T, label string, x []float64, latestSpike int) {
	peak := slices.Index(x, slices.Max(x))
	others := slices.Delete(slices.Clone(x), peak, peak+1)
	if h := x[peak] / median(others); h < 3 || h > 4 {
		t.Errorf("%s: spike %.2f× the median, want 3–4×", label, h)
	}
	if peak > latestSpike {
		t.Errorf("%s: spike at minute index %d, want it early (≤ %d)", label, peak, latestSpike)
	}
	// One minute: its neighbours are well below it.
	for _, i := range []int{peak - 1, peak + 1} {
		if i >= 0 && i < len(x) && x[i] > 0.6*x[peak] {
			t.Errorf("%s: spike lasts more than a minute (%v next to %v)", label, x[i], x[peak])
		}
	}
	if c := cv(x); c < 0.35 || c > 0.7 {
		t.Errorf("%s: overall CV %.3f, want about 0.5", label, c)
	}
}

func checkJump(t *testing.T, label string, x []float64) {
	n := float64(len(x))
	cut := (quantile(x, 0.1) + quantile(x, 0.9)) / 2
	start, end := -1, -1
	for i, v := range x {
		if v < cut {
			if start < 0 {
				start = i
			} else if end != i {
				t.Errorf("%s: the low stretch is not one block: %v", label, x)
				return
			}
			end = i + 1
		}
	}
	if start < 0 {
		t.Errorf("%s: no drop in %v", label, x)
		return
	}
	if l := float64(end - start); l < 0.3*n || l > 0.5*n {
		t.Errorf("%s: drop lasts %v minutes of %v", label, l, n)
	}
	if float64(start) < 0.25*n || float64(start) > 0.5*n {
		t.Errorf("%s: drop starts at minute index %d of %v", label, start, n)
	}
	before, low, after := stat.Mean(x[:start], nil), stat.Mean(x[start:end], nil), stat.Mean(x[end:], nil)
	if d := 1 - low/before; d < 0.2 || d > 0.4 {
		t.Errorf("%s: drop of %.0f%%, want about 30%%", label, 100*d)
	}
	if r := after / before; r < 0.9 || r > 1.1 {
		t.Errorf("%s: level after the drop is %.2f× the first level", label, r)
	}
}

func TestServiBenchTracesHaveTheShapes(t *testing.T) {
	dir := servibenchTraces(t)
	read := func(name string) []float64 {
		x, err := ReadTraceFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	checkSteady(t, "steady.csv", read("steady.csv"))
	checkBursty(t, "bursty.csv", read("bursty.csv"), 0.6)
	checkSpikes(t, "spikes.csv", read("spikes.csv"), 5)
	checkJump(t, "jump.csv", read("jump.csv"))
}

func TestGeneratedPatternsHaveTheShapes(t *testing.T) {
	const minutes, rate = 20, 20.0
	for seed := int64(0); seed < 60; seed++ {
		for _, class := range []string{PatternSteady, PatternBursty, PatternSpikes, PatternJump} {
			x := generatePattern(class, minutes, rate, seed, 3)
			label := fmt.Sprintf("%s seed %d", class, seed)
			if len(x) != minutes {
				t.Fatalf("%s: %d minutes", label, len(x))
			}
			sum := 0.0
			for _, v := range x {
				if v < 0 || v != math.Trunc(v) {
					t.Fatalf("%s: minute count %v is not a whole non-negative number", label, v)
				}
				sum += v
			}
			if sum != rate*60*minutes {
				t.Errorf("%s: %v invocations, want a mean of %v per minute", label, sum, rate*60)
			}
			switch class {
			case PatternSteady:
				checkSteady(t, label, x)
			case PatternBursty:
				checkBursty(t, label, x, burstyMaxStep+0.01)
			case PatternSpikes:
				checkSpikes(t, label, x, 3+2) // one or two minutes after the 3 skipped
			case PatternJump:
				checkJump(t, label, x)
			}
		}
	}
}

func TestPatternLengthAndRateFlags(t *testing.T) {
	for _, minutes := range []int{MinPatternMinutes, 7, 60, 180} {
		for _, class := range []string{PatternSteady, PatternBursty, PatternSpikes, PatternJump} {
			x := generatePattern(class, minutes, 3.5, 1, 3)
			if len(x) != minutes {
				t.Fatalf("%s %d min: got %d minutes", class, minutes, len(x))
			}
			sum := 0.0
			for _, v := range x {
				sum += v
			}
			if want := math.Round(3.5 * 60 * float64(minutes)); sum != want {
				t.Errorf("%s %d min: %v invocations, want %v", class, minutes, sum, want)
			}
		}
	}
	checkJump(t, "jump 60 min", generatePattern(PatternJump, 60, 20, 5, 3))
	checkBursty(t, "bursty 60 min", generatePattern(PatternBursty, 60, 20, 5, 3), burstyMaxStep+0.01)
}

func TestApportionKeepsTotal(t *testing.T) {
	got := apportion([]float64{1, 1, 1}, 10)
	if !slices.Equal(got, []float64{4, 3, 3}) {
		t.Errorf("got %v", got)
	}
	if got := apportion([]float64{0, 0}, 10); !slices.Equal(got, []float64{0, 0}) {
		t.Errorf("all-zero shape: %v", got)
	}
}
