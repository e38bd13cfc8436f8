package translate

import (
	"math/rand"
	"os"
	"os/user"
	"strconv"
	"testing"
)

func TestPathNormpath(t *testing.T) {
	for in, want := range map[string]string{
		"": ".", ".": ".", "/": "/", "//": "//", "///": "/", "////a": "/a",
		"//a/b": "//a/b", "//a//b/": "//a/b", "/a/./b/../c": "/a/c", "a/b/../../..": "..",
		"../a": "../a", "/../a": "/a", "//../a": "//a", "a/": "a", "./a": "a", "a/../": ".",
		"/a/b": "/a/b", "a\x00b/./c": "a\x00b/c", "...": "...", "a/...//b": "a/.../b",
	} {
		t.Run("normpath="+in, func(t *testing.T) {
			if got := pyNormpath(in); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		})
	}
}

func TestPathAbspath(t *testing.T) {
	for _, tt := range []struct{ in, cwd, want string }{
		{"a", "/srv", "/srv/a"}, {"../x", "/srv/app", "/srv/x"}, {"", "/srv", "/srv"},
		{"/abs/./p", "/srv", "/abs/p"}, {"a", "/", "/a"}, {"x", "//h", "//h/x"},
	} {
		t.Run("abspath="+tt.in+"@"+tt.cwd, func(t *testing.T) {
			if got := pyAbspath(tt.in, tt.cwd); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPathExpandUser(t *testing.T) {
	root, err := user.LookupId("0")
	if err != nil {
		t.Skip("no uid 0")
	}
	rootHome := root.HomeDir
	for _, tt := range []struct{ in, home, want string }{
		{"x/~", "/h", "x/~"}, {"~", "/h", "/h"}, {"~/a", "/h/", "/h/a"}, {"~/a", "/", "/a"},
		{"~", "/", "/"}, {"~" + root.Username + "/x", "/h", rootHome + "/x"},
		{"~no such user/x", "/h", "~no such user/x"}, {"~~", "/h", "~~"},
	} {
		t.Run("expanduser="+tt.in+"@"+tt.home, func(t *testing.T) {
			if got := pyExpandUser(tt.in, tt.home); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("expanduser=~ without HOME", func(t *testing.T) {
		me, err := user.Current()
		if err != nil {
			t.Skip(err)
		}
		if got, want := pyExpandUser("~/x", ""), pyNormpath(me.HomeDir+"/x"); pyNormpath(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
	t.Run("normalize=~/log", func(t *testing.T) {
		if got := normalizePath("~/a/../log", "/cwd", "/home/h"); got != "/home/h/log" {
			t.Fatalf("got %q", got)
		}
		if got := normalizePath("rel/./x", "/cwd", "/home/h"); got != "/cwd/rel/x" {
			t.Fatalf("got %q", got)
		}
		if got := normalizePath("//x/../y", "/cwd", "/home/h"); got != "//y" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestPathDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	alphabet := append(dtPieces("//./ab~\x00\u00e9"), "..", "../", "/..", "//", "~root", "~nosuchuser")
	cwds := []string{"/", "/tmp", "/usr/lib"}
	home := "/home/someone/"
	var calls [][]any
	var ins []string
	for i := 0; i < 4000; i++ {
		s := dtRandString(rng, alphabet, 10)
		ins = append(ins, s)
		calls = append(calls, []any{"normpath", s}, []any{"abspath", s, cwds[i%len(cwds)]}, []any{"expanduser", s}, []any{"normalize", s, cwds[i%len(cwds)]})
	}
	t.Setenv("HOME", home)
	res := dtPython(t, calls)
	for i, s := range ins {
		q := strconv.Quote(s)
		dtCheck(t, "normpath("+q+")", res[4*i], pyNormpath(s), nil)
		dtCheck(t, "abspath("+q+")", res[4*i+1], pyAbspath(s, cwds[i%len(cwds)]), nil)
		if r := res[4*i+3]; r.Err == nil {
			dtCheck(t, "normalize_path("+q+")", r, normalizePath(s, cwds[i%len(cwds)], home), nil)
		}
		if r := res[4*i+2]; r.Err != nil && *r.Err == "embedded null byte" {
			// Known difference: pwd.getpwnam raises for "~a\x00b";
			// pyExpandUser has no error and leaves the path unchanged.
			if got := pyExpandUser(s, home); got != s {
				t.Errorf("expanduser(%s) = %q, want it unchanged", q, got)
			}
		} else {
			dtCheck(t, "expanduser("+q+")", r, pyExpandUser(s, os.Getenv("HOME")), nil)
		}
		if t.Failed() && i > 100 {
			t.FailNow()
		}
	}
}
