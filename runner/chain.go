package runner

import (
	"fmt"
	"strconv"
	"strings"

	"sb/exitcode"
)

// Grammar describes the command line for SplitChain: which words are
// commands, and which flags (global ones for command "") take a value.
type Grammar struct {
	IsCommand  func(word string) bool
	TakesValue func(command, flag string) bool
	// Unchained commands take the whole rest of the line (e.g. `sb help ...`).
	Unchained func(command string) bool
	// IsFlag tells whether flag is one of command's flags ("" for the
	// global ones), so that a global flag written after a command
	// (`sb invoke 10 -f x`) still applies to the whole chain.
	IsFlag func(command, flag string) bool
}

// SplitChain splits sb's arguments into the global flags and the chain of
// steps, ServiBench style: `sb -f x prepare invoke 10 wait 90 cleanup`
// becomes globals [-f x] and steps [prepare] [invoke 10] [wait 90] [cleanup].
// A word that names a command starts a new step unless it is a flag's value.
func SplitChain(args []string, g Grammar) (globals []string, steps [][]string, err error) {
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		globals = append(globals, a)
		if a == "--" {
			return globals, nil, nil
		}
		if !strings.Contains(a, "=") && g.TakesValue("", a) && i+1 < len(args) {
			i++
			globals = append(globals, args[i])
		}
	}
	if i == len(args) {
		return globals, nil, nil
	}
	if !g.IsCommand(args[i]) {
		return nil, nil, exitcode.With(fmt.Errorf("unknown command %q: run 'sb --help' to list the commands", args[i]), exitcode.BadInput)
	}
	var step []string
	for ; i < len(args); i++ {
		a := args[i]
		if len(step) > 0 && g.IsCommand(a) && !g.Unchained(step[0]) {
			steps = append(steps, step)
			step = nil
		}
		if len(step) > 0 && strings.HasPrefix(a, "-") && !g.Unchained(step[0]) && !g.IsFlag(step[0], a) && g.IsFlag("", a) {
			globals = append(globals, a)
			if !strings.Contains(a, "=") && g.TakesValue("", a) && i+1 < len(args) {
				i++
				globals = append(globals, args[i])
			}
			continue
		}
		step = append(step, a)
		if len(step) > 1 && strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && g.TakesValue(step[0], a) && i+1 < len(args) {
			i++
			step = append(step, args[i])
		}
	}
	return globals, append(steps, step), nil
}

// FlagsFirst moves a step's flags (with their values) before its positional
// arguments, so `invoke custom --workload-options f.json` parses as users
// of ServiBench write it: the CLI library stops reading flags at the first
// positional argument. depth is how many leading words name the command
// (2 for `workload show`). Everything after "--" stays positional.
func FlagsFirst(step []string, depth int, takesValue func(flag string) bool) []string {
	if len(step) <= depth {
		return step
	}
	out := append([]string{}, step[:depth]...)
	var positional []string
	rest := step[depth:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			positional = append(positional, rest[i:]...)
			i = len(rest)
		case strings.HasPrefix(a, "-") && len(a) > 1 && !isNumber(a):
			out = append(out, a)
			if !strings.Contains(a, "=") && takesValue(a) && i+1 < len(rest) {
				i++
				out = append(out, rest[i])
			}
		default:
			positional = append(positional, a)
		}
	}
	return append(out, positional...)
}

// isNumber tells a negative number (`invoke -3`, `wait -1`) from a flag.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}
