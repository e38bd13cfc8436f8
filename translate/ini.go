package translate

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// This file is the ini reader: Python 3.11's configparser.RawConfigParser
// as Supervisor configures it (inline_comment_prefixes=(";", "#"),
// strict=False), line for line.
//
// It is written by hand because gopkg.in/ini.v1, the library of choice
// for ini files in Go, cannot express this dialect:
//   - it keeps no line numbers, and every value here must keep its file:line;
//   - its continuation rule (AllowPythonMultilineValues) ends a value at a
//     blank line and does not compare indentation with the key line, while
//     configparser keeps blank lines inside values, drops comment lines
//     from them, and lets an indented "[section]" or "key=value" line
//     continue the previous value;
//   - its inline comments (SpaceBeforeInlineComment) are cut by quotes,
//     and configparser's earliest ";"/"#" after any whitespace wins;
//   - it cannot report every malformed line of a file at once the way
//     configparser's ParsingError does, which Supervisor's message repeats;
//   - [DEFAULT] inheritance and section merging across files read into one
//     parser (Supervisor's [include]) follow configparser's dict order,
//     which the oracle's "sections" list and expansion order expose.
// translate/ini_test.go pins down, case by case, where ini.v1 differs.

// iniValue is one key of a section.
type iniValue struct {
	lines []string // while reading a value with continuation lines: its lines
	value string
	pos   Pos // the key line
}

// iniSection is a section as configparser holds it: keys in first-insertion order.
type iniSection struct {
	name string
	dict[*iniValue]
	pos Pos // the header that created it
}

func newIniSection(name string, pos Pos) *iniSection {
	return &iniSection{name: name, pos: pos}
}

// iniParser is one RawConfigParser into which several files may be read.
type iniParser struct {
	sections []*iniSection
	byName   map[string]*iniSection
	defaults *iniSection
	// sectionFile is Supervisor's section_to_file: the file that created a
	// section, for files read through read (includes), not the main file.
	sectionFile map[string]string

	last     *iniSection    // the section get looked up last
	unjoined []pendingValue // multi-line values of the file being read, for joinValues
	hereRefs []hereRef      // values holding "%(here)s", for expandHere
	slab     []iniValue     // newValue's next values
}

// pendingValue is a value with continuation lines, joined when its file
// has been read.
type pendingValue struct {
	v   *iniValue
	ref hereRef
}

// hereRef names a section value that still holds a literal "%(here)s".
type hereRef struct {
	s   *iniSection
	key string
}

// newValue returns a fresh value, from a block of them: one allocation
// per 64 keys rather than one per key.
func (p *iniParser) newValue() *iniValue {
	if len(p.slab) == 0 {
		p.slab = make([]iniValue, 64)
	}
	v := &p.slab[0]
	p.slab = p.slab[1:]
	return v
}

func newIniParser() *iniParser {
	return &iniParser{
		byName:      map[string]*iniSection{},
		defaults:    newIniSection("DEFAULT", Pos{}),
		sectionFile: map[string]string{},
	}
}

// has reports whether the section exists (configparser's has_section).
func (p *iniParser) has(section string) bool {
	_, ok := p.byName[section]
	return ok
}

// get returns a section's value, falling back to [DEFAULT] as
// configparser's get does.
func (p *iniParser) get(section, key string) (*iniValue, bool) {
	s := p.last
	if s == nil || s.name != section {
		// a loader reads one section's keys in a row: remember it
		s = p.byName[section]
		p.last = s
	}
	if s != nil {
		if v, ok := s.get(key); ok {
			return v, true
		}
	}
	return p.defaults.get(key)
}

// items returns a section's keys with [DEFAULT]'s first, in dict order,
// as configparser's items(section) does.
func (p *iniParser) items(section string) []string {
	s := p.byName[section]
	keys := make([]string, 0, len(p.defaults.keys)+len(s.keys))
	keys = append(keys, p.defaults.keys...)
	for _, k := range s.keys {
		if _, dup := p.defaults.find(k); !dup {
			keys = append(keys, k)
		}
	}
	return keys
}

// options returns a section's keys then [DEFAULT]'s (configparser's options).
func (p *iniParser) options(section string) []string {
	s := p.byName[section]
	keys := append([]string(nil), s.keys...)
	for _, k := range p.defaults.keys {
		if _, dup := s.find(k); !dup {
			keys = append(keys, k)
		}
	}
	return keys
}

