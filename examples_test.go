package main

// The ready-made benchmarks in examples/ are checked here as a user would
// meet them, without a cloud account, a Docker engine or the network: each
// loads, its files parse, `sb --dry-run test` plans it, and the cloud
// examples' workload scripts run with the embedded k6 against a local
// stand-in for the deployed application.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // the upload workloads post JPEGs
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/grafana/sobek/parser"
	"github.com/rs/zerolog"
	"gopkg.in/yaml.v3"

	"sb/starlarkapi"
)

// exampleBenchmark is one *_benchmark.star below examples/.
type exampleBenchmark struct {
	file string // examples/<name>/[<cloud>/]<name>_benchmark.star
	root string // examples/<name>: what a copy must include (benchmarks use root: ..)
}

// dir is the benchmark's directory relative to root.
func (b exampleBenchmark) rel() string {
	r, _ := filepath.Rel(b.root, filepath.Dir(b.file))
	return r
}

// cloud tells the cloud of a benchmark in examples/<name>/<cloud>/, or "".
func (b exampleBenchmark) cloud() string {
	if r := b.rel(); r != "." {
		return r
	}
	return ""
}

func exampleBenchmarks(t *testing.T) []exampleBenchmark {
	t.Helper()
	flat, _ := filepath.Glob("examples/*/*_benchmark.star")
	nested, _ := filepath.Glob("examples/*/*/*_benchmark.star")
	var out []exampleBenchmark
	for _, f := range append(flat, nested...) {
		parts := strings.Split(filepath.ToSlash(f), "/")
		out = append(out, exampleBenchmark{file: f, root: filepath.Join(parts[0], parts[1])})
	}
	if len(out) == 0 {
		t.Fatal("no examples/*/*_benchmark.star or examples/*/*/*_benchmark.star found")
	}
	return out
}

// builtOrRun is what prepare and local runs leave in an example; never part
// of what is checked or copied.
func builtOrRun(name string) bool {
	return slices.Contains([]string{".cache", "build", ".aws-sam", ".sb", "logs", "bin", "sb-benchmarks", "workload_options.json"}, name)
}

// copyExample copies an example's root into a temporary directory and
// returns the copied benchmark directory, so that nothing a test runs can
// touch the source tree.
func copyExample(t *testing.T, b exampleBenchmark) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(b.root))
	err := filepath.WalkDir(b.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(b.root, p)
		if builtOrRun(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, "/app/handler") {
			return nil // the handler binaries are built by prepare
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v", b.root, err)
	}
	return filepath.Join(dst, b.rel())
}

// runSB runs the command line in-process and returns its exit code and what
// it printed on standard output (where the dry-run plan goes). spec.run_k6
// starts `sb k6` as a child process, found through the name sb was invoked
// by; TestMain (testscript.Main) has put an `sb` that is this test binary
// acting as sb on $PATH, so the name is set to plain "sb" meanwhile.
func runSB(t *testing.T, args ...string) (int, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	savedOut, savedArg0 := os.Stdout, os.Args[0]
	os.Stdout, os.Args[0] = f, "sb"
	code := run(context.Background(), args)
	os.Stdout, os.Args[0] = savedOut, savedArg0
	out, _ := os.ReadFile(f.Name())
	return int(code), string(out)
}

var (
	k6StepRE       = regexp.MustCompile(`(?m)^\s+\d+\. spec\.run_k6 \([^)]*\): (\S+)`)
	buildStepRE    = regexp.MustCompile(`(?m)^\s+\d+\. spec\.build \S+ from (\S+) \(context (\S+)\)`)
	templateFlagRE = regexp.MustCompile(`--template-file[ =](\S+)`)
	openCallRE     = regexp.MustCompile(`\bopen\(\s*["']([^"']+)["']`)
)

