// Package depcheck holds one test, the module's import rules (STYLE.md
// §1: a third-party library lives in one package): which package alone
// may import each library, and which layers must not depend on which.
// The rules used to be four copies of the same `go list` walk, one in
// each package they protect; one table now states them all, read from
// one `go list` of the module.
package depcheck
