package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
	"sb/tracing/loglines"
)

// TestImageServesInstrumentedThumbnails builds the example's image the way
// its prepare does (host-compiled static handler, the Dockerfile and
// .dockerignore of the benchmark directory), serves it, and reads the
// instrumentation back from the container's logs.
func TestImageServesInstrumentedThumbnails(t *testing.T) {
	e := testimage.Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	dir := t.TempDir()
	for _, f := range []string{"Dockerfile", ".dockerignore", "workload_script.js"} {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(dir, "app", "bin", "handler"), ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("compiling the handler: %v\n%s", err, out)
	}

	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	id := "sb-test-local-http-" + hex.EncodeToString(suffix)
	tag := id + ":latest"
	t.Cleanup(func() { _ = e.RemoveImage(context.Background(), tag) })
	var log strings.Builder
	if _, err := e.Build(ctx, dockerenv.BuildOptions{Tag: tag, ContextDir: dir, Output: &log}); err != nil {
		t.Fatalf("building the image: %v\n%s", err, log.String())
	}

	t.Cleanup(func() { _, _ = e.RemoveContainers(context.Background(), id) })
	svc, err := e.Serve(ctx, dockerenv.ServeOptions{
		Image: tag, Name: id, Benchmark: id,
		Ports: map[int]int{8080: 0},
		Env:   map[string]string{"INIT_DELAY_MS": "50"},
	})
	if err != nil {
		t.Fatal(err)
	}
	url := "http://127.0.0.1:" + strconv.Itoa(svc.Ports[8080]) + "/?width=40"
	keys := []string{"1-5f69e0c6-cccccccccccccccccccccccc", "1-5f69e0c6-dddddddddddddddddddddddd"}
	for _, key := range keys {
		var resp *http.Response
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			req.Header.Set("X-Amzn-Trace-Id", "Root="+key)
			if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" || len(body) == 0 {
			t.Fatalf("GET %s: %s %q", url, resp.Status, resp.Header.Get("Content-Type"))
		}
	}

	logs, err := e.Logs(ctx, id, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var marks []loglines.Mark
	for i, line := range strings.Split(strings.TrimSuffix(logs, "\n"), "\n") {
		m, ok, err := loglines.ParseLine([]byte(line), i+1)
		switch {
		case err != nil:
			t.Errorf("malformed mark %q: %v", line, err)
		case ok:
			if m.Offset != 0 {
				t.Errorf("a FROM scratch image has no zone data; offset %d in %q", m.Offset, line)
			}
			marks = append(marks, m)
		case !strings.HasPrefix(line, "thumbnail handler listening on"):
			t.Errorf("unexpected log line %q", line)
		}
	}
	if got := labelsOf(marks, keys[0]); !slices.Equal(got, firstRequest) {
		t.Errorf("first request's labels = %v, want %v\n%s", got, firstRequest, logs)
	}
	if got := labelsOf(marks, keys[1]); !slices.Equal(got, fullRequest) {
		t.Errorf("second request's labels = %v, want %v\n%s", got, fullRequest, logs)
	}

	if err := e.Stop(ctx, id); err != nil {
		t.Fatal(err)
	}
	if left, err := e.Containers(ctx, id); err != nil || len(left) != 0 {
		t.Errorf("containers left: %v, %v", left, err)
	}
}
