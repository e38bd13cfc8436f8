package ctl

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/google/renameio/v2"

	// golang.org/x/term gives the shell its line editing (emacs keys,
	// history on up/down, a completion callback) over a raw-mode
	// terminal. It is kept by the Go team; the usual alternative,
	// github.com/chzyer/readline, has had no release since 2022.
	"golang.org/x/term"
)

// lineReader reads the lines the shell and its commands ask for: the
// prompt, shutdown's question, fg's input. readLine returns io.EOF at
// the end of the input and errInterrupted on Ctrl-C (or ctx done).
type lineReader interface {
	readLine(ctx context.Context, prompt string) (string, error)
	readPassword(ctx context.Context, prompt string) (string, error)
}

// shell is Controller.exec_cmdloop: the history file read, the shell
// run on a terminal (line editing) or not, the history file written.
func (c *controller) shell(ctx context.Context, stdin io.Reader) {
	hist := &history{}
	if c.opts.HistoryFile != "" {
		hist.load(c.opts.HistoryFile)
		defer hist.save(c.opts.HistoryFile)
	}
	inFile, inOK := stdin.(*os.File)
	outFile, outOK := c.stdout.(*os.File)
	if inOK && outOK && term.IsTerminal(int(inFile.Fd())) && term.IsTerminal(int(outFile.Fd())) {
		// input() uses readline only when both are terminals
		c.in = newTermReader(c, int(inFile.Fd()), inFile, outFile, hist)
	} else {
		p := newPlainReader(stdin, c)
		defer p.close()
		c.in = p
	}
	c.cmdloop(ctx)
}

// cmdloop is cmd.Cmd.cmdloop with `status` queued first: a prompt per
// line until EOF, quit or Ctrl-C.
func (c *controller) cmdloop(ctx context.Context) {
	queue := []string{"status"}
	for {
		var line string
		if len(queue) > 0 {
			line, queue = queue[0], queue[1:]
		} else {
			pctx, done := c.commandContext(ctx)
			l, err := c.in.readLine(pctx, c.opts.Prompt+"> ")
			if err == nil && pctx.Err() != nil {
				err = errInterrupted // Ctrl-C came as the line did
			}
			done()
			switch {
			case err == io.EOF:
				l = "EOF"
			case err != nil:
				c.output("")
				return
			}
			line = l
		}
		stop, err := c.runCommand(ctx, line)
		if err != nil {
			c.output("")
			return
		}
		if stop || ctx.Err() != nil {
			return
		}
	}
}

// ---- without a terminal: Python's input() on a pipe or file

type lineResult struct {
	line string
	err  error
}

// plainReader reads lines as input() does without readline: the prompt
// written on stdout, a line read up to "\n" (which it drops), EOF at
// the end. A goroutine does the reading, so that Ctrl-C can end a wait.
type plainReader struct {
	c       *controller
	r       *bufio.Reader
	once    sync.Once
	reqs    chan struct{}
	lines   chan lineResult
	pending bool // a request is out whose answer has not been taken
}

func newPlainReader(r io.Reader, c *controller) *plainReader {
	return &plainReader{c: c, r: bufio.NewReader(r), reqs: make(chan struct{}), lines: make(chan lineResult, 1)}
}

func (p *plainReader) start() {
	p.once.Do(func() {
		go func() {
			for range p.reqs {
				line, err := p.r.ReadString('\n')
				line = strings.TrimSuffix(line, "\n")
				if err == io.EOF && line != "" {
					err = nil
				}
				p.lines <- lineResult{line, err}
			}
		}()
	})
}

// close ends the reading goroutine once it has answered.
func (p *plainReader) close() {
	p.once.Do(func() {})
	close(p.reqs)
}

func (p *plainReader) readLine(ctx context.Context, prompt string) (string, error) {
	if prompt != "" {
		p.c.write([]byte(prompt))
	}
	p.start()
	if !p.pending {
		select {
		case p.reqs <- struct{}{}:
			p.pending = true
		case <-ctx.Done():
			return "", errInterrupted
		}
	}
	select {
	case r := <-p.lines:
		p.pending = false
		return r.line, r.err
	case <-ctx.Done():
		return "", errInterrupted
	}
}

// readPassword is getpass without a terminal: a warning and the prompt
// on stderr, then a line of stdin.
func (p *plainReader) readPassword(ctx context.Context, prompt string) (string, error) {
	p.c.errorf("Warning: Password input may be echoed.\n%s", prompt)
	return p.readLine(ctx, "")
}

// ---- on a terminal: readline's part, done with x/term

