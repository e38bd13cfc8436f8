// Package translate reads a supervisord.conf, with its includes, exactly
// as Supervisor 4.2.5 does, into one typed model: Config, its Groups and
// their Processes after numprocs expansion, every value with the file and
// line it came from.
//
// Load is the entry point. It follows Supervisor's own code step by step
// (options.py's read_config, process_groups_from_parser and
// _processes_from_section, over Python's configparser): the ini dialect
// (ini.go), Python's %-expansion with the names Supervisor offers each key
// (pyformat.go), shlex and the datatype converters (shlex.go,
// datatypes.go), includes and %(here)s (load.go, glob.go), and the
// sections (sections.go, groups.go). Where Supervisor stops at the first
// problem, Load goes on and returns an ErrorList of all of them, in the
// order Supervisor would meet them, each naming file:line; the first
// carries Supervisor's exact message (SupervisorMessage).
//
// Options.Lenient takes out what Supervisor checks on the host (users,
// directories, Python modules, unset %(ENV_X)s), for configs written for
// another machine, as shared/oracle/supervisor-parse.py --lenient does.
//
// The package owns parsing, defaults and validation, and nothing else:
// it imports only the standard library, starts no process, writes no
// file, and the Config it returns is plain data that consumers never
// re-parse or re-default. It knows nothing of systemd or of any output
// format.
package translate
