package runner

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"sb/exitcode"
)

// Status prints the benchmark's name, its last event and the total duration.
func (r *Runner) Status(ctx context.Context) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	out := r.sys.Stdout
	fmt.Fprintf(out, "benchmark:      %s\n", b.Script.Name)
	last, ok := b.State.LastEvent()
	if !ok {
		fmt.Fprintln(out, "last event:     none (not prepared yet)")
		return nil
	}
	fmt.Fprintf(out, "last event:     %s %s at %s\n", last.Name, last.Type, last.Time.Format(eventTimeLayout))
	fmt.Fprintf(out, "total duration: %s\n", b.State.TotalDuration(r.sys.Now()).Round(time.Millisecond))
	if logs := b.LogsDir(); logs != "" {
		fmt.Fprintf(out, "logs:           %s\n", relTo(r.sys.Cwd, logs))
	}
	return nil
}

// Validate loads the benchmark and its state and reports problems.
func (r *Runner) Validate(ctx context.Context) error {
	b, err := r.Open()
	if err != nil {
		return err
	}
	fmt.Fprintf(r.sys.Stdout, "%s: valid benchmark %q\n", relTo(r.sys.Cwd, b.Script.Path), b.Script.Name)
	return nil
}

// ParseSeconds reads wait's argument: a non-negative number of seconds.
func ParseSeconds(arg string) (time.Duration, error) {
	f, err := strconv.ParseFloat(arg, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, exitcode.With(fmt.Errorf("wait needs a non-negative number of seconds, got %q", arg), exitcode.BadInput)
	}
	return time.Duration(f * float64(time.Second)), nil
}

// Wait idles for d, showing a countdown on a terminal; Ctrl-C ends it.
func (r *Runner) Wait(ctx context.Context, d time.Duration) error {
	r.sys.Log.Info().Msgf("waiting %s", d)
	deadline := time.Now().Add(d)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			if r.sys.Terminal {
				fmt.Fprintln(r.sys.Stderr)
			}
			return ctx.Err()
		case <-timer.C:
			if r.sys.Terminal {
				fmt.Fprint(r.sys.Stderr, "\r\033[K")
			}
			return nil
		case <-tick.C:
			if r.sys.Terminal {
				fmt.Fprintf(r.sys.Stderr, "\r\033[Kwaiting: %s left", time.Until(deadline).Round(time.Second))
			}
		}
	}
}
