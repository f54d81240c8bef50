package loglines

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJoinWithK6Metrics(t *testing.T) {
	dir := t.TempDir()
	log := strings.Join([]string{
		"1600000000000+0000|RECEIVED|1-5f5e1000-aaaaaaaaaaaaaaaaaaaaaaaa",
		"1600000000010+0000|RESPONDED|1-5f5e1000-aaaaaaaaaaaaaaaaaaaaaaaa",
		"1600000001000+0000|RECEIVED|1-5f5e1001-bbbbbbbbbbbbbbbbbbbbbbbb",
		"1600000001030+0000|RESPONDED|1-5f5e1001-bbbbbbbbbbbbbbbbbbbbbbbb",
		"1600000002000+0000|RECEIVED|only-in-log",
		"1600000002001+0000|RESPONDED|only-in-log",
	}, "\n")
	metrics := "metric_name,timestamp,metric_value,check,error,error_code,expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,extra_tags,metadata\n" +
		"http_reqs,1600000000,1.000000,,,,true,,GET,u,,s,,200,,,u,trace_id=1-5f5e1000-aaaaaaaaaaaaaaaaaaaaaaaa,\n" +
		"http_req_duration,1600000000,12.500000,,,,true,,GET,u,,s,,200,,,u,trace_id=1-5f5e1000-aaaaaaaaaaaaaaaaaaaaaaaa,\n" +
		"http_req_duration,1600000001,31.000000,,,,true,,GET,u,,s,,200,,,u,group=x&trace_id=Root=1-5f5e1001-bbbbbbbbbbbbbbbbbbbbbbbb,\n" +
		"http_req_duration,1600000003,5.000000,,,,true,,GET,u,,s,,200,,,u,trace_id=only-in-k6,\n"
	logPath := filepath.Join(dir, "traces.log")
	os.WriteFile(logPath, []byte(log), 0o644)
	os.WriteFile(filepath.Join(dir, "k6_metrics.csv"), []byte(metrics), 0o644)
	sum, err := AnalyzeFile(context.Background(), logPath, AnalyzeOptions{ClientMetrics: filepath.Join(dir, "k6_metrics.csv")})
	if err != nil {
		t.Fatal(err)
	}
	j := sum.Join
	if j == nil || j.Matched != 2 || j.ClientOnly != 1 || j.ServerOnly != 1 {
		t.Fatalf("join %+v", j)
	}
	if j.Client.Median != 21.75 || j.Server.Median != 20 || j.Outside.Median != 1.75 {
		t.Errorf("medians client %v server %v outside %v", j.Client.Median, j.Server.Median, j.Outside.Median)
	}
	data, _ := os.ReadFile(filepath.Join(dir, ClientLatencyFile))
	want := "key,client_ms,server_ms,outside_ms\r\n1-5f5e1000-aaaaaaaaaaaaaaaaaaaaaaaa,12.500,10.000,2.500\r\n1-5f5e1001-bbbbbbbbbbbbbbbbbbbbbbbb,31.000,30.000,1.000\r\n"
	if string(data) != want {
		t.Errorf("client_latency.csv:\n%q\nwant\n%q", data, want)
	}
	var out strings.Builder
	if err := WriteJoin(&out, j); err != nil || !strings.Contains(out.String(), "2 requests joined by trace id") {
		t.Errorf("table: %v\n%s", err, out.String())
	}
	if _, err := ReadClientLatency(logPath); err == nil {
		t.Error("a log read as k6 metrics")
	}
}
