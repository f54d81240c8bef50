package xray

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden CSV files in testdata")

// seg describes a (sub)segment document in milliseconds after base.
type seg struct {
	id, parent, origin, name string
	start, end               float64
	subs                     []seg
	extra                    map[string]any
}

const base = 1600000000.0

func (s seg) doc() map[string]any {
	d := map[string]any{"id": s.id, "name": s.name,
		"start_time": json.Number(strconv.FormatFloat(base+s.start/1000, 'f', -1, 64)),
		"end_time":   json.Number(strconv.FormatFloat(base+s.end/1000, 'f', -1, 64))}
	if s.parent != "" {
		d["parent_id"] = s.parent
	}
	if s.origin != "" {
		d["origin"] = s.origin
	}
	if s.origin == originAPIGateway {
		d["http"] = map[string]any{"request": map[string]any{"url": "https://api.example.com/dev/" + s.id}}
	}
	for k, v := range s.extra {
		if v == nil {
			delete(d, k)
		} else {
			d[k] = v
		}
	}
	var subs []any
	for _, c := range s.subs {
		subs = append(subs, c.doc())
	}
	if subs != nil {
		d["subsegments"] = subs
	}
	return d
}

// line renders a trace as BatchGetTraces returns it.
func line(id string, durationMs float64, segs ...seg) string {
	var ss []map[string]any
	for _, s := range segs {
		doc, _ := json.Marshal(s.doc())
		ss = append(ss, map[string]any{"Id": s.id, "Document": string(doc)})
	}
	b, _ := json.Marshal(map[string]any{"Id": id, "Duration": durationMs / 1000, "LimitExceeded": false, "Segments": ss})
	return string(b)
}

// Building blocks shaped like real Lambda traces.
var (
	gw = func(end float64, subEnd float64) seg {
		return seg{id: "a000000000000001", origin: originAPIGateway, name: "dev-app/dev", start: 0, end: end,
			subs: []seg{{id: "a000000000000002", name: "Lambda", start: 2, end: subEnd}}}
	}
	lambdaSvc = func(parent string, start, end float64) seg {
		return seg{id: "b000000000000001", parent: parent, origin: originLambda, name: "app-fn", start: start, end: end}
	}
)

type fixture struct {
	name string
	line string
	// want is "valid", or the invalid message.
	want string
}

