/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * struct page / folio accessors that hold across kernel versions. Every
 * layout difference is handled here with CO-RE, never with version checks.
 */
#ifndef PT_CORE_BPF_H
#define PT_CORE_BPF_H

/*
 * Typeless ksyms, resolved from kallsyms at load time. They exist only with
 * CONFIG_KALLSYMS_ALL (Debian has it); __weak makes them 0 when absent.
 */
extern const void zero_pfn __ksym __weak;
extern const void vmemmap_base __ksym __weak;

/* Address of the zero page's struct page, computed once (0: unknown). */
__u64 zero_page = 0;
bool zero_page_known = false;

/* Head page of a (possibly tail) page: compound_head has bit 0 set on tails. */
static __always_inline __u64 page_head(__u64 page)
{
	unsigned long ch = BPF_CORE_READ((struct page *)page, compound_head);

	return (ch & 1) ? ch - 1 : page;
}

/*
 * The flags word is read raw at offset 0: 6.18 wraps it in memdesc_flags_t,
 * which a typed CO-RE read of page->flags would not survive.
 */
static __always_inline __u64 page_flags_raw(__u64 page)
{
	__u64 fl = 0;

	bpf_probe_read_kernel(&fl, sizeof(fl), (void *)page);
	return fl;
}

static __always_inline bool folio_is_large(__u64 head)
{
	return page_flags_raw(head) & (1ULL << bpf_core_enum_value(enum pageflags, PG_head));
}

static __always_inline void resolve_zero_page(void)
{
	__u64 pfn = 0, base = 0;

	zero_page_known = true;
	if (!bpf_core_type_exists(struct page) || !&zero_pfn || !&vmemmap_base)
		return;
	if (bpf_probe_read_kernel(&pfn, sizeof(pfn), &zero_pfn) ||
	    bpf_probe_read_kernel(&base, sizeof(base), &vmemmap_base))
		return;
	zero_page = base + pfn * bpf_core_type_size(struct page);
}

/*
 * The kernel neither pins nor counts the shared zero page (grab and put
 * return early, no vmstat update), so neither do we. Without the ksyms,
 * PG_reserved identifies it: GUP refuses other reserved pages' mappings.
 */
static __always_inline bool is_zero_page(__u64 head)
{
	if (!zero_page_known)
		resolve_zero_page();
	if (zero_page)
		return head == zero_page;
	return page_flags_raw(head) &
	       (1ULL << bpf_core_enum_value(enum pageflags, PG_reserved));
}

/*
 * Where a page lives, as the loader calibrated it at start-up (src/place.c):
 * the base of the struct page array (vmemmap) and the position of the zone
 * bits in page->flags. Written by the loader after load, before attach.
 */
__u64 place_vmemmap = 0;
__u8 place_zone_shift = 0;
__u8 place_zone_mask = 0;
bool place_pfn_known = false;
bool place_zone_known = false;

static __always_inline __u64 folio_pfn(__u64 folio)
{
	if (place_pfn_known && folio >= place_vmemmap)
		return (folio - place_vmemmap) / bpf_core_type_size(struct page);
	return PT_PFN_UNKNOWN;
}

/* The zone from an already read flags word, so one read serves PG_head too. */
static __always_inline __u8 flags_zone(__u64 flags)
{
	return place_zone_known ? (flags >> place_zone_shift) & place_zone_mask : PT_ZONE_UNKNOWN;
}

static __always_inline void event_place(struct pt_event *e)
{
	e->pfn = folio_pfn(e->folio);
	if (place_zone_known)
		e->zone = flags_zone(page_flags_raw(e->folio));
}

struct pt_calib calib = {};
/*
 * The other calibration, for kernels that export no vmemmap_base: the
 * loader's thread @calib_tid vmsplices its page, and the grab hook records
 * the struct page it took (calib_grab) instead of reporting it.
 */
__u32 calib_tid = 0;
__u64 calib_grab = 0;

/*
 * Calibration, run once by the loader with BPF_PROG_TEST_RUN: the struct
 * page of calib.pfn, a page of the loader's own whose frame number it read
 * from /proc/self/pagemap. Its mapping (anonymous) proves the base right,
 * and its flags word, with the zone /proc/zoneinfo gives for that frame,
 * locates the zone bits.
 */
