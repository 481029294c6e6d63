// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

struct summary_proc_slot {
	struct summary_proc p;
	bool used;	/* pid 0 is a real pid (idle/IRQ context): no sentinel */
};

struct summary_stack_slot {
	struct summary_stack st;
	bool used;	/* stack id 0 is a valid id: no sentinel */
};

/* Slots for @max entries at a load factor <= 0.5: short linear probes at the bound. */
static size_t table_slots(size_t max)
{
	size_t n = 1;

	while (n < 2 * max)
		n <<= 1;
	return n;
}

int summary_init(struct summary *s)
{
	size_t n, ns;

	memset(s, 0, sizeof(*s));
	s->max_procs = SUMMARY_MAX_PROCS;
	s->max_stacks = SUMMARY_MAX_STACKS;
	n = table_slots(s->max_procs);
	ns = table_slots(s->max_stacks);
	s->procs = calloc(n, sizeof(*s->procs));
	s->stacks = calloc(ns, sizeof(*s->stacks));
	if (!s->procs || !s->stacks) {
		summary_free(s);
		return -ENOMEM;
	}
	s->proc_mask = n - 1;
	s->stack_mask = ns - 1;
	s->stack_other.stack_id = -1;
	s->other.pid = 0;
	memcpy(s->other.comm, "other", sizeof("other"));
	return 0;
}

void summary_free(struct summary *s)
{
	free(s->procs);
	s->procs = NULL;
	free(s->stacks);
	s->stacks = NULL;
}

static __u8 api_key(__u8 api, __u8 hook)
{
	return api != PT_HOOK_NONE ? api : hook;
}

static size_t pid_hash(__u32 pid)
{
	/* pids are sequential: a multiplicative hash spreads neighbours */
	return (size_t)(((__u64)pid * 0x9e3779b97f4a7c15ULL) >> 32);
}

static void set_comm(struct summary_proc *p, const char *comm)
{
	if (!comm || !comm[0])
		return;
	memcpy(p->comm, comm, PT_COMM_LEN);
	p->comm[PT_COMM_LEN - 1] = '\0';
}

/* The process entry for @pid, created if room, else the overflow bucket. */
static struct summary_proc *proc_get(struct summary *s, __u32 pid,
				     const char *comm)
{
	struct summary_proc_slot *ps;
	size_t i = pid_hash(pid) & s->proc_mask;

	for (;; i = (i + 1) & s->proc_mask) {
		ps = &s->procs[i];
		if (!ps->used)
			break;
		if (ps->p.pid == pid) {
			set_comm(&ps->p, comm);
			return &ps->p;
		}
	}
	if (s->nr_procs >= s->max_procs) {
		s->other_events++;
		return &s->other;
	}
	ps->used = true;
	ps->p.pid = pid;
	set_comm(&ps->p, comm);
	s->nr_procs++;
	return &ps->p;
}

static size_t stack_hash(__u8 api, __s32 stack_id)
{
	return pid_hash(((__u32)stack_id * 257u) ^ api);
}

/*
 * The entry of (@api, @stack_id), created if room, else the overflow
 * bucket. Every failed bpf_get_stackid() (< 0: -EEXIST on a hash
 * collision, -EFAULT, -ENOMEM) is one "no stack" key per API.
 */
static struct summary_stack *stack_get(struct summary *s, __u8 api, __s32 stack_id)
{
	struct summary_stack_slot *ss;
	size_t i;

	if (stack_id < 0)
		stack_id = -1;
	for (i = stack_hash(api, stack_id) & s->stack_mask;; i = (i + 1) & s->stack_mask) {
		ss = &s->stacks[i];
		if (!ss->used)
			break;
		if (ss->st.api == api && ss->st.stack_id == stack_id)
			return &ss->st;
	}
	if (s->nr_stacks >= s->max_stacks)
		return &s->stack_other;
	ss->used = true;
	ss->st.api = api;
	ss->st.stack_id = stack_id;
	s->nr_stacks++;
	return &ss->st;
}

