package runner

import (
	"fmt"

	"sb/exitcode"
	"sb/loadgen"
)

// Workload is what `sb invoke` was asked to run: the planned workload and
// the flags that shaped it (recorded in the state as ServiBench did).
type Workload struct {
	Plan    *loadgen.Workload
	Options loadgen.Options
}

// ParseWorkload plans invoke's argument with the given flags. Anything it
// does not know is refused before any file is touched, with the list of what
// is accepted.
func ParseWorkload(arg string, opts loadgen.Options) (Workload, error) {
	if arg == "" {
		arg = loadgen.DefaultWorkload
	}
	plan, err := loadgen.Plan(arg, opts)
	if err != nil {
		return Workload{}, exitcode.With(err, exitcode.BadInput)
	}
	return Workload{Plan: plan, Options: opts}, nil
}

// Iterations is the workload of N sequential iterations with default flags.
func Iterations(n int) Workload {
	opts, _ := loadgen.DefaultOptions()
	w, err := ParseWorkload(fmt.Sprint(n), opts)
	if err != nil {
		panic(err) // a positive count is always accepted
	}
	return w
}
