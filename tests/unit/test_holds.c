// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pipe and skb hold tables (src/holds.c): synthetic event sequences as the
 * BPF side would send them (vmsplice, tee, splice to a socket, MSG_ZEROCOPY,
 * skb copies, sampler corrections, zerocopy completions), checked through
 * the counters, the JSON summary and leak report, the text report, and the
 * per-event stream records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "holds.h"

#define SEC 1000000000ULL


#define F1 0xffffea0000100000ULL
#define F2 0xffffea0000100040ULL
#define F3 0xffffea0000100080ULL
#define F4 0xffffea00001000c0ULL

#define PIPE_A 0xffff888000a00000ULL	/* ino 7001 */
#define PIPE_B 0xffff888000b00000ULL	/* ino 7002 */
#define PIPE_C 0xffff888000c00000ULL	/* ino 7003 */
#define SOCK_S 0xffff888000500000ULL	/* ino 9001: 127.0.0.1:5000 -> 10.0.0.2:41234 */
#define SOCK_R 0xffff888000600000ULL	/* ino 9002: the receiving socket of a copy */

struct fx {
	struct holds h;
	struct stackfmt sf;
	struct output o;
	FILE *f;
	char *buf;
	size_t len;
};

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	x->sf.map_fd = -1;	/* no stacks */
	x->sf.ks = NULL;
	assert_int_equal(holds_init(&x->h, &x->sf), 0);
	x->f = open_memstream(&x->buf, &x->len);
	assert_non_null(x->f);
	out_init(&x->o, x->f, OUT_JSON, true, NULL, 0);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	holds_free(&x->h);
	fclose(x->f);
	free(x->buf);
	free(x);
	return 0;
}

/* ---- events ------------------------------------------------------------- */

static struct pt_event ev(__u8 type, __u32 flags, __u32 pid, const char *comm, __u64 folio,
			  __u32 refs, __u64 ts, __u64 holder, __u64 holder_id)
{
	struct pt_event e = { .type = type, .pt_flags = flags, .pid = pid, .tid = pid,
			      .folio = folio, .refs = refs, .ts_ns = ts, .holder = holder,
			      .holder_id = holder_id, .stack_id = -1 };

	strncpy(e.comm, comm, sizeof(e.comm) - 1);
	return e;
}

static void feed(struct fx *x, struct pt_event e)
{
	holds_event(&x->h, &x->o, &e);
}

/* vmsplice: the pipe takes a reference (a GRAB with PT_F_PIPE). */
static void vmsplice(struct fx *x, __u32 pid, const char *comm, __u64 folio, __u32 refs,
		     __u64 ts, __u64 pipe, __u64 ino)
{
	feed(x, ev(PT_EV_GRAB, PT_F_PIPE | PT_F_GET, pid, comm, folio, refs, ts, pipe, ino));
}

/* tee: another pipe takes a reference on a held page. */
static void tee(struct fx *x, __u32 pid, const char *comm, __u64 folio, __u64 ts, __u64 pipe,
		__u64 ino)
{
	feed(x, ev(PT_EV_HOLD, PT_F_PIPE | PT_F_GET, pid, comm, folio, 1, ts, pipe, ino));
}

static void pipe_release(struct fx *x, __u32 pid, __u64 folio, __u32 refs, __u64 ts, __u64 pipe,
			 __u32 extra)
{
	feed(x, ev(PT_EV_RELEASE, PT_F_PIPE | PT_F_GET | extra, pid, "reader", folio, refs, ts,
		   pipe, 0));
}

/* 127.0.0.1:5000 -> 10.0.0.2:41234, as the BPF side fills it (network order). */
static void tuple_s(struct pt_event *e)
{
	e->addr = (__u64)htonl(0x7f000001) << 32 | htonl(0x0a000002);
	e->nr_req = (__u64)AF_INET << 32 | 5000u << 16 | 41234u;
}

/* A socket takes a frag reference (splice, MSG_ZEROCOPY, or a copy). */
static void skb_hold(struct fx *x, __u32 flags, __u32 pid, const char *comm, __u64 folio,
		     __u64 ts, __u64 sk, __u64 ino)
{
	struct pt_event e = ev(PT_EV_HOLD, PT_F_SKB | PT_F_GET | flags, pid, comm, folio, 1, ts,
			       sk, ino);

	if (sk == SOCK_S)
		tuple_s(&e);
	feed(x, e);
}

/* skb_release_data: the freeing skb is often not the taker (holder 0). */
static void skb_release(struct fx *x, __u32 flags, __u64 folio, __u64 ts)
{
	feed(x, ev(PT_EV_RELEASE, PT_F_SKB | PT_F_GET | flags, 0, "swapper/0", folio, 1, ts, 0, 0));
}