SEC("raw_tp")
int calibrate(void *ctx)
{
	struct folio *fo;
	struct page *pg;
	__u64 base = calib.guess;

	calib.page_size = bpf_core_type_size(struct page);
	calib.err = 0;
	calib.exported = 0;
	if (&vmemmap_base && !calib.use_guess) {
		calib.err = bpf_probe_read_kernel(&base, sizeof(base), &vmemmap_base);
		if (calib.err)
			return 0;
		calib.exported = 1;
	}
	calib.vmemmap_base = base;
	if (!base)
		return 0;
	calib.page = base + calib.pfn * calib.page_size;
	calib.err = bpf_probe_read_kernel(&calib.flags, sizeof(calib.flags), (void *)calib.page);
	if (calib.err)
		return 0;
	pg = (struct page *)calib.page;	/* BPF_CORE_READ takes no field of ours */
	fo = (struct folio *)calib.page;
	calib.mapping = (__u64)BPF_CORE_READ(pg, mapping);
	calib.refcount = BPF_CORE_READ(pg, _refcount.counter);
	if (bpf_core_type_exists(struct folio))
		calib.index = BPF_CORE_READ(fo, index);
	return 0;
}

/*
 * CMA areas as the kernel keeps them (mm/cma.h), for kernels without CMA
 * debugfs. struct cma changed when CMA became multi-range (2025, after
 * 6.12): its one range (base_pfn, count) became ranges[nranges] of struct
 * cma_memrange. One flavour per layout,
 * bpf_core_field_exists picks; on a kernel without CMA, or an older layout,
 * the other flavour's relocations are dead code and the object still loads.
 */
struct cma___single {
	unsigned long base_pfn;
	unsigned long count;
	char name[64];
} __attribute__((preserve_access_index));

struct cma_memrange___multi {
	unsigned long base_pfn;
	unsigned long count;
} __attribute__((preserve_access_index));

struct cma___multi {
	int nranges;
	struct cma_memrange___multi ranges[PT_CMA_RANGES];
} __attribute__((preserve_access_index));

/*
 * In: the addresses of cma_areas and cma_area_count, which the loader
 * finds in kallsyms. Not __ksym externs: these data symbols exist only
 * with CONFIG_KALLSYMS_ALL (not on arm64 6.1), and passed in like this a
 * missing one only means the program is not run, never a failed load.
 */
struct pt_cma_read cma_rd = {};

static __always_inline int cma_read_ranges(__u64 cma, struct pt_cma_area *a)
{
	__u64 ranges = cma + bpf_core_field_offset(struct cma___multi, ranges);
	__u32 step = bpf_core_type_size(struct cma_memrange___multi);
	struct cma_memrange___multi *m;
	int n = 0, err;

	err = bpf_core_read(&n, sizeof(n), &((struct cma___multi *)cma)->nranges);
	if (err)
		return err;
	a->kernel_nranges = n;
	for (int r = 0; r < PT_CMA_RANGES; r++) {
		if (r >= n)
			break;
		m = (void *)(ranges + r * step);
		err = bpf_core_read(&a->base_pfn[r], sizeof(a->base_pfn[r]), &m->base_pfn) ?:
		      bpf_core_read(&a->count[r], sizeof(a->count[r]), &m->count);
		if (err)
			return err;
		a->nranges = r + 1;
	}
	return 0;
}

static __always_inline int cma_read_single(__u64 cma, struct pt_cma_area *a)
{
	struct cma___single *c = (void *)cma;
	int err;

	a->kernel_nranges = 1;
	err = bpf_core_read(&a->base_pfn[0], sizeof(a->base_pfn[0]), &c->base_pfn) ?:
	      bpf_core_read(&a->count[0], sizeof(a->count[0]), &c->count);
	if (!err)
		a->nranges = 1;
	return err;
}

/*
 * Run once by the loader with BPF_PROG_TEST_RUN (src/session.c), never
 * attached: '?' keeps it out of the tracing session's load.
 */
SEC("?raw_tp")
int read_cma(void *ctx)
{
	__u32 total = 0;

	cma_rd.n = 0;
	cma_rd.total = 0;
	cma_rd.err = -2;	/* -ENOENT: this kernel has no struct cma (CONFIG_CMA off) */
	if (!bpf_core_type_exists(struct cma___single))
		return 0;
	cma_rd.stride = bpf_core_type_size(struct cma___single);
	cma_rd.err = bpf_probe_read_kernel(&total, sizeof(total), (void *)cma_rd.count_addr);
	if (cma_rd.err)
		return 0;
	cma_rd.total = total;
	for (__u32 i = 0; i < PT_CMA_AREAS; i++) {
		struct pt_cma_area *a = &cma_rd.area[i];
		__u64 cma = cma_rd.areas + (__u64)i * cma_rd.stride;
		const char *name = (void *)(cma + bpf_core_field_offset(struct cma___single, name));

		if (i >= total)
			break;
		a->nranges = 0;
		if (bpf_probe_read_kernel_str(a->name, sizeof(a->name), name) < 0)
			a->name[0] = '\0';
		if (bpf_core_field_exists(struct cma___multi, ranges))
			cma_rd.err = cma_read_ranges(cma, a);
		else
			cma_rd.err = cma_read_single(cma, a);
		if (cma_rd.err)
			return 0;
		cma_rd.n = i + 1;
	}
	return 0;
}

#endif /* PT_CORE_BPF_H */
