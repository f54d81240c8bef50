package xray

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"sb/tracing/xray/synthetic"
)

// FuzzReaderValidity checks that the hand-written decoder accepts exactly
// what encoding/json accepts, and decodes strings the same way.
func FuzzReaderValidity(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,"a\u00e9\"\\",true,false,null]`, `{"a":{"b":[{}]}}`, `"\ud83d\ude00"`,
		`01`, `1.`, `-`, `"\x01"`, `{"a" 1}`, `[1,]`, `"\u12"`, `1e+`, ` [ ] `, `"abcdefghijklmnop\"qrstuvwxyz0123"`} {
		f.Add([]byte(s))
	}
	f.Add(synthetic.Trace(1, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := reader{data: data}
		_, err := r.skip(0)
		if err == nil {
			err = r.end()
		}
		if got, want := err == nil, json.Valid(data); got != want {
			t.Fatalf("valid=%v (%v), encoding/json says %v for %q", got, err, want, data)
		}
		r = reader{data: data}
		if err != nil || r.peek() != '"' {
			return
		}
		dec, err := r.appendString(nil)
		if err != nil {
			t.Fatalf("appendString rejected a valid string %q: %v", data, err)
		}
		var want string
		if json.Unmarshal(data, &want) == nil && string(dec) != want && isValidUTF8NoSurrogate(want) {
			t.Fatalf("decoded %q as %q, encoding/json gives %q", data, dec, want)
		}
		r = reader{data: data}
		raw, esc, err := r.str()
		if err != nil {
			t.Fatal(err)
		}
		if !esc && string(raw) != string(dec) || esc && string(unescape(nil, raw)) != string(dec) {
			t.Fatalf("str+unescape and appendString differ for %q", data)
		}
	})
}

// isValidUTF8NoSurrogate skips strings where encoding/json substitutes
// U+FFFD differently for broken input (both are acceptable decodings).
func isValidUTF8NoSurrogate(s string) bool {
	for _, r := range s {
		if r == 0xfffd {
			return false
		}
	}
	return true
}

func FuzzParseFloatFast(f *testing.F) {
	for _, s := range []string{"1606220832", "1.606220832E9", "1619794900.8851886", "0.004", "-0", "1e22", "123456789012345678901", "9007199254740993"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := reader{data: []byte(s)}
		num, err := r.number()
		if err != nil || r.i != len(s) {
			return
		}
		got, isInt, ok := parseFloatFast(num)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseFloatFast(%q) = %v, strconv gives %v (%v)", s, got, want, err)
		}
		if wantInt := !containsAny(s, ".eE"); isInt != wantInt {
			t.Fatalf("parseFloatFast(%q) isInt=%v", s, isInt)
		}
	})
}

func containsAny(s, chars string) bool {
	for _, c := range s {
		for _, d := range chars {
			if c == d {
				return true
			}
		}
	}
	return false
}

// FuzzAnalyzeValue feeds arbitrary lines to the analysis: it must produce
// a row (at least one: a response holds several traces) and never panic.
func FuzzAnalyzeValue(f *testing.F) {
	f.Add(synthetic.Trace(1, 0))
	f.Add(synthetic.Trace(1, 2))
	f.Add([]byte(`{"Traces":[{"Id":"x"}]}`))
	f.Add([]byte(`{"Id":"1","Duration":1,"Segments":[{"Document":"{\"id\":\"a\",\"start_time\":1,\"end_time\":2,\"subsegments\":[{\"id\":\"a\",\"start_time\":1,\"end_time\":2}]}"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ta traceAnalyzer
		s := &countSink{}
		ta.analyzeValue(data, s)
		if s.n == 0 {
			t.Fatalf("no row for %q", data)
		}
	})
}

type countSink struct{ n int }

func (c *countSink) row(bool, []byte, []byte) { c.n++ }
