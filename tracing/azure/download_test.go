package azure

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// logsServer speaks the Logs query REST API (POST
// /v1/workspaces/{id}/query) over a workspace held in memory: it runs the
// tiny KQL subset Download sends (table, TimeGenerated range, take),
// truncates answers beyond its row limit with a PartialError as the service
// does, and answers errors with the service's error object.
type logsServer struct {
	*httptest.Server
	mu        sync.Mutex
	rows      map[string][]srvRow // by table
	limit     int                 // the service's record limit
	queries   []string
	timespans []string
	// alwaysPartial answers every query with a partial error.
	alwaysPartial bool
}

type srvRow struct {
	t    time.Time
	vals []any
}

var srvColumns = map[string][][2]string{
	"AppRequests": {{"TenantId", "string"}, {"TimeGenerated", "datetime"}, {"Id", "string"}, {"Source", "string"}, {"Name", "string"},
		{"Url", "string"}, {"Success", "bool"}, {"ResultCode", "string"}, {"DurationMs", "real"}, {"Properties", "dynamic"},
		{"OperationName", "string"}, {"OperationId", "string"}, {"ParentId", "string"}, {"AppRoleInstance", "string"}, {"Type", "string"}},
	"AppDependencies": {{"TenantId", "string"}, {"TimeGenerated", "datetime"}, {"Id", "string"}, {"Target", "string"},
		{"DependencyType", "string"}, {"Name", "string"}, {"Data", "string"}, {"Success", "bool"}, {"ResultCode", "string"},
		{"DurationMs", "real"}, {"Properties", "dynamic"}, {"OperationId", "string"}, {"ParentId", "string"}, {"Type", "string"}},
	"AppTraces": {{"TenantId", "string"}, {"TimeGenerated", "datetime"}, {"Message", "string"}, {"SeverityLevel", "int"},
		{"Properties", "dynamic"}, {"OperationId", "string"}, {"ParentId", "string"}, {"AppRoleInstance", "string"}, {"Type", "string"}},
}

const testToken = "test-token"

var (
	reTable = regexp.MustCompile(`^(\w+)\n`)
	reRange = regexp.MustCompile(`TimeGenerated >= datetime\(([^)]+)\) and TimeGenerated < datetime\(([^)]+)\)`)
	reTake  = regexp.MustCompile(`\| take (\d+)`)
)

func newLogsServer(t *testing.T) *logsServer {
	s := &logsServer{rows: map[string][]srvRow{}, limit: 1 << 30}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-ms-error-code", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "correlationId": "c0ffee"}})
}

