package runner

import (
	"fmt"
	"strconv"

	"sb/exitcode"
)

// Workload is what `sb invoke` was asked to run: its name as typed and the k6
// options it stands for.
type Workload struct {
	Type    string
	Options []byte // workload_options.json content
}

// acceptedWorkloads lists what invoke takes, for error messages.
const acceptedWorkloads = "single, or a positive number of sequential iterations such as 10"

// ParseWorkload turns invoke's argument into k6 options. Anything it does not
// know is refused, before any file is touched.
func ParseWorkload(arg string) (Workload, error) {
	if arg == "" {
		arg = "single"
	}
	iterations := 1
	if arg != "single" {
		n, err := strconv.Atoi(arg)
		if err != nil || n <= 0 {
			return Workload{}, exitcode.With(fmt.Errorf("unknown workload %q: sb invoke accepts %s", arg, acceptedWorkloads), exitcode.BadInput)
		}
		iterations = n
	}
	// Spaced as Python's json.dump writes it, so files match ServiBench's.
	return Workload{Type: arg, Options: fmt.Appendf(nil, "{\"vus\": 1, \"iterations\": %d}\n", iterations)}, nil
}
