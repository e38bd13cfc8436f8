package unitgen

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/translate"
)

func loadServeConfig(t *testing.T, text string) (*translate.Config, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := translate.Load(path, translate.Options{Environ: []string{"PATH=/usr/bin:/bin"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, dir
}

func unitData(res *Result, name string) string {
	for _, u := range res.Units {
		if u.Name == name {
			return string(u.Data)
		}
	}
	return ""
}

const serveConf = `[unix_http_server]
file=%(here)s/s.sock
chmod=0770
chown=0:0
username=u
password={SHA}1f4a0d9b0ab4b6e0a9c5bb7a4c2f8b7fd2e36d5a

[inet_http_server]
port=127.0.0.1:9001

[supervisord]

[program:web]
command=/bin/sleep 1000
`

// The serve units listen where supervisord did, with its mode and owner,
// and start supersede serve on the same configuration and scope.
func TestServeUnits(t *testing.T) {
	cfg, dir := loadServeConfig(t, serveConf)
	res, err := Generate(cfg, Options{Serve: "/usr/local/bin/supersede", Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}, Prefix: "sv-"})
	if err != nil {
		t.Fatal(err)
	}
	socket, service := ServeUnits("sv-")
	if socket != "sv-supersede-serve.socket" || service != "sv-supersede-serve.service" {
		t.Fatalf("ServeUnits = %s, %s", socket, service)
	}
	s := unitData(res, socket)
	for _, want := range []string{
		"ListenStream=" + dir + "/s.sock\n", "SocketMode=0770\n", "SocketUser=0\n", "SocketGroup=0\n",
		"RemoveOnStop=yes\n", "ListenStream=127.0.0.1:9001\n", "Service=" + service + "\n", "WantedBy=sockets.target\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %q:\n%s", socket, want, s)
		}
	}
	v := unitData(res, service)
	for _, want := range []string{
		`ExecStart="/usr/local/bin/supersede" "serve" "-c" "` + dir + `/supervisord.conf" "--system" "--prefix" "sv-"` + "\n",
		"Requires=" + socket + "\n", "After=" + socket + "\n", "Type=exec\n",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("%s lacks %q:\n%s", service, want, v)
		}
	}
	for _, u := range res.Units {
		if u.Name == socket && (len(u.WantedBy) != 1 || u.WantedBy[0] != "sockets.target") {
			t.Errorf("%s is wanted by %v; the generator should link it from sockets.target", u.Name, u.WantedBy)
		}
	}

	// a user manager cannot give the socket away: no owner, a warning
	res, err = Generate(cfg, Options{Serve: "/usr/local/bin/supersede", Dir: dir, User: true, LogFiles: true, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	socket, service = ServeUnits("")
	if s := unitData(res, socket); strings.Contains(s, "SocketUser") {
		t.Errorf("user units give the socket away:\n%s", s)
	}
	if v := unitData(res, service); !strings.Contains(v, `"serve" "-c" "`+dir+`/supervisord.conf" "--user" "--log-files"`+"\n") {
		t.Errorf("user service:\n%s", v)
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w.Msg, "chown is left out")
	}
	if !warned {
		t.Errorf("no warning about chown under --user: %v", res.Warnings)
	}

	// no Serve, or no server section: no serve units
	for _, c := range []struct {
		name string
		conf string
		exe  string
	}{{"no executable", serveConf, ""}, {"no server section", "[supervisord]\n[program:web]\ncommand=/bin/sleep 1\n", "/usr/local/bin/supersede"}} {
		cfg, dir := loadServeConfig(t, c.conf)
		res, err := Generate(cfg, Options{Serve: c.exe, Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range res.Units {
			if strings.Contains(u.Name, "supersede-serve") {
				t.Errorf("%s: %s written", c.name, u.Name)
			}
		}
	}

	// a program cannot take serve's name
	cfg, dir = loadServeConfig(t, serveConf+"\n[program:supersede-serve]\ncommand=/bin/sleep 1\n")
	if _, err := Generate(cfg, Options{Serve: "/usr/local/bin/supersede", Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}}); err == nil ||
		!strings.Contains(err.Error(), "supervisord.conf:") || !strings.Contains(err.Error(), "kept for supersede serve") {
		t.Errorf("a program named supersede-serve: err = %v, want file:line and the reason", err)
	}
}

// systemd-analyze verify accepts the serve units.
func TestServeUnitsVerify(t *testing.T) {
	cfg, dir := loadServeConfig(t, serveConf)
	res, err := Generate(cfg, Options{Serve: "/bin/true", Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var files []string
	for _, u := range res.Units {
		p := filepath.Join(out, u.Name)
		if err := os.WriteFile(p, u.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(u.Name, "supersede-serve") {
			files = append(files, p)
		}
	}
	if len(files) != 2 {
		t.Fatalf("serve units: %v", files)
	}
	cmd := sdtest.Analyze(t, append([]string{"verify", "--man=no"}, files...)...)
	if b, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(b))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, b)
	}
}

// With serve's units, an event listener's unit connects to serve's
// events socket (supersede shim listen) instead of waiting on a stdin
// that never delivers: serve runs the pool. The events socket activates
// serve too, and the warning says what is true now.
func TestServeRunsListenerPools(t *testing.T) {
	cfg, dir := loadServeConfig(t, serveConf+"\n[eventlistener:mon]\ncommand=/bin/cat\nevents=PROCESS_STATE\n")
	const shim = "/usr/local/bin/supersede"
	res, err := Generate(cfg, Options{Serve: shim, Shim: shim, User: true, SystemdVersion: 252, Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	socket, service := ServeUnits("")
	events := "supersede-serve-events.socket"
	e := unitData(res, events)
	for _, want := range []string{"ListenStream=%t/" + EventsSocket("") + "\n", "SocketMode=0666\n", "Service=" + service + "\n", "RemoveOnStop=yes\n"} {
		if !strings.Contains(e, want) {
			t.Errorf("%s lacks %q:\n%s", events, want, e)
		}
	}
	if v := unitData(res, service); !strings.Contains(v, "Sockets="+socket+" "+events+"\n") {
		t.Errorf("%s does not take the events socket:\n%s", service, v)
	}
	l := unitData(res, "mon.service")
	for _, want := range []string{
		`ExecStart="` + shim + `" "shim" "listen" "--user" "` + EventsSocket("") + `" "/bin/cat" "/bin/cat"` + "\n",
		"Requires=" + events + "\n", "After=" + events + "\n",
	} {
		if !strings.Contains(l, want) {
			t.Errorf("mon.service lacks %q:\n%s", want, l)
		}
	}
	if strings.Contains(l, "hold-stdin") {
		t.Errorf("mon.service still holds its stdin:\n%s", l)
	}
	found := false
	for _, w := range res.Warnings {
		if strings.Contains(w.Msg, "[eventlistener:mon]") {
			found = true
			if !strings.Contains(w.Msg, "supersede serve runs its pool") {
				t.Errorf("warning: %s", w.Msg)
			}
		}
	}
	if !found {
		t.Errorf("no warning about the listener: %v", res.Warnings)
	}
	// without serve's units, the listener waits on its stdin as before
	res, err = Generate(cfg, Options{Shim: shim, User: true, SystemdVersion: 252, Dir: dir, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if l := unitData(res, "mon.service"); !strings.Contains(l, `"hold-stdin"`) || unitData(res, events) != "" {
		t.Errorf("without serve: mon.service\n%s", l)
	}
}
