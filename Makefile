# forktrace build.  `make` builds ./forktrace; `sudo make run` and
# `sudo make test` first install what is missing (scripts/install-deps.sh).

# a recipe that fails leaves no half-written target for the next make to trust
.DELETE_ON_ERROR:

VERSION := 0.1.0
HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
ARCH ?= $(HOST_ARCH)

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
# make ARCH=arm64 on an x86_64 host (or ARCH=x86 on an arm64 one): a cross
# build, in build-<arch>/ (the binary build-<arch>/forktrace; ./forktrace and
# build/ stay the host's).  Debian's cross gcc (CROSS_COMPILE, the GNU triplet
# and a dash), the target's libraries from Debian's multiarch packages
# (scripts/install-deps.sh arm64 installs both) found by pkg-config in
# /usr/lib/<triplet>/pkgconfig; clang compiles the BPF object for any target
# (-D__TARGET_ARCH_<arch> -Ivmlinux/<arch>), bpftool runs on the host.
TRIPLET_x86 := x86_64-linux-gnu
TRIPLET_arm64 := aarch64-linux-gnu
CROSS := $(filter-out $(HOST_ARCH),$(ARCH))
ifneq ($(CROSS),)
TRIPLET := $(TRIPLET_$(ARCH))
ifeq ($(TRIPLET),)
$(error ARCH=$(ARCH): no cross build for it (x86, arm64))
endif
CROSS_COMPILE ?= $(TRIPLET)-
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(TRIPLET)/pkgconfig:/usr/share/pkgconfig pkg-config
endif
# make SANITIZE=address,undefined ...: a build of its own in build-san/, the
# binary build-san/forktrace (the tests find it through FORKTRACE_BIN)
SANITIZE ?=
OUT := build$(if $(CROSS),-$(ARCH))$(if $(SANITIZE),-san)
BIN := $(if $(SANITIZE)$(CROSS),$(OUT)/forktrace,forktrace)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Wno-unused-parameter \
	-Wno-missing-field-initializers \
	-D_GNU_SOURCE -DFORKTRACE_VERSION='"$(VERSION)"' -Ibpf -Iuser -I$(OUT)
CFLAGS += $(EXTRA_CFLAGS)
# forktrace's own code (its objects, binary, unit tests, harnesses) gets
# the sanitizers; the workloads and test helpers do not (a bomb under ASan
# is another bomb)
SAN_CFLAGS := $(if $(SANITIZE),-fsanitize=$(SANITIZE) -fno-sanitize-recover=all \
	-fno-omit-frame-pointer)