// termReader reads lines with line editing, history and completion. The
// terminal is in raw mode only while a line is read, so that output of
// commands and Ctrl-C (SIGINT) behave as usual meanwhile.
type termReader struct {
	c    *controller
	fd   int // -1: not a real terminal (tests drive it through a pipe)
	t    *term.Terminal
	in   *ctrlCReader
	out  *termOut
	hist *history

	ctx     context.Context // of the readLine in progress, for completion
	lastTab string          // the line and cursor after the last Tab that listed nothing new
}

// ctrlCReader notes a Ctrl-C typed in raw mode: x/term returns io.EOF
// for it as for Ctrl-D, and the shell must tell them apart
// (KeyboardInterrupt against EOF).
type ctrlCReader struct {
	r     io.Reader
	mu    sync.Mutex
	ctrlC bool
}

func (r *ctrlCReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if bytes.IndexByte(p[:n], 3) >= 0 {
		r.mu.Lock()
		r.ctrlC = true
		r.mu.Unlock()
	}
	return n, err
}

func (r *ctrlCReader) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.ctrlC
	r.ctrlC = false
	return c
}

// termOut is the controller's stdout in a terminal shell: while a line
// is being read (raw mode) output goes through the Terminal, which
// moves the prompt and the input out of its way; otherwise straight out.
type termOut struct {
	mu  sync.Mutex
	raw bool
	t   *term.Terminal
	w   io.Writer
}

func (o *termOut) Write(p []byte) (int, error) {
	o.mu.Lock()
	raw := o.raw
	o.mu.Unlock()
	if raw {
		return o.t.Write(p)
	}
	return o.w.Write(p)
}

func (o *termOut) setRaw(raw bool) {
	o.mu.Lock()
	o.raw = raw
	o.mu.Unlock()
}

// newTermReader makes the reader for terminal in/out; fd is the input's
// descriptor, or -1 when in is not a real terminal.
func newTermReader(c *controller, fd int, in io.Reader, out io.Writer, hist *history) *termReader {
	r := &termReader{c: c, fd: fd, in: &ctrlCReader{r: in}, hist: hist}
	r.t = term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{r.in, out}, "")
	r.t.History = hist
	r.t.AutoCompleteCallback = r.autoComplete
	r.out = &termOut{t: r.t, w: out}
	c.stdout = r.out
	return r
}

func (r *termReader) read(ctx context.Context, prompt string, password bool) (string, error) {
	if r.fd >= 0 {
		old, err := term.MakeRaw(r.fd)
		if err != nil {
			return "", err
		}
		fd := r.fd
		r.c.rawMu.Lock()
		r.c.restoreTerm = func() { term.Restore(fd, old) }
		r.c.rawMu.Unlock()
		defer func() {
			r.c.rawMu.Lock()
			r.c.restoreTerm = nil
			r.c.rawMu.Unlock()
			term.Restore(fd, old)
		}()
		if w, h, err := term.GetSize(r.fd); err == nil {
			r.t.SetSize(w, h)
		}
	}
	r.ctx = ctx
	r.in.take()
	r.out.setRaw(true)
	defer r.out.setRaw(false)
	var line string
	var err error
	if password {
		line, err = r.t.ReadPassword(prompt)
	} else {
		r.t.SetPrompt(prompt)
		line, err = r.t.ReadLine()
	}
	if err == io.EOF && r.in.take() {
		return "", errInterrupted
	}
	return line, err
}

func (r *termReader) readLine(ctx context.Context, prompt string) (string, error) {
	return r.read(ctx, prompt, false)
}

func (r *termReader) readPassword(ctx context.Context, prompt string) (string, error) {
	return r.read(ctx, prompt, true)
}

// completerDelims are readline's word delimiters less ":", "*" and "-",
// as supervisorctl sets them so that "group:*" and "a-b" are one word.
const completerDelims = " \t\n`~!@#$%^&()=+[{]}\\|;'\",<>/?"

// autoComplete is readline's Tab: the word before the cursor is
// completed from supervisorctl's complete(): alone, a match replaces it;
// several are cut to their longest common prefix, and a second Tab that
// adds nothing lists them.
func (r *termReader) autoComplete(line string, pos int, key rune) (string, int, bool) {
	if key != '\t' {
		r.lastTab = ""
		return "", 0, false
	}
	begin := pos
	for begin > 0 && !strings.ContainsRune(completerDelims, rune(line[begin-1])) {
		begin--
	}
	text := line[begin:pos]
	var matches []string
	for _, m := range r.c.complete(r.ctx, text, line) {
		if !slices.Contains(matches, m) {
			matches = append(matches, m)
		}
	}
	if len(matches) == 0 {
		return "", 0, false
	}
	insert := matches[0]
	if len(matches) > 1 {
		insert = commonPrefix(matches)
	}
	if len(insert) > len(text) {
		r.lastTab = ""
		return line[:begin] + insert + line[pos:], begin + len(insert), true
	}
	state := line + "\x00" + string(rune(pos))
	if r.lastTab == state && len(matches) > 1 {
		sorted := slices.Clone(matches)
		slices.Sort(sorted)
		width := 80
		if r.fd >= 0 {
			if w, _, err := term.GetSize(r.fd); err == nil {
				width = w
			}
		}
		r.t.Write([]byte(columnize(sorted, width-1)))
	}
	r.lastTab = state
	return line, pos, true
}

