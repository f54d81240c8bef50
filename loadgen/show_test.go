package loadgen

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestShowPattern(t *testing.T) {
	w, err := Plan("spikes", defaults(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Show(&out, w, 60); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	lines := strings.Split(text, "\n")
	minuteRows, skipped := 0, 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] != "minute" && strings.Trim(f[0], "0123456789") == "" {
			minuteRows++
			if strings.HasSuffix(l, "(skipped)") {
				skipped++
			}
		}
	}
	if minuteRows != 20 || skipped != 3 {
		t.Errorf("%d minute rows, %d marked skipped; want 20 and 3:\n%s", minuteRows, skipped, text)
	}
	spark := ""
	for _, l := range lines {
		if strings.ContainsAny(l, "▁█") {
			spark = l
		}
	}
	if utf8.RuneCountInString(spark) != 60 {
		t.Errorf("sparkline %q is %d wide, want 60", spark, utf8.RuneCountInString(spark))
	}
	if !strings.Contains(text, "17m") || !strings.Contains(text, "first 180s skipped") {
		t.Errorf("duration or skip missing:\n%s", text)
	}
}

func TestShowIterations(t *testing.T) {
	w, err := Plan("5", defaults(t))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Show(&out, w, 80); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "5 sequential iteration") || !strings.Contains(out.String(), `"iterations": 5`) {
		t.Errorf("got:\n%s", out.String())
	}
}

func TestSparkline(t *testing.T) {
	if got := Sparkline([]int{0, 1, 2, 3, 4, 5, 6, 7}, 8); got != "▁▂▃▄▅▆▇█" {
		t.Errorf("got %q", got)
	}
	// Each character is the peak of its slice of seconds.
	if got := Sparkline([]int{0, 7, 0, 0, 0, 0}, 3); got != "█▁▁" {
		t.Errorf("got %q", got)
	}
	if got := Sparkline([]int{3, 3}, 10); got != "██" {
		t.Errorf("fewer seconds than width: %q", got)
	}
}
