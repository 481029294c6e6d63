// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Attach planning: hook table x kernel facts -> per-hook backend order.
 * No I/O here, so that it is unit-tested against 6.1/6.12/6.18 fixtures.
 */
#include <errno.h>
#include <string.h>
#include "plan.h"

const char *backend_name(enum pt_backend b)
{
	switch (b) {
	case PT_BACKEND_FENTRY: return "fentry";
	case PT_BACKEND_KPROBE: return "kprobe";
	case PT_BACKEND_TP: return "tp_btf";
	default: return "none";
	}
}

const char *plan_state_name(enum plan_state s)
{
	switch (s) {
	case PLAN_ATTACH: return "attach";
	case PLAN_ABSENT: return "absent";
	case PLAN_UNAVAILABLE: return "unavailable";
	default: return "skipped";
	}
}

int backend_mode_parse(const char *s, enum backend_mode *m)
{
	if (!strcmp(s, "auto"))
		*m = MODE_AUTO;
	else if (!strcmp(s, "fentry"))
		*m = MODE_FENTRY;
	else if (!strcmp(s, "kprobe"))
		*m = MODE_KPROBE;
	else
		return -EINVAL;
	return 0;
}

static bool sym_present(const struct sym_fact *s)
{
	return s && (s->kallsyms > 0 || s->btf);
}

/* Pick the kernel symbol: first candidate present, then check the variant. */
static const struct sym_fact *pick_symbol(const struct kernel_facts *kf, struct hook_plan *hp)
{
	const struct hook_def *d = hp->def;
	const struct sym_fact *s = NULL;

	for (int i = 0; i < HOOK_MAX_SYMS && d->syms[i]; i++) {
		s = facts_sym(kf, d->syms[i]);
		if (sym_present(s))
			break;
		s = NULL;
	}
	if (!s) {
		snprintf(hp->why, sizeof(hp->why), "not in this kernel");
		return NULL;
	}
	if (d->param0 && s->btf && s->param0[0]) {
		/* Same name, new prototype: BTF says which one this kernel has. */
		if (strcmp(s->param0, d->param0)) {
			snprintf(hp->why, sizeof(hp->why), "other variant: %s takes struct %s",
				 s->name, s->param0);
			return NULL;
		}
	} else if (d->with_sym && !sym_present(facts_sym(kf, d->with_sym))) {
		snprintf(hp->why, sizeof(hp->why), "other variant (no %s)", d->with_sym);
		return NULL;
	} else if (d->without_sym && sym_present(facts_sym(kf, d->without_sym))) {
		snprintf(hp->why, sizeof(hp->why), "other variant (%s present)", d->without_sym);
		return NULL;
	}
	return s;
}

static bool fentry_ok(const struct kernel_facts *kf, const struct sym_fact *s,
		      char *why, size_t len)
{
	if (!kf->fentry)
		snprintf(why, len, "fentry unavailable on this kernel");
	else if (!s->btf)
		snprintf(why, len, "fentry: no BTF for %s", s->name);
	else if (s->btf_nargs > kf->fentry_max_args)
		snprintf(why, len, "fentry: %d arguments > trampoline limit %d", s->btf_nargs,
			 kf->fentry_max_args);
	else if (s->ftrace == 0)
		snprintf(why, len, "fentry: %s is notrace", s->name);
	else if (s->kallsyms > 1)
		snprintf(why, len, "fentry: %d functions named %s", s->kallsyms, s->name);
	else if (s->kallsyms == 0)
		snprintf(why, len, "fentry: %s not in kallsyms (inlined)", s->name);
	else
		return true;
	return false;
}

static bool kprobe_ok(const struct kernel_facts *kf, const struct sym_fact *s,
		      char *why, size_t len)
{
	if (!kf->kprobe)
		snprintf(why, len, "kprobes unavailable on this kernel");
	else if (s->kallsyms == 0)
		snprintf(why, len, "kprobe: %s not in kallsyms (inlined)", s->name);
	else if (s->kallsyms > 1)
		snprintf(why, len, "kprobe: %d functions named %s", s->kallsyms, s->name);
	else
		return true;
	return false;
}

static void plan_hook(const struct kernel_facts *kf, enum backend_mode mode, bool follow_tree,
		      struct hook_plan *hp)
{
	const struct hook_def *d = hp->def;
	char fwhy[120] = "", kwhy[120] = "";
	const struct sym_fact *s;
	bool f, k;

	if (d->tracepoint) {
		char tp[64];

		snprintf(tp, sizeof(tp), "tp/%s", d->syms[0]);
		s = facts_sym(kf, tp);
		hp->sym = d->syms[0];
		/* facts recorded before tracepoints were probed say nothing: assume present */
		if (kf->btf && s && !s->btf) {
			hp->state = PLAN_ABSENT;
			snprintf(hp->why, sizeof(hp->why), "no such tracepoint in this kernel");
		} else if (d->run_only && !follow_tree) {
			hp->state = PLAN_SKIPPED;
			snprintf(hp->why, sizeof(hp->why), "only for `run`");
		} else if (!kf->tp_btf) {
			hp->state = PLAN_UNAVAILABLE;
			snprintf(hp->why, sizeof(hp->why), "tp_btf programs do not load");
		} else {
			hp->state = PLAN_ATTACH;
			hp->order[hp->norder++] = PT_BACKEND_TP;
		}
		return;
	}
	s = pick_symbol(kf, hp);
	if (!s) {
		hp->state = PLAN_ABSENT;
		return;
	}
	/* what blocks every program, whatever the backend */
	if (!kf->btf || !strncmp(kf->lockdown, "confidentiality", 15)) {
		hp->sym = s->name;
		hp->state = PLAN_UNAVAILABLE;
		snprintf(hp->why, sizeof(hp->why), "%s", !kf->btf ?
			 "no kernel BTF: CO-RE cannot relocate" :
			 "lockdown=confidentiality refuses bpf_probe_read_kernel");
		return;
	}
	hp->sym = d->syms[0];
	for (int i = 0; i < HOOK_MAX_SYMS && d->syms[i]; i++)
		if (!strcmp(d->syms[i], s->name))
			hp->sym = d->syms[i];

