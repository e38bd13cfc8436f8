package oracle

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/supersede/supersede/internal/testreal"
)

// TestRandomAgainstOracle is a differential fuzzer: it writes random
// supervisord.conf files (aimed at the dark corners of the dialect),
// asks the real Supervisor (through shared/oracle/supervisor-parse.py)
// what it understood, strict and lenient, and compares that with
// supersede's answer. Case i uses the seed -random.seed + i, so a failure
// can be replayed alone with -random.seed=S -random.n=1.
//
//	go test ./internal/oracle -run Random -random.n 2000
//	SUPERSEDE_RANDOM_OUT=/tmp/fails go test ./internal/oracle -run Random
//
// $SUPERSEDE_RANDOM_OUT, when set, is a directory that receives every
// failing case as SEED-MODE/caseSUFFIX/ (its files, oracle.out and
// supersede.out; SUFFIX is the odd part of the case directory's name).

var (
	randomSeed  = flag.Int64("random.seed", 425_2023, "seed of the first TestRandomAgainstOracle case")
	randomN     = flag.Int("random.n", 30, "number of random configs TestRandomAgainstOracle generates")
	randomShow  = flag.Int("random.show", 5, "how many differing cases TestRandomAgainstOracle prints in full (the others in one line)")
	randomCheck = flag.Bool("random.check-driver", false, "also run the oracle once per file and check that the batch driver prints the same")
)

// oracleDriver runs supervisor-parse.py's main() on many files in one
// Python process (start-up and imports cost more than a parse). A process
// is strict-only or lenient-only: --lenient patches Supervisor's modules
// for good. Supervisor creates fresh ServerOptions per realize, so the
// output is the same as that of separate runs (-random.check-driver
// verifies it).
const oracleDriver = `
import contextlib, importlib.util, io, json, os, sys, traceback
spec = importlib.util.spec_from_file_location("supervisor_parse", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
with open(sys.argv[2]) as f:
    jobs = json.load(f)
results = []
for job in jobs:
    os.chdir(job["dir"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = mod.main(["supervisor-parse.py"] + job["args"])
        except SystemExit as e:
            rc = e.code
        except BaseException:
            traceback.print_exc()
            rc = -1
    results.append({"rc": rc, "out": out.getvalue(), "err": err.getvalue()})
sys.stdout.write(json.dumps(results))
`

// oracleJob is one run of supervisor-parse.py.
type oracleJob struct {
	Dir  string   `json:"dir"`
	Args []string `json:"args"`
}

type oracleResult struct {
	RC  int    `json:"rc"`
	Out string `json:"out"`
	Err string `json:"err"`
}

// runOracleBatch runs jobs in one Python process with the fixed
// environment.
func runOracleBatch(script, tmp, tag string, jobs []oracleJob) ([]oracleResult, error) {
	drv := filepath.Join(tmp, "driver.py")
	if err := os.WriteFile(drv, []byte(oracleDriver), 0o644); err != nil {
		return nil, err
	}
	data, err := json.Marshal(jobs)
	if err != nil {
		return nil, err
	}
	jobsFile := filepath.Join(tmp, "jobs-"+tag+".json")
	if err := os.WriteFile(jobsFile, data, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(testreal.Python, drv, script, jobsFile)
	cmd.Dir = tmp
	cmd.Env = fixedEnv
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("oracle driver: %v\n%s", err, stderr.String())
	}
	var res []oracleResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("oracle driver output: %v", err)
	}
	if len(res) != len(jobs) {
		return nil, fmt.Errorf("oracle driver: %d results for %d jobs", len(res), len(jobs))
	}
	return res, nil
}

// runOracleOnce runs supervisor-parse.py alone, as regen-cases.sh does.
func runOracleOnce(script string, job oracleJob) oracleResult {
	cmd := exec.Command(testreal.Python, append([]string{script}, job.Args...)...)
	cmd.Dir = job.Dir
	cmd.Env = fixedEnv
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	rc := 0
	if err != nil {
		rc = -1
		if ee, ok := err.(*exec.ExitError); ok {
			rc = ee.ExitCode()
		}
	}
	return oracleResult{RC: rc, Out: string(out), Err: stderr.String()}
}

var (
	strictArgs  = []string{"--portable"}
	lenientArgs = []string{"--lenient", "--portable", "--no-exec"}
)

func TestRandomAgainstOracle(t *testing.T) {
	shared := testreal.Shared(t)
	testreal.RequireSupervisor(t)
	script := filepath.Join(shared, "oracle", "supervisor-parse.py")
	root := t.TempDir()
	n := *randomN
	corpus := corpusFiles(shared)
	cases := make([]*randomCase, n)
	var strictJobs, lenientJobs []oracleJob
	for i := range cases {
		seed := *randomSeed + int64(i)
		c := generateCase(seed, corpus)
		c.dir = filepath.Join(root, fmt.Sprintf("c%05d%s", i, c.sub))
		if err := c.write(); err != nil {
			t.Fatal(err)
		}
		cases[i] = c
		strictJobs = append(strictJobs, oracleJob{c.dir, append(append([]string(nil), strictArgs...), c.main)})
		lenientJobs = append(lenientJobs, oracleJob{c.dir, append(append([]string(nil), lenientArgs...), c.main)})
	}

	var (
		wg                  sync.WaitGroup
		strict, lenient     []oracleResult
		strictErr, lenErr   error
		gotStrict, gotLenie = make([]string, n), make([]string, n)
	)
	wg.Add(2)
	go func() { defer wg.Done(); strict, strictErr = runOracleBatch(script, root, "strict", strictJobs) }()
	go func() { defer wg.Done(); lenient, lenErr = runOracleBatch(script, root, "lenient", lenientJobs) }()
	for i, c := range cases {
		gotStrict[i] = render(c.main, Options{Exec: true, Environ: fixedEnv, Dir: c.dir}, c.dir)
		gotLenie[i] = render(c.main, Options{Lenient: true, Environ: fixedEnv, Dir: c.dir}, c.dir)
	}
	wg.Wait()
	if strictErr != nil {
		t.Fatal(strictErr)
	}
	if lenErr != nil {
		t.Fatal(lenErr)
	}

	if *randomCheck {
		for i := range cases {
			for _, pair := range []struct {
				job oracleJob
				res oracleResult
			}{{strictJobs[i], strict[i]}, {lenientJobs[i], lenient[i]}} {
				one := runOracleOnce(script, pair.job)
				if one != pair.res {
					t.Errorf("case %d %v: the batch driver differs from a separate run:\n%s", i, pair.job.Args, lineDiff(one.Out, pair.res.Out))
				}
			}
		}
	}

	failed := 0
	for i, c := range cases {
		for _, mode := range []struct {
			name string
			res  oracleResult
			got  string
		}{{"strict", strict[i], gotStrict[i]}, {"lenient", lenient[i], gotLenie[i]}} {
			res := mode.res
			if res.RC == 64 && mode.name == "lenient" {
				continue // a snippet whose path holds white space: the oracle cannot include it
			}
			if res.RC != 0 && res.RC != 2 && res.RC != 3 && strings.Contains(res.Err, "in exec_info") {
				// the oracle script itself died working out "exec" (say, a
				// NUL in PATH makes os.stat raise): nothing to compare
				t.Logf("case seed %d (%s): the oracle crashed in exec_info; skipped", c.seed, mode.name)
				continue
			}
			if res.RC != 0 && res.RC != 2 && res.RC != 3 {
				t.Errorf("case seed %d (%s): oracle exit %d\n%s\n%s", c.seed, mode.name, res.RC, res.Err, c.dump())
				continue
			}
			want := strings.TrimRight(res.Out, "\n")
			if want == mode.got || sameUnknownEvent(want, mode.got) {
				continue
			}
			failed++
			if failed <= *randomShow {
				t.Errorf("case seed %d (%s) differs from the oracle (replay: -random.seed=%d -random.n=1)\n%s--- diff (- oracle, + supersede):\n%s",
					c.seed, mode.name, c.seed, c.dump(), lineDiff(want, mode.got))
			} else {
				t.Errorf("case seed %d (%s) differs too: %s", c.seed, mode.name, firstDiff(want, mode.got))
			}
			c.save(t, mode.name, want, mode.got)
		}
	}
	if failed > 0 {
		t.Logf("%d differences in all (%d cases)", failed, n)
	}
	if testing.Verbose() {
		// what the oracle said: how much of the generated input was valid
		stats := map[string]int{}
		for i := range cases {
			for _, m := range []struct {
				name string
				res  oracleResult
			}{{"strict", strict[i]}, {"lenient", lenient[i]}} {
				key := fmt.Sprintf("%s exit %d", m.name, m.res.RC)
				if m.res.RC != 0 {
					var doc struct{ Error string }
					_ = json.Unmarshal([]byte(m.res.Out), &doc)
					msg := doc.Error
					if i := strings.IndexAny(msg, "'\"0123456789"); i > 0 {
						msg = msg[:i]
					}
					key += ": " + msg
				}
				stats[key]++
			}
		}
		keys := make([]string, 0, len(stats))
		for k := range stats {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return stats[keys[i]] > stats[keys[j]] })
		for _, k := range keys {
			t.Logf("%6d  %s", stats[k], k)
		}
	}
}

