// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Kernel address symbolizer; what is kept and why is in ksyms.h.
 *
 * Layout: one 16-byte entry per distinct address, sorted, and every name
 * (and module name) NUL-terminated in one arena. The file is read in large
 * chunks and parsed in place, without stdio or sscanf: a distribution
 * kernel's /proc/kallsyms is 100-200k lines and loads in a few tens of ms,
 * most of it the kernel formatting the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ksyms.h"

#define KALLSYMS_PATH "/proc/kallsyms"
#define READ_CHUNK (256u << 10)	/* also the longest line accepted */
#define NAME_MAX_LEN 511	/* KSYM_NAME_LEN (512) less the NUL */
#define MOD_MAX_LEN 127		/* MODULE_NAME_LEN is 56; leave room for "__builtin__*" */
#define NO_NAME UINT32_MAX	/* entry that ends a region instead of naming one */
#define PREF_END 0xff

struct ksym {
	unsigned long long addr;
	uint32_t name;		/* arena offset, NO_NAME for a region end */
	uint16_t mod;		/* index into mods[], 0 for vmlinux */
	uint8_t pref;		/* lower wins among names at one address */
	uint8_t pad;
};

struct ksyms {
	struct ksym *syms;
	size_t n, cap;
	size_t ntext;		/* entries that name something */
	char *arena;
	size_t alen, acap;
	uint32_t *mods;		/* arena offsets of module names; [0] unused */
	size_t nmods, modcap;
	uint16_t last_mod;	/* module lines come in runs: try the last one first */
	/* ksyms_data_lookup(): only these vmlinux data symbols, nothing kept */
	const char *const *want;
	unsigned long long *found;
	int nwant;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t ncap = *cap ? *cap : first;
	void *np;

	if (need <= *cap)
		return 0;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / elem)
			return -ENOMEM;
		ncap *= 2;
	}
	np = realloc(*p, ncap * elem);
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

/* Copy S (LEN bytes) into the arena; its offset goes to *off. */
static int arena_add(struct ksyms *k, const char *s, size_t len, uint32_t *off)
{
	int err;

	if (k->alen + len + 1 >= NO_NAME)
		return -EOVERFLOW;
	err = grow((void **)&k->arena, &k->acap, k->alen + len + 1, 1, 64u << 10);
	if (err)
		return err;
	memcpy(k->arena + k->alen, s, len);
	k->arena[k->alen + len] = '\0';
	*off = (uint32_t)k->alen;
	k->alen += len + 1;
	return 0;
}

static bool mod_is(const struct ksyms *k, size_t i, const char *s, size_t len)
{
	const char *m = k->arena + k->mods[i];

	return !strncmp(m, s, len) && m[len] == '\0';
}

static int mod_index(struct ksyms *k, const char *s, size_t len, uint16_t *idx)
{
	uint32_t off;
	size_t i;
	int err;

	if (!len) {
		*idx = 0;
		return 0;
	}
	if (k->last_mod && mod_is(k, k->last_mod, s, len)) {
		*idx = k->last_mod;
		return 0;
	}
	for (i = 1; i < k->nmods; i++) {
		if (mod_is(k, i, s, len)) {
			*idx = k->last_mod = (uint16_t)i;
			return 0;
		}
	}
	if (k->nmods == 0)
		k->nmods = 1;	/* index 0 is vmlinux */
	if (k->nmods > UINT16_MAX)
		return -EOVERFLOW;
	err = grow((void **)&k->mods, &k->modcap, k->nmods + 1, sizeof(*k->mods), 64);
	if (!err)
		err = arena_add(k, s, len, &off);
	if (err)
		return err;
	k->mods[k->nmods] = off;
	*idx = k->last_mod = (uint16_t)k->nmods++;
	return 0;
}

static bool starts(const char *s, size_t len, const char *pre)
{
	size_t n = strlen(pre);

	return len >= n && !memcmp(s, pre, n);
}

static bool ends(const char *s, size_t len, const char *suf)
{
	size_t n = strlen(suf);

	return len >= n && !memcmp(s + len - n, suf, n);
}

static bool is_name(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && !memcmp(s, name, len);
}

