/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The refcount sampler: the backstop for release paths without a hook.
 * Every followed folio's real reference count is compared with the holds
 * we track on it. A folio with fewer external references than tracked
 * holds lost a release we did not see: the surplus holds are dropped (skb
 * holds first, they are the lossy ones) and reported as RELEASE events with
 * PT_F_SAMPLED, so that a missed release never masquerades as a leak. More
 * references than tracked holds are holders we did not see; they are only
 * counted.
 *
 * The loader runs the program on demand with BPF_PROG_TEST_RUN (it is
 * never attached). struct page memory (vmemmap) stays mapped after a page
 * is freed, so reading a stale folio is safe and only makes it disagree.
 */
#ifndef PT_SAMPLE_BPF_H
#define PT_SAMPLE_BPF_H

#define PT_GUP_PIN_BIAS 1024	/* GUP_PIN_COUNTING_BIAS: pins on small folios */

struct pt_sample sample_res = {};
/* Sampler passes so far: a deficit is corrected only when the last pass saw it too. */
__u64 sample_pass = 0;

/*
 * Folios that had fewer references than tracked holds, and in which pass.
 * A page in flux (being unmapped and remapped by a migration attempt) can
 * read low for an instant; a missed release stays low. LRU: a folio that
 * agrees again is not deleted, it just ages out.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, PT_MAX_STACKS);
	__type(key, __u64);
	__type(value, __u64);
} sample_suspect SEC(".maps");

/*
 * References on an order-0 page that no mapping, page cache or swap cache
 * accounts for: what pins, pipes, skbs and other GUP users hold.
 */
static __always_inline __s64 page_external_refs(__u64 page)
{
	struct page *p = (struct page *)page;
	__s64 refs = BPF_CORE_READ(p, _refcount.counter);
	__s64 maps = (__s64)BPF_CORE_READ(p, _mapcount.counter) + 1;
	__u64 mapping = (__u64)BPF_CORE_READ(p, mapping);
	__u64 fl = page_flags_raw(page);

	if (maps > 0)
		refs -= maps;
	if (mapping && !(mapping & 1))
		refs -= 1;	/* page cache */
	else if ((mapping & 1) && (fl & (1ULL << bpf_core_enum_value(enum pageflags, PG_swapcache))))
		refs -= 1;	/* anonymous page in the swap cache */
	return refs;
}

static __always_inline void sample_drop(void *map, __u64 folio, __s64 n, __u32 flags)
{
	for (int i = 0; i < 64; i++) {
		struct pt_event *e;

		if (i >= n || !folio_count_sub(map, folio, 1))
			break;
		if (flags & PT_F_SKB)
			__sync_fetch_and_add(&skb_live, -1);
		sample_res.corrected_refs++;
		e = event_reserve(PT_HOOK_NONE, PT_EV_RELEASE, PT_BACKEND_NONE);
		if (!e)
			continue;
		e->folio = folio;
		e->refs = 1;
		e->pt_flags = flags | PT_F_GET | PT_F_SAMPLED;
		event_submit(e, PT_HOOK_NONE);
	}
}

/*
 * A page not on an LRU list while mapped or cached sits in a per-CPU
 * folio batch waiting to be added (or is isolated for migration): the
 * kernel holds one transient reference on it, which is nobody's hold. Not
 * discounting it would let a page freshly faulted in (still in the batch)
 * hide a missed release until the batch drains.
 */
static __always_inline bool page_off_lru(__u64 page)
{
	struct page *p = (struct page *)page;

	if (!BPF_CORE_READ(p, mapping))
		return false;
	return !(page_flags_raw(page) & (1ULL << bpf_core_enum_value(enum pageflags, PG_lru)));
}

/*
 * Migration, reclaim and truncation lock the folio while they unmap, move
 * and remap it: its counts are in flux then, and read apart they disagree.
 */
static __always_inline bool page_locked(__u64 page)
{
	return page_flags_raw(page) & (1ULL << bpf_core_enum_value(enum pageflags, PG_locked));
}

/* A deficit seen for the first time waits for the next pass to confirm it. */
static __always_inline bool deficit_confirmed(__u64 folio)
{
	__u64 *seen = bpf_map_lookup_elem(&sample_suspect, &folio);

	if (seen && *seen + 1 == sample_pass)
		return true;
	bpf_map_update_elem(&sample_suspect, &folio, &sample_pass, BPF_ANY);
	sample_res.suspect++;
	return false;
}

/* One folio: @skb and @pipe are its tracked holds. */
static __always_inline void sample_folio(__u64 folio, __s64 skb, __s64 pipe)
{
	__s64 pins = 0, *v, ext, expected;
	bool off_lru;

	sample_res.folios++;
	if (folio_is_large(folio)) {
		sample_res.skipped++;
		return;
	}
	v = bpf_map_lookup_elem(&held, &folio);
	if (v)
		pins = *v;
	if (page_locked(folio)) {
		sample_res.busy++;
		return;
	}
	ext = page_external_refs(folio);
	off_lru = page_off_lru(folio);
	if (page_locked(folio)) {	/* locked while we read: not a reading to judge */
		sample_res.busy++;
		return;
	}
	/* the LRU batch's or isolation's transient reference is nobody's hold */
	if (off_lru && ext > 0)
		ext--;
	expected = skb + pipe + pins * PT_GUP_PIN_BIAS;
	if (ext == expected) {
		sample_res.agree++;
		return;
	}
	if (ext > expected) {
		sample_res.more++;
		return;
	}
	if (!deficit_confirmed(folio))
		return;
	sample_res.corrected++;
	if (ext < pins * PT_GUP_PIN_BIAS)
		ext = pins * PT_GUP_PIN_BIAS;
	expected -= ext;	/* surplus holds */
	if (skb > 0) {
		sample_drop(&skb_held, folio, expected < skb ? expected : skb, PT_F_SKB);
		expected -= expected < skb ? expected : skb;
	}
	if (expected > 0)
		sample_drop(&pipe_held, folio, expected, PT_F_PIPE);
}

static long sample_skb_cb(struct bpf_map *map, __u64 *folio, __s64 *n, void *ctx)
{
	__s64 *p = bpf_map_lookup_elem(&pipe_held, folio);

	sample_folio(*folio, *n, p ? *p : 0);
	return 0;
}

static long sample_pipe_cb(struct bpf_map *map, __u64 *folio, __s64 *n, void *ctx)
{
	/* folios that skbs also hold were done in the skb pass */
	if (!bpf_map_lookup_elem(&skb_held, folio))
		sample_folio(*folio, 0, *n);
	return 0;
}

SEC("raw_tp")
int sample_refs(void *ctx)
{
	__builtin_memset(&sample_res, 0, sizeof(sample_res));
	sample_pass++;
	bpf_for_each_map_elem(&skb_held, sample_skb_cb, NULL, 0);
	bpf_for_each_map_elem(&pipe_held, sample_pipe_cb, NULL, 0);
	return 0;
}

#endif /* PT_SAMPLE_BPF_H */
