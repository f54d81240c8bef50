package dockerenv_test

import (
	"os"
	"path/filepath"
	"testing"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

func TestChownInContainer(t *testing.T) {
	// The path a non-root sb takes: a root container hands files back.
	e, img := testimage.Require(t, testimage.Options{})
	e.UID, e.GID = 2000, 2001
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub", "inner"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "inner", "f"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ws, _ := dockerenv.AppWorkspace(dir, dir)
	if err := dockerenv.ChownInContainer(e, ctxT(t), img, ws, []string{"sub"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"sub", "sub/inner", "sub/inner/f"} {
		if uid, gid := owner(t, filepath.Join(dir, p)); uid != 2000 || gid != 2001 {
			t.Errorf("%s owned by %d:%d, want 2000:2001", p, uid, gid)
		}
	}
}