// randomCase is one generated config: its main file and the included
// ones, relative to dir.
type randomCase struct {
	seed  int64
	dir   string // where the files go: the test's directory + sub
	sub   string // odd characters for the case's directory name
	main  string
	files map[string]string
	dirs  []string // extra empty directories
}

func (c *randomCase) names() []string {
	names := make([]string, 0, len(c.files))
	for k := range c.files {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == c.main) != (names[j] == c.main) {
			return names[i] == c.main
		}
		return names[i] < names[j]
	})
	return names
}

func (c *randomCase) write() error {
	for _, d := range append([]string{"."}, c.dirs...) {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o755); err != nil {
			return err
		}
	}
	for name, text := range c.files {
		p := filepath.Join(c.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			return err
		}
	}
	return nil
}

func (c *randomCase) dump() string {
	var b strings.Builder
	for _, name := range c.names() {
		text := c.files[name]
		if strings.ContainsAny(text, "\r\ufeff") || strings.ContainsFunc(text, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
			fmt.Fprintf(&b, "=== %s (quoted)\n%q\n", name, text)
		} else {
			fmt.Fprintf(&b, "=== %s\n%s\n", name, text)
		}
	}
	return b.String()
}

// firstDiff is the first differing line of two texts, both sides.
func firstDiff(want, got string) string {
	a, b := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: oracle %s, supersede %s", i+1, strings.TrimSpace(x), strings.TrimSpace(y))
		}
	}
	return "(equal)"
}

// save copies a failing case into $SUPERSEDE_RANDOM_OUT/SEED-MODE/.
func (c *randomCase) save(t *testing.T, mode, want, got string) {
	out := os.Getenv("SUPERSEDE_RANDOM_OUT")
	if out == "" {
		return
	}
	dir := filepath.Join(out, fmt.Sprintf("%d-%s", c.seed, mode), "case"+c.sub)
	cp := *c
	cp.dir = dir
	if err := cp.write(); err != nil {
		t.Logf("SUPERSEDE_RANDOM_OUT: %v", err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, "oracle.out"), []byte(want+"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "supersede.out"), []byte(got+"\n"), 0o644)
}

// ---------------------------------------------------------------- generator

// gen writes one random config. Most files are meant to be valid so that
// the whole document is compared; bad is the chance of a deliberately
// invalid value, unset that of an unset %(ENV_X)s (an error when strict,
// a placeholder when lenient).
type gen struct {
	r          *rand.Rand
	bad        float64
	unset      float64
	chaos      float64 // syntax accidents: swallowed keys, odd comments
	hasInclude bool
	progs      []string // names of [program:x] sections
	fcgis      []string
	sockets    int
	supEnv     []string // names [supervisord] environment= sets
}

type entry struct {
	key, value string
}

type sect struct {
	header  string
	entries []entry
}

// corpusFiles lists shared/corpus/real's configs, the seeds of the
// mutation cases.
func corpusFiles(shared string) []string {
	files, _ := filepath.Glob(filepath.Join(shared, "corpus", "real", "*.conf"))
	ini, _ := filepath.Glob(filepath.Join(shared, "corpus", "real", "*.ini"))
	return append(files, ini...)
}

// generateCase makes case seed: mostly a config built from scratch,
// sometimes a real-world config of the corpus with random mutations.
func generateCase(seed int64, corpus []string) *randomCase {
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), 0x5eed))}
	if len(corpus) > 0 && g.chance(0.2) {
		if data, err := os.ReadFile(corpus[g.r.IntN(len(corpus))]); err == nil {
			return g.mutate(seed, string(data))
		}
	}
	switch k := g.r.IntN(10); {
	case k < 6: // valid on purpose
	case k < 9:
		g.bad = 0.04
	default:
		g.bad = 0.15
	}
	if g.chance(0.3) {
		g.unset = 0.05
	}
	if g.chance(0.3) {
		g.chaos = 0.05
	}
	if g.chance(0.25) {
		return g.focused(seed)
	}
	c := &randomCase{seed: seed, files: map[string]string{}}
	c.main = g.pick("supervisord.conf", "supervisord.conf", "main.conf", "sup ervisor.conf", "конфиг.conf", "a%b.conf")
	c.sub = g.pick("", "", "", "", "", "[ab]", " sp", "%d", "100%", "é", "%(here)s")

	g.hasInclude = g.chance(0.3)
	var main []sect
	var incl [][]sect

	if g.chance(0.15) {
		main = append(main, g.defaults())
	}
	sup := g.supervisord()
	nprog := 1 + g.r.IntN(4)
	var progSects []sect
	for range nprog {
		progSects = append(progSects, g.program("program"))
	}
	if g.chance(0.25) {
		progSects = append(progSects, g.program("eventlistener"))
	}
	if g.chance(0.2) {
		progSects = append(progSects, g.program("fcgi-program"))
	}
	var other []sect
	if g.chance(0.3) {
		other = append(other, g.group())
	}
	if g.chance(0.1) {
		other = append(other, g.group())
	}
	if g.chance(0.35) {
		other = append(other, g.unixServer(""))
	}
	if g.chance(0.25) {
		other = append(other, g.inetServer(""))
	}
	if g.chance(0.08) {
		other = append(other, g.inetServer(g.pick("admin", "two", "x y")))
	}
	if g.chance(0.05) {
		other = append(other, g.unixServer(g.pick("second", "b")))
	}
	if g.chance(0.3) {
		other = append(other, g.rpcinterface())
	}
	if g.chance(0.25) {
		other = append(other, g.supervisorctl())
	}
	if g.chance(0.15) {
		other = append(other, g.unknownSection())
	}

	if !g.chance(0.06) {
		main = append(main, sup)
	}
	all := append(progSects, other...)
	g.r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	// duplicate sections: split one in two
	if len(all) > 0 && g.chance(0.15) {
		i := g.r.IntN(len(all))
		s := all[i]
		if len(s.entries) > 1 {
			cut := 1 + g.r.IntN(len(s.entries)-1)
			first := sect{s.header, s.entries[:cut]}
			second := sect{s.header, s.entries[cut:]}
			all[i] = first
			all = append(all, second)
		}
	}
	if g.hasInclude {
		ninc := 1 + g.r.IntN(3)
		incl = make([][]sect, ninc)
		for _, s := range all {
			if g.chance(0.4) {
				k := g.r.IntN(ninc)
				incl[k] = append(incl[k], s)
			} else {
				main = append(main, s)
			}
		}
		if g.chance(0.2) {
			// an included file overrides a key of a main-file program
			for _, s := range main {
				if strings.HasPrefix(s.header, "program:") {
					incl[0] = append(incl[0], sect{s.header, []entry{{"priority", g.pick("1", "77", "-5")}}})
					break
				}
			}
		}
		var patterns []string
		for k := range incl {
			name := fmt.Sprintf("conf.d/%c-%s", 'a'+k, g.pick("x.conf", "prog.conf", "é.conf", "y.ini"))
			if k == 0 && g.chance(0.1) {
				name = "conf.d/sub/" + g.pick("deep.conf", "z.conf")
			}
			if g.chance(0.15) {
				incl[k] = append(incl[k], sect{"include", []entry{{"files", "nested/*.conf"}}})
			}
			c.files[name] = g.render(incl[k])
			patterns = append(patterns, name)
		}
		var files []string
		switch g.r.IntN(5) {
		case 0:
			files = []string{"conf.d/*.conf", "conf.d/*.ini"}
		case 1:
			files = []string{"%(here)s/conf.d/*"}
		case 2:
			files = patterns
		case 3:
			files = []string{"conf.d/[a-c]-*", "conf.d/sub/*.conf"}
		default:
			files = []string{"conf.d/*"}
		}
		if g.chance(0.2) {
			files = append(files, g.pick("nomatch-*.conf", "/nonexistent/*.conf", "conf.d/?-x.conf", "conf.d/*.conf"))
		}
		if g.chance(0.1) {
			files = append(files, "%(ENV_ORACLE_GREETING)s/*.conf")
		}
		if g.chance(0.1) {
			files = append(files, "%(host_node_name)s.conf")
		}
		if g.chance(g.unset) {
			files = append(files, "%(ENV_INCLUDE_DIR)s/*.conf")
		}
		if g.chance(0.05) {
			c.files["conf.d/.hidden.conf"] = "[program:hidden]\ncommand=/bin/true\n"
		}
		if g.chance(0.05) {
			c.dirs = append(c.dirs, "conf.d/dir.conf")
		}
		sep := g.pick(" ", "\n  ", "\t", "  \n\t")
		main = append(main, sect{"include", []entry{{"files", strings.Join(files, sep)}}})
	}
	if g.chance(0.3) {
		g.r.Shuffle(len(main), func(i, j int) { main[i], main[j] = main[j], main[i] })
	}
	c.files[c.main] = g.render(main)
	if g.chance(0.1) {
		c.files["run.sh"] = "#!/bin/sh\necho hi\n"
	}
	if g.chance(0.1) {
		c.files["notexec"] = "data\n"
	}
	if g.chance(0.8) {
		c.dirs = append(c.dirs, "logs")
	}
	return c
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// val returns one of good, or with the chance g.bad one of bad.
func (g *gen) val(good, bad []string) string {
	if len(bad) > 0 && g.chance(g.bad) {
		return bad[g.r.IntN(len(bad))]
	}
	return good[g.r.IntN(len(good))]
}

