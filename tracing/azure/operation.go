// Package azure owns Azure Application Insights traces: downloading the
// AppRequests, AppDependencies and AppTraces rows of a benchmark's invoke
// window from a Log Analytics workspace (Download, through the Azure SDK's
// azlogs client), and the latency breakdown of each operation (AnalyzeFile),
// which turns requests and dependencies into the provider-neutral span graph
// of sb/tracing and runs the same critical-path walk as for AWS X-Ray. The
// mapping from the Application Insights data model to breakdown categories
// is documented in README.md.
package azure

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Operation is one line of traces.json: the rows of one Application
// Insights operation (one end-to-end transaction), with column names as the
// service returned them.
type Operation struct {
	ID           string `json:"operation_Id"`
	Requests     []Row  `json:"requests"`
	Dependencies []Row  `json:"dependencies"`
	Traces       []Row  `json:"traces"`
}

// Row is one table row keyed by column name.
type Row map[string]any

// Column names: the workspace-based tables (AppRequests, ...) first, then
// the classic Application Insights names (requests, ...), which ServiBench's
// downloader and older exports used; the analysis accepts both.
var (
	colID        = []string{"Id", "id"}
	colParent    = []string{"ParentId", "operation_ParentId"}
	colOperation = []string{"OperationId", "operation_Id"}
	colTime      = []string{"TimeGenerated", "timestamp"}
	colDuration  = []string{"DurationMs", "duration"}
	colName      = []string{"Name", "name"}
	colDepType   = []string{"DependencyType", "type"}
	colSuccess   = []string{"Success", "success"}
	colResult    = []string{"ResultCode", "resultCode"}
	colInstance  = []string{"AppRoleInstance", "cloud_RoleInstance"}
	colURL       = []string{"Url", "url"}
	colProps     = []string{"Properties", "customDimensions"}
	colMessage   = []string{"Message", "message"}
	// colItemType tells the tables apart in a union query's answer.
	colItemType = []string{"Type", "itemType"}
)

// lookup returns the first present, non-null value of the named columns.
func (r Row) lookup(names []string) (any, string, bool) {
	for _, n := range names {
		if v, ok := r[n]; ok && v != nil {
			return v, n, true
		}
	}
	return nil, names[0], false
}

// str returns a string column ("" when absent or null).
func (r Row) str(names []string) string {
	v, _, ok := r.lookup(names)
	if !ok {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// timeNs parses the row's timestamp as Unix nanoseconds.
func (r Row) timeNs() (int64, error) {
	v, col, ok := r.lookup(colTime)
	if !ok {
		return 0, fmt.Errorf("has no %s", col)
	}
	s, isStr := v.(string)
	if !isStr {
		return 0, fmt.Errorf("has a %s that is not a date-time string: %v", col, v)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("has a malformed %s %q (want ISO 8601, e.g. 2024-05-01T10:00:00.1234567Z)", col, s)
	}
	if t.Year() < 1970 || t.Year() > 2200 {
		return 0, fmt.Errorf("has a %s out of range: %q", col, s)
	}
	return t.UnixNano(), nil
}

// durationNs parses the row's duration (milliseconds) as nanoseconds.
func (r Row) durationNs() (int64, error) {
	v, col, ok := r.lookup(colDuration)
	if !ok {
		if _, present := r[colDuration[0]]; present {
			return 0, fmt.Errorf("has no duration (%s is null)", colDuration[0])
		}
		if _, present := r[colDuration[1]]; present {
			return 0, fmt.Errorf("has no duration (%s is null)", colDuration[1])
		}
		return 0, fmt.Errorf("has no %s column", col)
	}
	var ms float64
	switch x := v.(type) {
	case float64:
		ms = x
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("has a malformed %s %q (want milliseconds)", col, x)
		}
		ms = f
	default:
		return 0, fmt.Errorf("has a %s that is not a number: %v", col, v)
	}
	// Durations beyond a year are corrupt data, not serverless calls.
	if math.IsNaN(ms) || ms < 0 || ms > 365*24*3600*1e3 {
		return 0, fmt.Errorf("has an invalid %s %v", col, ms)
	}
	return int64(math.Round(ms * 1e6)), nil
}

// success reports the row's Success flag; known is false when absent.
func (r Row) success() (ok, known bool) {
	v, _, present := r.lookup(colSuccess)
	if !present {
		return false, false
	}
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(strings.ToLower(x))
		return b, err == nil
	case float64:
		return x != 0, true
	}
	return false, false
}

