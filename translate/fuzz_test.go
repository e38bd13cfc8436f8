package translate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for the ini reader (FuzzIniRead), the whole loader
// (FuzzLoad) and Supervisor's expansions (FuzzExpand). They check that
// nothing panics or hangs and that every error points at a file and a
// line. Seeds are the real configurations in the shared corpus (when it
// is there) and the hand-written hostile inputs below; inputs the fuzzer
// found are kept under testdata/fuzz/<Target>/.

// sharedDir is the shared corpus: $SUPERSEDE_SHARED, else ../../shared
// relative to this package. It returns "" when neither exists.
func sharedDir() string {
	for _, d := range []string{os.Getenv("SUPERSEDE_SHARED"), filepath.Join("..", "..", "shared")} {
		if d == "" {
			continue
		}
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}

// fuzzSeedFiles returns the contents of the real configurations in the
// shared corpus, in a stable order; none when the corpus is absent.
func fuzzSeedFiles(f *testing.F) [][]byte {
	dir := sharedDir()
	if dir == "" {
		return nil
	}
	var out [][]byte
	for _, pat := range []string{"oracle/cases/*.conf", "corpus/real/*.conf", "corpus/real/*.ini"} {
		names, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			f.Fatal(err)
		}
		for _, n := range names {
			data, err := os.ReadFile(n)
			if err != nil {
				continue
			}
			out = append(out, data)
		}
	}
	return out
}

// fuzzNastyInis are hand-written hostile ini files.
func fuzzNastyInis() []string {
	var deep strings.Builder
	deep.WriteString("[program:deep]\ncommand=/bin/true\n")
	for i := 1; i <= 2000; i++ {
		deep.WriteString(strings.Repeat(" ", i) + "x=y\n")
	}
	var shallowing strings.Builder
	shallowing.WriteString("[program:shallow]\n")
	for i := 2000; i >= 0; i-- {
		shallowing.WriteString(strings.Repeat("\t", i) + "k" + fmt.Sprint(i) + "=v\n")
	}
	long := "[program:long]\ncommand=/bin/echo\n" + strings.Repeat("  more words here\n", 10000)
	blanks := "[program:blank]\ncommand=a\n" + strings.Repeat("\n", 10000) + "  b\n"
	wide := "[program:wide]\ncommand=" + strings.Repeat("x", 1<<20) + "\n"
	var many strings.Builder
	many.WriteString("[supervisord]\n")
	for i := range 3000 {
		fmt.Fprintf(&many, "[program:p%d]\ncommand=/bin/true %%(program_name)s\n", i)
	}
	var manyBad strings.Builder
	manyBad.WriteString("[s]\n")
	for range 3000 {
		manyBad.WriteString("junk\n")
	}
	return []string{
		"",
		"\n",
		"\r",
		"\r\n",
		"[",
		"[]",
		"[]]",
		"[[]]",
		"=",
		":",
		"[s]\n=\n:\n = x\n",
		"no header\n",
		"  \n; comment\n# comment\nk=v\n",
		"[DEFAULT]\nk=%(here)s\n[s]\n",
		"[s]\nk=a\n\tb\n \n  c\n",
		"[s]\nk=\n  \n  \n",
		"[s]\r[t]\rk=v\r  cont\r",
		"[s]\r\n\r\nk=v\r\n\r  cont\r\n",
		"[s]\nk=a\rb\r\nc\n",
		"[s\x00]\nk\x00=\x00v\x00\n\x00\n",
		"[s]\nk=\xff\n",
		"[s]\rk=v\r\xff",
		"[s]\r\r\r\xc3",
		"[s]\nk=\xed\xa0\x80\n",
		"[s]\nk=\xe2\x82\n",
		"\xef\xbb\xbf[s]\nk=v\n",
		"[s]\nk=v\u2028w\u0085x\x1cy\x1dz\n",
		"[s]\nk=v ;c\n\x1c; x\n\u3000k2=w\n",
		"[s]\nk=;\nj=#\nl= ;x\n",
		"\u00a0[s]\n\u00a0k=v\n",
		deep.String(),
		shallowing.String(),
		long,
		blanks,
		wide,
		many.String(),
		manyBad.String(),
	}
}