func commonPrefix(words []string) string {
	p := words[0]
	for _, w := range words[1:] {
		for !strings.HasPrefix(w, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// complete is Controller.complete: the candidates for text, which
// begins where readline's word begins, in line.
func (c *controller) complete(ctx context.Context, text, line string) []string {
	if pyStrip(line) == "" {
		return c.completeActions(text)
	}
	words := pySplit(line)
	action := words[0]
	switch {
	case len(words) == 1 && !strings.HasSuffix(line, " "):
		return c.completeActions(text)
	case strings.Contains("help", action):
		// `action in ('help')` is a substring test: ('help') is a str
		return c.completeActions(text)
	case slices.Contains([]string{"add", "remove", "update"}, action):
		return c.completeGroups(ctx, text)
	case slices.Contains([]string{"clear", "fg", "pid", "restart", "signal", "start", "status", "stop", "tail"}, action):
		return c.completeProcesses(ctx, text)
	}
	return nil
}

func (c *controller) completeActions(text string) []string {
	var out []string
	for _, a := range vocab() {
		if strings.HasPrefix(a, text) {
			out = append(out, a+" ")
		}
	}
	return out
}

func (c *controller) completeGroups(ctx context.Context, text string) []string {
	var groups []string
	for _, in := range c.completionInfo(ctx) {
		if g := pyStr(in["group"]); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	var out []string
	for _, g := range groups {
		if strings.HasPrefix(g, text) {
			out = append(out, g+" ")
		}
	}
	return out
}

func (c *controller) completeProcesses(ctx context.Context, text string) []string {
	var procs []string
	for _, in := range c.completionInfo(ctx) {
		g, n := pyStr(in["group"]), pyStr(in["name"])
		if strings.Contains(text, ":") || n != g {
			procs = append(procs, g+":"+n)
			if !slices.Contains(procs, g+":*") {
				procs = append(procs, g+":*")
			}
		} else {
			procs = append(procs, n)
		}
	}
	var out []string
	for _, p := range procs {
		if strings.HasPrefix(p, text) {
			out = append(out, p+" ")
		}
	}
	return out
}

// completionInfo is _get_complete_info: getAllProcessInfo, kept until
// the next command. A failure completes nothing (readline swallows the
// completer's exceptions).
func (c *controller) completionInfo(ctx context.Context) []map[string]any {
	if c.completeInfo == nil {
		if ctx == nil {
			ctx = context.Background()
		}
		v, err := c.conn.Call(ctx, "supervisor.getAllProcessInfo")
		if err != nil {
			return nil
		}
		list, _ := v.([]any)
		c.completeInfo = []map[string]any{}
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				c.completeInfo = append(c.completeInfo, m)
			}
		}
	}
	return c.completeInfo
}

// ---- history: readline's, kept in history_file

// history is readline's history list as Python's readline module fills
// it: each non-empty line read unless it repeats the previous one. It
// implements term.History.
type history struct {
	mu      sync.Mutex
	entries []string // oldest first
}

func (h *history) Add(entry string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if entry == "" || (len(h.entries) > 0 && h.entries[len(h.entries)-1] == entry) {
		return
	}
	h.entries = append(h.entries, entry)
}

func (h *history) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.entries)
}

func (h *history) At(idx int) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.entries[len(h.entries)-1-idx]
}

// load is readline.read_history_file; a file that cannot be read is no
// history (supervisorctl ignores the IOError).
func (h *history) load(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSuffix(line, "\n"); line != "" {
			h.entries = append(h.entries, line)
		}
	}
}

// save is readline.write_history_file at exit: every entry, one a line,
// in a file readable only by its owner, written atomically. A failure
// is ignored, as supervisorctl ignores it.
func (h *history) save(path string) {
	h.mu.Lock()
	var b strings.Builder
	for _, e := range h.entries {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	h.mu.Unlock()
	renameio.WriteFile(path, []byte(b.String()), 0o600, renameio.WithStaticPermissions(0o600))
}
