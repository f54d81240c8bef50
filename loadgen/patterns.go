package loadgen

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// Pattern names as users type them. "fluctuating" is ServiBench's name for
// bursty and is kept as an alias.
const (
	PatternSteady      = "steady"
	PatternBursty      = "bursty"
	PatternFluctuating = "fluctuating"
	PatternSpikes      = "spikes"
	PatternJump        = "jump"
)

// MinPatternMinutes is the shortest series the generated patterns accept:
// below it a jump or a spike cannot be told apart from noise.
const MinPatternMinutes = 5

// MaxMinutes bounds generated and parsed series (a week) so a typo cannot
// ask for gigabytes of per-second rates.
const MaxMinutes = 7 * 24 * 60

// Shape targets of the four classes, taken from the Azure Functions 2019
// traces as ServiBench sampled them.
const (
	steadyCV        = 0.04
	burstyCV        = 0.17
	burstyMaxStep   = 0.35 // largest relative change between neighbouring minutes
	spikesBaseCV    = 0.10
	spikeMinHeight  = 3.05 // × the baseline median; kept off 3 and 4 so whole-number counts stay inside
	spikeMaxHeight  = 3.95
	jumpNoiseCV     = 0.03
	jumpMinDepth    = 0.25 // fraction the level drops by
	jumpMaxDepth    = 0.35
	patternAttempts = 1000
)

// canonicalPattern maps a user's pattern name to its class, or "".
func canonicalPattern(name string) string {
	switch name {
	case PatternSteady, PatternSpikes, PatternJump, PatternBursty:
		return name
	case PatternFluctuating:
		return PatternBursty
	}
	return ""
}

// generatePattern returns a per-minute series of whole invocation counts for
// the given class whose total is exactly round(ratePerSecond*60*minutes).
// skipMinutes is how many leading minutes will be skipped, so that the spike
// of "spikes" lands early in the part that actually runs.
func generatePattern(class string, minutes int, ratePerSecond float64, seed int64, skipMinutes int) []float64 {
	s := newStream(seed, streamPattern)
	var rel []float64
	switch class {
	case PatternSteady:
		rel = steadyShape(minutes, s)
	case PatternBursty:
		rel = burstyShape(minutes, s)
	case PatternSpikes:
		rel = spikesShape(minutes, skipMinutes, s)
	case PatternJump:
		rel = jumpShape(minutes, s)
	}
	return apportion(rel, math.Round(ratePerSecond*60*float64(minutes)))
}

// steadyShape: a slight linear drift plus small noise, CV steadyCV.
func steadyShape(m int, s *stream) []float64 {
	drift := s.between(-0.08, 0.08)
	dev := make([]float64, m)
	for i := range dev {
		dev[i] = drift*(position(i, m)-0.5) + 0.03*s.normal()
	}
	return fromDeviations(dev, steadyCV)
}

// burstyShape: a mean-reverting random walk (AR(1), φ = 0.7) normalised to
// CV burstyCV, redrawn while neighbouring minutes differ by more than
// burstyMaxStep.
func burstyShape(m int, s *stream) []float64 {
	var rel []float64
	for range patternAttempts {
		rel = fromDeviations(ar1(m, 0.7, s), burstyCV)
		if maxRelativeStep(rel) <= burstyMaxStep {
			break
		}
	}
	return rel
}

// spikesShape: a fluctuating baseline (CV spikesBaseCV) with one minute at
// 3–4× the baseline median, one or two minutes after the skipped start.
func spikesShape(m, skipMinutes int, s *stream) []float64 {
	rel := fromDeviations(ar1(m, 0.5, s), spikesBaseCV)
	at := min(max(skipMinutes, 0)+s.intn(1, 2), m-1)
	base := slices.Clone(rel)
	base = slices.Delete(base, at, at+1)
	rel[at] = s.between(spikeMinHeight, spikeMaxHeight) * median(base)
	return rel
}

// jumpShape: a plateau that drops by 25–35 % for about two fifths of the
// series starting at about two fifths (minutes 8–16 of 20), then returns.
func jumpShape(m int, s *stream) []float64 {
	start := min(max(1, int(math.Round(0.4*float64(m)))+s.intn(-1, 1)), m-2)
	length := max(1, int(math.Round(0.4*float64(m)))+s.intn(-1, 1))
	end := min(start+length, m-1) // at least one minute back at the first level
	depth := s.between(jumpMinDepth, jumpMaxDepth)
	rel := make([]float64, m)
	for i := range rel {
		level := 1.0
		if i >= start && i < end {
			level = 1 - depth
		}
		rel[i] = level * (1 + jumpNoiseCV*s.normal())
	}
	return rel
}

// ar1 returns a stationary AR(1) series with coefficient phi.
func ar1(m int, phi float64, s *stream) []float64 {
	x := make([]float64, m)
	x[0] = s.normal() / math.Sqrt(1-phi*phi)
	for i := 1; i < m; i++ {
		x[i] = phi*x[i-1] + s.normal()
	}
	return x
}

// fromDeviations centres dev, scales it to standard deviation cv and returns
// 1+dev: a relative series with mean 1 and coefficient of variation cv.
func fromDeviations(dev []float64, cv float64) []float64 {
	mean, sd := meanStd(dev)
	rel := make([]float64, len(dev))
	for i, d := range dev {
		z := 0.0
		if sd > 0 {
			z = (d - mean) / sd * cv
		}
		rel[i] = math.Max(1+z, 0)
	}
	return rel
}

// apportion scales rel to whole numbers adding up to total, giving the
// remainder to the largest fractional parts (ties to the earlier minute) so
// the mean rate is exact.
func apportion(rel []float64, total float64) []float64 {
	sum := 0.0
	for _, r := range rel {
		sum += r
	}
	out := make([]float64, len(rel))
	if sum <= 0 || len(rel) == 0 {
		return out
	}
	frac := make([]int, len(rel))
	assigned := 0.0
	for i, r := range rel {
		exact := r / sum * total
		out[i] = math.Floor(exact)
		assigned += out[i]
		frac[i] = i
	}
	slices.SortStableFunc(frac, func(a, b int) int {
		fa := rel[a]/sum*total - out[a]
		fb := rel[b]/sum*total - out[b]
		switch {
		case fa > fb:
			return -1
		case fa < fb:
			return 1
		}
		return 0
	})
	for k := 0; k < int(total-assigned) && k < len(frac); k++ {
		out[frac[k]]++
	}
	return out
}

func position(i, m int) float64 {
	if m <= 1 {
		return 0
	}
	return float64(i) / float64(m-1)
}

func maxRelativeStep(rel []float64) float64 {
	worst := 0.0
	for i := 1; i < len(rel); i++ {
		if rel[i-1] > 0 {
			worst = math.Max(worst, math.Abs(rel[i]-rel[i-1])/rel[i-1])
		}
	}
	return worst
}

func meanStd(x []float64) (mean, sd float64) {
	if len(x) < 2 {
		return stat.Mean(x, nil), 0
	}
	return stat.MeanStdDev(x, nil)
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	c := slices.Clone(x)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}