// property returns one entry of the row's Properties (customDimensions),
// which the service returns either as an object or as a JSON string.
func (r Row) property(key string) string {
	v, _, ok := r.lookup(colProps)
	if !ok {
		return ""
	}
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case string:
		if !strings.Contains(x, key) || json.Unmarshal([]byte(x), &m) != nil {
			return ""
		}
	}
	if s, ok := m[key].(string); ok {
		return s
	}
	return ""
}

// propsText is the row's Properties as text, for substring checks.
func (r Row) propsText() string { return r.str(colProps) }

// answer is the JSON shape of a Logs query answer, which a traces file may
// hold instead of operations (a saved REST answer, or ServiBench's
// per-trace union query).
type answer struct {
	Tables []struct {
		Name    string `json:"name"`
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Rows [][]any `json:"rows"`
	} `json:"tables"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			Innererror *struct {
				Message string `json:"message"`
			} `json:"innererror"`
		} `json:"details"`
		Innererror *struct {
			Message string `json:"message"`
		} `json:"innererror"`
	} `json:"error"`
}

// line is everything a traces.json line may hold.
type line struct {
	Operation
	HasID bool
	answer
}

func (l *line) UnmarshalJSON(b []byte) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return err
	}
	if raw, ok := probe["operation_Id"]; ok {
		l.HasID = true
		if err := json.Unmarshal(raw, &l.ID); err != nil {
			return fmt.Errorf("operation_Id is not a string: %s", raw)
		}
	}
	for key, dst := range map[string]*[]Row{"requests": &l.Requests, "dependencies": &l.Dependencies, "traces": &l.Traces} {
		if raw, ok := probe[key]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return fmt.Errorf("%s is not a list of rows: %w", key, err)
			}
		}
	}
	_, hasTables := probe["tables"]
	_, hasError := probe["error"]
	if hasTables || hasError {
		if err := json.Unmarshal(b, &l.answer); err != nil {
			return fmt.Errorf("not a Logs query answer: %w", err)
		}
	}
	return nil
}

// errorText describes an answer's error object in one line.
func (a *answer) errorText() string {
	e := a.Error
	parts := []string{e.Code, e.Message}
	if e.Innererror != nil {
		parts = append(parts, e.Innererror.Message)
	}
	for _, d := range e.Details {
		parts = append(parts, d.Message)
		if d.Innererror != nil {
			parts = append(parts, d.Innererror.Message)
		}
	}
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}

// operations turns a query answer's rows into operations, in order of
// first appearance. Rows are sorted into requests, dependencies and traces
// by their Type (workspace tables) or itemType (classic) column.
func (a *answer) operations() ([]Operation, error) {
	var ops []Operation
	index := map[string]int{}
	for _, t := range a.Tables {
		cols := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			cols[i] = c.Name
		}
		for ri, vals := range t.Rows {
			if len(vals) != len(cols) {
				return nil, fmt.Errorf("table %s row %d has %d values for %d columns", t.Name, ri+1, len(vals), len(cols))
			}
			r := make(Row, len(cols))
			for i, c := range cols {
				r[c] = vals[i]
			}
			id := r.str(colOperation)
			oi, ok := index[id]
			if !ok {
				oi = len(ops)
				index[id] = oi
				ops = append(ops, Operation{ID: id})
			}
			op := &ops[oi]
			switch kind := strings.ToLower(r.str(colItemType)); kind {
			case "apprequests", "request", "requests":
				op.Requests = append(op.Requests, r)
			case "appdependencies", "dependency", "dependencies":
				op.Dependencies = append(op.Dependencies, r)
			case "apptraces", "trace", "traces":
				op.Traces = append(op.Traces, r)
			default:
				// Other tables (exceptions, metrics) do not make spans.
			}
		}
	}
	return ops, nil
}
