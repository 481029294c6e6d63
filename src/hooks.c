// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The declarative hook table. Kernel churn (renames, same name with a new
 * prototype, functions that appear or vanish) is expressed here as data;
 * src/plan.c turns it plus the running kernel's facts into an attach plan.
 * See ../shared/reference/kernel-pin-paths.md §1 and §9 for the sources.
 */
#include "hooks.h"

const struct hook_def pt_hook_defs[] = {
	/* grabs: together they see every pin and GUP reference */
	{ PT_HOOK_TRY_GRAB_PAGE, "try_grab_page", { "try_grab_page" }, ROLE_GRAB, 2,
	  .what = "slow-path grab, one page (<= 6.9)" },
	{ PT_HOOK_TRY_GRAB_FOLIO_PAGE, "try_grab_folio_page", { "try_grab_folio" }, ROLE_GRAB, 3,
	  .param0 = "page", .without_sym = "try_grab_folio_fast",
	  .what = "fast-path grab, folio *(page, refs, flags) (<= 6.9)" },
	{ PT_HOOK_TRY_GRAB_FOLIO, "try_grab_folio", { "try_grab_folio" }, ROLE_GRAB, 3,
	  .param0 = "folio", .with_sym = "try_grab_folio_fast",
	  .what = "slow-path grab, int (folio, refs, flags) (>= 6.10)" },
	{ PT_HOOK_TRY_GRAB_FOLIO_FAST, "try_grab_folio_fast", { "try_grab_folio_fast" }, ROLE_GRAB, 3,
	  .what = "fast-path grab (>= 6.10)" },
	{ PT_HOOK_FOLIO_ADD_PIN, "folio_add_pin", { "folio_add_pin" }, ROLE_GRAB, 1,
	  .what = "extra pin on a pinned folio, no flags, not in nr_foll_pin_acquired (>= 6.5)" },
	{ PT_HOOK_FOLIO_ADD_PINS, "folio_add_pins", { "folio_add_pins" }, ROLE_GRAB, 2,
	  .what = "extra pins for iommufd (>= 6.13)" },
	/* unpins */
	{ PT_HOOK_GUP_PUT_FOLIO, "gup_put_folio", { "gup_put_folio" }, ROLE_UNPIN, 3,
	  .what = "unpin chokepoint (every unpin where not inlined)" },
	{ PT_HOOK_UNPIN_USER_PAGE, "unpin_user_page", { "unpin_user_page" }, ROLE_UNPIN, 1,
	  .what = "unpin wrapper (inlines gup_put_folio on some builds)" },
	{ PT_HOOK_UNPIN_FOLIO, "unpin_folio", { "unpin_folio" }, ROLE_UNPIN, 1,
	  .what = "unpin wrapper (>= 6.11)" },
	{ PT_HOOK_UNPIN_USER_FOLIO, "unpin_user_folio", { "unpin_user_folio" }, ROLE_UNPIN, 2,
	  .what = "unpin wrapper: io_uring, bio (>= 6.11)" },
	/* entry points */
	{ PT_HOOK_PIN_USER_PAGES, "pin_user_pages", { "pin_user_pages" }, ROLE_API, 3 },
	{ PT_HOOK_PIN_USER_PAGES_FAST, "pin_user_pages_fast", { "pin_user_pages_fast" }, ROLE_API, 3 },
	{ PT_HOOK_PIN_USER_PAGES_FAST_ONLY, "pin_user_pages_fast_only", { "pin_user_pages_fast_only" },
	  ROLE_API, 3 },
	/* 7 arguments up to 6.4: no fentry there on 6.1 (trampoline limit) */
	{ PT_HOOK_PIN_USER_PAGES_REMOTE, "pin_user_pages_remote", { "pin_user_pages_remote" },
	  ROLE_API, 4 },
	{ PT_HOOK_PIN_USER_PAGES_UNLOCKED, "pin_user_pages_unlocked", { "pin_user_pages_unlocked" },
	  ROLE_API, 4 },
	{ PT_HOOK_GET_USER_PAGES, "get_user_pages", { "get_user_pages" }, ROLE_API, 3 },
	{ PT_HOOK_GET_USER_PAGES_FAST, "get_user_pages_fast", { "get_user_pages_fast" }, ROLE_API, 3 },
	{ PT_HOOK_GET_USER_PAGES_FAST_ONLY, "get_user_pages_fast_only", { "get_user_pages_fast_only" },
	  ROLE_API, 3 },
	{ PT_HOOK_GET_USER_PAGES_REMOTE, "get_user_pages_remote", { "get_user_pages_remote" },
	  ROLE_API, 4 },
	{ PT_HOOK_GET_USER_PAGES_UNLOCKED, "get_user_pages_unlocked", { "get_user_pages_unlocked" },
	  ROLE_API, 4 },
	{ PT_HOOK_MEMFD_PIN_FOLIOS, "memfd_pin_folios", { "memfd_pin_folios" }, ROLE_API, 5,
	  .what = "udmabuf/iommufd long-term folio pins (>= 6.11)" },
	{ PT_HOOK_GUP_LONGTERM_LOCKED, "gup_longterm_locked", { "__gup_longterm_locked" }, ROLE_API, 6,
	  .what = "long-term pin migration and its result" },
	{ PT_HOOK_GUP_FAST_FALLBACK, "gup_fast_fallback",
	  { "gup_fast_fallback", "internal_get_user_pages_fast" }, ROLE_API, 3,
	  .what = "GUP-fast with slow fallback" },
	/* pipe holds: vmsplice takes FOLL_GET references and parks them in a pipe */
	{ PT_HOOK_VMSPLICE, "vmsplice", { "__x64_sys_vmsplice", "__arm64_sys_vmsplice" }, ROLE_HOLD, 1,
	  .what = "vmsplice syscall: the pipe its references go to" },
	{ PT_HOOK_PIPE_BUF_RELEASE, "pipe_buf_release", { "page_cache_pipe_buf_release" }, ROLE_HOLD, 2,
	  .what = "a pipe drops a page: read, splice out, close" },
	{ PT_HOOK_PIPE_BUF_GET, "pipe_buf_get", { "generic_pipe_buf_get" }, ROLE_HOLD, 2,
	  .what = "tee: another pipe references the page" },
	{ PT_HOOK_TEE, "tee", { "__x64_sys_tee", "__arm64_sys_tee" }, ROLE_HOLD, 1,
	  .what = "tee syscall: the pipe getting the new references" },
	/* skb frag holds: MSG_ZEROCOPY and splice put page references into sockets */
	{ PT_HOOK_ZEROCOPY_SG, "zerocopy_sg", { "__zerocopy_sg_from_iter" }, ROLE_SKB, 3,
	  .what = "MSG_ZEROCOPY: user pages into skb frags" },
	{ PT_HOOK_SKB_APPEND_PAGEFRAGS, "skb_append_pagefrags", { "skb_append_pagefrags" },
	  ROLE_SKB, 3, .with_sym = "splice_to_socket",
	  .what = "splice to a socket: a page into a frag (>= 6.5)" },
	{ PT_HOOK_TCP_SENDPAGES, "tcp_sendpages", { "do_tcp_sendpages" }, ROLE_SKB, 2,
	  .what = "splice to TCP: pages into frags (<= 6.4)" },
	{ PT_HOOK_SPLICE, "splice", { "__x64_sys_splice", "__arm64_sys_splice" }, ROLE_SKB, 1,
	  .with_sym = "splice_to_socket", .what = "splice syscall: the socket its pages go to (>= 6.5)" },
	{ PT_HOOK_SKB_RELEASE_DATA, "skb_release_data", { "skb_release_data" }, ROLE_SKB, 1,
	  .what = "skb data freed: its frags drop their page references" },
	{ PT_HOOK_PSKB_EXPAND_HEAD, "pskb_expand_head", { "pskb_expand_head" }, ROLE_SKB, 1,
	  .what = "unclone: the private copy references the frags again" },
	{ PT_HOOK_SKB_TRY_COALESCE, "skb_try_coalesce", { "skb_try_coalesce" }, ROLE_SKB, 2,
	  .what = "rx coalesce: frags of a cloned skb referenced again" },
	{ PT_HOOK_SKB_COPY_UBUFS, "skb_copy_ubufs", { "skb_copy_ubufs" }, ROLE_SKB, 1,
	  .what = "zerocopy frags copied for local delivery: references dropped" },
	{ PT_HOOK_ZEROCOPY_DONE, "zerocopy_done", { "msg_zerocopy_complete", "msg_zerocopy_callback" },
	  ROLE_SKB, 3, .what = "MSG_ZEROCOPY completion queued to the sender" },
	/* migration: failures, their reasons, and the folios that did not move */
	{ PT_HOOK_MIGRATE_START, "mig_start", { "mm_migrate_pages_start" }, ROLE_MIGRATE, 0,
	  .tracepoint = true, .what = "migration reason (longterm_pin, memory_hotplug, ...)" },
	{ PT_HOOK_MIGRATE_END, "mig_end", { "mm_migrate_pages" }, ROLE_MIGRATE, 0,
	  .tracepoint = true, .what = "migration result: pages moved and failed" },
	{ PT_HOOK_PUTBACK, "putback", { "putback_movable_pages" }, ROLE_MIGRATE, 1,
	  .what = "the folios a failed migration left behind" },
	{ PT_HOOK_OFFLINE_PAGES, "offline_pages", { "offline_pages" }, ROLE_MIGRATE, 2,
	  .what = "memory offline (hot-unplug) of a block and its result" },
	{ PT_HOOK_ALLOC_CONTIG, "alloc_contig", { "alloc_contig_range_noprof", "alloc_contig_range" },
	  ROLE_MIGRATE, 2, .what = "contiguous allocation (CMA, gigantic pages) and its result" },
	{ PT_HOOK_SYS_EXIT, "on_sys_exit", { "sys_exit" }, ROLE_MIGRATE, 0, .tracepoint = true,
	  .what = "the errno a process got from a failed long-term pin" },
	{ PT_HOOK_CMA_BUSY, "cma_busy", { "cma_alloc_busy_retry" }, ROLE_MIGRATE, 0,
	  .tracepoint = true, .what = "CMA: a window that could not be isolated (CONFIG_CMA)" },
	{ PT_HOOK_CMA_FINISH, "cma_finish", { "cma_alloc_finish" }, ROLE_MIGRATE, 0,
	  .tracepoint = true, .what = "CMA: an allocation that failed (CONFIG_CMA)" },
	/* process tree */
	{ PT_HOOK_SCHED_FORK, "on_fork", { "sched_process_fork" }, ROLE_TASK, 0, .tracepoint = true,
	  .run_only = true },
	{ PT_HOOK_SCHED_EXIT, "on_exit", { "sched_process_exit" }, ROLE_TASK, 0, .tracepoint = true,
	  .run_only = true },
};

