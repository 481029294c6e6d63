# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# pintrace build. Quiet by default, `make V=1` shows commands,
# `make STATIC=1` links a single static binary (used inside the test VMs),
# `make ARCH=arm64` cross-builds for arm64 from an x86 host.

HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH ?= $(HOST_ARCH)
VMLINUX_DIR := vmlinux/$(ARCH)
ifeq ($(wildcard $(VMLINUX_DIR)/vmlinux.h),)
$(error Architecture $(ARCH) is not supported: no $(VMLINUX_DIR)/vmlinux.h)
endif

# Cross build (e.g. ARCH=arm64 on x86): Debian's <triple>-gcc, the target's
# libraries installed as multiarch packages (tools/install-deps.sh) and
# found through their .pc files in /usr/lib/<triple>, and clang's include
# list for that triple, so the BPF side sees the target's asm/ headers. The
# default OUTPUT keeps the two arches' objects apart.
ifneq ($(ARCH),$(HOST_ARCH))
OUTPUT ?= build-$(ARCH)
CROSS_TRIPLE := $(patsubst arm64,aarch64,$(patsubst x86,x86_64,$(ARCH)))-linux-gnu
CROSS_COMPILE ?= $(CROSS_TRIPLE)-
ifeq ($(origin CC),default)
CC := $(CROSS_COMPILE)gcc
endif
PKG_CONFIG ?= PKG_CONFIG_LIBDIR=/usr/lib/$(CROSS_TRIPLE)/pkgconfig:/usr/share/pkgconfig pkg-config
CLANG_TARGET := --target=$(CROSS_TRIPLE)
RUN_GOALS := $(filter test check unit fuzz fuzz-run fuzz-maybe bench bench-pipeline demo,$(MAKECMDGOALS))
ifneq ($(RUN_GOALS),)
$(error ARCH=$(ARCH) is a cross build and '$(RUN_GOALS)' runs what it builds on this $(HOST_ARCH) host)
endif
endif

OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
CC ?= cc
PKG_CONFIG ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
MAKEFLAGS += --no-print-directory
endif

LIBS_PKG := libbpf libelf zlib json-c
ifeq ($(STATIC),1)
LDLIBS += $(shell $(PKG_CONFIG) --static --libs $(LIBS_PKG)) -lzstd
LDFLAGS += -static
else
LDLIBS += $(shell $(PKG_CONFIG) --libs $(LIBS_PKG))
endif
# ceill() (diff.c): a builtin on x86, a libm call where long double is
# IEEE binary128 (arm64).
LDLIBS += -lm

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation -Iinclude -I$(OUTPUT) -Isrc \
	  $(shell $(PKG_CONFIG) --cflags $(LIBS_PKG)) $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)

# Let clang see the system headers of the target (asm/types.h and friends).
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) $(CLANG_TARGET) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -I$(VMLINUX_DIR) $(CLANG_BPF_SYS_INCLUDES)

