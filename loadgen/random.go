package loadgen

import (
	"math"
	"math/rand/v2"
)

// stream is the one source of randomness for workload generation. It is
// built on PCG, whose output sequence is fixed by its specification, and
// derives uniforms and normals itself rather than through math/rand's
// helpers, so a seed yields the same workload on every machine and Go release.
type stream struct {
	pcg *rand.PCG
	// spare holds the second normal of a Box–Muller pair.
	spare    float64
	hasSpare bool
}

// Stream ids keep the per-minute pattern and the within-minute shape
// independent: changing how one draws must not shift the other.
const (
	streamPattern = 0x7061747465726e // "pattern"
	streamFBM     = 0x66626d         // "fbm"
)

func newStream(seed int64, id uint64) *stream {
	return &stream{pcg: rand.NewPCG(uint64(seed), id)}
}

// uniform returns a float in [0, 1) with 53 random bits.
func (s *stream) uniform() float64 {
	return float64(s.pcg.Uint64()>>11) * 0x1p-53
}

// intn returns an integer in [lo, hi].
func (s *stream) intn(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + int(s.pcg.Uint64()%uint64(hi-lo+1))
}

// between returns a float in [lo, hi).
func (s *stream) between(lo, hi float64) float64 {
	return lo + (hi-lo)*s.uniform()
}

// normal returns a standard normal variate (Box–Muller).
func (s *stream) normal() float64 {
	if s.hasSpare {
		s.hasSpare = false
		return s.spare
	}
	u1 := 1 - s.uniform() // (0, 1]: keeps the logarithm finite
	u2 := s.uniform()
	r := math.Sqrt(-2 * math.Log(u1))
	theta := 2 * math.Pi * u2
	s.spare = r * math.Sin(theta)
	s.hasSpare = true
	return r * math.Cos(theta)
}
