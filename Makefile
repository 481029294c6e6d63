# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# pintrace build. Quiet by default, `make V=1` shows commands,
# `make STATIC=1` links a single static binary (used inside the test VMs).

OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
CC ?= cc
PKG_CONFIG ?= pkg-config

ARCH ?= $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX_DIR := vmlinux/$(ARCH)
ifeq ($(wildcard $(VMLINUX_DIR)/vmlinux.h),)
$(error Architecture $(ARCH) is not supported: no $(VMLINUX_DIR)/vmlinux.h)
endif

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

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation -Iinclude -I$(OUTPUT) -Isrc \
	  $(shell $(PKG_CONFIG) --cflags $(LIBS_PKG)) $(EXTRA_CFLAGS)
LDFLAGS += $(EXTRA_LDFLAGS)

# Let clang see the system headers of the target (asm/types.h and friends).
CLANG_BPF_SYS_INCLUDES ?= $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -I$(VMLINUX_DIR) $(CLANG_BPF_SYS_INCLUDES)

BPF_SRCS := $(wildcard bpf/*.bpf.h) bpf/pintrace.bpf.c include/pintrace.h
SRCS := $(wildcard src/*.c)
OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/main.o,$(OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))

.PHONY: all clean test check unit vmtest deps demo bench
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

$(OUTPUT)/pinload: $(wildcard tools/pinload/*.c) tools/pinload/pinload.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -std=gnu11 -Wall -Wextra -Werror -static -o $@ $(filter %.c,$^) -lpthread

# Everything a fresh Debian machine needs to build and test (apt, as root).
deps:
	$(Q)tools/install-deps.sh

# Build, then show pintrace at work (this machine if it can, and a Debian VM).
demo: all
	$(Q)tools/demo.sh

# The full suite: unit tests, host tests, and real-kernel tests in VMs.
test: all unit $(OUTPUT)/pinload
	$(Q)tests/run.sh

# No VMs: unit and host tests only.
check: all unit
	$(Q)tests/run.sh --no-vm

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
