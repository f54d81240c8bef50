// Command handler is the function of the local_http example benchmark: an
// HTTP endpoint that makes a thumbnail of the image it is sent (or of a
// generated one when the body is empty), with a deliberate one-off
// initialisation cost on the first request, instrumented with sb's log
// lines (design V1) keyed by the request's trace id. It uses the standard
// library only, so that it compiles into a static binary for a FROM scratch
// image.
//
// Environment: PORT (default 8080) and INIT_DELAY_MS, the least time the
// first request spends initialising (default 200).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const defaultInitDelay = 200 * time.Millisecond

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	delay := defaultInitDelay
	if v := os.Getenv("INIT_DELAY_MS"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			fmt.Fprintf(os.Stderr, "INIT_DELAY_MS=%q is not a number of milliseconds; set it to e.g. 200\n", v)
			os.Exit(2)
		}
		delay = time.Duration(ms) * time.Millisecond
	}
	l, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot listen on port %s: %v; set PORT to a free port\n", port, err)
		os.Exit(1)
	}
	// Containers are stopped with SIGTERM; answering it at once keeps
	// spec.stop and cleanup fast.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fmt.Printf("thumbnail handler listening on %s (first-request initialisation at least %s)\n", l.Addr(), delay)
	if err := serve(ctx, l, newThumbnailer(os.Stdout, delay)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// serve answers requests on l with h until ctx ends, then lets requests in
// flight finish (for up to two seconds).
func serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving HTTP: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving HTTP: %w", err)
	}
	return nil
}
