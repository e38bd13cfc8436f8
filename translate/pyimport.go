package translate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// pythonBuiltins are sys.builtin_module_names of Debian's python3.11.
var pythonBuiltins = strings.Fields(`_abc _ast _bisect _blake2 _codecs _collections _csv
_datetime _elementtree _functools _heapq _imp _io _locale _md5 _opcode _operator _pickle
_posixsubprocess _random _sha1 _sha256 _sha3 _sha512 _signal _socket _sre _stat _statistics
_string _struct _symtable _thread _tokenize _tracemalloc _warnings _weakref array atexit
binascii builtins cmath errno faulthandler fcntl gc grp itertools marshal math posix pwd
pyexpat select spwd sys syslog time unicodedata xxsubtype zlib`)

// pythonPath is where Debian's python3 (which runs supervisord) imports
// modules from: the standard library, then site packages.
func pythonPath() []string {
	var dirs []string
	std, _ := filepath.Glob("/usr/lib/python3.[0-9]*")
	for _, d := range std {
		dirs = append(dirs, d, d+"/lib-dynload")
	}
	local, _ := filepath.Glob("/usr/local/lib/python3.[0-9]*/dist-packages")
	return append(append(dirs, local...), "/usr/lib/python3/dist-packages")
}

// pyModuleExists reports whether Python on this host could import
// module: a package or namespace directory, a .py file or an extension
// module for each dotted part. It looks at files only; it cannot tell
// whether importing would succeed.
func pyModuleExists(module string) bool {
	parts := strings.Split(module, ".")
	if len(parts) == 1 && slices.Contains(pythonBuiltins, module) {
		return true
	}
	for _, dir := range pythonPath() {
		if pyModuleIn(dir, parts) {
			return true
		}
	}
	return false
}

func pyModuleIn(dir string, parts []string) bool {
	for i, p := range parts {
		base := filepath.Join(dir, p)
		last := i == len(parts)-1
		if fi, err := os.Stat(base); err == nil && fi.IsDir() {
			dir = base
			continue
		}
		if !last {
			return false
		}
		if _, err := os.Stat(base + ".py"); err == nil {
			return true
		}
		so, _ := filepath.Glob(base + ".*.so")
		return len(so) > 0
	}
	return true
}
