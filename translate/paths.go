package translate

// Python's posixpath.normpath, abspath and expanduser, written by hand:
// path.Clean follows the same lexical rules as normpath except that it never
// keeps a leading "//" (normpath keeps exactly two: "//a" stays "//a"), and
// Go has no expanduser.

import (
	"os/user"
	"strings"
)

// pyNormpath is Python 3.11's posixpath.normpath: collapses "//", "." and
// "x/.."; ".." at the root is dropped, leading ".." of a relative path kept;
// exactly two leading slashes are kept (POSIX), three or more become one;
// "" is ".".
func pyNormpath(p string) string {
	if p == "" {
		return "."
	}
	initial := 0
	if p[0] == '/' {
		initial = 1
		if len(p) > 1 && p[1] == '/' && (len(p) == 2 || p[2] != '/') {
			initial = 2
		}
	}
	// Fast path: already normal.
	if pathIsNormal(p, initial) {
		return p
	}
	comps := make([]string, 0, 8)
	rest := p
	for {
		comp, tail, more := strings.Cut(rest, "/")
		switch {
		case comp == "" || comp == ".":
		case comp != ".." || (initial == 0 && len(comps) == 0) || (len(comps) > 0 && comps[len(comps)-1] == ".."):
			comps = append(comps, comp)
		case len(comps) > 0:
			comps = comps[:len(comps)-1]
		}
		if !more {
			break
		}
		rest = tail
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < initial; i++ {
		b.WriteByte('/')
	}
	for i, c := range comps {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(c)
	}
	if b.Len() == 0 {
		return "."
	}
	return b.String()
}

// pathIsNormal reports whether pyNormpath(p) == p for a p with initial
// leading slashes: no empty, "." or ".." components after the prefix and
// no trailing slash.
func pathIsNormal(p string, initial int) bool {
	if len(p) == initial {
		return initial > 0
	}
	s := p[initial:]
	if s[len(s)-1] == '/' {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '/' {
			c := s[start:i]
			if c == "" || c == "." || c == ".." {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// pyAbspath is Python's posixpath.abspath with cwd as os.getcwd():
// normpath(join(cwd, p)) for a relative p, normpath(p) otherwise.
func pyAbspath(p, cwd string) string {
	if !strings.HasPrefix(p, "/") {
		switch {
		case cwd == "" || strings.HasSuffix(cwd, "/"):
			p = cwd + p
		default:
			p = cwd + "/" + p
		}
	}
	return pyNormpath(p)
}

// pyExpandUser is Python's posixpath.expanduser with home as $HOME: "~" and
// "~/x" use home (or, when home is "", the password database entry of the
// current user, as Python does with HOME unset); "~user/x" uses that
// user's home directory (os/user), and the path is returned unchanged when
// the user is unknown. A HOME set to the empty string cannot be expressed
// here (Python would use "" and give "/..." for "~/...").
func pyExpandUser(p, home string) string {
	return pathExpandUser(p, home, home != "")
}

// pathExpandUser is posixpath.expanduser; homeSet says whether $HOME is set.
func pathExpandUser(p, home string, homeSet bool) string {
	if !strings.HasPrefix(p, "~") {
		return p
	}
	i := strings.IndexByte(p[1:], '/') + 1
	if i == 0 {
		i = len(p)
	}
	var userhome string
	if i == 1 {
		if homeSet {
			userhome = home
		} else {
			u, err := user.Current()
			if err != nil {
				return p
			}
			userhome = u.HomeDir
		}
	} else {
		name := p[1:i]
		if strings.IndexByte(name, 0) >= 0 {
			return p
		}
		u, err := user.Lookup(name)
		if err != nil {
			return p
		}
		userhome = u.HomeDir
	}
	userhome = strings.TrimRight(userhome, "/")
	if r := userhome + p[i:]; r != "" {
		return r
	}
	return "/"
}

// normalizePath is Supervisor's options.normalize_path:
// normpath(abspath(expanduser(p))), with home as $HOME (see pyExpandUser)
// and cwd as the current directory.
func normalizePath(p, cwd, home string) string {
	if strings.HasPrefix(p, "~") {
		p = pyExpandUser(p, home)
	}
	return pyAbspath(p, cwd)
}
