// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <string.h>
#include <bpf/bpf.h>
#include "stacks.h"

/*
 * Frames of pintrace itself: the BPF program, the fentry trampoline, and
 * the kernel's glue that runs a tp_btf program (bpf_trace_run5 <-
 * __bpf_trace_cma_alloc_busy_retry): the tracepoint's caller is next.
 */
static bool own_frame(const struct stackfmt *sf, __u64 ip)
{
	char sym[KSYMS_BUF_LEN];
	size_t n;

	if (!sf->ks)
		return false;
	ksyms_resolve(sf->ks, ip, sym, sizeof(sym));
	n = strlen(sym);
	return (n > 6 && !strcmp(sym + n - 6, " [bpf]")) || !strncmp(sym, "bpf_trace_run", 13) ||
	       !strncmp(sym, "__bpf_trace_", 12);
}

int stack_frames(const struct stackfmt *sf, __s32 id, __u64 *ips)
{
	int n = 0, skip = 0;

	if (!sf || sf->map_fd < 0 || id < 0)
		return 0;
	memset(ips, 0, PT_STACK_DEPTH * sizeof(*ips));
	if (bpf_map_lookup_elem(sf->map_fd, &id, ips))
		return 0;
	while (n < PT_STACK_DEPTH && ips[n])
		n++;
	/*
	 * With fentry the stack starts in our program and its trampoline (and
	 * nested trampolines further down): not the caller a reader wants.
	 */
	for (int i = 0; i < n; i++)
		if (!own_frame(sf, ips[i]))
			ips[skip++] = ips[i];
	return skip;
}

/*
 * The first frames are pintrace's own view of the hook (the traced
 * function itself); what matters to a reader is who called it, so every
 * frame is shown, innermost first.
 */
void stack_print(const struct stackfmt *sf, __s32 id, FILE *f, const char *indent, int max)
{
	__u64 ips[PT_STACK_DEPTH];
	char sym[160];
	int n = stack_frames(sf, id, ips);

	if (!n)
		return;
	fprintf(f, "%sstack:", indent);
	for (int i = 0; i < n && i < max; i++)
		fprintf(f, "%s%s", i ? " <- " : " ",
			sf->ks ? ksyms_resolve(sf->ks, ips[i], sym, sizeof(sym)) :
			(snprintf(sym, sizeof(sym), "0x%llx", (unsigned long long)ips[i]), sym));
	if (n > max)
		fprintf(f, " <- ...");
	fputc('\n', f);
}

json_object *stack_json(const struct stackfmt *sf, __s32 id)
{
	__u64 ips[PT_STACK_DEPTH];
	char sym[160];
	int n = stack_frames(sf, id, ips);
	json_object *a;

	if (!n)
		return NULL;
	a = json_object_new_array();
	for (int i = 0; i < n; i++) {
		if (sf->ks)
			ksyms_resolve(sf->ks, ips[i], sym, sizeof(sym));
		else
			snprintf(sym, sizeof(sym), "0x%llx", (unsigned long long)ips[i]);
		json_object_array_add(a, json_object_new_string(sym));
	}
	return a;
}