// interpolation contexts: which names Supervisor offers where
type ictx int

const (
	cEnvOnly ictx = iota // [inet_http_server], [rpcinterface:x], ctl username
	cHere                // [supervisord], [group:x], group-level keys
	cSection             // + program_name, group_name, host_node_name
	cEnviron             // + process_num, numprocs ([program] environment)
	cProc                // + ENV_K of the program's own environment
	cInclude             // here, host_node_name
	cSocket              // here, program_name
)

var (
	boolGood = []string{"true", "false", "yes", "no", "on", "off", "1", "0", "TRUE", "Off", "YES", "tRuE"}
	boolBad  = []string{"y", "t", "2", `"true"`, "truee", "enabled", "١"}
	intGood  = []string{"0", "1", "2", "5", "10", "-3", "+5", "1_000", "007", "0_1", "٣", "５", "100"}
	intBad   = []string{"1.5", "0x10", "ten", "1e3", "1__0", "_1", "1_", "- 1", "10%%"}
	sizeGood = []string{"50MB", "1KB", "1 mb", "1gb", "0", "1024", "10 kb", "-1", "1_000kb", "2Mb", "5 GB", "٣kb", "+1kb"}
	sizeBad  = []string{"5xb", "1K", "10b", "1.5MB", "MB", "kb", "1 k b", "1mbb"}
	sigGood  = []string{"TERM", "term", "SIGTERM", "sigint", "HUP", " hup", "KILL", "9", "15", "0", "RTMIN", "CLD", "IOT", "usr2", "34", "64", "RTMAX", "POLL", "IO", "PWR", "STKFLT", "_DFL", "SIG_IGN", "sig_setmask", "+2", "١٥", "Quit", "winch"}
	sigBad   = []string{"FOO", "35", "32", "65", "-1", "SIG", "SIGSIGTERM", "RTMIN+1", "1.0", "sig term", "SIGRTMIN1"}
	octGood  = []string{"022", "22", "0o22", "0", "077", "0O77", "0_22", "+7", "-1", "777", "0002", "٧"}
	octBad   = []string{"999", "8", "0x1", "0o", "o22", "0b1", "22a"}
	exitGood = []string{"0", "0,2", " 0 , 2,255", "", "1_0", "255", "0,0", "2 ,3", "+1", "٣"}
	exitBad  = []string{"0,,1", "256", "-1", "a", "0;1", "1,"}
	autoGood = []string{"true", "false", "unexpected", "Unexpected", "TRUE", "yes", "off", "1", "0", "UNEXPECTED"}
	autoBad  = []string{"always", "never", "unexpect", "İ", "ΣΑΣ"}
	levGood  = []string{"info", "debug", "warn", "error", "critical", "trace", "blather", "INFO", "Warn", "DEBUG"}
	levBad   = []string{"warning", "verbose", "5", "crit"}
	userGood = []string{"nobody", "root", "0", "65534", "nobody", "www-data"}
	userBad  = []string{"nosuchuser", "99999", "-1", "nobody:nogroup", "", "ROOT"}
)

// word is a plain value fragment.
func (g *gen) word() string {
	return g.pick("x", "abc", "hello", "a.b", "a-b", "a_b", "é", "日本", "ünï", "v1", "tmp", "A", "x y", "ß", "Straße")
}

// interp is an interpolation valid in c, sometimes an invalid one.
func (g *gen) interp(c ictx, own []string) string {
	if g.chance(g.unset) {
		return g.pick("%(ENV_ORACLE_UNSET)s", "%(ENV_NOPE)s", "%(ENV_ORACLE_PORT)s")
	}
	if g.chance(g.bad) {
		return g.pick("%(nosuch)s", "%(process_num)d", "%(program_name)s", "%", "%b", "%(here)", "%(ENV_HOME)z", "%(here)s%", "%(program_name)d", "%(numprocs)*d")
	}
	var opts []string
	opts = append(opts, "%(ENV_ORACLE_GREETING)s", "%(ENV_HOME)s", "%(ENV_ORACLE_PRIO)s", "%%", "%(ENV_LANG)r", "%(ENV_ORACLE_GREETING).3s", "%(ENV_ORACLE_GREETING)-8s|", "%(ENV_ORACLE_PRIO)5s")
	if c != cEnvOnly || g.hasInclude {
		if c != cEnvOnly {
			opts = append(opts, "%(here)s", "%(here)s", "%(here)r")
		} else {
			opts = append(opts, "%(here)s")
		}
	}
	if c == cSection || c == cEnviron || c == cProc || c == cSocket {
		opts = append(opts, "%(program_name)s", "%(program_name)s", "%(program_name)a", "%(program_name)r", "%(program_name).2s", "%(program_name)10s")
	}
	if c == cSection || c == cEnviron || c == cProc {
		opts = append(opts, "%(group_name)s", "%(host_node_name)s", "%(group_name)-5s.")
	}
	if c == cInclude {
		opts = append(opts, "%(host_node_name)s")
	}
	if c == cEnviron || c == cProc {
		opts = append(opts, "%(process_num)d", "%(process_num)02d", "%(process_num)s", "%(numprocs)d", "%(process_num)x", "%(process_num)o", "%(numprocs)e", "%(process_num)+d", "%(process_num)#x", "%(numprocs)3.1f", "%(process_num)c", "%(numprocs)g", "%(process_num)-4d|", "%(process_num) d", "%(process_num)i", "%(process_num)u", "%(numprocs)X", "%(numprocs)%")
	}
	if c == cEnviron || c == cProc {
		for _, k := range g.supEnv {
			opts = append(opts, "%(ENV_"+k+")s")
		}
	}
	if c == cProc {
		for _, k := range own {
			opts = append(opts, "%(ENV_"+k+")s")
		}
	}
	if g.chance(0.02) {
		return "%s" // the whole expansion dictionary
	}
	return opts[g.r.IntN(len(opts))]
}

// str is a string value with interpolations valid in c.
func (g *gen) str(c ictx, own []string) string {
	var b strings.Builder
	n := 1 + g.r.IntN(3)
	for i := range n {
		if i > 0 && g.chance(0.5) {
			b.WriteString(g.pick("-", "_", ".", "/", " ", ":"))
		}
		if g.chance(0.4) {
			b.WriteString(g.interp(c, own))
		} else {
			b.WriteString(g.word())
		}
	}
	return b.String()
}

// typed returns a value of a typed key: usually a literal, sometimes an
// %(ENV_X)s reference as the whole value.
func (g *gen) typed(good, bad []string, envOK ...string) string {
	if len(envOK) > 0 && g.chance(0.05) {
		return "%(ENV_" + envOK[g.r.IntN(len(envOK))] + ")s"
	}
	if g.chance(g.unset) {
		return g.pick("%(ENV_ORACLE_UNSET)s", "%(ENV_TYPED)s")
	}
	return g.val(good, bad)
}