func (s *logsServer) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if r.Method != http.MethodPost || len(parts) != 4 || parts[0] != "v1" || parts[1] != "workspaces" || parts[3] != "query" {
		writeError(w, http.StatusNotFound, "PathNotFoundError", "The requested path does not exist")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testToken {
		writeError(w, http.StatusUnauthorized, "InvalidTokenError", "The provided authentication is not valid for this resource")
		return
	}
	switch parts[2] {
	case "forbidden":
		writeError(w, http.StatusForbidden, "InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation")
		return
	case "broken":
		writeError(w, http.StatusBadRequest, "BadArgumentError", "The request had some invalid properties")
		return
	}
	var body struct {
		Query    string `json:"query"`
		Timespan string `json:"timespan"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "BadArgumentError", err.Error())
		return
	}
	tm, rm := reTable.FindStringSubmatch(body.Query), reRange.FindStringSubmatch(body.Query)
	cols, ok := srvColumns[tm[1]]
	if tm == nil || rm == nil || !ok {
		writeError(w, http.StatusBadRequest, "SemanticError", "unsupported query: "+body.Query)
		return
	}
	from, err1 := time.Parse(time.RFC3339Nano, rm[1])
	to, err2 := time.Parse(time.RFC3339Nano, rm[2])
	if err1 != nil || err2 != nil {
		writeError(w, http.StatusBadRequest, "SyntaxError", "bad datetime")
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, body.Query)
	s.timespans = append(s.timespans, body.Timespan)
	var out [][]any
	for _, row := range s.rows[tm[1]] {
		if !row.t.Before(from) && row.t.Before(to) {
			out = append(out, row.vals)
		}
	}
	limit, partial := s.limit, s.alwaysPartial
	s.mu.Unlock()
	if m := reTake.FindStringSubmatch(body.Query); m != nil {
		n, _ := strconv.Atoi(m[1])
		out = out[:min(n, len(out))]
	}
	answer := map[string]any{}
	if len(out) > limit || partial {
		out = out[:min(limit, len(out))]
		answer["error"] = map[string]any{"code": "PartialError", "message": "There were some errors when processing your query.",
			"details": []any{map[string]any{"code": "EngineError", "message": "Something went wrong processing your query on the server.",
				"innererror": map[string]any{"code": "-2133196788", "message": "Query result set has exceeded the internal record count limit 500000 (E_QUERY_RESULT_SET_TOO_LARGE)."}}}}
	}
	var columns []map[string]string
	for _, c := range cols {
		columns = append(columns, map[string]string{"name": c[0], "type": c[1]})
	}
	if out == nil {
		out = [][]any{}
	}
	answer["tables"] = []any{map[string]any{"name": "PrimaryResult", "columns": columns, "rows": out}}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(answer)
}

// addOperation stores one HTTP → queue → worker operation starting at t.
func (s *logsServer) addOperation(op string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := func(ms int) time.Time { return t.Add(time.Duration(ms) * time.Millisecond) }
	f := func(x time.Time) string { return x.UTC().Format("2006-01-02T15:04:05.0000000Z") }
	s.rows["AppRequests"] = append(s.rows["AppRequests"],
		srvRow{at(0), []any{"ws", f(at(0)), op + "-r1", "", "HttpStart", "https://app/api/start", true, "200", 50.0, `{"InvocationId":"x"}`, "HttpStart", op, op, "inst-1", "AppRequests"}},
		srvRow{at(300), []any{"ws", f(at(300)), op + "-r2", "", "QueueWorker", "", true, "0", 100.5, nil, "QueueWorker", op, op + "-d1", "inst-1", "AppRequests"}})
	s.rows["AppDependencies"] = append(s.rows["AppDependencies"],
		srvRow{at(10), []any{"ws", f(at(10)), op + "-d1", "q.queue.core.windows.net", "Azure queue", "Enqueue", "", true, "201", 10.0, nil, op, op + "-r1", "AppDependencies"}})
	s.rows["AppTraces"] = append(s.rows["AppTraces"],
		srvRow{at(301), []any{"ws", f(at(301)), "Executing 'Functions.QueueWorker'", 1, `{"Category":"Function.QueueWorker"}`, op, op + "-r2", "inst-1", "AppTraces"}})
}

// addHostTrace stores a trace that belongs to no operation.
func (s *logsServer) addHostTrace(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows["AppTraces"] = append(s.rows["AppTraces"],
		srvRow{t, []any{"ws", t.UTC().Format("2006-01-02T15:04:05.0000000Z"), "Host lock lease acquired", 1, nil, "", "", "inst-1", "AppTraces"}})
}

func (s *logsServer) options(dir string) DownloadOptions {
	o := DownloadOptions{WorkspaceID: "ws-1", Start: t0, End: t0.Add(10 * time.Minute), Dir: dir, Endpoint: s.URL + "/v1"}
	o.ClientOptions.Transport = s.Client()
	o.ClientOptions.Retry.MaxRetries = -1
	return o
}

var testCred = StaticToken{Token: testToken, ExpiresOn: time.Now().Add(time.Hour)}

func readLines(t *testing.T, p string) []string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func TestDownloadSplitsAndAnalyses(t *testing.T) {
	srv := newLogsServer(t)
	srv.limit = 25 // the service truncates with a PartialError beyond this
	const n = 60
	var want []string
	for i := 0; i < n; i++ {
		// Every 9 s, some exactly on minute boundaries (slice bounds).
		op := fmt.Sprintf("op%03d", i)
		want = append(want, op)
		srv.addOperation(op, t0.Add(time.Duration(i)*9*time.Second))
	}
	srv.addHostTrace(t0.Add(time.Minute))
	dir := t.TempDir()
	opt := srv.options(dir)
	opt.Slice = 2 * time.Minute
	var progress []DownloadProgress
	opt.Progress = func(p DownloadProgress) { progress = append(progress, p) }
	sum, err := Download(context.Background(), testCred, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Operations != n || sum.Requests != 2*n || sum.Dependencies != n || sum.Traces != n || sum.WithoutOperation != 1 {
		t.Errorf("summary = %+v", sum)
	}
	if sum.Splits == 0 || sum.Queries != len(srv.queries) || len(progress) != sum.Queries {
		t.Errorf("splits %d, queries %d (server saw %d), progress %d", sum.Splits, sum.Queries, len(srv.queries), len(progress))
	}
	// Slices never overlap or leave gaps: every row arrived exactly once,
	// and operations come in time order.
	ids := readLines(t, sum.TraceIDsPath)
	if !slices.Equal(ids, want) {
		t.Errorf("trace ids = %v", ids)
	}
	lines := readLines(t, sum.TracesPath)
	if len(lines) != n {
		t.Fatalf("%d lines in traces.json", len(lines))
	}
	var first struct {
		OperationID  string            `json:"operation_Id"`
		Requests     []json.RawMessage `json:"requests"`
		Dependencies []map[string]any  `json:"dependencies"`
		Traces       []map[string]any  `json:"traces"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.OperationID != "op000" || len(first.Requests) != 2 || len(first.Dependencies) != 1 || len(first.Traces) != 1 {
		t.Fatalf("first operation = %s", lines[0])
	}
	// Rows are objects with the service's column names, in its order.
	if !strings.HasPrefix(string(first.Requests[0]), `{"TenantId":"ws","TimeGenerated":"2024-05-01T10:00:00.0000000Z","Id":"op000-r1","Source":"",`) ||
		!strings.Contains(string(first.Requests[1]), `"DurationMs":100.5,"Properties":null`) {
		t.Errorf("request rows = %s", first.Requests)
	}
	if first.Traces[0]["SeverityLevel"] != 1.0 || first.Dependencies[0]["DependencyType"] != "Azure queue" {
		t.Errorf("rows = %v %v", first.Dependencies, first.Traces)
	}
	// The timespan sent with each query covers its where clause.
	for i, q := range srv.queries {
		m := reRange.FindStringSubmatch(q)
		from, _ := time.Parse(time.RFC3339Nano, m[1])
		to, _ := time.Parse(time.RFC3339Nano, m[2])
		span := strings.Split(srv.timespans[i], "/")
		a, _ := time.Parse(time.RFC3339, span[0])
		b, _ := time.Parse(time.RFC3339, span[1])
		if a.After(from) || b.Before(to) {
			t.Errorf("timespan %s does not cover %s … %s", srv.timespans[i], m[1], m[2])
		}
	}

	// The downloaded file is what the analysis reads.
	as, err := AnalyzeFile(context.Background(), sum.TracesPath, AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if as.Valid != n || as.Invalid != 0 || as.ColdStarts != 1 {
		t.Errorf("analysis = %+v: %v", as, readCSV(t, as.InvalidPath))
	}

	// A second download never replaces the first.
	before, _ := os.ReadFile(sum.TracesPath)
	_, err = Download(context.Background(), testCred, opt)
	if !errors.Is(err, ErrTracesExist) {
		t.Errorf("second download: %v", err)
	}
	after, _ := os.ReadFile(sum.TracesPath)
	if string(before) != string(after) {
		t.Error("traces.json changed")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestDownloadClientRowLimit(t *testing.T) {
	srv := newLogsServer(t)
	for i := 0; i < 20; i++ {
		srv.addOperation(fmt.Sprintf("op%02d", i), t0.Add(time.Duration(i)*20*time.Second))
	}
	opt := srv.options(t.TempDir())
	opt.RowLimit = 8 // reached without a partial error: `take` stops the answer
	sum, err := Download(context.Background(), testCred, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Operations != 20 || sum.Requests != 40 || sum.Splits == 0 {
		t.Errorf("summary = %+v", sum)
	}
	for _, q := range srv.queries {
		if !strings.Contains(q, "| take 8") {
			t.Fatalf("query without take: %q", q)
		}
	}
}

func TestDownloadErrors(t *testing.T) {
	srv := newLogsServer(t)
	srv.addOperation("op1", t0.Add(time.Second))
	ctx := context.Background()

	opt := srv.options(t.TempDir())
	opt.WorkspaceID = ""
	if _, err := Download(ctx, testCred, opt); !errors.Is(err, ErrNoWorkspace) || !strings.Contains(err.Error(), "insights_workspace_id") {
		t.Errorf("no workspace: %v", err)
	}

	opt = srv.options(t.TempDir())
	opt.End = opt.Start
	if _, err := Download(ctx, testCred, opt); err == nil || !strings.Contains(err.Error(), "empty time window") {
		t.Errorf("empty window: %v", err)
	}

	for _, c := range []struct {
		workspace string
		cred      azcore.TokenCredential
		want      []string
	}{
		{"forbidden", testCred, []string{"HTTP 403", "InsufficientAccessError", "insufficient access", "sb login azure"}},
		{"broken", testCred, []string{"HTTP 400", "BadArgumentError: The request had some invalid properties"}},
		{"ws-1", StaticToken{Token: "stale"}, []string{"HTTP 401", "InvalidTokenError"}},
		{"ws-1", StaticToken{Token: "old", ExpiresOn: time.Now().Add(-time.Minute)}, []string{"expired"}},
	} {
		dir := t.TempDir()
		opt := srv.options(dir)
		opt.WorkspaceID = c.workspace
		_, err := Download(ctx, c.cred, opt)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %v, want %q", c.workspace, err, w)
			}
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: multi-line error %q", c.workspace, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%s: files left: %v", c.workspace, entries)
		}
	}

	// A partial answer that no split cures.
	srv.alwaysPartial = true
	opt = srv.options(t.TempDir())
	opt.MinSlice = 2 * time.Minute
	_, err := Download(ctx, testCred, opt)
	if err == nil || !strings.Contains(err.Error(), "partial result for AppRequests") || !strings.Contains(err.Error(), "E_QUERY_RESULT_SET_TOO_LARGE") {
		t.Errorf("partial: %v", err)
	}
	srv.alwaysPartial = false

	// Nothing in the window.
	opt = srv.options(t.TempDir())
	opt.Start, opt.End = t0.Add(time.Hour), t0.Add(2*time.Hour)
	if _, err := Download(ctx, testCred, opt); err == nil || !strings.Contains(err.Error(), "no Application Insights operations") {
		t.Errorf("empty: %v", err)
	}
}
