// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attach planning against the facts recorded from real kernels
 * (tests/fixtures/facts-*.txt, written by `pintrace check --dump-facts`
 * inside the test VMs) and against hand-made edge cases.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "facts.h"
#include "plan.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures"
#endif

static void load(const char *name, struct kernel_facts *kf)
{
	char path[256], err[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(facts_read(f, kf, err, sizeof(err)), 0);
	fclose(f);
}

static const struct hook_plan *hook(const struct plan *p, enum pt_hook id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->hooks[i].def->id == id)
			return &p->hooks[i];
	fail_msg("hook %d not in plan", id);
	return NULL;
}

static void assert_attach(const struct plan *p, enum pt_hook id, enum pt_backend first,
			  enum pt_backend second)
{
	const struct hook_plan *h = hook(p, id);

	assert_int_equal(h->state, PLAN_ATTACH);
	assert_int_equal(h->order[0], first);
	assert_int_equal(h->norder, second ? 2 : 1);
	if (second)
		assert_int_equal(h->order[1], second);
}

static void test_debian_6_1(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	load("facts-6.1.txt", &kf);
	plan_build(&kf, MODE_AUTO, true, &p);
	/* 6.1 grabs: try_grab_page + old try_grab_folio(page) */
	assert_attach(&p, PT_HOOK_TRY_GRAB_PAGE, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_TRY_GRAB_FOLIO_PAGE, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_FOLIO)->state, PLAN_ABSENT);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_FOLIO_FAST)->state, PLAN_ABSENT);
	assert_int_equal(hook(&p, PT_HOOK_UNPIN_USER_FOLIO)->state, PLAN_ABSENT);
	assert_attach(&p, PT_HOOK_GUP_PUT_FOLIO, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	/* 7 arguments on 6.1: beyond the trampoline limit, kprobe only */
	assert_attach(&p, PT_HOOK_PIN_USER_PAGES_REMOTE, PT_BACKEND_KPROBE, 0);
	assert_non_null(strstr(hook(&p, PT_HOOK_PIN_USER_PAGES_REMOTE)->why, "7 arguments"));
	assert_string_equal(hook(&p, PT_HOOK_GUP_FAST_FALLBACK)->sym, "internal_get_user_pages_fast");
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), 0);
	/* splice to TCP goes through do_tcp_sendpages before 6.5 */
	assert_attach(&p, PT_HOOK_TCP_SENDPAGES, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_int_equal(hook(&p, PT_HOOK_SKB_APPEND_PAGEFRAGS)->state, PLAN_ABSENT);
	assert_int_equal(hook(&p, PT_HOOK_SPLICE)->state, PLAN_ABSENT);
	assert_string_equal(hook(&p, PT_HOOK_ZEROCOPY_DONE)->sym, "msg_zerocopy_callback");
	assert_attach(&p, PT_HOOK_SKB_RELEASE_DATA, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	/* migration failures: the pre-6.10 alloc_contig_range name */
	assert_attach(&p, PT_HOOK_PUTBACK, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_OFFLINE_PAGES, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_string_equal(hook(&p, PT_HOOK_ALLOC_CONTIG)->sym, "alloc_contig_range");
	assert_attach(&p, PT_HOOK_MIGRATE_START, PT_BACKEND_TP, 0);

	/* forced fentry: the 7-argument API is unavailable, coverage still complete */
	plan_build(&kf, MODE_FENTRY, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_PIN_USER_PAGES_REMOTE)->state, PLAN_UNAVAILABLE);
	assert_int_equal(hook(&p, PT_HOOK_SCHED_FORK)->state, PLAN_SKIPPED);
	assert_attach(&p, PT_HOOK_TRY_GRAB_PAGE, PT_BACKEND_FENTRY, 0);
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), 0);
	plan_build(&kf, MODE_KPROBE, true, &p);
	assert_attach(&p, PT_HOOK_TRY_GRAB_PAGE, PT_BACKEND_KPROBE, 0);
	assert_attach(&p, PT_HOOK_SCHED_FORK, PT_BACKEND_TP, 0);
}