func (g *gen) defaults() sect {
	s := sect{header: "DEFAULT"}
	n := 1 + g.r.IntN(3)
	for range n {
		switch g.r.IntN(9) {
		case 0:
			s.entries = append(s.entries, entry{"startsecs", g.val([]string{"0", "3"}, intBad)})
		case 1:
			s.entries = append(s.entries, entry{"autostart", g.val(boolGood, boolBad)})
		case 2:
			s.entries = append(s.entries, entry{"priority", g.pick("5", "100", "%(ENV_ORACLE_PRIO)s")})
		case 3:
			s.entries = append(s.entries, entry{"umask", g.val([]string{"022", "002"}, octBad)})
		case 4:
			s.entries = append(s.entries, entry{"environment", g.pick("DEF=1", "DEF=%(here)s", "DEF=\"a b\"")})
		case 5:
			s.entries = append(s.entries, entry{"directory", g.pick("/tmp", "%(here)s", "/")})
		case 6:
			s.entries = append(s.entries, entry{g.pick("retries", "Ключ", "İx", "ΑΣ"), g.pick("3", "x", "%(ENV_ORACLE_GREETING)s")})
		case 7:
			s.entries = append(s.entries, entry{"stopsignal", g.val(sigGood, sigBad)})
		default:
			s.entries = append(s.entries, entry{"command", "/bin/echo default"})
		}
	}
	return s
}

func (g *gen) supervisord() sect {
	s := sect{header: "supervisord"}
	add := func(k, v string) { s.entries = append(s.entries, entry{k, v}) }
	if g.chance(0.3) {
		add("logfile", g.val([]string{"%(here)s/sup.log", "sup.log", "/tmp/sup-%(ENV_ORACLE_GREETING)s.log", "syslog", "logs/x.log", "%(here)s/../up.log", "./logs/../s.log", "%(here)s/./x.log"}, []string{"/nonexistent/x.log", "~/x.log", "%(ENV_HOME)s/x.log"}))
	}
	if g.chance(0.15) {
		add("logfile_maxbytes", g.typed(sizeGood, sizeBad, "ORACLE_PRIO"))
	}
	if g.chance(0.15) {
		add("logfile_backups", g.typed(intGood, intBad, "ORACLE_PRIO"))
	}
	if g.chance(0.2) {
		add("loglevel", g.typed(levGood, levBad))
	}
	if g.chance(0.2) {
		add("pidfile", g.val([]string{"%(here)s/sup.pid", "sup.pid", "/tmp/s.pid", "logs/s.pid"}, []string{"/nonexistent/s.pid"}))
	}
	if g.chance(0.15) {
		add("umask", g.typed(octGood, octBad))
	}
	for _, k := range []string{"nodaemon", "silent", "nocleanup", "strip_ansi"} {
		if g.chance(0.1) {
			add(k, g.typed(boolGood, boolBad))
		}
	}
	if g.chance(0.1) {
		add("minfds", g.typed(intGood, intBad, "ORACLE_PRIO"))
	}
	if g.chance(0.1) {
		add("minprocs", g.typed(intGood, intBad))
	}
	if g.chance(0.15) {
		add("childlogdir", g.val([]string{"/tmp", "%(here)s", "/", "."}, []string{"/nonexistent", "~"}))
	}
	if g.chance(0.15) {
		add("user", g.val(userGood, userBad))
	}
	if g.chance(0.15) {
		add("directory", g.val([]string{"/tmp", "%(here)s", "/", "/tmp/.."}, []string{"/nonexistent", "~", "%(ENV_HOME)s/.."}))
	}
	if g.chance(0.15) {
		add("identifier", g.str(cHere, nil))
	}
	if g.chance(0.3) {
		env := g.environment(true, cHere)
		for _, k := range []string{"K1", "K2", "A_B", "LANG", "PATH"} {
			if strings.Contains(env, k+"=") && !strings.Contains(env, "#") {
				g.supEnv = append(g.supEnv, k)
			}
		}
		add("environment", env)
	}
	if g.chance(0.05) {
		add(g.pick("profile_options", "unknown_key", "Logfile"), "x")
	}
	return s
}

// environment returns an environment= value. sup: [supervisord]'s, which
// is expanded twice.
func (g *gen) environment(sup bool, c ictx) string {
	n := 1 + g.r.IntN(4)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(g.pick(",", ",", ", ", ";", "|", ",\n  ", " ,", ",\t"))
		}
		key := g.pick("K1", "K2", "PATH", "LANG", "A_B", "x.y", "K-3", "HOME", "k1")
		if g.chance(g.bad) {
			key = g.pick("é", "a b", "", "\"Q\"")
		}
		b.WriteString(key)
		b.WriteString(g.pick("=", "=", " = "))
		var v string
		switch g.r.IntN(14) {
		case 0:
			v = "/opt/bin:/usr/bin:/bin"
		case 1:
			v = `"has space, and comma"`
		case 2:
			v = `'single'`
		case 3:
			v = `""`
		case 4:
			v = `"` + g.interp(c, nil) + `"`
		case 5:
			v = g.interp(c, nil)
		case 6:
			v = `'say "hi"'`
		case 7:
			v = `"日本"`
		case 8:
			if sup {
				v = g.pick("%%%%", "a%%%%b", "%%(host_node_name)s", "%%(ENV_HOME)s")
			} else {
				v = g.pick("%%", "%(program_name)s", "\"100%%\"")
			}
		case 9:
			v = g.pick("1+2", "a.b", "(x)", "a:b", "-v")
		case 10:
			if g.chance(0.3) {
				v = g.pick("keep#dropped", "x y", "a*b", "~/x", "a'b", "é")
			} else {
				v = "plain"
			}
		default:
			v = g.pick("1", "abc", "value", "0")
		}
		b.WriteString(v)
	}
	if g.chance(0.1) {
		b.WriteString(",")
	}
	return b.String()
}

func (g *gen) progName() string {
	name := g.pick("web", "worker", "app_1", "x", "cron", "db", "web", "Ünï", "日本", "a.b", "a-b", "w2", "Web")
	if g.chance(0.02) {
		name = g.pick("", " padded ", "\tt")
	}
	if g.chance(g.bad) {
		name = g.pick("foo bar", "a:b", "a/b")
	}
	return name
}

