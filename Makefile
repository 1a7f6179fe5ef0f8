# twitch-servitor: `make` builds every command into build/bin; `make check` installs what is
# missing, builds, runs the static checks (lint) and every unit and end-to-end test. See README.md.

PREFIX   ?= /usr/local
SANITIZE ?=
JOBS     ?= $(shell nproc)
ifeq ($(SANITIZE),)
BUILD    ?= build
else
BUILD    ?= build-sanitize
endif
# A sanitized tree leaves out the libFuzzer targets: they are built with ASan and UBSan in every
# tree anyway, so build/fuzz has the same binaries.
CMAKE_FLAGS = -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DSANITIZE=$(SANITIZE) \
              -DSERVITOR_FUZZ=$(if $(SANITIZE),OFF,ON)

.PHONY: all deps configure check lint lint-bats format-check tidy unit e2e fuzz install clean format

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@[ -f $(BUILD)/CMakeCache.txt ] && grep -q "^SANITIZE:STRING=$(SANITIZE)$$" $(BUILD)/CMakeCache.txt \
	  && grep -q "^CMAKE_INSTALL_PREFIX:PATH=$(PREFIX)$$" $(BUILD)/CMakeCache.txt \
	  || cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

deps:
	@scripts/install-deps

check: deps
	$(MAKE) all
	$(MAKE) -k lint unit e2e

# The static checks: Bats lines that cannot fail a test, the format, clang-tidy.
lint: lint-bats format-check tidy

lint-bats:
	tests/lint-bats tests/e2e/*.bats

format-check:
	clang-format --dry-run -Werror $$(find cmd lib -name '*.cc' -o -name '*.h' | sort)

tidy: configure
	scripts/tidy $(BUILD) $(JOBS)

unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

e2e:
	SERVITOR_BIN=$(abspath $(BUILD))/bin tests/e2e/run

# Each libFuzzer target for SECONDS seconds (tests/fuzz/run); needs clang++ with libFuzzer.
SECONDS ?= 60
fuzz:
	$(MAKE) all SANITIZE=
	tests/fuzz/run $(SECONDS) build

install: all
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build build-sanitize
