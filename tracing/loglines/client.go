package loglines

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ClientLatencyFile is the join of k6's client-side latency with the
// server-side marks of the same requests.
const ClientLatencyFile = "client_latency.csv"

var clientHeader = []string{"key", "client_ms", "server_ms", "outside_ms"}

// Join compares, for the requests found both in k6's metrics (tagged with
// trace_id) and in the log (as KEY), the latency k6 measured with the time
// between the first and the last mark of the request.
type Join struct {
	// Matched requests are in both; ClientOnly only in k6's metrics,
	// ServerOnly only in the log.
	Matched, ClientOnly, ServerOnly int
	// Client is k6's http_req_duration, Server the first-to-last mark time,
	// Outside their difference: network, load balancing, queuing before the
	// application saw the request.
	Client, Server, Outside Step
	Path                    string
}

// ReadClientLatency reads the http_req_duration samples of a k6 CSV output
// (--out csv=...) by their trace_id tag, in milliseconds. A request retried
// under the same id keeps its last sample.
func ReadClientLatency(path string) (map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := func(name string) int { return slices.Index(header, name) }
	metric, value, extra, tagCol := col("metric_name"), col("metric_value"), col("extra_tags"), col("trace_id")
	if metric < 0 || value < 0 || (extra < 0 && tagCol < 0) {
		return nil, fmt.Errorf("%s is not a k6 CSV output (metric_name, metric_value, extra_tags columns)", path)
	}
	out := map[string]float64{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(rec) <= max(metric, value, extra, tagCol) || rec[metric] != "http_req_duration" {
			continue
		}
		id := ""
		if tagCol >= 0 {
			id = rec[tagCol]
		} else {
			id = tagValue(rec[extra], "trace_id")
		}
		if id == "" {
			continue
		}
		v, err := strconv.ParseFloat(rec[value], 64)
		if err != nil {
			continue
		}
		out[normalizeTraceID(id)] = v
	}
}

// tagValue finds key in k6's extra_tags cell, "k1=v1&k2=v2".
func tagValue(tags, key string) string {
	for _, kv := range strings.Split(tags, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// normalizeTraceID lets a tag holding the whole X-Ray header
// ("Root=1-…;Parent=…") match the bare id the application logs.
func normalizeTraceID(id string) string {
	id = strings.TrimPrefix(id, "Root=")
	id, _, _ = strings.Cut(id, ";")
	return id
}

// joinClient computes the Join and its CSV rows for the keyed groups.
func joinClient(groups []Invocation, client map[string]float64) (*Join, []byte) {
	j := &Join{}
	var cs, ss, os []float64
	var buf strings.Builder
	w := newCSV(&buf)
	w.Write(clientHeader)
	seen := map[string]bool{}
	for _, g := range groups {
		key := normalizeTraceID(g.Key)
		c, ok := client[key]
		if !ok {
			if !strings.HasPrefix(g.Key, keylessPrefix) {
				j.ServerOnly++
			}
			continue
		}
		seen[key] = true
		server := float64(g.Marks[len(g.Marks)-1].EpochMS - g.Marks[0].EpochMS)
		j.Matched++
		cs, ss, os = append(cs, c), append(ss, server), append(os, c-server)
		w.Write([]string{g.Key, fmtMS(c), fmtMS(server), fmtMS(c - server)})
	}
	w.Flush()
	j.ClientOnly = len(client) - len(seen)
	stat := func(name, what string, v []float64) Step {
		slices.Sort(v)
		return Step{From: name, To: what, Count: len(v), Median: Quantile(v, 0.5), P95: Quantile(v, 0.95), P99: Quantile(v, 0.99)}
	}
	j.Client = stat("client", "k6 request", cs)
	j.Server = stat("server", "first to last mark", ss)
	j.Outside = stat("outside", "client - server", os)
	return j, []byte(buf.String())
}

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// WriteJoin prints the client/server comparison as a small table.
func WriteJoin(w io.Writer, j *Join) error {
	if _, err := fmt.Fprintf(w, "\n%d requests joined by trace id with k6's measurements (%d only in k6, %d only in the log)\n", j.Matched, j.ClientOnly, j.ServerOnly); err != nil {
		return err
	}
	if j.Matched == 0 {
		return nil
	}
	return WriteTable(w, []Step{j.Client, j.Server, j.Outside})
}
