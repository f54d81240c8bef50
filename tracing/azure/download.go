package azure

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/query/azlogs"

	"sb/internal/atomicfile"
)

// Files Download writes into DownloadOptions.Dir.
const (
	TracesFile   = "traces.json"
	TraceIDsFile = "trace_ids.txt"
)

// The tables Download queries, in the order of the operation's lists.
var tables = [...]struct{ name, key string }{
	{"AppRequests", "requests"},
	{"AppDependencies", "dependencies"},
	{"AppTraces", "traces"},
}

// Defaults of DownloadOptions. The row limit is the Logs query API's: a
// query returns at most 500,000 records (and 64 MB); beyond, the answer is
// truncated with a PartialError.
const (
	DefaultSlice    = time.Hour
	DefaultMinSlice = time.Second
	DefaultRowLimit = 500_000
)

// ErrNoWorkspace is returned when DownloadOptions.WorkspaceID is empty.
var ErrNoWorkspace = errors.New("no Log Analytics workspace: set insights_workspace_id in the benchmark's configuration (the Workspace ID shown on the workspace's Overview page in the Azure portal)")

// ErrTracesExist is returned (wrapped) when traces.json is already there.
var ErrTracesExist = errors.New("traces.json already exists")

// DownloadOptions say what Download fetches and where it goes.
type DownloadOptions struct {
	// WorkspaceID is the Log Analytics workspace holding the Application
	// Insights tables (the benchmark's insights_workspace_id).
	WorkspaceID string
	// Start and End bound the invoke window, End excluded.
	Start, End time.Time
	// Dir receives traces.json and trace_ids.txt.
	Dir string
	// Endpoint is the Logs query API's base URL including the version
	// (e.g. https://api.loganalytics.io/v1); empty means Azure's public
	// cloud. Tests point it at a local server.
	Endpoint string
	// ClientOptions tune the SDK client (transport, retries); Cloud is
	// set from Endpoint.
	ClientOptions azcore.ClientOptions
	// Slice is the length of the time slices queried first; a slice whose
	// answer reaches RowLimit or comes back partial is halved until it
	// fits, down to MinSlice. Zero values take the defaults.
	Slice, MinSlice time.Duration
	RowLimit        int
	// Progress, when set, is called after every query.
	Progress func(DownloadProgress)
}

// DownloadProgress reports one query.
type DownloadProgress struct {
	Table    string
	From, To time.Time
	// Rows is the number of rows the query returned; Split is true when
	// the slice was too big and is queried again in halves.
	Rows  int
	Split bool
	// Total rows kept so far over all tables.
	Total int
}

// DownloadSummary is the outcome of a download.
type DownloadSummary struct {
	TracesPath, TraceIDsPath string
	// Operations written; rows per table; rows skipped because they
	// belong to no operation (the host's own logs).
	Operations                     int
	Requests, Dependencies, Traces int
	WithoutOperation               int
	// Queries sent, of which Splits were too big and repeated in halves.
	Queries, Splits int
}

