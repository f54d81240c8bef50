package loglines

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"

	"sb/internal/atomicfile"
	"sb/tracing"
)

// Output file names, written beside the input.
const (
	TimestampsFile   = "timestamps.csv"
	DurationsFile    = "label_durations.csv"
	InvalidLinesFile = "invalid_lines.csv"
)

// CSV headers.
var (
	timestampsHeader = []string{"key", "label", "epoch_ms", "utc_time"}
	durationsHeader  = []string{"key", "from_label", "to_label", "ms"}
	invalidHeader    = []string{"line", "reason", "text"}
)

// ErrNoMarks is returned (wrapped) when the input holds no instrumentation
// line at all.
var ErrNoMarks = errors.New("no instrumentation lines (<epoch ms><±HHMM>|LABEL[|KEY]) found")

// AnalyzeOptions tune AnalyzeFile. The zero value is ready to use.
type AnalyzeOptions struct {
	// OutputDir receives the CSV files; empty means the input's directory.
	OutputDir string
	// ClientMetrics is a k6 CSV output (k6_metrics.csv) whose requests,
	// tagged trace_id, are joined with the log's keys into
	// client_latency.csv; empty skips the join.
	ClientMetrics string
}

// Step is the statistics of one label-to-label step over all groups.
type Step struct {
	From, To string
	// Count is the number of durations; Median, P95 and P99 are in
	// milliseconds (linear interpolation between closest ranks, like
	// numpy's and pandas' default quantile).
	Count            int
	Median, P95, P99 float64
}

// Summary is the outcome of an analysis.
type Summary struct {
	Input                         string
	TimestampsPath, DurationsPath string
	// InvalidPath is written only when some lines were invalid.
	InvalidPath string
	// Lines read; Marks found; Ignored lines without any mark; Invalid
	// lines that looked like marks but were malformed.
	Lines, Marks, Ignored, Invalid int
	// InvalidLines holds the first invalid lines (at most MaxReported).
	InvalidLines []LineError
	// Groups is the number of invocations (distinct keys, plus groups of
	// keyless lines).
	Groups int
	// Steps in order of first appearance.
	Steps []Step
	// Join compares client- and server-side latency when
	// AnalyzeOptions.ClientMetrics was given.
	Join *Join
}

// MaxReported bounds Summary.InvalidLines; all of them go to the CSV file.
const MaxReported = 20

// keylessPrefix names the groups of lines without a key: the group number
// counts recurrences of the first keyless label.
const keylessPrefix = "#"

// maxLine bounds one line held in memory; the rest of a longer line is
// skipped (no mark is that long).
const maxLine = 1 << 20

// Scan reads marks from r. Lines holding no mark are counted in ignored;
// malformed marks are passed to onInvalid.
func Scan(ctx context.Context, r io.Reader, onMark func(Mark), onInvalid func(LineError)) (lines, ignored int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	for {
		if lines&0xfff == 0 {
			if err := ctx.Err(); err != nil {
				return lines, ignored, err
			}
		}
		chunk, rerr := br.ReadSlice('\n')
		line := chunk
		if rerr == bufio.ErrBufferFull {
			// Gather a long line up to maxLine, dropping the rest.
			long = append(long[:0], chunk...)
			for rerr == bufio.ErrBufferFull {
				chunk, rerr = br.ReadSlice('\n')
				if len(long) < maxLine {
					long = append(long, chunk[:min(len(chunk), maxLine-len(long))]...)
				}
			}
			line = long
		}
		if len(line) == 0 && rerr != nil {
			if rerr == io.EOF {
				return lines, ignored, nil
			}
			return lines, ignored, rerr
		}
		lines++
		line = bytes.TrimRight(line, "\r\n")
		m, ok, perr := ParseLine(line, lines)
		switch {
		case perr != nil:
			var le *LineError
			if errors.As(perr, &le) {
				onInvalid(*le)
			}
		case ok:
			onMark(m)
		default:
			ignored++
		}
		if rerr == io.EOF {
			return lines, ignored, nil
		} else if rerr != nil && rerr != bufio.ErrBufferFull {
			return lines, ignored, rerr
		}
	}
}

// Invocation is one group of marks: the lines of one key, or one
// recurrence of the first keyless label.
type Invocation struct {
	Key   string
	Marks []Mark
}