/* ---- JSON helpers --------------------------------------------------------- */

static json_object *get(json_object *j, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(j, key, &v))
		fail_msg("no key '%s' in %s", key, json_object_to_json_string(j));
	return v;
}

static int64_t geti(json_object *j, const char *key)
{
	return json_object_get_int64(get(j, key));
}

static const char *gets(json_object *j, const char *key)
{
	return json_object_get_string(get(j, key));
}

static bool has(json_object *j, const char *key)
{
	return json_object_object_get_ex(j, key, NULL);
}

/* The pipe inode of a stream record's origin ("ino"; "pipe_ino" before). */
static int64_t origin_ino(json_object *o)
{
	return geti(o, has(o, "ino") ? "ino" : "pipe_ino");
}

/* The leak group of this kind ("pipe", "socket") and inode, or NULL. */
static json_object *group(json_object *leaks, const char *kind, __u64 ino)
{
	json_object *arr = get(leaks, "holders");

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *g = json_object_array_get_idx(arr, i);

		if (!strcmp(gets(g, "kind"), kind) && (__u64)geti(g, "ino") == ino)
			return g;
	}
	return NULL;
}

static size_t nholders(json_object *leaks)
{
	return json_object_array_length(get(leaks, "holders"));
}

static json_object *summary(struct fx *x, __u64 now, __u64 min_age)
{
	json_object *s = json_object_new_object();

	holds_report_json(&x->h, s, now, min_age);
	return s;
}

/* Stream records of @type, in order: an array (the caller puts it). */
static json_object *stream(struct fx *x, const char *type)
{
	json_object *arr = json_object_new_array();
	char *p, *nl;

	fflush(x->f);
	for (p = x->buf; p && *p; p = nl + 1) {
		json_object *r;

		nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		r = json_tokener_parse(p);
		*nl = '\n';
		assert_non_null(r);
		if (!strcmp(gets(r, "type"), type))
			json_object_array_add(arr, r);
		else
			json_object_put(r);
	}
	return arr;
}

static char *text_report(struct fx *x, __u64 now, __u64 min_age)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	holds_report_text(&x->h, f, now, min_age);
	fclose(f);
	return buf;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in:\n%s", needle, hay);
}

/* ---- pipes ----------------------------------------------------------------- */

static void test_pipe_balanced(void **state)
{
	struct fx *x = *state;
	json_object *s, *p, *rel;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "writer", F2, 1, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "writer", F3, 1, 1 * SEC, PIPE_A, 7001);
	/* a GUP grab without PT_F_PIPE is not a pipe hold */
	feed(x, ev(PT_EV_GRAB, PT_F_GET, 10, "writer", F4, 1, 1 * SEC, 0, 0));
	assert_true(holds_any(&x->h));
	pipe_release(x, 11, F1, 1, 2 * SEC, PIPE_A, 0);
	pipe_release(x, 11, F2, 1, 2 * SEC, PIPE_A, 0);
	pipe_release(x, 11, F3, 1, 3 * SEC, PIPE_A, 0);
	assert_int_equal(x->h.taken, 3);
	assert_int_equal(x->h.released, 3);

	s = summary(x, 10 * SEC, SEC);
	p = get(s, "pipe_holds");
	assert_int_equal(geti(p, "taken"), 3);
	assert_int_equal(geti(p, "teed"), 0);
	assert_int_equal(geti(p, "released"), 3);
	assert_int_equal(geti(p, "outstanding_refs"), 0);
	assert_int_equal(geti(p, "unmatched_releases"), 0);
	assert_int_equal(json_object_array_length(get(p, "pipes")), 0);
	assert_int_equal(nholders(get(s, "leaks")), 0);
	assert_int_equal(geti(get(s, "leaks"), "younger_refs"), 0);
	json_object_put(s);

	/* each release names its hold: who vmspliced it and for how long */
	rel = stream(x, "pipe_release");
	assert_int_equal(json_object_array_length(rel), 3);
	for (size_t i = 0; i < 3; i++) {
		json_object *r = json_object_array_get_idx(rel, i);

		assert_false(json_object_get_boolean(get(r, "preexisting")));
		assert_int_equal(geti(r, "owner_pid"), 10);
		assert_int_equal(geti(r, "ino"), 7001);
		assert_int_equal(geti(r, "hold_ns"), i < 2 ? 1 * SEC : 2 * SEC);
	}
	json_object_put(rel);

	/* a release of a page put in the pipe before tracing matches nothing */
	pipe_release(x, 11, F4, 1, 4 * SEC, PIPE_A, 0);
	s = summary(x, 10 * SEC, SEC);
	assert_int_equal(geti(get(s, "pipe_holds"), "unmatched_releases"), 1);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 0);
	json_object_put(s);
}

