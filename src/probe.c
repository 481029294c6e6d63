// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Live kernel probing. Everything here reads the kernel as it is; nothing
 * infers from the version number, because distributions backport.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <zlib.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hooks.h"
#include "probe.h"

static void add_table_symbols(struct kernel_facts *kf)
{
	for (size_t i = 0; i < pt_hook_ndefs; i++) {
		const struct hook_def *d = &pt_hook_defs[i];

		if (d->tracepoint) {
			char tp[64];

			snprintf(tp, sizeof(tp), "tp/%s", d->syms[0]);
			facts_sym_add(kf, tp);
			continue;
		}
		for (int j = 0; j < HOOK_MAX_SYMS && d->syms[j]; j++)
			facts_sym_add(kf, d->syms[j]);
		if (d->with_sym)
			facts_sym_add(kf, d->with_sym);
		if (d->without_sym)
			facts_sym_add(kf, d->without_sym);
	}
}

/* Count core-kernel text symbols by exact name; clones (.cold, .part.N) differ. */
static void probe_kallsyms(struct kernel_facts *kf)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256], type;
	unsigned long long addr;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct sym_fact *s;

		if (strchr(line, '['))	/* module symbol */
			continue;
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		if (type != 't' && type != 'T')
			continue;
		s = (struct sym_fact *)facts_sym(kf, name);
		if (s)
			s->kallsyms++;
	}
	fclose(f);
}

static void probe_ftrace(struct kernel_facts *kf)
{
	static const char *paths[] = {
		"/sys/kernel/tracing/available_filter_functions",
		"/sys/kernel/debug/tracing/available_filter_functions",
	};
	char line[512];
	FILE *f = NULL;

	for (size_t i = 0; i < 2 && !f; i++)
		f = fopen(paths[i], "r");
	if (!f)
		return;	/* unknown: the planner tries, the attach tells */
	for (size_t i = 0; i < kf->nsyms; i++)
		kf->syms[i].ftrace = 0;
	while (fgets(line, sizeof(line), f)) {
		struct sym_fact *s;

		line[strcspn(line, " \n")] = '\0';
		s = (struct sym_fact *)facts_sym(kf, line);
		if (s)
			s->ftrace = 1;
	}
	fclose(f);
}

/* "bool", "int", "void", or the struct a pointer points to ("folio"). */
static void type_name(const struct btf *btf, __u32 id, char *buf, size_t len)
{
	const struct btf_type *t;

	if (!id) {
		snprintf(buf, len, "void");
		return;
	}
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, btf__resolve_type(btf, t->type));
	snprintf(buf, len, "%s", t && t->name_off ? btf__name_by_offset(btf, t->name_off) : "?");
	/* "long int" -> "long_int": the facts text format is space-separated */
	for (char *c = buf; *c; c++)
		if (*c == ' ')
			*c = '_';
}

/* A tracepoint exists when its btf_trace_NAME typedef (pointer to the probe's prototype) does. */
static void probe_tracepoint(struct sym_fact *s, const struct btf *btf)
{
	const struct btf_type *t;
	char name[96];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", s->name + 3);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return;
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (t && btf_is_ptr(t))
		t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return;
	s->btf = true;
	s->btf_nargs = btf_vlen(t) > 0 ? btf_vlen(t) - 1 : 0;	/* the first is the probe's data */
}

static void probe_btf(struct kernel_facts *kf, const struct btf *btf)
{
	for (size_t i = 0; i < kf->nsyms; i++) {
		struct sym_fact *s = &kf->syms[i];
		const struct btf_type *t, *pt;
		const struct btf_param *p;
		int id;

		if (!strncmp(s->name, "tp/", 3)) {
			probe_tracepoint(s, btf);
			continue;
		}
		id = btf__find_by_name_kind(btf, s->name, BTF_KIND_FUNC);

		if (id < 0)
			continue;
		t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
		if (!t || !btf_is_func_proto(t))
			continue;
		s->btf = true;
		s->btf_nargs = btf_vlen(t);
		type_name(btf, t->type, s->ret, sizeof(s->ret));
		if (!s->btf_nargs)
			continue;
		p = btf_params(t);
		pt = btf__type_by_id(btf, p->type);
		if (pt && btf_is_ptr(pt)) {
			pt = btf__type_by_id(btf, btf__resolve_type(btf, pt->type));
			if (pt && btf_is_composite(pt))
				snprintf(s->param0, sizeof(s->param0), "%s",
					 btf__name_by_offset(btf, pt->name_off));
		}
	}
}

/*
 * Load and attach a no-op fentry program to a function we plan to trace:
 * loading alone is not enough (arm64 6.1 loads, then refuses to attach).
 */
