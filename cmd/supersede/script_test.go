package main

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "rewrite testscript files with current output")

func TestMain(m *testing.M) {
	// the commands run the real main, with its signal handling
	testscript.Main(m, map[string]func(){
		"supersede":           main,
		"supervisorctl":       main, // ctl_systemd_test.go
		"supersede-generator": main, // ctl_systemd_test.go
		"supervisord":         main, // run_names.txtar, TestSupervisordErrors (the real one is /usr/bin/supervisord)
	})
}

func TestScript(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "testdata", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("EXAMPLES", examples)
			return nil
		},
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}
