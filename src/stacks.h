/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_STACKS_H
#define PT_STACKS_H

#include <stdio.h>
#include <json-c/json.h>
#include "ksyms.h"
#include "pintrace.h"

/* Kernel stacks from the BPF stack map, symbolized with kallsyms. */
struct stackfmt {
	int map_fd;		/* BPF_MAP_TYPE_STACK_TRACE, < 0: none */
	struct ksyms *ks;	/* NULL: addresses only */
};

/* Frames of stack @id into ips (PT_STACK_DEPTH); number of frames, 0 if gone. */
int stack_frames(const struct stackfmt *sf, __s32 id, __u64 *ips);
/* "  at f1+0x10 <- f2+0x4 <- ..." (up to @max frames) on one line; nothing if none. */
void stack_print(const struct stackfmt *sf, __s32 id, FILE *f, const char *indent, int max);
/* Array of "func+0xoff" strings, or NULL when the stack is unknown. */
json_object *stack_json(const struct stackfmt *sf, __s32 id);

#endif
