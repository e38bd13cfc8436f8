package translate

import "syscall"

// The converters below are Supervisor's datatypes, exported for what reads
// the same values outside a config file: supervisord's command-line
// overrides (supersede run -y 10MB, -m 022, -e debug, -u www-data) and
// signal names given over XML-RPC (signalProcess). Errors carry
// Supervisor's own texts.

// SignalNumber is Supervisor's signal_number: "TERM", "SIGTERM" or "15".
func SignalNumber(s string) (syscall.Signal, error) { return signalNumber(s) }

// ByteSize is Supervisor's byte_size: "50MB", "1KB", "1024".
func ByteSize(s string) (int64, error) { return byteSize(s) }

// OctalType is Supervisor's octal_type: "022".
func OctalType(s string) (int, error) { return octalType(s) }

// LoggingLevel is Supervisor's logging_level: the lower-case level name.
func LoggingLevel(s string) (string, error) { return loggingLevel(s) }

// NameToUID is Supervisor's name_to_uid: a user name or a numeric uid.
func NameToUID(name string) (int, error) { return nameToUID(name) }

// PyRepr is Python's repr() of a str, as Supervisor writes a name into
// its messages and logs ('web', "it's", '\x00'), with Python 3.11's
// rules for what it prints and what it escapes.
func PyRepr(s string) string { return pyRepr(s) }
