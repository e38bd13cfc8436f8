package ctl

import (
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/supersede/supersede/translate"
)

// Options are supervisorctl's options after the command line and the
// config file (ClientOptions.realize).
type Options struct {
	Prog        string // program name in usage texts: "/usr/bin/supervisorctl", "supersede ctl"
	ConfigFile  string // the file read; "" when none was found or -c '' was given
	ServerURL   string // -s, else [supervisorctl] serverurl, else http://localhost:9001
	Username    string // -u, else [supervisorctl] username
	Password    string // -p, else [supervisorctl] password
	Interactive bool   // -i, or no action words
	HistoryFile string // -r, else [supervisorctl] history_file; "" = no history file
	Prompt      string // [supervisorctl] prompt: the shell prompts "PROMPT> "
	Command     []string

	// supersede's own flags, long options only, accepted among
	// supervisorctl's options (before the action words).
	User         bool   // --user: drive the systemd user manager
	System       bool   // --system: drive the systemd system manager
	Prefix       string // --prefix=P: the unit name prefix used at convert time
	LogFiles     bool   // --log-files: the units keep append: log files (convert --log-files)
	ServerURLSet bool   // -s was given on the command line

	// MissingSection says the config file has no [supervisorctl]
	// section. supervisorctl refuses such a file (UsageError prints what
	// it prints); ctl over systemd does not need the section.
	MissingSection bool

	// ConfigRead is the config file as read for [supervisorctl]
	// (translate.LoadCtl), nil when none was read: a transport that reads
	// the whole file passes it as translate.Options.Main, to parse the
	// file once.
	ConfigRead *translate.Ctl

	// Interrupt, if not nil, delivers Ctrl-C (SIGINT) as supervisorctl's
	// KeyboardInterrupt: it ends `tail -f` and `fg` as finished commands
	// (the shell then prompts again), and otherwise ends the command
	// (Run returns 130) or the shell (after an empty line). main makes it
	// with signal.Notify(ch, os.Interrupt), and for the shell must not
	// also cancel ctx on SIGINT. Cancelling Run's ctx acts as Ctrl-C on
	// the running command, then ends Run: enough for a command line
	// (signal.NotifyContext), not for the shell. At the shell's prompt on
	// a terminal, Ctrl-C is a key (raw mode), not a signal.
	Interrupt <-chan os.Signal

	// Terminate, if not nil, delivers SIGTERM and SIGHUP. supervisorctl
	// leaves both at their default action, so either ends it at once,
	// killed by the signal, with nothing more printed (readline puts the
	// terminal back first). On one, Run puts the terminal back and calls
	// Kill with it; Kill must end the process.
	Terminate <-chan os.Signal
	Kill      func(os.Signal)

	// Dial, if not nil, connects to another server: `open URL` uses it,
	// and so does the shell when the server asks for a username and
	// password (HTTP 401). Without it `open` refuses, and a 401 in the
	// shell is handled as without -i.
	Dial func(serverURL, username, password string) (Conn, error)

	// usernameSet and passwordSet tell an empty value from an absent
	// one: supervisorctl sends Basic auth only when both are set.
	usernameSet, passwordSet bool
}

// Credentials returns the username and password to send, or two empty
// strings when supervisorctl would send no Authorization header (it
// sends one only when both a username and a password are set).
func (o *Options) Credentials() (username, password string) {
	if (o.usernameSet && o.passwordSet) || (o.Username != "" && o.Password != "") {
		return o.Username, o.Password
	}
	return "", ""
}

// usageDoc is supervisorctl's module docstring, which -h prints with
// every "%s" replaced by the program name.
const usageDoc = `supervisorctl -- control applications run by supervisord from the cmd line.

Usage: %s [options] [action [arguments]]

Options:
-c/--configuration FILENAME -- configuration file path (searches if not given)
-h/--help -- print usage message and exit
-i/--interactive -- start an interactive shell after executing commands
-s/--serverurl URL -- URL on which supervisord server is listening
     (default "http://localhost:9001").
-u/--username USERNAME -- username to use for authentication with server
-p/--password PASSWORD -- password to use for authentication with server
-r/--history-file -- keep a readline history (if readline is available)

action [arguments] -- see below

Actions are commands like "tail" or "stop".  If -i is specified or no action is
specified on the command line, a "shell" interpreting actions typed
interactively is started.  Use the action "help" to find out about available
actions.
`

// supersedeDoc is added to -h when the program is not called
// supervisorctl.
const supersedeDoc = `
supersede options (before the action):
--user -- control the units of the systemd user manager (systemctl --user)
--system -- control the units of the systemd system manager
--prefix P -- the unit name prefix given to supersede convert --prefix
--log-files -- the units were converted with --log-files
`

