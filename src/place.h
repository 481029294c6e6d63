/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_PLACE_H
#define PT_PLACE_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>
#include "memmap.h"
#include "pintrace.h"

#define PLACE_MAX_ZONES	8
#define PLACE_MAX_CMA	32

struct session;

/* Where the CMA ranges came from (place_json's "cma_source"). */
enum place_cma_source {
	PLACE_CMA_UNKNOWN,	/* the kernel has CMA, no source told its areas */
	PLACE_CMA_NONE,		/* the kernel has no CMA */
	PLACE_CMA_DEBUGFS,
	PLACE_CMA_KALLSYMS,	/* cma_areas, read with BPF */
	PLACE_CMA_BOOT_LOG,	/* "cma: Reserved" lines: ranges without names */
};

/*
 * Where pages live: the page frame number of a struct page (vmemmap base),
 * the zone bits of page->flags, and the CMA areas. All of it is checked
 * against the running kernel at start-up, never assumed: a calibration
 * page of our own, whose frame number /proc/self/pagemap gives, is read
 * through BPF and must be our anonymous page in the zone /proc/zoneinfo
 * says. What cannot be established is reported as unknown, with why.
 */
struct place {
	bool pfn_known, zone_known;
	__u64 vmemmap;			/* struct page of pfn 0 */
	__u32 page_size;		/* sizeof(struct page) */
	__u8 zone_shift, zone_mask;
	int zones_width;		/* bits: order_base_2(__MAX_NR_ZONES) */
	int movable;			/* ZONE_MOVABLE's index, -1: none */
	int nzones;
	char zone_names[PLACE_MAX_ZONES][16];	/* "DMA32", "Normal", "Movable", ... */
	bool kernel_cma;		/* MIGRATE_CMA exists (CONFIG_CMA) */
	int ncma;
	struct mm_cma cma[PLACE_MAX_CMA];
	enum place_cma_source cma_source;
	__u32 cma_unnamed;		/* bit i: cma[i] has only its boot-log name */
	bool cma_renamed;		/* a tracepoint named one: how_cma says so */
	__u64 calib_pfn;		/* the calibration page */
	int calib_zone;
	char how_pfn[200], how_zone[240], how_cma[400];
};

struct btf;

/*
 * Zone names from the kernel's BTF (NULL: unknown), and the CMA areas from
 * the first source that tells: debugfs, the kernel's cma_areas (kallsyms
 * and a BPF read of its own), the boot log. The part of the set-up
 * `pintrace check` can show too.
 */
void place_init(struct place *p, const struct btf *btf);
/* Calibrate through the loaded session and hand the result to the BPF side. */
void place_calibrate(struct place *p, struct session *s);

/*
 * A CMA tracepoint named the area PFN is in: a range known only from the
 * boot log takes that NAME (once; how_cma then says names came from there).
 */
void place_cma_name(struct place *p, __u64 pfn, const char *name);

/* "Movable", or "?" when unknown. */
const char *place_zone_name(const struct place *p, __u8 zone);
/* A page a long-term pin must not stay on: ZONE_MOVABLE or a CMA area (*cma). */
bool place_unpinnable(const struct place *p, __u64 pfn, __u8 zone, bool *cma);

void place_print(const struct place *p, FILE *f);
json_object *place_json(const struct place *p);

#endif
