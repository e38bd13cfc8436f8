package translate

import _ "embed"

// Sample is the sample configuration of Supervisor 4.2.5
// (supervisor/skel/sample.conf, under Supervisor's BSD-style licence),
// byte for byte: what `echo_supervisord_conf` prints and
// `supersede sample-config` prints too. Every program section in it is
// commented out, so it loads and converts with no warning.
//
//go:embed sample.conf
var Sample string
