package loglines

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	cases := []struct {
		line   string
		ok     bool
		bad    string // substring of the reason, "" when valid or no mark
		label  string
		key    string
		ms     int64
		offset int
	}{
		{line: "1600776870140+0000|PRE_INVOKED|req-17", ok: true, label: "PRE_INVOKED", key: "req-17", ms: 1600776870140},
		{line: "1600776870140Z|INVOKED", ok: true, label: "INVOKED", ms: 1600776870140},
		{line: "1600776870140+0200|A", ok: true, label: "A", ms: 1600776870140, offset: 120},
		{line: "1600776870140-0530|A|k", ok: true, label: "A", key: "k", ms: 1600776870140, offset: -330},
		// Embedded in other log formats.
		{line: "2020-09-22T12:14:30.140Z\tINFO\t1600776870140+0000|POST|abc", ok: true, label: "POST", key: "abc", ms: 1600776870140},
		{line: `{"log":"1600776870140+0000|PRE|k1\n","stream":"stdout"}`, ok: true, label: "PRE", key: "k1", ms: 1600776870140},
		{line: "[worker] 1600776870140+0000|PRE|k1 trailing words", ok: true, label: "PRE", key: "k1", ms: 1600776870140},
		// Not marks: ignored.
		{line: "plain text line"},
		{line: ""},
		{line: "version 1.2.3|x"},
		{line: "id12345678901234+0000|A"}, // digits glued to a word
		{line: "a|b|c"},
		// Malformed marks.
		{line: "1600776870+0000|A", bad: "malformed timestamp"},
		{line: "16007768701400000+0000|A", bad: "malformed timestamp"},
		{line: "1600776870140+00|A", bad: "malformed zone offset"},
		{line: "1600776870140+1500|A", bad: "out of range"},
		{line: "1600776870140-1300|A", bad: "out of range"},
		{line: "1600776870140+0160|A", bad: "out of range"},
		{line: "1600776870140+0000|A|B|C", bad: "must not contain '|'"},
		{line: "1600776870140+0000||k", bad: "empty label"},
		{line: "1600776870140+0000|A|", bad: "empty key"},
	}
	for _, c := range cases {
		m, ok, err := ParseLine([]byte(c.line), 7)
		if c.bad != "" {
			var le *LineError
			if !errors.As(err, &le) || !strings.Contains(le.Reason, c.bad) || le.Line != 7 {
				t.Errorf("%q: err = %v, want reason with %q", c.line, err, c.bad)
			}
			continue
		}
		if err != nil || ok != c.ok {
			t.Errorf("%q: ok=%v err=%v, want ok=%v", c.line, ok, err, c.ok)
			continue
		}
		if ok && (m.Label != c.label || m.Key != c.key || m.EpochMS != c.ms || m.Offset != c.offset || m.Line != 7) {
			t.Errorf("%q: got %+v", c.line, m)
		}
	}
}

