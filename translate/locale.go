package translate

// CoercedLocale is the LC_CTYPE that supervisord, a Python 3.11 program,
// sets in its own environment at start-up when started in the C locale
// (PEP 538 locale coercion), so that every child inherits it: "C.UTF-8",
// or "" when Python leaves the environment alone. Python coerces when
// LC_ALL is unset or empty, the LC_CTYPE locale (LC_CTYPE, else LANG) is
// C or POSIX or unset, and PYTHONCOERCECLOCALE is not "0". A locale name
// that is not installed also leaves Python in C; that case is not seen
// here (it would need the host's locale archive), and Python then
// coerces where this says "".
func CoercedLocale(environ []string) string {
	get := func(name string) string {
		for i := len(environ) - 1; i >= 0; i-- {
			kv := environ[i]
			if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
				return kv[len(name)+1:]
			}
		}
		return ""
	}
	if get("LC_ALL") != "" || get("PYTHONCOERCECLOCALE") == "0" {
		return ""
	}
	ctype := get("LC_CTYPE")
	if ctype == "" {
		ctype = get("LANG")
	}
	switch ctype {
	case "", "C", "POSIX":
		return "C.UTF-8"
	}
	return ""
}
