package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noShimConf is a config whose units would run the compatibility step,
// and whose supervisord (for migrate) does not run.
const noShimConf = `[unix_http_server]
file=%(here)s/s.sock

[supervisord]

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[program:a]
command=/bin/sleep 1000
`

// renamedSupersede is an argv[0] that selfPath finds no supersede for: a
// binary under another name with no supersede beside it, as a renamed
// copy of supersede is.
func renamedSupersede(t *testing.T) (argv0, conf string) {
	t.Helper()
	dir := t.TempDir()
	argv0 = filepath.Join(dir, "bin", "supersede-renamed")
	if self := selfPath(argv0); self != "" {
		t.Fatalf("precondition: selfPath(%s) = %q (a supersede beside the test binary?); the test needs none", argv0, self)
	}
	conf = filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(conf, []byte(noShimConf), 0o644); err != nil {
		t.Fatal(err)
	}
	return argv0, conf
}

// convert run by a binary that cannot be the compatibility step writes
// the units without it, and says so on stderr, naming --shim PATH; an
// explicit --shim= says nothing; --strict counts it as a difference.
func TestConvertWarnsWithoutShimDefault(t *testing.T) {
	argv0, conf := renamedSupersede(t)
	const warning = "warning: the units get no compatibility step (docs/MAPPING.md: "
	const fix = "this binary is not named supersede and has no supersede beside it, so there is nothing for them to run (pass --shim PATH naming the installed supersede, or --shim= to go without it)\n"

	out, errOut, code := runArgs(t, argv0, "convert", "-c", conf)
	if code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(errOut, warning) || !strings.HasSuffix(errOut, fix) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("convert without a shim default: stderr\n%s\nwant one line %q ... %q", errOut, warning, fix)
	}
	if !strings.Contains(out, "ExecStart=") || strings.Contains(out, `"shim"`) {
		t.Errorf("convert without a shim default: the units should have no step:\n%s", out)
	}

	// the user's choice is not warned about
	out2, errOut, code := runArgs(t, argv0, "convert", "-c", conf, "--shim=")
	if code != 0 || errOut != "" || out2 != out {
		t.Errorf("convert --shim=: exit %d, stderr %q, same units %v; want 0, nothing, true", code, errOut, out2 == out)
	}

	// nor is an explicit --shim PATH, which the units run
	out, errOut, code = runArgs(t, argv0, "convert", "-c", conf, "--shim", "/usr/local/bin/supersede")
	if code != 0 || errOut != "" || !strings.Contains(out, `ExecStartPre="/usr/local/bin/supersede" "shim" "backoff"`) {
		t.Errorf("convert --shim PATH: exit %d, stderr %q, units\n%s", code, errOut, out)
	}

	// --strict: a difference from Supervisor, nothing written
	units := t.TempDir()
	_, errOut, code = runArgs(t, argv0, "convert", "-c", conf, "--strict", "-o", units)
	if code != 2 || !strings.Contains(errOut, "\nsupersede: --strict: 1 difference(s) from Supervisor; nothing written\n") || !strings.Contains(errOut, fix) {
		t.Errorf("convert --strict: exit %d, stderr\n%s", code, errOut)
	}
	if ents, _ := os.ReadDir(units); len(ents) != 0 {
		t.Errorf("convert --strict wrote %d files", len(ents))
	}

	// -o: the summary counts it
	out, _, code = runArgs(t, argv0, "convert", "-c", conf, "-o", units)
	if code != 0 || !strings.Contains(out, "2 created, 0 updated, 0 removed, 0 unchanged; 1 warning(s) on stderr\n") {
		t.Errorf("convert -o: exit %d, stdout\n%s", code, out)
	}
}

// migrate, as convert, says that its units would go without the step
// (it already says it links no supervisorctl); not when rolling back.
func TestMigrateWarnsWithoutShimDefault(t *testing.T) {
	argv0, conf := renamedSupersede(t)
	dir := filepath.Dir(conf)
	units := filepath.Join(dir, "units")
	if err := os.Mkdir(units, 0o755); err != nil {
		t.Fatal(err)
	}
	base := []string{argv0, "migrate", "-c", conf, "--user", "-o", units, "--state", filepath.Join(dir, "state.json")}

	out, errOut, code := runArgs(t, append(base, "--plan")...)
	if code != 0 || !strings.Contains(out, "nothing was changed (--plan)") {
		t.Fatalf("migrate --plan: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"supersede migrate: not linking supervisorctl: this binary is not named supersede and has no supersede beside it, so there is nothing to link it to",
		"supersede migrate: the units get no compatibility step (docs/MAPPING.md: ",
		"(pass --shim PATH naming the installed supersede, or --shim= to go without it)\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("migrate --plan: stderr lacks %q:\n%s", want, errOut)
		}
	}

	_, errOut, _ = runArgs(t, append(base, "--plan", "--shim=", "--link-dir=")...)
	if strings.Contains(errOut, "compatibility step") || strings.Contains(errOut, "not linking") {
		t.Errorf("migrate --plan --shim= --link-dir=: warned anyway:\n%s", errOut)
	}

	_, errOut, _ = runArgs(t, append(base, "--rollback")...)
	if strings.Contains(errOut, "compatibility step") {
		t.Errorf("migrate --rollback: warned about the step of units it removes:\n%s", errOut)
	}
}

// A binary of go run is no supersede the units can run: the go tool
// removes it when the program exits.
func TestGoRunBuildIsNoSelf(t *testing.T) {
	for p, want := range map[string]bool{
		"/tmp/go-build2762406001/b001/exe/supersede":  true,
		"/var/tmp/go-build12/b042/exe/supersede":      true,
		"/usr/local/bin/supersede":                    false,
		"/tmp/go-build2762406001/b001/supersede.test": false,
		"/home/u/exe/supersede":                       false,
		"/tmp/testscript-main1/bin/supersede":         false,
	} {
		if got := goRunBuild(p); got != want {
			t.Errorf("goRunBuild(%s) = %v, want %v", p, got, want)
		}
	}
	dir := filepath.Join(t.TempDir(), "go-build99", "b001", "exe")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "supersede")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := selfPath(p); got != "" {
		t.Errorf("selfPath(%s) = %q, want none", p, got)
	}
}
