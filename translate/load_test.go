package translate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeTree writes files (path → content) under a new temporary directory.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var testEnv = []string{"PATH=/usr/bin:/bin", "HOME=/home/test", "GREETING=hi"}

func load(t *testing.T, dir, main string, lenient bool) (*Config, error) {
	t.Helper()
	return Load(main, Options{Environ: testEnv, Dir: dir, Hostname: "testhost", Lenient: lenient})
}

func mustLoad(t *testing.T, dir, main string) *Config {
	t.Helper()
	cfg, err := load(t, dir, main, false)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

func process(t *testing.T, cfg *Config, namespec string) *Process {
	t.Helper()
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			if p.Namespec() == namespec {
				return p
			}
		}
	}
	t.Fatalf("no process %s", namespec)
	return nil
}

func TestPositionsAcrossIncludes(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"main.conf": "[supervisord]\nminfds=2048\n[program:web]\ncommand=/bin/web\npriority=5\n\n[include]\nfiles=conf.d/*.conf\n",
		"conf.d/override.conf": "; reopen [program:web]\n[program:web]\npriority=7\n" +
			"[program:worker]\ncommand=/bin/worker %(here)s\n[unix_http_server]\nfile=/tmp/x.sock\nchmod=0770\n",
	})
	cfg := mustLoad(t, dir, "main.conf")
	web := process(t, cfg, "web")
	if web.Priority != 7 {
		t.Errorf("priority = %d, want 7 from the include", web.Priority)
	}
	inc := filepath.Join(dir, "conf.d", "override.conf")
	if got, want := web.KeyPos["priority"], (Pos{inc, 3}); got != want {
		t.Errorf("priority set at %v, want %v", got, want)
	}
	if got, want := web.KeyPos["command"], (Pos{"main.conf", 4}); got != want {
		t.Errorf("command set at %v, want %v", got, want)
	}
	if got, want := web.Pos, (Pos{"main.conf", 3}); got != want {
		t.Errorf("[program:web] at %v, want %v", got, want)
	}
	worker := process(t, cfg, "worker")
	if got, want := worker.Pos, (Pos{inc, 4}); got != want {
		t.Errorf("[program:worker] at %v, want %v", got, want)
	}
	if want := "/bin/worker " + filepath.Join(dir, "conf.d"); worker.Command != want {
		t.Errorf("%%(here)s in an include = %q, want %q", worker.Command, want)
	}
	if len(cfg.Servers) != 1 {
		t.Fatalf("servers: %v", cfg.Servers)
	}
	if got, want := cfg.Servers[0].KeyPos["chmod"], (Pos{inc, 8}); got != want {
		t.Errorf("[unix_http_server] chmod at %v, want %v", got, want)
	}
	if got, want := cfg.Supervisord.KeyPos["minfds"], (Pos{"main.conf", 2}); got != want {
		t.Errorf("[supervisord] minfds at %v, want %v", got, want)
	}
}

// configErrors loads and returns the ErrorList, failing if there is none.
func configErrors(t *testing.T, dir, main string, lenient bool) ErrorList {
	t.Helper()
	_, err := load(t, dir, main, lenient)
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want an ErrorList, got %v", err)
	}
	for _, e := range list {
		if !e.Pos.IsValid() {
			t.Errorf("error without a position: %v", e)
		}
	}
	return list
}

func TestErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each error's text starts with one of these, in order
		sup   string   // Supervisor's first message
	}{
		{
			name:  "bad values are all reported",
			files: map[string]string{"s.conf": "[supervisord]\nminfds=many\n[program:a]\ncommand=x\nautostart=y\nstopsignal=NOPE\n"},
			want:  []string{"s.conf:2: invalid value: invalid literal for int()", "s.conf:5: invalid value: not a valid boolean value: 'y'", "s.conf:6: invalid value: value 'NOPE' is not a valid signal name"},
			sup:   "invalid literal for int() with base 10: 'many'",
		},
		{
			name:  "error in an included file names that file",
			files: map[string]string{"s.conf": "[supervisord]\n[include]\nfiles=d/*.conf\n", "d/x.conf": "[program:x]\ncommand=/bin/x\n\nexitcodes=0,300\n"},
			want:  []string{"d/x.conf:4: invalid value: not a valid list of exit codes: '0,300'"},
			sup:   "not a valid list of exit codes: '0,300' in section 'program:x' (file: '",
		},
		{
			name:  "syntax error in an include",
			files: map[string]string{"s.conf": "[supervisord]\n[include]\nfiles=d/*.conf\n", "d/x.conf": "[program:x]\noops\n"},
			want:  []string{"d/x.conf:2: syntax error: 'oops'"},
			sup:   "Source contains parsing errors: '",
		},
		{
			name:  "include without files",
			files: map[string]string{"s.conf": "[supervisord]\n\n[include]\n"},
			want:  []string{"s.conf:3: missing setting: .ini file has [include] section, but no files setting"},
		},
		{
			name:  "program name not available in priority",
			files: map[string]string{"s.conf": "[supervisord]\n[program:p]\ncommand=x\npriority=%(program_name)s\n"},
			want:  []string{"s.conf:4: cannot expand: Format string '%(program_name)s' for 'program:p.priority' contains names ('program_name')"},
		},
		{
			name:  "unknown group member",
			files: map[string]string{"s.conf": "[supervisord]\n[group:g]\n\nprograms=nope\n"},
			want:  []string{"s.conf:4: unknown reference: [group:g] names unknown program or fcgi-program nope"},
		},
		{
			name:  "missing command",
			files: map[string]string{"s.conf": "[supervisord]\n\n[program:nocmd]\nautostart=false\n"},
			want:  []string{"s.conf:3: missing setting: program section program:nocmd does not specify a command"},
		},
		{
			name:  "numprocs without process_num",
			files: map[string]string{"s.conf": "[supervisord]\n[program:n]\ncommand=x\nnumprocs=2\n"},
			want:  []string{"s.conf:4: invalid value: %(process_num) must be present within process_name when numprocs > 1"},
		},
		{
			name:  "absurd numprocs",
			files: map[string]string{"s.conf": "[supervisord]\n[program:n]\ncommand=x\nnumprocs=100000000\nprocess_name=%(process_num)s\n"},
			want:  []string{"s.conf:4: invalid value: numprocs=100000000 would make more than 100000 processes in all"},
		},
		{
			name:  "missing [supervisord]",
			files: map[string]string{"s.conf": "[program:x]\ncommand=x\n"},
			want:  []string{"s.conf: missing setting: no [supervisord] section"},
			sup:   ".ini file does not include supervisord section",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeTree(t, tt.files)
			list := configErrors(t, dir, "s.conf", false)
			if len(list) < len(tt.want) {
				t.Fatalf("%d errors, want at least %d:\n%v", len(list), len(tt.want), list)
			}
			for i, w := range tt.want {
				got := list[i].Error()
				got = strings.ReplaceAll(got, dir+"/", "")
				if !strings.HasPrefix(got, w) {
					t.Errorf("error %d:\n got %s\nwant %s...", i, got, w)
				}
			}
			if tt.sup != "" && !strings.HasPrefix(SupervisorMessage(list), tt.sup) {
				t.Errorf("Supervisor's message %q, want prefix %q", SupervisorMessage(list), tt.sup)
			}
		})
	}
}