static void test_pipe_partial_release(void **state)
{
	struct fx *x = *state;
	json_object *l, *g, *s, *pipes;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "writer", F2, 1, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "writer", F3, 2, 2 * SEC, PIPE_A, 7001);	/* a large folio: 2 refs */
	vmsplice(x, 12, "other", F4, 1, 3 * SEC, PIPE_B, 7002);
	pipe_release(x, 11, F1, 1, 4 * SEC, PIPE_A, 0);

	l = holds_leaks_json(&x->h, 11 * SEC, SEC);
	assert_int_equal(geti(l, "min_age_ns"), SEC);
	assert_int_equal(nholders(l), 2);
	/* oldest first */
	g = json_object_array_get_idx(get(l, "holders"), 0);
	assert_string_equal(gets(g, "kind"), "pipe");
	assert_int_equal(geti(g, "ino"), 7001);
	assert_string_equal(gets(g, "holder"), "0xffff888000a00000");
	assert_int_equal(geti(g, "refs"), 3);
	assert_int_equal(geti(g, "bytes"), 3 * 4096);
	assert_int_equal(geti(g, "pid"), 10);
	assert_string_equal(gets(g, "comm"), "writer");
	/* F2 is the oldest one left (F1 went at 4s): 11s - 1s */
	assert_int_equal(geti(g, "oldest_age_ns"), 10 * SEC);
	assert_false(has(g, "origin"));
	assert_false(has(g, "stack"));
	assert_false(has(g, "tuple"));
	g = json_object_array_get_idx(get(l, "holders"), 1);
	assert_int_equal(geti(g, "ino"), 7002);
	assert_int_equal(geti(g, "refs"), 1);
	assert_int_equal(geti(g, "bytes"), 4096);
	assert_int_equal(geti(g, "pid"), 12);
	assert_string_equal(gets(g, "comm"), "other");
	assert_int_equal(geti(g, "oldest_age_ns"), 8 * SEC);
	assert_int_equal(geti(l, "younger_refs"), 0);
	assert_int_equal(geti(l, "unlisted_refs"), 0);
	json_object_put(l);

	s = summary(x, 11 * SEC, SEC);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 4);
	pipes = get(get(s, "pipe_holds"), "pipes");
	assert_int_equal(json_object_array_length(pipes), 2);
	assert_int_equal(geti(json_object_array_get_idx(pipes, 0), "refs"), 3);
	assert_string_equal(gets(json_object_array_get_idx(pipes, 0), "pipe"), "0xffff888000a00000");
	json_object_put(s);
}

/* tee: a page in two pipes is released by each pipe for its own reference. */
static void test_pipe_tee_matched_by_holder(void **state)
{
	struct fx *x = *state;
	json_object *l, *s;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	tee(x, 13, "teer", F1, 2 * SEC, PIPE_B, 7002);
	assert_int_equal(x->h.taken, 1);
	assert_int_equal(x->h.added, 1);
	/* pipe B drains: its own (younger) hold goes, not pipe A's older one */
	pipe_release(x, 14, F1, 1, 3 * SEC, PIPE_B, 0);
	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	assert_int_equal(nholders(l), 1);
	assert_non_null(group(l, "pipe", 7001));
	assert_null(group(l, "pipe", 7002));
	json_object_put(l);
	s = summary(x, 10 * SEC, SEC);
	assert_int_equal(geti(get(s, "pipe_holds"), "teed"), 1);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 1);
	json_object_put(s);
	l = stream(x, "pipe_hold");
	assert_int_equal(json_object_array_length(l), 1);	/* the tee, not the vmsplice */
	assert_string_equal(gets(json_object_array_get_idx(l, 0), "pipe"), "0xffff888000b00000");
	json_object_put(l);
}

static void test_min_age(void **state)
{
	struct fx *x = *state;
	json_object *l, *s;

	vmsplice(x, 10, "old", F1, 2, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "edge", F2, 1, 9 * SEC, PIPE_B, 7002);	/* exactly min_age old */
	vmsplice(x, 10, "young", F3, 3, 9 * SEC + SEC / 2, PIPE_C, 7003);

	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	assert_int_equal(nholders(l), 2);
	assert_non_null(group(l, "pipe", 7001));
	assert_non_null(group(l, "pipe", 7002));
	assert_null(group(l, "pipe", 7003));
	assert_int_equal(geti(l, "younger_refs"), 3);
	json_object_put(l);

	l = holds_leaks_json(&x->h, 10 * SEC, 5 * SEC);
	assert_int_equal(geti(l, "min_age_ns"), 5 * SEC);
	assert_int_equal(nholders(l), 1);
	assert_non_null(group(l, "pipe", 7001));
	assert_int_equal(geti(l, "younger_refs"), 4);
	json_object_put(l);

	l = holds_leaks_json(&x->h, 10 * SEC, 0);
	assert_int_equal(nholders(l), 3);
	assert_int_equal(geti(l, "younger_refs"), 0);
	json_object_put(l);

	/* the summary's leak section follows min_age too */
	s = summary(x, 10 * SEC, 60 * SEC);
	assert_int_equal(nholders(get(s, "leaks")), 0);
	assert_int_equal(geti(get(s, "leaks"), "younger_refs"), 6);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 6);
	json_object_put(s);
}