func fixtures() []fixture {
	coldFn := seg{id: "c000000000000001", parent: "b000000000000001", origin: originLambdaFunction, name: "app-fn", start: 400, end: 985,
		subs: []seg{{id: "c000000000000002", name: "Initialization", start: 100, end: 395}}}
	coldFnCalls := coldFn
	coldFnCalls.subs = []seg{
		{id: "c000000000000002", name: "Initialization", start: 100, end: 395},
		{id: "c000000000000003", name: "Invocation", start: 401, end: 980, subs: []seg{
			{id: "c000000000000004", name: "DynamoDB", start: 420, end: 600},
			{id: "c000000000000005", name: "DynamoDB", start: 610, end: 900}}},
		{id: "c000000000000006", name: "Overhead", start: 980.5, end: 985}}
	dynamo := func(id, parent string, start, end float64) seg {
		return seg{id: id, parent: parent, origin: "AWS::DynamoDB::Table", name: "DynamoDB", start: start, end: end,
			extra: map[string]any{"inferred": true}}
	}
	return []fixture{{
		name: "cold start without following span",
		line: line("1-00000001-cold", 1000, gw(1000, 1000), lambdaSvc("a000000000000002", 5, 995), coldFn),
		want: "valid",
	}, {
		name: "cold start followed by the invocation (sync send, sync receive climbs)",
		line: line("1-00000002-coldcalls", 1000, gw(1000, 1000), lambdaSvc("a000000000000002", 5, 995), coldFnCalls,
			dynamo("d000000000000001", "c000000000000004", 420, 600), dynamo("d000000000000002", "c000000000000005", 610, 900)),
		want: "valid",
	}, {
		name: "async trigger through S3 with dwell time",
		line: line("1-00000003-async", 700,
			gw(100, 100), lambdaSvc("a000000000000002", 5, 98),
			seg{id: "c000000000000001", parent: "b000000000000001", origin: originLambdaFunction, name: "upload", start: 10, end: 95,
				subs: []seg{{id: "c000000000000007", name: "S3", start: 20, end: 90}}},
			seg{id: "e000000000000001", parent: "c000000000000007", origin: originLambda, name: "thumb", start: 300, end: 310,
				subs: []seg{{id: "e000000000000002", name: "Dwell Time", start: 300, end: 320},
					{id: "e000000000000003", name: "Attempt #1", start: 320, end: 700}}},
			seg{id: "f000000000000001", parent: "e000000000000003", origin: originLambdaFunction, name: "thumb", start: 330, end: 690}),
		want: "valid",
	}, {
		name: "integer timestamps, unicode names, errors and faults",
		line: `{"Id":"1-00000004-ints","Duration":0.1,"LimitExceeded":false,"Segments":[{"Id":"x","Document":` +
			strconv.Quote(`{"id":"a000000000000001","name":"d\u00e9v \"api\"","start_time":1600000000,"end_time":1600000000.1,"origin":"AWS::ApiGateway::Stage","http":{"request":{"url":"https://api.example.com/a,b"}},"error":true,"subsegments":[{"id":"a000000000000002","name":"Lambda","start_time":1600000000.002,"end_time":1600000000.1,"fault":true,"throttle":1}]}`) + `}]}`,
		want: "valid",
	}, {
		name: "negative time between path spans",
		line: line("1-00000005-negative", 200, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 50,
			subs: []seg{{id: "a000000000000002", origin: "AWS::S3::Bucket", name: "x", start: 30, end: 40,
				subs: []seg{{id: "a000000000000003", origin: "AWS::SQS::Queue", name: "q", start: 15, end: 200}}}}}),
		want: "Negative time difference between current (a000000000000002) and next (a000000000000003) segment.",
	}, {
		name: "missing duration",
		line: `{"Id":"1-00000006-noduration","LimitExceeded":false,"Segments":[]}`,
		want: "Missing trace duration.",
	}, {
		name: "document not JSON",
		line: `{"Id":"1-00000007-baddoc","Duration":1,"LimitExceeded":false,"Segments":[{"Id":"s1","Document":"{\"id\":"}]}`,
		want: "Document of segment s1 is not valid JSON: invalid JSON at character 6: unexpected end of input",
	}, {
		name: "no segments",
		line: `{"Id":"1-00000008-nosegments","Duration":1,"LimitExceeded":false}`,
		want: "Trace has no Segments list.",
	}, {
		name: "segment without end_time",
		line: line("1-00000009-noend", 10, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 10, extra: map[string]any{"end_time": nil}}),
		want: "Segment a000000000000001 has no end_time.",
	}, {
		name: "segment without id",
		line: line("1-00000010-noid", 10, seg{id: "a000000000000001", name: "api", start: 0, end: 10, extra: map[string]any{"id": nil}}),
		want: "Segment without id.",
	}, {
		name: "segment in progress",
		line: line("1-00000011-inprogress", 10, seg{id: "a000000000000001", name: "api", start: 0, end: 10, extra: map[string]any{"in_progress": true}}),
		want: "Segment a000000000000001 in progress.",
	}, {
		name: "subsegment in progress",
		line: line("1-00000012-subinprogress", 10, seg{id: "a000000000000001", name: "api", start: 0, end: 10,
			subs: []seg{{id: "a000000000000002", name: "x", start: 1, end: 2, extra: map[string]any{"in_progress": true}}}}),
		want: "Subsegment a000000000000002 in progress.",
	}, {
		name: "parent segment missing",
		line: line("1-00000013-incomplete", 10, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 10},
			seg{id: "b000000000000001", parent: "9999999999999999", origin: originLambda, name: "fn", start: 1, end: 9}),
		want: "Incomplete trace 1-00000013-incomplete because the parent node 9999999999999999 of node b000000000000001 is empty.",
	}, {
		name: "no logical root",
		line: line("1-00000014-noroot", 10, seg{id: "a000000000000001", parent: "b000000000000001", name: "a", start: 0, end: 10},
			seg{id: "b000000000000001", parent: "a000000000000001", name: "b", start: 1, end: 9}),
		want: "Logical root node missing.",
	}, {
		name: "root is not the earliest span",
		line: line("1-00000015-skew", 10, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 1, end: 10},
			seg{id: "b000000000000001", parent: "a000000000000002", origin: originLambda, name: "fn", start: 0, end: 9},
			seg{id: "a000000000000002", parent: "a000000000000001", name: "Lambda", start: 1, end: 9}),
		want: "Logical first trace segment a000000000000001 does not match the earliest time (sub)segment b000000000000001. Ensure that the trace is fully connected and there are no clock issues.",
	}, {
		name: "duration does not match the spans",
		line: line("1-00000016-duration", 12, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 10}),
		want: "Trace duration 0:00:00.012000 does not match the calculated trace duration 0:00:00.010000 based on start and end times. Ensure that the trace is fully connected and there are no clock issues.",
	}, {
		name: "parent loop above the latest span",
		line: line("1-00000017-loop", 20, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 10},
			seg{id: "b000000000000001", parent: "c000000000000001", name: "b", start: 1, end: 20},
			seg{id: "c000000000000001", parent: "b000000000000001", name: "c", start: 2, end: 5}),
		want: "Detected infinite loop starting from node b000000000000001",
	}, {
		name: "critical path ends in a plain span",
		line: line("1-00000018-notarget", 120, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 50,
			subs: []seg{{id: "a000000000000002", origin: "AWS::SQS::Queue", name: "q", start: 20, end: 120}}}),
		want: "'target'",
	}, {
		name: "latest span is not the last target",
		line: line("1-00000019-lasttarget", 487, seg{id: "a000000000000001", origin: "AWS::DynamoDB::Table", name: "t", start: 0, end: 477,
			subs: []seg{{id: "a000000000000002", name: "x", start: 66, end: 486,
				subs: []seg{{id: "a000000000000003", name: "y", start: 386.466, end: 487}}}}}),
		want: "Segment with latest end time (a000000000000003) does not match last target (a000000000000002) of critical path.",
	}, {
		name: "breakdown does not add up to the duration",
		line: line("1-00000020-breakdown", 331, seg{id: "a000000000000001", origin: "Custom::Thing", name: "t", start: 0.87, end: 330,
			subs: []seg{{id: "a000000000000002", name: "x", start: 184, end: 331}}}),
		want: "Trace duration 0:00:00.331000 does not match latency breakdown 0:00:00.329130 within margin 0:00:00.001001.",
	}, {
		name: "initialization span without cold start",
		line: line("1-00000021-init", 100, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 100,
			subs: []seg{{id: "a000000000000002", name: "Initialization", start: 10, end: 90}}}),
		want: "num_cold_starts (0) does not match the number of initialization segments (1).",
	}, {
		name: "root without origin needs a category",
		line: line("1-00000022-nocategory", 250, seg{id: "a000000000000001", name: "handler", start: 0, end: 250,
			subs: []seg{{id: "a000000000000002", name: "Dwell Time", start: 34, end: 248}}}),
		want: "",
	}, {
		name: "api gateway without url",
		line: line("1-00000023-nourl", 10, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 10,
			extra: map[string]any{"http": map[string]any{}}}),
		want: "Segment a000000000000001 of origin AWS::ApiGateway::Stage has no http.request.url.",
	}, {
		name: "line that is not JSON",
		line: `{"Id":"1-00000024-broken","Duration":1,`,
		want: "invalid JSON at character 39: unexpected end of input",
	}, {
		name: "duplicate of the first trace",
		line: line("1-00000001-cold", 1000, gw(1000, 1000), lambdaSvc("a000000000000002", 5, 995), coldFn),
		want: "Duplicate trace id: the same trace came first on line 1; only that one is analysed.",
	}, {
		name: "BatchGetTraces response on one line",
		line: `{"Traces":[` + line("1-00000025-response", 10, seg{id: "a000000000000001", origin: originAPIGateway, name: "api", start: 0, end: 10,
			subs: []seg{{id: "a000000000000002", origin: "AWS::S3::Bucket", name: "s3", start: 1, end: 9}}}) + `],"UnprocessedTraceIds":[]}`,
		want: "valid",
	}}
}

