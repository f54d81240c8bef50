package examples

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var (
	update  = flag.Bool("update", false, "rewrite bundle.tar from the examples directory")
	packDir = flag.String("packdir", ".", "with -update: the examples directory to pack (e.g. a clean checkout)")
)

// TestBundleIsCurrent: the bundle sb embeds holds exactly the examples as
// they are in the tree.
func TestBundleIsCurrent(t *testing.T) {
	if *update {
		want, err := Pack(*packDir)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("bundle.tar", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := Pack(".")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bundle, want) {
		t.Fatal("bundle.tar is out of date with examples/: run `go test ./examples -update` and commit it")
	}
}

func TestUnpack(t *testing.T) {
	if *update {
		t.Skip("the bundle is being rewritten")
	}
	if len(Names()) == 0 {
		t.Fatal("empty bundle")
	}
	dir := t.TempDir() + "/mock"
	if err := Unpack("mock", dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dir + "/mock_benchmark.star")
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile("mock/mock_benchmark.star")
	if !bytes.Equal(got, orig) {
		t.Error("unpacked file differs")
	}
	if err := Unpack("mock", dir); err == nil {
		t.Error("unpacked over an existing directory")
	}
	if err := Unpack("nope", t.TempDir()+"/x"); err == nil {
		t.Error("unpacked an unknown example")
	}
}