/* ---- sockets --------------------------------------------------------------- */

static void test_splice_chain(void **state)
{
	struct fx *x = *state;
	json_object *l, *g, *o, *s, *k, *r, *rels;

	/* vmsplice into pipe A, then splice from A to socket S */
	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	skb_hold(x, 0, 20, "sender", F1, 2 * SEC, SOCK_S, 9001);
	assert_int_equal(x->h.skb_taken, 1);
	assert_int_equal(x->h.skb_from_pipe, 1);

	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	assert_int_equal(nholders(l), 2);
	assert_string_equal(gets(json_object_array_get_idx(get(l, "holders"), 0), "kind"), "pipe");
	g = json_object_array_get_idx(get(l, "holders"), 1);
	assert_string_equal(gets(g, "kind"), "socket");
	assert_int_equal(geti(g, "ino"), 9001);
	assert_string_equal(gets(g, "holder"), "0xffff888000500000");
	assert_string_equal(gets(g, "tuple"), "127.0.0.1:5000 -> 10.0.0.2:41234");
	assert_int_equal(geti(g, "refs"), 1);
	assert_int_equal(geti(g, "bytes"), 4096);
	assert_int_equal(geti(g, "pid"), 20);
	assert_string_equal(gets(g, "comm"), "sender");
	assert_int_equal(geti(g, "oldest_age_ns"), 8 * SEC);
	o = get(g, "origin");
	assert_string_equal(gets(o, "kind"), "pipe");
	assert_int_equal(geti(o, "ino"), 7001);
	assert_int_equal(geti(o, "pid"), 10);
	assert_string_equal(gets(o, "comm"), "writer");
	assert_int_equal(geti(o, "age_ns"), 9 * SEC);
	json_object_put(l);

	/* the pipe buffer is released once spliced: the socket keeps the page */
	pipe_release(x, 20, F1, 1, 3 * SEC, PIPE_A, 0);
	s = summary(x, 10 * SEC, SEC);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 0);
	k = get(s, "skb_holds");
	assert_int_equal(geti(k, "taken"), 1);
	assert_int_equal(geti(k, "from_pipes"), 1);
	assert_int_equal(geti(k, "outstanding_refs"), 1);
	assert_int_equal(geti(k, "released"), 0);
	l = get(s, "leaks");
	assert_int_equal(nholders(l), 1);
	g = group(l, "socket", 9001);
	assert_non_null(g);
	o = get(g, "origin");
	assert_int_equal(geti(o, "ino"), 7001);
	assert_int_equal(geti(o, "pid"), 10);
	assert_string_equal(gets(o, "comm"), "writer");
	json_object_put(s);

	/* skb_release_data in softirq: holder unknown, matched by folio */
	skb_release(x, 0, F1, 5 * SEC);
	s = summary(x, 10 * SEC, SEC);
	k = get(s, "skb_holds");
	assert_int_equal(geti(k, "released"), 1);
	assert_int_equal(geti(k, "outstanding_refs"), 0);
	assert_int_equal(geti(k, "unmatched_releases"), 0);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 0);
	assert_int_equal(nholders(get(s, "leaks")), 0);
	assert_int_equal(geti(get(s, "leaks"), "younger_refs"), 0);
	json_object_put(s);

	rels = stream(x, "skb_release");
	assert_int_equal(json_object_array_length(rels), 1);
	r = json_object_array_get_idx(rels, 0);
	assert_false(json_object_get_boolean(get(r, "preexisting")));
	assert_false(json_object_get_boolean(get(r, "sampled")));
	assert_int_equal(geti(r, "owner_pid"), 20);
	assert_string_equal(gets(r, "owner_comm"), "sender");
	assert_int_equal(geti(r, "hold_ns"), 3 * SEC);
	assert_int_equal(geti(get(r, "socket"), "ino"), 9001);
	assert_int_equal(geti(get(r, "socket"), "local_port"), 5000);
	assert_int_equal(geti(get(r, "socket"), "remote_port"), 41234);
	json_object_put(rels);
}

