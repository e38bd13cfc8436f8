// Package oracle renders a translate.Config as the JSON document that
// shared/oracle/supervisor-parse.py prints for the real Supervisor, key
// for key and byte for byte (Python's json.dumps with indent=1), so that
// parity with Supervisor is a diff: `supersede show --json` uses it, and
// the differential tests here compare it with the stored and the live
// oracle on the oracle cases, the real-world corpus, random configs and
// the regression cases in testdata/regress.
//
// It is an output format only: it reads the model and never changes it.
package oracle
