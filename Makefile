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

# Under sanitizers every report goes to a file in $(BUILD)/sanitizer-logs (a background command's
# report would otherwise be lost with its stderr), which `make check` requires to be empty at the
# end (tests/sanitizer-check); tests/lsan.supp holds the leak suppressions, third-party only.
ifneq ($(SANITIZE),)
SANITIZER_LOGS = $(abspath $(BUILD))/sanitizer-logs
export ASAN_OPTIONS = log_path=$(SANITIZER_LOGS)/asan:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS = log_path=$(SANITIZER_LOGS)/ubsan:print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS = suppressions=$(abspath tests/lsan.supp):print_suppressions=0
# The browser tests skip themselves in a sanitized suite (tests/e2e/helpers.bash): they test the
# pages, the same JavaScript in either suite, and chromium is the heaviest load of the run;
# ws-serve under the sanitizers has its own end-to-end files.
export SERVITOR_SANITIZED = $(SANITIZE)
endif
# Every test's directory of the end-to-end run is kept here for tests/secrets-check.
E2E_LOGS = $(abspath $(BUILD))/test-logs

.PHONY: all deps configure check lint lint-bats format-check tidy unit e2e faults fuzz install clean format

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@[ -f $(BUILD)/CMakeCache.txt ] && grep -q "^SANITIZE:STRING=$(SANITIZE)$$" $(BUILD)/CMakeCache.txt \
	  && grep -q "^CMAKE_INSTALL_PREFIX:PATH=$(PREFIX)$$" $(BUILD)/CMakeCache.txt \
	  || cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

deps:
	@scripts/install-deps

# The unit and end-to-end tests run while the fault tests and the static checks run beside
# them, each with its output in a file, printed after: most of the tests' time is spent waiting on
# processes and timers. The fault tests start their own RabbitMQ node (they kill one, and
# tests/e2e/amqp-restart.bats restarts the run's). The static checks run in the plain tree only
# (they read the sources, which a sanitized tree shares), niced: they wait on nothing.
check: deps
	$(MAKE) all
	@rm -rf $(SANITIZER_LOGS)
	@status=0; \
	env -u AMQP_TEST_URL -u AMQPS_TEST_URL -u AMQP_TEST_DIR -u RABBITMQ_NODENAME \
	  $(MAKE) faults >$(BUILD)/faults.log 2>&1 & faults=$$!; \
	$(if $(SANITIZE),lint=;,{ t=$$(date +%s); nice -n 10 $(MAKE) -k lint; rc=$$?; \
	  echo "lint: $$(( $$(date +%s) - t )) s"; exit $$rc; } >$(BUILD)/lint.log 2>&1 & lint=$$!;) \
	$(MAKE) -k unit e2e || status=$$?; \
	if [ -n "$$lint" ]; then wait $$lint || status=1; cat $(BUILD)/lint.log; fi; \
	wait $$faults || status=1; cat $(BUILD)/faults.log; \
	$(if $(SANITIZE),tests/sanitizer-check $(SANITIZER_LOGS) || status=1;) exit $$status

# The static checks: Bats lines that cannot fail a test, the format, clang-tidy.
lint: lint-bats format-check tidy

lint-bats:
	tests/lint-bats tests/e2e/*.bats tests/faults/*.bats

format-check:
	clang-format --dry-run -Werror $$(find cmd lib -name '*.cc' -o -name '*.h' | sort)

tidy: configure
	scripts/tidy $(BUILD) $(JOBS)

unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The end-to-end tests, then the search of everything they logged for the suite's secrets.
e2e:
	@status=0; SERVITOR_BIN=$(abspath $(BUILD))/bin SERVITOR_TEST_LOGS=$(E2E_LOGS) \
	  tests/e2e/run || status=$$?; tests/secrets-check $(E2E_LOGS) || status=1; exit $$status

# Stages killed, full and closed outputs, full and read-only file systems, clock jumps, DNS and
# TLS failures (tests/faults; the mounts need root, and skip without it).
faults:
	SERVITOR_BIN=$(abspath $(BUILD))/bin tests/faults/run

# Builds the libFuzzer targets (not part of `all`), then runs each for SECONDS seconds
# (tests/fuzz/run); needs clang++ with libFuzzer.
SECONDS ?= 60
fuzz:
	$(MAKE) all SANITIZE=
	cmake --build build --target fuzz_targets -j $(JOBS)
	tests/fuzz/run $(SECONDS) build

install: all
	cmake --install $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf build build-sanitize
