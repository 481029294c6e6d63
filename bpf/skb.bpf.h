/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * skb frag holds: MSG_ZEROCOPY puts user pages straight into skb frags and
 * splice() moves pipe pages into them; either way the socket holds plain
 * page references until the skb data is freed. Like pipe holds they block
 * migration, offlining and CMA while invisible to the pin accounting.
 *
 * Bookkeeping is per folio (skb_held: folio -> frag references we saw
 * taken), because frags move between skbs. The takes we follow are the
 * frags added by the zerocopy and splice paths, plus the copies an unclone
 * or an rx coalesce makes of frags we already follow; the releases are the
 * frags of skb data that skb_release_data() actually frees and the frags
 * skb_copy_ubufs() replaces. Paths that drop frag refs without a hook
 * (__pskb_pull_tail, trims) are caught by the refcount sampler (sample.bpf.h).
 */
#ifndef PT_SKB_BPF_H
#define PT_SKB_BPF_H

/* Set by the loader once every skb hook of this kernel is attached. */
bool track_skbs = false;
/*
 * Frag references in skb_held, summed: skb_release_data() runs for every
 * skb on the system and returns at once while this is zero.
 */
__s64 skb_live = 0;

#define PT_AF_INET 2
#define SKB_DATAREF_SHIFT 16
#define SKB_FRAG_SIZE 16	/* bio_vec (<= 6.8) and skb_frag (6.9+): page/netmem at 0, len at 8, offset at 12 */
#define SKB_MAX_FRAGS 32	/* loop bound; Debian builds have 17 (CONFIG_MAX_SKB_FRAGS) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PT_MAX_TRACKED_FOLIOS);
	__type(key, __u64);
	__type(value, __s64);
} skb_held SEC(".maps");

/* Per-task context of a call in progress that adds frags. */
struct skb_ctx {
	__u64 sk;		/* the socket the frags are for (0: unknown) */
	__u64 skb;		/* zerocopy: the skb being filled */
	__u64 folio;		/* do_tcp_sendpages: the page's folio */
	__s32 ref0;		/* do_tcp_sendpages: its refcount at entry */
	__u32 nr0;		/* zerocopy: nr_frags at entry */
	__u32 nfolios;		/* skb_copy_ubufs: followed folios about to be replaced */
	__u64 folios[SKB_MAX_FRAGS];
};

struct skb_ctx_key {
	__u32 tid;
	__u32 hook;
};

/* Contexts live for one call: bounded by tasks in such calls at once. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct skb_ctx_key);
	__type(value, struct skb_ctx);
} skb_ctxs SEC(".maps");

/* Scratch for building a context: too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct skb_ctx);
} skb_scratch SEC(".maps");

static __always_inline struct skb_ctx *skb_ctx_new(void)
{
	__u32 zero = 0;
	struct skb_ctx *c = bpf_map_lookup_elem(&skb_scratch, &zero);

	if (c)
		__builtin_memset(c, 0, sizeof(*c));
	return c;
}

static __always_inline void skb_ctx_put(enum pt_hook hook, struct skb_ctx *c)
{
	struct skb_ctx_key k = { .tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook };

	if (bpf_map_update_elem(&skb_ctxs, &k, c, BPF_ANY))
		STAT_INC(hook, map_full);
}

static __always_inline struct skb_ctx *skb_ctx_get(enum pt_hook hook)
{
	struct skb_ctx_key k = { .tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook };

	return bpf_map_lookup_elem(&skb_ctxs, &k);
}

static __always_inline void skb_ctx_del(enum pt_hook hook)
{
	struct skb_ctx_key k = { .tid = (__u32)bpf_get_current_pid_tgid(), .hook = hook };

	bpf_map_delete_elem(&skb_ctxs, &k);
}

/* skb_shinfo(): head + end (an offset on 64-bit builds). */
static __always_inline struct skb_shared_info *skb_shinfo_of(struct sk_buff *skb)
{
	unsigned char *head = BPF_CORE_READ(skb, head);
	unsigned int end = BPF_CORE_READ(skb, end);

	return (struct skb_shared_info *)(head + end);
}

static __always_inline __u32 skb_nr_frags(struct skb_shared_info *sh)
{
	return BPF_CORE_READ(sh, nr_frags);
}

