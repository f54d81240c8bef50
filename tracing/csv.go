package tracing

import (
	"math"
	"strconv"
	"unicode/utf8"
)

// The CSV files are written in the dialect of Python's csv module defaults
// (comma, CRLF, quotes only where needed) so that the pandas scripts written
// for ServiBench read them unchanged.

// BreakdownHeader is the header line of trace_breakdown.csv.
const BreakdownHeader = "trace_id,start_time,end_time,duration,url,num_cold_starts,errors,throttles,faults," +
	"services,longest_path_names,orchestration,trigger,container_initialization,runtime_initialization," +
	"computation,queing,overhead,external_service,unclassified\r\n"

// InvalidHeader is the header line of invalid_traces.csv.
const InvalidHeader = "trace_id,message\r\n"

// Row holds the provider's facts for one trace_breakdown.csv row; the rest
// comes from the Graph and its Breakdown.
type Row struct {
	URL                       []byte
	Errors, Throttles, Faults int
	// Services are the service tags of all spans, in span order.
	Services [][]byte
}

// AppendBreakdownRow appends one trace_breakdown.csv line. scratch is a
// reusable buffer (returned grown) for the JSON cells.
func AppendBreakdownRow(dst []byte, g *Graph, b *Breakdown, row *Row, scratch []byte) (out, scratchOut []byte) {
	dst = AppendCSVField(dst, g.TraceID)
	dst = append(dst, ',')
	dst = appendTimestamp(dst, b.Start, b.StartInt)
	dst = append(dst, ',')
	dst = appendTimestamp(dst, b.End, b.EndInt)
	dst = append(dst, ',')
	dst = appendTimedeltaCSV(dst, g.Duration)
	dst = append(dst, ',')
	dst = AppendCSVField(dst, row.URL)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(b.ColdStarts), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(row.Errors), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(row.Throttles), 10)
	dst = append(dst, ',')
	dst = strconv.AppendInt(dst, int64(row.Faults), 10)
	dst = append(dst, ',')

	scratch = scratch[:0]
	scratch = append(scratch, '[')
	for k, s := range row.Services {
		if k > 0 {
			scratch = append(scratch, ", "...)
		}
		scratch = AppendPyJSONString(scratch, s)
	}
	scratch = append(scratch, ']')
	dst = AppendCSVField(dst, scratch)
	dst = append(dst, ',')

	scratch = scratch[:0]
	scratch = append(scratch, '[')
	for k, i := range b.Path {
		if k > 0 {
			scratch = append(scratch, ", "...)
		}
		if s := &g.Spans[i]; s.HasName {
			scratch = AppendPyJSONString(scratch, s.Name)
		} else {
			scratch = append(scratch, "null"...)
		}
	}
	scratch = append(scratch, ']')
	dst = AppendCSVField(dst, scratch)

	for c := Category(0); c < NumCategories; c++ {
		dst = append(dst, ',')
		if b.Has[c] {
			dst = appendTimedeltaCSV(dst, b.Totals[c])
		}
	}
	return append(dst, '\r', '\n'), scratch
}

// appendTimedeltaCSV quotes the "N day(s), " form, which holds a comma.
func appendTimedeltaCSV(dst []byte, d Micros) []byte {
	if d >= 0 && d < usPerDay {
		return AppendTimedelta(dst, d)
	}
	dst = append(dst, '"')
	dst = AppendTimedelta(dst, d)
	return append(dst, '"')
}

func appendTimestamp(dst []byte, f float64, isInt bool) []byte {
	if isInt && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	return AppendPyFloat(dst, f)
}

// AppendInvalidRow appends one invalid_traces.csv line.
func AppendInvalidRow(dst, traceID []byte, msg string) []byte {
	dst = AppendCSVField(dst, traceID)
	dst = append(dst, ',')
	dst = appendCSVString(dst, msg)
	return append(dst, '\r', '\n')
}

func needsQuotes(c byte) bool { return c == ',' || c == '"' || c == '\r' || c == '\n' }

// AppendCSVField appends one field, quoted like Python's csv.QUOTE_MINIMAL.
func AppendCSVField(dst, f []byte) []byte {
	quote := false
	for _, c := range f {
		if needsQuotes(c) {
			quote = true
			break
		}
	}
	if !quote {
		return append(dst, f...)
	}
	dst = append(dst, '"')
	for _, c := range f {
		if c == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

func appendCSVString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if needsQuotes(s[i]) {
			dst = append(dst, '"')
			for j := 0; j < len(s); j++ {
				if s[j] == '"' {
					dst = append(dst, '"')
				}
				dst = append(dst, s[j])
			}
			return append(dst, '"')
		}
	}
	return append(dst, s...)
}

const hexDigits = "0123456789abcdef"

// AppendPyJSONString appends s as a JSON string the way Python's json.dumps
// writes it by default: ASCII only, other characters as \uXXXX (UTF-16
// surrogate pairs above U+FFFF), invalid UTF-8 as \ufffd.
func AppendPyJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			if c < utf8.RuneSelf {
				dst = appendU(dst, rune(c))
				i++
				continue
			}
			r, size := utf8.DecodeRune(s[i:])
			if r >= 0x10000 {
				r -= 0x10000
				dst = appendU(dst, 0xd800+(r>>10))
				dst = appendU(dst, 0xdc00+(r&0x3ff))
			} else {
				dst = appendU(dst, r)
			}
			i += size
			continue
		}
		i++
	}
	return append(dst, '"')
}

func appendU(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
