package dockerenv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func removeImage(t *testing.T, e *dockerenv.Engine, tag string) {
	t.Cleanup(func() { _ = e.RemoveImage(context.Background(), tag) })
}

func TestBuildHonoursDockerignore(t *testing.T) {
	e, base := testimage.Require(t, testimage.Options{})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		// .dockerignore lists the Dockerfile itself: the build must still find it.
		"Dockerfile":          "FROM " + base + "\nARG GREETING\nCOPY . /ctx\nRUN echo \"greeting=$GREETING\" > /ctx/greeting\n",
		".dockerignore":       "# comment\nignored.txt\nnode_modules\n**/*.log\nDockerfile\n",
		"kept.txt":            "kept\n",
		"ignored.txt":         "secret\n",
		"node_modules/x/a.js": "x\n",
		"src/app.js":          "app\n",
		"src/debug.log":       "log\n",
	})
	tag := uniq(t) + ":1"
	removeImage(t, e, tag)
	var log strings.Builder
	id, err := e.Build(ctxT(t), dockerenv.BuildOptions{Tag: tag, ContextDir: dir, BuildArgs: map[string]string{"GREETING": "hello $x"}, Output: &log, Prefix: "[build] "})
	if err != nil {
		t.Fatalf("build: %v\n%s", err, log.String())
	}
	if id == "" {
		t.Error("Build returned no image ID")
	}
	if !strings.Contains(log.String(), "[build] Step 1/4 : FROM "+base) {
		t.Errorf("build log lacks the prefixed first step:\n%s", log.String())
	}
	res := run(t, e, dockerenv.RunOptions{Image: tag, Command: "cd /ctx && find . -type f | sort && cat greeting"})
	// The Dockerfile reached the engine (the build ran) but, being listed in
	// .dockerignore, is not part of what COPY sees: docker's own behaviour.
	want := "./.dockerignore\n./greeting\n./kept.txt\n./src/app.js\ngreeting=hello $x\n"
	if res.Output != want {
		t.Errorf("files in the image:\n%s\nwant:\n%s", res.Output, want)
	}
}

func TestBuildFailureNamesStepAndOutput(t *testing.T) {
	e, base := testimage.Require(t, testimage.Options{})
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"Dockerfile": "FROM " + base + "\nRUN echo first-step-ok\nRUN echo about to fail && echo on-stderr >&2 && exit 7\nRUN echo never\n",
	})
	tag := uniq(t) + ":1"
	removeImage(t, e, tag)
	var log strings.Builder
	_, err := e.Build(ctxT(t), dockerenv.BuildOptions{Tag: tag, ContextDir: dir, Output: &log})
	var be *dockerenv.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError", err)
	}
	if !strings.Contains(be.Step, "Step 3/4 : RUN echo about to fail") {
		t.Errorf("failing step = %q", be.Step)
	}
	if !strings.Contains(be.Output, "about to fail") || !strings.Contains(be.Output, "on-stderr") || strings.Contains(be.Output, "first-step-ok") {
		t.Errorf("step output = %q, want the third step's output only", be.Output)
	}
	if !strings.Contains(be.Message, "returned a non-zero code: 7") {
		t.Errorf("engine message = %q", be.Message)
	}
	if msg := err.Error(); !strings.Contains(msg, tag) || !strings.Contains(msg, "about to fail") {
		t.Errorf("error text %q lacks the tag or the step output", msg)
	}
	if strings.Contains(log.String(), "never") {
		t.Error("the build went on after the failing step")
	}
	if ok, _ := e.ImageExists(ctxT(t), tag); ok {
		t.Error("a failed build produced the tag")
	}
}

func TestBuildDockerfileOutsideContext(t *testing.T) {
	e, base := testimage.Require(t, testimage.Options{})
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"docker/Custom.Dockerfile": "FROM " + base + "\nCOPY hello.txt /hello.txt\n",
		"app/hello.txt":            "hello from the context\n",
	})
	tag := uniq(t) + ":1"
	removeImage(t, e, tag)
	if _, err := e.Build(ctxT(t), dockerenv.BuildOptions{Tag: tag, ContextDir: filepath.Join(root, "app"), Dockerfile: "../docker/Custom.Dockerfile"}); err != nil {
		t.Fatal(err)
	}
	res := run(t, e, dockerenv.RunOptions{Image: tag, Command: "cat /hello.txt"})
	if res.Output != "hello from the context\n" {
		t.Errorf("got %q", res.Output)
	}
}

func TestBuildMissingDockerfile(t *testing.T) {
	e := testimage.Engine(t)
	_, err := e.Build(ctxT(t), dockerenv.BuildOptions{Tag: "x:1", ContextDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "Dockerfile") {
		t.Errorf("err = %v, want one naming the Dockerfile", err)
	}
}

func TestBuildSBImage(t *testing.T) {
	e, base := testimage.Require(t, testimage.Options{})
	version := uniq(t)
	// A script stands in for the (large) sb binary.
	bin := filepath.Join(t.TempDir(), "sb")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho \"sb called with: $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tag, err := e.BuildSBImage(ctxT(t), version, base, bin, nil)
	if err != nil {
		t.Fatal(err)
	}
	removeImage(t, e, tag)
	if tag != dockerenv.SBImageRepository+":"+version {
		t.Errorf("tag = %q", tag)
	}
	res := run(t, e, dockerenv.RunOptions{Image: tag, Command: "pwd; sb version"}) // runs because the ENTRYPOINT is cleared
	if res.Output != "/apps\nsb called with: version\n" {
		t.Errorf("got %q", res.Output)
	}
}
