package unitgen_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/supersede/supersede/internal/sdtest"
	"github.com/supersede/supersede/internal/testreal"
	"github.com/supersede/supersede/translate"
	"github.com/supersede/supersede/unitgen"
)

// The units generated from every oracle case and every real-world config
// of shared/ must pass systemd-analyze verify without a single complaint,
// in system and in user mode, except that an executable the config names
// may be missing on this host.

// verifyEnv is the environment of shared/oracle/regen-cases.sh, which
// made the oracle goldens of the cases and the corpus.
var verifyEnv = []string{
	"PATH=/usr/local/bin:/usr/bin:/bin",
	"HOME=/home/oracle",
	"LANG=C.UTF-8",
	"ORACLE_GREETING=hello",
	"ORACLE_PRIO=42",
}

// verifyConfig is one configuration to generate units from.
type verifyConfig struct {
	name   string // for messages: cases/NAME.conf, corpus/FILE
	index  int    // its units get the prefix vNNN-, so configs share a verify run
	cfg    *translate.Config
	dir    string // the directory it was loaded from (Supervisor's cwd)
	reason string // why it yields no units, when cfg is nil
}

func (c *verifyConfig) prefix() string { return fmt.Sprintf("v%03d-", c.index) }

// prefixRE finds the config a line of systemd-analyze output is about: a
// unit name or a unit file path starting with the prefix.
var prefixRE = regexp.MustCompile(`(?:^|[\s/'"])v(\d{3})-`)

// notExecRE is systemd-analyze verify's complaint about ExecStart's
// program (src/analyze/analyze-verify-util.c, verify_executable).
var notExecRE = regexp.MustCompile(`^(\S+): Command (.+) is not executable: (.+)$`)

func loadVerifyConfigs(t *testing.T) []*verifyConfig {
	shared := testreal.Shared(t)
	var configs []*verifyConfig
	add := func(name, path, dir string, lenient bool) {
		c := &verifyConfig{name: name, index: len(configs), dir: dir}
		cfg, err := translate.Load(path, translate.Options{Environ: verifyEnv, Dir: dir, Lenient: lenient})
		if err != nil {
			c.reason = fmt.Sprintf("Supervisor rejects it: %v", firstLine(err.Error()))
		} else {
			c.cfg = cfg
		}
		configs = append(configs, c)
	}
	cases := filepath.Join(shared, "oracle", "cases")
	confs, _ := filepath.Glob(filepath.Join(cases, "*.conf"))
	for _, f := range confs {
		add("cases/"+filepath.Base(f), f, cases, strings.HasSuffix(f, ".lenient.conf"))
	}
	corpus := filepath.Join(shared, "corpus", "real")
	entries, err := os.ReadDir(corpus)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if n := e.Name(); e.Type().IsRegular() && (strings.HasSuffix(n, ".conf") || strings.HasSuffix(n, ".ini")) {
			add("corpus/"+n, filepath.Join(corpus, n), corpus, true)
		}
	}
	if len(confs) == 0 || len(configs) == len(confs) {
		t.Fatalf("no configs in %s or %s", cases, corpus)
	}
	return configs
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestVerify(t *testing.T) {
	sdtest.Analyze(t, "--version") // skips (fails under CI=true) without systemd-analyze
	configs := loadVerifyConfigs(t)
	search := searchPath(t)
	for _, mode := range []struct {
		name string
		user bool
	}{{"system", false}, {"user", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			// One systemd-analyze run per batch; two batches per mode keep
			// both cores busy.
			const batches = 2
			for b := range batches {
				var batch []*verifyConfig
				for i := b; i < len(configs); i += batches {
					batch = append(batch, configs[i])
				}
				t.Run(fmt.Sprintf("batch%d", b), func(t *testing.T) {
					t.Parallel()
					verifyBatch(t, batch, mode.user, search)
				})
			}
		})
	}
}

