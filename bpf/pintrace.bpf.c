// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace BPF programs. One compilation unit so that maps are shared
 * without extern-map linking (not available with libbpf 1.1); each
 * subsystem lives in its own header.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "pintrace.h"

#include "maps.bpf.h"
#include "core.bpf.h"
#include "hooks.bpf.h"
#include "pipe.bpf.h"
#include "skb.bpf.h"
#include "sample.bpf.h"
#include "migrate.bpf.h"
#include "gup.bpf.h"
#include "task.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