// TestExamples checks every ready-made benchmark: it loads, the files beside
// it parse, and `sb --dry-run test` plans it successfully, naming only
// workload scripts, Dockerfiles and templates that exist.
func TestExamples(t *testing.T) {
	for _, b := range exampleBenchmarks(t) {
		t.Run(filepath.ToSlash(filepath.Dir(b.file)), func(t *testing.T) {
			if _, err := starlarkapi.Load(b.file, starlarkapi.LoadOptions{Log: zerolog.Nop()}); err != nil {
				t.Fatalf("load: %v", err)
			}
			checkFilesParse(t, filepath.Dir(b.file))

			dir := copyExample(t, b)
			code, plan := runSB(t, "--dry-run", "-f", dir, "test")
			if code != 0 {
				t.Fatalf("sb --dry-run test exited %d; plan:\n%s", code, plan)
			}
			for _, hook := range []string{"prepare", "invoke", "cleanup"} {
				if !strings.Contains(plan, hook+"() would run") {
					t.Errorf("no plan for %s in:\n%s", hook, plan)
				}
			}
			for _, left := range []string{".sb", "logs", "workload_options.json"} {
				if _, err := os.Stat(filepath.Join(dir, left)); err == nil {
					t.Errorf("the dry run left %s behind", left)
				}
			}
			for _, m := range k6StepRE.FindAllStringSubmatch(plan, -1) {
				checkWorkloadScript(t, filepath.Join(dir, m[1]))
			}
			for _, m := range buildStepRE.FindAllStringSubmatch(plan, -1) {
				if _, err := os.Stat(filepath.Join(dir, m[2], m[1])); err != nil {
					t.Errorf("spec.build names a Dockerfile that does not exist: %v", err)
				}
			}
			for _, m := range templateFlagRE.FindAllStringSubmatch(plan, -1) {
				if _, err := os.Stat(filepath.Join(dir, strings.Trim(m[1], `"'`))); err != nil {
					t.Errorf("a deploy command names a template that does not exist: %v", err)
				}
			}
			if b.cloud() != "" && !k6StepRE.MatchString(plan) {
				t.Errorf("cloud example runs no workload (spec.run_k6) in its plan:\n%s", plan)
			}
		})
	}
}

