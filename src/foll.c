// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "foll.h"

/* include/linux/mm.h up to 6.2 (FOLL_* were #defines, absent from BTF). */
static const struct foll_flag legacy[] = {
	{ "WRITE", 0x01 }, { "TOUCH", 0x02 }, { "GET", 0x04 }, { "DUMP", 0x08 },
	{ "FORCE", 0x10 }, { "NOWAIT", 0x20 }, { "NOFAULT", 0x80 }, { "HWPOISON", 0x100 },
	{ "MIGRATION", 0x400 }, { "TRIED", 0x800 }, { "REMOTE", 0x2000 }, { "ANON", 0x8000 },
	{ "LONGTERM", 0x10000 }, { "SPLIT_PMD", 0x20000 }, { "PIN", 0x40000 },
	{ "FAST_ONLY", 0x80000 },
};

static unsigned int lookup(const struct foll_table *ft, const char *name)
{
	for (size_t i = 0; i < ft->n; i++)
		if (!strcmp(ft->flags[i].name, name))
			return ft->flags[i].val;
	return 0;
}

static void from_btf(const struct btf *btf, struct foll_table *ft)
{
	unsigned int cnt = btf__type_cnt(btf);

	for (unsigned int id = 1; id < cnt && ft->n < FOLL_MAX; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;

		if (!btf_is_enum(t) || t->name_off)	/* FOLL_* live in anonymous enums */
			continue;
		e = btf_enum(t);
		for (int i = 0; i < btf_vlen(t) && ft->n < FOLL_MAX; i++, e++) {
			const char *n = btf__name_by_offset(btf, e->name_off);

			if (strncmp(n, "FOLL_", 5))
				continue;
			/* names point into the BTF string section, which outlives us */
			ft->flags[ft->n].name = n + 5;
			ft->flags[ft->n++].val = (unsigned int)e->val;
		}
	}
}

int foll_load(const struct btf *btf, struct foll_table *ft)
{
	memset(ft, 0, sizeof(*ft));
	if (btf)
		from_btf(btf, ft);
	if (ft->n && !lookup(ft, "PIN")) {
		if (lookup(ft, "LONGTERM"))
			return -EINVAL;
		ft->n = 0;	/* unrelated FOLL_ names: treat as legacy */
	}
	if (ft->n) {
		ft->from_btf = true;
	} else {
		memcpy(ft->flags, legacy, sizeof(legacy));
		ft->n = sizeof(legacy) / sizeof(legacy[0]);
	}
	ft->write = lookup(ft, "WRITE");
	ft->get = lookup(ft, "GET");
	ft->pin = lookup(ft, "PIN");
	ft->longterm = lookup(ft, "LONGTERM");
	return 0;
}

const char *foll_format(const struct foll_table *ft, unsigned long long v, char *buf, size_t len)
{
	static const char *order[] = { "PIN", "GET", "LONGTERM", "WRITE" };
	unsigned long long rest = v;
	size_t off = 0;

	buf[0] = '\0';
	/* the four flags that matter most first, then the rest in table order */
	for (size_t i = 0; i < 4; i++) {
		unsigned int b = lookup(ft, order[i]);

		if (b && (rest & b) && off < len) {
			off += snprintf(buf + off, len - off, "%s%s", off ? "|" : "", order[i]);
			rest &= ~(unsigned long long)b;
		}
	}
	for (size_t i = 0; i < ft->n && off < len; i++) {
		unsigned int b = ft->flags[i].val;

		if (b && (rest & b) == b) {
			off += snprintf(buf + off, len - off, "%s%s", off ? "|" : "", ft->flags[i].name);
			rest &= ~(unsigned long long)b;
		}
	}
	if (rest && off < len)
		off += snprintf(buf + off, len - off, "%s0x%llx", off ? "|" : "", rest);
	if (!off)
		snprintf(buf, len, "0");
	return buf;
}
