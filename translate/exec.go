package translate

import (
	"os"
	"strings"
	"syscall"
)

// Exec is what supervisord would execve for a process at spawn time, or
// the spawn error it would record instead.
type Exec struct {
	Filename string   // after the PATH search
	Argv     []string // argv[0] is kept as written
	Err      string   // Supervisor's spawn error text, "" when spawnable
	Kind     string   // BadCommand, NotFound, NotExecutable or NoPermission
}

// ResolveExec is Supervisor's Subprocess.get_execv_args on this host:
// split the command as shlex does, then search PATH (the process's own
// PATH from its environment, else environ's, else /bin:/usr/bin:/usr/local/bin)
// taking the first directory where stat succeeds, and check the file.
// Relative paths resolve against dir, supervisord's current directory.
func ResolveExec(p *Process, osEnv []string, dir string) Exec {
	if p.ArgvErr != nil {
		return Exec{Err: "can't parse command " + pyRepr(p.Command) + ": " + p.ArgvErr.Error(), Kind: "BadCommand"}
	}
	if len(p.Argv) == 0 {
		return Exec{Err: "command is empty", Kind: "BadCommand"}
	}
	at := func(name string) string {
		if name == "" || strings.HasPrefix(name, "/") {
			return name // stat("") fails, as in Python
		}
		return pyJoin(dir, name)
	}
	program := p.Argv[0]
	filename := program
	var st os.FileInfo
	if strings.Contains(program, "/") {
		st, _ = os.Stat(at(program))
	} else {
		for _, d := range execPath(p, osEnv) {
			found := pyJoin(d, program)
			if fi, err := os.Stat(at(found)); err == nil {
				st, filename = fi, found
				break
			}
		}
	}
	e := Exec{Filename: filename, Argv: p.Argv}
	switch {
	case st == nil:
		return Exec{Err: "can't find command " + pyRepr(filename), Kind: "NotFound"}
	case st.IsDir():
		return Exec{Err: "command at " + pyRepr(filename) + " is a directory", Kind: "NotExecutable"}
	case st.Mode().Perm()&0o111 == 0:
		return Exec{Err: "command at " + pyRepr(filename) + " is not executable", Kind: "NotExecutable"}
	case syscall.Access(at(filename), 1 /* X_OK */) != nil:
		return Exec{Err: "no permission to run command " + pyRepr(filename), Kind: "NoPermission"}
	}
	return e
}

// execPath is ProcessConfig.get_path.
func execPath(p *Process, osEnv []string) []string {
	if path, ok := p.Env.Get("PATH"); ok {
		return strings.Split(path, ":")
	}
	if path, ok := environ(osEnv).Get("PATH"); ok && path != "" {
		return strings.Split(path, ":")
	}
	return []string{"/bin", "/usr/bin", "/usr/local/bin"}
}