// Group sorts marks into invocations: marks with a key by key; marks
// without one in input order, a new group starting whenever the first
// keyless label recurs. Groups keep the order of their first mark; marks
// within a group are ordered by time (input order on ties).
func Group(marks []Mark) []Invocation {
	var groups []Invocation
	byKey := map[string]int{}
	first := ""
	keyless := -1
	n := 0
	for _, m := range marks {
		if m.Key != "" {
			gi, ok := byKey[m.Key]
			if !ok {
				gi = len(groups)
				byKey[m.Key] = gi
				groups = append(groups, Invocation{Key: m.Key})
			}
			groups[gi].Marks = append(groups[gi].Marks, m)
			continue
		}
		if first == "" {
			first = m.Label
		}
		if keyless < 0 || m.Label == first {
			n++
			keyless = len(groups)
			groups = append(groups, Invocation{Key: keylessPrefix + strconv.Itoa(n)})
		}
		groups[keyless].Marks = append(groups[keyless].Marks, m)
	}
	for _, g := range groups {
		slices.SortStableFunc(g.Marks, func(a, b Mark) int { return cmpInt(a.EpochMS, b.EpochMS) })
	}
	return groups
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// logInput is what AnalyzeFile reads, for its error messages.
var logInput = tracing.Input{Kind: "log file", IfAbsent: "pass the path of a log holding instrumentation lines",
	IfDir: "pass a log file", Empty: ErrNoMarks}

// AnalyzeFile reads instrumentation lines from the log at path and writes
// timestamps.csv and label_durations.csv beside it (or into opt.OutputDir),
// plus invalid_lines.csv when some lines were malformed.
func AnalyzeFile(ctx context.Context, path string, opt AnalyzeOptions) (Summary, error) {
	sum := Summary{Input: path}
	f, _, err := logInput.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	var marks []Mark
	var invalid []LineError
	sum.Lines, sum.Ignored, err = Scan(ctx, f,
		func(m Mark) { marks = append(marks, m) },
		func(e LineError) { invalid = append(invalid, e) })
	if err != nil {
		return sum, fmt.Errorf("read %s: %w", path, err)
	}
	sum.Marks, sum.Invalid = len(marks), len(invalid)
	sum.InvalidLines = invalid[:min(len(invalid), MaxReported)]
	if len(marks) == 0 {
		if len(invalid) > 0 {
			return sum, fmt.Errorf("%s: %d malformed instrumentation lines (first: %v) and no valid one: %w", path, len(invalid), &invalid[0], ErrNoMarks)
		}
		return sum, fmt.Errorf("%s (%d lines): %w", path, sum.Lines, ErrNoMarks)
	}

	dir := opt.OutputDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	sum.TimestampsPath = filepath.Join(dir, TimestampsFile)
	sum.DurationsPath = filepath.Join(dir, DurationsFile)
	groups := Group(marks)
	sum.Groups = len(groups)

	var ts, ds bytes.Buffer
	tw, dw := newCSV(&ts), newCSV(&ds)
	tw.Write(timestampsHeader)
	dw.Write(durationsHeader)
	type stepKey struct{ from, to string }
	stepIndex := map[stepKey]int{}
	var steps []stepKey
	var values [][]float64
	var num []byte
	for _, g := range groups {
		for i, m := range g.Marks {
			num = strconv.AppendInt(num[:0], m.EpochMS, 10)
			tw.Write([]string{g.Key, m.Label, string(num), m.UTC().Format("2006-01-02T15:04:05.000Z")})
			if i == 0 {
				continue
			}
			prev := g.Marks[i-1]
			d := m.EpochMS - prev.EpochMS
			num = strconv.AppendInt(num[:0], d, 10)
			dw.Write([]string{g.Key, prev.Label, m.Label, string(num)})
			k := stepKey{prev.Label, m.Label}
			si, ok := stepIndex[k]
			if !ok {
				si = len(steps)
				stepIndex[k] = si
				steps = append(steps, k)
				values = append(values, nil)
			}
			values[si] = append(values[si], float64(d))
		}
	}
	tw.Flush()
	dw.Flush()
	for i, k := range steps {
		v := values[i]
		slices.Sort(v)
		sum.Steps = append(sum.Steps, Step{From: k.from, To: k.to, Count: len(v),
			Median: Quantile(v, 0.5), P95: Quantile(v, 0.95), P99: Quantile(v, 0.99)})
	}
	if err := atomicfile.WriteFile(sum.TimestampsPath, ts.Bytes()); err != nil {
		return sum, err
	}
	if err := atomicfile.WriteFile(sum.DurationsPath, ds.Bytes()); err != nil {
		return sum, err
	}
	if opt.ClientMetrics != "" {
		client, err := ReadClientLatency(opt.ClientMetrics)
		if err != nil {
			return sum, fmt.Errorf("client-side latency: %w", err)
		}
		join, rows := joinClient(groups, client)
		join.Path = filepath.Join(dir, ClientLatencyFile)
		if err := atomicfile.WriteFile(join.Path, rows); err != nil {
			return sum, err
		}
		sum.Join = join
	}
	invPath := filepath.Join(dir, InvalidLinesFile)
	if len(invalid) > 0 {
		var ib bytes.Buffer
		iw := newCSV(&ib)
		iw.Write(invalidHeader)
		for _, e := range invalid {
			iw.Write([]string{strconv.Itoa(e.Line), e.Reason, e.Text})
		}
		iw.Flush()
		sum.InvalidPath = invPath
		if err := atomicfile.WriteFile(invPath, ib.Bytes()); err != nil {
			return sum, err
		}
	} else if err := os.Remove(invPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		// A stale file from an earlier run would contradict this one.
		return sum, fmt.Errorf("remove stale %s: %w", invPath, err)
	}
	return sum, nil
}

// newCSV writes Python csv's default dialect (CRLF), like the trace CSVs.
func newCSV(w io.Writer) *csv.Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw
}

// Quantile returns the q-quantile of sorted values by linear interpolation
// between closest ranks (numpy's and pandas' default, "type 7"), so the
// table agrees with what an analysis notebook computes from the CSV. gonum's
// stat.Quantile offers only the empirical and the type-4 estimates.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// WriteTable renders the steps as an aligned table of count, median, p95
// and p99 in milliseconds.
func WriteTable(w io.Writer, steps []Step) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "from\tto\tcount\tmedian ms\tp95 ms\tp99 ms\t\n")
	for _, s := range steps {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t\n", s.From, s.To, s.Count, ms(s.Median), ms(s.P95), ms(s.P99))
	}
	return tw.Flush()
}

func ms(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