	f = mode != MODE_KPROBE && fentry_ok(kf, s, fwhy, sizeof(fwhy));
	k = mode != MODE_FENTRY && kprobe_ok(kf, s, kwhy, sizeof(kwhy));
	if (f)
		hp->order[hp->norder++] = PT_BACKEND_FENTRY;
	if (k)
		hp->order[hp->norder++] = PT_BACKEND_KPROBE;
	if (hp->norder) {
		hp->state = PLAN_ATTACH;
		/* say why an auto plan did not pick fentry first */
		if (mode == MODE_AUTO && !f)
			snprintf(hp->why, sizeof(hp->why), "%s", fwhy);
		return;
	}
	hp->state = PLAN_UNAVAILABLE;
	if (mode == MODE_KPROBE)
		snprintf(hp->why, sizeof(hp->why), "%s", kwhy);
	else if (mode == MODE_FENTRY)
		snprintf(hp->why, sizeof(hp->why), "%s", fwhy);
	else
		snprintf(hp->why, sizeof(hp->why), "%s; %s", fwhy, kwhy);
}

void plan_build(const struct kernel_facts *kf, enum backend_mode mode, bool follow_tree,
		struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	for (size_t i = 0; i < pt_hook_ndefs && p->n < PT_HOOK__MAX; i++) {
		struct hook_plan *hp = &p->hooks[p->n++];

		hp->def = &pt_hook_defs[i];
		plan_hook(kf, mode, follow_tree, hp);
	}
}

static bool hook_ok(const struct plan *p, enum pt_hook id, bool after_attach)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->hooks[i].def->id == id)
			return p->hooks[i].state == PLAN_ATTACH &&
			       (!after_attach || p->hooks[i].attached != PT_BACKEND_NONE);
	return false;
}

/* One generation's chokepoints all traceable: every pin and unpin is seen. */
static bool gen_complete(const struct plan *p, bool after_attach)
{
	for (size_t g = 0; g < pt_hook_ngens; g++) {
		bool all = true;

		for (int k = 0; k < HOOK_GEN_MAX && pt_hook_gens[g].hooks[k]; k++)
			all &= hook_ok(p, pt_hook_gens[g].hooks[k], after_attach);
		if (all)
			return true;
	}
	return false;
}

int plan_coverage(const struct plan *p, bool after_attach, char *why, size_t whylen)
{
	bool grab = false, unpin = false;

	for (size_t i = 0; i < p->n; i++) {
		const struct hook_plan *hp = &p->hooks[i];
		enum hook_role r = hp->def->role;
		bool ok;

		if (r != ROLE_GRAB && r != ROLE_UNPIN && r != ROLE_TASK)
			continue;
		if (hp->state == PLAN_ABSENT || hp->state == PLAN_SKIPPED)
			continue;
		ok = hp->state == PLAN_ATTACH && (!after_attach || hp->attached != PT_BACKEND_NONE);
		if (!ok) {
			snprintf(why, whylen, "%s cannot be traced: %s", hp->sym ? hp->sym : hp->def->prog,
				 after_attach && hp->attach_err[0] ? hp->attach_err : hp->why);
			return -ENOTSUP;
		}
		grab |= r == ROLE_GRAB;
		unpin |= r == ROLE_UNPIN;
	}
	if (!grab || !unpin) {
		snprintf(why, whylen, "no %s chokepoint found in this kernel",
			 grab ? "unpin" : "pin");
		return -ENOTSUP;
	}
	if (!gen_complete(p, after_attach)) {
		snprintf(why, whylen, "no known set of pin chokepoints is complete here "
			 "(kernel older than 5.18, or a GUP layout this pintrace does not know)");
		return -ENOTSUP;
	}
	return 0;
}

void plan_print(FILE *f, const struct plan *p)
{
	fprintf(f, "%-26s %-28s %-12s %s\n", "HOOK", "SYMBOL", "PLAN", "NOTE");
	for (size_t i = 0; i < p->n; i++) {
		const struct hook_plan *hp = &p->hooks[i];
		char what[32];

		if (hp->state == PLAN_ATTACH && hp->attached)
			snprintf(what, sizeof(what), "%s", backend_name(hp->attached));
		else if (hp->state == PLAN_ATTACH)
			snprintf(what, sizeof(what), "%s%s%s", backend_name(hp->order[0]),
				 hp->norder > 1 ? ">" : "",
				 hp->norder > 1 ? backend_name(hp->order[1]) : "");
		else
			snprintf(what, sizeof(what), "%s", plan_state_name(hp->state));
		fprintf(f, "%-26s %-28s %-12s %s\n", hp->def->prog, hp->sym ? hp->sym : "-", what,
			hp->attach_err[0] ? hp->attach_err : hp->why);
	}
}
