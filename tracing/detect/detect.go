// Package detect owns the choice of analysis for `sb analyze_traces`: it
// tells AWS X-Ray traces, Azure Application Insights operations and
// log-line instrumentation apart by their content, never by file name.
package detect

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"sb/tracing/loglines"
)

// Format names an input format, as given to --format.
type Format string

// The formats sb analyses.
const (
	XRay     Format = "xray"
	Azure    Format = "azure"
	LogLines Format = "loglines"
)

// Formats lists the formats, for help texts.
var Formats = []Format{XRay, Azure, LogLines}

// ErrUnknown is returned (wrapped) when the content matches no format.
var ErrUnknown = errors.New("unknown trace format")

// Parse checks a --format value.
func Parse(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == strings.ToLower(strings.TrimSpace(s)) {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q: use one of xray, azure, loglines", s)
}

// sniffBytes is how much of the input Detect looks at.
const sniffBytes = 1 << 20

// Detect reads the start of r and decides its format: a JSON document whose
// first object has X-Ray's trace keys (Segments, or Id with Duration, or a
// BatchGetTraces answer's Traces) is xray; one with operation_Id, requests
// or dependencies, or a Logs query answer (tables, error), is azure; text
// holding an instrumentation line (<epoch ms><±HHMM>|LABEL) is loglines,
// also when that text is JSON (e.g. Docker's json-file logs).
func Detect(r io.Reader) (Format, error) {
	head, err := io.ReadAll(io.LimitReader(r, sniffBytes))
	if err != nil {
		return "", fmt.Errorf("read input: %w", err)
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(head)) == 0 {
		return "", fmt.Errorf("the input is empty: %w", ErrUnknown)
	}
	if f := jsonFormat(head); f != "" {
		return f, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(head))
	sc.Buffer(nil, sniffBytes)
	for n := 1; sc.Scan(); n++ {
		if _, ok, perr := loglines.ParseLine(sc.Bytes(), n); ok || perr != nil {
			return LogLines, nil
		}
	}
	return "", fmt.Errorf("neither X-Ray traces, Azure operations nor instrumentation lines (<epoch ms><±HHMM>|LABEL) in the first %d bytes: %w; name the format with --format xray|azure|loglines if you know it", min(len(head), sniffBytes), ErrUnknown)
}

// jsonFormat reads the top-level keys of the first JSON object (inside a
// top-level array if there is one) token by token, so a first trace larger
// than the sniffed head still decides.
func jsonFormat(head []byte) Format {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return ""
	}
	dec := json.NewDecoder(bytes.NewReader(t))
	tok, err := dec.Token()
	if err != nil {
		return ""
	}
	if tok == json.Delim('[') {
		if tok, err = dec.Token(); err != nil || tok != json.Delim('{') {
			return ""
		}
	}
	keys := map[string]bool{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			break
		}
		key, ok := k.(string)
		if !ok {
			break
		}
		keys[key] = true
		switch {
		case key == "Segments" || key == "Traces" || keys["Id"] && keys["Duration"]:
			return XRay
		case key == "operation_Id" || key == "requests" || key == "dependencies" || key == "tables":
			return Azure
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			break
		}
	}
	if keys["error"] && len(keys) == 1 {
		// A Logs query answer that is only an error object.
		return Azure
	}
	return ""
}

// DetectFile is Detect on a file.
func DetectFile(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	format, err := Detect(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return format, nil
}
