package translate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// ctlOracleScript runs supervisorctl's own ClientOptions.realize on each
// case and reports what it understood, or the usage error it printed, or
// the exception it crashed with.
const ctlOracleScript = `
import json, os, sys
from supervisor.options import ClientOptions
cases = json.load(sys.stdin)
out = []
for c in cases:
    os.chdir(c["dir"])
    os.environ.clear()
    os.environ.update(c["env"])
    o = ClientOptions()
    class Usage(Exception):
        pass
    def usage(msg):
        raise Usage(str(msg))
    o.usage = usage
    r = {}
    try:
        o.realize(["-c", c["path"]], doc="")
        r = {"serverurl": o.serverurl, "username": o.username, "password": o.password,
             "prompt": o.prompt, "history_file": o.history_file}
    except Usage as e:
        r = {"usage": str(e)}
    except Exception as e:
        r = {"crash": type(e).__name__}
    out.append(r)
json.dump(out, sys.stdout)
`

// TestLoadCtlOracle compares LoadCtl with supervisorctl's ClientOptions
// on the same files, directory and environment.
func TestLoadCtlOracle(t *testing.T) {
	testreal.RequireSupervisor(t)
	dir := writeTree(t, map[string]string{
		"plain.conf":   "[supervisorctl]\n",
		"full.conf":    "[supervisorctl]\nserverurl = unix://%(here)s/../run/s.sock ; comment\nusername = %(ENV_GREETING)s\npassword = p;w\nprompt = my %(ENV_GREETING)s\nhistory_file = ~/hist\n",
		"http.conf":    "[supervisorctl]\nserverurl=http://%(ENV_GREETING)s:9001\nhistory_file=%(here)s/h\n",
		"relunix.conf": "[supervisorctl]\nserverurl=unix://sock/s.sock\nhistory_file=\n",
		// supervisorctl does not look at [program:x] nor [include]
		"badprog.conf": "[supervisord]\n[include]\nfiles=nothere/*.conf\n[program:x]\ncommand=sleep 1\nautostart=maybe\n[supervisorctl]\nserverurl=unix:///x.sock\n",
		"nosec.conf":   "[supervisord]\n",
		"syntax.conf":  "foo\n[supervisorctl]\n",
		"env.conf":     "[supervisorctl]\nserverurl=%(ENV_NOPE)s\n",
		"here.conf":    "[supervisorctl]\nprompt=%(here)s\n",
		"default.conf": "[DEFAULT]\nusername=d\n[supervisorctl]\n",
		"plugin.conf":  "[supervisorctl]\n[ctlplugin:x]\nfoo=bar\n",
		"sub/x.conf":   "[supervisorctl]\nserverurl=unix://x.sock\n",
	})
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{"plain.conf", "full.conf", "http.conf", "relunix.conf", "badprog.conf", "nosec.conf",
		"syntax.conf", "env.conf", "here.conf", "default.conf", "plugin.conf", "sub/x.conf", "missing.conf", "adir",
		filepath.Join(dir, "full.conf")}
	env := map[string]string{"HOME": "/home/test", "GREETING": "hi"}
	type pycase struct {
		Dir  string            `json:"dir"`
		Path string            `json:"path"`
		Env  map[string]string `json:"env"`
	}
	type pyres struct {
		ServerURL   *string `json:"serverurl"`
		Username    *string `json:"username"`
		Password    *string `json:"password"`
		Prompt      *string `json:"prompt"`
		HistoryFile *string `json:"history_file"`
		Usage       *string `json:"usage"`
		Crash       *string `json:"crash"`
	}
	var cases []pycase
	for _, n := range names {
		cases = append(cases, pycase{Dir: dir, Path: n, Env: env})
	}
	var want []pyres
	testreal.RunPython(t, ctlOracleScript, cases, &want)
	if len(want) != len(names) {
		t.Fatalf("oracle answered %d cases, want %d", len(want), len(names))
	}
	deref := func(p *string) string {
		if p == nil {
			return "<None>"
		}
		return *p
	}
	for i, n := range names {
		t.Run(n, func(t *testing.T) {
			w := want[i]
			c, err := LoadCtl(n, Options{Dir: dir, Environ: []string{"HOME=/home/test", "GREETING=hi"}})
			switch {
			case w.Crash != nil:
				if err == nil {
					t.Fatalf("supervisorctl crashes with %s; LoadCtl returned %+v, no error", *w.Crash, c)
				}
				return
			case err != nil:
				t.Fatalf("LoadCtl: %v; supervisorctl: %+v", err, w)
			case w.Usage != nil:
				if c.Err != *w.Usage {
					t.Fatalf("Err %q, supervisorctl says %q", c.Err, *w.Usage)
				}
				return
			case c.Err != "":
				t.Fatalf("Err %q, supervisorctl accepts the file", c.Err)
			}
			got := []string{c.ServerURL, deref(c.Username), deref(c.Password), c.Prompt, deref(c.HistoryFile)}
			exp := []string{deref(w.ServerURL), deref(w.Username), deref(w.Password), deref(w.Prompt), deref(w.HistoryFile)}
			for k, name := range []string{"serverurl", "username", "password", "prompt", "history_file"} {
				if got[k] != exp[k] {
					t.Errorf("%s = %q, supervisorctl: %q", name, got[k], exp[k])
				}
			}
		})
	}
}
