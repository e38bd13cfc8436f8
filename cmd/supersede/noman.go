//go:build !mangen

package main

// manCommands is empty in the supersede that is installed: its man pages
// come from a build with the tag mangen (man.go).
var manCommands []command