// checkFilesParse parses every template, configuration file, Dockerfile and
// k6 script in a benchmark directory.
func checkFilesParse(t *testing.T, dir string) {
	t.Helper()
	var checked int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if builtOrRun(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		name := d.Name()
		var perr error
		switch {
		case strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"):
			perr = parseYAML(p)
		case strings.HasSuffix(name, ".json"):
			perr = parseJSON(p)
		case name == "Dockerfile" || strings.HasSuffix(name, ".Dockerfile") || strings.HasPrefix(name, "Dockerfile."):
			perr = parseDockerfile(p)
		case strings.HasSuffix(name, ".js"):
			perr = parseJS(p)
		default:
			return nil
		}
		checked++
		if perr != nil {
			t.Errorf("%s: %v", p, perr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files parsed in %s", checked, dir)
}

// parseYAML decodes every document of a YAML file into yaml.Node, which
// keeps CloudFormation's short-form tags (!Ref, !Sub, !GetAtt) as tags.
func parseYAML(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	for docs := 0; ; docs++ {
		var n yaml.Node
		if err := dec.Decode(&n); errors.Is(err, io.EOF) {
			if docs == 0 {
				return errors.New("empty YAML file")
			}
			return nil
		} else if err != nil {
			return err
		}
		if root := n.Content; len(root) == 1 && root[0].Kind == yaml.MappingNode && isTemplate(root[0]) {
			if res := mappingValue(root[0], "Resources"); res == nil || res.Kind != yaml.MappingNode || len(res.Content) == 0 {
				return errors.New("CloudFormation template without resources")
			}
		}
	}
}

func isTemplate(m *yaml.Node) bool {
	return mappingValue(m, "AWSTemplateFormatVersion") != nil || mappingValue(m, "Transform") != nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func parseJSON(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var v any
	return json.Unmarshal(data, &v)
}

// dockerInstructions are the Dockerfile instructions (Dockerfile reference).
var dockerInstructions = []string{"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
	"LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"}

// parseDockerfile checks a Dockerfile's structure: every instruction is
// known and has arguments, and the first one (after ARGs) is FROM. Lines
// continue after a trailing backslash; comments and parser directives are
// skipped.
func parseDockerfile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var line string
	var first string
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if line == "" && (text == "" || strings.HasPrefix(text, "#")) {
			continue
		}
		if strings.HasSuffix(text, `\`) {
			line += strings.TrimSuffix(text, `\`) + " "
			continue
		}
		line += text
		fields := strings.Fields(line)
		line = ""
		instr := strings.ToUpper(fields[0])
		if !slices.Contains(dockerInstructions, instr) {
			return fmt.Errorf("line %d: unknown instruction %q", n, fields[0])
		}
		if len(fields) < 2 {
			return fmt.Errorf("line %d: %s without arguments", n, instr)
		}
		if first == "" && instr != "ARG" {
			first = instr
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if first != "FROM" {
		return fmt.Errorf("the first instruction is %q, not FROM", first)
	}
	return nil
}

// parseJS parses a k6 script as the ES module k6 loads it as.
func parseJS(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	_, err = parser.ParseFile(nil, path, string(src), 0, parser.IsModule)
	return err
}

// checkWorkloadScript checks a script the plan runs: it exists, parses,
// exports the default function k6 iterates, and every file it open()s is
// there.
func checkWorkloadScript(t *testing.T, script string) {
	t.Helper()
	src, err := os.ReadFile(script)
	if err != nil {
		t.Errorf("the plan runs a workload script that does not exist: %v", err)
		return
	}
	if err := parseJS(script); err != nil {
		t.Errorf("%s: %v", script, err)
	}
	if !strings.Contains(string(src), "export default function") {
		t.Errorf("%s exports no default function for k6 to iterate", script)
	}
	for _, m := range openCallRE.FindAllStringSubmatch(string(src), -1) {
		if _, err := os.Stat(filepath.Join(filepath.Dir(script), m[1])); err != nil {
			t.Errorf("%s opens a file that does not exist: %v", script, err)
		}
	}
}

// sentRequest is what the stand-in application saw of one request.
type sentRequest struct {
	method, path, traceID, contentType string
	body                               []byte
}

// TestCloudExampleWorkloads runs each cloud example's invoke hook for real,
// with the embedded k6, against a local stand-in for the deployed
// application (its address given as the endpoint that prepare would have
// stored): the workload reaches the function's route, uploads a real image
// where the function expects one, sends a trace header and tags the request
// with the same trace id in k6_metrics.csv.
func TestCloudExampleWorkloads(t *testing.T) {
	// The route each function serves, and whether it takes an image.
	routes := map[string]struct {
		method, path string
		image        bool
	}{
		"thumbnail_generator/aws":   {"POST", "/upload", true},
		"thumbnail_generator/azure": {"POST", "/api/upload", true},
		"minimal_baseline/aws":      {"GET", "/hello", false},
		"minimal_baseline/azure":    {"GET", "/api/hello", false},
	}
	seen := 0
	for _, b := range exampleBenchmarks(t) {
		if b.cloud() == "" {
			continue
		}
		name := filepath.Base(b.root) + "/" + b.cloud()
		route, known := routes[name]
		if !known {
			t.Errorf("%s: a cloud example this test does not know; add its route", name)
			continue
		}
		seen++
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var got []sentRequest
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				id := ""
				if h := r.Header.Get("X-Amzn-Trace-Id"); h != "" {
					id = strings.TrimPrefix(strings.Split(h, ";")[0], "Root=")
				} else if tp := strings.Split(r.Header.Get("traceparent"), "-"); len(tp) == 4 {
					id = tp[1]
				}
				mu.Lock()
				got = append(got, sentRequest{r.Method, r.URL.Path, id, r.Header.Get("Content-Type"), body})
				mu.Unlock()
				if r.Method == http.MethodPost {
					w.WriteHeader(http.StatusCreated)
				}
				fmt.Fprint(w, `{}`)
			}))
			defer srv.Close()

			dir := copyExample(t, b)
			if code, _ := runSB(t, "-f", dir, "--set", "endpoint="+srv.URL, "invoke", "2"); code != 0 {
				t.Fatalf("sb invoke 2 exited %d", code)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 2 {
				t.Fatalf("the application got %d requests, want 2", len(got))
			}
			metrics, err := filepath.Glob(filepath.Join(dir, "logs", "*", "k6_metrics.csv"))
			if err != nil || len(metrics) != 1 {
				t.Fatalf("k6_metrics.csv: %v %v", metrics, err)
			}
			csv, err := os.ReadFile(metrics[0])
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range got {
				if r.method != route.method || r.path != route.path {
					t.Errorf("request %s %s, want %s %s", r.method, r.path, route.method, route.path)
				}
				if r.traceID == "" {
					t.Errorf("request without an X-Amzn-Trace-Id or traceparent header")
				} else if !bytes.Contains(csv, []byte("trace_id="+r.traceID)) {
					t.Errorf("trace id %s of a request is not a trace_id tag in k6_metrics.csv", r.traceID)
				}
				if route.image {
					cfg, format, err := image.DecodeConfig(bytes.NewReader(r.body))
					if err != nil || r.contentType != "image/"+format {
						t.Errorf("uploaded %d bytes as %q: %s %v", len(r.body), r.contentType, format, err)
					} else if cfg.Width < 256 {
						t.Errorf("uploaded a %dx%d image, too small to need a thumbnail", cfg.Width, cfg.Height)
					}
				}
			}
		})
	}
	if seen == 0 {
		t.Fatal("no cloud examples (examples/<name>/<cloud>/) found")
	}
}
