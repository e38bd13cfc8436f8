package unitgen

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/supersede/supersede/internal/fallbacktest"
	"github.com/supersede/supersede/internal/oracle"
	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
)

// TestDigestKeys: every key the digest takes is in the oracle's process
// document, so none is silently left out of it.
func TestDigestKeys(t *testing.T) {
	cfg := loadDigestConf(t, t.TempDir(), "", "[program:a]\ncommand=/bin/true\n")
	doc := oracle.Process(cfg, cfg.Groups[0].Processes[0], oracle.Options{})
	for _, k := range digestKeys {
		if !slices.ContainsFunc(doc, func(f oracle.Field) bool { return f.Key == k }) {
			t.Errorf("%q is not a key of the oracle's process document: the digest would leave it out", k)
		}
	}
	if got := len(processObject(cfg, cfg.Groups[0].Processes[0])); got != len(digestKeys) {
		t.Errorf("processObject has %d fields, want %d", got, len(digestKeys))
	}
}

// The base configuration of the digest scenarios: plain programs, a
// numprocs one and a [group:] of two.
const digestBase = `[program:a]
command=/bin/sleep 1000
autostart=false
environment=A="1",B="2"

[program:b]
command=/bin/sleep 1001
autostart=false

[program:n]
command=/bin/sleep 1002
process_name=%(program_name)s_%(process_num)d
numprocs=2
autostart=false

[group:g]
programs=c,d
priority=500

[program:c]
command=/bin/sleep 1003
autostart=false

[program:d]
command=/bin/sleep 1004
autostart=false
stdout_logfile=/dev/null
`

// digestScenarios are edits of digestBase ([supervisord] lines, and the
// sections) with what supervisord's reread says of each, which the
// test also asks the real supervisord.
var digestScenarios = []struct {
	name        string
	supervisord string
	edit        func(string) string
	want        string // reread's lines, sorted, "" for none
	listed      string // where the digests say otherwise: the README's listed difference
}{
	// changed: the keys Supervisor compares
	{name: "command", edit: repl("/bin/sleep 1000", "/bin/sleep 999"), want: "a: changed"},
	{name: "environment", edit: repl(`B="2"`, `B="3"`), want: "a: changed"},
	{name: "autorestart", edit: repl("command=/bin/sleep 1000\n", "command=/bin/sleep 1000\nautorestart=true\n"), want: "a: changed"},
	{name: "stopsignal", edit: repl("command=/bin/sleep 1000\n", "command=/bin/sleep 1000\nstopsignal=INT\n"), want: "a: changed"},
	{name: "priority", edit: repl("command=/bin/sleep 1001\n", "command=/bin/sleep 1001\npriority=5\n"), want: "b: changed"},
	{name: "exitcodes", edit: repl("command=/bin/sleep 1001\n", "command=/bin/sleep 1001\nexitcodes=0,2\n"), want: "b: changed"},
	{name: "startsecs", edit: repl("command=/bin/sleep 1001\n", "command=/bin/sleep 1001\nstartsecs=3\n"), want: "b: changed"},
	{name: "stdout_logfile", edit: repl("command=/bin/sleep 1001\n", "command=/bin/sleep 1001\nstdout_logfile=/dev/null\n"), want: "b: changed"},
	{name: "numprocs from 1", edit: repl("command=/bin/sleep 1001\n", "command=/bin/sleep 1001\nnumprocs=2\nprocess_name=%(program_name)s_%(process_num)d\n"), want: "b: changed"},
	{name: "numprocs", edit: repl("numprocs=2", "numprocs=3"), want: "n: changed"},
	{name: "process_name", edit: repl("%(program_name)s_%(process_num)d", "%(program_name)s-%(process_num)d"), want: "n: changed"},
	{name: "group member", edit: repl("command=/bin/sleep 1004", "command=/bin/sleep 1005"), want: "g: changed"},
	{name: "group priority", edit: repl("priority=500", "priority=501"), want: "g: changed"},
	{name: "group programs reordered", edit: repl("programs=c,d", "programs=d,c"), want: "g: changed"},
	{name: "group loses a program", edit: repl("programs=c,d", "programs=c"), want: "d: available\ng: changed"},
	{name: "group gains a program", edit: repl("programs=c,d", "programs=c,d,b"), want: "b: disappeared\ng: changed"},
	// [supervisord] environment is merged into each process's
	{name: "supervisord environment", supervisord: "environment=X=\"1\"", want: "a: changed\nb: changed\ng: changed\nn: changed"},

	// supervisord skips an AUTO log file on either side; a digest
	// cannot (README, docs/MAPPING.md)
	{name: "log file to AUTO", edit: repl("stdout_logfile=/dev/null", "stdout_logfile=AUTO"), want: "", listed: "g: changed"},

	// not changed
	{name: "sections moved", edit: func(s string) string {
		i := strings.Index(s, "[program:b]")
		j := strings.Index(s, "[program:n]")
		return s[i:j] + s[:i] + s[j:]
	}},
	{name: "comment", edit: func(s string) string { return "; a comment\n" + strings.ReplaceAll(s, "\n\n", "\n\n; another\n") }},
	{name: "environment reordered", edit: repl(`A="1",B="2"`, `B="2",A="1"`)},
	{name: "a default written out", edit: repl("command=/bin/sleep 1000\n", "command=/bin/sleep 1000\nstopsignal=TERM\nstartsecs=1\n")},
	{name: "supervisord umask and loglevel", supervisord: "umask=077\nloglevel=debug\nminfds=2048\n"},
}