// fuzzNastyConfigs are hand-written hostile supervisord.conf files.
func fuzzNastyConfigs() []string {
	return []string{
		"[supervisord]\n",
		"[supervisord]\nlogfile=%(\n",
		"[supervisord]\n[program:x]\ncommand=%(program_name\n",
		"[supervisord]\n[program:x]\ncommand=%(ENV_\n",
		"[supervisord]\n[program:x]\ncommand=/bin/%(ENV_NOPE)s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true %\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true %(here)99999999999999999999s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true %(here)999999999s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true %(process_num).999999999d\n",
		"[supervisord]\n[program:]\ncommand=/bin/true\n",
		"[supervisord]\n[program:x]\ncommand=\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=0\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=-5\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=3\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs_start=9223372036854775807\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=99999999999999999999999\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=100000000\nprocess_name=%(process_num)s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=1000\nprocess_name=%(process_num)s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=100001\nprocess_name=%(process_num)s\n",
		"[supervisord]\n[program:a]\ncommand=/bin/true\n[program:b]\ncommand=/bin/true\nnumprocs=9223372036854775807\nprocess_name=%(process_num)s\n",
		"[supervisord]\n[program:a]\ncommand=/bin/true\nnumprocs=9223372036854775807\nprocess_name=%(process_num)s\n",
		"[supervisord]\n[program:a]\ncommand=/bin/true\nnumprocs=3\nprocess_name=%(process_num)s\n[program:b]\ncommand=/bin/true\nnumprocs=9223372036854775806\nprocess_name=%(process_num)s\nnumprocs_start=2\n",
		"[supervisord]\n[program:a]\ncommand=/bin/true\nnumprocs=2\nnumprocs_start=-9223372036854775808\nprocess_name=%(process_num)s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=2\nprocess_name=same\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nnumprocs=2\nprocess_name=%(process_num)s\n[program:y]\ncommand=/bin/true\nnumprocs=2\nprocess_name=%(process_num)s\n[group:g]\nprograms=x,y\n",
		"[supervisord]\n[group:g]\nprograms=g\n[program:g]\ncommand=/bin/true\n",
		"[supervisord]\n[group:g]\nprograms=\n",
		"[supervisord]\n[group:g]\nprograms=a,a,a\n[program:a]\ncommand=/bin/true\n",
		"[supervisord]\n[eventlistener:e]\ncommand=/bin/true\nevents=PROCESS_STATE,TICK_5\nbuffer_size=0\n",
		"[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\nsocket=unix:///%(here)s/s.sock\nsocket_owner=nobody:nogroup\n",
		"[supervisord]\n[fcgi-program:f]\ncommand=/bin/true\nsocket=tcp://localhost:99999999999999999999\n",
		"[supervisord]\n[unix_http_server]\nfile=%(here)s/s.sock\nchown=root:root\n[inet_http_server]\nport=*:9001\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n",
		"[supervisord]\nenvironment=A=\"%(ENV_HOME)s\",B='x y'\n[program:x]\ncommand=/bin/sh -c \"echo $A\"\nenvironment=C=%(ENV_A)s\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nstdout_logfile=%%(program_name)s.log\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nstdout_logfile=%%(\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\nstartsecs=99999999999999999\nstopwaitsecs=-99999999999999\n",
		"[supervisord]\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
		"[supervisord]\n[include]\n",
		"[supervisord]\n[include]\nfiles=conf.d/*.conf\n",
		"[supervisord]\n[include]\nfiles=conf.d/a.conf conf.d/a.conf %(here)s/conf.d/[ab].conf\n",
		"[supervisord]\n[include]\nfiles=*.conf conf.d/* conf.d/[!a]*\n",
		"[supervisord]\n[include]\nfiles=%(\n",
		"[supervisord]\n[include]\nfiles=%(ENV_NOPE)s/*.conf\n",
		"[supervisord]\n[include]\nfiles=/\n",
		"[DEFAULT]\nfiles=conf.d/*.conf\ncommand=/bin/%(program_name)s\n[supervisord]\n[include]\n",
		"[program:snippet]\ncommand=/bin/true\n",
		"[program:snippet]\ncommand=/bin/%(ENV_A)s %(ENV_B)s %(ENV_A)s\n",
		"[supervisord]\r[program:cr]\rcommand=/bin/true\r",
		"[supervisord]\n[program:x]\ncommand=/bin/\xff\n",
		"[supervisord]\n[program:x]\ncommand=/bin/true\x00\n",
		"[supervisord]\n[program:x]\ncommand=\"/bin/true\n",
	}
}

