package azure

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fixtures below are operations as Download writes them, built from
// the Application Insights data model (workspace column names), with
// hand-computed breakdowns.

var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func ts(ms float64) string {
	return t0.Add(time.Duration(ms * float64(time.Millisecond))).Format("2006-01-02T15:04:05.0000000Z")
}

type kv map[string]any

func row(base kv, extra []kv) Row {
	r := Row{}
	for k, v := range base {
		r[k] = v
	}
	for _, e := range extra {
		for k, v := range e {
			r[k] = v
		}
	}
	return r
}

func req(op, id, parent, name string, startMs, durMs float64, extra ...kv) Row {
	return row(kv{"TimeGenerated": ts(startMs), "Id": id, "ParentId": parent, "OperationId": op, "Name": name,
		"DurationMs": durMs, "Success": true, "ResultCode": "200", "AppRoleInstance": "", "Url": ""}, extra)
}

func dep(op, id, parent, name, typ string, startMs, durMs float64, extra ...kv) Row {
	return row(kv{"TimeGenerated": ts(startMs), "Id": id, "ParentId": parent, "OperationId": op, "Name": name,
		"DurationMs": durMs, "DependencyType": typ, "Success": true, "ResultCode": "200", "Target": "t"}, extra)
}

func trace(op, msg string, atMs float64, extra ...kv) Row {
	return row(kv{"TimeGenerated": ts(atMs), "OperationId": op, "Message": msg, "SeverityLevel": 1.0}, extra)
}