static void test_debian_6_12(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	load("facts-6.12.txt", &kf);
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_PAGE)->state, PLAN_ABSENT);
	/* same name, new prototype: the folio variant */
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_FOLIO_PAGE)->state, PLAN_ABSENT);
	assert_attach(&p, PT_HOOK_TRY_GRAB_FOLIO, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_TRY_GRAB_FOLIO_FAST, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_FOLIO_ADD_PIN, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_UNPIN_USER_FOLIO, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_MEMFD_PIN_FOLIOS, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	/* 6 arguments since 6.5: fentry works */
	assert_attach(&p, PT_HOOK_PIN_USER_PAGES_REMOTE, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_string_equal(hook(&p, PT_HOOK_GUP_FAST_FALLBACK)->sym, "gup_fast_fallback");
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), 0);
	/* 6.5+: splice_to_socket -> skb_splice_from_iter -> skb_append_pagefrags */
	assert_int_equal(hook(&p, PT_HOOK_TCP_SENDPAGES)->state, PLAN_ABSENT);
	assert_attach(&p, PT_HOOK_SKB_APPEND_PAGEFRAGS, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_SPLICE, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_string_equal(hook(&p, PT_HOOK_ZEROCOPY_DONE)->sym, "msg_zerocopy_complete");
	/* migration: putback_movable_pages and offline_pages out of line, the _noprof name */
	assert_attach(&p, PT_HOOK_PUTBACK, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_OFFLINE_PAGES, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_string_equal(hook(&p, PT_HOOK_ALLOC_CONTIG)->sym, "alloc_contig_range_noprof");
}

static void test_6_18(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	load("facts-6.18.txt", &kf);
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_attach(&p, PT_HOOK_FOLIO_ADD_PINS, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_UNPIN_FOLIO, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_int_equal(hook(&p, PT_HOOK_PIN_USER_PAGES_FAST_ONLY)->state, PLAN_ABSENT);
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), 0);
	/* migration: the _noprof name since 6.10; tracepoints also outside `run` */
	assert_attach(&p, PT_HOOK_PUTBACK, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_attach(&p, PT_HOOK_OFFLINE_PAGES, PT_BACKEND_FENTRY, PT_BACKEND_KPROBE);
	assert_string_equal(hook(&p, PT_HOOK_ALLOC_CONTIG)->sym, "alloc_contig_range_noprof");
	assert_attach(&p, PT_HOOK_MIGRATE_START, PT_BACKEND_TP, 0);
	assert_attach(&p, PT_HOOK_MIGRATE_END, PT_BACKEND_TP, 0);
	assert_attach(&p, PT_HOOK_SYS_EXIT, PT_BACKEND_TP, 0);
	assert_int_equal(hook(&p, PT_HOOK_SCHED_FORK)->state, PLAN_SKIPPED);
	/* no CONFIG_CMA: no cma tracepoints (a tp_btf program for one would fail the load) */
	assert_int_equal(hook(&p, PT_HOOK_CMA_BUSY)->state, PLAN_ABSENT);
	assert_int_equal(hook(&p, PT_HOOK_CMA_FINISH)->state, PLAN_ABSENT);
	/* a CMA kernel has them */
	facts_sym_add(&kf, "tp/cma_alloc_finish")->btf = true;
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_attach(&p, PT_HOOK_CMA_FINISH, PT_BACKEND_TP, 0);
	assert_int_equal(hook(&p, PT_HOOK_CMA_BUSY)->state, PLAN_ABSENT);
}

static void test_locked_host(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	load("facts-6.18-locked.txt", &kf);
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_FOLIO)->state, PLAN_UNAVAILABLE);
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "cannot be traced"));
}

/* A function present but notrace (ftrace says no) must not be fentry'd. */
static void test_notrace_and_dups(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	struct sym_fact *s;

	load("facts-6.12.txt", &kf);
	s = (struct sym_fact *)facts_sym(&kf, "gup_put_folio");
	s->ftrace = 0;
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_attach(&p, PT_HOOK_GUP_PUT_FOLIO, PT_BACKEND_KPROBE, 0);
	assert_non_null(strstr(hook(&p, PT_HOOK_GUP_PUT_FOLIO)->why, "notrace"));
	/* two static functions of the same name: neither backend can pick one */
	s->ftrace = 1;
	s->kallsyms = 2;
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_GUP_PUT_FOLIO)->state, PLAN_UNAVAILABLE);
	{
		char why[256];

		assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), -ENOTSUP);
		assert_non_null(strstr(why, "gup_put_folio"));
	}
}