/* Raw frag page; bit 0 set marks a net_iov (devmem, zcrx): not a page. */
static __always_inline __u64 skb_frag_page_raw(struct skb_shared_info *sh, __u32 i, __u32 *off)
{
	__u64 p = 0;
	void *f = (void *)sh + bpf_core_field_offset(struct skb_shared_info, frags) +
		  i * SKB_FRAG_SIZE;

	bpf_probe_read_kernel(&p, sizeof(p), f);
	if (off)
		bpf_probe_read_kernel(off, sizeof(*off), f + 12);
	return p;
}

/* skb_cloned(): data shared with a clone. */
static __always_inline bool skb_is_cloned(struct sk_buff *skb, struct skb_shared_info *sh)
{
	if (!BPF_CORE_READ_BITFIELD_PROBED(skb, cloned))
		return false;
	return (BPF_CORE_READ(sh, dataref.counter) & ((1 << SKB_DATAREF_SHIFT) - 1)) != 1;
}

/*
 * Will skb_release_data() drop the frags? Only when the data is not shared
 * any more: !cloned, or this skb holds the last data reference (the bias
 * is larger for header-less clones). Read at entry, before the decrement.
 */
static __always_inline bool skb_data_freed(struct sk_buff *skb, struct skb_shared_info *sh)
{
	int bias;

	if (!BPF_CORE_READ_BITFIELD_PROBED(skb, cloned))
		return true;
	bias = BPF_CORE_READ_BITFIELD_PROBED(skb, nohdr) ? (1 << SKB_DATAREF_SHIFT) + 1 : 1;
	return BPF_CORE_READ(sh, dataref.counter) == bias;
}

/*
 * io_uring SEND_ZC frags: the kernel takes no frag references for them.
 * SKBFL_MANAGED_FRAG_REFS is an enumerator of an anonymous enum, which
 * CO-RE cannot relocate; it has been 16 since it appeared (6.0) and the
 * flag is never set before.
 */
#define PT_SKBFL_MANAGED_FRAG_REFS 16
static __always_inline bool skb_managed_frags(struct skb_shared_info *sh)
{
	return BPF_CORE_READ(sh, flags) & PT_SKBFL_MANAGED_FRAG_REFS;
}

/* Socket identity: inode number and, for IPv4, the 4-tuple. */
static __always_inline void sock_fill(struct pt_event *e, struct sock *sk)
{
	struct socket *so;
	__u16 family, lport, rport;

	e->holder = (__u64)sk;
	if (!sk)
		return;
	so = BPF_CORE_READ(sk, sk_socket);
	if (so)
		e->holder_id = BPF_CORE_READ(so, file, f_inode, i_ino);
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->nr_req = (__u64)family << 32 | (__u32)lport << 16 | rport;
	if (family == PT_AF_INET)
		e->addr = (__u64)BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr) << 32 |
			  BPF_CORE_READ(sk, __sk_common.skc_daddr);
}

static __always_inline void skb_event(enum pt_hook hook, __u8 be, __s32 stack_id, __u8 type,
				      __u64 folio, __u64 sk, __u32 flags)
{
	struct pt_event *e = event_reserve(hook, type, be);

	if (!e)
		return;
	e->folio = folio;
	e->refs = 1;
	e->pt_flags = PT_F_SKB | PT_F_GET | flags;
	sock_fill(e, (struct sock *)sk);
	e->stack_id = stack_id;
	event_submit(e, hook);
}

/*
 * A frag reference on @folio now held by @sk, and one dropped. Global
 * functions, so that the verifier checks each once rather than once per
 * iteration of every frag loop: Debian 6.1's verifier walked 914 K
 * instructions for one such loop (6.12's: 17 K), 9 s of start-up under
 * emulation. Hence scalar arguments only, hook and backend packed in @hb,
 * and the caller's stack id (one walk per call: the frags share it).
 */
#define SKB_HB(hook, be)	((__u32)(hook) | (__u32)(be) << 8)

__noinline int skb_take(__u64 folio, __u64 sk, __u32 flags, __s32 stack_id, __u32 hb)
{
	enum pt_hook hook = hb & 0xff;

	folio_count_add(&skb_held, hook, folio, 1);
	__sync_fetch_and_add(&skb_live, 1);
	STAT_INC(hook, hits);
	skb_event(hook, hb >> 8, stack_id, PT_EV_HOLD, folio, sk, flags);
	return 0;
}

__noinline int skb_drop(__u64 folio, __u64 sk, __u32 flags, __u32 hb)
{
	enum pt_hook hook = hb & 0xff;

	if (!folio_count_sub(&skb_held, folio, 1))
		return 0;
	__sync_fetch_and_add(&skb_live, -1);
	STAT_INC(hook, hits);
	skb_event(hook, hb >> 8, -1, PT_EV_RELEASE, folio, sk, flags);
	return 0;
}