func opLine(t *testing.T, op Operation) string {
	t.Helper()
	b, err := json.Marshal(op)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type result struct {
	valid   []map[string]string
	invalid []map[string]string
	sum     Summary
}

func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, c := range recs[0] {
			m[c] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func analyzeLines(t *testing.T, lines ...string) result {
	t.Helper()
	p := filepath.Join(t.TempDir(), "traces.json")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := AnalyzeFile(context.Background(), p, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return result{valid: readCSV(t, sum.BreakdownPath), invalid: readCSV(t, sum.InvalidPath), sum: sum}
}

// expect compares the named columns of a breakdown row.
func expect(t *testing.T, name string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q", name, k, got[k], v)
		}
	}
}

func only(t *testing.T, r result) map[string]string {
	t.Helper()
	if len(r.valid) != 1 || len(r.invalid) != 0 {
		t.Fatalf("want one valid operation, got %d valid, invalid: %v", len(r.valid), r.invalid)
	}
	return r.valid[0]
}

func TestSyncHTTPChain(t *testing.T) {
	const op = "0af7651916cd43dd8448eb211c80319c"
	r := analyzeLines(t, opLine(t, Operation{ID: op,
		Requests: []Row{
			req(op, "r1", op, "HttpF1", 0, 100, kv{"Url": "https://app.azurewebsites.net/api/f1"}),
			req(op, "r2", "d1", "HttpF2", 15, 70),
		},
		Dependencies: []Row{
			dep(op, "d1", "r1", "GET /api/f2", "HTTP", 10, 80),
			dep(op, "d2", "r2", "PUT blob", "Azure blob", 20, 30),
		},
	}))
	expect(t, "sync chain", only(t, r), map[string]string{
		"trace_id":                 op,
		"start_time":               "1714557600.0",
		"end_time":                 "1714557600.1",
		"duration":                 "0:00:00.100000",
		"url":                      "https://app.azurewebsites.net/api/f1",
		"num_cold_starts":          "0",
		"services":                 `["Request", "HTTP", "Request", "Azure blob"]`,
		"longest_path_names":       `["operation", "HttpF1", "GET /api/f2", "HttpF2", "PUT blob"]`,
		"computation":              "0:00:00.060000",
		"trigger":                  "0:00:00.010000",
		"external_service":         "0:00:00.030000",
		"orchestration":            "",
		"container_initialization": "",
		"runtime_initialization":   "",
		"unclassified":             "0:00:00",
		"errors":                   "0", "faults": "0", "throttles": "0",
	})
}

func TestQueueTrigger(t *testing.T) {
	const op = "op-queue"
	r := analyzeLines(t, opLine(t, Operation{ID: op,
		Requests: []Row{
			req(op, "r1", "", "HttpStart", 0, 50),
			req(op, "r2", "d1", "QueueWorker", 300, 100),
		},
		Dependencies: []Row{dep(op, "d1", "r1", "Enqueue", "Azure queue", 10, 10)},
		Traces:       []Row{trace(op, "Executing 'Functions.QueueWorker'", 300)},
	}))
	expect(t, "queue", only(t, r), map[string]string{
		"duration":           "0:00:00.400000",
		"longest_path_names": `["operation", "HttpStart", "Enqueue", "trigger", "QueueWorker"]`,
		"computation":        "0:00:00.110000",
		"external_service":   "0:00:00.010000",
		"trigger":            "0:00:00.280000",
		"num_cold_starts":    "0",
	})
}

func TestBlobTrigger(t *testing.T) {
	const op = "op-blob"
	r := analyzeLines(t, opLine(t, Operation{ID: op,
		Requests: []Row{
			req(op, "r1", op, "Upload", 0, 80),
			req(op, "r2", "d1", "BlobTrigger", 1500, 200),
		},
		Dependencies: []Row{
			dep(op, "d1", "r1", "PUT container/img.png", "Azure blob", 5, 55),
			dep(op, "d2", "r2", "POST https://vision.example.com/analyze", "HTTP", 1550, 100),
		},
	}))
	expect(t, "blob", only(t, r), map[string]string{
		"duration":         "0:00:01.700000",
		"computation":      "0:00:00.105000",
		"external_service": "0:00:00.155000",
		"trigger":          "0:00:01.440000",
		"services":         `["Request", "Azure blob", "Request", "HTTP"]`,
	})
}

func TestDurableFanOut(t *testing.T) {
	const op = "op-durable"
	props := func(typ string) kv {
		return kv{"Properties": `{"durabletask.type":"` + typ + `","durabletask.task.name":"Hello"}`}
	}
	r := analyzeLines(t, opLine(t, Operation{ID: op,
		Requests: []Row{
			req(op, "r0", op, "HttpStart", 0, 30),
			req(op, "r1", "d0", "orchestration:Hello", 50, 450, props("orchestration")),
			req(op, "r2a", "d1a", "activity:SayHello", 80, 100, props("activity")),
			req(op, "r2b", "d1b", "activity:SayHello", 90, 190, props("activity")),
			req(op, "r2c", "d1c", "activity:SayHello", 100, 140, props("activity")),
		},
		Dependencies: []Row{
			dep(op, "d0", "r0", "create_orchestration:Hello", "InProc", 5, 3),
			dep(op, "d1a", "r1", "activity:SayHello", "InProc", 60, 140),
			dep(op, "d1b", "r1", "activity:SayHello", "InProc", 60, 240),
			dep(op, "d1c", "r1", "activity:SayHello", "InProc", 60, 190),
		},
	}))
	expect(t, "durable", only(t, r), map[string]string{
		"duration": "0:00:00.500000",
		"longest_path_names": `["operation", "HttpStart", "create_orchestration:Hello", "trigger", ` +
			`"orchestration:Hello", "activity:SayHello", "activity:SayHello"]`,
		"computation":      "0:00:00.195000",
		"orchestration":    "0:00:00.263000",
		"trigger":          "0:00:00.042000",
		"external_service": "",
	})
}

func TestColdStarts(t *testing.T) {
	const a, b, c = "op-cold", "op-warm", "op-cold-http"
	lines := []string{
		// The first operation: both instances serve their first request;
		// inst-b's start-up traces are in the operation.
		opLine(t, Operation{ID: a,
			Requests: []Row{
				req(a, "r1", "", "HttpStart", 0, 50, kv{"AppRoleInstance": "inst-a"}),
				req(a, "r2", "d1", "QueueWorker", 300, 100, kv{"AppRoleInstance": "inst-b"}),
			},
			Dependencies: []Row{dep(a, "d1", "r1", "Enqueue", "Azure queue", 10, 10)},
			Traces: []Row{
				trace(a, "Initializing Host. OperationId: 'x'.", 100, kv{"AppRoleInstance": "inst-b"}),
				trace(a, "Host started (120ms)", 250, kv{"AppRoleInstance": "inst-b"}),
			},
		}),
		// The same instances later: warm.
		opLine(t, Operation{ID: b,
			Requests: []Row{
				req(b, "r1", "", "HttpStart", 1000, 50, kv{"AppRoleInstance": "inst-a"}),
				req(b, "r2", "d1", "QueueWorker", 1100, 100, kv{"AppRoleInstance": "inst-b"}),
			},
			Dependencies: []Row{dep(b, "d1", "r1", "Enqueue", "Azure queue", 1010, 10)},
		}),
		// A new instance behind a synchronous HTTP call, without start-up
		// traces: the whole wait is runtime initialization.
		opLine(t, Operation{ID: c,
			Requests: []Row{
				req(c, "r1", "", "HttpF1", 2000, 100, kv{"AppRoleInstance": "inst-a"}),
				req(c, "r2", "d1", "HttpF2", 2030, 50, kv{"AppRoleInstance": "inst-c"}),
			},
			Dependencies: []Row{dep(c, "d1", "r1", "GET /api/f2", "HTTP", 2010, 80)},
		}),
	}
	r := analyzeLines(t, lines...)
	if len(r.valid) != 3 || len(r.invalid) != 0 {
		t.Fatalf("valid %d, invalid %v", len(r.valid), r.invalid)
	}
	expect(t, "cold", r.valid[0], map[string]string{
		"trace_id":                 a,
		"num_cold_starts":          "2", // the root request's start-up is before the trace: counted only
		"longest_path_names":       `["operation", "HttpStart", "Enqueue", "trigger", "QueueWorker", "Initialization"]`,
		"container_initialization": "0:00:00.080000",
		"runtime_initialization":   "0:00:00.150000",
		"trigger":                  "0:00:00.050000",
		"computation":              "0:00:00.110000",
		"external_service":         "0:00:00.010000",
	})
	expect(t, "warm", r.valid[1], map[string]string{
		"trace_id":                 b,
		"num_cold_starts":          "0",
		"container_initialization": "",
		"runtime_initialization":   "",
		"trigger":                  "0:00:00.080000",
	})
	expect(t, "cold http", r.valid[2], map[string]string{
		"trace_id":                 c,
		"num_cold_starts":          "1",
		"longest_path_names":       `["operation", "HttpF1", "GET /api/f2", "HttpF2", "Initialization"]`,
		"container_initialization": "0:00:00",
		"runtime_initialization":   "0:00:00.020000",
		"trigger":                  "0:00:00.010000",
		"computation":              "0:00:00.070000",
	})
	if r.sum.ColdStarts != 3 {
		t.Errorf("summary cold starts = %d", r.sum.ColdStarts)
	}
}

func TestMissingParent(t *testing.T) {
	const op = "op-missing"
	r := analyzeLines(t, opLine(t, Operation{ID: op,
		Requests: []Row{
			req(op, "r1", op, "HttpF1", 0, 100),
			req(op, "r2", "deadbeef", "QueueWorker", 150, 20),
		},
		Dependencies: []Row{dep(op, "d1", "r1", "Enqueue", "Azure queue", 10, 10)},
	}))
	if len(r.valid) != 0 || len(r.invalid) != 1 {
		t.Fatalf("valid %v invalid %v", r.valid, r.invalid)
	}
	want := "Incomplete trace op-missing because the parent node deadbeef of node r2 is empty."
	if r.invalid[0]["trace_id"] != op || r.invalid[0]["message"] != want {
		t.Errorf("invalid row = %v", r.invalid[0])
	}
}

func TestOperationWithException(t *testing.T) {
	const op = "op-exception"
	r := analyzeLines(t, opLine(t, Operation{ID: op,
		Requests: []Row{req(op, "r1", op, "HttpF1", 0, 40, kv{"Success": false, "ResultCode": "500"})},
		Dependencies: []Row{
			dep(op, "d1", "r1", "GET /missing", "HTTP", 5, 10, kv{"Success": false, "ResultCode": "404"}),
			dep(op, "d2", "r1", "GET /busy", "HTTP", 20, 10, kv{"Success": "False", "ResultCode": "429"}),
		},
		Traces: []Row{trace(op, "Exception while executing function: Functions.HttpF1", 39, kv{"SeverityLevel": 3.0})},
	}))
	expect(t, "exception", only(t, r), map[string]string{
		"errors": "2", "throttles": "1", "faults": "1",
		"external_service": "0:00:00.020000",
		"computation":      "0:00:00.020000",
	})
}

func TestBadInput(t *testing.T) {
	const op = "op-bad"
	nullDur := req(op, "r1", op, "HttpF1", 0, 10)
	nullDur["DurationMs"] = nil
	r := analyzeLines(t,
		`{"error":{"code":"PartialError","message":"There were some errors when processing your query.",`+
			`"details":[{"code":"EngineError","message":"Something went wrong processing your query on the server.",`+
			`"innererror":{"message":"Query result set has exceeded the internal record count limit 500000."}}]},"tables":[]}`,
		opLine(t, Operation{ID: op, Requests: []Row{nullDur}}),
		`{"operation_Id": "truncated", "requests": [`,
		`   `,
		`{"something": "else"}`,
		opLine(t, Operation{ID: "op-traces-only", Traces: []Row{trace("op-traces-only", "hello", 0)}}),
		opLine(t, Operation{ID: "op-badtime", Requests: []Row{row(kv{"TimeGenerated": "yesterday", "Id": "r1", "DurationMs": 1.0}, nil)}}),
		opLine(t, Operation{ID: "op-noid", Requests: []Row{row(kv{"TimeGenerated": ts(0), "DurationMs": 1.0}, nil)}}),
		opLine(t, Operation{ID: "op-neg", Requests: []Row{req("op-neg", "r1", "", "F", 0, -5)}}),
		opLine(t, Operation{ID: "op-two-roots", Requests: []Row{req("op-two-roots", "r1", "", "F", 0, 5), req("op-two-roots", "r2", "", "G", 1, 5)}}),
		opLine(t, Operation{ID: "op-cycle", Requests: []Row{req("op-cycle", "r1", "", "F", 0, 50), req("op-cycle", "a", "b", "A", 1, 5), req("op-cycle", "b", "a", "B", 2, 5)}}),
		opLine(t, Operation{ID: "op-skew", Requests: []Row{req("op-skew", "r1", "", "F", 10, 50)}, Dependencies: []Row{dep("op-skew", "d1", "r1", "D", "HTTP", 0, 5)}}),
		opLine(t, Operation{ID: "op-queue-dup", Requests: []Row{req("op-queue-dup", "r1", "", "F", 0, 5)}}),
		opLine(t, Operation{ID: "op-queue-dup", Requests: []Row{req("op-queue-dup", "r1", "", "F", 0, 5)}}),
	)
	wants := []struct{ id, msg string }{
		{"", "Line 1: Azure Monitor answered with an error instead of complete rows (PartialError: There were some errors when processing your query.: Something went wrong processing your query on the server.: Query result set has exceeded the internal record count limit 500000.); download the traces again (sb get_traces)."},
		{op, "request r1 of operation op-bad has no duration (DurationMs is null)."},
		{"", "Line 3: unexpected end of JSON input"},
		{"", "Line 5: Line holds neither operation_Id nor a Logs query answer (tables)."},
		{"op-traces-only", "Operation op-traces-only has no requests or dependencies (only 1 traces): nothing to analyse."},
		{"op-badtime", `request r1 of operation op-badtime has a malformed TimeGenerated "yesterday" (want ISO 8601, e.g. 2024-05-01T10:00:00.1234567Z).`},
		{"op-noid", "request row 1 of operation op-noid has no Id."},
		{"op-neg", "request r1 of operation op-neg has an invalid DurationMs -5."},
		{"op-two-roots", "Operation op-two-roots has 2 spans without parent (r1, r2): the trace is not connected."},
		{"op-cycle", "Operation op-cycle: spans a, b are not connected to the root (their parents form a cycle)."},
		{"op-skew", "Logical first trace segment op-skew does not match the earliest time (sub)segment d1. Ensure that the trace is fully connected and there are no clock issues."},
		{"op-queue-dup", "Duplicate operation op-queue-dup: its id came earlier in the input."},
	}
	if len(r.valid) != 1 || r.valid[0]["trace_id"] != "op-queue-dup" {
		t.Errorf("valid = %v", r.valid)
	}
	if len(r.invalid) != len(wants) {
		t.Fatalf("invalid rows:\n%v", r.invalid)
	}
	for i, w := range wants {
		if got := r.invalid[i]; got["trace_id"] != w.id || got["message"] != w.msg {
			t.Errorf("invalid row %d = %q %q\nwant %q %q", i, got["trace_id"], got["message"], w.id, w.msg)
		}
	}
	if r.sum.Duplicates != 1 || r.sum.Invalid != len(wants) || r.sum.Valid != 1 {
		t.Errorf("summary = %+v", r.sum)
	}
}

func TestEmptyAndBlankFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.json": "", "blank.json": "\n  \n\t\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := AnalyzeFile(context.Background(), p, AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), ErrNoOperations.Error()) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := AnalyzeFile(context.Background(), filepath.Join(dir, "nope.json"), AnalyzeOptions{}); err == nil || !strings.Contains(err.Error(), "sb get_traces") {
		t.Errorf("missing: %v", err)
	}
}