static void probe_fentry(struct kernel_facts *kf, const struct btf *btf)
{
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_FENTRY);
	int id = -1, fd, lfd, err;

	for (size_t i = 0; i < kf->nsyms && id < 0; i++)
		if (kf->syms[i].btf && kf->syms[i].kallsyms == 1 && kf->syms[i].ftrace != 0)
			id = btf__find_by_name_kind(btf, kf->syms[i].name, BTF_KIND_FUNC);
	if (id < 0) {
		snprintf(kf->fentry_why, sizeof(kf->fentry_why), "no traced function in BTF");
		return;
	}
	o.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "pt_probe", "GPL", insns, 2, &o);
	if (fd < 0) {
		err = -errno;
		snprintf(kf->fentry_why, sizeof(kf->fentry_why),
			 "the kernel refuses fentry programs (BPF_PROG_LOAD: %s%s%s)", strerror(-err),
			 kf->lockdown[0] && strcmp(kf->lockdown, "none") ? "; lockdown=" : "",
			 kf->lockdown[0] && strcmp(kf->lockdown, "none") ? kf->lockdown : "");
		return;
	}
	lfd = bpf_raw_tracepoint_open(NULL, fd);
	err = lfd < 0 ? -errno : 0;
	close(fd);
	if (lfd >= 0) {
		close(lfd);
		kf->fentry = true;
		return;
	}
	snprintf(kf->fentry_why, sizeof(kf->fentry_why),
		 "fentry programs load but do not attach (%s%s)", strerror(-err),
		 err == -524 ? ": no trampoline support on this kernel/arch" : "");
}

int kconfig_get(const char *release, const char *opt, char *val, size_t len)
{
	char path[128], line[512];
	size_t olen = strlen(opt);
	gzFile gz;
	int found = -ENOENT;

	gz = gzopen("/proc/config.gz", "r");
	if (!gz) {
		snprintf(path, sizeof(path), "/boot/config-%s", release);
		gz = gzopen(path, "r");	/* zlib reads plain files too */
	}
	if (!gz)
		return -ENOENT;
	while (gzgets(gz, line, sizeof(line))) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, opt, olen) && line[olen] == '=') {
			snprintf(val, len, "%s", line + olen + 1);
			found = 0;
			break;
		}
		if (!strncmp(line, "# ", 2) && !strncmp(line + 2, opt, olen) &&
		    !strcmp(line + 2 + olen, " is not set")) {
			snprintf(val, len, "n");
			found = 0;
			break;
		}
	}
	gzclose(gz);
	return found;
}

static void probe_kprobe(struct kernel_facts *kf)
{
	char v[16];

	if (!access("/sys/bus/event_source/devices/kprobe/type", R_OK) ||
	    !access("/sys/kernel/tracing/kprobe_events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/kprobe_events", F_OK)) {
		kf->kprobe = true;
		return;
	}
	if (!kconfig_get(kf->release, "CONFIG_KPROBES", v, sizeof(v)) && !strcmp(v, "n"))
		snprintf(kf->kprobe_why, sizeof(kf->kprobe_why),
			 "kernel built without kprobes (CONFIG_KPROBES is not set)");
	else if (!kconfig_get(kf->release, "CONFIG_KPROBE_EVENTS", v, sizeof(v)) && !strcmp(v, "n"))
		snprintf(kf->kprobe_why, sizeof(kf->kprobe_why),
			 "kernel built without kprobe events (CONFIG_KPROBE_EVENTS is not set)");
	else
		snprintf(kf->kprobe_why, sizeof(kf->kprobe_why),
			 "no kprobe PMU (/sys/bus/event_source/devices/kprobe) and no kprobe_events");
}

static void probe_lockdown(struct kernel_facts *kf)
{
	char buf[128], *l, *r;
	FILE *f = fopen("/sys/kernel/security/lockdown", "r");

	if (!f) {
		/* securityfs not mounted (containers): the build config may force it */
		if (!kconfig_get(kf->release, "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY", buf,
				 sizeof(buf)) && !strcmp(buf, "y"))
			snprintf(kf->lockdown, sizeof(kf->lockdown), "confidentiality (forced)");
		else if (!kconfig_get(kf->release, "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY", buf,
				      sizeof(buf)) && !strcmp(buf, "y"))
			snprintf(kf->lockdown, sizeof(kf->lockdown), "integrity (forced)");
		return;
	}
	if (fgets(buf, sizeof(buf), f) && (l = strchr(buf, '[')) && (r = strchr(l, ']'))) {
		*r = '\0';
		snprintf(kf->lockdown, sizeof(kf->lockdown), "%s", l + 1);
	}
	fclose(f);
}

int probe_kernel(struct kernel_facts *kf, const struct btf *btf, bool privileged)
{
	struct utsname u;

	memset(kf, 0, sizeof(*kf));
	kf->fentry_max_args = 6;	/* x86 trampolines take more from 6.6, assume the floor */
	if (!uname(&u))
		snprintf(kf->release, sizeof(kf->release), "%s", u.release);
	add_table_symbols(kf);
	probe_lockdown(kf);
	probe_kallsyms(kf);
	probe_ftrace(kf);
	probe_kprobe(kf);
	if (btf) {
		kf->btf = true;
		kf->tp_btf = true;
		probe_btf(kf, btf);
		if (privileged)
			probe_fentry(kf, btf);
		else
			snprintf(kf->fentry_why, sizeof(kf->fentry_why), "not probed (needs root)");
	} else {
		snprintf(kf->fentry_why, sizeof(kf->fentry_why), "no vmlinux BTF");
	}
	return 0;
}