/* Pages worth following into a socket: those a pipe or an skb holds for us. */
static __always_inline bool folio_followed(__u64 folio)
{
	return bpf_map_lookup_elem(&pipe_held, &folio) || bpf_map_lookup_elem(&skb_held, &folio);
}

/* ---- takes ------------------------------------------------------------ */

/*
 * __zerocopy_sg_from_iter(msg, sk, skb, from, len[, binding]): frags
 * [nr0, nr) are new and hold one reference each; pages merged into an
 * existing frag had theirs dropped again (page_ref_sub) inside the call.
 */
static __always_inline int zc_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct sk_buff *skb = (struct sk_buff *)h->a[2];
	struct skb_ctx *c;

	if (!track_skbs || !task_selected(bpf_get_current_pid_tgid() >> 32))
		return 0;
	c = skb_ctx_new();
	if (!c)
		return 0;
	c->sk = h->a[1];
	c->skb = (__u64)skb;
	c->nr0 = skb_nr_frags(skb_shinfo_of(skb));
	skb_ctx_put(hook, c);
	return 0;
}

static __always_inline int zc_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct skb_ctx *c = skb_ctx_get(hook);
	struct skb_shared_info *sh;
	__s32 stack_id = -1;
	__u32 nr;

	if (!c)
		return 0;
	sh = skb_shinfo_of((struct sk_buff *)c->skb);
	nr = skb_nr_frags(sh);
	if (nr > c->nr0)
		stack_id = event_stack(hook, h->ctx);
	for (__u32 i = 0; i < SKB_MAX_FRAGS; i++) {
		__u64 page;

		if (i < c->nr0)
			continue;
		if (i >= nr)
			break;
		page = skb_frag_page_raw(sh, i, NULL);
		if (page && !(page & 1))
			skb_take(page_head(page), c->sk, PT_F_ZEROCOPY, stack_id, SKB_HB(hook, be));
	}
	skb_ctx_del(hook);
	return 0;
}

/* splice(fd_in, off_in, fd_out, off_out, len, flags): the socket it feeds. */
static __always_inline int splice_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct pt_regs *regs = (struct pt_regs *)h->a[0];
	unsigned int fd = PT_REGS_PARM3_CORE_SYSCALL(regs);
	struct skb_ctx *c;
	struct socket *so;
	struct file *f;
	umode_t mode;

	if (!track_skbs)
		return 0;
	f = fd_file(fd);
	if (!f)
		return 0;
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & 00170000) != 0140000)	/* S_ISSOCK */
		return 0;
	so = BPF_CORE_READ(f, private_data);
	c = skb_ctx_new();
	if (!c)
		return 0;
	c->sk = (__u64)BPF_CORE_READ(so, sk);
	skb_ctx_put(hook, c);
	return 0;
}

static __always_inline int splice_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	skb_ctx_del(hook);
	return 0;
}

/*
 * skb_append_pagefrags(skb, page, offset, size[, max_frags]) -> 0: either a
 * new frag with get_page(), or the page extended the last frag (no new
 * reference). Only a new frag starts at @offset.
 */
static __always_inline int append_frags_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct skb_shared_info *sh;
	__u64 folio, page = h->a[1];
	struct skb_ctx *c;
	__u32 nr, off = 0;

	if (!track_skbs || h->ret != 0)
		return 0;
	folio = page_head(page);
	if (!folio_followed(folio))
		return 0;
	sh = skb_shinfo_of((struct sk_buff *)h->a[0]);
	nr = skb_nr_frags(sh);
	if (!nr || nr > SKB_MAX_FRAGS)
		return 0;
	if (skb_frag_page_raw(sh, nr - 1, &off) != page || off != (__u32)h->a[2])
		return 0;
	c = skb_ctx_get(PT_HOOK_SPLICE);
	skb_take(folio, c ? c->sk : 0, 0, event_stack(hook, h->ctx), SKB_HB(hook, be));
	return 0;
}

/*
 * do_tcp_sendpages(sk, page, offset, size, flags) (<= 6.4): the frag code
 * is inlined, and one page may land in one or two skbs, or extend a frag.
 * The folio's refcount delta across the call (under the socket lock, the
 * pipe keeping the page alive) is the number of frag references taken.
 */
static __always_inline int sendpages_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	__u64 folio;
	struct skb_ctx *c;

	if (!track_skbs)
		return 0;
	folio = page_head(h->a[1]);
	if (!folio_followed(folio))
		return 0;
	c = skb_ctx_new();
	if (!c)
		return 0;
	c->sk = h->a[0];
	c->folio = folio;
	c->ref0 = BPF_CORE_READ((struct page *)folio, _refcount.counter);
	skb_ctx_put(hook, c);
	return 0;
}