func TestLenientPlaceholders(t *testing.T) {
	dir := writeTree(t, map[string]string{"web.conf": "[program:web]\n" +
		"command=/srv/%(ENV_APP)s/bin/web\n" +
		"numprocs=%(ENV_WORKERS)s\n" +
		"process_name=%(program_name)s_%(process_num)s\n" +
		"autostart=%(ENV_FLAG)s\n" +
		"autorestart=%(ENV_FLAG)s\n" +
		"environment=TOKEN=%(ENV_TOKEN)s\n" +
		"directory=%(ENV_GREETING)s\n"})
	cfg, err := load(t, dir, "web.conf", true)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Snippet {
		t.Error("a file without [supervisord] should load as a snippet")
	}
	want := Env{{"APP", "<APP>"}, {"FLAG", "true"}, {"TOKEN", "(TOKEN)"}, {"WORKERS", "1"}}
	if !slices.Equal(cfg.Placeholders, want) {
		t.Errorf("placeholders = %v, want %v", cfg.Placeholders, want)
	}
	p := process(t, cfg, "web:web_0")
	if p.Command != "/srv/<APP>/bin/web" || *p.Dir != "hi" {
		t.Errorf("command %q, directory %q", p.Command, *p.Dir)
	}
}

func TestLenientKeepsConfigErrors(t *testing.T) {
	dir := writeTree(t, map[string]string{"s.conf": "[supervisord]\n[program:x]\ncommand=x\nuser=nobody-here\nautostart=maybe\n"})
	list := configErrors(t, dir, "s.conf", true)
	if len(list) != 1 || !strings.Contains(list[0].Error(), "not a valid boolean value") {
		t.Errorf("lenient errors = %v, want only the boolean", list)
	}
	list = configErrors(t, dir, "s.conf", false)
	if len(list) != 2 || !strings.Contains(list[1].Error(), "Invalid user name nobody-here") {
		t.Errorf("strict errors = %v, want the boolean and the user", list)
	}
}

func TestPositionalPercentFormatsTheDict(t *testing.T) {
	// Supervisor's gotcha: "%s" without a name formats the whole expansion dict.
	dir := writeTree(t, map[string]string{"s.conf": "[supervisord]\n[program:d]\ncommand=date +%s\n"})
	cfg := mustLoad(t, dir, "s.conf")
	cmd := process(t, cfg, "d").Command
	if !strings.HasPrefix(cmd, "date +{'ENV_PATH': '/usr/bin:/bin', 'ENV_HOME': '/home/test', 'ENV_GREETING': 'hi', 'here': ") ||
		!strings.HasSuffix(cmd, "'process_num': 0, 'numprocs': 1}") {
		t.Errorf("command = %q", cmd)
	}
}

func TestSearchPaths(t *testing.T) {
	got := SearchPaths("/usr/bin/supervisord")
	want := []string{"/usr/etc/supervisord.conf", "/usr/supervisord.conf", "supervisord.conf",
		"etc/supervisord.conf", "/etc/supervisord.conf", "/etc/supervisor/supervisord.conf"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("SearchPaths = %v, want %v", got, want)
	}
	dir := writeTree(t, map[string]string{"etc/supervisord.conf": "[supervisord]\n"})
	if p, err := FindConfig("/nonexistent/bin/supersede", dir); err != nil || p != "etc/supervisord.conf" {
		t.Errorf("FindConfig = %q, %v; want etc/supervisord.conf", p, err)
	}
}

func TestNoticesForIgnoredKeys(t *testing.T) {
	dir := writeTree(t, map[string]string{"s.conf": "[DEFAULT]\nanything=1\n[supervisord]\n[program:web]\ncomand=/bin/web\ncommand=/bin/true\n" +
		"[Program:x]\ncommand=/bin/true\n[rpcinterface:x]\nsupervisor.rpcinterface_factory=supervisor.rpcinterface:make_main_rpcinterface\nretries=3\n"})
	cfg := mustLoad(t, dir, "s.conf")
	var got []string
	for _, n := range cfg.Notices {
		got = append(got, n.String())
	}
	want := []string{
		`s.conf:5: unknown key "comand" in [program:web]; Supervisor ignores it (did you mean "command"?)`,
		`s.conf:7: section [Program:x] is not one Supervisor reads; it ignores the whole section (did you mean [program:x]? section names are case-sensitive)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("notices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