static void stack_pin(struct summary *s, const struct pt_event *e)
{
	struct summary_stack *st = stack_get(s, api_key(e->api, e->hook), e->stack_id);

	st->pin_grabs++;
	st->pin_refs += e->refs;
	if (e->pt_flags & PT_F_LONGTERM)
		st->longterm_pin_refs += e->refs;
}

void summary_grab(struct summary *s, const struct pt_event *e)
{
	struct summary_api *a = &s->api[api_key(e->api, e->hook)];
	struct summary_proc *p = proc_get(s, e->pid, e->comm);

	s->tot.grabs++;
	/*
	 * The kernel rejects FOLL_GET|FOLL_PIN, so both bits at once would be
	 * a BPF-side bug: count it in both columns rather than guess.
	 */
	if (e->pt_flags & PT_F_PIN) {
		a->pin_grabs++;
		a->pin_refs += e->refs;
		if (e->pt_flags & PT_F_LONGTERM)
			a->longterm_pin_refs += e->refs;
		p->pin_grabs++;
		p->pin_refs += e->refs;
		s->tot.pin_refs += e->refs;
		stack_pin(s, e);
	}
	if (e->pt_flags & PT_F_GET) {
		a->get_grabs++;
		a->get_refs += e->refs;
		p->get_grabs++;
		p->get_refs += e->refs;
		s->tot.get_refs += e->refs;
	}
	if (!(e->pt_flags & (PT_F_PIN | PT_F_GET)))
		s->tot.unflagged_grabs++;
}

void summary_unpin_match(struct summary *s, const struct unpin_match *m)
{
	const struct pin_owner *o = m->owner;
	unsigned int cls = m->cls < PIN_CLASS__MAX ? m->cls : PIN_CLASS_SHORT;
	struct summary_proc *p;

	if (m->preexisting || !o) {
		s->tot.preexisting_refs += m->refs;
		return;
	}
	s->api[api_key(o->api, o->hook)].unpin_refs[cls] += m->refs;
	p = proc_get(s, o->pid, o->comm);
	p->unpin_refs[cls] += m->refs;
	s->tot.unpin_refs[cls] += m->refs;
	/* one sample per matched portion: a hold time is per pin record */
	hist_add(&s->hold[cls], m->hold_ns);
}

void summary_add_pins(struct summary *s, __u32 pid, const char *comm, __u8 api, __u8 hook,
		      __s32 stack_id, __u64 grabs, __u64 refs, __u64 unpin_refs)
{
	__u8 key = api_key(api, hook);
	struct summary_api *a = &s->api[key];
	struct summary_proc *p = proc_get(s, pid, comm);
	struct summary_stack *st;

	s->tot.grabs += grabs;
	s->tot.pin_refs += refs;
	s->tot.unpin_refs[PIN_CLASS_SHORT] += unpin_refs;
	a->pin_grabs += grabs;
	a->pin_refs += refs;
	a->unpin_refs[PIN_CLASS_SHORT] += unpin_refs;
	p->pin_grabs += grabs;
	p->pin_refs += refs;
	p->unpin_refs[PIN_CLASS_SHORT] += unpin_refs;
	if (grabs) {
		st = stack_get(s, key, stack_id);
		st->pin_grabs += grabs;
		st->pin_refs += refs;
	}
}

void summary_add_calls(struct summary *s, __u32 pid, const char *comm, __u8 api, __u64 calls,
		       __u64 pages_req, __u64 pages_ret, __u64 short_calls)
{
	struct summary_api *a = &s->api[api];
	struct summary_proc *p = proc_get(s, pid, comm);

	a->calls += calls;
	a->pages_req += pages_req;
	a->pages_ret += pages_ret;
	a->call_short += short_calls;
	p->calls += calls;
	s->tot.calls += calls;
	s->tot.call_short += short_calls;
}

void summary_add_hists(struct summary *s, const struct log2_hist *hold_short,
		       const struct log2_hist *calls)
{
	hist_merge(&s->hold[PIN_CLASS_SHORT], hold_short);
	hist_merge(&s->call_dur, calls);
}

