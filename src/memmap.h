/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_MEMMAP_H
#define PT_MEMMAP_H

/*
 * Where a physical page lives: its zone (from /proc/zoneinfo and the zone
 * bits of page->flags), whether it is in a CMA area (debugfs or the boot
 * log: src/cma.c; the kernel's cma_areas through BPF: src/place.c), and the PFN
 * behind a user address (/proc/self/pagemap). A pinned page in ZONE_MOVABLE
 * or in a CMA area is the one that blocks memory offlining and CMA
 * allocations, which is why pintrace wants to know.
 *
 * Every function is pure over what it is given (a FILE *, a path, a file
 * descriptor, an array): tests feed fixtures, pintrace feeds the live
 * files. Errors are negative errno values unless a function says otherwise.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* start_pfn of a zone whose start /proc/zoneinfo does not print. */
#define MM_PFN_UNKNOWN UINT64_MAX

struct mm_zone {
	int node;
	char name[16];		/* as zoneinfo prints it: "DMA32", "Normal", "Movable" */
	/*
	 * The kernel prints start_pfn only for zones with present pages:
	 * an empty zone, and a ZONE_DEVICE zone (its memory is spanned, never
	 * present), get MM_PFN_UNKNOWN, and zoneinfo_find() never matches them.
	 */
	uint64_t start_pfn;
	uint64_t spanned, present, managed;
};

/*
 * Parse /proc/zoneinfo (checked against 6.1, 6.12 and 6.18 output: the
 * "promo" watermark, the pageset and per-node stat lines that differ
 * between versions are skipped; only the "Node N, zone NAME" header and
 * the spanned, present, managed and start_pfn: lines are read). Fills OUT
 * in file order and returns the number of zones. A line that does not parse is ignored; a
 * malformed header drops the lines up to the next good one, so that they
 * are not credited to the previous zone.
 * -ENODATA: no zone at all; -ENOSPC: more than MAX zones (OUT holds the
 * first MAX); -EIO: read error; -EINVAL: bad arguments.
 */
int zoneinfo_parse(FILE *f, struct mm_zone *out, int max);

/*
 * Every zone whose span [start_pfn, start_pfn + spanned) holds PFN, as
 * indexes into Z, in Z's order. Spans can overlap (NUMA nodes that
 * interleave, memory hot-added into a hole, kernelcore=mirror), and a span
 * includes holes, so the answer is "can be in", not "is in"; the zone bits
 * of page->flags decide. Returns the number of matches (0: none),
 * -ENOSPC when there are more than MAX (IDX_OUT holds the first MAX).
 */
int zoneinfo_find(const struct mm_zone *z, int n, uint64_t pfn, int *idx_out, int max);

/*
 * The zone index (the number stored in page->flags) of a zone that zoneinfo
 * calls ZONEINFO_NAME ("DMA32"): its position in ENUM_NAMES, the
 * enumerators of the kernel's enum zone_type in value order as BTF lists
 * them ("ZONE_DMA", "ZONE_DMA32", ..., "__MAX_NR_ZONES"). Compared
 * case-insensitively after stripping "ZONE_". -ENOENT when absent (arm64
 * and others lack some zones, which shifts every index after them).
 */
int mm_zone_index(const char *zoneinfo_name, const char *const *enum_names, int n_enum);

/* ZONES_WIDTH for NR_ZONES zones (__MAX_NR_ZONES): order_base_2, 0 for 1. */
int mm_zones_width(int nr_zones);

/*
 * Find ZONES_PGSHIFT from one real page->flags word whose node and zone
 * index are known (a page of a zone that only one node spans, for
 * instance). Valid for SPARSEMEM_VMEMMAP kernels (x86_64, arm64), where no
 * section bits are stored and the top of flags is [NODE][ZONE]:
 * ZONES_PGSHIFT = 64 - NODES_SHIFT - ZONES_WIDTH. Every NODES_SHIFT from 0
 * to MAX_NODES_SHIFT is tried; one matches when its zone field equals
 * ZONE_IDX and its node field (none when NODES_SHIFT is 0) equals NODE.
 * Returns 0 with *SHIFT_OUT set when exactly one matches, -ENOENT when none
 * does (wrong ZONES_WIDTH or node, or flags of another layout), -EEXIST
 * when several do: the bits above the real zone field are the node, and for
 * node 0 they are all zero, so a zone index 0 (ZONE_DMA) page on node 0
 * reads as zone 0 at every shift and cannot tell them apart. Use a page of
 * a nonzero zone or a nonzero node. -EINVAL: bad arguments.
 */
int zone_shift_solve(uint64_t flags, int node, int zone_idx, int zones_width,
		     int max_nodes_shift, int *shift_out);

