package dockerenv_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

func TestShellUsesRunsMountsAndWorkdir(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	root := filepath.Join(t.TempDir(), "proj")
	bench := filepath.Join(root, "bench")
	writeFiles(t, root, map[string]string{"bench/in.txt": "input file\n"})
	ws, err := dockerenv.AppWorkspace(root, bench)
	if err != nil {
		t.Fatal(err)
	}
	vol := uniq(t) + "-secrets"
	t.Cleanup(func() { _, _ = e.RemoveVolume(ctxT(t), vol) })
	ws.Volumes = []dockerenv.VolumeMount{{Volume: vol, Target: "/root/.pulumi"}}
	bench2 := uniq(t)
	var out bytes.Buffer
	code, err := e.Shell(ctxT(t), dockerenv.ShellOptions{
		Image:     img,
		Workspace: ws,
		Env:       map[string]string{"FOO": "b a r"},
		Benchmark: bench2,
		Stdin:     strings.NewReader("pwd\ncat in.txt\necho \"$FOO\"\ntouch /root/.pulumi/token && echo volume-ok\necho made > made.txt\nexit 4\n"),
		Stdout:    &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != 4 {
		t.Errorf("exit code = %d, want 4", code)
	}
	if want := "/apps/proj/bench\ninput file\nb a r\nvolume-ok\n"; out.String() != want {
		t.Errorf("shell output = %q, want %q", out.String(), want)
	}
	if uid, _ := owner(t, filepath.Join(bench, "made.txt")); uid != os.Getuid() {
		t.Errorf("file made in the shell owned by %d", uid)
	}
	noLeftovers(t, e, bench2)
}

func TestShellCommand(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	var out bytes.Buffer
	code, err := e.Shell(ctxT(t), dockerenv.ShellOptions{Image: img, Command: []string{"echo", "$NOT_EXPANDED", "two"}, Stdout: &out})
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	if out.String() != "$NOT_EXPANDED two\n" {
		t.Errorf("got %q", out.String())
	}
}