// The options as supervisorctl declares them to getopt, in its order.
const shortOpts = "h?c:is:u:p:r:"

var longOpts = []string{"help", "configuration=", "interactive", "serverurl=", "username=", "password=", "history_file="}

// optionName maps each option to the attribute it sets ("" for -h).
var optionName = map[string]string{
	"-h": "", "--help": "", "-?": "",
	"-c": "configfile", "--configuration": "configfile",
	"-i": "interactive", "--interactive": "interactive",
	"-s": "serverurl", "--serverurl": "serverurl",
	"-u": "username", "--username": "username",
	"-p": "password", "--password": "password",
	"-r": "history", "--history_file": "history",
}

// noCtlSection is supervisorctl's complaint about a file without
// [supervisorctl].
const noCtlSection = ".ini file does not include supervisorctl section"

// UsageError prints a usage error as supervisorctl does ("Error: MSG",
// "For help, use PROG -h") and returns its exit status, 2. The caller
// uses it for MissingSection when it talks XML-RPC.
func (o *Options) UsageError(stderr io.Writer, msg string) int {
	fmt.Fprintf(stderr, "Error: %s\nFor help, use %s -h\n", msg, o.Prog)
	return 2
}

// MissingSectionError is the message for MissingSection.
const MissingSectionError = noCtlSection

type usageError string

// ParseArgs reads supervisorctl's command line (args, after the program
// name) and the [supervisorctl] section of its config file as
// supervisorctl 4.2.5 does. prog names the program in usage texts and,
// as supervisorctl's sys.argv[0], places the first config file searched
// (PROG/../../etc/supervisord.conf). environ is the environment for
// %(ENV_X)s (nil: os.Environ()).
//
// When the program must stop it returns the exit status (>= 0) after
// printing: -h prints the usage to stdout (0); a usage error prints
// "Error: ..." and "For help, use PROG -h" to stderr (2); a config file
// supervisorctl would crash on (bad ini syntax) prints "Error: ..." (1).
// Otherwise the status is -1.
func ParseArgs(prog string, args, environ []string, stdout, stderr io.Writer) (*Options, int) {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return nil, 1
	}
	return parseArgs(prog, args, environ, wd, stdout, stderr)
}

func parseArgs(prog string, args, environ []string, dir string, stdout, stderr io.Writer) (*Options, int) {
	o := &Options{Prog: prog}
	usage := func(msg string) (*Options, int) {
		fmt.Fprintf(stderr, "Error: %s\n", msg)
		fmt.Fprintf(stderr, "For help, use %s -h\n", prog)
		return nil, 2
	}
	opts, rest, err := getopt(args)
	if err != "" {
		return usage(string(err))
	}
	var (
		configFile, serverURL, username, password, history *string
		interactive                                        bool
	)
	set := func(p **string, v string) { *p = &v }
	for _, kv := range opts {
		opt, arg := kv[0], kv[1]
		switch opt {
		case "--user":
			o.User = true
			continue
		case "--system":
			o.System = true
			continue
		case "--log-files":
			o.LogFiles = true
			continue
		case "--prefix":
			o.Prefix = arg
			continue
		}
		name := optionName[opt]
		if name == "" {
			doc := usageDoc + "\n"
			if base := filepath.Base(prog); base != "supervisorctl" {
				doc += supersedeDoc + "\n"
			}
			if strings.Index(doc, "%s") > 0 {
				doc = strings.ReplaceAll(doc, "%s", prog)
			}
			io.WriteString(stdout, doc)
			return nil, 0
		}
		if name == "serverurl" {
			if msg := checkURL(arg); msg != "" {
				return usage(fmt.Sprintf("invalid value for %s %s: %s", opt, pyRepr(arg), msg))
			}
		}
		var dst **string
		switch name {
		case "configfile":
			dst = &configFile
		case "serverurl":
			dst = &serverURL
		case "username":
			dst = &username
		case "password":
			dst = &password
		case "history":
			dst = &history
		}
		if (dst != nil && *dst != nil) || (name == "interactive" && interactive) {
			return usage(fmt.Sprintf("conflicting command line option %s", pyRepr(opt)))
		}
		if dst != nil {
			set(dst, arg)
		} else {
			interactive = true
		}
	}
	if o.User && o.System {
		return usage("--user and --system cannot be used together")
	}
	if configFile == nil {
		if p, err := translate.FindConfig(prog, dir); err == nil {
			configFile = &p
		}
	}
	ctl := &translate.Ctl{Prompt: "supervisor"}
	if configFile != nil && *configFile != "" {
		o.ConfigFile = *configFile
		c, err := translate.LoadCtl(*configFile, translate.Options{Environ: environ, Dir: dir})
		if err != nil {
			// supervisorctl crashes here with a Python traceback
			fmt.Fprintf(stderr, "Error: %s\n", translate.SupervisorMessage(err))
			return nil, 1
		}
		o.ConfigRead = c
		switch {
		case c.Err == noCtlSection && (serverURL == nil || o.User || o.System):
			// systemd needs no [supervisorctl]: the caller decides
			// (MissingSection) once it knows the transport
			o.MissingSection = true
			c = &translate.Ctl{Prompt: "supervisor"}
		case c.Err != "":
			return usage(c.Err)
		}
		ctl = c
	}
	o.Prompt = ctl.Prompt
	switch {
	case serverURL != nil:
		o.ServerURL, o.ServerURLSet = *serverURL, true
	case ctl.ServerURL != "":
		o.ServerURL = ctl.ServerURL
	default:
		o.ServerURL = "http://localhost:9001"
	}
	pick := func(cmdline, file *string) (string, bool) {
		if cmdline != nil {
			return *cmdline, true
		}
		if file != nil {
			return *file, true
		}
		return "", false
	}
	o.Username, o.usernameSet = pick(username, ctl.Username)
	o.Password, o.passwordSet = pick(password, ctl.Password)
	// supervisorctl stores -r where nothing reads it, so only the file's
	// history_file keeps a history; here -r works as its help says.
	o.HistoryFile, _ = pick(history, ctl.HistoryFile)
	o.Command = rest
	o.Interactive = interactive || len(rest) == 0
	return o, -1
}