BPF_SRCS := $(wildcard bpf/*.bpf.h) bpf/pintrace.bpf.c include/pintrace.h
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/main.o,$(OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.PHONY: all clean test check unit vmtest deps demo bench bench-pipeline fuzz fuzz-run fuzz-maybe
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUTPUT)/pintrace

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/pintrace.bpf.o: $(BPF_SRCS) $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c bpf/pintrace.bpf.c -o $(OUTPUT)/pintrace.tmp.bpf.o
	$(Q)$(BPFTOOL) gen object $@ $(OUTPUT)/pintrace.tmp.bpf.o

$(OUTPUT)/pintrace.skel.h: $(OUTPUT)/pintrace.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name pintrace_bpf > $@

# Every object may include the skeleton or the ABI header.
$(OBJS): $(OUTPUT)/pintrace.skel.h include/pintrace.h $(wildcard src/*.h)

$(OUTPUT)/%.o: src/%.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/pintrace: $(OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Unit tests: one cmocka program per tests/unit/test_*.c, linked with the
# user-space objects except main.
$(OUTPUT)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST-CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BINS)

# libFuzzer harness of `pintrace diff`'s parser (tests/fuzz/): the diff
# sources are compiled again with coverage and ASan/UBSan into their own
# object dir, never mixed with the release objects.
FUZZ_CC ?= $(CLANG)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	       -Wno-missing-field-initializers -Iinclude -Isrc \
	       $(shell $(PKG_CONFIG) --cflags json-c) $(FUZZ_SAN)
FUZZ_SRCS := src/diff.c src/diff_load.c src/diff_summary.c src/diff_cli.c src/frames.c src/util.c
FUZZ_OBJS := $(patsubst src/%.c,$(OUTPUT)/fuzz/obj/%.o,$(FUZZ_SRCS))
FUZZ_RUNS ?= 200000
FUZZ_TIME ?= 60

$(OUTPUT)/fuzz/obj:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/obj/%.o: src/%.c $(wildcard src/*.h) include/pintrace.h | $(OUTPUT)/fuzz/obj
	$(call msg,FUZZ-CC,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/fuzz_diff: tests/fuzz/fuzz_diff.c $(FUZZ_OBJS)
	$(call msg,FUZZ-LD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(shell $(PKG_CONFIG) --libs json-c) -lm -o $@

fuzz: $(OUTPUT)/fuzz/fuzz_diff

# Explore from the seed corpus; new inputs and crashes stay under $(OUTPUT)/fuzz.
fuzz-run: $(OUTPUT)/fuzz/fuzz_diff
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus
	$(Q)$< -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_TIME) -dict=tests/fuzz/diff.dict \
		-artifact_prefix=$(OUTPUT)/fuzz/ $(OUTPUT)/fuzz/corpus tests/fuzz/corpus/diff

# The harness where this clang has libFuzzer: the host tests replay the
# corpus through it, and skip that (saying so) where it could not be built.
fuzz-maybe: | $(OUTPUT)/fuzz/obj
	$(Q)if echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' | \
		$(FUZZ_CC) -x c -fsanitize=fuzzer -o $(OUTPUT)/fuzz/probe - 2>/dev/null && \
		rm -f $(OUTPUT)/fuzz/probe; then $(MAKE) -s fuzz; else echo "  SKIP     fuzz: $(FUZZ_CC) cannot link -fsanitize=fuzzer"; fi

$(OUTPUT)/pinload: $(wildcard tools/pinload/*.c) tools/pinload/pinload.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -static -o $@ $(filter %.c,$^) -lpthread

# Benchmarks (not tests): pintrace against the no-op floor and bpftrace in
# one VM run per kernel, and the user-space pipeline; see tools/bench/.
bench: all
	$(Q)tools/bench/run.sh

# The user-space pipeline alone, on this host: events/s on one core and peak
# RSS of `pintrace replay` over a synthetic stream, or PIPELINE_STREAM=FILE (a
# --record recording). key=value lines on stdout (tools/bench/pipeline.sh).
BENCH_GEN_OBJS := $(OUTPUT)/record.o $(OUTPUT)/foll.o

$(OUTPUT)/gen-stream: tools/bench/gen-stream.c $(BENCH_GEN_OBJS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< $(BENCH_GEN_OBJS) $(LDLIBS) -o $@

$(OUTPUT)/bench_pintable: tests/unit/bench_pintable.c $(OUTPUT)/pintable.o | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@

bench-pipeline: all $(OUTPUT)/gen-stream $(OUTPUT)/bench_pintable
	$(Q)OUTPUT=$(OUTPUT) tools/bench/pipeline.sh $(if $(PIPELINE_STREAM),--stream $(PIPELINE_STREAM))

# Everything a fresh Debian machine needs to build and test (apt, as root).
deps:
	$(Q)tools/install-deps.sh

# Build, then show pintrace at work (this machine if it can, and a Debian VM).
demo: all
	$(Q)tools/demo.sh

# The full suite: unit tests, host tests, and real-kernel tests in VMs.
test: all unit $(OUTPUT)/pinload fuzz-maybe
	$(Q)tests/run.sh

# No VMs: unit and host tests only.
check: all unit fuzz-maybe
	$(Q)tests/run.sh --no-vm

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
