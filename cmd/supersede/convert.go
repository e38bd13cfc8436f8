package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/supersede/supersede/internal/sysd"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

func runConvert(_ context.Context, e *env) error {
	fs := flagSet(e, "convert")
	var lf loadFlags
	lf.register(fs)
	out := fs.StringP("output", "o", "", "write the units into `DIR` (without it they are printed)")
	user := fs.Bool("user", false, "units for a user manager (systemctl --user): default.target, no User=")
	prefix := fs.String("prefix", "", "put `P` before every unit name")
	version := fs.Int("systemd-version", unitgen.DefaultVersion, fmt.Sprintf("the oldest systemd version `N` that will run the units (%d or later)", unitgen.MinVersion))
	logFiles := fs.Bool("log-files", false, "keep Supervisor's log files (StandardOutput=append:) instead of the journal")
	shimPath := fs.String("shim", selfPath(e.exe), "the supersede binary `PATH` the units run as their compatibility step (docs/MAPPING.md); empty: systemd directives alone")
	strict := fs.Bool("strict", false, "treat every warning as an error")
	dryRun := fs.Bool("dry-run", false, "with -o: say what would change, write nothing")
	showDiff := fs.Bool("diff", false, "with -o: print a diff of what changes")
	prune := fs.Bool("prune", false, "with -o: remove units this config generated earlier for programs that are gone")
	force := fs.Bool("force", false, "with -o: replace unit files supersede did not write")
	if err := parseFlags(fs, e.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("convert takes no arguments, got %q", fs.Args()), hint: "name the config with -c FILE and the directory with -o DIR"}
	}
	if *out == "" && (*dryRun || *showDiff || *prune || *force) {
		return &usageError{err: errors.New("--dry-run, --diff, --prune and --force need -o DIR")}
	}
	if *version < unitgen.MinVersion {
		return &usageError{err: fmt.Errorf("--systemd-version %d: supersede needs systemd %d or later", *version, unitgen.MinVersion)}
	}
	opts, path, err := lf.resolve(e)
	if err != nil {
		return err
	}
	cfg, err := translate.Load(path, opts)
	if err != nil {
		return configFailure(e.stderr, err)
	}
	if *shimPath != "" && !filepath.IsAbs(*shimPath) {
		return &usageError{err: fmt.Errorf("--shim %s: the path must be absolute", *shimPath)}
	}
	res, err := unitgen.Generate(cfg, unitgen.Options{
		Prefix: *prefix, User: *user, SystemdVersion: *version, LogFiles: *logFiles,
		Environ: opts.Environ, Dir: opts.Dir, Shim: *shimPath, Serve: selfPath(e.exe),
	})
	if err != nil {
		return configFailure(e.stderr, err)
	}
	// What show notes (a misspelt key, a section Supervisor ignores) is
	// worth seeing at a migration above all: Supervisor ignores it, and so
	// do the units.
	for _, w := range cfg.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	for _, n := range cfg.Notices {
		fmt.Fprintf(e.stderr, "note: %s\n", n)
	}
	for _, w := range res.Warnings {
		if *strict {
			fmt.Fprintf(e.stderr, "%s\n", w)
		} else {
			fmt.Fprintf(e.stderr, "warning: %s\n", w)
		}
	}
	warnings := len(res.Warnings)
	if *shimPath == "" && !fs.Changed("shim") {
		// not --shim= by choice: this binary cannot be the step
		warnings++
		if *strict {
			fmt.Fprintf(e.stderr, "%s\n", noShimWarning(e.exe))
		} else {
			fmt.Fprintf(e.stderr, "warning: %s\n", noShimWarning(e.exe))
		}
	}
	if *strict && warnings > 0 {
		fmt.Fprintf(e.stderr, "supersede: --strict: %d difference(s) from Supervisor; nothing written\n", warnings)
		return &configError{errors.New("strict")}
	}
	if *out == "" {
		return printUnits(e.stdout, res)
	}
	if err := checkOutputDir(*out); err != nil {
		return err
	}
	changes, err := unitgen.WriteDir(*out, res, unitgen.WriteOptions{Force: *force, Prune: *prune, DryRun: *dryRun || false, Sync: true})
	if err != nil {
		return err
	}
	next := func(anchor string) string {
		return nextSteps(e.environ, *out, path, anchor, *user, sysd.IsRunning())
	}
	return reportChanges(e.stdout, changes, *dryRun, *showDiff, *prefix, warnings, next)
}

// noShimWarning says that the units go without the compatibility step
// because the running binary cannot be it (selfPath found none), and how
// to have it: for convert and migrate run without --shim.
func noShimWarning(argv0 string) string {
	return "the units get no compatibility step (docs/MAPPING.md: constant 100 ms restarts instead of Supervisor's backoff, FATAL by systemd's start rate limit, no chdir lines, no locale, no unit for a command supervisord cannot spawn): " +
		noSelfReason(argv0) + ", so there is nothing for them to run (pass --shim PATH naming the installed supersede, or --shim= to go without it)"
}

// configFailure prints a config or mapping error and makes it exit 2.
func configFailure(w io.Writer, err error) error {
	var list translate.ErrorList
	var te *translate.Error
	if errors.As(err, &list) || errors.As(err, &te) {
		printConfigErrors(w, err)
		return &configError{err}
	}
	return err
}

func printUnits(w io.Writer, res *unitgen.Result) error {
	for i, u := range res.Units {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "-- %s --\n", u.Name)
		if _, err := w.Write(u.Data); err != nil {
			return err
		}
	}
	return nil
}

// reportChanges says what convert -o changed; next is the advice once
// the anchor target was written.
func reportChanges(w io.Writer, changes []unitgen.Change, dryRun, showDiff bool, prefix string, warnings int, next func(anchor string) string) error {
	verb := map[unitgen.Action]string{unitgen.Create: "created", unitgen.Update: "updated", unitgen.Remove: "removed"}
	if dryRun {
		verb = map[unitgen.Action]string{unitgen.Create: "would create", unitgen.Update: "would update", unitgen.Remove: "would remove"}
	}
	counts := map[unitgen.Action]int{}
	anchor := ""
	for _, c := range unitgen.Sorted(changes) {
		counts[c.Action]++
		if c.Action == unitgen.Unchanged {
			continue
		}
		fmt.Fprintf(w, "%s %s\n", verb[c.Action], c.Path)
		if showDiff {
			w.Write(diff.Diff(c.Path, c.Old, c.Path, c.New))
		}
		if c.Action != unitgen.Remove && strings.HasSuffix(c.Path, "/"+unitgen.AnchorTarget(prefix)) {
			anchor = unitgen.AnchorTarget(prefix)
		}
	}
	fmt.Fprintf(w, "%d created, %d updated, %d removed, %d unchanged", counts[unitgen.Create], counts[unitgen.Update], counts[unitgen.Remove], counts[unitgen.Unchanged])
	if warnings > 0 {
		fmt.Fprintf(w, "; %d warning(s) on stderr", warnings)
	}
	fmt.Fprintln(w)
	if !dryRun && anchor != "" {
		fmt.Fprintln(w, next(anchor))
	}
	return nil
}
