// Package integration_test runs the built sb binary against the real Docker
// engine, as a user would: testdata/*.txtar are user sessions with their own
// benchmark fixtures. The images come from dockerenv/testimage (FROM scratch
// plus Debian's static busybox), reached through SB_IMAGE_* overrides, never
// by changing sb's defaults.
package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"sb/dockerenv/testimage"
)

func TestDocker(t *testing.T) {
	e, shell := testimage.Require(t, testimage.Options{})
	_, user12345 := testimage.Require(t, testimage.Options{User: "12345"})
	// A stand-in for the k6 image: records how it was called.
	_, fakeK6 := testimage.Require(t, testimage.Options{Files: map[string]string{
		"/usr/bin/k6": "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done > k6_args.txt\n",
	}})
	bin := buildSB(t)

	testscript.Run(t, testscript.Params{
		Dir: "testdata",
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
			env.Setenv("SB_IMAGE_DEFAULT", shell)
			env.Setenv("SB_IMAGE_USER12345", user12345)
			env.Setenv("SB_IMAGE_FAKEK6", fakeK6)
			env.Setenv("DOCKER_HOST", os.Getenv("DOCKER_HOST"))
			env.Setenv("UID", fmt.Sprint(os.Getuid()))
			// local_http compiles its function with the host's Go.
			env.Setenv("GOCACHE", goEnv("GOCACHE"))
			env.Setenv("GOPATH", filepath.Join(env.WorkDir, ".gopath"))
			env.Setenv("HOME", env.WorkDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// nocontainers BENCHMARK: no container of BENCHMARK is left
			// (with !: at least one is).
			"nocontainers": func(ts *testscript.TestScript, neg bool, args []string) {
				ids, err := e.Containers(context.Background(), args[0])
				ts.Check(err)
				if neg && len(ids) == 0 {
					ts.Fatalf("no container of %s", args[0])
				}
				if !neg && len(ids) > 0 {
					ts.Fatalf("containers of %s left behind: %v", args[0], ids)
				}
			},
			// owner UID PATH: the file belongs to UID.
			"owner": func(ts *testscript.TestScript, neg bool, args []string) {
				got := ownerOf(ts.MkAbs(args[1]))
				if got != args[0] {
					ts.Fatalf("%s is owned by uid %s, want %s", args[1], got, args[0])
				}
			},
			// waitfor PATH: wait up to 60 s until PATH exists.
			"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
				deadline := time.Now().Add(60 * time.Second)
				for time.Now().Before(deadline) {
					if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				ts.Fatalf("%s did not appear", args[0])
			},
			// rmvolume NAME: remove a volume if present (test set-up).
			"rmvolume": func(ts *testscript.TestScript, neg bool, args []string) {
				_, err := e.RemoveVolume(context.Background(), args[0])
				ts.Check(err)
			},
		},
	})
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildSB compiles sb once for all tests; the binary is what users run.
func buildSB(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sb-integration-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sb")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building sb: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func goEnv(name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// TestSIGTERM: SIGTERM during a container command stops and removes the
// container, saves state and exits with 130, as Ctrl-C does.
func TestSIGTERM(t *testing.T) {
	e, shell := testimage.Require(t, testimage.Options{})
	bin := buildSB(t)
	dir := t.TempDir()
	bench := "BENCHMARK_CONFIG = \"sigterm:\"\ndef prepare(spec):\n    spec[\"deploy_id\"] = \"d2\"\n    spec.run(\"touch started; sleep 60\")\ndef invoke(spec):\n    pass\ndef cleanup(spec):\n    pass\n"
	if err := os.WriteFile(filepath.Join(dir, "sigterm_benchmark.star"), []byte(bench), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "prepare")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SB_IMAGE_DEFAULT="+shell)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the command never started:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
		t.Fatalf("sb exited with %v, want status 130:\n%s", err, out.String())
	}
	ids, err := e.Containers(context.Background(), "sigterm")
	if err != nil || len(ids) > 0 {
		t.Errorf("containers left: %v %v", ids, err)
	}
	state, err := os.ReadFile(filepath.Join(dir, ".sb", "config.yml"))
	if err != nil || !strings.Contains(string(state), "deploy_id: d2") {
		t.Errorf("state not saved: %v\n%s", err, state)
	}
}