// fuzzIncludes are snippets served as conf.d/a.conf and conf.d/b.conf.
var fuzzIncludes = []string{
	"",
	"[program:inc]\ncommand=/bin/true %(here)s\n",
	"[supervisord]\nlogfile=%(here)s/x.log\n[program:x]\ncommand=/bin/false\n",
	"[include]\nfiles=*.conf\n",
	"[DEFAULT]\npriority=5\n",
	"no header\n",
	"[s]\njunk\n",
	"\xff",
}

// fuzzLineCount is the number of lines in data as Python's universal
// newlines count them, computed independently of splitLines.
func fuzzLineCount(data string) int {
	n := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			n++
		case '\r':
			n++
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
		}
	}
	if data != "" && data[len(data)-1] != '\n' && data[len(data)-1] != '\r' {
		n++
	}
	return n
}

// fuzzLineOf is the 1-based universal-newline line of byte offset off.
func fuzzLineOf(data string, off int) int {
	prefix := data[:off]
	// a "\r" at the end of prefix is a line break of its own: data[off]
	// is the byte being located, never the "\n" of a "\r\n"
	return 1 + strings.Count(prefix, "\n") + strings.Count(prefix, "\r") - strings.Count(prefix, "\r\n")
}

// dumpIni renders everything a parser holds, for determinism checks.
func dumpIni(p *iniParser, errs ErrorList) string {
	var b strings.Builder
	dump := func(s *iniSection) {
		fmt.Fprintf(&b, "[%q] %v\n", s.name, s.pos)
		for i, k := range s.keys {
			v := s.vals[i]
			fmt.Fprintf(&b, "  %q=%q %v %q\n", k, v.value, v.pos, v.lines)
		}
	}
	dump(p.defaults)
	for _, s := range p.sections {
		dump(s)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error %q %q\n", e.Error(), e.SupervisorText())
	}
	return b.String()
}

// checkIniParser checks what read leaves in a parser.
func checkIniParser(t *testing.T, p *iniParser, files map[string]int) {
	t.Helper()
	checkSection := func(s *iniSection, header bool) {
		if strings.ContainsAny(s.name, "\r\n") {
			t.Errorf("section name %q holds a line break", s.name)
		}
		if header {
			if p.byName[s.name] != s {
				t.Errorf("section %q is not in byName", s.name)
			}
			checkLine(t, "section "+s.name, s.pos, files)
		}
		if len(s.keys) != len(s.vals) {
			t.Errorf("[%s]: %d keys but %d values", s.name, len(s.keys), len(s.vals))
		}
		for _, k := range s.keys {
			v, ok := s.get(k)
			if !ok {
				t.Errorf("[%s] key %q has no value", s.name, k)
				continue
			}
			// "" is a key: configparser stores "=v" under "" and reports
			// the line at the end of the file
			if strings.ContainsAny(k, "\r\n") {
				t.Errorf("[%s] bad key %q", s.name, k)
			}
			if v.lines != nil {
				t.Errorf("[%s] %s: value not joined: %q", s.name, k, v.lines)
			}
			if strings.Contains(v.value, "\r") {
				t.Errorf("[%s] %s: value %q holds \\r", s.name, k, v.value)
			}
			if v.value != pyRstrip(v.value) {
				t.Errorf("[%s] %s: value %q has trailing white space", s.name, k, v.value)
			}
			checkLine(t, "["+s.name+"] "+k, v.pos, files)
		}
	}
	checkSection(p.defaults, false)
	if len(p.byName) != len(p.sections) {
		t.Errorf("%d sections but %d names", len(p.sections), len(p.byName))
	}
	for _, s := range p.sections {
		checkSection(s, true)
	}
}

// checkLine checks that pos names one of files (name → line count) and a
// line in it: 1 ≤ Line ≤ lines+1.
func checkLine(t *testing.T, what string, pos Pos, files map[string]int) {
	t.Helper()
	n, ok := files[pos.File]
	if !ok {
		t.Errorf("%s: position %v names an unknown file", what, pos)
		return
	}
	if pos.Line < 1 || pos.Line > n+1 {
		t.Errorf("%s: position %v is outside the file's %d lines", what, pos, n)
	}
}