static __always_inline int sendpages_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct skb_ctx *c = skb_ctx_get(hook);
	struct page *folio;
	__s32 delta;

	if (!c)
		return 0;
	folio = (struct page *)c->folio;	/* a local: see pipe.bpf.h */
	delta = (__s32)BPF_CORE_READ(folio, _refcount.counter) - c->ref0;
	for (int i = 0; i < 2; i++)
		if (i < delta)
			skb_take(c->folio, c->sk, 0, event_stack(hook, h->ctx), SKB_HB(hook, be));
	skb_ctx_del(hook);
	return 0;
}

/*
 * pskb_expand_head(skb, ...) on a cloned skb copies the frags into private
 * data and takes a reference on each: the copy is a holder of its own.
 */
static __always_inline int expand_head_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct sk_buff *skb = (struct sk_buff *)h->a[0];
	struct skb_shared_info *sh;
	__u64 sk;
	__u32 nr;

	if (!track_skbs || skb_live <= 0)
		return 0;
	sh = skb_shinfo_of(skb);
	if (!skb_is_cloned(skb, sh))
		return 0;
	nr = skb_nr_frags(sh);
	sk = (__u64)BPF_CORE_READ(skb, sk);
	for (__u32 i = 0; i < SKB_MAX_FRAGS; i++) {
		__u64 page, folio;

		if (i >= nr)
			break;
		page = skb_frag_page_raw(sh, i, NULL);
		if (!page || (page & 1))
			continue;
		folio = page_head(page);
		if (bpf_map_lookup_elem(&skb_held, &folio))
			skb_take(folio, sk, PT_F_MOVED, -1, SKB_HB(hook, be));
	}
	return 0;
}

/*
 * skb_try_coalesce(to, from, ...) -> true: from's frags were appended to
 * to; when from is cloned they were copied and each got a reference.
 */
static __always_inline int coalesce_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct sk_buff *from = (struct sk_buff *)h->a[1], *to = (struct sk_buff *)h->a[0];
	struct skb_shared_info *sh;
	__u64 sk;
	__u32 nr;

	if (!track_skbs || skb_live <= 0 || !(__u8)h->ret)
		return 0;
	sh = skb_shinfo_of(from);
	if (!skb_is_cloned(from, sh))
		return 0;
	nr = skb_nr_frags(sh);
	sk = (__u64)BPF_CORE_READ(to, sk);
	for (__u32 i = 0; i < SKB_MAX_FRAGS; i++) {
		__u64 page, folio;

		if (i >= nr)
			break;
		page = skb_frag_page_raw(sh, i, NULL);
		if (!page || (page & 1))
			continue;
		folio = page_head(page);
		if (bpf_map_lookup_elem(&skb_held, &folio))
			skb_take(folio, sk, PT_F_MOVED, -1, SKB_HB(hook, be));
	}
	return 0;
}

/* ---- releases --------------------------------------------------------- */

/* Followed folios among an skb's frags, into c->folios. */
static __always_inline void skb_collect(struct sk_buff *skb, struct skb_shared_info *sh,
					struct skb_ctx *c)
{
	__u32 nr = skb_nr_frags(sh);

	for (__u32 i = 0; i < SKB_MAX_FRAGS; i++) {
		__u64 page, folio;

		if (i >= nr)
			break;
		page = skb_frag_page_raw(sh, i, NULL);
		if (!page || (page & 1))
			continue;
		folio = page_head(page);
		if (!bpf_map_lookup_elem(&skb_held, &folio))
			continue;
		if (c->nfolios < SKB_MAX_FRAGS)
			c->folios[c->nfolios & (SKB_MAX_FRAGS - 1)] = folio;
		c->nfolios++;
	}
}

/*
 * skb_release_data(skb[, reason[, napi_safe]]): at entry, because the head
 * holding skb_shared_info is freed before the return.
 */
static __always_inline int release_data_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct sk_buff *skb = (struct sk_buff *)h->a[0];
	struct skb_shared_info *sh;
	__u64 sk;
	__u32 nr;

	if (!track_skbs || skb_live <= 0)
		return 0;
	sh = skb_shinfo_of(skb);
	if (!skb_data_freed(skb, sh) || skb_managed_frags(sh))
		return 0;
	nr = skb_nr_frags(sh);
	sk = (__u64)BPF_CORE_READ(skb, sk);
	for (__u32 i = 0; i < SKB_MAX_FRAGS; i++) {
		__u64 page;

		if (i >= nr)
			break;
		page = skb_frag_page_raw(sh, i, NULL);
		if (page && !(page & 1))
			skb_drop(page_head(page), sk, 0, SKB_HB(hook, be));
	}
	return 0;
}

