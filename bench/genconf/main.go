// Genconf writes a large supervisord.conf for the parse benchmark
// (bench/parse.sh): a main file and a conf.d directory that it includes.
// The configuration is described in internal/genconf.
//
// Usage:
//
//	go run ./bench/genconf [-programs 5000] [-included 0.4] DIR
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/supersede/supersede/internal/genconf"
)

func main() {
	programs := flag.Int("programs", 5000, "number of [program:x] sections")
	included := flag.Float64("included", 0.4, "share of the programs defined in conf.d/*.conf")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: genconf [-programs N] [-included SHARE] DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *programs < 1 || *included < 0 || *included > 1 {
		flag.Usage()
		os.Exit(2)
	}
	summary, err := genconf.Write(flag.Arg(0), *programs, *included)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genconf:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "genconf:", summary)
}