/* The stream record of a spliced hold names where the page came from. */
static void test_splice_stream_origin(void **state)
{
	struct fx *x = *state;
	json_object *h, *r, *o;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	skb_hold(x, 0, 20, "sender", F1, 2 * SEC, SOCK_S, 9001);
	h = stream(x, "skb_hold");
	assert_int_equal(json_object_array_length(h), 1);
	r = json_object_array_get_idx(h, 0);
	assert_string_equal(gets(r, "how"), "splice");
	assert_int_equal(geti(r, "pid"), 20);
	assert_string_equal(gets(get(r, "socket"), "tuple"), "127.0.0.1:5000 -> 10.0.0.2:41234");
	o = get(r, "origin");
	assert_int_equal(origin_ino(o), 7001);
	assert_int_equal(geti(o, "pid"), 10);
	/* the stream names who vmspliced the page, not just the pid */
	assert_string_equal(gets(o, "comm"), "writer");
	json_object_put(h);
}

/* MSG_ZEROCOPY: user pages straight into frags, no pipe origin. */
static void test_zerocopy_hold(void **state)
{
	struct fx *x = *state;
	json_object *l, *g, *h;

	skb_hold(x, PT_F_ZEROCOPY, 30, "zcsend", F2, 1 * SEC, SOCK_S, 9001);
	assert_int_equal(x->h.skb_taken, 1);
	assert_int_equal(x->h.skb_from_pipe, 0);
	l = holds_leaks_json(&x->h, 4 * SEC, SEC);
	g = group(l, "socket", 9001);
	assert_non_null(g);
	assert_int_equal(geti(g, "pid"), 30);
	assert_string_equal(gets(g, "comm"), "zcsend");
	assert_int_equal(geti(g, "oldest_age_ns"), 3 * SEC);
	assert_false(has(g, "origin"));
	json_object_put(l);
	h = stream(x, "skb_hold");
	assert_string_equal(gets(json_object_array_get_idx(h, 0), "how"), "zerocopy");
	assert_false(has(json_object_array_get_idx(h, 0), "origin"));
	json_object_put(h);
}

/* An skb copy (unclone, coalesce) of a spliced page keeps the origin. */
static void test_moved_inherits_origin(void **state)
{
	struct fx *x = *state;
	json_object *l, *g, *o, *s, *k, *h;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	skb_hold(x, 0, 20, "sender", F1, 2 * SEC, SOCK_S, 9001);
	pipe_release(x, 20, F1, 1, 3 * SEC, PIPE_A, 0);
	skb_hold(x, PT_F_MOVED, 777, "ksoftirqd/3", F1, 4 * SEC, SOCK_R, 9002);
	assert_int_equal(x->h.skb_moved, 1);
	assert_int_equal(x->h.skb_taken, 1);

	s = summary(x, 10 * SEC, SEC);
	k = get(s, "skb_holds");
	assert_int_equal(geti(k, "skb_copies"), 1);
	assert_int_equal(geti(k, "taken"), 1);
	assert_int_equal(geti(k, "from_pipes"), 1);
	assert_int_equal(geti(k, "outstanding_refs"), 2);
	l = get(s, "leaks");
	assert_int_equal(nholders(l), 2);
	g = group(l, "socket", 9002);
	assert_non_null(g);
	assert_int_equal(geti(g, "refs"), 1);
	assert_int_equal(geti(g, "oldest_age_ns"), 6 * SEC);
	o = get(g, "origin");
	assert_string_equal(gets(o, "kind"), "pipe");
	assert_int_equal(geti(o, "ino"), 7001);
	assert_int_equal(geti(o, "pid"), 10);
	assert_string_equal(gets(o, "comm"), "writer");
	assert_int_equal(geti(o, "age_ns"), 9 * SEC);
	json_object_put(s);

	h = stream(x, "skb_hold");
	assert_int_equal(json_object_array_length(h), 2);
	assert_string_equal(gets(json_object_array_get_idx(h, 1), "how"), "skb-copy");
	assert_int_equal(origin_ino(get(json_object_array_get_idx(h, 1), "origin")), 7001);
	json_object_put(h);

	/* both skbs drop the page: nothing left */
	skb_release(x, 0, F1, 5 * SEC);
	skb_release(x, 0, F1, 6 * SEC);
	s = summary(x, 10 * SEC, SEC);
	assert_int_equal(geti(get(s, "skb_holds"), "outstanding_refs"), 0);
	assert_int_equal(geti(get(s, "skb_holds"), "released"), 2);
	assert_int_equal(nholders(get(s, "leaks")), 0);
	json_object_put(s);
}

