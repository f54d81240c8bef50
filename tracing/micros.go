package tracing

import (
	"math"
	"strconv"
)

// Micros is a point in time (epoch microseconds) or a duration, in whole
// microseconds. All breakdown arithmetic happens on Micros so that sums are
// exact; raw float seconds are kept beside them only for the comparisons the
// algorithm defines on raw timestamps.
type Micros int64

// Seconds limits accepted by SecondsToMicros: the range of Python's datetime
// (years 1..9999), which the reference implementation converted through.
const (
	minSeconds = -62135596800.0
	maxSeconds = 253402300800.0
)

// SecondsToMicros converts epoch seconds to whole microseconds the way the
// reference did (Python's datetime.fromtimestamp and timedelta(seconds=)):
// split with modf, scale the fraction by 1e6 as a double and round half to
// even. Rounding the decimal text instead differs for values such as
// 1619760991.9165885. ok is false for NaN and values outside years 1..9999.
func SecondsToMicros(x float64) (m Micros, ok bool) {
	if math.IsNaN(x) || x <= minSeconds || x >= maxSeconds {
		return 0, false
	}
	whole, frac := math.Modf(x)
	// The explicit conversion keeps the product a rounded double (no fused
	// multiply-add on platforms that have one).
	us := math.RoundToEven(float64(frac * 1e6))
	return Micros(whole)*1_000_000 + Micros(us), true
}

const usPerDay = 86_400_000_000

// AppendTimedelta appends d written like Python's str(timedelta):
// "H:MM:SS" when the microseconds are zero, else "H:MM:SS.ffffff", with a
// "N day(s), " prefix for whole days (negative values count days down:
// -1ms is "-1 day, 23:59:59.999000").
func AppendTimedelta(dst []byte, d Micros) []byte {
	days := int64(d) / usPerDay
	rem := int64(d) % usPerDay
	if rem < 0 {
		rem += usPerDay
		days--
	}
	if days != 0 {
		dst = strconv.AppendInt(dst, days, 10)
		if days == 1 || days == -1 {
			dst = append(dst, " day, "...)
		} else {
			dst = append(dst, " days, "...)
		}
	}
	us := rem % 1_000_000
	secs := rem / 1_000_000
	dst = strconv.AppendInt(dst, secs/3600, 10)
	dst = append(dst, ':')
	dst = append2(dst, secs/60%60)
	dst = append(dst, ':')
	dst = append2(dst, secs%60)
	if us != 0 {
		dst = append(dst, '.')
		s := strconv.FormatInt(us+1_000_000, 10) // zero-padded to six digits
		dst = append(dst, s[1:]...)
	}
	return dst
}

func append2(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

// FormatTimedelta is AppendTimedelta for messages.
func FormatTimedelta(d Micros) string { return string(AppendTimedelta(nil, d)) }

// AppendPyFloat appends f written like Python's repr(float): the shortest
// decimal that round-trips, always with a decimal point or an exponent
// (1606220832.0, 1619794900.8851886, 1e+16, 1e-05).
func AppendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	// Python switches to exponent notation when the decimal point position
	// is outside (-4, 16]; the position is the exponent of 'e' format + 1.
	exp := int(math.Floor(math.Log10(math.Abs(f))))
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	// Log10 may be off by one near powers of ten; read the exponent back.
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			v, _ := strconv.Atoi(string(e[i+1:]))
			exp = v
			break
		}
	}
	decpt := exp + 1
	if decpt > -4 && decpt <= 16 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'f', -1, 64)
		for _, c := range dst[start:] {
			if c == '.' {
				return dst
			}
		}
		return append(dst, ".0"...)
	}
	return append(dst, e...)
}
