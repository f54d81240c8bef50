// Command docker-bench times sb's per-command container overhead: N
// sequential dockerenv.Run("true") calls against N `docker run --rm IMAGE
// true` on the same engine, and prints the ratio (goal: ≤ 1.0). The docker
// CLI is used here only as the yardstick. Run it with
//
//	go run ./bench/docker [-n 10] [-image REF]
//
// Without -image it builds the local busybox test image (see
// dockerenv/testimage), so no registry is needed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"time"

	"sb/dockerenv"
	"sb/dockerenv/testimage"
)

func main() {
	n := flag.Int("n", 10, "sequential runs per side")
	image := flag.String("image", "", "image to run (default: the local busybox test image)")
	flag.Parse()
	if err := bench(*n, *image); err != nil {
		fmt.Fprintln(os.Stderr, "docker-bench:", err)
		os.Exit(1)
	}
}

func bench(n int, image string) error {
	ctx := context.Background()
	e, err := dockerenv.Connect(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	if image == "" {
		if image, err = testimage.Build(ctx, e, testimage.Options{}); err != nil {
			return err
		}
	}
	if _, err := exec.LookPath("docker"); err != nil {
		return fmt.Errorf("the docker CLI is the yardstick and is not installed: %w", err)
	}
	dir, err := os.MkdirTemp("", "sb-docker-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ws, err := dockerenv.AppWorkspace(dir, dir)
	if err != nil {
		return err
	}

	api := func() error {
		res, err := e.Run(ctx, dockerenv.RunOptions{Image: image, Command: "true", Workspace: ws, Benchmark: "docker-bench"})
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("exit %d: %s", res.ExitCode, res.Output)
		}
		return err
	}
	cli := func() error {
		out, err := exec.Command("docker", "run", "--rm", "-v", dir+":/apps/bench", "-w", "/apps/bench", image, "true").CombinedOutput()
		if err != nil {
			return fmt.Errorf("docker run: %w: %s", err, out)
		}
		return nil
	}
	// One untimed call each warms caches on both paths.
	for _, f := range []func() error{api, cli} {
		if err := f(); err != nil {
			return err
		}
	}
	timeIt := func(f func() error) (time.Duration, error) {
		start := time.Now()
		for range n {
			if err := f(); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	// Alternate the sides twice and keep each side's best, so that a burst
	// of load on the shared machine does not decide the figure.
	var bestAPI, bestCLI time.Duration
	for round := 0; round < 2; round++ {
		a, err := timeIt(api)
		if err != nil {
			return err
		}
		c, err := timeIt(cli)
		if err != nil {
			return err
		}
		if round == 0 || a < bestAPI {
			bestAPI = a
		}
		if round == 0 || c < bestCLI {
			bestCLI = c
		}
	}
	fmt.Printf("engine %s, API %s, image %s\n", e.Host(), e.APIVersion(), image)
	fmt.Printf("dockerenv.Run(\"true\") x%d: %v (%v per call)\n", n, bestAPI.Round(time.Millisecond), (bestAPI / time.Duration(n)).Round(time.Millisecond))
	fmt.Printf("docker run --rm x%d:       %v (%v per call)\n", n, bestCLI.Round(time.Millisecond), (bestCLI / time.Duration(n)).Round(time.Millisecond))
	fmt.Printf("ratio (Run / docker run): %.2f\n", float64(bestAPI)/float64(bestCLI))
	return nil
}