// Download queries the AppRequests, AppDependencies and AppTraces rows of
// the window from the workspace, slice by slice so that no answer hits the
// service's row limit, and writes traces.json (one operation per line:
// {"operation_Id", "requests", "dependencies", "traces"}, rows as objects
// keyed by the service's column names, operations by first timestamp) and
// trace_ids.txt (the operation ids, in the same order). It refuses to
// overwrite an existing traces.json. Rows are spilled to a temporary file
// while slices arrive, so memory stays small for large runs.
func Download(ctx context.Context, cred azcore.TokenCredential, opt DownloadOptions) (DownloadSummary, error) {
	var sum DownloadSummary
	if opt.WorkspaceID == "" {
		return sum, ErrNoWorkspace
	}
	if !opt.End.After(opt.Start) {
		return sum, fmt.Errorf("empty time window %s … %s: the end must come after the start", opt.Start.UTC().Format(time.RFC3339), opt.End.UTC().Format(time.RFC3339))
	}
	opt.Slice = cmp.Or(opt.Slice, DefaultSlice)
	opt.MinSlice = cmp.Or(opt.MinSlice, DefaultMinSlice)
	opt.RowLimit = cmp.Or(opt.RowLimit, DefaultRowLimit)
	if opt.Dir == "" {
		opt.Dir = "."
	}
	sum.TracesPath = filepath.Join(opt.Dir, TracesFile)
	sum.TraceIDsPath = filepath.Join(opt.Dir, TraceIDsFile)
	if _, err := os.Stat(sum.TracesPath); err == nil {
		return sum, fmt.Errorf("%s: %w; move it away to download again", sum.TracesPath, ErrTracesExist)
	}
	client, err := newClient(cred, opt)
	if err != nil {
		return sum, err
	}
	spill, err := os.CreateTemp(opt.Dir, ".traces-rows-*")
	if err != nil {
		return sum, fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		spill.Close()
		os.Remove(spill.Name())
	}()
	d := &downloader{client: client, opt: opt, sum: &sum, spill: bufio.NewWriterSize(spill, 1<<20), ops: map[string]*opRows{}}
	for ti := range tables {
		if err := d.table(ctx, ti); err != nil {
			return sum, err
		}
	}
	if err := d.spill.Flush(); err != nil {
		return sum, fmt.Errorf("write temporary file: %w", err)
	}
	if len(d.ops) == 0 {
		return sum, fmt.Errorf("no Application Insights operations between %s and %s in workspace %s (%d rows without operation id): check insights_workspace_id, and that telemetry has arrived (ingestion takes a few minutes)",
			opt.Start.UTC().Format(time.RFC3339), opt.End.UTC().Format(time.RFC3339), opt.WorkspaceID, sum.WithoutOperation)
	}
	if err := d.write(spill); err != nil {
		return sum, err
	}
	return sum, nil
}

func newClient(cred azcore.TokenCredential, opt DownloadOptions) (*azlogs.Client, error) {
	co := &azlogs.ClientOptions{ClientOptions: opt.ClientOptions}
	if opt.Endpoint != "" {
		co.Cloud = cloud.Configuration{
			ActiveDirectoryAuthorityHost: cloud.AzurePublic.ActiveDirectoryAuthorityHost,
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				azlogs.ServiceName: {Audience: cloud.AzurePublic.Services[azlogs.ServiceName].Audience, Endpoint: opt.Endpoint},
			},
		}
	}
	client, err := azlogs.NewClient(cred, co)
	if err != nil {
		return nil, fmt.Errorf("create Azure Monitor Logs client: %w", err)
	}
	return client, nil
}

// loc is one spilled row.
type loc struct {
	off   int64
	n     int32
	table uint8
	ts    int64
}

type opRows struct {
	first int64
	rows  []loc
}

type downloader struct {
	client *azlogs.Client
	opt    DownloadOptions
	sum    *DownloadSummary
	spill  *bufio.Writer
	off    int64
	ops    map[string]*opRows
	buf    []byte
}

// kustoTime writes an instant as a KQL datetime literal at the service's
// 100 ns resolution; both neighbouring slices format a shared bound the
// same way, so no row falls between them or into both.
func kustoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.0000000Z") }

type slice struct{ from, to time.Time }

