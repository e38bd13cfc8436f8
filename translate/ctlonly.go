package translate

import (
	"errors"
	"os"
)

// LoadCtl reads the [supervisorctl] section of the file at path as
// supervisorctl 4.2.5 reads it (ClientOptions.read_config): only that
// file, without its [include]s, and without looking at any other section
// but [ctlplugin:x], so a file whose [program:x] sections supervisord
// would reject still serves supervisorctl.
//
// When supervisorctl refuses the file with a usage error (it prints
// "Error: " and the text, and exits 2) the returned Ctl's Err holds that
// text: "could not find config file F", "could not read config file F",
// ".ini file does not include supervisorctl section", an expansion error.
// An error is returned instead where supervisorctl crashes with a Python
// traceback (exit 1): the file is not UTF-8 or not valid ini syntax;
// SupervisorMessage gives the exception's text.
func LoadCtl(path string, opts Options) (*Ctl, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	l := newLoader(path, opts, nil)
	host := l.absHost(path)
	fi, err := os.Stat(host)
	if err != nil {
		// os.path.exists is false for any stat error
		return &Ctl{Prompt: "supervisor", Err: "could not find config file " + path}, nil
	}
	if fi.IsDir() {
		// open() of a directory fails with IsADirectoryError
		return &Ctl{Prompt: "supervisor", Err: "could not read config file " + path}, nil
	}
	data, err := l.opts.readFile(host)
	if err != nil {
		return &Ctl{Prompt: "supervisor", Err: "could not read config file " + path}, nil
	}
	p := newIniParser()
	if errs := p.read(path, data); errs != nil {
		return nil, errs
	}
	main := &mainRead{path: path, dir: l.opts.Dir, p: p}
	if !p.has("supervisorctl") {
		return &Ctl{Prompt: "supervisor", Err: ".ini file does not include supervisorctl section", main: main}, nil
	}
	l.p = p
	l.ctlIni = p
	c := l.ctl()
	if c == nil {
		return nil, errors.New("translate: [supervisorctl] section vanished while reading it")
	}
	c.main = main
	return c, nil
}