func repl(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("digest scenario: " + old + " is not in the base config")
		}
		return strings.Replace(s, old, new, 1)
	}
}

// loadDigestConf writes the harness's config (fallbacktest.WriteConfig)
// into dir and loads it.
func loadDigestConf(t *testing.T, dir, supervisord, sections string) *translate.Config {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil { // the harness's childlogdir
		t.Fatal(err)
	}
	if err := fallbacktest.WriteConfig(dir, fallbacktest.Config{Supervisord: supervisord, Sections: sections}); err != nil {
		t.Fatal(err)
	}
	cfg, err := translate.Load(filepath.Join(dir, "supervisord.conf"), translate.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// digestReread is what reread would print, from the digests in the
// units' headers alone, as internal/sysd decides: a group present in both
// is changed when one of its units holds another digest, or one of its
// processes' is new.
func digestReread(t *testing.T, old, cur *translate.Config) string {
	t.Helper()
	gen := func(cfg *translate.Config) map[string]string {
		res, err := Generate(cfg, Options{User: true, Dir: "/", Shim: "/usr/bin/supersede"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, u := range res.Units {
			out[u.Name] = UnitDigest(u.Data)
		}
		return out
	}
	before, after := gen(old), gen(cur)
	has := func(cfg *translate.Config, name string) bool {
		return slices.ContainsFunc(cfg.Groups, func(g *translate.Group) bool { return g.Name == name })
	}
	var lines []string
	for _, g := range cur.Groups {
		if !has(old, g.Name) {
			lines = append(lines, g.Name+": available")
			continue
		}
		var units []string
		for _, p := range g.Processes {
			n, err := ServiceName("", p)
			if err != nil {
				t.Fatal(err)
			}
			units = append(units, n)
		}
		if n, _ := GroupTarget("", g); n != "" {
			units = append(units, n)
		}
		for _, u := range units {
			d, ok := before[u]
			if after[u] == "" {
				t.Errorf("%s has no digest", u)
			}
			if !ok && strings.HasSuffix(u, Service) || ok && d != after[u] {
				lines = append(lines, g.Name+": changed")
				break
			}
		}
	}
	for _, g := range old.Groups {
		if !has(cur, g.Name) {
			lines = append(lines, g.Name+": disappeared")
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

var rereadLine = regexp.MustCompile(`^\S+: (available|changed|disappeared)$`)

// TestProgramDigestReread: for each edit of a config, the digests say
// changed exactly what the real supervisord's reread says changed, while
// it runs the unedited config (reread compares with the running
// configuration, and applies nothing, so one daemon serves every edit).
func TestProgramDigestReread(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := loadDigestConf(t, dir, "", digestBase)
	for _, sc := range digestScenarios {
		edit := digestBase
		if sc.edit != nil {
			edit = sc.edit(edit)
		}
		cur := loadDigestConf(t, dir, sc.supervisord, edit)
		want := sc.want
		if sc.listed != "" {
			want = sc.listed
		}
		if got := digestReread(t, base, cur); got != want {
			t.Errorf("%s: from the digests:\n%s\nwant:\n%s", sc.name, got, want)
		}
	}

	fallbacktest.RequireSupervisor(t)
	d, err := fallbacktest.Start(t, fallbacktest.Supervisord, fallbacktest.Config{Sections: digestBase})
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range digestScenarios {
		edit := digestBase
		if sc.edit != nil {
			edit = sc.edit(edit)
		}
		if err := d.WriteConfig(fallbacktest.Config{Supervisord: sc.supervisord, Sections: edit}); err != nil {
			t.Fatal(err)
		}
		r := d.Ctl("reread")
		var lines []string
		for _, l := range strings.Split(strings.TrimSpace(r.Stdout), "\n") {
			if rereadLine.MatchString(l) {
				lines = append(lines, l)
			} else if l != "No config updates to processes" {
				t.Errorf("%s: unexpected reread output:\n%s", sc.name, r)
			}
		}
		slices.Sort(lines)
		if got := strings.Join(lines, "\n"); got != sc.want {
			t.Errorf("%s: supervisord's reread says:\n%s\nthe scenario wants:\n%s", sc.name, got, sc.want)
		}
	}
}

// TestDigestJSON: the digests' JSON, written directly, is the oracle's
// document of the compared fields (processObject) byte for byte, for
// every process of the oracle's cases, the regression cases, the
// real-world corpus and the golden configs, strict and lenient.
func TestDigestJSON(t *testing.T) {
	shared := testreal.Shared(t)
	var confs []string
	for _, pattern := range []string{
		filepath.Join(shared, "oracle/cases/*.conf"),
		filepath.Join(shared, "corpus/real/*/*.conf"),
		filepath.Join(shared, "corpus/real/*.conf"),
		"../internal/oracle/testdata/regress/*.conf",
	} {
		m, _ := filepath.Glob(pattern)
		confs = append(confs, m...)
	}
	n := 0
	check := func(name string, cfg *translate.Config) {
		for _, grp := range cfg.Groups {
			for _, p := range grp.Processes {
				n++
				want := oracle.Append(nil, oracle.Object{{Key: "group", Value: "0123abcd"}, {Key: "process", Value: processObject(cfg, p)}})
				if got := appendProcessDigestJSON(nil, "0123abcd", p); string(got) != string(want) {
					t.Errorf("%s: %s: the digest's JSON is not the oracle's document:\n%s\nwant:\n%s", name, p.Namespec(), got, want)
					return
				}
			}
		}
	}
	for _, conf := range confs {
		for _, lenient := range []bool{false, true} {
			cfg, err := translate.Load(conf, translate.Options{Dir: filepath.Dir(conf), Lenient: lenient, Environ: []string{"HOME=/root", "PATH=/usr/bin:/bin"}})
			if err != nil {
				continue // a case of a rejected config
			}
			check(conf, cfg)
		}
	}
	for _, sc := range digestScenarios {
		edit := digestBase
		if sc.edit != nil {
			edit = sc.edit(edit)
		}
		check(sc.name, loadDigestConf(t, t.TempDir(), sc.supervisord, edit))
	}
	t.Logf("%d processes of %d configs", n, len(confs))
	if n < 100 {
		t.Errorf("only %d processes checked: the cases are not where the test looks (%v)", n, confs)
	}
}
