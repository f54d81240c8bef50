package dockerenv_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

func TestVolumeWriteCopyRemove(t *testing.T) {
	e, img := testimage.Require(t, testimage.Options{})
	vol := uniq(t) + "-secrets"
	t.Cleanup(func() { _, _ = e.RemoveVolume(ctxT(t), vol) })
	if ok, err := e.VolumeExists(ctxT(t), vol); err != nil || ok {
		t.Fatalf("fresh volume exists = %v, %v", ok, err)
	}
	data := []byte("[default]\naws_access_key_id = AKIDEXAMPLE\n")
	if err := e.WriteVolumeFile(ctxT(t), vol, img, "credentials", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.WriteVolumeFile(ctxT(t), vol, img, "sub/config", []byte("[x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A container sees the file where a provider CLI would.
	res := run(t, e, dockerenv.RunOptions{Image: img, Command: "cat /root/.aws/credentials; stat -c '%a %u' /root/.aws/credentials",
		Workspace: dockerenv.Workspace{Volumes: []dockerenv.VolumeMount{{Volume: vol, Target: "/root/.aws"}}}})
	if want := string(data) + "600 0\n"; res.Output != want {
		t.Errorf("in container: %q, want %q", res.Output, want)
	}

	dst := filepath.Join(t.TempDir(), "aws")
	if err := e.CopyVolumeTo(ctxT(t), vol, img, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dst, "credentials"))
	if err != nil || string(got) != string(data) {
		t.Errorf("copied credentials = %q, %v", got, err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "sub", "config")); err != nil || string(got) != "[x]\n" {
		t.Errorf("copied sub/config = %q, %v", got, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "credentials")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("copied credentials mode = %v, %v", fi.Mode(), err)
	}

	if existed, err := e.RemoveVolume(ctxT(t), vol); err != nil || !existed {
		t.Errorf("RemoveVolume = %v, %v; want true", existed, err)
	}
	if existed, err := e.RemoveVolume(ctxT(t), vol); err != nil || existed {
		t.Errorf("second RemoveVolume = %v, %v; want false, nil", existed, err)
	}
	err = e.CopyVolumeTo(ctxT(t), vol, img, dst)
	if err == nil || !strings.Contains(err.Error(), vol) {
		t.Errorf("copying a missing volume: %v", err)
	}
	if err := e.WriteVolumeFile(ctxT(t), vol, img, "../escape", nil, 0o600); err == nil {
		t.Error("a file name outside the volume was accepted")
	}
}
