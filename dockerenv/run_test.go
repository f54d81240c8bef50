package dockerenv_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

func uniq(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())) + "-" + hex.EncodeToString(b)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// noLeftovers fails the test when any container labelled for benchmark exists.
func noLeftovers(t *testing.T, e *dockerenv.Engine, benchmark string) {
	t.Helper()
	ids, err := e.Containers(context.Background(), benchmark)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 0 {
		t.Errorf("containers left behind for %s: %v", benchmark, ids)
		_, _ = e.RemoveContainers(context.Background(), benchmark)
	}
}

func run(t *testing.T, e *dockerenv.Engine, o dockerenv.RunOptions) dockerenv.RunResult {
	t.Helper()
	if o.Benchmark == "" {
		o.Benchmark = uniq(t)
	}
	res, err := e.Run(ctxT(t), o)
	if err != nil {
		t.Fatalf("Run(%q): %v", o.Command, err)
	}
	noLeftovers(t, e, o.Benchmark)
	return res
}

func TestRunWorkingDirAndRootMount(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	root := filepath.Join(t.TempDir(), "higher_root_path")
	bench := filepath.Join(root, "azure")
	if err := os.MkdirAll(filepath.Join(root, "shared"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(bench, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "shared", "content.txt"), []byte("shared content\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	// root: .. — the benchmark directory is a sub path of the mount and
	// a sibling directory is reachable through it.
	ws, err := dockerenv.AppWorkspace(root, bench)
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, e, dockerenv.RunOptions{Image: img, Command: "pwd; cat ../shared/content.txt", Workspace: ws})
	if want := "/apps/higher_root_path/azure\nshared content\n"; res.Output != want || res.ExitCode != 0 {
		t.Errorf("root: .. run = %q (exit %d), want %q", res.Output, res.ExitCode, want)
	}

	// plain benchmark: mounted at /apps/<dir name>, working there.
	ws, err = dockerenv.AppWorkspace(bench, bench)
	if err != nil {
		t.Fatal(err)
	}
	res = run(t, e, dockerenv.RunOptions{Image: img, Command: "pwd; ls ..", Workspace: ws})
	if want := "/apps/azure\nazure\n"; res.Output != want {
		t.Errorf("plain run = %q, want %q", res.Output, want)
	}
}

func TestRunCommandReachesShellUnchanged(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	cmd := `x='a b'; echo "$x" '$HOME' "it's" | tr a-z A-Z; printf '%s\n' one two three | awk '{print NR": "$1}'; printf '%s\n' 'back\slash' "dq\"uote"`
	res := run(t, e, dockerenv.RunOptions{Image: img, Command: cmd})
	want := "A B $HOME IT'S\n1: one\n2: two\n3: three\nback\\slash\ndq\"uote\n"
	if res.Output != want {
		t.Errorf("output = %q, want %q", res.Output, want)
	}
}

func TestRunEnvVerbatim(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	env := map[string]string{
		"QUOTED": `it's "quoted" $HOME ` + "`id`" + ` \n back\slash`,
		"EMPTY":  "",
		"SPACES": "  lead and trail  ",
		"EQUALS": "a=b=c",
	}
	res := run(t, e, dockerenv.RunOptions{Image: img, Env: env, Command: `printf '[%s]\n' "$QUOTED" "$EMPTY" "$SPACES" "$EQUALS"`})
	want := "[" + env["QUOTED"] + "]\n[]\n[" + env["SPACES"] + "]\n[a=b=c]\n"
	if res.Output != want {
		t.Errorf("output = %q, want %q", res.Output, want)
	}
}

// stdout and stderr are separate pipes, so their relative order is only
// defined across pauses; the sleeps make it so.
func TestRunExitCodeOutputAndPrefix(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	var live bytes.Buffer
	res := run(t, e, dockerenv.RunOptions{
		Image:   img,
		Command: "echo out; sleep 0.1; echo err >&2; sleep 0.1; printf 'part'; sleep 0.2; printf 'ial\\nlast'; exit 3",
		Output:  &live,
		Prefix:  "[deploy] ",
	})
	if res.ExitCode != 3 {
		t.Errorf("exit code = %d, want 3", res.ExitCode)
	}
	if want := "out\nerr\npartial\nlast"; res.Output != want {
		t.Errorf("returned output = %q, want %q (no prefixes)", res.Output, want)
	}
	if want := "[deploy] out\n[deploy] err\n[deploy] partial\n[deploy] last"; live.String() != want {
		t.Errorf("live output = %q, want %q", live.String(), want)
	}
}

func TestRunNamedVolumes(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	vol := uniq(t) + "-secrets"
	t.Cleanup(func() { _, _ = e.RemoveVolume(context.Background(), vol) })
	ws := dockerenv.Workspace{Volumes: []dockerenv.VolumeMount{{Volume: vol, Target: "/root/.aws"}}}
	run(t, e, dockerenv.RunOptions{Image: img, Workspace: ws, Command: "echo key=1 > /root/.aws/credentials"})
	res := run(t, e, dockerenv.RunOptions{Image: img, Workspace: ws, Command: "cat /root/.aws/credentials"})
	if res.Output != "key=1\n" {
		t.Errorf("second container read %q from the volume, want %q", res.Output, "key=1\n")
	}
	if ok, err := e.VolumeExists(ctxT(t), vol); err != nil || !ok {
		t.Errorf("VolumeExists = %v, %v; want true", ok, err)
	}
}

func owner(t *testing.T, p string) (int, int) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

func TestRunNonRootImageFilesOwnedByInvoker(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{User: "12345"})
	dir := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ws, _ := dockerenv.AppWorkspace(dir, dir)
	res := run(t, e, dockerenv.RunOptions{Image: img, Workspace: ws, Command: "mkdir -p build/deep && echo x > build/deep/out.txt && ln -s out.txt build/deep/link"})
	if res.ExitCode != 0 {
		t.Fatalf("writing into the mount failed (exit %d): %s", res.ExitCode, res.Output)
	}
	for _, p := range []string{"build", "build/deep", "build/deep/out.txt", "build/deep/link"} {
		if uid, gid := owner(t, filepath.Join(dir, p)); uid != os.Getuid() || gid != os.Getgid() {
			t.Errorf("%s owned by %d:%d, want the invoking user %d:%d", p, uid, gid, os.Getuid(), os.Getgid())
		}
	}
}

func TestRunOwnershipForOtherHostUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to observe files handed to another uid")
	}
	e, img := testimage.Require(t, testimage.Options{})
	e.UID, e.GID = 1000, 1001
	dir := t.TempDir()
	// A file that existed before keeps its owner, even when the container
	// writes to it (its ctime changes, its birth time does not).
	untouched := filepath.Join(dir, "untouched.txt")
	if err := os.WriteFile(untouched, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(untouched, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	// So does a directory that only gains a new entry.
	shared := filepath.Join(dir, "shared")
	if err := os.Mkdir(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(shared, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // older than the run by more than the ctime slack
	ws, _ := dockerenv.AppWorkspace(dir, dir)
	run(t, e, dockerenv.RunOptions{Image: img, Workspace: ws, Command: "echo new > new.txt && echo new > shared/new.txt && touch untouched.txt"})
	for _, p := range []string{"new.txt", "shared/new.txt"} {
		if uid, gid := owner(t, filepath.Join(dir, p)); uid != 1000 || gid != 1001 {
			t.Errorf("%s owned by %d:%d, want 1000:1001", p, uid, gid)
		}
	}
	for _, p := range []string{"untouched.txt", "shared", "."} {
		if uid, _ := owner(t, filepath.Join(dir, p)); uid == 1000 {
			t.Errorf("%s existed before the run yet was handed to 1000", p)
		}
	}
}

func TestRunTimeoutKillsAndRemoves(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	bench := uniq(t)
	start := time.Now()
	_, err := e.Run(ctxT(t), dockerenv.RunOptions{Image: img, Command: "echo started; sleep 60", Timeout: time.Second, Benchmark: bench})
	var te *dockerenv.TimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a *TimeoutError", err)
	}
	if te.Output != "started\n" {
		t.Errorf("output before the timeout = %q", te.Output)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("timeout took %s", d)
	}
	noLeftovers(t, e, bench)
}

// signalWriter closes ready at the first write.
type signalWriter struct {
	once  sync.Once
	ready chan struct{}
}

func (w *signalWriter) Write(b []byte) (int, error) {
	w.once.Do(func() { close(w.ready) })
	return len(b), nil
}

func TestRunCancelLeavesNoContainer(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	bench := uniq(t)
	ctx, cancel := context.WithCancel(ctxT(t))
	w := &signalWriter{ready: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, dockerenv.RunOptions{Image: img, Command: "echo running; sleep 60", Benchmark: bench, Output: w})
		errc <- err
	}()
	select {
	case <-w.ready:
	case <-time.After(time.Minute):
		t.Fatal("the command never started")
	}
	// While it runs, the container carries the benchmark label.
	if ids, err := e.Containers(context.Background(), bench); err != nil || len(ids) != 1 {
		t.Fatalf("running containers for %s = %v, %v; want exactly one", bench, ids, err)
	}
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	noLeftovers(t, e, bench)
}

func TestRunMissingImagePullFails(t *testing.T) {
	e := testimage.Engine(t)
	img := "sb-test-no-such-image-" + uniq(t) + ":1"
	var progress bytes.Buffer
	_, err := e.Run(ctxT(t), dockerenv.RunOptions{Image: img, Command: "true", PullOutput: &progress})
	if err == nil {
		t.Fatal("running a non-existent image succeeded")
	}
	if !strings.Contains(err.Error(), img) || !strings.Contains(err.Error(), "pulling image") {
		t.Errorf("error %q does not name the pull of %s", err, img)
	}
	if !strings.Contains(progress.String(), img) {
		t.Errorf("pull progress %q does not name the image", progress.String())
	}
}

func TestRunMissingShell(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	_, err := e.Run(ctxT(t), dockerenv.RunOptions{Image: img, Shell: "/bin/bash", Command: "true"})
	if err == nil || !strings.Contains(err.Error(), "shell") {
		t.Errorf("err = %v, want one about the missing shell", err)
	}
}

func TestConnectUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/sb-test/docker.sock")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := dockerenv.Connect(ctx)
	if err == nil {
		t.Fatal("connected to a socket that does not exist")
	}
	for _, want := range []string{"/nonexistent/sb-test/docker.sock", "DOCKER_HOST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
