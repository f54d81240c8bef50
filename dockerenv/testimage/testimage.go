// Package testimage builds the small local images sb's Docker tests run
// in, since the test machines reach no registry: FROM scratch, holding
// Debian's static busybox (/bin/busybox, package busybox-static) installed as
// /bin/sh and friends, optionally with another USER and extra files (e.g. a
// fake provider CLI). Images are tagged by a hash of their content and built
// once per engine.
package testimage

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"sb/dockerenv"
)

// Busybox is where the static busybox binary is taken from.
const Busybox = "/bin/busybox"

// Repository is the repository test images are tagged in.
const Repository = "sb-test-busybox"

// RequireEnv, when set to 1, turns "no Docker engine" into a test failure
// instead of a skip: CI sets it so that Docker tests can never silently
// skip there.
const RequireEnv = "SB_REQUIRE_DOCKER"

// Options chooses a variant of the image.
type Options struct {
	// User is the image's USER ("" keeps root), e.g. "12345".
	User string
	// Files adds executable files: absolute path in the image → content.
	Files map[string]string
}

var (
	mu    sync.Mutex
	built = map[string]bool{}
)

// Build returns the tag of the image for o, building it unless the engine
// has it already.
func Build(ctx context.Context, e *dockerenv.Engine, o Options) (string, error) {
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		return "", fmt.Errorf("test images need a static busybox at %s: %w; install it with `apt-get install -y busybox-static`", Busybox, err)
	}
	if err := checkStatic(Busybox); err != nil {
		return "", err
	}
	dockerfile := dockerfileFor(o)
	h := sha256.New()
	h.Write(bb)
	h.Write([]byte(dockerfile))
	paths := sortedKeys(o.Files)
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%s\x00", p, o.Files[p])
	}
	tag := Repository + ":" + hex.EncodeToString(h.Sum(nil))[:16]

	mu.Lock()
	defer mu.Unlock()
	if built[tag] {
		return tag, nil
	}
	if ok, err := e.ImageExists(ctx, tag); err != nil {
		return "", err
	} else if ok {
		built[tag] = true
		return tag, nil
	}

	dir, err := os.MkdirTemp("", "sb-testimage-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "busybox"), bb, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", err
	}
	for _, p := range paths {
		dst := filepath.Join(dir, "files", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(dst, []byte(o.Files[p]), 0o755); err != nil {
			return "", err
		}
	}
	var log strings.Builder
	if _, err := e.Build(ctx, dockerenv.BuildOptions{Tag: tag, ContextDir: dir, Output: &log}); err != nil {
		return "", fmt.Errorf("building test image %s: %w\n%s", tag, err, log.String())
	}
	built[tag] = true
	return tag, nil
}

func dockerfileFor(o Options) string {
	var b strings.Builder
	b.WriteString("FROM scratch\n")
	b.WriteString("COPY busybox /bin/busybox\n")
	b.WriteString(`RUN ["/bin/busybox", "--install", "-s", "/bin"]` + "\n")
	b.WriteString("RUN mkdir -p /tmp /root /etc /usr/bin && chmod 1777 /tmp\n")
	if len(o.Files) > 0 {
		b.WriteString("COPY files/ /\n")
	}
	if o.User != "" {
		fmt.Fprintf(&b, "USER %s\n", o.User)
	}
	return b.String()
}

// checkStatic refuses a dynamically linked busybox (Debian's plain
// `busybox` package), which cannot run in a FROM scratch image.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not an ELF executable: %w; install busybox-static", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked and cannot run in a FROM scratch image; install it with `apt-get install -y busybox-static`", path)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Engine connects to the Docker engine for a test, skipping the test with a
// message when none is reachable (failing it when SB_REQUIRE_DOCKER=1).
func Engine(t testing.TB) *dockerenv.Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := dockerenv.Connect(ctx)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("%s=1 but no Docker engine is reachable: %v", RequireEnv, err)
		}
		t.Skipf("skipping: this test needs a Docker engine: %v", err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// Require connects to the engine (see Engine) and returns it with the tag
// of the image for o, failing the test when the image cannot be built.
func Require(t testing.TB, o Options) (*dockerenv.Engine, string) {
	t.Helper()
	e := Engine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tag, err := Build(ctx, e, o)
	if err != nil {
		t.Fatal(err)
	}
	return e, tag
}