/* Linker symbols that end a text section: nothing after them is that code. */
static bool text_end_marker(const char *s, size_t len)
{
	return is_name(s, len, "_etext") || is_name(s, len, "_einittext") ||
	       (starts(s, len, "__") && ends(s, len, "_text_end"));
}

/* Linker symbols that start a section: the function there is the better name. */
static bool text_start_marker(const char *s, size_t len)
{
	return is_name(s, len, "_stext") || is_name(s, len, "_text") ||
	       is_name(s, len, "_sinittext") ||
	       (starts(s, len, "__") && ends(s, len, "_text_start"));
}

static uint8_t preference(char type, const char *name, size_t len)
{
	unsigned int class, us = 0;

	if (text_start_marker(name, len))
		class = 2;
	else
		class = type == 'w' || type == 'W';
	while (us < len && us < 15 && name[us] == '_')
		us++;
	return (uint8_t)(class << 5 | us << 1 | (type >= 'a' && type <= 'z'));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* A name byte: printable ASCII other than space and the module brackets. */
static bool name_char(char c)
{
	return c > ' ' && c < 0x7f && c != '[' && c != ']';
}

/* A vmlinux data symbol ksyms_data_lookup() asks for: the first line wins. */
static void want_match(struct ksyms *k, unsigned long long addr, char type, const char *name,
		       size_t nlen, const char *mod)
{
	if (mod || !strchr("bBdDrRgGsS", type))
		return;
	for (int i = 0; i < k->nwant; i++)
		if (!k->found[i] && is_name(name, nlen, k->want[i]))
			k->found[i] = addr;
}

/*
 * One line "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]", without its
 * newline. A malformed line is skipped (returns 0); only running out of
 * memory or index space is an error.
 */
static int parse_line(struct ksyms *k, const char *p, const char *end)
{
	const char *name, *mod = NULL;
	size_t nlen, mlen = 0;
	unsigned long long addr = 0;
	struct ksym *e;
	int digits = 0, d, err;
	bool text, region_end;
	char type;
	uint16_t midx;

	while (p < end && (d = hexval(*p)) >= 0) {
		if (++digits > 16)
			return 0;
		addr = addr << 4 | (unsigned int)d;
		p++;
	}
	if (!digits || p == end || !blank(*p))
		return 0;
	while (p < end && blank(*p))
		p++;
	if (p == end)
		return 0;
	type = *p++;
	if (p == end || !blank(*p))
		return 0;
	while (p < end && blank(*p))
		p++;
	name = p;
	while (p < end && name_char(*p))
		p++;
	nlen = (size_t)(p - name);
	if (!nlen || nlen > NAME_MAX_LEN || (p < end && !blank(*p)))
		return 0;
	while (p < end && blank(*p))
		p++;
	if (p < end) {
		if (*p++ != '[')
			return 0;
		mod = p;
		while (p < end && name_char(*p))
			p++;
		mlen = (size_t)(p - mod);
		if (!mlen || mlen > MOD_MAX_LEN || p == end || *p++ != ']')
			return 0;
		while (p < end && blank(*p))
			p++;
		if (p != end)
			return 0;
	}

	if (k->want)
		return want_match(k, addr, type, name, nlen, mod), 0;

	text = strchr("tTwW", type) != NULL;
	region_end = text ? text_end_marker(name, nlen) : strchr("bBdDrRgGsSvV", type) != NULL;
	if (!addr || (!text && !region_end))
		return 0;

	err = grow((void **)&k->syms, &k->cap, k->n + 1, sizeof(*k->syms), 4096);
	if (err)
		return err;
	e = &k->syms[k->n];
	memset(e, 0, sizeof(*e));
	e->addr = addr;
	if (region_end) {
		e->name = NO_NAME;
		e->pref = PREF_END;
	} else {
		err = mod_index(k, mod, mlen, &midx);
		if (!err)
			err = arena_add(k, name, nlen, &e->name);
		if (err)
			return err;
		e->mod = midx;
		e->pref = preference(type, name, nlen);
	}
	k->n++;
	return 0;
}

static int cmp_sym(const void *pa, const void *pb)
{
	const struct ksym *a = pa, *b = pb;

	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->pref != b->pref)
		return a->pref < b->pref ? -1 : 1;
	/* names enter the arena in file order: the earlier line wins a tie */
	return a->name < b->name ? -1 : a->name > b->name;
}