/* A copy of a zerocopy page: no origin, the sender is the original's. */
static void test_moved_inherits_sender(void **state)
{
	struct fx *x = *state;
	json_object *l, *g;

	skb_hold(x, PT_F_ZEROCOPY, 30, "zcsend", F2, 1 * SEC, SOCK_S, 9001);
	skb_hold(x, PT_F_MOVED, 0, "swapper/1", F2, 2 * SEC, SOCK_R, 9002);
	assert_int_equal(x->h.skb_moved, 1);
	assert_int_equal(x->h.skb_taken, 1);
	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	g = group(l, "socket", 9002);
	assert_non_null(g);
	assert_int_equal(geti(g, "pid"), 30);
	assert_string_equal(gets(g, "comm"), "zcsend");
	assert_false(has(g, "origin"));
	json_object_put(l);

	/* skb releases are matched by folio: the oldest hold goes first */
	skb_release(x, 0, F2, 3 * SEC);
	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	assert_int_equal(nholders(l), 1);
	assert_null(group(l, "socket", 9001));
	assert_non_null(group(l, "socket", 9002));
	json_object_put(l);
}

/*
 * The same for a copy of a spliced page: the copy took the page from the
 * socket that sent it, so that sender should be named, not the softirq
 * that made the copy.
 */
static void test_moved_spliced_inherits_sender(void **state)
{
	struct fx *x = *state;
	json_object *l, *g;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	skb_hold(x, 0, 20, "sender", F1, 2 * SEC, SOCK_S, 9001);
	pipe_release(x, 20, F1, 1, 3 * SEC, PIPE_A, 0);
	skb_hold(x, PT_F_MOVED, 0, "swapper/1", F1, 4 * SEC, SOCK_R, 9002);
	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	g = group(l, "socket", 9002);
	assert_non_null(g);
	assert_int_equal(geti(get(g, "origin"), "ino"), 7001);
	/* a copy keeps the sender, not the softirq that copied it */
	assert_int_equal(geti(g, "pid"), 20);
	assert_string_equal(gets(g, "comm"), "sender");
	json_object_put(l);
	skb_release(x, 0, F1, 5 * SEC);
	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	assert_null(group(l, "socket", 9001));
	assert_non_null(group(l, "socket", 9002));
	json_object_put(l);
}

/*
 * skb releases are matched by folio alone, oldest hold first, whoever
 * frees the skb: here a copy by pid 0 (softirq on an idle CPU) of a hold
 * whose socket was unknown, so that the copy keeps pid 0.
 */
static void test_skb_release_oldest_first(void **state)
{
	struct fx *x = *state;
	json_object *l;

	skb_hold(x, PT_F_ZEROCOPY, 30, "zcsend", F2, 1 * SEC, 0, 0);
	skb_hold(x, PT_F_MOVED, 0, "swapper/1", F2, 2 * SEC, SOCK_R, 9002);
	skb_release(x, 0, F2, 3 * SEC);	/* in softirq: pid 0 */
	l = holds_leaks_json(&x->h, 10 * SEC, SEC);
	assert_int_equal(nholders(l), 1);
	/* the older zerocopy hold went, the younger copy stays */
	assert_non_null(group(l, "socket", 9002));
	json_object_put(l);
}

/*
 * "taken N (M from pipes)": M counts takes whose page came from a pipe, so
 * it cannot exceed N. A copy made while a pipe still holds the page (tee'd
 * into another pipe, say) is not a take.
 */
static void test_from_pipes_within_taken(void **state)
{
	struct fx *x = *state;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	tee(x, 13, "teer", F1, 2 * SEC, PIPE_B, 7002);
	skb_hold(x, 0, 20, "sender", F1, 3 * SEC, SOCK_S, 9001);
	pipe_release(x, 20, F1, 1, 4 * SEC, PIPE_A, 0);
	skb_hold(x, PT_F_MOVED, 777, "ksoftirqd/3", F1, 5 * SEC, SOCK_R, 9002);
	assert_int_equal(x->h.skb_taken, 1);
	assert_int_equal(x->h.skb_moved, 1);
	assert_int_equal(x->h.skb_from_pipe, 1);
}