func (d *downloader) table(ctx context.Context, ti int) error {
	var todo []slice
	for from := d.opt.Start; from.Before(d.opt.End); from = from.Add(d.opt.Slice) {
		todo = append(todo, slice{from, minTime(from.Add(d.opt.Slice), d.opt.End)})
	}
	name := tables[ti].name
	for len(todo) > 0 {
		s := todo[0]
		todo = todo[1:]
		res, err := d.query(ctx, name, s)
		if err != nil {
			return err
		}
		d.sum.Queries++
		full := len(res.Tables) > 0 && len(res.Tables[0].Rows) >= d.opt.RowLimit
		if res.Error != nil || full {
			if s.to.Sub(s.from) > d.opt.MinSlice {
				mid := s.from.Add(s.to.Sub(s.from) / 2).Truncate(100 * time.Nanosecond)
				if mid.After(s.from) {
					d.sum.Splits++
					d.progress(name, s, res, true)
					todo = append([]slice{{s.from, mid}, {mid, s.to}}, todo...)
					continue
				}
			}
			if res.Error != nil {
				return fmt.Errorf("Azure Monitor returned a partial result for %s between %s and %s even in a slice of %s (%s): the download would be incomplete",
					name, kustoTime(s.from), kustoTime(s.to), s.to.Sub(s.from), partialText(res.Error))
			}
			return fmt.Errorf("at least %d %s rows between %s and %s, even in a slice of %s: the download would be incomplete; lower MinSlice or raise RowLimit",
				d.opt.RowLimit, name, kustoTime(s.from), kustoTime(s.to), s.to.Sub(s.from))
		}
		if len(res.Tables) == 0 {
			return fmt.Errorf("Azure Monitor's answer for %s between %s and %s holds no table", name, kustoTime(s.from), kustoTime(s.to))
		}
		if err := d.keep(ti, &res.Tables[0]); err != nil {
			return fmt.Errorf("%s between %s and %s: %w", name, kustoTime(s.from), kustoTime(s.to), err)
		}
		d.progress(name, s, res, false)
	}
	return nil
}

func (d *downloader) progress(name string, s slice, res azlogs.QueryWorkspaceResponse, split bool) {
	if d.opt.Progress == nil {
		return
	}
	n := 0
	if len(res.Tables) > 0 {
		n = len(res.Tables[0].Rows)
	}
	d.opt.Progress(DownloadProgress{Table: name, From: s.from, To: s.to, Rows: n, Split: split,
		Total: d.sum.Requests + d.sum.Dependencies + d.sum.Traces})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// query asks for one table's rows of one slice. `take` makes the service
// stop at RowLimit rows, which tells a full slice apart from a complete one.
func (d *downloader) query(ctx context.Context, table string, s slice) (azlogs.QueryWorkspaceResponse, error) {
	q := table + "\n| where TimeGenerated >= datetime(" + kustoTime(s.from) + ") and TimeGenerated < datetime(" + kustoTime(s.to) + ")\n| take " + strconv.Itoa(d.opt.RowLimit)
	// The timespan (whole seconds, widened) lets the service skip data
	// outside the slice; the where clause is exact.
	end := s.to.UTC().Truncate(time.Second)
	if end.Before(s.to) {
		end = end.Add(time.Second)
	}
	span := azlogs.NewTimeInterval(s.from.UTC().Truncate(time.Second), end)
	res, err := d.client.QueryWorkspace(ctx, d.opt.WorkspaceID, azlogs.QueryBody{Query: &q, Timespan: &span}, nil)
	if err != nil {
		return res, queryError(table, s, d.opt.WorkspaceID, err)
	}
	return res, nil
}

// QueryError is a failed query, described in one line; Unwrap gives the
// SDK's error (an *azcore.ResponseError for HTTP errors).
type QueryError struct {
	Msg string
	Err error
}

func (e *QueryError) Error() string { return e.Msg }
func (e *QueryError) Unwrap() error { return e.Err }

func queryError(table string, s slice, workspace string, err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return &QueryError{Msg: fmt.Sprintf("query %s between %s and %s: %v", table, kustoTime(s.from), kustoTime(s.to), err), Err: err}
	}
	detail := re.ErrorCode
	if re.RawResponse != nil {
		if body, perr := runtime.Payload(re.RawResponse); perr == nil {
			var a answer
			if json.Unmarshal(body, &a) == nil && a.Error != nil {
				detail = a.errorText()
			}
		}
	}
	hint := ""
	switch re.StatusCode {
	case 401, 403:
		hint = "; check the Azure credentials (sb login azure) and their read access to the workspace"
	case 404:
		hint = "; check insights_workspace_id"
	}
	return &QueryError{Msg: fmt.Sprintf("Azure Monitor refused the query of %s in workspace %s (HTTP %d: %s)%s", table, workspace, re.StatusCode, detail, hint), Err: err}
}

func partialText(e *azlogs.ErrorInfo) string {
	var a answer
	if json.Unmarshal([]byte(`{"error":`+e.Error()+`}`), &a) == nil && a.Error != nil {
		return a.errorText()
	}
	return e.Code
}

