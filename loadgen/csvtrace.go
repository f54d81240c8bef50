package loadgen

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// TraceColumn is the column of a workload trace CSV that holds the
// invocations of each minute (ServiBench's format).
const TraceColumn = "InvocationsPerMinute"

// ReadTraceFile reads a per-minute workload trace: a CSV file with a column
// named InvocationsPerMinute (other columns are ignored), one row per minute,
// each a non-negative number.
func ReadTraceFile(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("workload trace %s does not exist", path)
		}
		return nil, fmt.Errorf("workload trace: %w", err)
	}
	defer f.Close()
	series, err := ParseTrace(f)
	if err != nil {
		return nil, fmt.Errorf("workload trace %s: %w", path, err)
	}
	return series, nil
}

// ParseTrace parses a per-minute workload trace from CSV text.
func ParseTrace(r io.Reader) ([]float64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // tolerate ragged rows; only our column matters
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("the file is empty; it needs a %s column with one row per minute", TraceColumn)
	}
	if err != nil {
		return nil, fmt.Errorf("reading CSV: %w", err)
	}
	col := -1
	for i, name := range header {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")) // Excel's byte order mark
		if name == TraceColumn {
			col = i
			break
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("no %s column in the header %q; the file needs that column with one row per minute", TraceColumn, strings.Join(header, ","))
	}
	var series []float64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading CSV: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if col >= len(rec) {
			return nil, fmt.Errorf("line %d has no %s value", line, TraceColumn)
		}
		field := strings.TrimSpace(rec[col])
		v, err := strconv.ParseFloat(field, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("line %d: %s value %q is not a number", line, TraceColumn, field)
		}
		if v < 0 {
			return nil, fmt.Errorf("line %d: %s value %s is negative", line, TraceColumn, field)
		}
		series = append(series, v)
		if len(series) > MaxMinutes {
			return nil, fmt.Errorf("more than %d minutes (a week); split the trace", MaxMinutes)
		}
	}
	if len(series) == 0 {
		return nil, fmt.Errorf("no rows under %s; the file needs one row per minute", TraceColumn)
	}
	return series, nil
}
