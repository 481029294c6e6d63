/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_PROBE_H
#define PT_PROBE_H

#include <bpf/btf.h>
#include "facts.h"

/*
 * Gather the running kernel's facts for every symbol the hook table names:
 * kallsyms, vmlinux BTF (btf may be NULL: then BTF facts are absent),
 * available_filter_functions, and whether fentry and kprobes work at all.
 */
int probe_kernel(struct kernel_facts *kf, const struct btf *btf, bool privileged);

/* Kernel config value ("y", "m", "n" for unset) from /proc/config.gz or /boot. */
int kconfig_get(const char *release, const char *opt, char *val, size_t len);

#endif