// snapshot copies the named section, the sections starting with prefix
// and [DEFAULT] into a parser of their own, as reading the file alone
// would give them (values are never changed in place, so they are shared).
func (p *iniParser) snapshot(name, prefix string) *iniParser {
	q := newIniParser()
	cp := func(s *iniSection) *iniSection {
		c := newIniSection(s.name, s.pos)
		c.dict = s.clone(0)
		return c
	}
	q.defaults = cp(p.defaults)
	for _, s := range p.sections {
		if s.name == name || strings.HasPrefix(s.name, prefix) {
			c := cp(s)
			q.sections = append(q.sections, c)
			q.byName[s.name] = c
		}
	}
	return q
}

// expandHere is Supervisor's UnhosedConfigParser.expand_here: every
// literal "%(here)s" in every section (with [DEFAULT] values copied into
// the section that inherits them) becomes dir.
func (p *iniParser) expandHere(dir string) {
	const here = "%(here)s"
	defaultsHere := false
	for _, v := range p.defaults.vals {
		if strings.Contains(v.value, here) {
			defaultsHere = true
			break
		}
	}
	if !defaultsHere {
		// Only values read since the last call can hold it: visit those
		// instead of every key of every section once per included file.
		refs := p.hereRefs
		p.hereRefs = nil
		done := make(map[hereRef]bool, len(refs))
		for _, r := range refs {
			if done[r] {
				continue // a key set twice in one file is replaced once
			}
			done[r] = true
			v, _ := r.s.get(r.key)
			if strings.Contains(v.value, here) {
				nv := &iniValue{value: strings.ReplaceAll(v.value, here, dir), pos: v.pos}
				r.s.set(r.key, nv)
				if strings.Contains(nv.value, here) {
					p.hereRefs = append(p.hereRefs, r)
				}
			}
		}
		return
	}
	p.hereRefs = nil
	for _, s := range p.sections {
		for _, k := range p.items(s.name) {
			v, _ := p.get(s.name, k)
			if strings.Contains(v.value, here) {
				nv := &iniValue{value: strings.ReplaceAll(v.value, here, dir), pos: v.pos}
				s.set(k, nv)
				if strings.Contains(nv.value, here) {
					p.hereRefs = append(p.hereRefs, hereRef{s, k})
				}
			}
		}
	}
}

// iniLine is one line as Python's text-mode file iteration yields it
// (universal newlines), without its line break.
type iniLine struct {
	text string
	no   int
	nl   bool // a line break followed: Python's line ends with "\n"
}

// python is the line as Python holds it, for error messages.
func (l iniLine) python() string {
	if l.nl {
		return l.text + "\n"
	}
	return l.text
}

// nextLine cuts the first line off data as Python's universal-newline
// text reading does.
func nextLine(data string) (line, rest string, nl bool) {
	i := strings.IndexAny(data, "\r\n")
	if i < 0 {
		return data, "", false
	}
	j := i + 1
	if data[i] == '\r' && j < len(data) && data[j] == '\n' {
		j++
	}
	return data[:i], data[j:], true
}

// countLines is how many lines Python reads from data.
func countLines(data string) int {
	n := 0
	for data != "" {
		_, data, _ = nextLine(data)
		n++
	}
	return n
}

// pyRstrip is Python's str.rstrip() without arguments.
func pyRstrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// commentStart returns where configparser's inline-comment rule cuts line
// (0 for a full-line comment, -1 for none). configparser looks at the
// first ";" and the first "#", then the second of each, and so on, and
// stops at the first round in which one of them stands at the start of
// the line or after a whitespace character, taking the leftmost of that
// round. So in "a#b #c ;d" the comment starts at " ;d", not at " #c".
func commentStart(line string) int {
	if t := pyStrip(line); t != "" && (t[0] == ';' || t[0] == '#') {
		return 0
	}
	semi, hash := -1, -1 // the occurrence of each prefix this round
	semiDone, hashDone := false, false
	for !semiDone || !hashDone {
		best := -1
		for k, c := range [2]byte{';', '#'} {
			idx, done := &semi, &semiDone
			if k == 1 {
				idx, done = &hash, &hashDone
			}
			if *done {
				continue
			}
			n := strings.IndexByte(line[*idx+1:], c)
			if n < 0 {
				*done = true
				continue
			}
			*idx += n + 1
			if *idx == 0 || precededBySpace(line, *idx) {
				if best < 0 || *idx < best {
					best = *idx
				}
			}
		}
		if best >= 0 {
			return best
		}
	}
	return -1
}