# the tests run this build's binaries
export FORKTRACE_BIN := $(abspath $(BIN))
export FORKTRACE_BUILD := $(abspath $(OUT))
export FORKTRACE_SANITIZE := $(SANITIZE)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf -Wall
# libbpf linked statically; libelf and zlib are its own dependencies
LDLIBS := -Wl,-Bstatic -lbpf -Wl,-Bdynamic -lelf -lz -lm -ljansson -lmicrohttpd -lcap-ng \
	$(shell $(PKG_CONFIG) --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
TEST_LDLIBS := -lpthread

# the stages, one folder each, in floors (docs/design.md): core/ (records,
# table, detector), live/ (the kernel, /proc, cgroups, containers, limits),
# contain/ (containment), present/ (outputs), pipeline.c (the stages wired),
# front/ (the live view, the report command); main.c on top
STAGES := core live contain present front
# objects mirror the sources: build/user/core/detector.o (an object from a
# file's earlier place is never mistaken for it)
CORE_OBJS := $(patsubst %.c,$(OUT)/%.o,$(wildcard user/core/*.c))
USER_OBJS := $(CORE_OBJS) $(patsubst %.c,$(OUT)/%.o,$(wildcard $(addprefix user/,$(addsuffix \
	/*.c,live contain present front))) user/pipeline.c user/pipeline_live.c user/config.c)
LIVE_SOURCE_OBJ := $(OUT)/user/live/source_live.o
# everything after the kernel, for harnesses and unit tests (no libbpf skeleton)
NOLIVE_OBJS := $(filter-out $(LIVE_SOURCE_OBJ),$(USER_OBJS))
FUZZ_SRCS := $(filter-out user/live/source_live.c,$(wildcard $(addprefix user/,$(addsuffix \
	/*.c,$(STAGES))))) user/pipeline.c user/pipeline_live.c user/config.c
USER_HDRS := $(wildcard user/*.h $(addprefix user/,$(addsuffix /*.h,$(STAGES))))
WORKLOADS := $(patsubst tests/workloads/%.c,$(OUT)/wl_%,$(wildcard tests/workloads/*.c))
# fuzz harnesses (tests/fuzz/): libFuzzer builds for make fuzz, and plain
# builds that replay the corpora and past crashes in make test
FUZZERS := recording record config procfs json
REGRESS_BINS := $(addprefix $(OUT)/regress_,$(FUZZERS))
TEST_BINS := $(addprefix $(OUT)/,test_units test_pidreuse contain storm tree3 oomhog fusefs \
	sysloop forktrace-bench) \
	$(WORKLOADS) $(REGRESS_BINS)

.PHONY: all deps run test unit bench realworld clean vmlinux format image install screenshots fuzz \
	check sanitize-check
all: $(BIN)

deps:
	@scripts/install-deps.sh $(if $(CROSS),$(ARCH),build)

$(OUT):
	@mkdir -p $@

# the object the skeleton embeds: linked by bpftool, which drops the DWARF
# (BTF stays: CO-RE needs it)
BPF_HDRS := bpf/record.bpf.h bpf/forktrace.h bpf/compat.h vmlinux/$(ARCH)/vmlinux.h
BPF_SRCS := bpf/forktrace.bpf.c bpf/bench.bpf.h $(BPF_HDRS)
$(OUT)/forktrace.debug.bpf.o: $(BPF_SRCS) | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# containment, an object of its own (bpf/contain.bpf.c): loaded only when
# something may have to be stopped; the benchmark build uses it as it is
$(OUT)/contain.debug.bpf.o: bpf/contain.bpf.c $(BPF_HDRS) | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# the benchmark build (--noop, bench.bpf.h): its own object, skeleton and
# binary, so the production object carries none of the benchmarks' code
BENCH_OUT := $(OUT)/bench
$(BENCH_OUT)/forktrace.debug.bpf.o: $(BPF_SRCS)
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -DFT_BENCH -c $< -o $@

$(OUT)/forktrace.bpf.o $(BENCH_OUT)/forktrace.bpf.o $(OUT)/contain.bpf.o: %.bpf.o: %.debug.bpf.o
	$(BPFTOOL) gen object $@ $<

$(OUT)/forktrace.skel.h $(BENCH_OUT)/forktrace.skel.h: %/forktrace.skel.h: %/forktrace.bpf.o
	$(BPFTOOL) gen skeleton $< name forktrace_bpf > $@

$(OUT)/contain.skel.h: $(OUT)/contain.bpf.o
	$(BPFTOOL) gen skeleton $< name contain_bpf > $@

$(LIVE_SOURCE_OBJ): $(OUT)/forktrace.skel.h $(OUT)/contain.skel.h

# the bench skeleton's directory first, so it is the one included
$(BENCH_OUT)/source_live.o: user/live/source_live.c $(BENCH_OUT)/forktrace.skel.h \
		$(OUT)/contain.skel.h
	$(CC) -I$(BENCH_OUT) $(CFLAGS) $(SAN_CFLAGS) -DFT_BENCH -MMD -MP -c $< -o $@

$(OUT)/forktrace-bench: $(OUT)/user/main.o $(OUT)/user/cli.o $(filter-out $(LIVE_SOURCE_OBJ),$(USER_OBJS)) \
		$(BENCH_OUT)/source_live.o
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ $(LDLIBS) -o $@

# each object depends on the headers it includes (-MMD writes $(OUT)/*.d)
$(OUT)/user/%.o: user/%.c | $(OUT)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

-include $(wildcard $(OUT)/user/*.d $(OUT)/user/*/*.d $(BENCH_OUT)/*.d)

$(BIN): $(OUT)/user/main.o $(OUT)/user/cli.o $(USER_OBJS)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $^ $(LDLIBS) -o $@

# the core alone: its objects built without libbpf, the BPF skeleton or
# the build folder's headers, and its unit tests (test_units.c with
# FT_CORE_ONLY) linked with none of libbpf, libelf or the stages above it
CORE_ALONE := $(OUT)/core-alone
$(CORE_ALONE)/%.o: user/core/%.c user/core/*.h bpf/forktrace.h
	@mkdir -p $(@D)
	$(CC) $(filter-out -I$(OUT),$(CFLAGS)) -c $< -o $@

$(CORE_ALONE)/test_core: tests/unit/test_units.c tests/unit/check.h \
		$(patsubst user/core/%.c,$(CORE_ALONE)/%.o,$(wildcard user/core/*.c))
	$(CC) $(filter-out -I$(OUT),$(CFLAGS)) -DFT_CORE_ONLY -Itests/unit $(filter %.c %.o,$^) \
		-ljansson -lz -lm -o $@

.PHONY: core-alone
core-alone: $(CORE_ALONE)/test_core
	@$(CORE_ALONE)/test_core > $(CORE_ALONE)/test_core.log || \
		{ grep -v '^ok' $(CORE_ALONE)/test_core.log; exit 1; }
	@echo "core alone: $$(tail -1 $(CORE_ALONE)/test_core.log)"

# test helpers and unit tests (docs/testing.md)
$(OUT)/test_units: tests/unit/test_units.c $(NOLIVE_OBJS) \
		tests/unit/*.h | $(OUT)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) -Itests/unit $(filter %.c %.o,$^) $(LDLIBS) -lm -o $@

$(OUT)/test_pidreuse: tests/pidreuse.c $(NOLIVE_OBJS) | $(OUT)
	$(CC) $(CFLAGS) $(SAN_CFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -lm -o $@

# always with ASan and UBSan, from the sources: a past crash (a misaligned
# read, say) shows only to the sanitizers
$(OUT)/regress_%: tests/fuzz/fuzz_%.c tests/fuzz/driver.c tests/fuzz/fuzz.h $(FUZZ_SRCS) \
		$(USER_HDRS) | $(OUT)
	$(CC) $(CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Itests/fuzz \
		$(filter %.c,$^) $(LDLIBS) -o $@

# static analysis: the build with warnings as errors, cppcheck
# (.cppcheck-suppressions says what it may not report, and why), and the
# names comments give (scripts/check-comment-names.py)
CPPCHECK := cppcheck --quiet --enable=warning,portability,performance --std=c11 \
	--library=posix -D_GNU_SOURCE -DFORKTRACE_VERSION='"x"' \
	'-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = {__VA_ARGS__}' --error-exitcode=1 \
	-Iuser -Ibpf -I$(OUT) --suppressions-list=.cppcheck-suppressions

check:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory -B all $(TEST_BINS) EXTRA_CFLAGS=-Werror
	$(CPPCHECK) $(FUZZ_SRCS) user/main.c user/cli.c user/live/source_live.c tests/unit/test_units.c \
		tests/fuzz/*.c
	@python3 scripts/check-comment-names.py
	@python3 scripts/check-floors.py
	@$(MAKE) --no-print-directory core-alone
	@echo "check: no warnings (gcc -Wall -Wextra -Wshadow -Wformat=2 -Werror, cppcheck), no stale names in comments, no include up a floor, the core without libbpf"

# ASan (with leaks) and UBSan over everything that needs no kernel
sanitize-check:
	@scripts/install-deps.sh fuzz
	@scripts/sanitize-check.sh

# make fuzz [FUZZ_SECONDS=N]: each harness N seconds under libFuzzer with
# ASan and UBSan; a crash stops it, its input saved for tests/fuzz/regress/
FUZZ_SECONDS ?= 30
FUZZ_OUT := $(OUT)/fuzz
FUZZ_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	-fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
	-DFORKTRACE_VERSION='"$(VERSION)"' -Ibpf -Iuser -Itests/fuzz -I$(OUT)

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_SRCS) $(USER_HDRS) | $(OUT)
	@mkdir -p $(FUZZ_OUT)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer $< $(FUZZ_SRCS) $(LDLIBS) -o $@

fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory $(addprefix $(FUZZ_OUT)/fuzz_,$(FUZZERS))
	@scripts/fuzz.sh $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZERS)

$(OUT)/wl_%: tests/workloads/%.c | $(OUT)
	$(CC) $(CFLAGS) $< $(TEST_LDLIBS) -o $@

# the FUSE test fixture (tests/fusefs.c): libfuse3
$(OUT)/fusefs: tests/fusefs.c | $(OUT)
	$(CC) $(CFLAGS) $(shell $(PKG_CONFIG) --cflags fuse3) $< $(shell $(PKG_CONFIG) --libs fuse3) -o $@

$(OUT)/%: tests/%.c | $(OUT)
	$(CC) $(CFLAGS) $< $(TEST_LDLIBS) -o $@

run: deps all
	./$(BIN)

unit: $(OUT)/test_units
	$(OUT)/test_units

# every sanitizer report, from any forktrace a test runs, lands in
# $(OUT)/sanitizer/: tests/run.py fails the run if one is there
SAN_LOG := $(abspath $(OUT))/sanitizer/report
SAN_ENV := $(if $(SANITIZE),ASAN_OPTIONS=detect_leaks=1:log_path=$(SAN_LOG) \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$(SAN_LOG))

test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@rm -rf $(dir $(SAN_LOG)) && mkdir -p $(dir $(SAN_LOG))
	@$(SAN_ENV) python3 tests/run.py

# the README's pictures, as the view and report tests make them
screenshots:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@python3 tests/run.py -k live_view_shows && python3 tests/run.py -k report_of_a_recorded
	@mkdir -p docs/images
	cp $(OUT)/artifacts/live-view.png $(OUT)/artifacts/report.png docs/images/

# the binary, its man page and, where systemd runs, the agent's unit
PREFIX ?= /usr/local
DESTDIR ?=
install: all
	install -D -m 0755 forktrace $(DESTDIR)$(PREFIX)/sbin/forktrace
	install -D -m 0644 docs/forktrace.8 $(DESTDIR)$(PREFIX)/share/man/man8/forktrace.8
	@if [ -d /run/systemd/system ] || [ -n "$(DESTDIR)" ]; then \
		install -D -m 0644 deploy/forktrace.service \
			$(DESTDIR)/etc/systemd/system/forktrace.service; \
		echo "installed forktrace.service (systemctl enable --now forktrace)"; \
	fi

# the node agent's image (deploy/Containerfile, FROM scratch): podman, offline.
# make image ARCH=arm64: the arm64 one, from build-arm64/forktrace
# (scripts/build-image.sh tags each arch's and lists both)
image:
	$(if $(CROSS),@scripts/install-deps.sh $(ARCH))
	@$(MAKE) --no-print-directory all
	@ARCH=$(ARCH) FORKTRACE=$(BIN) scripts/build-image.sh

# real builds and test suites under --kill, no alert allowed (tests/realworld.py);
# sources by apt-get source into build/sources (scripts/fetch-sources.sh)
realworld:
	@scripts/install-deps.sh realworld
	@$(MAKE) --no-print-directory all $(OUT)/contain
	@python3 tests/realworld.py

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@python3 tests/bench.py

# make vmlinux: vmlinux/<arch>/vmlinux.h from this machine's kernel; for
# another arch, from a kernel package (vmlinux/arm64/vmlinux.h's first lines
# name the one it came from): make vmlinux ARCH=arm64
# VMLINUX_SRC=linux-image-6.12.118+deb12-cloud-arm64-unsigned:arm64
VMLINUX_SRC ?= $(if $(CROSS),,/sys/kernel/btf/vmlinux)
vmlinux:
	$(if $(VMLINUX_SRC),,$(error make vmlinux ARCH=$(ARCH): say which kernel with VMLINUX_SRC=<linux-image package, .deb or boot image>))
	scripts/gen-vmlinux.sh $(VMLINUX_SRC) $(ARCH)

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c $(wildcard $(addprefix user/,$(addsuffix /*.c,$(STAGES)))) \
		$(USER_HDRS) tests/*.c tests/unit/*.c

clean:
	rm -rf $(OUT) $(BIN)

# the live tests inside Debian's 6.1 and 6.12 kernels, booted under qemu
# (TCG); writes docs/kernels.md.  tests/kernels/README.md.
# make test-kernels ARCH=arm64: the same in Debian's arm64 kernels under
# qemu-system-aarch64, with the build-arm64/ binaries; the fuzz replays
# (REGRESS_BINS: host-side ASan builds, run by make test) are not cross-built,
# no guest runs them
KERNEL_BINS := $(if $(CROSS),$(filter-out $(REGRESS_BINS),$(TEST_BINS)),$(TEST_BINS))
.PHONY: test-kernels
test-kernels:
	@scripts/install-deps.sh $(if $(CROSS),$(ARCH),kernels)
	@$(MAKE) --no-print-directory all $(KERNEL_BINS)
	@python3 tests/kernels/run.py --arch $(ARCH)
