package dockerenv_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

// serverSource is the service the Serve tests run: a static HTTP server
// that prints its arguments at start, one line per request on stdout and
// on stderr, answers with $GREETING and the path, exits on SIGTERM, and
// with `-exit N` exits at once with status N (a service failing to start).
const serverSource = `package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	fmt.Println("args:", strings.Join(os.Args[1:], " "))
	if len(os.Args) == 3 && os.Args[1] == "-exit" {
		code, _ := strconv.Atoi(os.Args[2])
		fmt.Println("exiting as asked")
		fmt.Fprintln(os.Stderr, "stderr before exit")
		os.Exit(code)
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("stdout hit", r.URL.Path)
		fmt.Fprintln(os.Stderr, "stderr hit", r.URL.Path)
		fmt.Fprintf(w, "%s %s", os.Getenv("GREETING"), r.URL.Path)
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := &http.Server{Addr: ":8080"}
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
`

var (
	serverImageOnce sync.Once
	serverImageTag  string
	serverImageErr  error
)

// serverImage compiles serverSource statically with the host's Go and
// builds an image FROM scratch holding only it, as its ENTRYPOINT (no
// CMD, no shell): the shape of a Go service image. Built once per test
// binary; the tag is the binary's hash, so an engine that has it already
// skips the build.
func serverImage(t *testing.T) (*dockerenv.Engine, string) {
	t.Helper()
	e := testimage.Engine(t)
	serverImageOnce.Do(func() { serverImageTag, serverImageErr = buildServerImage(e) })
	if serverImageErr != nil {
		t.Fatal(serverImageErr)
	}
	return e, serverImageTag
}

func buildServerImage(e *dockerenv.Engine) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "sb-serve-test-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"src/go.mod":  "module sbservetest\n\ngo 1.22\n",
		"src/main.go": serverSource,
		"Dockerfile":  "FROM scratch\nCOPY server /server\nENTRYPOINT [\"/server\"]\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "server"), ".")
	build.Dir = filepath.Join(dir, "src")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOWORK=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("compiling the test server: %w\n%s", err, out)
	}
	if err := os.RemoveAll(filepath.Join(dir, "src")); err != nil {
		return "", err
	}
	bin, err := os.ReadFile(filepath.Join(dir, "server"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(bin)
	tag := "sb-test-httpserver:" + hex.EncodeToString(sum[:])[:16]
	if ok, err := e.ImageExists(ctx, tag); err != nil || ok {
		return tag, err
	}
	var log strings.Builder
	if _, err := e.Build(ctx, dockerenv.BuildOptions{Tag: tag, ContextDir: dir, Output: &log}); err != nil {
		return "", fmt.Errorf("building %s: %w\n%s", tag, err, log.String())
	}
	return tag, nil
}

// rawClient talks to the engine directly, to make what sb must not touch
// (a container of the user's) and to look at what Serve made.
func rawClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// serve starts a service and makes sure the test leaves nothing behind.
func serve(t *testing.T, e *dockerenv.Engine, o dockerenv.ServeOptions) dockerenv.Service {
	t.Helper()
	t.Cleanup(func() { _, _ = e.RemoveContainers(context.Background(), o.Benchmark) })
	svc, err := e.Serve(ctxT(t), o)
	if err != nil {
		t.Fatalf("Serve(%s): %v", o.Name, err)
	}
	return svc
}

func get(t *testing.T, port int, path string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	url := fmt.Sprintf("http://127.0.0.1:%d%s", port, path)
	// The port is published before the server inside listens; a few
	// retries cover the server's start-up.
	var lastErr error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			lastErr = err
			continue
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			lastErr = err
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s %s", url, resp.Status, body)
		}
		return string(body)
	}
	t.Fatalf("GET %s: %v", url, lastErr)
	return ""
}

