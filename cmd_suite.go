package main

import (
	"github.com/urfave/cli/v2"

	"sb/runner"
)

// suiteCommand is `sb suite FILE.star`: many benchmarks, many times,
// unattended.
func suiteCommand() *cli.Command {
	return &cli.Command{
		Name:      "suite",
		Usage:     "run many benchmarks, many times, unattended, as a Starlark SUITE describes",
		ArgsUsage: "FILE.star",
		Description: "FILE.star defines SUITE = {\n" +
			"    \"benchmarks\": [\"aws\", {\"benchmark\": \"azure\", \"set\": {\"region\": \"East US\"}}],  # paths relative to FILE.star\n" +
			"    \"steps\": [\"prepare\", (\"wait\", 30), (\"invoke\", \"bursty\", {\"minutes\": 5}), (\"wait\", 300), \"get_traces\", \"analyze_traces\"],\n" +
			"    \"repetitions\": 3,          # default 1\n" +
			"    \"order\": \"interleaved\",    # or \"sequential\" (default); interleaved shuffles every round\n" +
			"    \"seed\": 7,                 # of the interleaved order (--seed overrides it)\n" +
			"    \"parallel\": 2,             # benchmarks at once (default 1); never two runs of one benchmark\n" +
			"}\n" +
			"A benchmark is a path (file or directory) or the name of a ready-made one (sb examples); a dict entry may\n" +
			"add \"set\" (attribute overrides), \"cloud\" and \"name\" (its name in the results). Steps take the invoke\n" +
			"flags as an options dict without dashes ((\"invoke\", \"bursty\", {\"rate\": 5})), (\"get_traces\", {\"end_offset\": \"2m\"})\n" +
			"and (\"analyze_traces\", {\"path\": \"app.log\", \"format\": \"loglines\"}), the path relative to the run's logs directory.\n" +
			"cleanup ends every run, also after a failed step or Ctrl-C. Progress is kept in .NAME.suite-state.json\n" +
			"beside FILE.star: running the suite again after an interruption continues where it stopped.\n" +
			"The results go to suite_results.csv beside FILE.star; the exit status is 1 when a run failed.",
		Flags:        []cli.Flag{&cli.BoolFlag{Name: "restart", Usage: "forget the progress of an earlier run of the suite and start over"}},
		OnUsageError: usageError,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return badArgs(c, "suite needs exactly one suite file")
			}
			return newRunner(c).Suite(c.Context, runner.SuiteOptions{Path: c.Args().First(), Restart: c.Bool("restart")})
		},
	}
}