// FuzzIniRead checks the ini reader: no panic, every error at a line of
// the file, no "\r" in values, the same result every time, and a second
// read of the same file into the same parser (as an [include] of the
// main file does) also well-formed.
func FuzzIniRead(f *testing.F) {
	for _, data := range fuzzSeedFiles(f) {
		f.Add(data)
	}
	for _, s := range fuzzNastyInis() {
		f.Add([]byte(s))
	}
	const name = "fuzz.conf"
	f.Fuzz(func(t *testing.T, data []byte) {
		src := string(data)
		lines := fuzzLineCount(src)
		files := map[string]int{name: lines}

		p := newIniParser()
		errs := p.read(name, data)
		if errs != nil && len(errs) == 0 {
			t.Fatalf("empty, non-nil ErrorList")
		}
		for i, e := range errs {
			if e == nil || e.Err == nil {
				t.Fatalf("error %d is nil or has no Err", i)
			}
			if e.Pos.File != name {
				t.Errorf("error %q names file %q, want %q", e, e.Pos.File, name)
			}
			checkLine(t, "error "+e.Error(), e.Pos, files)
			if !errors.Is(e, ErrSyntax) {
				t.Errorf("error %q is not ErrSyntax", e)
			}
			if e.SupervisorText() == "" {
				t.Errorf("error %q has no Supervisor text", e)
			}
		}
		if !utf8.Valid(data) {
			if len(errs) != 1 {
				t.Fatalf("invalid UTF-8 gave %d errors, want 1", len(errs))
			}
			off := 0
			for off < len(data) {
				r, size := utf8.DecodeRune(data[off:])
				if r == utf8.RuneError && size <= 1 {
					break
				}
				off += size
			}
			if want := fuzzLineOf(src, off); errs[0].Pos.Line != want {
				t.Errorf("invalid byte at offset %d is on line %d (universal newlines), error says %v", off, want, errs[0].Pos)
			}
			if len(p.sections) != 0 || len(p.defaults.keys) != 0 {
				t.Errorf("invalid UTF-8 left sections behind")
			}
			return
		}
		checkIniParser(t, p, files)

		p2 := newIniParser()
		errs2 := p2.read(name, data)
		if a, b := dumpIni(p, errs), dumpIni(p2, errs2); a != b {
			t.Fatalf("two reads differ:\n%s\n---\n%s", a, b)
		}

		// the same file again into the same parser: sections merge
		before := len(p.sections)
		errs3 := p.read(name, data)
		if a, b := dumpIni(newIniParser(), errs), dumpIni(newIniParser(), errs3); a != b {
			t.Errorf("second read into the same parser gave other errors:\n%s\n---\n%s", b, a)
		}
		if len(p.sections) != before {
			t.Errorf("second read of the same file added sections: %d → %d", before, len(p.sections))
		}
		checkIniParser(t, p, files)
	})
}

// naiveExpandHere is Supervisor's expand_here as written in Python:
// every section, every item (with [DEFAULT]'s), replaced and set in the
// section. FuzzIniMerge compares iniParser.expandHere with it.
func naiveExpandHere(p *iniParser, dir string) {
	const here = "%(here)s"
	for _, s := range p.sections {
		for _, k := range p.items(s.name) {
			v, _ := p.get(s.name, k)
			if strings.Contains(v.value, here) {
				s.set(k, &iniValue{value: strings.ReplaceAll(v.value, here, dir), pos: v.pos})
			}
		}
	}
}