// getopt is Python's getopt.getopt with supervisorctl's options, plus
// supersede's long options, which match only when spelt out (so that
// every abbreviation supervisorctl accepts keeps its meaning; --user=X
// stays supervisorctl's --username=X). It returns the options as
// [option, argument] pairs and the arguments from the first one that is
// not an option; or getopt's error text.
func getopt(args []string) (opts [][2]string, rest []string, err usageError) {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		if args[0] == "--" {
			args = args[1:]
			break
		}
		if strings.HasPrefix(args[0], "--") {
			opts, args, err = doLongs(opts, args[0][2:], args[1:])
		} else {
			opts, args, err = doShorts(opts, args[0][1:], args[1:])
		}
		if err != "" {
			return nil, nil, err
		}
	}
	return opts, args, ""
}

func doLongs(opts [][2]string, opt string, args []string) ([][2]string, []string, usageError) {
	var optarg *string
	if i := strings.IndexByte(opt, '='); i >= 0 {
		v := opt[i+1:]
		opt, optarg = opt[:i], &v
	}
	switch {
	case opt == "system" || opt == "log-files" || (opt == "user" && optarg == nil):
		if optarg != nil {
			return nil, nil, usageError("option --" + opt + " must not have an argument")
		}
		return append(opts, [2]string{"--" + opt, ""}), args, ""
	case opt == "prefix":
		if optarg == nil {
			if len(args) == 0 {
				return nil, nil, usageError("option --prefix requires argument")
			}
			optarg, args = &args[0], args[1:]
		}
		return append(opts, [2]string{"--prefix", *optarg}), args, ""
	}
	hasArg, opt, err := longHasArgs(opt)
	if err != "" {
		return nil, nil, err
	}
	if hasArg {
		if optarg == nil {
			if len(args) == 0 {
				return nil, nil, usageError("option --" + opt + " requires argument")
			}
			optarg, args = &args[0], args[1:]
		}
	} else if optarg != nil {
		return nil, nil, usageError("option --" + opt + " must not have an argument")
	}
	v := ""
	if optarg != nil {
		v = *optarg
	}
	return append(opts, [2]string{"--" + opt, v}), args, ""
}

func longHasArgs(opt string) (bool, string, usageError) {
	var possibilities []string
	for _, o := range longOpts {
		if strings.HasPrefix(o, opt) {
			possibilities = append(possibilities, o)
		}
	}
	if len(possibilities) == 0 {
		return false, "", usageError("option --" + opt + " not recognized")
	}
	for _, p := range possibilities {
		if p == opt {
			return false, opt, ""
		}
	}
	for _, p := range possibilities {
		if p == opt+"=" {
			return true, opt, ""
		}
	}
	if len(possibilities) > 1 {
		return false, "", usageError("option --" + opt + " not a unique prefix")
	}
	match := possibilities[0]
	if strings.HasSuffix(match, "=") {
		return true, match[:len(match)-1], ""
	}
	return false, match, ""
}

