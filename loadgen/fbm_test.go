package loadgen

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// The variance of fractional Brownian motion increments over a lag k grows
// as k^(2H): estimate it over many independent paths for lags 1…64 and fit
// the slope on a log–log scale.
func TestFBMIncrementVarianceScalesAsT2H(t *testing.T) {
	const n, paths = 1024, 200
	lags := []int{1, 2, 4, 8, 16, 32, 64}
	sumSq := make([]float64, len(lags))
	count := make([]float64, len(lags))
	for p := range paths {
		noise, err := fractionalGaussianNoise(n, HurstExponent, newStream(int64(p), streamFBM))
		if err != nil {
			t.Fatal(err)
		}
		path := make([]float64, n+1)
		for i, x := range noise {
			path[i+1] = path[i] + x
		}
		for li, k := range lags {
			for i := 0; i+k <= n; i += k { // non-overlapping increments
				d := path[i+k] - path[i]
				sumSq[li] += d * d
				count[li]++
			}
		}
	}
	xs := make([]float64, len(lags))
	ys := make([]float64, len(lags))
	for li, k := range lags {
		v := sumSq[li] / count[li]
		// Unit-variance steps: Var(B(k)) = k^(2H) exactly, not just in slope.
		if want := math.Pow(float64(k), 2*HurstExponent); math.Abs(v/want-1) > 0.1 {
			t.Errorf("lag %d: variance %.3f, want %.3f", k, v, want)
		}
		xs[li], ys[li] = math.Log(float64(k)), math.Log(v)
	}
	_, slope := stat.LinearRegression(xs, ys, nil, false)
	if math.Abs(slope-2*HurstExponent) > 0.05 {
		t.Errorf("log-log slope %.3f, want 2H = %.1f", slope, 2*HurstExponent)
	}
}

// Neighbouring increments of fBm with H = 0.8 are positively correlated:
// ρ(1) = 2^(2H-1) - 1 ≈ 0.516 (H = 0.5 would give 0).
func TestFGNLagOneCorrelation(t *testing.T) {
	const n, paths = 512, 100
	var prod, sq float64
	for p := range paths {
		x, err := fractionalGaussianNoise(n, HurstExponent, newStream(int64(1000+p), streamFBM))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < n; i++ {
			prod += x[i] * x[i-1]
			sq += x[i] * x[i]
		}
	}
	want := math.Pow(2, 2*HurstExponent-1) - 1
	if got := prod / sq; math.Abs(got-want) > 0.03 {
		t.Errorf("lag-1 correlation %.3f, want %.3f", got, want)
	}
}

func TestFBMWeightsShiftedNonNegative(t *testing.T) {
	for _, n := range []int{1, 2, 60, 1200, 4321} {
		w, err := fbmWeights(n, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != n {
			t.Fatalf("%d weights for %d seconds", len(w), n)
		}
		lo := math.Inf(1)
		for _, v := range w {
			lo = math.Min(lo, v)
		}
		// Shifted by |floor(min)|: the minimum lands in [0, 1).
		if lo < 0 || lo >= 1 {
			t.Errorf("n=%d: minimum weight %v, want in [0, 1)", n, lo)
		}
	}
}