// verifyBatch generates the units of configs into one directory, each
// config under its own prefix, and runs systemd-analyze verify on all of
// them at once.
func verifyBatch(t *testing.T, configs []*verifyConfig, user bool, search []string) {
	dir := t.TempDir()
	var files []string
	generated := 0
	byIndex := map[int]*verifyConfig{}
	units := map[*verifyConfig][]byte{} // all of a config's unit files, for quotedOwners
	warnedUser := map[string]bool{}     // units unitgen warned about for their user=
	for _, c := range configs {
		byIndex[c.index] = c
		if c.cfg == nil {
			t.Logf("%s: no units: %s", c.name, c.reason)
			continue
		}
		// Every other config runs the compatibility step (any existing
		// executable stands for supersede: verify checks that it is one).
		shim := ""
		if c.index%2 == 0 {
			shim = testBinary(t)
		}
		res, err := unitgen.Generate(c.cfg, unitgen.Options{Prefix: c.prefix(), User: user, Environ: verifyEnv, Dir: c.dir, Shim: shim})
		if err != nil {
			t.Logf("%s: no units: unitgen refuses it: %v", c.name, firstLine(err.Error()))
			continue
		}
		if _, err := unitgen.WriteDir(dir, res, unitgen.WriteOptions{}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		generated++
		for _, w := range res.Warnings {
			if strings.HasPrefix(w.Msg, "user=") {
				warnedUser[w.Unit] = true
			}
		}
		for _, u := range res.Units {
			files = append(files, filepath.Join(dir, u.Name))
			units[c] = append(units[c], u.Data...)
		}
	}
	if generated == 0 {
		t.Fatal("no config gave units")
	}
	args := []string{"verify", "--man=no"}
	if user {
		args = append(args, "--user")
	}
	cmd := sdtest.Analyze(t, append(args, files...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		t.Fatalf("systemd-analyze: %v", runErr)
	}

	complaints := map[*verifyConfig][]string{}
	var unattributed []string
	allowed := 0
	for line := range strings.Lines(out.String()) {
		line = strings.TrimRight(line, "\n")
		if line == "" {
			continue
		}
		var owners []*verifyConfig
		if m := prefixRE.FindStringSubmatch(line); m != nil {
			i, _ := strconv.Atoi(m[1])
			owners = []*verifyConfig{byIndex[i]}
		} else {
			owners = quotedOwners(line, configs, units)
		}
		// systemd's notice about User=nobody is what unitgen warned of.
		if m := specialUserRE.FindStringSubmatch(line); m != nil && warnedUser[filepath.Base(m[1])] && len(owners) > 0 {
			allowed++
			t.Logf("%s: allowed: %s (unitgen warned about this user=)", owners[0].name, line)
			continue
		}
		if why, ok := hostFact(line, search); ok && len(owners) > 0 {
			allowed++
			t.Logf("%s: allowed: %s (%s)", owners[0].name, line, why)
			continue
		}
		if len(owners) == 0 {
			unattributed = append(unattributed, line)
		}
		for _, c := range owners {
			complaints[c] = append(complaints[c], line)
		}
	}
	for _, c := range configs {
		if lines := complaints[c]; len(lines) > 0 {
			t.Errorf("%s: systemd-analyze verify%s complains about its units (prefix %s):\n\t%s",
				c.name, map[bool]string{true: " --user"}[user], c.prefix(), strings.Join(lines, "\n\t"))
		}
	}
	if len(unattributed) > 0 {
		t.Errorf("systemd-analyze verify complains about no unit in particular:\n\t%s", strings.Join(unattributed, "\n\t"))
	}
	if runErr != nil && len(complaints) == 0 && len(unattributed) == 0 && allowed == 0 {
		t.Errorf("systemd-analyze verify failed without saying why: %v\n%s", runErr, out.String())
	}
	t.Logf("%d units of %d configs verified; %d allowed complaints about what this host lacks", len(files), generated, allowed)
}

// quotedOwners attributes a complaint that names no unit, such as
// "Accepting user/group name 'x', which does not match strict user/group
// name rules.", to the configs whose units contain what it quotes.
func quotedOwners(line string, configs []*verifyConfig, units map[*verifyConfig][]byte) []*verifyConfig {
	var owners []*verifyConfig
	for _, m := range quotedRE.FindAllStringSubmatch(line, -1) {
		for _, c := range configs {
			if m[1] != "" && bytes.Contains(units[c], []byte(m[1])) && !slices.Contains(owners, c) {
				owners = append(owners, c)
			}
		}
	}
	return owners
}

// specialUserRE is systemd's notice about User=nobody
// (src/core/load-fragment.c, config_parse_user_group_compat).
var specialUserRE = regexp.MustCompile(`^(\S+):\d+: Special user nobody configured, this is not safe!$`)

var quotedRE = regexp.MustCompile(`'([^']*)'`)

// userNameRE is systemd's warning about a User=/Group= value
// (src/basic/user-util.c, valid_user_group_name).
var userNameRE = regexp.MustCompile(`^Accepting user/group name '(.*)', which does not match strict user/group name rules\.$`)

// hostFact reports whether a complaint is only about a fact of this host
// that a config written for another machine cannot know, and says why:
// an ExecStart= program that does not exist here (missingExecutable), or a
// user or group name systemd finds odd and that does not exist here
// (lenient loading does not look users up, and an unset %(ENV_X)s user
// becomes the placeholder <X>). Everything else is a real complaint.
func hostFact(line string, search []string) (string, bool) {
	if m := notExecRE.FindStringSubmatch(line); m != nil {
		return missingExecutable(m[2], m[3], search)
	}
	if m := userNameRE.FindStringSubmatch(line); m != nil {
		_, uerr := user.Lookup(m[1])
		_, gerr := user.LookupGroup(m[1])
		if uerr != nil && gerr != nil {
			return "no user or group " + m[1] + " on this host", true
		}
	}
	return "", false
}

// missingExecutable reports whether systemd-analyze's complaint that
// program "is not executable: errText" only means the program does not
// exist on this host, which a config written for another machine may
// well name. It checks the file system itself: the complaint must be
// ENOENT, and program (absolute, or a bare name looked up in systemd's
// own search path) must really be missing. Anything else (a directory, a
// file without x bit, a program that exists) is a real complaint.
func missingExecutable(program, errText string, search []string) (string, bool) {
	if errText != "No such file or directory" {
		return "", false
	}
	if filepath.IsAbs(program) {
		if _, err := os.Stat(program); errors.Is(err, fs.ErrNotExist) {
			return program + " does not exist on this host", true
		}
		return "", false
	}
	if strings.Contains(program, "/") {
		return "", false // systemd takes no relative path: a real error
	}
	for _, d := range search {
		if _, err := os.Stat(filepath.Join(d, program)); !errors.Is(err, fs.ErrNotExist) {
			return "", false
		}
	}
	return program + " is in none of " + strings.Join(search, ":"), true
}

var (
	searchOnce sync.Once
	searchDirs []string
	searchErr  error
)

// searchPath is systemd's compiled-in search path for a bare ExecStart=
// program name (systemd.md §1.1).
func searchPath(t *testing.T) []string {
	searchOnce.Do(func() {
		var out []byte
		out, searchErr = exec.Command("systemd-path", "search-binaries-default").Output()
		searchDirs = slices.DeleteFunc(strings.Split(strings.TrimSpace(string(out)), ":"), func(s string) bool { return s == "" })
	})
	if searchErr != nil || len(searchDirs) == 0 {
		t.Fatalf("systemd-path search-binaries-default: %v %q", searchErr, searchDirs)
	}
	return searchDirs
}

// testBinary is the running test binary's absolute path.
func testBinary(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}
