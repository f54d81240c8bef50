package runner

import (
	"fmt"
	"strings"

	"sb/exitcode"
)

// Grammar describes the command line for SplitChain: which words are
// commands, and which flags (global ones for command "") take a value.
type Grammar struct {
	IsCommand  func(word string) bool
	TakesValue func(command, flag string) bool
	// Unchained commands take the whole rest of the line (e.g. `sb k6 ...`).
	Unchained func(command string) bool
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
		step = append(step, a)
		if len(step) > 1 && strings.HasPrefix(a, "-") && !strings.Contains(a, "=") && g.TakesValue(step[0], a) && i+1 < len(args) {
			i++
			step = append(step, args[i])
		}
	}
	return globals, append(steps, step), nil
}
