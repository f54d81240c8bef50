package loadgen

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/dsp/fourier"
)

// HurstExponent is the self-similarity of the within-minute shape; 0.8 gives
// the persistent, bursty second-to-second behaviour seen in production traces.
const HurstExponent = 0.8

// fractionalGaussianNoise returns n consecutive increments of fractional
// Brownian motion with Hurst exponent h and unit variance per step, drawn
// exactly (not approximately) with the Davies–Harte circulant embedding:
// the autocovariance of the increments is embedded in a circulant matrix of
// size 2n whose eigenvalues, computed by an FFT, give the spectral weights of
// a Gaussian vector with exactly that covariance.
func fractionalGaussianNoise(n int, h float64, s *stream) ([]float64, error) {
	if n <= 0 {
		return nil, nil
	}
	if n == 1 {
		return []float64{s.normal()}, nil
	}
	m := 2 * n
	// First row of the circulant: γ(0..n), then γ(n-1..1).
	row := make([]float64, m)
	for k := 0; k <= n; k++ {
		row[k] = fgnCovariance(k, h)
	}
	for k := n + 1; k < m; k++ {
		row[k] = row[m-k]
	}
	fft := fourier.NewFFT(m)
	eig := fft.Coefficients(nil, row) // m/2+1 values; real because row is symmetric
	lambda := make([]float64, n+1)
	for k := range lambda {
		l := real(eig[k])
		if l < 0 {
			// fGn's embedding is non-negative definite for every H in (0, 1);
			// tiny negatives are rounding, a large one a broken computation.
			if l < -1e-8*float64(m) {
				return nil, fmt.Errorf("fractional Brownian motion: circulant embedding has a negative eigenvalue %g", l)
			}
			l = 0
		}
		lambda[k] = l
	}
	coeff := make([]complex128, n+1)
	fm := float64(m)
	coeff[0] = complex(math.Sqrt(lambda[0]/fm)*s.normal(), 0)
	for k := 1; k < n; k++ {
		a := math.Sqrt(lambda[k] / (2 * fm))
		re := s.normal()
		im := s.normal()
		coeff[k] = complex(a*re, a*im)
	}
	coeff[n] = complex(math.Sqrt(lambda[n]/fm)*s.normal(), 0)
	// The unnormalised inverse transform of the Hermitian spectrum is a real
	// Gaussian sequence with covariance row[j-l]; its first n values are the
	// increments.
	seq := fft.Sequence(nil, coeff)
	return seq[:n], nil
}

// fgnCovariance is the autocovariance at lag k of unit-variance fractional
// Gaussian noise.
func fgnCovariance(k int, h float64) float64 {
	fk := float64(k)
	h2 := 2 * h
	return 0.5 * (math.Pow(math.Abs(fk+1), h2) - 2*math.Pow(fk, h2) + math.Pow(math.Abs(fk-1), h2))
}

// fbmPathSpan and fbmMagnitude size the sample path as ServiBench does (the
// whole series spans 10 time units and values are multiplied by 100), so the
// within-minute variation of a trace has the same feel in both tools. The
// magnitude matters because the path is shifted by the floor of its minimum.
const (
	fbmPathSpan  = 10.0
	fbmMagnitude = 100.0
)

// fbmWeights returns n non-negative weights, one per second: a fractional
// Brownian motion path B(0), B(Δ), …, B((n-1)Δ) with Δ = fbmPathSpan/n,
// scaled by fbmMagnitude and shifted up by the absolute value of the floor of
// its minimum.
func fbmWeights(n int, seed int64) ([]float64, error) {
	if n <= 0 {
		return nil, nil
	}
	noise, err := fractionalGaussianNoise(n-1, HurstExponent, newStream(seed, streamFBM))
	if err != nil {
		return nil, err
	}
	// Self-similarity: increments over a step Δ have standard deviation Δ^H.
	step := math.Pow(fbmPathSpan/float64(n), HurstExponent) * fbmMagnitude
	path := make([]float64, n)
	for i, x := range noise {
		path[i+1] = path[i] + x*step
	}
	minimum := path[0]
	for _, v := range path {
		minimum = math.Min(minimum, v)
	}
	shift := math.Abs(math.Floor(minimum))
	for i := range path {
		path[i] += shift
	}
	return path, nil
}
