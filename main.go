// Command sb, the Serverless Benchmarker, runs serverless application
// benchmarks written as Starlark scripts. This file only wires the command
// line to the runner.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"
	"golang.org/x/term"

	"sb/creds"
	"sb/dockerenv"
	"sb/exitcode"
	"sb/loadgen"
	"sb/loadgen/k6x"
	"sb/runner"
	"sb/starlarkapi"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	// `sb k6 ...` is k6 itself, compiled in; it owns the process from here.
	if len(os.Args) > 1 && os.Args[1] == "k6" {
		k6x.RunK6Main(os.Args[2:])
	}
	ctx, stop := interruptible()
	defer stop()
	os.Exit(int(run(ctx, os.Args[1:])))
}

// interruptible cancels the context on the first Ctrl-C or SIGTERM, so hooks
// stop and state is saved; a second one exits at once.
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		fmt.Fprintln(os.Stderr, "\ninterrupting: stopping the running step and saving state (press Ctrl-C again to quit at once)")
		cancel()
		<-sig
		os.Exit(int(exitcode.Interrupted))
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}

// run executes one command line, a chain of steps, and returns the exit code.
func run(ctx context.Context, args []string) (code exitcode.Code) {
	defer func() {
		if r := recover(); r != nil {
			code = crashed(r)
		}
	}()
	app := newApp()
	globals, steps, err := runner.SplitChain(args, grammar(app))
	if err == nil && len(steps) == 0 {
		err = app.RunContext(ctx, append([]string{"sb"}, args...))
	}
	for _, step := range steps {
		if err != nil {
			break
		}
		argv := append(append([]string{"sb"}, globals...), flagsFirst(app, step)...)
		err = app.RunContext(ctx, argv)
	}
	if err != nil {
		report(err)
	}
	return exitcode.Of(err)
}

// crashed reports a bug in sb on one line and keeps the Go stack in a file
// for the bug report, instead of printing a panic trace at the user.
func crashed(r any) exitcode.Code {
	stack := fmt.Sprintf("sb %s: panic: %v\n\n%s", sbVersion(), r, debug.Stack())
	where := "(could not save the details)"
	if f, err := os.CreateTemp("", "sb-crash-*.txt"); err == nil {
		f.WriteString(stack)
		f.Close()
		where = "details in " + f.Name()
	}
	fmt.Fprintf(os.Stderr, "sb: internal error: %v; %s; please report it\n", r, where)
	return exitcode.Infrastructure
}

// report prints an error once, at the edge: script errors with their
// backtrace, everything else on one line.
func report(err error) {
	var se *starlarkapi.ScriptError
	if errors.As(err, &se) && strings.Contains(se.Message, "\n") {
		fmt.Fprintln(os.Stderr, se.Message)
		return
	}
	fmt.Fprintln(os.Stderr, "sb: "+err.Error())
}

// flagTakesValue tells whether arg names one of flags that takes a value.
func flagTakesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if v, ok := f.(cli.DocGenerationFlag); ok {
					return v.TakesValue()
				}
			}
		}
	}
	return false
}

// flagsFirst lets flags follow a command's arguments (see runner.FlagsFirst).
func flagsFirst(app *cli.App, step []string) []string {
	cmd := app.Command(step[0])
	if cmd == nil || cmd.SkipFlagParsing {
		return step
	}
	depth := 1
	if len(step) > 1 {
		if sub := cmd.Command(step[1]); sub != nil {
			cmd, depth = sub, 2
		}
	}
	return runner.FlagsFirst(step, depth, func(f string) bool { return flagTakesValue(cmd.Flags, f) })
}

func grammar(app *cli.App) runner.Grammar {
	return runner.Grammar{
		IsCommand: func(w string) bool { return app.Command(w) != nil },
		TakesValue: func(cmd, flag string) bool {
			if cmd == "" {
				return flagTakesValue(app.Flags, flag)
			}
			return flagTakesValue(app.Command(cmd).Flags, flag)
		},
		Unchained: func(cmd string) bool { return cmd == "help" },
		IsFlag: func(cmd, flag string) bool {
			flags := app.Flags
			if cmd != "" {
				flags = app.Command(cmd).Flags
			}
			name := strings.SplitN(strings.TrimLeft(flag, "-"), "=", 2)[0]
			for _, f := range flags {
				if slices.Contains(f.Names(), name) {
					return true
				}
			}
			return false
		},
	}
}

