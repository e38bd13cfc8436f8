package xmlrpc

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/supersede/supersede/internal/status"
	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
)

// startSupervisord runs the real supervisord 4.2.5 in the foreground with
// conf, waits for its socket and stops it (by its pid) when the test
// ends.
func startSupervisord(t *testing.T, dir, conf, sock string) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/supervisord"); err != nil {
		testreal.Missing(t, "/usr/bin/supervisord is not installed (make deps)")
	}
	path := filepath.Join(dir, "supervisord.conf")
	writeFile(t, path, conf)
	cmd := exec.Command("/usr/bin/supervisord", "-n", "-c", path)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	for i := 0; ; i++ {
		c, err := net.Dial("unix", sock)
		if err == nil {
			c.Close()
			return
		}
		if i == 300 {
			t.Fatalf("supervisord did not open %s: %v\n%s", sock, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rawPost sends a request to a unix socket and returns the status and body.
func rawPost(t *testing.T, sock, method, path, body string) string {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n%s", method, path, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
}

func callBody(method string, params ...string) string {
	var b strings.Builder
	b.WriteString("<?xml version='1.0'?>\n<methodCall>\n<methodName>" + method + "</methodName>\n<params>\n")
	for _, p := range params {
		b.WriteString("<param>\n" + p + "\n</param>\n")
	}
	b.WriteString("</params>\n</methodCall>\n")
	return b.String()
}

func str(s string) string { return "<value><string>" + s + "</string></value>" }

// TestAgainstSupervisord asks the real supervisord and the server the
// same things, on two configurations of stopped processes alike, and
// wants the same bytes back: raw XML-RPC answers (introspection, faults,
// HTTP errors), and supervisorctl's output and exit status.
func TestAgainstSupervisord(t *testing.T) {
	requireSupervisorctl(t)
	dir := shortDir(t)
	realSock := filepath.Join(dir, "real.sock")
	startSupervisord(t, dir, `
[unix_http_server]
file=`+realSock+`
[supervisord]
logfile=`+filepath.Join(dir, "supervisord.log")+`
pidfile=`+filepath.Join(dir, "supervisord.pid")+`
childlogdir=`+dir+`
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[program:a]
command=/bin/sleep 1000
autostart=false
stdout_logfile=NONE
stderr_logfile=NONE
[group:g]
programs=x,y
[program:x]
command=/bin/sleep 1000
autostart=false
stdout_logfile=NONE
stderr_logfile=NONE
[program:y]
command=/bin/sleep 1000
autostart=false
stdout_logfile=NONE
stderr_logfile=NONE
`, realSock)

	// The same, faked.
	w := newWorld(t)
	w.procs = []*status.Process{
		{Name: "a", Group: "a", State: status.Stopped},
		{Name: "x", Group: "g", State: status.Stopped},
		{Name: "y", Group: "g", State: status.Stopped},
	}
	w.groups = []string{"a", "g"}
	prog := func(group, name string) *translate.Process {
		return &translate.Process{Name: name, Group: group, Command: "/bin/sleep 1000", Priority: 999,
			ExitCodes: []int{0}, MinUptime: time.Second, StartRetries: 3, StopSignal: syscall.SIGTERM, StopWait: 10 * time.Second,
			Stdout: translate.Log{Kind: translate.LogNone, MaxBytes: 50 << 20, Backups: 10},
			Stderr: translate.Log{Kind: translate.LogNone, MaxBytes: 50 << 20, Backups: 10}}
	}
	w.config = []*translate.Group{
		{Name: "a", Priority: 999, Processes: []*translate.Process{prog("a", "a")}},
		{Name: "g", Priority: 999, Processes: []*translate.Process{prog("g", "x"), prog("g", "y")}},
	}
	oursSock := serveUnix(t, w.server(), Auth{})

	t.Run("rpc", func(t *testing.T) {
		bodies := []struct{ name, method, path, body string }{
			{"listMethods", "POST", "/RPC2", callBody("system.listMethods")},
			{"getAPIVersion", "POST", "/RPC2", callBody("supervisor.getAPIVersion")},
			{"getSupervisorVersion", "POST", "/RPC2", callBody("supervisor.getSupervisorVersion")},
			{"getState", "POST", "/RPC2", callBody("supervisor.getState")},
			{"getIdentification", "POST", "/RPC2", callBody("supervisor.getIdentification")},
			{"unknown namespace", "POST", "/RPC2", callBody("nosuch.getPID")},
			{"three parts", "POST", "/RPC2", callBody("supervisor.getPID.x")},
			{"private", "POST", "/RPC2", callBody("supervisor._update", str("x"))},
			{"too many params", "POST", "/RPC2", callBody("supervisor.getPID", str("x"))},
			{"too few params", "POST", "/RPC2", callBody("supervisor.startProcess")},
			{"bad name", "POST", "/RPC2", callBody("supervisor.getProcessInfo", str("nosuch"))},
			{"bad name in group", "POST", "/RPC2", callBody("supervisor.stopProcess", str("g:nosuch"))},
			{"group info", "POST", "/RPC2", callBody("supervisor.getProcessInfo", str("g:*"))},
			{"not running", "POST", "/RPC2", callBody("supervisor.stopProcess", str("a"))},
			{"signal not running", "POST", "/RPC2", callBody("supervisor.signalProcess", str("g:x"), str("HUP"))},
			{"bad signal", "POST", "/RPC2", callBody("supervisor.signalProcess", str("a"), str("NOPE"))},
			{"stop group", "POST", "/RPC2", callBody("supervisor.stopProcessGroup", str("g"))},
			{"signal all", "POST", "/RPC2", callBody("supervisor.signalAllProcesses", str("HUP"))},
			{"no log", "POST", "/RPC2", callBody("supervisor.readProcessStdoutLog", str("a"), "<value><int>0</int></value>", "<value><int>0</int></value>")},
			{"tail no log", "POST", "/RPC2", callBody("supervisor.tailProcessStderrLog", str("a"), "<value><int>0</int></value>", "<value><int>10</int></value>")},
			{"reload no change", "POST", "/RPC2", callBody("supervisor.reloadConfig")},
			{"add active", "POST", "/RPC2", callBody("supervisor.addProcessGroup", str("g"))},
			{"remove unknown", "POST", "/RPC2", callBody("supervisor.removeProcessGroup", str("nosuch"))},
			{"stdin not running", "POST", "/RPC2", callBody("supervisor.sendProcessStdin", str("a"), str("x"))},
			{"multicall", "POST", "/RPC2", callBody("system.multicall", `<value><array><data>
<value><struct><member><name>methodName</name><value><string>supervisor.getAPIVersion</string></value></member></struct></value>
<value><struct><member><name>methodName</name><value><string>nosuch</string></value></member></struct></value>
<value><struct><member><name>methodName</name><value><string>system.multicall</string></value></member></struct></value>
<value><struct><member><name>params</name><value><array><data></data></array></value></member></struct></value>
<value><struct><member><name>methodName</name><value><string>supervisor.stopProcess</string></value></member><member><name>params</name><value><array><data><value>a</value></data></array></value></member></struct></value>
</data></array></value>`)},
			{"methodHelp unknown", "POST", "/RPC2", callBody("system.methodHelp", str("x.y"))},
			{"malformed", "POST", "/RPC2", "garbage"},
			{"no method name", "POST", "/RPC2", "<methodCall><params/></methodCall>"},
			{"GET RPC2", "GET", "/RPC2", ""},
			{"logtail unknown", "GET", "/logtail/nosuch/stdout", ""},
			{"logtail no log", "GET", "/logtail/a/stdout", ""},
		}
		for _, name := range mustList(t) {
			bodies = append(bodies,
				struct{ name, method, path, body string }{"methodHelp " + name, "POST", "/RPC2", callBody("system.methodHelp", str(name))},
				struct{ name, method, path, body string }{"methodSignature " + name, "POST", "/RPC2", callBody("system.methodSignature", str(name))})
		}
		for _, b := range bodies {
			want := rawPost(t, realSock, b.method, b.path, b.body)
			got := rawPost(t, oursSock, b.method, b.path, b.body)
			if got != want {
				t.Errorf("%s:\n got  %q\n want %q (supervisord)", b.name, got, want)
			}
		}
	})

	t.Run("supervisorctl", func(t *testing.T) {
		realConf := ctlConfig(t, "unix://"+realSock, "", "")
		oursConf := ctlConfig(t, "unix://"+oursSock, "", "")
		for _, args := range [][]string{
			{"status"}, {"status", "a"}, {"status", "g:*"}, {"status", "g:"}, {"status", "nosuch", "a"}, {"status", "g"},
			{"stop", "a"}, {"stop", "all"}, {"stop", "g:*"}, {"stop", "nosuch"}, {"stop", "nosuch:*"},
			{"signal", "HUP", "a"}, {"signal", "HUP", "all"}, {"signal", "NOPE", "g:x"}, {"signal", "HUP", "nosuch:*"},
			{"pid", "a"}, {"pid", "all"}, {"pid", "nosuch"},
			{"tail", "a"}, {"tail", "a", "stderr"}, {"tail", "nosuch"}, {"tail", "-f", "nosuch"},
			{"clear", "nosuch"}, {"avail"}, {"reread"}, {"add", "a"}, {"add", "nosuch"}, {"remove", "nosuch"},
			{"update", "nosuch"}, {"start", "nosuch:*"}, {"start", "g:nosuch"}, {"version"},
		} {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				wantOut, wantErr, wantCode := runCtl(t, realConf, args...)
				gotOut, gotErr, gotCode := runCtl(t, oursConf, args...)
				wantErr = strings.ReplaceAll(wantErr, realSock, "SOCK")
				gotErr = strings.ReplaceAll(gotErr, oursSock, "SOCK")
				if gotOut != wantOut || gotErr != wantErr || gotCode != wantCode {
					t.Errorf("got  %q %q exit %d\nwant %q %q exit %d (supervisord)",
						gotOut, gotErr, gotCode, wantOut, wantErr, wantCode)
				}
			})
		}
	})
}

func mustList(t *testing.T) []string {
	v, _ := listMethods(nil, nil, nil)
	return v.([]string)
}