func TestServeLogsStop(t *testing.T) {
	e, img := serverImage(t)
	ctx := ctxT(t)
	bench, name := uniq(t), uniq(t)
	svc := serve(t, e, dockerenv.ServeOptions{
		Image: img, Name: name, Benchmark: bench,
		Ports: map[int]int{8080: 0},
		Env:   map[string]string{"GREETING": "hello 'there' $HOME"},
	})
	port := svc.Ports[8080]
	if svc.Name != name || svc.ID == "" || port == 0 || len(svc.Ports) != 1 {
		t.Fatalf("Serve returned %+v, want name %s, an ID and one host port for 8080", svc, name)
	}

	// nil Cmd kept the image's ENTRYPOINT (the image has nothing else).
	if got := get(t, port, "/first"); got != "hello 'there' $HOME /first" {
		t.Errorf("GET /first = %q", got)
	}
	// The engine stamps a line when it reads it, shortly after the server
	// printed it; the pause keeps /first's lines before mid.
	time.Sleep(200 * time.Millisecond)
	mid := time.Now()
	if got := get(t, port, "/second"); got != "hello 'there' $HOME /second" {
		t.Errorf("GET /second = %q", got)
	}

	all, err := e.Logs(ctx, name, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"args: \n", "stdout hit /first\n", "stderr hit /first\n", "stdout hit /second\n", "stderr hit /second\n"} {
		if !strings.Contains(all, want) {
			t.Errorf("logs lack %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "\x01") || strings.Contains(all, "\x02") {
		t.Errorf("logs still carry stream headers: %q", all)
	}
	recent, err := e.Logs(ctx, name, mid)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(recent, "stdout hit /second\n") || !strings.Contains(recent, "stderr hit /second\n") || strings.Contains(recent, "/first") || strings.Contains(recent, "args:") {
		t.Errorf("logs since the second request = %q, want only its two lines", recent)
	}

	// Published on loopback only.
	info, err := rawClient(t).ContainerInspect(ctx, svc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for p, bs := range info.NetworkSettings.Ports {
		for _, b := range bs {
			if b.HostIP != "127.0.0.1" {
				t.Errorf("port %s published on %q, want 127.0.0.1 only", p, b.HostIP)
			}
		}
	}
	if info.Config.Labels[dockerenv.LabelBenchmark] != bench || info.Config.Labels[dockerenv.LabelManaged] != "true" || info.Config.Labels[dockerenv.LabelService] != "true" {
		t.Errorf("labels = %v", info.Config.Labels)
	}

	list, err := e.Services(ctx, bench)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != name || list[0].ID != svc.ID || list[0].Image != img || list[0].Ports[8080] != port || len(list[0].Ports) != 1 {
		t.Errorf("Services(%s) = %+v, want [%+v]", bench, list, svc)
	}

	start := time.Now()
	if err := e.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	// The server exits on SIGTERM: no waiting out the grace period.
	if d := time.Since(start); d > 2500*time.Millisecond {
		t.Errorf("Stop took %s for a server that exits on SIGTERM", d)
	}
	noLeftovers(t, e, bench)
	if list, err := e.Services(ctx, bench); err != nil || len(list) != 0 {
		t.Errorf("Services after Stop = %v, %v", list, err)
	}
	if err := e.Stop(ctx, name); err != nil {
		t.Errorf("stopping a missing service: %v", err)
	}
	if _, err := e.Logs(ctx, name, time.Time{}); err == nil || !strings.Contains(err.Error(), "no container named "+name) {
		t.Errorf("Logs of a stopped service: err = %v", err)
	}
}

func TestServeNameClash(t *testing.T) {
	e, img := serverImage(t)
	ctx := ctxT(t)
	raw := rawClient(t)

	// A container of the user's with the name: refused, and left alone.
	foreign := uniq(t)
	if _, err := raw.ContainerCreate(ctx, &container.Config{Image: img}, nil, nil, nil, foreign); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.ContainerRemove(context.Background(), foreign, container.RemoveOptions{Force: true}) })
	bench := uniq(t)
	t.Cleanup(func() { _, _ = e.RemoveContainers(context.Background(), bench) })
	_, err := e.Serve(ctx, dockerenv.ServeOptions{Image: img, Name: foreign, Benchmark: bench})
	if err == nil || !strings.Contains(err.Error(), "not started by sb") {
		t.Errorf("Serve over a foreign container: err = %v", err)
	}
	if err := e.Stop(ctx, foreign); err == nil || !strings.Contains(err.Error(), "not started by sb") {
		t.Errorf("Stop of a foreign container: err = %v", err)
	}
	if _, err := raw.ContainerInspect(ctx, foreign); err != nil {
		t.Errorf("the foreign container is gone: %v", err)
	}

	// sb's exited service of that name is replaced, whatever its benchmark.
	name, other := uniq(t), uniq(t)
	t.Cleanup(func() { _, _ = e.RemoveContainers(context.Background(), other) })
	first := serve(t, e, dockerenv.ServeOptions{Image: img, Name: name, Benchmark: other, Ports: map[int]int{8080: 0}})
	if err := raw.ContainerStop(ctx, first.ID, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	second := serve(t, e, dockerenv.ServeOptions{Image: img, Name: name, Benchmark: bench, Ports: map[int]int{8080: 0}})
	if second.ID == first.ID {
		t.Fatal("the exited service was reused, not replaced")
	}
	if got := get(t, second.Ports[8080], "/again"); got != " /again" {
		t.Errorf("GET /again = %q", got)
	}

	// A running one of another benchmark is refused; of the same
	// benchmark (prepare run again) it is replaced.
	if _, err := e.Serve(ctx, dockerenv.ServeOptions{Image: img, Name: name, Benchmark: other}); err == nil || !strings.Contains(err.Error(), "already running for benchmark") {
		t.Errorf("Serve over another benchmark's running service: err = %v", err)
	}
	third := serve(t, e, dockerenv.ServeOptions{Image: img, Name: name, Benchmark: bench, Ports: map[int]int{8080: 0}})
	if third.ID == second.ID {
		t.Error("the running service was not replaced")
	}
	ids, err := e.Containers(ctx, bench)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != third.ID {
		t.Errorf("containers of %s = %v, want only %s", bench, ids, third.ID)
	}
	if err := e.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, e, bench)
	noLeftovers(t, e, other)
}

func TestServeCmdAndEarlyExit(t *testing.T) {
	e, img := serverImage(t)
	ctx := ctxT(t)
	bench := uniq(t)

	// Cmd becomes the arguments of the image's ENTRYPOINT.
	name := uniq(t)
	serve(t, e, dockerenv.ServeOptions{Image: img, Name: name, Benchmark: bench, Cmd: []string{"alpha", "two words"}})
	logs, err := e.Logs(ctx, name, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if logs != "args: alpha two words\n" {
		t.Errorf("logs = %q, want the arguments line", logs)
	}
	if err := e.Stop(ctx, name); err != nil {
		t.Fatal(err)
	}

	// A service that exits at once fails Serve with its output and is
	// removed.
	_, err = e.Serve(ctx, dockerenv.ServeOptions{Image: img, Name: uniq(t), Benchmark: bench, Cmd: []string{"-exit", "3"}})
	if err == nil || !strings.Contains(err.Error(), "status 3") || !strings.Contains(err.Error(), "exiting as asked") || !strings.Contains(err.Error(), "stderr before exit") {
		t.Errorf("Serve of a service that exits: err = %v", err)
	}
	noLeftovers(t, e, bench)
}

func TestServeHostPorts(t *testing.T) {
	e, img := serverImage(t)
	ctx := ctxT(t)
	bench := uniq(t)

	// A port held by someone else: a clear error and nothing left.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taken := l.Addr().(*net.TCPAddr).Port
	_, err = e.Serve(ctx, dockerenv.ServeOptions{Image: img, Name: uniq(t), Benchmark: bench, Ports: map[int]int{8080: taken}})
	if err == nil || !strings.Contains(err.Error(), "host port is taken") {
		t.Errorf("Serve on a taken port: err = %v", err)
	}
	noLeftovers(t, e, bench)

	// Once free, that exact port is used.
	l.Close()
	svc := serve(t, e, dockerenv.ServeOptions{Image: img, Name: uniq(t), Benchmark: bench, Ports: map[int]int{8080: taken}})
	if svc.Ports[8080] != taken {
		t.Errorf("ports = %v, want 8080 → %d", svc.Ports, taken)
	}
	if got := get(t, taken, "/fixed"); got != " /fixed" {
		t.Errorf("GET /fixed = %q", got)
	}

	for _, bad := range []map[int]int{{0: 0}, {8080: -1}, {70000: 0}, {8080: 65536}} {
		if _, err := e.Serve(ctx, dockerenv.ServeOptions{Image: img, Name: uniq(t), Benchmark: bench, Ports: bad}); err == nil || !strings.Contains(err.Error(), "not a TCP port") {
			t.Errorf("ports %v: err = %v", bad, err)
		}
	}
	if _, err := e.Serve(ctx, dockerenv.ServeOptions{Image: img, Benchmark: bench}); err == nil || !strings.Contains(err.Error(), "needs a name") {
		t.Errorf("no name: err = %v", err)
	}
}