/*
 * skb_copy_ubufs(skb, gfp) -> 0: zerocopy frags were replaced by copies
 * and their references dropped (local delivery, taps). The old frags are
 * only visible at entry; the drop only happened if the call succeeded.
 */
static __always_inline int copy_ubufs_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct sk_buff *skb = (struct sk_buff *)h->a[0];
	struct skb_ctx *c;

	if (!track_skbs || skb_live <= 0)
		return 0;
	c = skb_ctx_new();
	if (!c)
		return 0;
	skb_collect(skb, skb_shinfo_of(skb), c);
	if (!c->nfolios)
		return 0;
	c->sk = (__u64)BPF_CORE_READ(skb, sk);
	skb_ctx_put(hook, c);
	return 0;
}

static __always_inline int copy_ubufs_exit(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct skb_ctx *c = skb_ctx_get(hook);

	if (!c)
		return 0;
	if (h->ret == 0)
		for (__u32 i = 0; i < SKB_MAX_FRAGS; i++) {
			if (i >= c->nfolios)
				break;
			skb_drop(c->folios[i], c->sk, 0, SKB_HB(hook, be));
		}
	skb_ctx_del(hook);
	return 0;
}

/*
 * msg_zerocopy_callback (<= 6.9) / msg_zerocopy_complete (6.10+)
 * (skb, uarg, success): the completion is queued when this drops the last
 * uarg reference. The uarg lives in the cb of the skb that carries the
 * notification, whose sk is the sender.
 */
static __always_inline int zc_done_entry(enum pt_hook hook, __u8 be, struct hargs *h)
{
	struct ubuf_info_msgzc *uz = (struct ubuf_info_msgzc *)h->a[1];
	struct sk_buff *nskb;
	struct pt_event *e;
	__u32 flags = PT_F_SKB | PT_F_ZEROCOPY;

	if (!track_skbs || BPF_CORE_READ(uz, ubuf.refcnt.refs.counter) != 1)
		return 0;
	nskb = (struct sk_buff *)((void *)uz - bpf_core_field_offset(struct sk_buff, cb));
	if (!BPF_CORE_READ_BITFIELD_PROBED(uz, zerocopy) || !(__u8)h->a[2])
		flags |= PT_F_COPIED;
	STAT_INC(hook, hits);
	e = event_reserve(hook, PT_EV_ZC_DONE, be);
	if (!e)
		return 0;
	e->pt_flags = flags;
	sock_fill(e, BPF_CORE_READ(nskb, sk));
	/* after sock_fill, which uses addr for the 4-tuple */
	e->addr = BPF_CORE_READ(uz, id);
	e->refs = BPF_CORE_READ(uz, len);
	event_submit(e, hook);
	return 0;
}

PT_HOOK_ENTRY_EXIT(zerocopy_sg, PT_HOOK_ZEROCOPY_SG, 3, zc_entry, zc_exit)
PT_HOOK_EXIT(skb_append_pagefrags, PT_HOOK_SKB_APPEND_PAGEFRAGS, 3, append_frags_exit)
PT_HOOK_ENTRY_EXIT(tcp_sendpages, PT_HOOK_TCP_SENDPAGES, 2, sendpages_entry, sendpages_exit)
PT_HOOK_ENTRY_EXIT(splice, PT_HOOK_SPLICE, 1, splice_entry, splice_exit)
PT_HOOK_ENTRY(skb_release_data, PT_HOOK_SKB_RELEASE_DATA, 1, release_data_entry)
PT_HOOK_ENTRY(pskb_expand_head, PT_HOOK_PSKB_EXPAND_HEAD, 1, expand_head_entry)
PT_HOOK_EXIT(skb_try_coalesce, PT_HOOK_SKB_TRY_COALESCE, 2, coalesce_exit)
PT_HOOK_ENTRY_EXIT(skb_copy_ubufs, PT_HOOK_SKB_COPY_UBUFS, 1, copy_ubufs_entry, copy_ubufs_exit)
PT_HOOK_ENTRY(zerocopy_done, PT_HOOK_ZEROCOPY_DONE, 3, zc_done_entry)

#endif /* PT_SKB_BPF_H */