static void test_sampled_releases(void **state)
{
	struct fx *x = *state;
	json_object *s, *r;

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "writer", F2, 1, 1 * SEC, PIPE_A, 7001);
	skb_hold(x, PT_F_ZEROCOPY, 30, "zcsend", F3, 1 * SEC, SOCK_S, 9001);
	skb_hold(x, PT_F_ZEROCOPY, 30, "zcsend", F4, 1 * SEC, SOCK_S, 9001);
	/* the sampler found F1's pipe ref and F3's frag ref gone */
	pipe_release(x, 0, F1, 1, 2 * SEC, PIPE_A, PT_F_SAMPLED);
	skb_release(x, PT_F_SAMPLED, F3, 2 * SEC);
	/* ordinary releases of the others */
	pipe_release(x, 11, F2, 1, 3 * SEC, PIPE_A, 0);
	skb_release(x, 0, F4, 3 * SEC);
	assert_int_equal(x->h.sampled_pipe, 1);
	assert_int_equal(x->h.sampled_skb, 1);

	s = summary(x, 10 * SEC, SEC);
	assert_int_equal(geti(get(s, "pipe_holds"), "sampled_releases"), 1);
	assert_int_equal(geti(get(s, "pipe_holds"), "released"), 2);
	assert_int_equal(geti(get(s, "pipe_holds"), "outstanding_refs"), 0);
	assert_int_equal(geti(get(s, "skb_holds"), "sampled_releases"), 1);
	assert_int_equal(geti(get(s, "skb_holds"), "released"), 2);
	assert_int_equal(geti(get(s, "skb_holds"), "outstanding_refs"), 0);
	assert_int_equal(geti(get(s, "refcount_sampler"), "corrected_pipe_refs"), 1);
	assert_int_equal(geti(get(s, "refcount_sampler"), "corrected_skb_refs"), 1);
	json_object_put(s);

	r = stream(x, "skb_release");
	assert_int_equal(json_object_array_length(r), 2);
	assert_true(json_object_get_boolean(get(json_object_array_get_idx(r, 0), "sampled")));
	assert_false(json_object_get_boolean(get(json_object_array_get_idx(r, 1), "sampled")));
	json_object_put(r);
}

static void test_zc_done(void **state)
{
	struct fx *x = *state;
	struct pt_event e;
	json_object *s, *z, *r;

	assert_false(holds_any(&x->h));
	e = ev(PT_EV_ZC_DONE, PT_F_SKB, 30, "zcsend", 0, 3, 1 * SEC, SOCK_S, 9001);
	e.addr = 0;		/* sends 0..2 */
	feed(x, e);
	assert_true(holds_any(&x->h));
	e = ev(PT_EV_ZC_DONE, PT_F_SKB | PT_F_COPIED, 30, "zcsend", 0, 2, 2 * SEC, SOCK_S, 9001);
	e.addr = 3;		/* sends 3..4, copied */
	feed(x, e);
	assert_int_equal(x->h.zc_done, 5);
	assert_int_equal(x->h.zc_copied, 2);

	s = summary(x, 10 * SEC, SEC);
	z = get(s, "zerocopy");
	assert_int_equal(geti(z, "completed_sends"), 5);
	assert_int_equal(geti(z, "copied_sends"), 2);
	/* completions are not holds */
	assert_int_equal(geti(get(s, "skb_holds"), "outstanding_refs"), 0);
	assert_int_equal(geti(get(s, "skb_holds"), "released"), 0);
	assert_int_equal(nholders(get(s, "leaks")), 0);
	json_object_put(s);

	r = stream(x, "zerocopy_done");
	assert_int_equal(json_object_array_length(r), 2);
	assert_int_equal(geti(json_object_array_get_idx(r, 0), "first_id"), 0);
	assert_int_equal(geti(json_object_array_get_idx(r, 0), "sends"), 3);
	assert_false(json_object_get_boolean(get(json_object_array_get_idx(r, 0), "copied")));
	assert_int_equal(geti(json_object_array_get_idx(r, 1), "first_id"), 3);
	assert_true(json_object_get_boolean(get(json_object_array_get_idx(r, 1), "copied")));
	json_object_put(r);
}

static void test_sampler_passes(void **state)
{
	struct fx *x = *state;
	struct pt_sample a = { .folios = 10, .agree = 7, .more = 2, .corrected = 1,
			       .corrected_refs = 1, .skipped = 3 };
	struct pt_sample b = { .folios = 20, .agree = 15, .more = 4, .corrected = 1,
			       .corrected_refs = 2, .skipped = 5 };
	json_object *s, *m;
	char *t;

	holds_sampled(&x->h, &a);
	holds_sampled(&x->h, &b);
	assert_int_equal(x->h.samples, 2);
	assert_memory_equal(&x->h.last, &b, sizeof(b));

	s = summary(x, 10 * SEC, SEC);
	m = get(s, "refcount_sampler");
	assert_int_equal(geti(m, "passes"), 2);
	assert_int_equal(geti(m, "last_folios"), 20);
	assert_int_equal(geti(m, "last_agree"), 15);
	assert_int_equal(geti(m, "last_more"), 4);
	assert_int_equal(geti(m, "last_corrected"), 1);
	assert_int_equal(geti(m, "last_large_skipped"), 5);
	json_object_put(s);

	/* the text report shows the sampler once there are holds at all */
	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	t = text_report(x, 10 * SEC, SEC);
	assert_contains(t, "Refcount sampler: 2 passes");
	assert_contains(t, "last pass: 20 folios, 15 agree, 4 with references");
	assert_contains(t, "5 large not checked");
	free(t);
}