// precededBySpace reports whether the character before byte i is
// whitespace in Python's sense.
func precededBySpace(line string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(line[:i])
	return pyIsSpace(r)
}

// indentOf is the index (in characters) of the first non-space character.
func indentOf(line string) int {
	n := 0
	for _, r := range line {
		if !pyIsSpace(r) {
			return n
		}
		n++
	}
	return 0
}

// read parses one file into p, as RawConfigParser._read does. name is
// the file as configparser is given it; errors name it.
func (p *iniParser) read(name string, data []byte) ErrorList {
	if err := checkUTF8(name, data); err != nil {
		return ErrorList{err}
	}
	var (
		cur         *iniSection
		optname     string
		haveOpt     bool // optname is set and non-empty
		indentLevel int
		bad         []iniLine
		// blank lines met after a value: kept in it (configparser's
		// empty_lines_in_values) only when a continuation line follows,
		// as the joined value is right-stripped anyway. Most sections
		// end with one; keeping it made every last value multi-line.
		blanks int
	)
	if len(p.byName) == 0 {
		// one map of the right size rather than one per growth
		n := bytes.Count(data, []byte("\n[")) + 1
		p.byName = make(map[string]*iniSection, n)
		p.sections = slices.Grow(p.sections, n)
	}
	rest := string(data)
	for no := 1; rest != ""; no++ {
		var ln iniLine
		ln.text, rest, ln.nl = nextLine(rest)
		ln.no = no
		line := ln.text
		cs := commentStart(line)
		raw := line
		if cs >= 0 {
			raw = line[:cs]
		}
		value := pyStrip(raw)
		if value == "" {
			// empty_lines_in_values: a blank line (not a comment line)
			// is kept inside a value
			if cs < 0 && cur != nil && haveOpt {
				blanks++
			}
			continue
		}
		ind := indentOf(line)
		if cur != nil && haveOpt && ind > indentLevel {
			for ; blanks > 0; blanks-- {
				p.continueValue(cur, optname, "")
			}
			p.continueValue(cur, optname, value)
			continue
		}
		blanks = 0
		indentLevel = ind
		pos := Pos{name, ln.no}
		if hdr, ok := matchHeader(value); ok {
			if s, ok := p.byName[hdr]; ok {
				cur = s
			} else if hdr == "DEFAULT" {
				cur = p.defaults
			} else {
				cur = newIniSection(hdr, pos)
				p.byName[hdr] = cur
				p.sections = append(p.sections, cur)
			}
			optname, haveOpt = "", false
			continue
		}
		if cur == nil {
			msg := fmt.Sprintf("File contains no section headers.\nfile: %s, line: %d\n%s",
				pyRepr(name), ln.no, pyRepr(ln.python()))
			return ErrorList{{
				Pos:        pos,
				Err:        fmt.Errorf("%w: %s comes before any [section] header", ErrSyntax, pyRepr(pyStrip(line))),
				Supervisor: msg,
				Hint:       "start the file with a section such as [supervisord] or [program:name]",
			}}
		}
		key, val, ok := splitOption(value)
		if !ok {
			bad = append(bad, ln)
			continue
		}
		if key == "" {
			bad = append(bad, ln)
		}
		optname = pyLower(pyRstrip(key))
		haveOpt = optname != ""
		nv := p.newValue()
		nv.value, nv.pos = pyStrip(val), pos
		cur.set(optname, nv)
		if cur != p.defaults && strings.Contains(nv.value, "%(here)s") {
			p.hereRefs = append(p.hereRefs, hereRef{cur, optname})
		}
	}
	p.joinValues()
	if len(bad) == 0 {
		return nil
	}
	msg := "Source contains parsing errors: " + pyRepr(name)
	for _, b := range bad {
		msg += fmt.Sprintf("\n\t[line %2d]: %s", b.no, pyRepr(b.python()))
	}
	errs := make(ErrorList, len(bad))
	for i, b := range bad {
		errs[i] = &Error{
			Pos:  Pos{name, b.no},
			Err:  fmt.Errorf("%w: %s is neither a [section] header nor a key=value line", ErrSyntax, pyRepr(pyStrip(b.text))),
			Hint: "write key=value, or indent the line deeper than its key to continue a value",
		}
	}
	errs[0].Supervisor = msg
	return errs
}

