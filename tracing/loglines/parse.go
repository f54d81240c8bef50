// Package loglines owns sb's log-line instrumentation (design V1): an
// application prints `<unix epoch milliseconds><±HHMM or Z>|LABEL[|KEY]`
// (e.g. `1600776870140+0000|PRE_INVOKED|req-17`), and sb finds such lines in
// any text, groups them per invocation and reports the time between
// consecutive labels: timestamps.csv, label_durations.csv and a table of the
// median, p95 and p99 of every label-to-label step.
package loglines

import (
	"fmt"
	"strconv"
	"time"
)

// Mark is one instrumentation line.
type Mark struct {
	// EpochMS is the instant in Unix epoch milliseconds (UTC, whatever the
	// offset says: the offset only records the emitter's zone).
	EpochMS int64
	// Offset is the emitter's zone offset in minutes east of UTC.
	Offset int
	Label  string
	// Key identifies the invocation (request or trace id); empty when the
	// line had none.
	Key string
	// Line is the 1-based line number in the input.
	Line int
}

// UTC is the mark's instant as a UTC time.
func (m Mark) UTC() time.Time { return time.UnixMilli(m.EpochMS).UTC() }

// epochDigits is the length of `date +%s%3N` from 2001-09-09 until 2286;
// anything else is a malformed timestamp (seconds, microseconds, a typo).
const epochDigits = 13

// Zone offsets in use range from UTC−12:00 to UTC+14:00.
const (
	minOffsetMinutes = -12 * 60
	maxOffsetMinutes = 14 * 60
)

// LineError says why a line that looks like instrumentation is not valid.
type LineError struct {
	Line   int
	Reason string
	Text   string // the line, shortened for messages
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// isTokenEnd reports whether c ends a label or key: labels and keys are
// runs of printable characters other than space, '|', quotes and backslash,
// so a mark embedded in a JSON log message ("...|LABEL|key\n"}) still parses.
func isTokenEnd(c byte) bool {
	return c <= ' ' || c == '|' || c == '"' || c == '\'' || c == '\\' || c == 0x7f
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// candidate returns where a mark starts in line, or -1: a run of at least
// six digits at the start of the line or after a space or punctuation,
// followed by a zone (sign and digits, or Z) and '|'. The strict checks
// (13 digits, offset range) come later so that a near miss is reported as
// malformed instead of silently ignored.
func candidate(line []byte) int {
	for i := 0; i < len(line); i++ {
		if !isDigit(line[i]) || (i > 0 && (isDigit(line[i-1]) || isLetter(line[i-1]))) {
			continue
		}
		j := i
		for j < len(line) && isDigit(line[j]) {
			j++
		}
		if j-i < 6 || j >= len(line) {
			i = j
			continue
		}
		switch c := line[j]; {
		case c == 'Z':
			if j+1 < len(line) && line[j+1] == '|' {
				return i
			}
		case c == '+' || c == '-':
			k := j + 1
			for k < len(line) && isDigit(line[k]) {
				k++
			}
			if k > j+1 && k < len(line) && line[k] == '|' {
				return i
			}
		}
		i = j
	}
	return -1
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

// ParseLine finds a mark in one line of text (without its line break). It
// returns ok false for a line that holds no mark at all, and a *LineError
// for a line that holds something that looks like a mark but is malformed.
func ParseLine(line []byte, lineNo int) (m Mark, ok bool, err error) {
	start := candidate(line)
	if start < 0 {
		return Mark{}, false, nil
	}
	bad := func(format string, args ...any) (Mark, bool, error) {
		return Mark{}, false, &LineError{Line: lineNo, Reason: fmt.Sprintf(format, args...), Text: shorten(line)}
	}
	s := line[start:]
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i != epochDigits {
		return bad("malformed timestamp %q: want %d digits of Unix epoch milliseconds (date +%%s%%3N)", s[:i], epochDigits)
	}
	ms, perr := strconv.ParseInt(string(s[:i]), 10, 64)
	if perr != nil {
		return bad("malformed timestamp %q: %v", s[:i], perr)
	}
	m = Mark{EpochMS: ms, Line: lineNo}
	if s[i] == 'Z' {
		i++
	} else {
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		digits := s[i+1 : j]
		if len(digits) != 4 {
			return bad("malformed zone offset %q: want ±HHMM (date +%%z) or Z", s[i:j])
		}
		hh := int(digits[0]-'0')*10 + int(digits[1]-'0')
		mm := int(digits[2]-'0')*10 + int(digits[3]-'0')
		off := sign * (hh*60 + mm)
		if mm >= 60 || off < minOffsetMinutes || off > maxOffsetMinutes {
			return bad("zone offset %q out of range: want -1200 to +1400 with minutes below 60", s[i:j])
		}
		m.Offset = off
		i = j
	}
	// s[i] is '|' (guaranteed by candidate).
	fields := make([]string, 0, 2)
	for i < len(s) && s[i] == '|' {
		i++
		j := i
		for j < len(s) && !isTokenEnd(s[j]) {
			j++
		}
		fields = append(fields, string(s[i:j]))
		i = j
	}
	switch {
	case fields[0] == "":
		return bad("empty label after the timestamp")
	case len(fields) > 2:
		return bad("%d '|'-separated fields after the timestamp: a label or key must not contain '|' (want <epoch ms><±HHMM>|LABEL or ...|LABEL|KEY)", len(fields))
	case len(fields) == 2 && fields[1] == "":
		return bad("empty key after label %q", fields[0])
	}
	m.Label = fields[0]
	if len(fields) == 2 {
		m.Key = fields[1]
	}
	return m, true, nil
}

func shorten(line []byte) string {
	const max = 120
	if len(line) > max {
		return string(line[:max]) + "…"
	}
	return string(line)
}