const size_t pt_hook_ndefs = sizeof(pt_hook_defs) / sizeof(pt_hook_defs[0]);

const struct hook_gen pt_hook_gens[] = {
	{ "5.18-6.9 (try_grab_page, try_grab_folio(page))",
	  { PT_HOOK_TRY_GRAB_PAGE, PT_HOOK_TRY_GRAB_FOLIO_PAGE, PT_HOOK_GUP_PUT_FOLIO } },
	{ "6.10+ (try_grab_folio(folio), try_grab_folio_fast)",
	  { PT_HOOK_TRY_GRAB_FOLIO, PT_HOOK_TRY_GRAB_FOLIO_FAST, PT_HOOK_GUP_PUT_FOLIO } },
};

const size_t pt_hook_ngens = sizeof(pt_hook_gens) / sizeof(pt_hook_gens[0]);

const struct hook_def *hook_def_by_id(enum pt_hook id)
{
	for (size_t i = 0; i < pt_hook_ndefs; i++)
		if (pt_hook_defs[i].id == id)
			return &pt_hook_defs[i];
	return NULL;
}

const char *hook_name(unsigned int id)
{
	const struct hook_def *d = hook_def_by_id((enum pt_hook)id);

	if (!d)
		return "-";
	/* report the kernel's name, e.g. "try_grab_folio" for both variants */
	return d->syms[0];
}
