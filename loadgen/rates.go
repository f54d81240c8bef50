package loadgen

import (
	"fmt"
	"math"
	"slices"
)

// Scale types accepted by --scale-type.
const (
	ScaleLinear   = "linear"
	ScaleCompound = "compound"
)

// perSecondRates spreads each minute's count over its 60 seconds in
// proportion to a fractional Brownian motion path, so a minute's 60 rates add
// up to its count.
func perSecondRates(perMinute []float64, seed int64) ([]float64, error) {
	weights, err := fbmWeights(60*len(perMinute), seed)
	if err != nil {
		return nil, err
	}
	rates := make([]float64, len(weights))
	for m, count := range perMinute {
		w := weights[m*60 : (m+1)*60]
		total := 0.0
		for _, v := range w {
			total += v
		}
		for i, v := range w {
			if total > 0 {
				rates[m*60+i] = count * v / total
			} else { // a flat-bottom minute: spread evenly
				rates[m*60+i] = count / 60
			}
		}
	}
	return rates, nil
}

// scaleRates applies --scale-factor with the given scale type.
//
// linear multiplies every rate by factor. compound raises the busy seconds
// more than the quiet ones: with f_i a rate's share of the total and q the
// 95th percentile of the shares, rate i is multiplied by (1+f_i)^e where
// e = ln(factor)/ln(1+q), and then every rate above the 95th percentile of
// the scaled rates is clipped to it.
func scaleRates(rates []float64, factor float64, scaleType string) ([]float64, error) {
	out := make([]float64, len(rates))
	switch scaleType {
	case ScaleLinear:
		for i, r := range rates {
			out[i] = r * factor
		}
		return out, nil
	case ScaleCompound:
		total := 0.0
		for _, r := range rates {
			total += r
		}
		if total <= 0 {
			return out, nil
		}
		shares := make([]float64, len(rates))
		for i, r := range rates {
			shares[i] = r / total
		}
		q := quantile(shares, 0.95)
		if q <= 0 {
			return nil, fmt.Errorf("compound scaling needs a trace whose busiest seconds are not all zero; use --scale-type linear")
		}
		e := math.Log(factor) / math.Log1p(q)
		for i, r := range rates {
			out[i] = r * math.Pow(1+shares[i], e)
		}
		clip := quantile(out, 0.95)
		for i, r := range out {
			out[i] = math.Min(r, clip)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown scale type %q: use %s or %s", scaleType, ScaleLinear, ScaleCompound)
}

// quantile is the p-quantile by linear interpolation between closest ranks
// (NumPy's default, which ServiBench used), so compound scaling clips at
// the same place.
func quantile(x []float64, p float64) float64 {
	if len(x) == 0 {
		return 0
	}
	s := slices.Clone(x)
	slices.Sort(s)
	h := p * float64(len(s)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (h-lo)*(s[i+1]-s[i])
}

// roundRates rounds every rate to the nearest integer, half to even.
func roundRates(rates []float64) []int {
	out := make([]int, len(rates))
	for i, r := range rates {
		out[i] = int(math.RoundToEven(r))
	}
	return out
}

// skipStart drops the first skip seconds when the series is longer than
// that: the start of a sliced trace is an artefact, not load.
func skipStart(rates []int, skip int) ([]int, int) {
	if skip > 0 && len(rates) > skip {
		return rates[skip:], skip
	}
	return rates, 0
}