func newApp() *cli.App {
	app := &cli.App{
		Name:  "sb",
		Usage: "the Serverless Benchmarker: prepare, invoke and clean up serverless application benchmarks",
		UsageText: "sb [global options] COMMAND [args] [COMMAND [args] ...]\n\n" +
			"Commands chain as in ServiBench and stop at the first failure:\n" +
			"   sb prepare invoke 10 wait 90 cleanup",
		Description: "sb runs the *_benchmark.star file of the current directory (or the one given with --file, or the\n" +
			"ready-made ones named with --benchmarks). `sb k6 ARGS` runs the k6 compiled into sb.\n" +
			"Exit status: 0 done, 1 benchmark failed, 2 bad input, 3 script error, 4 infrastructure error, 130 interrupted.",
		HideVersion:          true,
		EnableBashCompletion: false,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "benchmark file, its directory, or a glob (default: the one *_benchmark.star in the current directory)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
			&cli.StringFlag{Name: "log-format", Value: "console", Usage: "console (for people) or json (for machines)"},
			&cli.BoolFlag{Name: "local", Usage: "run every spec.run on the host instead of in a container"},
			&cli.StringSliceFlag{Name: "benchmarks", Usage: "run ready-made benchmarks by name (comma-separated; see sb examples), unpacked into ./sb-benchmarks/"},
			&cli.StringFlag{Name: "cloud", Usage: "with --benchmarks: the cloud version to run (aws, azure)"},
			&cli.StringFlag{Name: "region", Usage: "shorthand for --set region=REGION"},
			&cli.StringSliceFlag{Name: "set", Usage: "override a benchmark attribute, key=value (repeatable); pass it to every command of a deployment"},
			&cli.BoolFlag{Name: "dry-run", Usage: "run the hooks but only print the commands they would run; change nothing"},
			&cli.Int64Flag{Name: "seed", Usage: "seed of the script's random module", DefaultText: "random"},
		},
		Before:         checkGlobalFlags,
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in run
		OnUsageError:   usageError,
		Commands: []*cli.Command{
			{
				Name: "prepare", Usage: "deploy the application (runs the prepare hook)",
				ArgsUsage: " ", OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, _ *cli.Context) error { return r.Prepare(ctx) }),
			},
			{
				Name: "invoke", Usage: "drive load against the application (runs the invoke hook)",
				ArgsUsage: "[WORKLOAD]",
				Description: "WORKLOAD: " + loadgen.AcceptedWorkloads + ".\n" +
					"sb writes the k6 options to workload_options.json beside the benchmark, starts logs/<YYYY-MM-DD_HH-MM-SS>/,\n" +
					"copies the options and the config (sb_config.yml) into it and runs the invoke hook (usually spec.run_k6).\n" +
					"Preview a workload with `sb workload show WORKLOAD`.",
				Flags:        workloadFlags(),
				OnUsageError: invokeUsageError,
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return badArgs(c, "invoke takes at most one workload, got %q", strings.Join(c.Args().Slice(), " "))
					}
					w, err := parseWorkload(c)
					if err != nil {
						return err
					}
					return eachBenchmark(c, func(r *runner.Runner) error { return r.Invoke(c.Context, w) })
				},
			},
			{
				Name: "workload", Usage: "work with workloads without running anything",
				Subcommands: []*cli.Command{{
					Name: "show", Usage: "print a workload's per-minute series and a sparkline of its per-second rates",
					ArgsUsage:    "WORKLOAD",
					Description:  "WORKLOAD: " + loadgen.AcceptedWorkloads + ".",
					Flags:        workloadFlags(),
					OnUsageError: invokeUsageError,
					Action: func(c *cli.Context) error {
						if c.NArg() != 1 {
							return badArgs(c, "workload show needs exactly one workload")
						}
						w, err := parseWorkload(c)
						if err != nil {
							return err
						}
						return loadgen.Show(c.App.Writer, w.Plan, 72)
					},
				}},
			},
			{
				Name: "cleanup", Usage: "tear the application down (runs the cleanup hook) and forget the state",
				ArgsUsage: " ", OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, _ *cli.Context) error { return r.Cleanup(ctx) }),
			},
			{
				Name: "test", Usage: "prepare, invoke (3 iterations, or the benchmark's test_workload), get and analyze traces (provider: local), cleanup",
				Description: "cleanup runs also when a step failed (not after Ctrl-C); the first failure decides the exit status.",
				ArgsUsage:   " ", OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, _ *cli.Context) error { return r.Test(ctx) }),
			},
			{
				Name: "status", Usage: "show the benchmark, its last event and the total duration",
				ArgsUsage: " ", OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, _ *cli.Context) error { return r.Status(ctx) }),
			},
			{
				Name: "validate", Usage: "check the benchmark file (config, hooks, syntax) and its state",
				ArgsUsage: " ", OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, _ *cli.Context) error { return r.Validate(ctx) }),
			},
			{
				Name: "wait", Usage: "wait SECONDS (useful in chains: sb invoke 10 wait 90 cleanup)",
				ArgsUsage: "SECONDS", OnUsageError: usageError,
				// A negative number must reach ParseSeconds, not the flag parser.
				SkipFlagParsing: true,
				Action: func(c *cli.Context) error {
					if a := c.Args().First(); a == "-h" || a == "--help" {
						return cli.ShowCommandHelp(c.Lineage()[1], "wait")
					}
					if c.NArg() != 1 {
						return badArgs(c, "wait needs exactly one argument, the number of seconds")
					}
					d, err := runner.ParseSeconds(c.Args().First())
					if err != nil {
						return err
					}
					return newRunner(c).Wait(c.Context, d)
				},
			},
			{
				Name: "get_traces", Aliases: []string{"get-traces"},
				Usage:     "download the traces of the last invocation into its logs directory",
				ArgsUsage: " ",
				Description: "The window is the last invoke's start to its end plus --end-offset (the last 6 hours when no invoke is\n" +
					"recorded). provider: aws downloads AWS X-Ray traces (credentials: sb login aws, else the standard AWS\n" +
					"configuration; AWS_ENDPOINT_URL_XRAY points at another endpoint); provider: azure the Application Insights\n" +
					"operations of the Log Analytics workspace insights_workspace_id (credentials: sb login azure, else\n" +
					"azidentity's chain). Writes traces.json (one trace or operation per line) and trace_ids.txt; an existing\n" +
					"traces.json is never overwritten.",
				Flags:        []cli.Flag{&cli.DurationFlag{Name: "end-offset", Value: runner.DefaultEndOffset, Usage: "how long after the invoke's end traces may still finish"}},
				OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, c *cli.Context) error {
					return r.GetTraces(ctx, c.Duration("end-offset"))
				}),
			},
			{
				Name: "analyze_traces", Aliases: []string{"analyze-traces"},
				Usage:     "break each request's latency down along its critical path",
				ArgsUsage: "[PATH]",
				Description: "PATH is a traces.json, a log file or a logs directory; default: the last invocation's traces.json.\n" +
					"AWS X-Ray traces and Azure Application Insights operations give trace_breakdown.csv and\n" +
					"invalid_traces.csv beside PATH; log lines <epoch ms><±HHMM>|LABEL[|KEY] give timestamps.csv,\n" +
					"label_durations.csv and a table of the steps between labels. The format is told by the content.",
				Flags:        []cli.Flag{&cli.StringFlag{Name: "format", Usage: "xray, azure or loglines (default: decided by the content)"}},
				OnUsageError: usageError,
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return badArgs(c, "analyze_traces takes at most one path")
					}
					return eachBenchmark(c, func(r *runner.Runner) error {
						return r.AnalyzeTraces(c.Context, c.Args().First(), c.String("format"))
					})
				},
			},
			{
				Name: "shell", Usage: "open an interactive shell in IMAGE with the mounts spec.run uses",
				ArgsUsage:    "[IMAGE]",
				Description:  "IMAGE is an alias (aws_cli, node20.x, ...) or an image reference; default: the `default` alias.",
				Flags:        []cli.Flag{&cli.StringFlag{Name: "shell", Value: "/bin/sh", Usage: "shell to start, e.g. /bin/bash"}},
				OnUsageError: usageError,
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return badArgs(c, "shell takes at most one image, got %q", strings.Join(c.Args().Slice(), " "))
					}
					return eachBenchmark(c, func(r *runner.Runner) error {
						return r.Shell(c.Context, c.Args().First(), c.String("shell"))
					})
				},
			},
			{
				Name: "init", Usage: "build the serverless-benchmarker:<version> image holding this sb",
				ArgsUsage: " ",
				Description: "The image runs sb itself in a container, e.g. on a load-generator host. This sb binary must be\n" +
					"statically linked (build it with CGO_ENABLED=0, as the README shows).",
				Flags:        []cli.Flag{&cli.StringFlag{Name: "base", Value: dockerenv.DefaultSBBase, Usage: "base image"}},
				OnUsageError: usageError,
				Action: lifecycle(func(ctx context.Context, r *runner.Runner, c *cli.Context) error {
					return r.Init(ctx, sbVersion(), c.String("base"))
				}),
			},
			{
				Name: "login", Usage: "store credentials of PROVIDER (" + strings.Join(creds.Names(), ", ") + ") in the PROVIDER-secrets volume",
				ArgsUsage:    "PROVIDER",
				Flags:        []cli.Flag{&cli.BoolFlag{Name: "prompt", Usage: "aws: paste a whole credentials file instead of running aws configure"}},
				OnUsageError: usageError,
				Action: providerAction(func(ctx context.Context, r *runner.Runner, c *cli.Context, p string) error {
					return r.Login(ctx, p, c.Bool("prompt"))
				}),
			},
			{
				Name: "logout", Usage: "remove the credentials of PROVIDER (its PROVIDER-secrets volume)",
				ArgsUsage: "PROVIDER", OnUsageError: usageError,
				Action: providerAction(func(ctx context.Context, r *runner.Runner, _ *cli.Context, p string) error {
					return r.Logout(ctx, p)
				}),
			},
			{
				Name: "check_credentials", Aliases: []string{"check-credentials"},
				Usage:     "show whom the stored credentials of PROVIDER belong to",
				ArgsUsage: "PROVIDER", OnUsageError: usageError,
				Action: providerAction(func(ctx context.Context, r *runner.Runner, _ *cli.Context, p string) error {
					return r.CheckCredentials(ctx, p)
				}),
			},
			suiteCommand(),
			{
				Name: "examples", Usage: "list the ready-made benchmarks that --benchmarks runs",
				ArgsUsage: " ", OnUsageError: usageError,
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return badArgs(c, "examples takes no arguments")
					}
					list, err := runner.Examples()
					if err != nil {
						return exitcode.With(err, exitcode.Infrastructure)
					}
					for _, ex := range list {
						clouds := "local"
						if len(ex.Clouds) > 0 {
							clouds = strings.Join(ex.Clouds, ", ")
						}
						fmt.Fprintf(c.App.Writer, "%-22s %-12s %s\n", ex.Name, clouds, ex.Description)
					}
					fmt.Fprintln(c.App.Writer, "\nrun one with: sb test --benchmarks=NAME [--cloud=CLOUD] [--region=REGION]")
					return nil
				},
			},
			{
				Name: "version", Usage: "print sb's version",
				ArgsUsage: " ", OnUsageError: usageError,
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return badArgs(c, "version takes no arguments")
					}
					fmt.Fprintf(c.App.Writer, "sb %s (%s %s/%s)\n", sbVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
					return nil
				},
			},
		},
	}
	for _, c := range app.Commands {
		c.HideHelpCommand = true
	}
	return app
}