/* Sort, keep the best name per address and only region ends that end one. */
static void finish(struct ksyms *k)
{
	size_t i, out = 0;
	bool sorted = true;
	void *p;

	for (i = 1; i < k->n && sorted; i++)
		sorted = cmp_sym(&k->syms[i - 1], &k->syms[i]) <= 0;
	if (!sorted)
		qsort(k->syms, k->n, sizeof(*k->syms), cmp_sym);
	for (i = 0; i < k->n; i++) {
		const struct ksym *e = &k->syms[i];

		if (out && k->syms[out - 1].addr == e->addr)
			continue;
		if (e->name == NO_NAME && (!out || k->syms[out - 1].name == NO_NAME))
			continue;
		k->ntext += e->name != NO_NAME;
		k->syms[out++] = *e;
	}
	k->n = out;
	if (out && out < k->cap && (p = realloc(k->syms, out * sizeof(*k->syms)))) {
		k->syms = p;
		k->cap = out;
	}
	if (k->alen && k->alen < k->acap && (p = realloc(k->arena, k->alen))) {
		k->arena = p;
		k->acap = k->alen;
	}
}

static int read_all(struct ksyms *k, int fd)
{
	char *buf = malloc(READ_CHUNK);
	size_t have = 0, start;
	bool skipping = false;	/* inside a line longer than the buffer */
	ssize_t r;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		r = read(fd, buf + have, READ_CHUNK - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			break;
		}
		if (r == 0) {
			if (have && !skipping)
				err = parse_line(k, buf, buf + have);
			break;
		}
		have += (size_t)r;
		start = 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);

			if (!nl)
				break;
			if (!skipping)
				err = parse_line(k, buf + start, nl);
			skipping = false;
			start = (size_t)(nl - buf) + 1;
			if (err)
				goto out;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == READ_CHUNK) {
			skipping = true;
			have = 0;
		}
	}
out:
	free(buf);
	return err;
}

struct ksyms *ksyms_load(const char *path)
{
	struct ksyms *k;
	int fd, err;

	fd = open(path ? path : KALLSYMS_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	k = calloc(1, sizeof(*k));
	err = k ? read_all(k, fd) : -ENOMEM;
	close(fd);
	if (err) {
		ksyms_free(k);
		errno = -err;
		return NULL;
	}
	finish(k);
	return k;
}

int ksyms_data_lookup(const char *path, const char *const *names, unsigned long long *addrs,
		      int n)
{
	struct ksyms k = { .want = names, .found = addrs, .nwant = n };
	int fd, err, found = 0;

	memset(addrs, 0, (size_t)n * sizeof(*addrs));
	fd = open(path ? path : KALLSYMS_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = read_all(&k, fd);
	close(fd);
	if (err)
		return err;
	for (int i = 0; i < n; i++)
		found += addrs[i] != 0;
	return found;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->arena);
	free(k->mods);
	free(k);
}

bool ksyms_usable(const struct ksyms *k)
{
	return k && k->ntext > 0;
}

size_t ksyms_count(const struct ksyms *k)
{
	return k ? k->ntext : 0;
}

const char *ksyms_resolve(const struct ksyms *k, unsigned long long addr, char *buf, size_t len)
{
	size_t lo = 0, hi;
	const struct ksym *e;
	unsigned long long off;

	if (!len)
		return "";
	if (!ksyms_usable(k))
		goto unknown;
	/* first entry above addr; the one before it covers addr, if any does */
	hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		goto unknown;
	e = &k->syms[lo - 1];
	off = addr - e->addr;
	if (e->name == NO_NAME || off >= KSYMS_MAX_FUNC_SIZE)
		goto unknown;
	if (e->mod)
		snprintf(buf, len, "%s+0x%llx [%s]", k->arena + e->name, off,
			 k->arena + k->mods[e->mod]);
	else
		snprintf(buf, len, "%s+0x%llx", k->arena + e->name, off);
	return buf;
unknown:
	snprintf(buf, len, "0x%llx", addr);
	return buf;
}
