/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_KSYMS_H
#define PT_KSYMS_H

/*
 * Kernel address symbolizer for stack traces (bpf_get_stackid into a
 * BPF_MAP_TYPE_STACK_TRACE map): loads /proc/kallsyms, or a file in that
 * format, into a table sorted by address and resolves an instruction address
 * to "func+0xoff" or "func+0xoff [module]".
 *
 * What is kept, and why:
 *   - Text symbols only: t/T (code) and w/W (weak definitions: in vmlinux
 *     these are weak functions, in modules the kernel reports weak non-object
 *     symbols as w/W; weak objects are v/V). A stack holds code addresses, so
 *     data symbols (d/D b/B r/R g/G s/S v/V) are never names; they are only
 *     used as region ends: an address past the last function of a text region
 *     and at or after a following data symbol is unknown, not "lastfunc+0x1f000".
 *     a/A (absolute) and others carry no location and are ignored.
 *   - Linker end markers of text sections (_etext, _einittext, __*_text_end)
 *     end a region too; they are never names.
 *   - Suffixed compiler clones ("foo.cold", "foo.isra.0", "foo.constprop.0")
 *     and __pfx_ padding symbols are real code addresses and are kept.
 *   - Several names at one address: one is chosen, in this order: a real
 *     function over a section start marker (_stext, _text, _sinittext,
 *     __*_text_start), non-weak over weak, fewer leading underscores, global
 *     over local, then the first one in the file.
 *   - Text symbols at address 0 are dropped: that is what a reader without
 *     the right to see kernel pointers gets (kptr_restrict, not root).
 *
 * Bounds: a symbol ends where the next kept address starts (the next
 * function, or a region end above). No symbol spans more than
 * KSYMS_MAX_FUNC_SIZE bytes: the last function before a gap that kallsyms
 * does not describe (the end of a module's text without data symbols after
 * it, the very last symbol of the table) is not stretched over it. The
 * largest functions of a distribution kernel are tens of KiB; an address
 * further than that from its symbol is printed as hex instead of misnamed.
 */

#include <stdbool.h>
#include <stddef.h>

/* Farthest an address may be from its symbol's start and still be named. */
#define KSYMS_MAX_FUNC_SIZE (256ULL << 10)
/* Enough for any kallsyms name (KSYM_NAME_LEN 512), offset, and module. */
#define KSYMS_BUF_LEN 704

struct ksyms;

/*
 * Load symbols from PATH (NULL: /proc/kallsyms). Malformed lines are skipped.
 * Returns NULL with errno set when the file cannot be read or memory runs out.
 * An empty or all-zero file loads, and is not ksyms_usable().
 */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *k);

/*
 * Name ADDR into BUF (LEN bytes, KSYMS_BUF_LEN is always enough; longer
 * results are truncated): "func+0xoff", "func+0xoff [module]", or
 * "0x<hex>" when no symbol covers it (or K is NULL or not usable).
 * The offset is always printed, "+0x0" for an exact hit. Returns BUF
 * (a static "" when LEN is 0).
 */
const char *ksyms_resolve(const struct ksyms *k, unsigned long long addr, char *buf, size_t len);

/*
 * Addresses of the vmlinux data symbols NAMES (N of them) in PATH (NULL:
 * /proc/kallsyms) into ADDRS, 0 for each one absent: kallsyms lists data
 * symbols only with CONFIG_KALLSYMS_ALL, and shows 0 to readers without
 * the right to see kernel pointers. Nothing is kept. Returns how many were
 * found, or -errno when the file cannot be read.
 */
int ksyms_data_lookup(const char *path, const char *const *names, unsigned long long *addrs,
		      int n);

/* False when no text symbol has a nonzero address (kptr_restrict, non-root, empty file). */
bool ksyms_usable(const struct ksyms *k);
/* Distinct text addresses kept (after merging duplicates). */
size_t ksyms_count(const struct ksyms *k);

#endif