// FuzzIniMerge reads a main file and an include into one parser, with
// expand_here after each as Load does, and compares the result with the
// same reads expanded by naiveExpandHere. The include's directory holds
// "%(here)s" itself, so a replacement can bring the name back.
func FuzzIniMerge(f *testing.F) {
	f.Add([]byte("[DEFAULT]\nd=%(here)s/d\n[s]\nk=%(here)s\n[include]\nfiles=x\n"), []byte("[s]\nj=%(here)s\n[t]\nk=%(here)s %(here)s\n"))
	f.Add([]byte("[s]\nk=%(here)s\n"), []byte("[DEFAULT]\nd=%(here)s\n[s]\nk=%(here)s\n"))
	f.Add([]byte("[s]\nk=%(here)s\n  %(here)s\n"), []byte("[s]\nk=no\n[DEFAULT]\nk=%(here)s\n"))
	f.Add([]byte("[s]\nk=v\n"), []byte("[s]\n=%(here)s\nk\n"))
	f.Add([]byte("[DEFAULT]\n"), []byte("no header %(here)s\n"))
	for _, s := range fuzzIncludes {
		f.Add([]byte("[supervisord]\nlogfile=%(here)s/log\n"), []byte(s))
	}
	const (
		mainName, incName = "/fuzz/supervisord.conf", "/fuzz/%(here)s/conf.d/a.conf"
		mainDir, incDir   = "/fuzz", "/fuzz/%(here)s/conf.d"
	)
	f.Fuzz(func(t *testing.T, main, inc []byte) {
		files := map[string]int{mainName: fuzzLineCount(string(main)), incName: fuzzLineCount(string(inc))}
		got, want := newIniParser(), newIniParser()
		for _, step := range []struct {
			name, dir string
			data      []byte
		}{{mainName, mainDir, main}, {incName, incDir, inc}} {
			errs := got.read(step.name, step.data)
			errs2 := want.read(step.name, step.data)
			if a, b := dumpIni(newIniParser(), errs), dumpIni(newIniParser(), errs2); a != b {
				t.Fatalf("reading %s: errors differ:\n%s\n---\n%s", step.name, a, b)
			}
			if errs != nil {
				break // Load stops at the first file with an error
			}
			got.expandHere(step.dir)
			naiveExpandHere(want, step.dir)
			if a, b := dumpIni(got, nil), dumpIni(want, nil); a != b {
				t.Fatalf("after expand_here(%q) for %s:\n%s\n--- want ---\n%s", step.dir, step.name, a, b)
			}
			checkIniParser(t, got, files)
		}
	})
}

// memFS serves the fuzzed files to Load through its readFile and glob
// hooks. dirs are the directories that exist.
type memFS struct {
	files map[string][]byte
	dirs  map[string]bool
}

func (m *memFS) readFile(name string) ([]byte, error) {
	if data, ok := m.files[name]; ok {
		return data, nil
	}
	if m.dirs[name] {
		return nil, fmt.Errorf("read %s: is a directory", name)
	}
	return nil, fmt.Errorf("open %s: %w", name, os.ErrNotExist)
}

// glob is pyGlob over the in-memory tree: component by component, "*"
// skipping hidden names unless the pattern component starts with ".".
func (m *memFS) glob(pattern string) []string {
	pc := strings.Split(pattern, "/")
	var out []string
	try := func(name string) {
		nc := strings.Split(name, "/")
		if len(nc) != len(pc) {
			return
		}
		for i := range pc {
			if !pyHasMagic(pc[i]) {
				if pc[i] != nc[i] {
					return
				}
				continue
			}
			if nc[i] != "" && nc[i][0] == '.' && pc[i][0] != '.' {
				return
			}
			if !fnmatch(nc[i], pc[i]) {
				return
			}
		}
		out = append(out, name)
	}
	for name := range m.files {
		try(name)
	}
	for name := range m.dirs {
		try(name)
	}
	return out
}

// fuzzLoadLimit is the wall-clock time one Load may take on a fuzzed
// input before the target reports a blowup; fuzzLoadHard is when the
// watchdog gives up on Load ever returning, and fuzzHeapHard how much
// heap it may hold.
const (
	fuzzLoadLimit = 2 * time.Second
	fuzzLoadHard  = 10 * time.Second
	fuzzHeapHard  = 2 << 30
)

// watchedLoad runs Load, crashing the process with a clear message if it
// runs far past fuzzLoadHard or allocates more than fuzzHeapHard: a hang
// or a runaway allocation (numprocs=1e8) would otherwise take the fuzzer
// down with an anonymous timeout or OOM kill.
func watchedLoad(path string, opts Options, what string) (*Config, time.Duration, error) {
	done := make(chan struct{})
	start := time.Now()
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			el := time.Since(start)
			if el > fuzzLoadHard || ms.HeapAlloc > fuzzHeapHard {
				stacks := make([]byte, 1<<16)
				stacks = stacks[:runtime.Stack(stacks, true)]
				panic(fmt.Sprintf("%s: Load still running after %v, holding %d MiB of heap\n%s", what, el, ms.HeapAlloc>>20, stacks))
			}
		}
	}()
	cfg, err := Load(path, opts)
	close(done)
	return cfg, time.Since(start), err
}

