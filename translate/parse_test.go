package translate

import (
	"syscall"
	"testing"
)

func TestExportedConverters(t *testing.T) {
	if s, err := SignalNumber("SIGUSR2"); err != nil || s != syscall.SIGUSR2 {
		t.Errorf("SignalNumber(SIGUSR2) = %v, %v", s, err)
	}
	if _, err := SignalNumber("NOPE"); err == nil {
		t.Error("SignalNumber(NOPE): no error")
	}
	if n, err := ByteSize("50MB"); err != nil || n != 50*1024*1024 {
		t.Errorf("ByteSize(50MB) = %d, %v", n, err)
	}
	if n, err := OctalType("022"); err != nil || n != 0o22 {
		t.Errorf("OctalType(022) = %o, %v", n, err)
	}
	if l, err := LoggingLevel("WARN"); err != nil || l != "warn" {
		t.Errorf("LoggingLevel(WARN) = %q, %v", l, err)
	}
	if u, err := NameToUID("0"); err != nil || u != 0 {
		t.Errorf("NameToUID(0) = %d, %v", u, err)
	}
}
