package xray

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sb/tracing"
	"sb/tracing/xray/synthetic"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s is not valid CSV: %v", path, err)
	}
	return rows
}

// TestSharedTraces runs the 18 real traces through AnalyzeFile: the 9 with
// expected outputs must match them byte for byte, the others must give one
// row each.
func TestSharedTraces(t *testing.T) {
	td := sharedTestdata(t)
	files, _ := filepath.Glob(filepath.Join(td, "*.jsonl"))
	if len(files) == 0 {
		t.Skipf("no traces in %s", td)
	}
	compared := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		t.Run(name, func(t *testing.T) {
			sum, err := AnalyzeFile(context.Background(), f, AnalyzeOptions{OutputDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Valid+sum.Invalid != 1 {
				t.Errorf("got %d valid + %d invalid rows, want 1", sum.Valid, sum.Invalid)
			}
			for _, out := range []struct{ got, suffix string }{{sum.BreakdownPath, ".trace_breakdown.csv"}, {sum.InvalidPath, ".invalid_traces.csv"}} {
				want, err := os.ReadFile(filepath.Join(td, "expected", name+out.suffix))
				if errors.Is(err, os.ErrNotExist) {
					readCSV(t, out.got) // well-formed at least
					continue
				}
				got, _ := os.ReadFile(out.got)
				if !bytes.Equal(got, want) {
					t.Errorf("%s\n got: %q\nwant: %q", out.suffix, got, want)
				}
				compared++
			}
		})
	}
	t.Logf("compared %d expected files", compared)
}

func TestAnalyzeFileBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := AnalyzeFile(ctx, filepath.Join(t.TempDir(), "traces.json"), AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := AnalyzeFile(ctx, t.TempDir(), AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	empty := writeFile(t, "traces.json", nil)
	if _, err := AnalyzeFile(ctx, empty, AnalyzeOptions{}); !errors.Is(err, ErrNoTraces) {
		t.Errorf("empty file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(empty), BreakdownFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("empty input left a breakdown file")
	}
	blank := writeFile(t, "traces.json", []byte("\n  \n\r\n"))
	if _, err := AnalyzeFile(ctx, blank, AnalyzeOptions{}); !errors.Is(err, ErrNoTraces) {
		t.Errorf("blank file: %v", err)
	}
}

func TestAnalyzeGarbageAndTruncation(t *testing.T) {
	good := synthetic.Trace(3, 0)
	var in bytes.Buffer
	in.Write(good)
	in.WriteString("\n\x00\x01\xff\xfe garbage \x89PNG\r\n")
	in.Write(synthetic.Trace(3, 1))
	in.WriteString("\n")
	in.Write(synthetic.Trace(3, 2)[:300]) // truncated last line, no newline
	path := writeFile(t, "traces.json", in.Bytes())
	sum, err := AnalyzeFile(context.Background(), path, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Valid != 2 || sum.Invalid != 2 {
		t.Errorf("got %+v, want 2 valid and 2 invalid", sum)
	}
	rows := readCSV(t, sum.InvalidPath)
	if len(rows) != 3 || rows[1][0] != "" || !strings.Contains(rows[1][1], "invalid JSON") ||
		rows[2][0] != "" || !strings.Contains(rows[2][1], "unexpected end of input") {
		t.Errorf("invalid rows %q", rows)
	}
}

func TestAnalyzeInputShapes(t *testing.T) {
	one := synthetic.Trace(5, 0)
	two := synthetic.Trace(5, 1)
	pretty := func(b []byte) []byte {
		var out bytes.Buffer
		if err := jsonIndent(&out, b); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	cases := map[string][]byte{
		"one pretty-printed trace":       pretty(one),
		"pretty-printed traces in a row": append(append(pretty(one), '\n'), pretty(two)...),
		"pretty BatchGetTraces response": pretty([]byte(`{"Traces":[` + string(one) + `,` + string(two) + `],"UnprocessedTraceIds":[]}`)),
		"compact BatchGetTraces":         []byte(`{"Traces":[` + string(one) + `,` + string(two) + `],"UnprocessedTraceIds":[]}`),
		"JSON array of traces":           pretty([]byte(`[` + string(one) + `,` + string(two) + `]`)),
		"byte order mark and CRLF":       []byte("\xef\xbb\xbf" + string(one) + "\r\n" + string(two) + "\r\n"),
	}
	var want []string
	for _, l := range [][]byte{one, two} {
		s := &bufSink{}
		var ta traceAnalyzer
		ta.analyzeValue(l, s)
		want = append(want, s.valid.String()+s.invalid.String())
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			var b, i bytes.Buffer
			sum, err := Analyze(context.Background(), bytes.NewReader(data), int64(len(data)), &b, &i, AnalyzeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := 2
			if name == "one pretty-printed trace" {
				n = 1
			}
			if sum.Valid+sum.Invalid != n {
				t.Fatalf("got %+v, want %d traces", sum, n)
			}
			got := strings.TrimPrefix(b.String(), tracing.BreakdownHeader) + strings.TrimPrefix(i.String(), tracing.InvalidHeader)
			if !strings.Contains(got, want[0]) || (n == 2 && !strings.Contains(got, want[1])) {
				t.Errorf("rows differ from the one-line analysis:\n%s", got)
			}
		})
	}
	// A syntax error in a pretty-printed file ends it with an invalid row.
	var b, i bytes.Buffer
	bad := append(pretty(one), []byte("\n{\n \"Id\": oops\n}\n")...)
	sum, err := Analyze(context.Background(), bytes.NewReader(bad), 0, &b, &i, AnalyzeOptions{})
	if err != nil || sum.Valid+sum.Invalid != 2 || !strings.Contains(i.String(), "invalid JSON") {
		t.Errorf("broken pretty file: %+v %v\n%s", sum, err, i.String())
	}
}

// TestAnalyzeOrderAndWorkers checks that the parallel pipeline writes the
// same bytes, in input order, as one trace at a time, across many chunks.
func TestAnalyzeOrderAndWorkers(t *testing.T) {
	var in bytes.Buffer
	if err := synthetic.Write(&in, synthetic.Options{Traces: 400, Seed: 11, InvalidEvery: 7}); err != nil {
		t.Fatal(err)
	}
	if err := synthetic.WriteRandom(&in, 2000, 12); err != nil {
		t.Fatal(err)
	}
	data := in.Bytes()
	if len(data) < 3*chunkSize {
		t.Fatalf("input of %d bytes does not span several chunks", len(data))
	}
	var want bufSink
	want.valid.WriteString(tracing.BreakdownHeader)
	want.invalid.WriteString(tracing.InvalidHeader)
	var ta traceAnalyzer
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte{'\n'}) {
		ta.analyzeValue(l, &want)
	}
	var progress []Progress
	for _, workers := range []int{1, 2, 5} {
		var b, i bytes.Buffer
		progress = progress[:0]
		sum, err := Analyze(context.Background(), bytes.NewReader(data), int64(len(data)), &b, &i,
			AnalyzeOptions{Workers: workers, Progress: func(p Progress) { progress = append(progress, p) }})
		if err != nil {
			t.Fatal(err)
		}
		if b.String() != want.valid.String() || i.String() != want.invalid.String() {
			t.Errorf("workers=%d: output differs from the sequential analysis", workers)
		}
		if sum.Valid == 0 || sum.Invalid == 0 || sum.Bytes != int64(len(data)) {
			t.Errorf("workers=%d: summary %+v", workers, sum)
		}
		last := progress[len(progress)-1]
		if last.Bytes != int64(len(data)) || last.TotalBytes != int64(len(data)) || last.Valid != sum.Valid || last.Invalid != sum.Invalid {
			t.Errorf("workers=%d: final progress %+v, summary %+v", workers, last, sum)
		}
	}
}

// TestRandomTracesRows checks every row of many random traces: CSV well
// formed, and for valid traces categories that add up to the duration
// within the margin (the breakdown's own check, seen from outside).
func TestRandomTracesRows(t *testing.T) {
	var in bytes.Buffer
	if err := synthetic.WriteRandom(&in, 3000, 99); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "traces.json", in.Bytes())
	sum, err := AnalyzeFile(context.Background(), path, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Valid+sum.Invalid != 3000 || sum.Valid < 300 {
		t.Fatalf("summary %+v", sum)
	}
	rows := readCSV(t, sum.BreakdownPath)
	for _, r := range rows[1:] {
		if len(r) != 20 {
			t.Fatalf("row with %d fields: %q", len(r), r)
		}
		total := parseTimedelta(t, r[3])
		var sum int64
		for _, c := range r[11:] {
			if c != "" {
				sum += parseTimedelta(t, c)
			}
		}
		if d := total - sum; d >= 1001 || d <= -1001 {
			t.Errorf("trace %s: categories sum to %dµs, duration %dµs", r[0], sum, total)
		}
	}
	if got := len(readCSV(t, sum.InvalidPath)) - 1; got != sum.Invalid {
		t.Errorf("%d invalid rows, summary says %d", got, sum.Invalid)
	}
}

// parseTimedelta reads Python's timedelta text back into microseconds.
func parseTimedelta(t *testing.T, s string) int64 {
	t.Helper()
	var days int64
	if d, rest, ok := strings.Cut(s, " day"); ok {
		var err error
		if days, err = parseInt(d); err != nil {
			t.Fatalf("timedelta %q", s)
		}
		s = rest[strings.Index(rest, ", ")+2:]
	}
	var h, m, sec, us int64
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		t.Fatalf("timedelta %q", s)
	}
	h, _ = parseInt(parts[0])
	m, _ = parseInt(parts[1])
	secPart, frac, _ := strings.Cut(parts[2], ".")
	sec, _ = parseInt(secPart)
	if frac != "" {
		us, _ = parseInt(frac)
	}
	return ((days*24+h)*60+m)*60*1e6 + sec*1e6 + us
}

func TestAnalyzeCancelKeepsPartialResults(t *testing.T) {
	var in bytes.Buffer
	if err := synthetic.Write(&in, synthetic.Options{Traces: 3000, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "traces.json", in.Bytes())
	ctx, cancel := context.WithCancel(context.Background())
	sum, err := AnalyzeFile(ctx, path, AnalyzeOptions{Workers: 1, Progress: func(p Progress) {
		if p.Valid > 0 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want cancellation", err)
	}
	if sum.Valid == 0 || sum.Valid+sum.Invalid >= 3000 {
		t.Errorf("summary %+v: want some but not all traces", sum)
	}
	if rows := readCSV(t, sum.BreakdownPath); len(rows)-1 != sum.Valid {
		t.Errorf("%d rows written, summary says %d", len(rows)-1, sum.Valid)
	}
}

func TestAnalyzeFileReplacesAndOutputDir(t *testing.T) {
	path := writeFile(t, "traces.json", append(synthetic.Trace(1, 0), '\n'))
	sum, err := AnalyzeFile(context.Background(), path, AnalyzeOptions{})
	if err != nil || sum.Replaced || sum.BreakdownPath != filepath.Join(filepath.Dir(path), BreakdownFile) {
		t.Fatalf("first run: %+v %v", sum, err)
	}
	sum, err = AnalyzeFile(context.Background(), path, AnalyzeOptions{})
	if err != nil || !sum.Replaced {
		t.Fatalf("second run: %+v %v", sum, err)
	}
	out := t.TempDir()
	sum, err = AnalyzeFile(context.Background(), path, AnalyzeOptions{OutputDir: out})
	if err != nil || filepath.Dir(sum.InvalidPath) != out {
		t.Fatalf("output dir: %+v %v", sum, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if sum.InvalidPercent() != 0 {
		t.Errorf("invalid percent %v", sum.InvalidPercent())
	}
}

func TestAnalyzeOverlongLine(t *testing.T) {
	defer func(old int) { maxLine = old }(maxLine)
	maxLine = 2 * chunkSize
	big := bytes.Repeat([]byte("x"), maxLine+10)
	data := append(append(append([]byte(nil), synthetic.Trace(1, 0)...), '\n'), big...)
	data = append(append(data, '\n'), synthetic.Trace(1, 1)...)
	var b, i bytes.Buffer
	sum, err := Analyze(context.Background(), bytes.NewReader(data), 0, &b, &i, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Valid != 2 || sum.Invalid != 1 || !strings.Contains(i.String(), "Line 2 is longer than") {
		t.Errorf("summary %+v\n%s", sum, i.String())
	}
}
