/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_FOLL_H
#define PT_FOLL_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/btf.h>

#define FOLL_MAX 32

struct foll_flag {
	const char *name;	/* without the FOLL_ prefix */
	unsigned int val;
};

/* The running kernel's FOLL_* values and where they came from. */
struct foll_table {
	bool from_btf;		/* anonymous enums in vmlinux BTF (6.3+) */
	size_t n;
	struct foll_flag flags[FOLL_MAX];
	unsigned int write, get, pin, longterm;
};

/*
 * FOLL_* were renumbered in 6.3 and moved into anonymous enums, which CO-RE
 * cannot relocate: walk BTF for them, else use the legacy #define values.
 * btf may be NULL. Returns -EINVAL when BTF is inconsistent (FOLL_LONGTERM
 * without FOLL_PIN): guessing there would mislabel every pin.
 */
int foll_load(const struct btf *btf, struct foll_table *ft);
/* "PIN|LONGTERM|WRITE" (known bits, then 0x.. for the rest); "0" if none. */
const char *foll_format(const struct foll_table *ft, unsigned long long v, char *buf, size_t len);

#endif