// workloadFlags are the flags of invoke and workload show.
func workloadFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "workload-trace", Usage: "per-minute CSV (InvocationsPerMinute column) for `custom`"},
		&cli.StringFlag{Name: "workload-options", Usage: "k6 options JSON for `custom`, used unchanged"},
		&cli.Float64Flag{Name: "scale-factor", Value: loadgen.DefaultScaleFactor, Usage: "multiply the rates by this factor"},
		&cli.StringFlag{Name: "scale-type", Value: loadgen.ScaleLinear, Usage: "linear or compound"},
		&cli.IntFlag{Name: "seconds-to-skip", Value: loadgen.DefaultSecondsToSkip, Usage: "skip the first seconds of a trace-shaped workload"},
		&cli.Int64Flag{Name: "seed", Usage: "seed of generated patterns", DefaultText: fmt.Sprintf("$%s or %d", loadgen.SeedEnv, loadgen.DefaultSeed)},
		&cli.Float64Flag{Name: "rate", Value: loadgen.DefaultRate, Usage: "mean requests per second of a generated pattern"},
		&cli.IntFlag{Name: "minutes", Value: loadgen.DefaultMinutes, Usage: "length in minutes of a generated pattern"},
	}
}

// parseWorkload plans the workload argument with the flags, resolving the
// files it names against the directory sb was started in.
func parseWorkload(c *cli.Context) (runner.Workload, error) {
	opts, err := loadgen.DefaultOptions()
	if err != nil {
		return runner.Workload{}, exitcode.With(err, exitcode.BadInput)
	}
	opts.Trace = c.String("workload-trace")
	opts.OptionsFile = c.String("workload-options")
	opts.ScaleFactor = c.Float64("scale-factor")
	opts.ScaleType = c.String("scale-type")
	opts.SecondsToSkip = c.Int("seconds-to-skip")
	opts.Rate = c.Float64("rate")
	opts.Minutes = c.Int("minutes")
	// invoke's own --seed, else the global one (which also seeds random).
	for _, ctx := range c.Lineage() {
		if slices.Contains(ctx.LocalFlagNames(), "seed") {
			opts.Seed = ctx.Int64("seed")
			break
		}
	}
	arg := c.Args().First()
	if arg != "" && strings.HasSuffix(strings.ToLower(arg), ".csv") {
		arg = absPath(arg)
	}
	opts.Trace, opts.OptionsFile = absPath(opts.Trace), absPath(opts.OptionsFile)
	return runner.ParseWorkload(arg, opts)
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// invokeUsageError turns `sb invoke -3` into a workload error, not an
// unknown flag.
func invokeUsageError(c *cli.Context, err error, sub bool) error {
	if n, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -"); ok {
		if _, convErr := strconv.Atoi(n); convErr == nil {
			_, err = runner.ParseWorkload("-"+n, loadgen.Options{})
			return err
		}
	}
	return usageError(c, err, sub)
}