func doShorts(opts [][2]string, optstring string, args []string) ([][2]string, []string, usageError) {
	for optstring != "" {
		r := []rune(optstring)
		opt := string(r[0])
		optstring = string(r[1:])
		i := strings.Index(shortOpts, opt)
		if i < 0 || opt == ":" {
			return nil, nil, usageError("option -" + opt + " not recognized")
		}
		optarg := ""
		if strings.HasPrefix(shortOpts[i+1:], ":") {
			if optstring == "" {
				if len(args) == 0 {
					return nil, nil, usageError("option -" + opt + " requires argument")
				}
				optstring, args = args[0], args[1:]
			}
			optarg, optstring = optstring, ""
		}
		opts = append(opts, [2]string{"-" + opt, optarg})
	}
	return opts, args, ""
}

// usesParams are the schemes whose path urlparse splits at ';'.
var usesParams = map[string]bool{"": true, "ftp": true, "hdl": true, "prospero": true, "http": true,
	"imap": true, "https": true, "shttp": true, "rtsp": true, "rtspu": true, "sip": true,
	"sips": true, "mms": true, "sftp": true, "tel": true}

// urlParse is Python 3.11's urllib.parse.urlparse, returning the scheme,
// the netloc and the path; the error is its ValueError.
func urlParse(url string) (scheme, netloc, path string, err *pyError) {
	url = strings.TrimLeft(url, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	url = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(url)
	if i := strings.IndexByte(url, ':'); i > 0 && isASCIIAlpha(url[0]) {
		ok := true
		for j := 0; j < i; j++ {
			c := url[j]
			if !isASCIIAlpha(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.' {
				ok = false
				break
			}
		}
		if ok {
			scheme, url = strings.ToLower(url[:i]), url[i+1:]
		}
	}
	if strings.HasPrefix(url, "//") {
		delim := len(url)
		for _, c := range "/?#" {
			if w := strings.IndexRune(url[2:], c); w >= 0 {
				delim = min(delim, w+2)
			}
		}
		netloc, url = url[2:delim], url[delim:]
		open, close := strings.Contains(netloc, "["), strings.Contains(netloc, "]")
		if open != close {
			return "", "", "", &pyError{class: "ValueError", msg: "Invalid IPv6 URL", file: urllibParsePy, line: 514}
		}
		if open {
			if err := checkBracketedNetloc(netloc); err != nil {
				return "", "", "", err
			}
		}
	}
	if i := strings.IndexByte(url, '#'); i >= 0 {
		url = url[:i]
	}
	if i := strings.IndexByte(url, '?'); i >= 0 {
		url = url[:i]
	}
	if usesParams[scheme] && strings.Contains(url, ";") {
		var i int
		if strings.Contains(url, "/") {
			last := strings.LastIndexByte(url, '/')
			i = strings.IndexByte(url[last:], ';')
			if i >= 0 {
				i += last
			}
		} else {
			i = strings.IndexByte(url, ';')
		}
		if i >= 0 {
			url = url[:i]
		}
	}
	return scheme, netloc, url, nil
}

const urllibParsePy = "/usr/lib/python3.11/urllib/parse.py"

func isASCIIAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

var ipvFuture = regexp.MustCompile(`\Av[a-fA-F0-9]+\.(?s:.+)\z`)

// checkBracketedNetloc is urllib.parse._check_bracketed_netloc.
func checkBracketedNetloc(netloc string) *pyError {
	invalid := func(line int) *pyError {
		return &pyError{class: "ValueError", msg: "Invalid IPv6 URL", file: urllibParsePy, line: line}
	}
	hostport := netloc
	if i := strings.LastIndexByte(netloc, '@'); i >= 0 {
		hostport = netloc[i+1:]
	}
	var host string
	if before, bracketed, ok := strings.Cut(hostport, "["); ok {
		if before != "" {
			return invalid(447)
		}
		h, port, _ := strings.Cut(bracketed, "]")
		if port != "" && !strings.HasPrefix(port, ":") {
			return invalid(451)
		}
		host = h
	} else {
		host, _, _ = strings.Cut(hostport, ":")
	}
	if strings.HasPrefix(host, "v") {
		if !ipvFuture.MatchString(host) {
			return &pyError{class: "ValueError", msg: "IPvFuture address is invalid", file: urllibParsePy, line: 461}
		}
		return nil
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return &pyError{class: "ValueError", msg: pyRepr(host) + " does not appear to be an IPv4 or IPv6 address", file: "/usr/lib/python3.11/ipaddress.py", line: 54}
	}
	if addr.Is4() {
		return &pyError{class: "ValueError", msg: "An IPv4 address cannot be in brackets", file: urllibParsePy, line: 465}
	}
	return nil
}

// checkURL is supervisor.datatypes.url: a scheme and a netloc or a
// path. It returns the ValueError's text, or "".
func checkURL(value string) string {
	scheme, netloc, path, err := urlParse(value)
	if err != nil {
		return err.msg
	}
	if scheme != "" && (netloc != "" || path != "") {
		return ""
	}
	return "value " + pyRepr(value) + " is not a URL"
}