/* ---- text ------------------------------------------------------------------ */

static void test_text_report(void **state)
{
	struct fx *x = *state;
	char *t;

	/* nothing seen: no section at all */
	t = text_report(x, 10 * SEC, SEC);
	assert_string_equal(t, "");
	free(t);

	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	vmsplice(x, 10, "writer", F2, 1, 1 * SEC, PIPE_B, 7002);
	vmsplice(x, 10, "writer", F3, 2, 1 * SEC, PIPE_B, 7002);
	skb_hold(x, 0, 20, "sender", F1, 2 * SEC, SOCK_S, 9001);
	pipe_release(x, 20, F1, 1, 3 * SEC, PIPE_A, 0);

	t = text_report(x, 11 * SEC, SEC);
	assert_contains(t, "Pipe holds (vmsplice references): taken 4, tee'd 0, released 1, "
			   "outstanding 3\n");
	assert_contains(t, "skb frag holds (sockets): taken 1 (1 from pipes), skb copies 0, "
			   "released 0, outstanding 1");
	assert_contains(t, "Leaks (holds older than 1.00s): 2 holders\n");
	assert_contains(t, "  !! pipe ino 7002 holds 3 pages (12.0 KiB), oldest 10.00s, "
			   "vmspliced by writer/10\n");
	assert_contains(t, "  !! socket ino 9001 127.0.0.1:5000 -> 10.0.0.2:41234 holds 1 pages "
			   "(4.0 KiB), oldest 9.00s, sent by sender/20\n");
	assert_contains(t, "which got them from pipe ino 7001, vmspliced by writer/10 10.00s ago\n");
	/* the older pipe hold comes before the socket's */
	assert_true(strstr(t, "pipe ino 7002 holds") < strstr(t, "socket ino 9001"));
	assert_null(strstr(t, "Refcount sampler"));
	assert_null(strstr(t, "younger"));
	free(t);

	/* nothing old enough */
	t = text_report(x, 11 * SEC, 60 * SEC);
	assert_contains(t, "Leaks (holds older than 60.00s): 0 holders\n");
	assert_contains(t, "(4 younger holds not listed)");
	assert_null(strstr(t, "!!"));
	free(t);

	/* pintrace leaks prints only the leak section */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		holds_leaks_text(&x->h, f, 11 * SEC, 10 * SEC);
		fclose(f);
		assert_true(!strncmp(buf, "Leaks (holds older than 10.00s): 1 holder\n", 42));
		assert_contains(buf, "pipe ino 7002");
		assert_null(strstr(buf, "Pipe holds"));
		assert_contains(buf, "(1 younger holds not listed)");
		free(buf);
	}
}

/* The text stream: one line per hold, release and completion. */
static void test_text_stream(void **state)
{
	struct fx *x = *state;
	struct pt_event e;

	fflush(x->f);
	out_init(&x->o, x->f, OUT_TEXT, true, NULL, 0);
	vmsplice(x, 10, "writer", F1, 1, 1 * SEC, PIPE_A, 7001);
	skb_hold(x, 0, 20, "sender", F1, 2 * SEC, SOCK_S, 9001);
	pipe_release(x, 20, F1, 1, 3 * SEC, PIPE_A, 0);
	skb_release(x, 0, F1, 5 * SEC);
	e = ev(PT_EV_ZC_DONE, PT_F_SKB | PT_F_COPIED, 30, "zcsend", 0, 2, 6 * SEC, SOCK_S, 9001);
	tuple_s(&e);
	e.addr = 3;		/* after the tuple, as the BPF side does */
	feed(x, e);
	fflush(x->f);
	assert_contains(x->buf, "socket ino 9001 127.0.0.1:5000 -> 10.0.0.2:41234 from pipe ino 7001");
	assert_contains(x->buf, "pipe ino 7001 held 2.00s, vmspliced by writer/10");
	assert_contains(x->buf, "socket ino 9001 127.0.0.1:5000 -> 10.0.0.2:41234 held 3.00s, "
				"sent by sender/20");
	assert_contains(x->buf, "sends 3..4 copied by the kernel, socket ino 9001 port 5000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipe_balanced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe_partial_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipe_tee_matched_by_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_splice_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_splice_stream_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zerocopy_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_inherits_origin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_inherits_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moved_spliced_inherits_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skb_release_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_from_pipes_within_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampled_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zc_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sampler_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_stream, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