// checkConfig checks the positions and pointers of a loaded Config.
func checkConfig(t *testing.T, mode string, cfg *Config, files map[string]int) {
	t.Helper()
	pos := func(what string, p Pos) {
		t.Helper()
		if !p.IsValid() {
			t.Errorf("%s: %s has no file: %v", mode, what, p)
			return
		}
		n, ok := files[p.File]
		if !ok {
			t.Errorf("%s: %s: position %v names an unknown file", mode, what, p)
		} else if p.Line < 0 || p.Line > n+1 {
			t.Errorf("%s: %s: position %v is outside the file's %d lines", mode, what, p, n)
		}
	}
	keyPos := func(what string, m map[string]Pos) {
		t.Helper()
		for k, p := range m {
			pos(what+" key "+k, p)
		}
	}
	if cfg.Supervisord.Pos.IsValid() || cfg.Supervisord.KeyPos != nil {
		pos("[supervisord]", cfg.Supervisord.Pos)
		keyPos("[supervisord]", cfg.Supervisord.KeyPos)
	}
	for i, s := range cfg.Servers {
		pos(fmt.Sprintf("server %d [%s]", i, s.Section), s.Pos)
	}
	for _, r := range cfg.RPCInterfaces {
		pos("[rpcinterface:"+r.Name+"]", r.Pos)
	}
	for i, g := range cfg.Groups {
		if g == nil {
			t.Errorf("%s: group %d is nil", mode, i)
			continue
		}
		pos("group "+g.Name, g.Pos)
		if g.Socket != nil {
			pos("group "+g.Name+" socket", g.Socket.Pos)
		}
		for j, p := range g.Processes {
			if p == nil {
				t.Errorf("%s: group %s process %d is nil", mode, g.Name, j)
				continue
			}
			if p.Group != g.Name {
				t.Errorf("%s: process %q in group %q says its group is %q", mode, p.Name, g.Name, p.Group)
			}
			pos("process "+p.Namespec(), p.Pos)
			keyPos("process "+p.Namespec(), p.KeyPos)
		}
	}
}

