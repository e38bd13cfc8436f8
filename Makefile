# Thin wrappers around go; `make` or `make help` lists the targets.

VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PREFIX   ?= /usr/local
FUZZTIME ?= 30s
LDFLAGS  := -X main.version=$(VERSION)

.DEFAULT_GOAL := help
.PHONY: help build test check bench bench-fallback bench-storm bench-ctl bench-serve fuzz update install example demo deps

help:    ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-8s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build:   ## binaries into bin/ (CGO_ENABLED=0, -trimpath, main.version from VERSION)
	CGO_ENABLED=0 go build -trimpath -ldflags "$(LDFLAGS)" -o bin/ ./cmd/...

test:    ## the whole test suite, race detector on, no cached results
	go test -race -count=1 -timeout 25m ./...

check:   ## gofmt, go vet, go mod tidy -diff, then test
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt -l:"; echo "$$out"; exit 1; fi
	go vet ./...
	go vet -tags mangen ./cmd/supersede ./internal/clidoc
	go mod tidy -diff
	$(MAKE) test

bench: build ## Go benchmarks, then the side-by-side scripts in bench/ (Supervisor vs supersede)
	go test -run '^$$' -bench . -benchmem ./translate/ ./internal/generator/
	bench/parse.sh
	bench/generator.sh

bench-fallback: build ## supersede run next to the real supervisord, side by side (bench/fallback/run.sh)
	SUPERSEDE=bin/supersede bench/fallback/run.sh

bench-storm: build ## a crash storm (300 programs of /bin/false, 20 s) under supervisord and supersede run, side by side (bench/fallback/storm.sh)
	SUPERSEDE=bin/supersede bench/fallback/storm.sh

bench-ctl: build ## supersede ctl next to systemctl --user and the real supervisorctl, side by side (bench/ctl/run.sh; root)
	SUPERSEDE=bin/supersede bench/ctl/run.sh

bench-serve: build ## supersede serve next to the real supervisord: getAllProcessInfo, idle wake-ups, RSS (bench/serve/run.sh; root)
	SUPERSEDE=bin/supersede bench/serve/run.sh

fuzz:    ## run each Fuzz target of translate and unitgen for FUZZTIME (default 30s)
	@for pkg in ./translate ./unitgen; do \
		list="$$(go test -list '^Fuzz' $$pkg)" || { echo "$$list"; exit 1; }; \
		targets="$$(echo "$$list" | grep '^Fuzz')" || { echo "no Fuzz targets in $$pkg"; exit 1; }; \
		for t in $$targets; do \
			echo "go test -run '^$$' -fuzz '^$$t$$' -fuzztime $(FUZZTIME) $$pkg"; \
			go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

update:  ## accept new testscript and unit golden output, retake the web UI screenshots (docs/webui), remake the regression goldens with the real Supervisor; review the diff
	go test ./cmd/supersede ./unitgen -run 'TestScript|TestGolden' -update
	go test ./internal/webui -run TestBrowser -update
	internal/oracle/testdata/regress/regen.sh

GENERATORDIR ?= /usr/lib/systemd/system-generators
MANDIR       ?= $(PREFIX)/share/man
SHAREDIR     ?= $(PREFIX)/share

install: ## supersede into PREFIX/bin (default /usr/local), supersede-generator into GENERATORDIR, man pages into MANDIR, bash/zsh/fish completion into SHAREDIR; LINKS=1 also links supervisorctl, supervisord and echo_supervisord_conf to supersede
	CGO_ENABLED=0 GOBIN="$(abspath $(PREFIX))/bin" go install -trimpath -ldflags "$(LDFLAGS)" ./cmd/supersede ./cmd/supersede-generator
	install -d "$(DESTDIR)$(GENERATORDIR)"
	ln -sf "$(abspath $(PREFIX))/bin/supersede-generator" "$(DESTDIR)$(GENERATORDIR)/supersede-generator"
	go run -tags mangen ./cmd/supersede __man "$(DESTDIR)$(MANDIR)/man1"
	install -d "$(DESTDIR)$(SHAREDIR)/bash-completion/completions" "$(DESTDIR)$(SHAREDIR)/zsh/site-functions" "$(DESTDIR)$(SHAREDIR)/fish/vendor_completions.d"
	"$(abspath $(PREFIX))/bin/supersede" completion bash >"$(DESTDIR)$(SHAREDIR)/bash-completion/completions/supersede"
	"$(abspath $(PREFIX))/bin/supersede" completion zsh >"$(DESTDIR)$(SHAREDIR)/zsh/site-functions/_supersede"
	"$(abspath $(PREFIX))/bin/supersede" completion fish >"$(DESTDIR)$(SHAREDIR)/fish/vendor_completions.d/supersede.fish"
	@if [ "$(LINKS)" = 1 ]; then \
		set -x; \
		ln -sf supersede "$(abspath $(PREFIX))/bin/supervisorctl"; \
		ln -sf supersede "$(abspath $(PREFIX))/bin/supervisord"; \
		ln -sf supersede "$(abspath $(PREFIX))/bin/echo_supervisord_conf"; \
	fi

example: build ## convert the shipped tutorial example to systemd units: print the units and the warnings
	bin/supersede convert -c testdata/examples/tutorial/supervisord.conf

demo: build ## the tutorial under systemd on this machine (root; PID 1 need not be systemd): convert, enable, ctl status/restart, kill -9, tail, tear-down
	go run ./internal/demo -supersede bin/supersede

# The Debian packages the tests use: supervisor (the oracle they compare
# with), systemd (a private user manager, internal/sdtest), bash-completion,
# zsh and fish (completion), man-db (man pages), chromium (the web page's
# browser test, internal/webui).
DEBS := supervisor systemd bash-completion zsh fish man-db chromium

deps:    ## install the Debian packages the tests need (DEBS) if missing; on a host booted with systemd, leave supervisor.service disabled and stopped (it is a test oracle here, not a service)
	@sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q ' installed$$' || echo $$p; done); \
	if [ -z "$$missing" ]; then \
		echo "installed: $(DEBS)"; \
	else \
		( set -x; $$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing ) || exit 1; \
	fi; \
	if [ -d /run/systemd/system ] && systemctl cat supervisor.service >/dev/null 2>&1; then \
		( set -x; $$sudo systemctl disable --now supervisor.service ) || exit 1; \
	fi