// program returns a [program:x], [eventlistener:x] or [fcgi-program:x].
func (g *gen) program(kind string) sect {
	name := g.progName()
	s := sect{header: kind + ":" + name}
	switch kind {
	case "program":
		g.progs = append(g.progs, strings.TrimSpace(name))
	case "fcgi-program":
		g.fcgis = append(g.fcgis, strings.TrimSpace(name))
	}
	add := func(k, v string) { s.entries = append(s.entries, entry{k, v}) }

	// the program's own environment names, usable as %(ENV_K)s in command etc.
	var own []string
	var envValue string
	if g.chance(0.35) {
		envValue = g.environment(false, cEnviron)
		for _, k := range []string{"K1", "K2", "A_B", "LANG", "PATH"} {
			if strings.Contains(envValue, k+"=") && !strings.Contains(envValue, "#") {
				own = append(own, k)
			}
		}
	}

	numprocs := 1
	if g.chance(0.25) {
		np := g.pick("2", "3", "0", "1", "-1", "2")
		fmt.Sscan(np, &numprocs)
		add("numprocs", np)
	}
	if g.chance(0.15) {
		add("numprocs_start", g.typed([]string{"0", "1", "5", "-1", "٣"}, intBad))
	}
	if numprocs > 1 || g.chance(0.15) {
		pn := g.pick("%(program_name)s_%(process_num)02d", "%(process_num)d-x", "p%(process_num)s", "%(program_name)s-%(process_num)d-%(group_name)s", "%(process_num)s%(ENV_ORACLE_GREETING)s")
		if numprocs <= 1 {
			pn = g.pick(pn, "%(program_name)s", "renamed", "%(program_name)s-%(host_node_name)s", "ünï")
		}
		if g.chance(g.bad) {
			pn = g.pick("a b", "a:b", "a/b", "%(program_name)s", "%(process_num")
		}
		add("process_name", pn)
	}

	add("command", g.command(own))

	if g.chance(0.3) {
		add("priority", g.typed(append([]string{"1", "5", "100", "-1", "999", "%(ENV_ORACLE_PRIO)s"}, intGood...), intBad, "ORACLE_PRIO"))
	}
	if g.chance(0.15) {
		add("autostart", g.typed(boolGood, boolBad))
	}
	if g.chance(0.15) {
		add("autorestart", g.typed(autoGood, autoBad))
	}
	if g.chance(0.15) {
		add("startsecs", g.typed(intGood, intBad, "ORACLE_PRIO"))
	}
	if g.chance(0.1) {
		add("startretries", g.typed(intGood, intBad))
	}
	if g.chance(0.2) {
		add("exitcodes", g.typed(exitGood, exitBad))
	}
	if g.chance(0.2) {
		add("stopsignal", g.typed(sigGood, sigBad))
	}
	if g.chance(0.1) {
		add("stopwaitsecs", g.typed(intGood, intBad))
	}
	stopas := false
	if g.chance(0.1) {
		v := g.typed(boolGood, boolBad)
		stopas = v == "true" || v == "yes" || v == "on" || v == "1" || v == "TRUE" || v == "YES" || v == "tRuE"
		add("stopasgroup", v)
	}
	if g.chance(0.1) {
		v := g.typed(boolGood, boolBad)
		if stopas && g.bad == 0 {
			v = "true"
		}
		add("killasgroup", v)
	}
	if g.chance(0.15) {
		add("user", g.val(userGood, userBad))
	}
	if g.chance(0.15) {
		add("directory", g.val([]string{"/tmp", "%(here)s", g.str(cProc, own), "/nonexistent", "~/x", "\"/tmp\""}, nil))
	}
	if g.chance(0.1) {
		add("umask", g.typed(octGood, octBad))
	}
	redirect := false
	if g.chance(0.15) {
		v := g.val([]string{"true", "false", "yes"}, boolBad)
		if kind == "eventlistener" && g.bad == 0 {
			v = "false"
		}
		redirect = v != "false"
		add("redirect_stderr", v)
	}
	_ = redirect
	for _, ch := range []string{"stdout", "stderr"} {
		if g.chance(0.2) {
			add(ch+"_logfile", g.logfile(own))
		}
		if g.chance(0.08) {
			add(ch+"_logfile_maxbytes", g.typed(sizeGood, sizeBad))
		}
		if g.chance(0.08) {
			add(ch+"_logfile_backups", g.typed(intGood, intBad))
		}
		if g.chance(0.06) {
			add(ch+"_capture_maxbytes", g.typed(sizeGood, sizeBad))
		}
		if g.chance(0.06) {
			add(ch+"_events_enabled", g.typed(boolGood, boolBad))
		}
		if g.chance(0.06) {
			add(ch+"_syslog", g.typed(boolGood, boolBad))
		}
	}
	if envValue != "" {
		add("environment", envValue)
	}
	if g.chance(0.1) {
		add("serverurl", g.pick("AUTO", "auto", " AuTo", "unix:///tmp/x.sock", "http://localhost:9001", "%(here)s/s", "unix://%(program_name)s"))
	}
	if g.chance(0.05) {
		add(g.pick("unknown", "startsec", "Command2", "ключ"), g.word())
	}
	switch kind {
	case "eventlistener":
		ev := []string{"proceß_state", "PROCESS_STATE", "TICK_60", "process_state_exited", "PROCESS_COMMUNICATION", "SUPERVISOR_STATE_CHANGE", "EVENT", "TICK_5", "PROCESS_LOG_STDOUT", "tick_3600", "REMOTE_COMMUNICATION", "PROCESS_GROUP_ADDED", "PROCESS_STATE_FATAL"}
		n := 1 + g.r.IntN(3)
		var evs []string
		for range n {
			evs = append(evs, ev[g.r.IntN(len(ev))])
		}
		if g.chance(g.bad) {
			evs = append(evs, g.pick("FOO", "", "tick"))
		}
		if !g.chance(g.bad) {
			add("events", strings.Join(evs, g.pick(",", ", ", " ,", ",\n   ")))
		}
		if g.chance(0.3) {
			add("buffer_size", g.typed([]string{"1", "10", "100", "+3"}, []string{"0", "-1", "x"}))
		}
		if g.chance(0.1) {
			add("result_handler", g.val([]string{"supervisor.dispatchers:default_handler", "supervisor.dispatchers:reject_event"}, []string{"nosuch.module:x", "supervisor.dispatchers:nosuch", "not a spec"}))
		}
	case "fcgi-program":
		g.sockets++
		var sock string
		switch g.r.IntN(5) {
		case 0, 1:
			sock = fmt.Sprintf("unix:///tmp/rand-%%(program_name)s-%d.sock", g.sockets)
		case 2:
			sock = "unix://%(here)s/fcgi.sock"
		case 3:
			sock = g.pick("tcp://İ:9013", "tcp://ΣΑΣ:9014", "tcp://LocalHost:9009", "tcp://127.0.0.1:%(ENV_ORACLE_PRIO)s", "tcp://*:9010", "tcp://localhost:9011")
		default:
			sock = g.val([]string{"tcp://localhost:9012"}, []string{"unix://rel.sock", "udp://h:1", "tcp://h", "tcp://h:99999", "unix:///tmp/%(process_num)d.sock"})
		}
		if g.chance(g.unset) {
			sock = "tcp://localhost:%(ENV_FCGI_PORT)s"
		}
		if g.chance(g.bad) {
			sock = ""
		} else {
			add("socket", sock)
		}
		unix := strings.HasPrefix(sock, "unix:")
		if g.chance(0.3) && (unix || g.chance(g.bad)) {
			add("socket_mode", g.val([]string{"0660", "0700", "777", "0o600"}, octBad))
		}
		if g.chance(0.3) && (unix || g.chance(g.bad)) {
			add("socket_owner", g.val([]string{"nobody", "nobody:nogroup", "0:0", "root", "65534:65534"}, []string{"nosuchuser", "nobody:nosuchgroup", ":"}))
		}
		if g.chance(0.3) {
			add("user", g.val([]string{"nobody", "root", "0", "www-data"}, userBad))
		}
		if g.chance(0.2) {
			add("socket_backlog", g.val([]string{"1", "64", "65535", "+5"}, []string{"0", "65536", "x"}))
		}
	}
	g.r.Shuffle(len(s.entries), func(i, j int) { s.entries[i], s.entries[j] = s.entries[j], s.entries[i] })
	// a repeated key: only the last counts
	if len(s.entries) > 0 && g.chance(0.1) {
		e := s.entries[g.r.IntN(len(s.entries))]
		decoy := entry{strings.ToUpper(e.key), g.pick("decoy", "%", "1", "true")}
		s.entries = append([]entry{decoy}, s.entries...)
	}
	return s
}

func (g *gen) command(own []string) string {
	var cmd string
	switch g.r.IntN(18) {
	case 0:
		cmd = "/bin/echo " + g.str(cProc, own)
	case 1:
		cmd = "sleep 10"
	case 2:
		cmd = `echo "a b" 'c d'`
	case 3:
		cmd = "cat"
	case 4:
		cmd = g.pick("./run.sh", "./notexec", "run.sh", "./missing")
	case 5:
		cmd = g.pick("nonexistent-cmd", "/bin", "/etc/passwd", "/usr/bin/env x")
	case 6:
		cmd = g.pick(`sh -c 'echo a;b'`, `sh -c "echo a ;echo b"`, `sh -c "x"`, `echo 'unbalanced`)
	case 7:
		cmd = "/bin/echo\n  multi\n\n  line"
	case 8:
		cmd = g.pick("echo héllo 日本", "echo \"ünï\"", "/bin/echo a\\ b")
	case 9:
		cmd = g.pick("date +%%s", "echo 100%%", "echo %(program_name)s-%(process_num)d")
	case 10:
		cmd = "/bin/echo " + g.interp(cProc, own)
	case 11:
		cmd = g.pick("/bin/echo one;two", "/bin/echo a#b", "echo x;y #z ;w", "/bin/echo a#b #c ;d")
	case 12:
		cmd = g.pick("", " ", "''")
	case 13:
		cmd = "%(ENV_HOME)s/bin/x --flag"
	case 14:
		cmd = g.pick("env", "true", "python3 -c 'print(1)'", "/usr/bin/python3")
	default:
		cmd = g.pick("/bin/cat", "/bin/sleep 1", "/bin/true", "echo hi")
	}
	if g.chance(0.03) {
		cmd = "echo %s"
	}
	return cmd
}

func (g *gen) logfile(own []string) string {
	good := []string{"AUTO", "auto", "NONE", "none", "off", "OFF", "syslog", "Syslog",
		"%(here)s/%(program_name)s.log", "x.log", "/tmp/%(program_name)s-%(process_num)d.log",
		"/tmp/a%%%%b.log", "%%(here)s/dbl.log", "logs/%(program_name)s.log", "/tmp/" + g.str(cProc, own) + ".log",
		"%(here)s/../up.log", "/tmp//double.log", "/tmp/./dot.log"}
	bad := []string{"/nonexistent/x.log", "~/x.log", "/tmp/a%%b.log", "/tmp/%%(nosuch)s.log"}
	return g.val(good, bad)
}

