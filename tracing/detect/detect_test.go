package detect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	bigSegment := `{"Id":"1-5fbcfc1f-0000","Duration":1.5,"Segments":[{"Id":"a","Document":"` + strings.Repeat("x", 2<<20) + `"}]}`
	cases := []struct {
		name, in string
		want     Format
	}{
		{"xray line", `{"Id":"1-5fbcfc1f-aaaa","Duration":14.963,"LimitExceeded":false,"Segments":[]}` + "\n", XRay},
		{"xray id then duration", `{"Id":"1-x","Duration":1}`, XRay},
		{"xray pretty array", "[\n  {\n    \"Segments\": []\n  }\n]", XRay},
		{"xray BatchGetTraces", `{"Traces":[],"UnprocessedTraceIds":[]}`, XRay},
		{"xray first trace beyond the head", bigSegment, XRay},
		{"azure operation", `{"operation_Id":"abc","requests":[],"dependencies":[],"traces":[]}`, Azure},
		{"azure answer", "\xef\xbb\xbf" + `{"tables":[{"name":"PrimaryResult","columns":[],"rows":[]}]}`, Azure},
		{"azure error answer", `{"error":{"code":"PartialError","message":"x"}}`, Azure},
		{"loglines", "starting\n1600776870140+0000|PRE_INVOKED|req-17\n", LogLines},
		{"loglines malformed only", "1600776870+0000|PRE\n", LogLines},
		{"docker json logs", `{"log":"1600776870140+0000|A|k\n","stream":"stdout","time":"2020-09-22T12:14:30Z"}` + "\n", LogLines},
	}
	for _, c := range cases {
		got, err := Detect(strings.NewReader(c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, in := range []string{"", "  \n", "hello world\n", `{"foo": 1}`, "[1, 2]", "{not json"} {
		if f, err := Detect(strings.NewReader(in)); !errors.Is(err, ErrUnknown) {
			t.Errorf("%q: %q, %v; want ErrUnknown", in, f, err)
		}
	}
}

func TestDetectFileIgnoresName(t *testing.T) {
	p := filepath.Join(t.TempDir(), "traces.json")
	if err := os.WriteFile(p, []byte("1600776870140Z|A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if f, err := DetectFile(p); err != nil || f != LogLines {
		t.Errorf("%q %v", f, err)
	}
	if _, err := DetectFile(p + ".missing"); err == nil {
		t.Error("missing file accepted")
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"xray", "Azure", " loglines "} {
		if _, err := Parse(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := Parse("jaeger"); err == nil || !strings.Contains(err.Error(), "xray, azure, loglines") {
		t.Errorf("jaeger: %v", err)
	}
}
