package dockerenv

import (
	"archive/tar"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
)

// DefaultSBBase is the base image of serverless-benchmarker:<version>: small
// and with a shell, for spec.run(local=True) inside that container.
const DefaultSBBase = "alpine:3.22"

// SBImageRepository is the repository `sb init` tags its image in.
const SBImageRepository = "serverless-benchmarker"

//go:embed sbimage.Dockerfile
var sbDockerfile []byte

// BuildSBImage builds serverless-benchmarker:<version> (for `sb init`)
// from the Dockerfile embedded in sb: the binary at sbBinary, installed as
// /usr/local/bin/sb and used as entrypoint, on base (DefaultSBBase when
// empty). sbBinary must be a Linux executable that runs on base, i.e. a
// static (CGO_ENABLED=0) linux build. It returns the image tag.
func (e *Engine) BuildSBImage(ctx context.Context, version, base, sbBinary string, out io.Writer) (string, error) {
	if version == "" {
		return "", fmt.Errorf("building the %s image needs a version", SBImageRepository)
	}
	if base == "" {
		base = DefaultSBBase
	}
	bin, err := os.Open(sbBinary)
	if err != nil {
		return "", fmt.Errorf("opening the sb binary for the image: %w", err)
	}
	defer bin.Close()
	fi, err := bin.Stat()
	if err != nil {
		return "", fmt.Errorf("reading the sb binary for the image: %w", err)
	}

	// The context is streamed: the binary is large and need not sit in memory.
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := tw.WriteHeader(&tar.Header{Name: "Dockerfile", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(sbDockerfile))})
		if err == nil {
			_, err = tw.Write(sbDockerfile)
		}
		if err == nil {
			err = tw.WriteHeader(&tar.Header{Name: "sb", Typeflag: tar.TypeReg, Mode: 0o755, Size: fi.Size()})
		}
		if err == nil {
			_, err = io.Copy(tw, bin)
		}
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	defer pr.Close()

	tag := SBImageRepository + ":" + version
	labels := map[string]string{"org.opencontainers.image.version": version, "org.opencontainers.image.title": "sb, the Serverless Benchmarker"}
	if _, err := e.buildFromTar(ctx, tag, "Dockerfile", pr, map[string]string{"BASE": base}, labels, out, ""); err != nil {
		return "", err
	}
	return tag, nil
}