func (g *gen) group() sect {
	name := g.pick("grp", "g2", "Grp", "日本g", "web")
	if g.chance(g.bad) {
		name = g.pick("a b", "a:b")
	}
	s := sect{header: "group:" + name}
	names := append(append([]string(nil), g.progs...), g.fcgis...)
	var list []string
	n := g.r.IntN(4)
	for range n {
		if len(names) > 0 && !g.chance(g.bad) {
			list = append(list, names[g.r.IntN(len(names))])
		} else {
			list = append(list, g.pick("unknown", ""))
		}
	}
	if n > 0 || g.chance(0.7) {
		s.entries = append(s.entries, entry{"programs", strings.Join(list, g.pick(",", ", ", " , ", ",\n  "))})
	}
	if g.chance(0.4) {
		s.entries = append(s.entries, entry{"priority", g.typed([]string{"1", "500", "-2", "999"}, intBad, "ORACLE_PRIO")})
	}
	return s
}

func (g *gen) unixServer(name string) sect {
	h := "unix_http_server"
	if name != "" {
		h += ":" + name
	}
	s := sect{header: h}
	if !g.chance(g.bad) {
		s.entries = append(s.entries, entry{"file", g.pick("/tmp/rand.sock", "%(here)s/s.sock", "sup.sock", "~/s.sock", "/tmp/%(ENV_ORACLE_GREETING)s.sock", " /tmp/padded.sock")})
	}
	if g.chance(0.3) {
		s.entries = append(s.entries, entry{"chmod", g.typed([]string{"0700", "0770", "777", "0o660"}, octBad)})
	}
	if g.chance(0.3) {
		s.entries = append(s.entries, entry{"chown", g.val([]string{"nobody", "nobody:nogroup", "0:0", "root:root", "65534"}, []string{"nosuchuser", "nobody:nosuch"})})
	}
	g.auth(&s)
	return s
}

func (g *gen) inetServer(name string) sect {
	h := "inet_http_server"
	if name != "" {
		h += ":" + name
	}
	s := sect{header: h}
	if !g.chance(g.bad) {
		s.entries = append(s.entries, entry{"port", g.typed([]string{"9001", "*:9001", "LocalHost:9002", ":9003", "127.0.0.1:9004", "[::1]:9005", "localhost:%(ENV_ORACLE_PRIO)s", "İ:9006", "ΣΑΣ:9007", " 9008", "*:9009 "}, []string{"70000", "x", "localhost:", "0"})})
	}
	g.auth(&s)
	return s
}