void summary_call(struct summary *s, const struct pt_event *e)
{
	struct summary_api *a = &s->api[e->hook];
	struct summary_proc *p = proc_get(s, e->pid, e->comm);

	a->calls++;
	p->calls++;
	s->tot.calls++;
	a->pages_req += e->nr_req;
	if (e->ret < 0) {
		a->call_failures++;
		p->call_failures++;
		s->tot.call_failures++;
	} else {
		a->pages_ret += (__u64)e->ret;
		if ((__u64)e->ret < e->nr_req) {
			a->call_short++;
			s->tot.call_short++;
		}
	}
	hist_add(&s->call_dur, e->dur_ns);
}

static bool api_active(const struct summary_api *a)
{
	unsigned int c;

	if (a->pin_grabs || a->get_grabs || a->calls)
		return true;
	for (c = 0; c < PIN_CLASS__MAX; c++)
		if (a->unpin_refs[c])
			return true;
	return false;
}

void summary_foreach_api(const struct summary *s, summary_api_fn cb,
			 void *ctx)
{
	unsigned int k;

	for (k = 0; k < SUMMARY_API_KEYS; k++)
		if (api_active(&s->api[k]))
			cb((__u8)k, &s->api[k], ctx);
}

static int proc_cmp(const void *pa, const void *pb)
{
	const struct summary_proc *a = *(const struct summary_proc *const *)pa;
	const struct summary_proc *b = *(const struct summary_proc *const *)pb;

	if (a->pin_refs != b->pin_refs)
		return a->pin_refs > b->pin_refs ? -1 : 1;
	if (a->get_refs != b->get_refs)
		return a->get_refs > b->get_refs ? -1 : 1;
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

int summary_foreach_proc(const struct summary *s, summary_proc_fn cb,
			 void *ctx)
{
	const struct summary_proc **v;
	size_t i, n = 0;

	if (!s->nr_procs)
		return 0;
	v = malloc(s->nr_procs * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i <= s->proc_mask; i++)
		if (s->procs[i].used)
			v[n++] = &s->procs[i].p;
	qsort(v, n, sizeof(*v), proc_cmp);
	for (i = 0; i < n; i++)
		cb(v[i], ctx);
	free(v);
	return 0;
}

const struct summary_proc *summary_proc_other(const struct summary *s,
					      __u64 *nr_events)
{
	if (nr_events)
		*nr_events = s->other_events;
	return s->other_events ? &s->other : NULL;
}

size_t summary_nr_procs(const struct summary *s)
{
	return s->nr_procs;
}

const struct log2_hist *summary_hold_hist(const struct summary *s,
					  enum pin_class cls)
{
	return (unsigned int)cls < PIN_CLASS__MAX ? &s->hold[cls] : NULL;
}

const struct log2_hist *summary_call_hist(const struct summary *s)
{
	return &s->call_dur;
}

const struct summary_totals *summary_totals(const struct summary *s)
{
	return &s->tot;
}

static int stack_cmp(const void *pa, const void *pb)
{
	const struct summary_stack *a = *(const struct summary_stack *const *)pa;
	const struct summary_stack *b = *(const struct summary_stack *const *)pb;

	if (a->pin_refs != b->pin_refs)
		return a->pin_refs > b->pin_refs ? -1 : 1;
	if (a->pin_grabs != b->pin_grabs)
		return a->pin_grabs > b->pin_grabs ? -1 : 1;
	if (a->api != b->api)
		return a->api < b->api ? -1 : 1;
	return a->stack_id < b->stack_id ? -1 : a->stack_id > b->stack_id;
}

long summary_foreach_stack(const struct summary *s, size_t max, summary_stack_fn cb,
			   void *ctx)
{
	const struct summary_stack **v;
	size_t i, n = 0;

	if (!s->nr_stacks)
		return 0;
	v = malloc(s->nr_stacks * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i <= s->stack_mask; i++)
		if (s->stacks[i].used)
			v[n++] = &s->stacks[i].st;
	qsort(v, n, sizeof(*v), stack_cmp);
	for (i = 0; i < n && i < max; i++)
		cb(v[i], ctx);
	free(v);
	return (long)(n - i);
}

size_t summary_nr_stacks(const struct summary *s)
{
	return s->nr_stacks;
}

const struct summary_stack *summary_stack_other(const struct summary *s)
{
	return s->stack_other.pin_grabs ? &s->stack_other : NULL;
}
