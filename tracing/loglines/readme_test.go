package loglines

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// snippet returns the first fenced block of the given language in README.md.
func snippet(t *testing.T, lang string) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s block in README.md", lang)
	}
	return string(m[1])
}

// runSnippet runs a README snippet and checks that what it prints parses.
func runSnippet(t *testing.T, name string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	var marks []Mark
	_, ignored, err := Scan(context.Background(), strings.NewReader(string(out)),
		func(m Mark) { marks = append(marks, m) },
		func(e LineError) { t.Errorf("%s printed a malformed mark: %v", name, &e) })
	if err != nil || ignored != 0 || len(marks) != 1 || marks[0].Label != "PRE_INVOKED" || marks[0].Key != "req-17" {
		t.Errorf("%s printed %q: marks %+v, ignored %d, %v", name, out, marks, ignored, err)
	}
}

func TestReadmeShellSnippet(t *testing.T) {
	if out, err := exec.Command("date", "+%3N").Output(); err != nil || strings.Contains(string(out), "N") {
		t.Skip("date has no %N (not GNU date)")
	}
	runSnippet(t, "sh", "-c", "REQUEST_ID=req-17\n"+snippet(t, "sh"))
}

func TestReadmePythonSnippet(t *testing.T) {
	runSnippet(t, "python3", "-c", "request_id = 'req-17'\n"+snippet(t, "python"))
}