/*
 * CONFIG_NODES_SHIFT from kernel config files, tried in order: the first
 * that says "CONFIG_NODES_SHIFT=N" gives N, "# CONFIG_NUMA is not set"
 * gives 0 (no node bits in page->flags). Files may be gzip-compressed
 * (/proc/config.gz) or plain; missing, unreadable, truncated or malformed
 * ones are skipped. Returns -1 when no file tells.
 */
int kconfig_nodes_shift(const char *const *paths, int npaths);

#define KCONFIG_NPATHS 3
struct kconfig_paths {
	char buf[KCONFIG_NPATHS][256];
	const char *path[KCONFIG_NPATHS];	/* into buf, for kconfig_nodes_shift() */
};

/*
 * Where a kernel's config lives: /proc/config.gz, /boot/config-RELEASE,
 * /lib/modules/RELEASE/config. RELEASE NULL: the running kernel's
 * (uname -r). Returns KCONFIG_NPATHS, or -errno if uname fails.
 */
int kconfig_default_paths(struct kconfig_paths *kp, const char *release);

/*
 * The PFN behind ADDR in the address space that PAGEMAP_FD
 * (/proc/<pid>/pagemap) describes. -ENOENT: not present (never touched,
 * or swapped out); -EPERM: present, but the kernel hides PFNs from readers
 * without CAP_SYS_ADMIN (they read as 0); -EIO: short read; -errno from
 * pread.
 */
int pagemap_pfn(int pagemap_fd, const void *addr, uint64_t *pfn);

/* Decimal u64 with optional surrounding whitespace and nothing else (0, -EINVAL). */
int mm_parse_u64(const char *s, uint64_t *v);

#define MM_CMA_DIR "/sys/kernel/debug/cma"

/* One physically contiguous range of a CMA area. */
struct mm_cma {
	char name[64];		/* the area's name (debugfs directory, struct cma) */
	uint64_t base_pfn, count;
	/*
	 * False when count is an upper bound: a multi-range area does not
	 * publish each range's size (see cma_load()). Where the range's
	 * bitmap could be read, it is off by less than 32 << order_per_bit
	 * pages, at the range's end.
	 */
	bool exact;
};

/*
 * Load the CMA areas under DIR (normally MM_CMA_DIR) into OUT, one entry
 * per contiguous range, sorted by base_pfn. Two layouts:
 *   - up to 6.14: <area>/base_pfn and <area>/count, one range;
 *   - 6.15 on (multi-range CMA): <area>/ranges/<N>/base_pfn and ranges/<N>/bitmap per range,
 *     and <area>/count for the whole area. A range's size is not
 *     published; it is derived from its bitmap (one bit per
 *     2^order_per_bit pages, printed as u32 words, so the size is known to
 *     a word), the next range's base, and the area's total count. When
 *     these constraints pin every range, the sizes are exact; otherwise
 *     each is the largest it can be, and exact is false.
 * Returns the number of entries. 0 with WHY (WHYLEN bytes) saying why when
 * there is nothing to load: debugfs not mounted, CONFIG_CMA_DEBUGFS off, no
 * CMA areas. Errors, with WHY naming the file: -EACCES (debugfs needs
 * root), -EINVAL (a file that does not parse), -ENOSPC (more than MAX
 * ranges), other -errno.
 */
int cma_load(const char *dir, struct mm_cma *out, int max, char *why, size_t whylen);

/* Index of the entry of C holding PFN, or -1. */
int cma_find(const struct mm_cma *c, int n, uint64_t pfn);

/* Sort N entries by base_pfn, as cma_load() returns them. */
void cma_sort(struct mm_cma *c, int n);

/*
 * CMA areas announced in a kernel log (LOG, LEN bytes, as
 * klogctl(SYSLOG_ACTION_READ_ALL) or dmesg gives it), for kernels that show
 * them nowhere else. Lines, after an optional "<6>" level and
 * "[    0.000000] " time:
 *   cma: Reserved 64 MiB at 0x000000007ac00000             mm/cma.c, 6.1
 *   cma: Reserved 64 MiB at 0x000000007aa00000 on node -1  mm/cma.c, 6.12
 *   Reserved memory: created CMA memory pool at 0x..., size 64 MiB
 *                          device-tree pools, kernel/dma/contiguous.c
 *                          (a "cma: " prefix is accepted there too)
 * The log names no area: each entry is named "cma@0x<physical base>".
 * Sizes are whole MiB, which is exact: CMA aligns areas to pageblocks (2
 * MiB and more). PAGE_SHIFT converts to frames (12: 4 KiB pages). An area
 * logged twice is listed once. Returns the number of
 * entries, sorted by base_pfn (0: no such line, the log may have rotated),
 * -ENOSPC when there are more than MAX (OUT holds MAX of them), -EINVAL on
 * bad arguments.
 */
int cma_from_log(const char *log, size_t len, unsigned int page_shift, struct mm_cma *out,
		 int max);

#endif
