package loadgen

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// sparkTicks are the eight block heights of a text sparkline.
var sparkTicks = []rune("▁▂▃▄▅▆▇█")

// Show writes what `sb workload show` prints: the workload's kind, its
// per-minute series (marking minutes that are skipped) and a sparkline of
// the per-second rates k6 will be given, width characters wide (each
// character is the peak of its slice of seconds). Workloads without a rate
// series show their k6 options.
func Show(out io.Writer, w *Workload, width int) error {
	if width < 10 {
		width = 10
	}
	var b strings.Builder
	switch w.Kind {
	case KindIterations:
		fmt.Fprintf(&b, "workload %s: %d sequential iteration(s) on 1 VU\n", w.Name, w.Iterations)
	case KindCustom:
		fmt.Fprintf(&b, "workload custom: k6 options from %s\n", w.Source)
	case KindPattern:
		fmt.Fprintf(&b, "workload %s: generated %s pattern, seed %d\n", w.Name, w.Pattern, w.Seed)
	case KindTrace:
		fmt.Fprintf(&b, "workload %s: trace %s, within-minute shape seed %d\n", w.Name, w.Source, w.Seed)
	}
	if len(w.PerSecond) == 0 {
		fmt.Fprintf(&b, "k6 options:\n%s", w.K6Options)
		_, err := io.WriteString(out, b.String())
		return err
	}

	b.WriteString("\nminute  invocations\n")
	peakMinute := 0.0
	for _, v := range w.PerMinute {
		peakMinute = math.Max(peakMinute, v)
	}
	skippedMinutes := w.SkippedSeconds / 60
	for i, v := range w.PerMinute {
		bar := 0
		if peakMinute > 0 {
			bar = int(math.Round(v / peakMinute * 40))
		}
		note := ""
		if i < skippedMinutes || (i == skippedMinutes && w.SkippedSeconds%60 != 0) {
			note = "  (skipped)"
		}
		fmt.Fprintf(&b, "%6d  %11s  %s%s\n", i+1, formatCount(v), strings.Repeat("#", bar), note)
	}

	total, peak, low := 0, 0, math.MaxInt
	for _, r := range w.PerSecond {
		total += r
		peak = max(peak, r)
		low = min(low, r)
	}
	n := len(w.PerSecond)
	fmt.Fprintf(&b, "\nper-second rates k6 runs: %s, %d requests, mean %.1f/s, min %d/s, peak %d/s",
		formatDuration(n), total, float64(total)/float64(n), low, peak)
	if w.SkippedSeconds > 0 {
		fmt.Fprintf(&b, " (first %ds skipped)", w.SkippedSeconds)
	}
	b.WriteString("\n")
	b.WriteString(Sparkline(w.PerSecond, width))
	b.WriteString("\n")
	fmt.Fprintf(&b, "0s%s%s\n", strings.Repeat(" ", max(1, min(width, n)-2-len(formatDuration(n)))), formatDuration(n))
	_, err := io.WriteString(out, b.String())
	return err
}

// Sparkline draws rates in at most width characters; each character shows
// the peak of its slice of seconds on a scale from 0 to the overall peak.
func Sparkline(rates []int, width int) string {
	n := len(rates)
	if n == 0 || width <= 0 {
		return ""
	}
	cols := min(width, n)
	peak := 0
	for _, r := range rates {
		peak = max(peak, r)
	}
	var b strings.Builder
	for c := range cols {
		lo, hi := c*n/cols, (c+1)*n/cols
		top := 0
		for _, r := range rates[lo:hi] {
			top = max(top, r)
		}
		level := 0
		if peak > 0 {
			level = int(math.Round(float64(top) / float64(peak) * float64(len(sparkTicks)-1)))
		}
		b.WriteRune(sparkTicks[level])
	}
	return b.String()
}

func formatCount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}

func formatDuration(seconds int) string {
	if seconds < 60 {
		return fmt.Sprintf("%ds", seconds)
	}
	if seconds%60 == 0 {
		return fmt.Sprintf("%dm", seconds/60)
	}
	return fmt.Sprintf("%dm%ds", seconds/60, seconds%60)
}