// FuzzLoad loads a fuzzed main config with up to two fuzzed includes
// (conf.d/a.conf, conf.d/b.conf) in strict and lenient mode. Load must
// not panic, must finish quickly, every error must carry a position, and
// a Config without error must hold only valid pointers and positions.
//
// The files live in memory behind Options' readFile and glob hooks.
// Load stats the main file on the real file system before reading it,
// so an empty placeholder of that name exists in a temporary directory;
// its content is never read.
func FuzzLoad(f *testing.F) {
	seeds := fuzzSeedFiles(f)
	for _, data := range seeds {
		f.Add(data, []byte(nil), []byte(nil))
	}
	const incMain = "[supervisord]\n[include]\nfiles = conf.d/*.conf\n"
	for _, data := range seeds {
		f.Add([]byte(incMain), data, []byte(nil))
	}
	for _, s := range fuzzNastyConfigs() {
		f.Add([]byte(s), []byte(nil), []byte(nil))
	}
	for _, s := range fuzzNastyInis() {
		f.Add([]byte(s), []byte(nil), []byte(nil))
	}
	for i, a := range fuzzIncludes {
		b := fuzzIncludes[(i+1)%len(fuzzIncludes)]
		f.Add([]byte(incMain), []byte(a), []byte(b))
		f.Add([]byte("[supervisord]\n[include]\nfiles = conf.d/*.conf *.conf\n[program:m]\ncommand=/bin/true\n"), []byte(a), []byte(b))
	}

	dir := f.TempDir()
	confd := filepath.Join(dir, "conf.d")
	mainPath := filepath.Join(dir, "supervisord.conf")
	if err := os.Mkdir(confd, 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(mainPath, nil, 0o644); err != nil {
		f.Fatal(err)
	}
	incA, incB := filepath.Join(confd, "a.conf"), filepath.Join(confd, "b.conf")
	environ := []string{"HOME=/root", "PATH=/usr/bin:/bin", "A=a", "EMPTY=", "SPACE=a b", "PCT=%(x)s", "UNI=\u00e9"}

	f.Fuzz(func(t *testing.T, main, a, b []byte) {
		var (
			strictOK    bool
			strictProcs string
		)
		fs := &memFS{
			files: map[string][]byte{mainPath: main, incA: a, incB: b},
			dirs:  map[string]bool{dir: true, confd: true, "/": true},
		}
		files := map[string]int{
			mainPath: fuzzLineCount(string(main)),
			incA:     fuzzLineCount(string(a)),
			incB:     fuzzLineCount(string(b)),
			// lenient mode's main config for a snippet: four lines
			"<lenient: minimal main config>": 4,
		}
		for _, lenient := range []bool{false, true} {
			mode := "strict"
			if lenient {
				mode = "lenient"
			}
			opts := Options{
				Environ:  environ,
				Dir:      "/fuzz",
				Hostname: "fuzzhost",
				Lenient:  lenient,
				readFile: fs.readFile,
				glob:     fs.glob,
			}
			cfg, took, err := watchedLoad(mainPath, opts, mode)
			if took > fuzzLoadLimit {
				// once more, to tell a slow input from a busy machine
				if _, again, _ := watchedLoad(mainPath, opts, mode); again > fuzzLoadLimit {
					t.Errorf("%s: Load took %v and %v", mode, took, again)
				}
			}
			if err != nil {
				var list ErrorList
				var one *Error
				switch {
				case errors.As(err, &list):
					if len(list) == 0 {
						t.Errorf("%s: empty ErrorList", mode)
					}
					for i, e := range list {
						if e == nil || e.Err == nil {
							t.Fatalf("%s: error %d is nil or has no Err", mode, i)
						}
						if !e.Pos.IsValid() {
							t.Errorf("%s: error without a file: %q", mode, e)
						}
						if n, ok := files[e.Pos.File]; !ok {
							t.Errorf("%s: error %q names an unknown file", mode, e)
						} else if e.Pos.Line < 0 || e.Pos.Line > n+1 {
							t.Errorf("%s: error %q: line outside the file's %d lines", mode, e, n)
						}
					}
				case errors.As(err, &one):
					if !one.Pos.IsValid() {
						t.Errorf("%s: error without a file: %q", mode, one)
					}
				default:
					t.Errorf("%s: error of type %T: %v", mode, err, err)
				}
				if SupervisorMessage(err) == "" {
					t.Errorf("%s: empty Supervisor message for %q", mode, err)
				}
			} else if cfg == nil {
				t.Fatalf("%s: nil Config and nil error", mode)
			}
			if cfg != nil {
				checkConfig(t, mode, cfg, files)
			}
			if !lenient {
				strictOK, strictProcs = err == nil, processList(cfg)
				continue
			}
			// lenient only takes host facts out: what loads strictly
			// loads leniently, with the same processes
			if strictOK && err != nil {
				t.Errorf("strict mode loads, lenient mode fails: %v", err)
			} else if strictOK && processList(cfg) != strictProcs {
				t.Errorf("processes differ:\nstrict:  %q\nlenient: %q", strictProcs, processList(cfg))
			}
			// lenient mode reads nothing from the host: the same input
			// gives the same result, whatever Go's map order
			cfg2, _, err2 := watchedLoad(mainPath, opts, mode)
			if a, b := dumpLoad(cfg, err), dumpLoad(cfg2, err2); a != b {
				t.Errorf("two lenient loads differ:\n%s\n---\n%s", a, b)
			}
		}
	})
}

// processList names a Config's processes with their commands.
func processList(cfg *Config) string {
	if cfg == nil {
		return "<nil>"
	}
	var b strings.Builder
	for _, g := range cfg.Groups {
		fmt.Fprintf(&b, "%s(", g.Name)
		for _, p := range g.Processes {
			fmt.Fprintf(&b, " %q %q", p.Namespec(), p.Command)
		}
		b.WriteString(" ) ")
	}
	return b.String()
}

// dumpLoad renders Load's result in full, for determinism checks.
func dumpLoad(cfg *Config, err error) string {
	data, jerr := json.Marshal(cfg)
	if jerr != nil {
		return "json: " + jerr.Error()
	}
	if err != nil {
		return string(data) + "\n" + err.Error()
	}
	return string(data)
}

// fuzzExpansions is the dict FuzzExpand expands with: what a program
// section sees.
func fuzzExpansions() *expansions {
	m := newExpansions()
	m.setStr("here", "/fuzz")
	m.setStr("program_name", "prog")
	m.setStr("group_name", "grp")
	m.setStr("host_node_name", "fuzzhost")
	m.set("process_num", pyIntValue(3))
	m.set("numprocs", pyIntValue(12))
	m.setStr("ENV_HOME", "/root")
	m.setStr("ENV_EMPTY", "")
	m.setStr("ENV_PCT", "%(here)s")
	m.setStr("ENV_UNI", "\u00e9\U0001F600")
	m.setStr("ENV_RAW", "\xff\xfe")
	return m
}

// FuzzExpand checks Supervisor's expand: no panic, no hang, errors in
// Supervisor's words, and text without "%" unchanged.
func FuzzExpand(f *testing.F) {
	for _, s := range []string{
		"", "%", "%%", "%(", "%(here", "%(here)", "%(here)s", "%(here)r", "%(here)a",
		"%(process_num)02d", "%(process_num)-5d|", "%(numprocs)x %(numprocs)#o %(numprocs)e",
		"%(program_name)s_%(process_num)02d", "%(ENV_HOME)s/%(ENV_NOPE)s", "%(ENV_UNI).1s",
		"%(here)*s", "%(here)99999999999999999999s", "%(here)999999999s", "%(process_num).999999999f",
		"%(here)s%", "%s", "%(a)s%(b)s", "%(()s", "%((here))s", "%(here)\xffs", "%(\xff)s",
		"\x00%(here)s\x00", "%(here)-#0 +10.3s", "%(process_num)c", "%(numprocs)999c", "%(ENV_RAW)s",
		strings.Repeat("%(here)s", 10000), strings.Repeat("%(", 5000), strings.Repeat("%%", 10000) + "%",
	} {
		f.Add(s)
	}
	for _, data := range fuzzSeedFiles(f) {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "%(") {
				f.Add(line)
			}
		}
	}
	m := fuzzExpansions()
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		got, err := expand(s, m, "program:x.command")
		if el := time.Since(start); el > fuzzLoadLimit {
			t.Errorf("expand took %v", el)
		}
		if err != nil {
			if got != "" {
				t.Errorf("both a value %q and an error %q", got, err)
			}
			if !strings.HasPrefix(err.Error(), "Format string ") {
				t.Errorf("error %q does not start with \"Format string \"", err)
			}
			return
		}
		if !strings.Contains(s, "%") && got != s {
			t.Errorf("string without %% changed: %q → %q", s, got)
		}
		if got2, err2 := expand(s, m, "program:x.command"); got2 != got || err2 != nil {
			t.Errorf("second expansion differs: %q, %v", got2, err2)
		}
	})
}