func TestFixtures(t *testing.T) {
	dir := t.TempDir()
	var in bytes.Buffer
	fx := fixtures()
	for _, f := range fx {
		in.WriteString(f.line + "\n\n") // blank lines are skipped
	}
	input := filepath.Join(dir, "traces.json")
	if err := os.WriteFile(input, in.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := AnalyzeFile(context.Background(), input, AnalyzeOptions{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	breakdown, _ := os.ReadFile(sum.BreakdownPath)
	invalid, _ := os.ReadFile(sum.InvalidPath)

	valid := 0
	for _, f := range fx {
		if f.want == "valid" {
			valid++
		}
	}
	if sum.Valid != valid || sum.Invalid != len(fx)-valid || sum.Duplicates != 1 {
		t.Errorf("summary %+v, want %d valid, %d invalid, 1 duplicate", sum, valid, len(fx)-valid)
	}
	rows := map[string][]string{}
	for _, l := range strings.Split(string(invalid), "\r\n")[1:] {
		if id, msg, ok := strings.Cut(l, ","); ok {
			rows[id] = append(rows[id], strings.Trim(msg, `"`))
		}
	}
	for _, f := range fx {
		id := idOf(f.line)
		if f.want == "valid" {
			if !strings.Contains(string(breakdown), "\r\n"+id+",") {
				t.Errorf("%s: no breakdown row for %s", f.name, id)
			}
			continue
		}
		msgs := rows[id]
		found := false
		for _, m := range msgs {
			found = found || m == f.want
		}
		if !found {
			t.Errorf("%s: invalid rows for %q are %q, want %q", f.name, id, msgs, f.want)
		}
	}
	golden(t, "fixtures.trace_breakdown.csv", breakdown)
	golden(t, "fixtures.invalid_traces.csv", invalid)
}

// idOf extracts a line's trace id ("" for lines that are not JSON).
func idOf(l string) string {
	var v struct{ Id string }
	if json.Unmarshal([]byte(l), &v) != nil {
		return ""
	}
	if v.Id == "" && strings.HasPrefix(l, `{"Traces"`) {
		json.Unmarshal([]byte(l[len(`{"Traces":[`):strings.LastIndex(l, `],"Unprocessed`)]), &v)
	}
	return v.Id
}

// golden compares got with testdata/NAME, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n got: %q\nwant: %q", name, got, want)
	}
}