// keep spills one answer's rows, indexed by operation.
func (d *downloader) keep(ti int, t *azlogs.Table) error {
	opCol, timeCol := -1, -1
	names := make([][]byte, len(t.Columns))
	for i, c := range t.Columns {
		if c.Name == nil {
			return fmt.Errorf("column %d has no name", i)
		}
		switch *c.Name {
		case colOperation[0]:
			opCol = i
		case colTime[0]:
			timeCol = i
		}
		names[i], _ = json.Marshal(*c.Name)
	}
	if opCol < 0 || timeCol < 0 {
		return fmt.Errorf("the answer lacks the %s or %s column", colOperation[0], colTime[0])
	}
	for ri, r := range t.Rows {
		if len(r) != len(names) {
			return fmt.Errorf("row %d has %d values for %d columns", ri+1, len(r), len(names))
		}
		op, _ := r[opCol].(string)
		if op == "" {
			d.sum.WithoutOperation++
			continue
		}
		var ts int64
		if s, ok := r[timeCol].(string); ok {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				ts = t.UnixNano()
			}
		}
		b := append(d.buf[:0], '{')
		for i, v := range r {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, names[i]...)
			b = append(b, ':')
			vb, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("row %d column %s: %w", ri+1, names[i], err)
			}
			b = append(b, vb...)
		}
		b = append(b, '}')
		d.buf = b
		if _, err := d.spill.Write(b); err != nil {
			return fmt.Errorf("write temporary file: %w", err)
		}
		e := d.ops[op]
		if e == nil {
			e = &opRows{first: ts}
			d.ops[op] = e
		}
		e.first = min(e.first, ts)
		e.rows = append(e.rows, loc{off: d.off, n: int32(len(b)), table: uint8(ti), ts: ts})
		d.off += int64(len(b))
		switch ti {
		case 0:
			d.sum.Requests++
		case 1:
			d.sum.Dependencies++
		default:
			d.sum.Traces++
		}
	}
	return nil
}

// write assembles traces.json and trace_ids.txt from the spilled rows.
func (d *downloader) write(spill io.ReaderAt) error {
	ids := make([]string, 0, len(d.ops))
	for id := range d.ops {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int {
		return cmp.Or(cmp.Compare(d.ops[a].first, d.ops[b].first), cmp.Compare(a, b))
	})
	tf, err := atomicfile.Create(d.sum.TracesPath)
	if err != nil {
		return err
	}
	defer tf.Abort()
	idf, err := atomicfile.Create(d.sum.TraceIDsPath)
	if err != nil {
		return err
	}
	defer idf.Abort()
	var rowBuf []byte
	for _, id := range ids {
		e := d.ops[id]
		slices.SortStableFunc(e.rows, func(a, b loc) int {
			return cmp.Or(cmp.Compare(a.table, b.table), cmp.Compare(a.ts, b.ts))
		})
		idJSON, _ := json.Marshal(id)
		tf.WriteString(`{"operation_Id":`)
		tf.Write(idJSON)
		k := 0
		for ti, t := range tables {
			tf.WriteString(`,"` + t.key + `":[`)
			first := true
			for ; k < len(e.rows) && int(e.rows[k].table) == ti; k++ {
				l := e.rows[k]
				rowBuf = slices.Grow(rowBuf[:0], int(l.n))[:l.n]
				if _, err := spill.ReadAt(rowBuf, l.off); err != nil {
					return fmt.Errorf("read temporary file: %w", err)
				}
				if !first {
					tf.WriteByte(',')
				}
				first = false
				tf.Write(rowBuf)
			}
			tf.WriteByte(']')
		}
		tf.WriteString("}\n")
		idf.WriteString(id + "\n")
	}
	// Another download may have finished meanwhile: never replace it.
	if _, err := os.Stat(d.sum.TracesPath); err == nil {
		return fmt.Errorf("%s: %w; move it away to download again", d.sum.TracesPath, ErrTracesExist)
	}
	if err := tf.Commit(); err != nil {
		return err
	}
	if err := idf.Commit(); err != nil {
		return err
	}
	d.sum.Operations = len(ids)
	return nil
}