// lifecycle adapts a runner method taking no arguments into an action.
func lifecycle(fn func(context.Context, *runner.Runner, *cli.Context) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return badArgs(c, "%s takes no arguments, got %q", c.Command.Name, strings.Join(c.Args().Slice(), " "))
		}
		return eachBenchmark(c, func(r *runner.Runner) error { return fn(c.Context, r, c) })
	}
}

// eachBenchmark runs fn with a runner for every benchmark named by
// --benchmarks (ready-made ones, in order), or once for --file or the
// current directory.
func eachBenchmark(c *cli.Context, fn func(*runner.Runner) error) error {
	names := c.StringSlice("benchmarks")
	if len(names) == 0 {
		return fn(newRunner(c))
	}
	for _, name := range names {
		r := newRunner(c)
		r.UseExample(strings.TrimSpace(name), c.String("cloud"))
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// providerAction adapts a runner method taking the PROVIDER argument.
func providerAction(fn func(context.Context, *runner.Runner, *cli.Context, string) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() != 1 {
			return badArgs(c, "%s needs exactly one provider (%s)", c.Command.Name, strings.Join(creds.Names(), ", "))
		}
		return fn(c.Context, newRunner(c), c, c.Args().First())
	}
}

func badArgs(c *cli.Context, format string, a ...any) error {
	return exitcode.With(fmt.Errorf(format+" (see 'sb %s --help')", append(a, c.Command.Name)...), exitcode.BadInput)
}

func usageError(_ *cli.Context, err error, _ bool) error {
	return exitcode.With(fmt.Errorf("%v (see 'sb --help')", err), exitcode.BadInput)
}

func checkGlobalFlags(c *cli.Context) error {
	switch c.String("log-level") {
	case "debug", "info", "warn", "error":
	default:
		return exitcode.With(fmt.Errorf("unknown --log-level %q: use debug, info, warn or error", c.String("log-level")), exitcode.BadInput)
	}
	switch c.String("log-format") {
	case "console", "json":
	default:
		return exitcode.With(fmt.Errorf("unknown --log-format %q: use console or json", c.String("log-format")), exitcode.BadInput)
	}
	for _, kv := range c.StringSlice("set") {
		if _, err := runner.ParseOverride(kv); err != nil {
			return err
		}
	}
	return nil
}

// newRunner builds the runner from the global flags.
func newRunner(c *cli.Context) *runner.Runner {
	jsonLogs := c.String("log-format") == "json"
	terminal := term.IsTerminal(int(os.Stderr.Fd()))
	var log zerolog.Logger
	if jsonLogs {
		log = zerolog.New(os.Stderr).With().Timestamp().Logger()
	} else {
		log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05", NoColor: !terminal}).With().Timestamp().Logger()
	}
	level, _ := zerolog.ParseLevel(c.String("log-level")) // checked in checkGlobalFlags
	log = log.Level(level)
	opts := runner.Options{File: c.String("file"), Local: c.Bool("local"), DryRun: c.Bool("dry-run")}
	if c.IsSet("seed") {
		seed := c.Int64("seed")
		opts.Seed = &seed
	}
	for _, kv := range c.StringSlice("set") {
		o, _ := runner.ParseOverride(kv) // checked in checkGlobalFlags
		opts.Set = append(opts.Set, o)
	}
	if c.IsSet("region") {
		opts.Set = append(opts.Set, runner.Override{Key: "region", Value: starlark.String(c.String("region"))})
	}
	return runner.New(runner.NewSystem(log, jsonLogs, terminal), opts)
}

func sbVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
