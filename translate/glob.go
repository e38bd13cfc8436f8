package translate

import (
	"os"
	"strings"
)

// pyGlob is Python 3.11's glob.glob(pattern) without recursion: "*", "?"
// and "[...]" per path component, hidden names matched only by a
// component that starts with ".", a pattern without magic returned when
// the path exists (even broken symlinks, as os.path.lexists), results in
// directory-listing order (the caller sorts them).
//
// path/filepath.Glob is not used because it differs from Python's glob in
// ways that change which files Supervisor includes: its "*" matches
// hidden files, "[!a]" is not a negation there, "\" escapes, and a lone
// "[" is a syntax error where fnmatch takes it literally.
func pyGlob(pattern string) []string {
	if !pyHasMagic(pattern) {
		if _, err := os.Lstat(pattern); err == nil {
			return []string{pattern}
		}
		return nil
	}
	dir, base := pySplitPath(pattern)
	var dirs []string
	switch {
	case dir == "":
		dirs = []string{""}
	case dir != pattern && pyHasMagic(dir):
		dirs = pyGlob(dir)
	default:
		dirs = []string{dir}
	}
	var out []string
	for _, d := range dirs {
		if pyHasMagic(base) {
			for _, name := range pyGlobDir(d, base) {
				out = append(out, pyJoin(d, name))
			}
		} else if base == "" {
			// "dir/" matches the directory itself
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				out = append(out, pyJoin(d, base))
			}
		} else if _, err := os.Lstat(pyJoin(d, base)); err == nil {
			out = append(out, pyJoin(d, base))
		}
	}
	return out
}

// pyGlobDir lists the names in dir that match the pattern.
func pyGlobDir(dir, pattern string) []string {
	d := dir
	if d == "" {
		d = "."
	}
	entries, err := os.ReadDir(d)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if name[0] == '.' && pattern[0] != '.' {
			continue
		}
		if fnmatch(name, pattern) {
			out = append(out, name)
		}
	}
	return out
}

// pyHasMagic is glob.has_magic.
func pyHasMagic(s string) bool { return strings.ContainsAny(s, "*?[") }

// pySplitPath is os.path.split: the head keeps no trailing slashes unless
// it is all slashes.
func pySplitPath(p string) (head, tail string) {
	i := strings.LastIndexByte(p, '/') + 1
	head, tail = p[:i], p[i:]
	if head != "" && strings.Trim(head, "/") != "" {
		head = strings.TrimRight(head, "/")
	}
	return head, tail
}

// pyJoin is os.path.join for two parts.
func pyJoin(a, b string) string {
	if strings.HasPrefix(b, "/") || a == "" {
		return b
	}
	if strings.HasSuffix(a, "/") {
		return a + b
	}
	return a + "/" + b
}

// fnmatch matches name against a shell pattern as Python's fnmatch does:
// "*" any run, "?" one character, "[seq]" / "[!seq]" with ranges, and a
// "[" without a closing "]" matching itself.
func fnmatch(name, pattern string) bool {
	n := []rune(name)
	p := []rune(pattern)
	// classic backtracking matcher with one saved star position
	ni, pi := 0, 0
	starP, starN := -1, 0
	for ni < len(n) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				starP, starN = pi, ni
				pi++
				continue
			case '?':
				ni++
				pi++
				continue
			case '[':
				if ok, next, valid := fnmatchClass(p, pi, n[ni]); valid {
					if ok {
						ni++
						pi = next
						continue
					}
				} else if n[ni] == '[' {
					ni++
					pi++
					continue
				}
			default:
				if p[pi] == n[ni] {
					ni++
					pi++
					continue
				}
			}
		}
		if starP >= 0 {
			starN++
			ni, pi = starN, starP+1
			continue
		}
		return false
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// fnmatchClass matches c against the class starting at p[i] == '['.
// valid is false when the class has no closing "]".
func fnmatchClass(p []rune, i int, c rune) (ok bool, next int, valid bool) {
	j := i + 1
	if j < len(p) && p[j] == '!' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for j < len(p) && p[j] != ']' {
		j++
	}
	if j >= len(p) {
		return false, 0, false
	}
	set := p[i+1 : j]
	negate := false
	if len(set) > 0 && set[0] == '!' {
		negate = true
		set = set[1:]
	}
	match := false
	for k := 0; k < len(set); k++ {
		if k+2 < len(set) && set[k+1] == '-' {
			if set[k] <= c && c <= set[k+2] {
				match = true
			}
			k += 2
			continue
		}
		if set[k] == c {
			match = true
		}
	}
	return match != negate, j + 1, true
}