// TestFuzzLoadHarness checks that FuzzLoad's in-memory files reach Load:
// the main file, an include found through the glob hook, and a lenient
// snippet.
func TestFuzzLoadHarness(t *testing.T) {
	dir := t.TempDir()
	confd := filepath.Join(dir, "conf.d")
	mainPath := filepath.Join(dir, "supervisord.conf")
	if err := os.WriteFile(mainPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	fs := &memFS{
		files: map[string][]byte{
			mainPath:                          []byte("[supervisord]\n[include]\nfiles = conf.d/*.conf\n[program:m]\ncommand=/bin/true\n"),
			filepath.Join(confd, "a.conf"):    []byte("[program:a]\ncommand=/bin/true\n"),
			filepath.Join(confd, ".h.conf"):   []byte("[program:hidden]\ncommand=/bin/true\n"),
			filepath.Join(confd, "b.notconf"): []byte("[program:b]\ncommand=/bin/true\n"),
		},
		dirs: map[string]bool{dir: true, confd: true},
	}
	opts := Options{Environ: []string{}, Dir: "/fuzz", Hostname: "fuzzhost", Lenient: true, readFile: fs.readFile, glob: fs.glob}
	cfg, err := Load(mainPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range cfg.Groups {
		for _, p := range g.Processes {
			names = append(names, p.Name)
		}
	}
	if got := strings.Join(names, " "); got != "a m" {
		t.Errorf("processes %q, want \"a m\"", got)
	}

	fs.files[mainPath] = []byte("[program:snippet]\ncommand=/bin/true\n")
	cfg, err = Load(mainPath, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Snippet || len(cfg.Groups) != 1 || cfg.Groups[0].Name != "snippet" {
		t.Errorf("snippet not loaded: %+v", cfg)
	}
}