func TestQuantileMatchesNumpy(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	// numpy.percentile(range(1, 11), [50, 95, 99]) = 5.5, 9.55, 9.91
	for _, c := range []struct{ q, want float64 }{{0.5, 5.5}, {0.95, 9.55}, {0.99, 9.91}, {0, 1}, {1, 10}} {
		if got := Quantile(v, c.q); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := Quantile([]float64{4}, 0.99); got != 4 {
		t.Errorf("single value: %v", got)
	}
	if !math.IsNaN(Quantile(nil, 0.5)) {
		t.Error("empty input should be NaN")
	}
}

func writeLog(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAnalyzeFileKeyed(t *testing.T) {
	// Two interleaved invocations, one of them logged out of order (a
	// client log concatenated with a function log), plus noise.
	log := strings.Join([]string{
		"starting",
		"1600776870000+0000|PRE_INVOKED|r1",
		"1600776870005+0200|PRE_INVOKED|r2",
		"some output",
		"1600776870100Z|INVOKED|r2",
		"1600776870250+0000|POST_INVOKED|r1",
		"1600776870040+0000|INVOKED|r1",
		"1600776870190+0000|POST_INVOKED|r2",
		"1600776870+0000|BROKEN|r3",
		"",
	}, "\r\n")
	p := writeLog(t, log)
	sum, err := AnalyzeFile(context.Background(), p, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lines != 9 || sum.Marks != 6 || sum.Ignored != 2 || sum.Invalid != 1 || sum.Groups != 2 {
		t.Errorf("summary = %+v", sum)
	}
	wantTS := "key,label,epoch_ms,utc_time\r\n" +
		"r1,PRE_INVOKED,1600776870000,2020-09-22T12:14:30.000Z\r\n" +
		"r1,INVOKED,1600776870040,2020-09-22T12:14:30.040Z\r\n" +
		"r1,POST_INVOKED,1600776870250,2020-09-22T12:14:30.250Z\r\n" +
		"r2,PRE_INVOKED,1600776870005,2020-09-22T12:14:30.005Z\r\n" +
		"r2,INVOKED,1600776870100,2020-09-22T12:14:30.100Z\r\n" +
		"r2,POST_INVOKED,1600776870190,2020-09-22T12:14:30.190Z\r\n"
	if got := read(t, sum.TimestampsPath); got != wantTS {
		t.Errorf("timestamps.csv:\n%s\nwant:\n%s", got, wantTS)
	}
	wantD := "key,from_label,to_label,ms\r\n" +
		"r1,PRE_INVOKED,INVOKED,40\r\n" +
		"r1,INVOKED,POST_INVOKED,210\r\n" +
		"r2,PRE_INVOKED,INVOKED,95\r\n" +
		"r2,INVOKED,POST_INVOKED,90\r\n"
	if got := read(t, sum.DurationsPath); got != wantD {
		t.Errorf("label_durations.csv:\n%s\nwant:\n%s", got, wantD)
	}
	if len(sum.Steps) != 2 || sum.Steps[0].From != "PRE_INVOKED" || sum.Steps[0].Count != 2 ||
		sum.Steps[0].Median != 67.5 || sum.Steps[1].Median != 150 {
		t.Errorf("steps = %+v", sum.Steps)
	}
	inv := read(t, sum.InvalidPath)
	if !strings.Contains(inv, "9,\"malformed timestamp") {
		t.Errorf("invalid_lines.csv = %q", inv)
	}
	var tab bytes.Buffer
	if err := WriteTable(&tab, sum.Steps); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(tab.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "median ms") ||
		!strings.Contains(lines[1], "PRE_INVOKED") || !strings.Contains(lines[1], "67.5") ||
		!strings.Contains(lines[2], "150.0") {
		t.Errorf("table:\n%s", tab.String())
	}

	// A second run over a clean log removes the stale invalid_lines.csv.
	if err := os.WriteFile(p, []byte("1600776870000+0000|A|x\n1600776870001+0000|B|x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum2, err := AnalyzeFile(context.Background(), p, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum2.InvalidPath != "" {
		t.Error("invalid path reported for a clean log")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(p), InvalidLinesFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale invalid_lines.csv kept: %v", err)
	}
}

func TestAnalyzeFileKeylessGroups(t *testing.T) {
	log := "1000000000000+0000|START\n" +
		"1000000000010+0000|MID\n" +
		"1000000000030+0000|END\n" +
		"1000000001000+0000|START\n" +
		"1000000001005+0000|END\n" + // MID missing in this round
		"1000000002000+0000|START\n" +
		"1000000002001+0000|MID\n" +
		"1000000002004+0000|END\n"
	out := t.TempDir()
	sum, err := AnalyzeFile(context.Background(), writeLog(t, log), AnalyzeOptions{OutputDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Groups != 3 || filepath.Dir(sum.DurationsPath) != out {
		t.Errorf("summary = %+v", sum)
	}
	want := "key,from_label,to_label,ms\r\n" +
		"#1,START,MID,10\r\n#1,MID,END,20\r\n" +
		"#2,START,END,5\r\n" +
		"#3,START,MID,1\r\n#3,MID,END,3\r\n"
	if got := read(t, sum.DurationsPath); got != want {
		t.Errorf("durations:\n%s\nwant:\n%s", got, want)
	}
	if len(sum.Steps) != 3 || sum.Steps[0].Count != 2 || sum.Steps[0].Median != 5.5 ||
		sum.Steps[2].From != "START" || sum.Steps[2].To != "END" || sum.Steps[2].Count != 1 {
		t.Errorf("steps = %+v", sum.Steps)
	}
}

func TestAnalyzeFileBadInput(t *testing.T) {
	ctx := context.Background()
	if _, err := AnalyzeFile(ctx, writeLog(t, ""), AnalyzeOptions{}); !errors.Is(err, ErrNoMarks) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := AnalyzeFile(ctx, writeLog(t, "hello\nworld\n"), AnalyzeOptions{}); !errors.Is(err, ErrNoMarks) || !strings.Contains(err.Error(), "2 lines") {
		t.Errorf("no marks: %v", err)
	}
	_, err := AnalyzeFile(ctx, writeLog(t, "1600776870140+9900|A\n"), AnalyzeOptions{})
	if !errors.Is(err, ErrNoMarks) || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("only malformed: %v", err)
	}
	if _, err := AnalyzeFile(ctx, filepath.Join(t.TempDir(), "missing.log"), AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := AnalyzeFile(ctx, t.TempDir(), AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
	// An overlong line (binary junk) is skipped without losing the next line.
	long := strings.Repeat("x", 3<<20) + "\n1600776870140+0000|A|k\n1600776870141+0000|B|k"
	sum, err := AnalyzeFile(ctx, writeLog(t, long), AnalyzeOptions{})
	if err != nil || sum.Marks != 2 || sum.Lines != 3 {
		t.Errorf("long line: %+v %v", sum, err)
	}
}

func TestScanNeverPanics(t *testing.T) {
	inputs := []string{"|", "1|", "123456|", "123456+|", "123456Z", "1234567890123Z|", "1234567890123+|x",
		"1234567890123-0000", "\x00\xff1234567890123Z|\xff", "1234567890123Z|a|", "1234567890123Z|\"|k"}
	for _, in := range inputs {
		_, _, err := Scan(context.Background(), strings.NewReader(in), func(Mark) {}, func(LineError) {})
		if err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}
