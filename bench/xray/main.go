// Command xray-bench measures `analyze_traces` on a large generated traces
// file. It writes the file itself (realistic synthetic X-Ray traces, see
// tracing/xray/synthetic) and reports the analysis time and throughput and
// the process's peak resident memory.
//
//	go run ./bench/xray gen -n 20000 -o /tmp/xray-bench/traces.json
//	go run ./bench/xray analyze /tmp/xray-bench/traces.json
//
// bench/xray/run.sh does both with a built binary and /usr/bin/time -v.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"sb/tracing/xray"
	"sb/tracing/xray/synthetic"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "analyze":
		err = analyze(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "xray-bench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: xray-bench gen [-n traces] [-seed n] [-invalid-every n] -o FILE | analyze [-workers n] FILE")
	os.Exit(2)
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	n := fs.Int("n", 20000, "number of traces")
	seed := fs.Uint64("seed", 1, "random seed")
	invalid := fs.Int("invalid-every", 50, "make every n-th trace invalid (0: none)")
	random := fs.Bool("random", false, "small random traces reaching every branch instead of realistic ones")
	out := fs.String("o", "traces.json", "output file")
	fs.Parse(args)
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	write := func() error {
		return synthetic.Write(f, synthetic.Options{Traces: *n, Seed: *seed, InvalidEvery: *invalid})
	}
	if *random {
		write = func() error { return synthetic.WriteRandom(f, *n, *seed) }
	}
	if err := write(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d traces, %.1f MB, to %s\n", *n, float64(st.Size())/1e6, *out)
	return nil
}

func analyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ExitOnError)
	workers := fs.Int("workers", 0, "parallel workers (0: one per CPU)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		usage()
	}
	start := time.Now()
	sum, err := xray.AnalyzeFile(context.Background(), fs.Arg(0), xray.AnalyzeOptions{Workers: *workers})
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	mb := float64(sum.Bytes) / 1e6
	fmt.Printf("analysed %.1f MB: %d valid, %d invalid traces in %.3f s (%.0f MB/s, GOMAXPROCS=%d), peak RSS %.1f MB, CPU user %.3f s sys %.3f s\n",
		mb, sum.Valid, sum.Invalid, elapsed.Seconds(), mb/elapsed.Seconds(), runtime.GOMAXPROCS(0),
		float64(ru.Maxrss)/1024, tv(ru.Utime), tv(ru.Stime))
	return nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
