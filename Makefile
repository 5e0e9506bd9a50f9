# forktrace build.  `make` builds ./forktrace; `sudo make run` and
# `sudo make test` first install what is missing (scripts/install-deps.sh).

VERSION := 0.1.0
ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' \
	-e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
OUT := build

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-D_GNU_SOURCE -DFORKTRACE_VERSION='"$(VERSION)"' -Ibpf -Iuser -I$(OUT)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf -Wall
# libbpf linked statically; libelf and zlib are its own dependencies
LDLIBS := -Wl,-Bstatic -lbpf -Wl,-Bdynamic -lelf -lz -lm -ljansson -lmicrohttpd -lcap-ng \
	$(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw -ltinfo)
TEST_LDLIBS := -lpthread

USER_OBJS := $(addprefix $(OUT)/,stream.o proctable.o recording.o procfs.o json.o \
	output.o pipeline.o cgroup.o detector.o policy.o source_live.o progid.o hostlimits.o \
	container.o privs.o metrics.o topview.o report.o)
WORKLOADS := $(patsubst tests/workloads/%.c,$(OUT)/wl_%,$(wildcard tests/workloads/*.c))
TEST_BINS := $(addprefix $(OUT)/,test_units test_pidreuse contain storm tree3 oomhog) $(WORKLOADS)

.PHONY: all deps run test unit bench clean vmlinux format image install screenshots
all: forktrace

deps:
	@scripts/install-deps.sh build

$(OUT):
	@mkdir -p $@

$(OUT)/forktrace.bpf.o: bpf/forktrace.bpf.c bpf/forktrace.h bpf/compat.h \
		vmlinux/$(ARCH)/vmlinux.h | $(OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/forktrace.skel.h: $(OUT)/forktrace.bpf.o
	$(BPFTOOL) gen skeleton $< name forktrace_bpf > $@

$(OUT)/source_live.o: $(OUT)/forktrace.skel.h

$(OUT)/%.o: user/%.c user/*.h bpf/forktrace.h | $(OUT)
	$(CC) $(CFLAGS) -c $< -o $@

forktrace: $(OUT)/main.o $(USER_OBJS)
	$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# test helpers and unit tests (tests/README.md)
$(OUT)/test_units: tests/unit/test_units.c $(filter-out $(OUT)/source_live.o,$(USER_OBJS)) \
		tests/unit/*.h | $(OUT)
	$(CC) $(CFLAGS) -Itests/unit $(filter %.c %.o,$^) $(LDLIBS) -lm -o $@

$(OUT)/test_pidreuse: tests/pidreuse.c $(filter-out $(OUT)/source_live.o,$(USER_OBJS)) | $(OUT)
	$(CC) $(CFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -lm -o $@

$(OUT)/wl_%: tests/workloads/%.c | $(OUT)
	$(CC) $(CFLAGS) $< $(TEST_LDLIBS) -o $@

$(OUT)/%: tests/%.c | $(OUT)
	$(CC) $(CFLAGS) $< $(TEST_LDLIBS) -o $@

run: deps all
	./forktrace

unit: $(OUT)/test_units
	$(OUT)/test_units

test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@python3 tests/run.py

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

# the node agent's image (deploy/Containerfile, FROM scratch): podman, offline
image: all
	@scripts/build-image.sh

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@python3 tests/bench.py

vmlinux:
	scripts/gen-vmlinux.sh

format:
	clang-format -i bpf/*.c bpf/*.h user/*.c user/*.h tests/*.c tests/unit/*.c

clean:
	rm -rf $(OUT) forktrace

# the live tests inside Debian's 6.1 and 6.12 kernels, booted under qemu
# (TCG); writes docs/kernels.md.  tests/kernels/README.md
.PHONY: test-kernels
test-kernels:
	@scripts/install-deps.sh kernels
	@$(MAKE) --no-print-directory all $(TEST_BINS)
	@python3 tests/kernels/run.py