// A saved Logs query answer with classic column names (ServiBench's union
// of requests and dependencies) is analysed like a downloaded operation.
func TestClassicQueryAnswer(t *testing.T) {
	cols := []string{"timestamp", "itemType", "id", "operation_Id", "operation_ParentId", "name", "duration", "type", "success", "resultCode", "cloud_RoleInstance"}
	rows := [][]any{
		{ts(0), "request", "r1", "op1", "op1", "HttpF1", 100.0, nil, "True", "200", nil},
		{ts(10), "dependency", "d1", "op1", "r1", "GET /api/f2", 80.0, "HTTP", "True", "200", nil},
		{ts(15), "request", "r2", "op1", "d1", "HttpF2", 70.0, nil, "True", "200", nil},
		{ts(20), "dependency", "d2", "op1", "r2", "PUT blob", 30.0, "Azure blob", "True", "201", nil},
		{ts(21), "trace", nil, "op1", "r2", nil, nil, nil, nil, nil, nil},
	}
	var columns []map[string]string
	for _, c := range cols {
		columns = append(columns, map[string]string{"name": c, "type": "string"})
	}
	b, _ := json.Marshal(map[string]any{"tables": []any{map[string]any{"name": "PrimaryResult", "columns": columns, "rows": rows}}})
	r := analyzeLines(t, string(b))
	expect(t, "classic", only(t, r), map[string]string{
		"trace_id":         "op1",
		"computation":      "0:00:00.060000",
		"trigger":          "0:00:00.010000",
		"external_service": "0:00:00.030000",
	})
}
