package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/pflag"
	"github.com/supersede/supersede/internal/oracle"
	"github.com/supersede/supersede/translate"
)

// loadFlags are the flags every command that reads a config shares.
type loadFlags struct {
	config  string
	lenient bool
	envs    []string
	envFile string
}

func (f *loadFlags) register(fs *pflag.FlagSet) {
	fs.StringVarP(&f.config, "configuration", "c", "", "the supervisord.conf `FILE` to read (default: where supervisord looks)")
	fs.BoolVar(&f.lenient, "lenient", false, "read a config written for another host: no user/directory checks, placeholders for unset %(ENV_X)s, conf.d snippets as included")
	fs.StringArrayVar(&f.envs, "env", nil, "`NAME=VALUE` for %(ENV_NAME)s expansion (repeatable)")
	fs.StringVar(&f.envFile, "env-file", "", "a `FILE` of NAME=VALUE lines for %(ENV_NAME)s expansion")
}

// options builds translate.Options from the flags and the environment.
func (f *loadFlags) options(e *env) (translate.Options, error) {
	environ := append([]string(nil), e.environ...)
	if f.envFile != "" {
		extra, err := readEnvFile(f.envFile)
		if err != nil {
			return translate.Options{}, err
		}
		environ = append(environ, extra...)
	}
	for _, kv := range f.envs {
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return translate.Options{}, &usageError{err: fmt.Errorf("--env %q: want NAME=VALUE", kv)}
		}
		environ = append(environ, kv)
	}
	if environ == nil {
		environ = []string{}
	}
	wd, err := os.Getwd()
	if err != nil {
		return translate.Options{}, err
	}
	return translate.Options{Environ: environ, Dir: wd, Lenient: f.lenient}, nil
}

// resolve returns the load options and the config file to read.
func (f *loadFlags) resolve(e *env) (translate.Options, string, error) {
	opts, err := f.options(e)
	if err != nil {
		return opts, "", err
	}
	path, err := f.path(e, opts.Dir)
	return opts, path, err
}

// path returns the config file to read: -c, or supervisord's search
// from the directory dir.
func (f *loadFlags) path(e *env, dir string) (string, error) {
	if f.config != "" {
		return f.config, nil
	}
	p, err := translate.FindConfig(e.exe, dir)
	if err != nil {
		return "", &usageError{err: err, hint: "name the file with -c FILE"}
	}
	return p, nil
}

// readEnvFile reads NAME=VALUE lines; blank lines and lines starting with
// "#" are skipped, "export " is allowed, and one pair of surrounding
// quotes is removed from the value.
func readEnvFile(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &usageError{err: fmt.Errorf("--env-file: %w", err)}
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		name, val, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, &usageError{err: fmt.Errorf("%s:%d: want NAME=VALUE, got %q", path, n, line)}
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		out = append(out, name+"="+val)
	}
	if err := sc.Err(); err != nil {
		return nil, &usageError{err: fmt.Errorf("--env-file %s: %w", path, err)}
	}
	return out, nil
}

// printConfigErrors prints every problem as file:line: message.
func printConfigErrors(w io.Writer, err error) {
	var list translate.ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			fmt.Fprintln(w, e.Error())
		}
		return
	}
	fmt.Fprintln(w, err.Error())
}

func runShow(_ context.Context, e *env) error {
	// show reads one config and exits: let the heap grow to five times
	// what is live before collecting, which saves a quarter of the CPU
	// time on large configs (docs/PERFORMANCE.md) for a few MB more.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	fs := flagSet(e, "show")
	var lf loadFlags
	lf.register(fs)
	asJSON := fs.Bool("json", false, "print everything Supervisor would read as one JSON document (the format the tests compare with the real Supervisor's)")
	noExec := fs.Bool("no-exec", false, "with --json: leave out each process's exec (PATH search)")
	portable := fs.Bool("portable", false, "with --json: write the config directory as ${HERE} and the current one as ${CWD}")
	if err := parseFlags(fs, e.args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{err: fmt.Errorf("show takes no arguments, got %q", fs.Args()), hint: "name the config with -c FILE"}
	}
	opts, path, err := lf.resolve(e)
	if err != nil {
		return err
	}
	cfg, err := translate.Load(path, opts)
	var list translate.ErrorList
	if err != nil && !errors.As(err, &list) {
		var te *translate.Error
		if !errors.As(err, &te) {
			return err
		}
	}
	if *asJSON {
		var doc oracle.Object
		if err != nil {
			doc = oracle.ErrorDocument(err, cfg, opts.Lenient)
		} else {
			doc = oracle.Document(cfg, oracle.Options{Lenient: opts.Lenient, Exec: !*noExec, Environ: opts.Environ, Dir: opts.Dir})
		}
		var v any = doc
		if *portable {
			v = oracle.Portable(doc, translate.ConfigDir(path, opts.Dir), opts.Dir)
		}
		if werr := oracle.Write(e.stdout, v); werr != nil {
			return werr
		}
		if _, werr := io.WriteString(e.stdout, "\n"); werr != nil {
			return werr
		}
	}
	if err != nil {
		printConfigErrors(e.stderr, err)
		return &configError{err}
	}
	if !*asJSON {
		return writeSummary(e.stdout, cfg, opts)
	}
	return nil
}