func (g *gen) auth(s *sect) {
	if g.chance(0.3) {
		s.entries = append(s.entries, entry{"username", g.pick("admin", "%(ENV_ORACLE_GREETING)s", "ünï")})
		if !g.chance(g.bad) {
			s.entries = append(s.entries, entry{"password", g.pick("secret", "{SHA}a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "p%%w")})
		}
	}
}

func (g *gen) rpcinterface() sect {
	s := sect{header: "rpcinterface:" + g.pick("supervisor", "supervisor", "other")}
	if !g.chance(g.bad) {
		s.entries = append(s.entries, entry{"supervisor.rpcinterface_factory", g.val([]string{"supervisor.rpcinterface:make_main_rpcinterface"}, []string{"nosuch:x", "supervisor.rpcinterface:nosuch"})})
	}
	if g.chance(0.4) {
		s.entries = append(s.entries, entry{g.pick("retries", "Timeout", "ΑΣ", "İd", "key.with.dots"), g.pick("3", "x", "%(ENV_ORACLE_GREETING)s", "a b")})
	}
	return s
}

func (g *gen) supervisorctl() sect {
	s := sect{header: "supervisorctl"}
	if g.chance(0.6) {
		s.entries = append(s.entries, entry{"serverurl", g.pick("unix:///tmp/rand.sock", "unix://%(here)s/s.sock", "unix://rel.sock", "http://localhost:9001", "http://127.0.0.1:%(ENV_ORACLE_PRIO)s")})
	}
	if g.chance(0.3) {
		s.entries = append(s.entries, entry{"username", g.pick("admin", "%(ENV_ORACLE_GREETING)s")})
	}
	if g.chance(0.2) {
		s.entries = append(s.entries, entry{"password", g.pick("pw", "%%x")})
	}
	if g.chance(0.3) {
		s.entries = append(s.entries, entry{"prompt", g.pick("mysup", "日本", "%(ENV_ORACLE_GREETING)s")})
	}
	if g.chance(0.3) {
		s.entries = append(s.entries, entry{"history_file", g.pick("~/.hist", "%(here)s/hist", "hist", "/tmp/../tmp/h")})
	}
	return s
}

func (g *gen) unknownSection() sect {
	h := g.pick("Program:ignored", "foo", "programs", "eventlistener", "unix_http_serverX", "inet_http_server_x", "ctlplugin:x", "supervisord ", "group", "include_x")
	return sect{header: h, entries: []entry{{g.pick("command", "port", "file"), g.pick("/bin/true", "9100", "/tmp/u.sock")}}}
}

// render writes sections as ini text with random but (mostly)
// meaning-preserving syntax: key case, delimiters, indentation,
// continuation lines, comments, line endings.
func (g *gen) render(sects []sect) string {
	var lines []string
	if g.chance(0.3) {
		lines = append(lines, g.pick("; random config", "# generated", "  ; indented comment"))
	}
	keyIndent := ""
	for si, s := range sects {
		if si > 0 || g.chance(0.2) {
			for range g.r.IntN(3) {
				lines = append(lines, g.pick("", "", "; between", "#x", "   "))
			}
		}
		hdr := "[" + s.header + "]"
		if g.chance(0.1) {
			hdr += g.pick(" ; comment", "\t# c", " junk", "  ", "]", " [x]")
		}
		if keyIndent != "" && g.chance(0.5) {
			hdr = keyIndent + hdr // not deeper than the last key: still a header
		}
		lines = append(lines, hdr)
		keyIndent = ""
		if g.chance(0.08) {
			keyIndent = g.pick(" ", "\t", "  ")
		}
		for ei, e := range s.entries {
			if g.chance(0.1) {
				lines = append(lines, g.pick("; note", "# note", keyIndent+";x", ""))
			}
			key := e.key
			switch g.r.IntN(12) {
			case 0:
				key = strings.ToUpper(key)
			case 1:
				if key != "" {
					key = strings.ToUpper(key[:1]) + key[1:]
				}
			}
			delim := g.pick("=", "=", "=", " = ", ":", " : ", "= ", "\t=\t", " =")
			ind := keyIndent
			if ei > 0 && g.chance(g.chaos) {
				ind += g.pick(" ", "\t") // swallowed into the previous value
			}
			vlines := strings.Split(e.value, "\n")
			first := ind + key + delim + vlines[0]
			if len(vlines) == 1 && g.chance(0.1) {
				first += g.pick(" ; comment", "\t# comment", "  ;", " #x;y", " ;a #b")
			}
			if g.chance(g.chaos) {
				first += g.pick(";glued", "#glued", " \u00a0;nbsp", "\u3000#ideo", "\x1f;us", "\x0c", "\u00a0", "\u2028", "\x85", "\u0085", "\v", "\x1c", "\U0001f6dc")
			}
			lines = append(lines, first)
			for _, vl := range vlines[1:] {
				if g.chance(0.15) {
					lines = append(lines, g.pick("", "; inside", ind+"  # inside", "\t"))
				}
				lines = append(lines, ind+g.pick("  ", "\t", "    ", " \t")+strings.TrimLeft(vl, " \t"))
			}
		}
	}
	if g.chance(g.chaos) {
		lines = append(lines, g.pick("novalue", "=5", "  [program:swallowed]", "\ufeff", "[]"))
	}
	eol := "\n"
	switch k := g.r.IntN(20); {
	case k < 3:
		eol = "\r\n"
	case k == 3:
		eol = "\r"
	}
	text := strings.Join(lines, eol)
	if !g.chance(0.1) {
		text += eol
	}
	if g.chance(0.02) {
		text = "\ufeff" + text
	}
	return text
}

// mutate returns a real-world config with a few line-level accidents.
func (g *gen) mutate(seed int64, text string) *randomCase {
	g.bad = 0.05
	g.unset = 0.05
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	n := 1 + g.r.IntN(4)
	for range n {
		if len(lines) == 0 {
			break
		}
		i := g.r.IntN(len(lines))
		ln := lines[i]
		key, value, isKV := strings.Cut(ln, "=")
		isKV = isKV && !strings.HasPrefix(strings.TrimSpace(ln), ";") && !strings.HasPrefix(strings.TrimSpace(ln), "#") && !strings.HasPrefix(strings.TrimSpace(ln), "[")
		switch g.r.IntN(12) {
		case 0:
			lines[i] = g.pick(" ", "\t") + ln
		case 1:
			lines = append(lines[:i], append([]string{g.pick("; inserted", "", "  # x", "\t")}, lines[i:]...)...)
		case 2:
			if ln != "" {
				lines[i] = ln + g.pick(" ; c", "\t#c", ";glued", " #x ;y")
			}
		case 3:
			if isKV {
				lines[i] = strings.ToUpper(key) + "=" + value
			}
		case 4:
			if isKV {
				lines[i] = key + g.pick(":", " : ", " = ") + value
			}
		case 5:
			lines = append(lines[:i], append([]string{ln}, lines[i:]...)...)
		case 6:
			lines = append(lines[:i], lines[i+1:]...)
		case 7:
			if isKV {
				k := strings.ToLower(strings.TrimSpace(key))
				var v string
				switch {
				case strings.Contains(k, "priority") || strings.Contains(k, "secs") || strings.Contains(k, "numprocs") || strings.Contains(k, "retries") || strings.Contains(k, "backups"):
					v = g.typed(intGood, intBad, "ORACLE_PRIO")
				case strings.HasPrefix(k, "auto") && k != "autorestart" || strings.Contains(k, "asgroup") || strings.Contains(k, "redirect") || strings.Contains(k, "enabled") || strings.Contains(k, "syslog") || k == "nodaemon":
					v = g.typed(boolGood, boolBad)
				case k == "autorestart":
					v = g.typed(autoGood, autoBad)
				case strings.Contains(k, "maxbytes"):
					v = g.typed(sizeGood, sizeBad)
				case strings.Contains(k, "signal"):
					v = g.typed(sigGood, sigBad)
				case k == "umask":
					v = g.typed(octGood, octBad)
				case k == "exitcodes":
					v = g.typed(exitGood, exitBad)
				case k == "user":
					v = g.val(userGood, userBad)
				case k == "environment":
					v = g.environment(false, cEnviron)
				case strings.HasSuffix(k, "logfile"):
					v = g.logfile(nil)
				default:
					v = value + g.interp(cSection, nil)
				}
				lines[i] = key + "=" + v
			}
		case 8:
			if isKV {
				lines[i] = key + "=" + value + "\n" + g.pick("  ", "\t") + g.word()
			}
		case 9:
			lines = append(lines[:i], append([]string{g.pick("[program:mut]", "command=/bin/echo %(program_name)s", "[DEFAULT]", "[supervisord]", "numprocs=2", "process_name=%(program_name)s_%(process_num)d")}, lines[i:]...)...)
		default:
			if isKV && strings.Contains(value, "%(") {
				lines[i] = key + "=" + strings.Replace(value, "%(", "%%(", 1)
			}
		}
	}
	eol := "\n"
	if g.chance(0.1) {
		eol = "\r\n"
	}
	c := &randomCase{seed: seed, files: map[string]string{}}
	c.main = g.pick("supervisord.conf", "snippet.conf")
	c.files[c.main] = strings.Join(lines, eol)
	return c
}

// focused returns a small config that hammers one converter with random
// strings: %-formatting, environment= tokens, shlex.split of command,
// number spellings, ini syntax, include patterns.
func (g *gen) focused(seed int64) *randomCase {
	c := &randomCase{seed: seed, main: "supervisord.conf", files: map[string]string{}}
	rs := func(alpha []string, max int) string {
		var b strings.Builder
		for range 1 + g.r.IntN(max) {
			b.WriteString(alpha[g.r.IntN(len(alpha))])
		}
		return b.String()
	}
	head := "[supervisord]\n\n[program:p]\n"
	switch g.r.IntN(10) {
	case 9: // servers and [supervisorctl]
		var b strings.Builder
		b.WriteString("[supervisord]\n")
		for range g.r.IntN(4) {
			if g.chance(0.5) {
				fmt.Fprintf(&b, "\n[unix_http_server%s]\nfile=%s\n", g.pick("", "", ":a", ":b c", "x", ":"), g.pick("/tmp/s.sock", "s.sock", "./x/../s.sock", "~/s.sock", "%(here)s/s.sock", "/tmp//s.sock", " /tmp/s.sock ", "unix:///tmp/s.sock"))
				if g.chance(0.4) {
					fmt.Fprintf(&b, "chmod=%s\n", g.pick("0700", "777", "0o7", "9", "-1", "+7", "0_7"))
				}
				if g.chance(0.4) {
					fmt.Fprintf(&b, "chown=%s\n", g.pick("nobody", "nobody:nogroup", "0:0", "root:", ":root", "nobody:0", "65534:65534", "nosuch", "nobody:nosuch", "1:2:3", ""))
				}
			} else {
				fmt.Fprintf(&b, "\n[inet_http_server%s]\nport=%s\n", g.pick("", "", ":a", ":b", "x"), g.pick("9001", "*:9001", ":9002", "LocalHost:9003", "[::1]:9004", "::1:9005", "a:b:9006", "9007 ", "0", "65535", "65536", "localhost", "host:", "1.2.3.4:0x10", "١٢:80", "h:+80", "h: 80"))
			}
			if g.chance(0.3) {
				fmt.Fprintf(&b, "username=%s\n", g.pick("u", "", "%(ENV_ORACLE_GREETING)s"))
			}
			if g.chance(0.3) {
				fmt.Fprintf(&b, "password=%s\n", g.pick("p", "", "{SHA}x"))
			}
		}
		if g.chance(0.7) {
			b.WriteString("\n[supervisorctl]\n")
			for _, k := range []string{"serverurl", "username", "password", "prompt", "history_file"} {
				if g.chance(0.4) {
					fmt.Fprintf(&b, "%s=%s\n", k, g.pick("unix:///tmp/s.sock", "unix://s.sock", "unix://~/s.sock", "http://localhost:9001", "http://h", "foo", "", "%(here)s/x", "%(ENV_ORACLE_GREETING)s", "~/h", "unix://%(here)s/../s.sock", "%%x", "%(ENV_NOPE)s", "unix:/tmp/x", "UNIX:///tmp/x", "https://h:1/p"))
				}
			}
		}
		if g.chance(0.2) {
			b.WriteString("\n[include]\nfiles=conf.d/*.conf\n")
			c.files["conf.d/ctl.conf"] = "[supervisorctl]\nprompt=inc\n[unix_http_server]\nfile=%(here)s/inc.sock\n"
		}
		c.files[c.main] = b.String()
	case 7: // lenient placeholders: unset names in typed keys, shared between keys
		names := []string{"P1", "P2", "P3"}
		keys := []string{"priority", "autostart", "autorestart", "startsecs", "startretries", "stopsignal", "stopwaitsecs", "stopasgroup", "killasgroup", "exitcodes", "redirect_stderr", "numprocs", "numprocs_start", "umask", "stdout_logfile_maxbytes", "stderr_logfile_backups", "stdout_capture_maxbytes", "stdout_events_enabled", "stderr_syslog", "directory", "command", "environment", "stdout_logfile", "user", "serverurl", "process_name"}
		var b strings.Builder
		b.WriteString("[supervisord]\n")
		for _, k := range []string{"minfds", "minprocs", "umask", "logfile_maxbytes", "logfile_backups", "loglevel", "nodaemon", "silent", "nocleanup", "strip_ansi", "identifier", "user", "environment", "logfile", "childlogdir"} {
			if g.chance(0.15) {
				fmt.Fprintf(&b, "%s=%%(ENV_%s)s\n", k, names[g.r.IntN(len(names))])
			}
		}
		kind := g.pick("program", "eventlistener", "fcgi-program")
		fmt.Fprintf(&b, "\n[%s:p]\ncommand=/bin/echo x\n", kind)
		if kind == "eventlistener" {
			b.WriteString(g.pick("events=TICK_60\n", "events=%(ENV_P1)s\n"))
			if g.chance(0.5) {
				b.WriteString("buffer_size=%(ENV_P2)s\n")
			}
		}
		if kind == "fcgi-program" {
			b.WriteString(g.pick("socket=tcp://localhost:%(ENV_P3)s\n", "socket=unix:///tmp/%(ENV_P1)s.sock\nsocket_mode=%(ENV_P2)s\n", "socket=tcp://%(ENV_P1)s:%(ENV_P1)s\nsocket_backlog=%(ENV_P2)s\n"))
		}
		for range 1 + g.r.IntN(4) {
			k := keys[g.r.IntN(len(keys))]
			v := "%(ENV_" + names[g.r.IntN(len(names))] + ")s"
			switch {
			case g.chance(0.1):
				v = "1" + v
			case g.chance(0.1) && k != "environment":
				v = "%" + v
			case k == "environment":
				v = g.pick("A=", "A=\"", "A=x,B=") + v + g.pick("", "\"", ",C=1")
			case k == "process_name":
				v = v + "%(process_num)d"
			}
			fmt.Fprintf(&b, "%s=%s\n", k, v)
		}
		if g.chance(0.3) {
			fmt.Fprintf(&b, "\n[%s]\n%s=%s\n", g.pick("inet_http_server", "unix_http_server", "group:g", "DEFAULT", "supervisorctl"),
				g.pick("port", "file", "chmod", "priority", "programs", "serverurl", "startsecs", "username"),
				g.pick("%(ENV_P1)s", "*:%(ENV_P2)s", "localhost:%(ENV_P3)s", "p,%(ENV_P1)s", "%%(ENV_P2)s"))
		}
		c.files[c.main] = b.String()
		if g.chance(0.2) {
			c.main = "snippet.conf"
			c.files[c.main] = strings.Replace(b.String(), "[supervisord]\n", "", 1)
			delete(c.files, "supervisord.conf")
		}
	case 8: // groups
		var b strings.Builder
		b.WriteString("[supervisord]\n")
		progs := []string{"a", "b", "c", "日本", "Z"}
		for _, p := range progs {
			if g.chance(0.7) {
				kind := g.pick("program", "program", "fcgi-program")
				fmt.Fprintf(&b, "\n[%s:%s]\ncommand=/bin/echo %%(program_name)s %%(group_name)s\npriority=%s\n", kind, p, g.pick("1", "5", "999", "5"))
				if kind == "fcgi-program" {
					fmt.Fprintf(&b, "socket=unix:///tmp/g-%%(program_name)s.sock\n")
				}
				if g.chance(0.3) {
					b.WriteString("numprocs=2\nprocess_name=%(group_name)s-%(process_num)d\n")
				}
			}
		}
		for range 1 + g.r.IntN(3) {
			var list []string
			for range g.r.IntN(4) {
				list = append(list, g.pick(append(progs, "", " a ", "nosuch")...))
			}
			fmt.Fprintf(&b, "\n[group:%s]\nprograms=%s\n", g.pick("g1", "g2", "a", "Ω", "g1"), strings.Join(list, g.pick(",", ", ")))
			if g.chance(0.5) {
				fmt.Fprintf(&b, "priority=%s\n", g.pick("1", "5", "-1", "999"))
			}
		}
		if g.chance(0.3) {
			b.WriteString("\n[eventlistener:a]\ncommand=/bin/cat\nevents=TICK_5\n")
		}
		c.files[c.main] = b.String()
	case 0: // Python %-formatting
		alpha := []string{"%", "%", "%", "(", ")", "process_num", "numprocs", "program_name", "here", "ENV_ORACLE_PRIO", "ENV_HOME", "group_name",
			"#", "0", "-", " ", "+", "5", "12", ".", "*", "d", "i", "o", "u", "x", "X", "e", "E", "f", "F", "g", "G", "c", "r", "s", "a", "l", "h", "L", "b", "z", "é", "x", "%(", ")s", ")d"}
		f := rs(alpha, 8)
		np := g.pick("1", "2", "3")
		c.files[c.main] = head + "numprocs=" + np + "\nprocess_name=%(program_name)s_%(process_num)d\nnumprocs_start=" + g.pick("0", "7", "-2", "99", "1114111", "55296") + "\ncommand=/bin/echo " + f + "\n"
	case 1: // environment= tokens
		alpha := []string{"A", "B", "=", "=", ",", ",", ";", " ", "\t", "\"", "'", "#", "x", "1", ".", "/", ":", "-", "(", ")", "+", "é", "$", "~", "\n  ", "\\", "*", "!", "日", "\u00a0", "_"}
		e := rs(alpha, 16)
		where := g.pick("program", "supervisord")
		if where == "supervisord" {
			c.files[c.main] = "[supervisord]\nenvironment=" + strings.ReplaceAll(e, "%", "%%") + "\n\n[program:p]\ncommand=env\n"
		} else {
			c.files[c.main] = head + "command=env\nenvironment=" + e + "\n"
		}
	case 2: // shlex.split of command, then PATH search
		alpha := []string{"echo", "/bin/echo", "a", " ", " ", "\"", "'", "\\", "#", "\n  ", "\t", "é", "\\\"", "''", "\"\"", ";", "|", "x y", "\\\n  ", "sleep", "./run.sh", "~/x", "$HOME"}
		cmd := rs(alpha, 10)
		c.files[c.main] = head + "command=" + cmd + "\n"
		c.files["run.sh"] = "#!/bin/sh\n"
		if g.chance(0.5) {
			c.files[c.main] += "environment=PATH=\"" + g.pick("/nonexistent", "", ".", "/bin:/usr/bin", "relative/dir", "/usr/bin::/bin") + "\"\n"
		}
	case 3: // numbers, sizes, signals, octal, exit codes, booleans
		alpha := []string{"0", "1", "2", "5", "9", "_", "_", "+", "-", " ", "k", "K", "b", "B", "m", "M", "g", "G", "o", "O", "x", "٣", "５", "²", "߀", "𝟘", "١", "\u00a0", ".", ",", "e", "SIG", "TERM", "rt", "min", "MAX", "i", "İ", "\u212a", "ſ", "ß", "true", "on", "unexpected"}
		key := g.pick("startsecs", "priority", "stdout_logfile_maxbytes", "stopsignal", "umask", "exitcodes", "autostart", "autorestart", "numprocs", "stopwaitsecs", "stdout_capture_maxbytes", "startretries")
		if g.chance(0.2) {
			c.files[c.main] = "[supervisord]\n" + g.pick("logfile_maxbytes", "minfds", "umask", "loglevel", "nodaemon", "logfile_backups") + "=" + rs(alpha, 6) + "\n\n[program:p]\ncommand=cat\n"
		} else {
			c.files[c.main] = head + "command=cat\n" + key + "=" + rs(alpha, 6) + "\n"
		}
	case 4: // ini syntax
		alpha := []string{"[", "]", "=", ":", ";", "#", " ", "\t", "\n", "\n", "\n", "\r", "\r\n", "a", "key", "program:p", "command", "supervisord", "DEFAULT", "/bin/echo", "\u00a0", "\x0c", "\x1f", "\x85", "\u2028", "é", "x", "include", "files"}
		c.files[c.main] = g.pick("[supervisord]\n", "", "[supervisord]\n[program:p]\ncommand=cat\n") + rs(alpha, 30)
	case 5: // include patterns
		for _, f := range []string{"conf.d/a.conf", "conf.d/b.ini", "conf.d/.h.conf", "conf.d/[x].conf", "conf.d/sub/c.conf", "conf.d/é.conf", "conf.d/a b.conf", "other/d.conf"} {
			name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
			c.files[f] = "[program:" + strings.NewReplacer(" ", "_", "[", "", "]", "", ".", "").Replace(name) + "]\ncommand=/bin/echo %(here)s\n"
		}
		alpha := []string{"conf.d/", "*", "?", "[", "]", "!", "a", "b", ".", "conf", "ini", "/", " ", "\x1f", "\u00a0", "\u3000", "\n  ", "%(here)s/", "..", "sub", "é", "\\", "**", "other", "[!a]", "[a-c]"}
		c.files[c.main] = "[supervisord]\n\n[include]\nfiles = " + rs(alpha, 10) + "\n"
	default: // %(here)s and friends in every kind of key, with an [include]
		c.sub = g.pick("", "[ab]", "%d", "100%", " sp", "%%", "%(here)s", "%s")
		c.files[c.main] = "[supervisord]\nlogfile=%(here)s/s.log\nchildlogdir=%(here)s\nenvironment=H=\"%(here)s\"\nidentifier=%(here)s\n\n[program:p]\ncommand=/bin/echo %(here)s\nstdout_logfile=%(here)s/o.log\ndirectory=%(here)s\nenvironment=H=\"%(here)s\"\n\n[unix_http_server]\nfile=%(here)s/s.sock\n\n" +
			g.pick("[include]\nfiles=conf.d/*.conf\n", "[include]\nfiles=%(here)s/conf.d/*.conf\n", "")
		c.files["conf.d/x.conf"] = "[program:q]\ncommand=/bin/echo %(here)s\nstderr_logfile=%(here)s/e.log\n"
	}
	return c
}

// unknownEvent matches Supervisor's error for an unknown event type.
var unknownEvent = regexp.MustCompile(`"error": "Unknown event type .* in (\[eventlistener:.*\]) events"`)

// sameUnknownEvent reports whether both documents reject the same
// listener for an unknown event type. Which of several unknown types
// Supervisor names depends on Python's string hashing (it walks a set),
// which changes from run to run, so the names are not compared.
func sameUnknownEvent(want, got string) bool {
	w, g := unknownEvent.FindStringSubmatch(want), unknownEvent.FindStringSubmatch(got)
	return w != nil && g != nil && w[1] == g[1] &&
		unknownEvent.ReplaceAllString(want, "") == unknownEvent.ReplaceAllString(got, "")
}