/* Without BTF the variant comes from the sibling symbol. */
static void test_variant_without_btf(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	struct sym_fact *s;

	load("facts-6.12.txt", &kf);
	s = (struct sym_fact *)facts_sym(&kf, "try_grab_folio");
	s->btf = false;
	s->param0[0] = '\0';
	plan_build(&kf, MODE_KPROBE, false, &p);
	assert_attach(&p, PT_HOOK_TRY_GRAB_FOLIO, PT_BACKEND_KPROBE, 0);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_FOLIO_PAGE)->state, PLAN_ABSENT);
}

/* 5.15-like: try_grab_compound_head/put_compound_head are not in our table. */
static void test_incomplete_generation(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	memset(&kf, 0, sizeof(kf));
	kf.btf = kf.fentry = kf.kprobe = kf.tp_btf = true;
	kf.fentry_max_args = 6;
	for (const char **n = (const char *[]){ "try_grab_page", "unpin_user_page", NULL }; *n; n++) {
		struct sym_fact *s = facts_sym_add(&kf, *n);

		s->kallsyms = 1;
		s->btf = true;
		s->btf_nargs = 2;
	}
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_PAGE)->state, PLAN_ATTACH);
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "no known set"));
}

/* Whole-kernel blockers make every hook unavailable, whatever the backend. */
static void test_blockers(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	load("facts-6.12.txt", &kf);
	snprintf(kf.lockdown, sizeof(kf.lockdown), "confidentiality");
	plan_build(&kf, MODE_AUTO, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_TRY_GRAB_FOLIO)->state, PLAN_UNAVAILABLE);
	assert_non_null(strstr(hook(&p, PT_HOOK_TRY_GRAB_FOLIO)->why, "confidentiality"));
	assert_int_equal(plan_coverage(&p, false, why, sizeof(why)), -ENOTSUP);

	load("facts-6.12.txt", &kf);
	kf.btf = false;
	plan_build(&kf, MODE_KPROBE, false, &p);
	assert_int_equal(hook(&p, PT_HOOK_GUP_PUT_FOLIO)->state, PLAN_UNAVAILABLE);
	assert_non_null(strstr(hook(&p, PT_HOOK_GUP_PUT_FOLIO)->why, "BTF"));
}

/* After attaching, a planned hook that failed to attach is a gap. */
static void test_after_attach(void **state)
{
	static struct kernel_facts kf;
	static struct plan p;
	char why[256];

	load("facts-6.12.txt", &kf);
	plan_build(&kf, MODE_AUTO, false, &p);
	for (size_t i = 0; i < p.n; i++)
		if (p.hooks[i].state == PLAN_ATTACH)
			p.hooks[i].attached = p.hooks[i].order[0];
	assert_int_equal(plan_coverage(&p, true, why, sizeof(why)), 0);
	for (size_t i = 0; i < p.n; i++)
		if (p.hooks[i].def->id == PT_HOOK_TRY_GRAB_FOLIO_FAST) {
			p.hooks[i].attached = PT_BACKEND_NONE;
			snprintf(p.hooks[i].attach_err, sizeof(p.hooks[i].attach_err), "kprobe attach: EBUSY");
		}
	assert_int_equal(plan_coverage(&p, true, why, sizeof(why)), -ENOTSUP);
	assert_non_null(strstr(why, "try_grab_folio_fast"));
	assert_non_null(strstr(why, "EBUSY"));
}

static void test_facts_roundtrip(void **state)
{
	static struct kernel_facts a, b;
	char buf[16384], err[128];
	FILE *f;

	load("facts-6.12.txt", &a);
	f = fmemopen(buf, sizeof(buf), "w");
	facts_write(f, &a);
	fclose(f);
	f = fmemopen(buf, strlen(buf), "r");
	assert_int_equal(facts_read(f, &b, err, sizeof(err)), 0);
	fclose(f);
	assert_int_equal(a.nsyms, b.nsyms);
	assert_memory_equal(a.syms, b.syms, sizeof(a.syms[0]) * a.nsyms);
	f = fmemopen((char *)"sym x kallsyms\n", 15, "r");
	assert_int_equal(facts_read(f, &b, err, sizeof(err)), -EINVAL);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_debian_6_1),
		cmocka_unit_test(test_debian_6_12),
		cmocka_unit_test(test_6_18),
		cmocka_unit_test(test_locked_host),
		cmocka_unit_test(test_notrace_and_dups),
		cmocka_unit_test(test_variant_without_btf),
		cmocka_unit_test(test_incomplete_generation),
		cmocka_unit_test(test_blockers),
		cmocka_unit_test(test_after_attach),
		cmocka_unit_test(test_facts_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