// continueValue adds a continuation line (or a kept blank line) to a value.
func (p *iniParser) continueValue(s *iniSection, key, line string) {
	v, _ := s.get(key)
	if v.lines == nil {
		v.lines = []string{v.value}
		p.unjoined = append(p.unjoined, pendingValue{v, hereRef{s, key}})
	}
	v.lines = append(v.lines, line)
}

// joinValues is configparser's _join_multiline_values, for the values
// of the file just read (the others were joined before).
func (p *iniParser) joinValues() {
	for _, u := range p.unjoined {
		u.v.value = pyRstrip(strings.Join(u.v.lines, "\n"))
		u.v.lines = nil
		if u.ref.s != p.defaults && strings.Contains(u.v.value, "%(here)s") {
			p.hereRefs = append(p.hereRefs, u.ref)
		}
	}
	p.unjoined = p.unjoined[:0]
	// keep only the references whose value holds "%(here)s"
	refs := p.hereRefs[:0]
	for _, r := range p.hereRefs {
		if v, _ := r.s.get(r.key); strings.Contains(v.value, "%(here)s") {
			refs = append(refs, r)
		}
	}
	p.hereRefs = refs
}

// matchHeader is configparser's SECTCRE: "[" + anything, greedily + "]".
func matchHeader(value string) (string, bool) {
	if len(value) < 3 || value[0] != '[' {
		return "", false
	}
	end := strings.LastIndexByte(value, ']')
	if end < 2 {
		return "", false
	}
	// "." in Python's re does not match "\n"; value holds none.
	return value[1:end], true
}

// splitOption is configparser's OPTCRE: the key is everything before the
// first "=" or ":", the value everything after, both stripped later.
func splitOption(value string) (key, val string, ok bool) {
	i := strings.IndexAny(value, "=:")
	if i < 0 {
		return "", "", false
	}
	key = strings.TrimRightFunc(value[:i], pyIsSpace)
	val = strings.TrimLeftFunc(value[i+1:], pyIsSpace)
	return key, val, true
}

// checkUTF8 reports the first byte that Python's UTF-8 decoder rejects,
// in its words.
func checkUTF8(name string, data []byte) *Error {
	if utf8.Valid(data) {
		return nil
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || size > 1 {
			i += size
			continue
		}
		reason := "invalid start byte"
		b := data[i]
		if n := utf8SeqLen(b); n > 1 {
			reason = "invalid continuation byte"
			if i+n > len(data) && prefixOK(data[i:]) {
				reason = "unexpected end of data"
			}
		}
		line := countLines(string(data[:i]))
		if i == 0 || data[i-1] == '\n' || data[i-1] == '\r' {
			line++
		}
		msg := fmt.Sprintf("'utf-8' codec can't decode byte 0x%02x in position %d: %s", b, i, reason)
		return &Error{
			Pos:  Pos{name, line},
			Err:  fmt.Errorf("%w: %s", ErrSyntax, msg),
			Hint: "save the file as UTF-8",
			// Supervisor reads text in chunks; for files over 8 KiB its
			// position counts from the chunk start.
			Supervisor: msg,
		}
	}
	return nil
}

// utf8SeqLen is the length a UTF-8 lead byte announces, or 1 if it is
// not a valid lead byte for Python's decoder.
func utf8SeqLen(b byte) int {
	switch {
	case b >= 0xc2 && b <= 0xdf:
		return 2
	case b >= 0xe0 && b <= 0xef:
		return 3
	case b >= 0xf0 && b <= 0xf4:
		return 4
	}
	return 1
}

// prefixOK reports whether the truncated sequence at the end of data is a
// valid prefix of a UTF-8 character.
func prefixOK(data []byte) bool {
	b := data[0]
	for j := 1; j < len(data); j++ {
		c := data[j]
		lo, hi := byte(0x80), byte(0xbf)
		if j == 1 {
			switch b {
			case 0xe0:
				lo = 0xa0
			case 0xed:
				hi = 0x9f
			case 0xf0:
				lo = 0x90
			case 0xf4:
				hi = 0x8f
			}
		}
		if c < lo || c > hi {
			return false
		}
	}
	return true
}
