package logfile

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

func TestCreateAuto(t *testing.T) {
	dir := t.TempDir()
	seen := map[string]bool{}
	name := regexp.MustCompile(`^web-stdout---supervisor-[a-z0-9_]{8}\.log$`)
	for range 50 {
		path, err := CreateAuto(dir, "web", "stdout", "supervisor")
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(path) != dir || !name.MatchString(filepath.Base(path)) || seen[path] {
			t.Errorf("path %q", path)
		}
		seen[path] = true
		fi, err := os.Stat(path)
		if err != nil || fi.Size() != 0 || fi.Mode().Perm()&^0o600 != 0 {
			t.Errorf("%s: %v %v", path, fi.Mode(), err)
		}
	}
	if _, err := CreateAuto(filepath.Join(dir, "missing"), "web", "stdout", "supervisor"); err == nil {
		t.Error("CreateAuto in a missing directory succeeded")
	}
}

// pyAutoMatch says which names Supervisor's clear_autochildlogdir removes.
const pyAutoMatch = `
import sys, json, re
c = json.load(sys.stdin)
fnre = re.compile(r'.+?---%s-\S+\.log\.{0,1}\d{0,4}' % c['ident'])
json.dump([bool(fnre.match(n)) for n in c['names']], sys.stdout)
`

func TestClearAutoDirMatchesSupervisor(t *testing.T) {
	testreal.RequirePython(t)
	names := []string{
		"web-stdout---supervisor-abc_1234.log", "web-stderr---supervisor-zzzzzzzz.log.3",
		"web-stdout---supervisor-abc.log.10000", "x---supervisor-y.logfile", "---supervisor-x.log",
		"web-stdout---other-abc.log", "web-stdout---supervisor-.log", "web-stdout---supervisor-a b.log",
		"web-stdout---supervisor-a\u2003b.log", "web-stdout---supervisor-a\u00a0.log", "web.log",
		"a-b---supervisor-\u00e9.log", "nested---supervisor-x---supervisor-y.log", "W---supervisor-Z.LOG",
		"web-stdout---supervisor-x\x1fy.log",
	}
	var want []bool
	testreal.RunPython(t, pyAutoMatch, map[string]any{"ident": "supervisor", "names": names}, &want)
	dir := t.TempDir()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Mkdir(filepath.Join(dir, "d---supervisor-x.log"), 0o755) // matches, cannot be removed
	warnings := ClearAutoDir(dir, "supervisor")
	if !slices.Equal(warnings, []string{"Failed to clean up '" + dir + "/d---supervisor-x.log'"}) {
		t.Errorf("warnings %q", warnings)
	}
	for i, n := range names {
		_, err := os.Stat(filepath.Join(dir, n))
		if removed := err != nil; removed != want[i] {
			t.Errorf("%q removed = %v, Supervisor %v", n, removed, want[i])
		}
	}
	if w := ClearAutoDir(filepath.Join(dir, "missing"), "supervisor"); !slices.Equal(w, []string{"Could not clear childlog dir"}) {
		t.Errorf("missing dir: %q", w)
	}
}
