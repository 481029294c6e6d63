// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE	/* vmsplice, pipe2 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/btf.h>
#include "place.h"
#include "session.h"

#define MAX_NODES_SHIFT 10	/* CONFIG_NODES_SHIFT is at most 10 on x86_64 and arm64 */
#define MAX_ZONEINFO 64

/*
 * Where struct pages start when the kernel does not say (no vmemmap_base in
 * kallsyms): x86_64's fixed VMEMMAP_START without CONFIG_RANDOMIZE_MEMORY
 * (4-level paging). Only ever used after our own page checks out there.
 */
#if defined(__x86_64__)
#define VMEMMAP_GUESS 0xffffea0000000000ULL
#else
#define VMEMMAP_GUESS 0ULL
#endif

/* "ZONE_DMA32" -> "DMA32", "ZONE_NORMAL" -> "Normal": the names zoneinfo prints. */
static void zone_display_name(const char *enum_name, char *out, size_t len)
{
	const char *n = strncmp(enum_name, "ZONE_", 5) ? enum_name : enum_name + 5;
	size_t i;

	if (!strncmp(n, "DMA", 3)) {
		snprintf(out, len, "%s", n);
		return;
	}
	for (i = 0; n[i] && i + 1 < len; i++)
		out[i] = i ? (char)tolower((unsigned char)n[i]) : n[i];
	out[i] = '\0';
	if (!strcmp(out, "Highmem"))
		snprintf(out, len, "HighMem");
}

static const struct btf_type *find_enum(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);

	return id < 0 ? NULL : btf__type_by_id(btf, id);
}

static void zones_from_btf(struct place *p, const struct btf *btf)
{
	const struct btf_type *t = find_enum(btf, "zone_type");
	const struct btf_enum *e;

	if (!t)
		return;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++) {
		const char *n = btf__name_by_offset(btf, e[i].name_off);

		if (!strcmp(n, "__MAX_NR_ZONES")) {
			p->zones_width = mm_zones_width(e[i].val);
			continue;
		}
		if (!strcmp(n, "ZONE_MOVABLE"))
			p->movable = e[i].val;
		if (e[i].val >= 0 && e[i].val < PLACE_MAX_ZONES) {
			zone_display_name(n, p->zone_names[e[i].val], sizeof(p->zone_names[0]));
			if (e[i].val >= p->nzones)
				p->nzones = e[i].val + 1;
		}
	}
}

static bool btf_has_enumerator(const struct btf *btf, const char *type, const char *val)
{
	const struct btf_type *t = find_enum(btf, type);
	const struct btf_enum *e;

	if (!t)
		return false;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(btf, e[i].name_off), val))
			return true;
	return false;
}

void place_init(struct place *p, const struct btf *btf)
{
	char why[160] = "";
	int n;

	memset(p, 0, sizeof(*p));
	p->movable = -1;
	p->calib_zone = -1;
	snprintf(p->how_pfn, sizeof(p->how_pfn), "not calibrated");
	snprintf(p->how_zone, sizeof(p->how_zone), "not calibrated");
	if (!btf) {
		snprintf(p->how_cma, sizeof(p->how_cma), "unknown: no kernel BTF");
		return;
	}
	zones_from_btf(p, btf);
	/* MIGRATE_CMA exists only with CONFIG_CMA: no guessing from debugfs alone */
	p->kernel_cma = btf_has_enumerator(btf, "migratetype", "MIGRATE_CMA");
	if (!p->kernel_cma) {
		snprintf(p->how_cma, sizeof(p->how_cma),
			 "none: this kernel has no CMA (MIGRATE_CMA absent from its BTF: CONFIG_CMA off)");
		return;
	}
	n = cma_load(MM_CMA_DIR, p->cma, PLACE_MAX_CMA, why, sizeof(why));
	if (n > 0) {
		p->ncma = n;
		snprintf(p->how_cma, sizeof(p->how_cma), "%d range(s) from %s", n, MM_CMA_DIR);
	} else {
		snprintf(p->how_cma, sizeof(p->how_cma), "kernel has CMA, areas unknown: %s%s",
			 why[0] ? why : "no areas", n < 0 ? "" : "");
	}
}

/* Our own anonymous page and its frame number; NULL when pagemap will not tell. */
static void *calibration_page(__u64 *pfn, char *why, size_t len)
{
	void *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t v = 0;
	int fd, err;

	if (pg == MAP_FAILED) {
		snprintf(why, len, "mmap: %s", strerror(errno));
		return NULL;
	}
	memset(pg, 0x5a, 4096);
	mlock(pg, 4096);	/* best effort: it must not move while we look */
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	err = fd < 0 ? -errno : pagemap_pfn(fd, pg, &v);
	if (fd >= 0)
		close(fd);
	if (err) {
		snprintf(why, len, "/proc/self/pagemap: %s", strerror(-err));
		munmap(pg, 4096);
		return NULL;
	}
	*pfn = v;
	return pg;
}

/* Our anonymous page, at its own virtual page number, with a reference: nothing else. */
static bool base_checks_out(const struct pt_calib *c, const void *pg)
{
	return c->vmemmap_base && (c->mapping & 1) && c->refcount >= 1 &&
	       (!c->index || c->index == (__u64)(uintptr_t)pg / 4096);
}

/*
 * The struct page GUP takes for our page: vmsplice it into a pipe while
 * the grab hook records (instead of reporting) this thread's grabs. Closing
 * the pipe drops the reference. 0 when nothing was seen.
 */
static __u64 vmemmap_from_gup(struct session *s, void *pg, __u64 pfn, __u32 page_size)
{
	struct iovec iov = { .iov_base = pg, .iov_len = 4096 };
	__u64 head;
	bool spliced;
	int fd[2];

	if (!page_size || pipe2(fd, O_CLOEXEC))
		return 0;
	session_calib_capture(s, (__u32)syscall(SYS_gettid));
	spliced = vmsplice(fd[1], &iov, 1, 0) == 4096;
	head = session_calib_grab(s);	/* stops the capture either way */
	if (!spliced)
		head = 0;
	close(fd[0]);
	close(fd[1]);
	return head > pfn * page_size ? head - pfn * page_size : 0;
}

/* Zone bits from the calibration page: every zone zoneinfo spans it with must agree. */
static int solve_shift(struct place *p, const struct pt_calib *c, char *why, size_t len)
{
	struct mm_zone z[MAX_ZONEINFO];
	const char *names[PLACE_MAX_ZONES + 1];
	int idx[8], n, m, shift = -1;
	FILE *f = fopen("/proc/zoneinfo", "re");

	if (!f) {
		snprintf(why, len, "/proc/zoneinfo: %s", strerror(errno));
		return -1;
	}
	n = zoneinfo_parse(f, z, MAX_ZONEINFO);
	fclose(f);
	if (n < 0 && n != -ENOSPC) {
		snprintf(why, len, "/proc/zoneinfo: %s", strerror(-n));
		return -1;
	}
	if (n == -ENOSPC)
		n = MAX_ZONEINFO;
	for (int i = 0; i < p->nzones; i++)
		names[i] = p->zone_names[i];
	m = zoneinfo_find(z, n, c->pfn, idx, 8);
	if (m <= 0) {
		snprintf(why, len, "pfn 0x%llx is in no zone /proc/zoneinfo spans",
			 (unsigned long long)c->pfn);
		return -1;
	}
	for (int i = 0; i < (m > 8 ? 8 : m); i++) {
		int zi = mm_zone_index(z[idx[i]].name, names, p->nzones), s;

		if (zi < 0 || zone_shift_solve(c->flags, z[idx[i]].node, zi, p->zones_width,
					       MAX_NODES_SHIFT, &s))
			continue;
		if (shift >= 0 && s != shift) {
			snprintf(why, len, "ambiguous: zones overlapping pfn 0x%llx give shifts %d and %d",
				 (unsigned long long)c->pfn, shift, s);
			return -1;
		}
		shift = s;
		p->calib_zone = zi;
	}
	if (shift < 0)
		snprintf(why, len, "the flags of pfn 0x%llx (0x%llx) match none of its %d zone(s)",
			 (unsigned long long)c->pfn, (unsigned long long)c->flags, m);
	return shift;
}

void place_calibrate(struct place *p, struct session *s)
{
	struct pt_calib c = {};
	struct kconfig_paths kp;
	char why[160] = "";
	int cfg_shift = -1, ns, shift = -1;
	void *pg;

	if (kconfig_default_paths(&kp, NULL) > 0 &&
	    (ns = kconfig_nodes_shift(kp.path, KCONFIG_NPATHS)) >= 0 && p->zones_width)
		cfg_shift = 64 - ns - p->zones_width;
	pg = calibration_page(&c.pfn, why, sizeof(why));
	c.guess = VMEMMAP_GUESS;
	if (!pg) {
		snprintf(p->how_pfn, sizeof(p->how_pfn), "unknown: %s", why);
	} else if (session_calibrate(s, &c) || c.err) {
		snprintf(p->how_pfn, sizeof(p->how_pfn), "unknown: reading struct page failed (%s)",
			 strerror(c.err ? -c.err : errno));
	} else {
		/* PINTRACE_CALIBRATE=gup: the path for kernels without the symbol, on any kernel */
		const char *force = getenv("PINTRACE_CALIBRATE");
		const char *src = c.exported ? "kallsyms" : "not exported: the default layout";
		bool ok = !(force && !strcmp(force, "gup")) && base_checks_out(&c, pg);

		if (!ok && (c.guess = vmemmap_from_gup(s, pg, c.pfn, c.page_size))) {
			c.use_guess = 1;
			src = "from a GUP of our page";
			ok = !session_calibrate(s, &c) && !c.err && base_checks_out(&c, pg);
		}
		if (ok) {
			p->pfn_known = true;
			p->vmemmap = c.vmemmap_base;
			p->page_size = c.page_size;
			p->calib_pfn = c.pfn;
			snprintf(p->how_pfn, sizeof(p->how_pfn), "vmemmap_base 0x%llx (%s), checked "
				 "with our page at pfn 0x%llx", (unsigned long long)p->vmemmap, src,
				 (unsigned long long)c.pfn);
			shift = solve_shift(p, &c, why, sizeof(why));
		} else {
			snprintf(p->how_pfn, sizeof(p->how_pfn), "unknown: no vmemmap_base checks out "
				 "with our page at pfn 0x%llx (%s; the default layout and a GUP of the page "
				 "did not either)", (unsigned long long)c.pfn, c.exported ?
				 "the exported one did not" : "the kernel exports none: CONFIG_KALLSYMS_ALL off");
		}
	}
	if (pg)
		munmap(pg, 4096);
	if (shift >= 0) {
		p->zone_known = true;
		p->zone_shift = (__u8)shift;
		snprintf(p->how_zone, sizeof(p->how_zone), "page->flags bits %d-%d, calibrated with pfn "
			 "0x%llx in zone %s%s", shift, shift + p->zones_width - 1,
			 (unsigned long long)p->calib_pfn, place_zone_name(p, (__u8)p->calib_zone),
			 cfg_shift < 0 ? "" : cfg_shift == shift ? "; agrees with the kernel config" :
			 "; the kernel config says otherwise");
	} else if (cfg_shift >= 0 && p->pfn_known) {
		/* calibration could not decide; the config is the kernel's own word */
		p->zone_known = true;
		p->zone_shift = (__u8)cfg_shift;
		snprintf(p->how_zone, sizeof(p->how_zone), "page->flags bits %d-%d from the kernel "
			 "config (not calibrated: %s)", cfg_shift, cfg_shift + p->zones_width - 1, why);
	} else if (p->pfn_known || why[0]) {
		snprintf(p->how_zone, sizeof(p->how_zone), "unknown: %s", why[0] ? why : "no kernel config");
	}
	if (!p->zones_width) {
		p->zone_known = false;
		snprintf(p->how_zone, sizeof(p->how_zone), "unknown: no enum zone_type in the kernel BTF");
	}
	p->zone_mask = (__u8)((1u << p->zones_width) - 1);
	session_set_place(s, p->pfn_known, p->vmemmap, p->zone_known, p->zone_shift, p->zone_mask);
}

const char *place_zone_name(const struct place *p, __u8 zone)
{
	if (!p || zone >= PLACE_MAX_ZONES || zone >= p->nzones || !p->zone_names[zone][0])
		return "?";
	return p->zone_names[zone];
}

bool place_unpinnable(const struct place *p, __u64 pfn, __u8 zone, bool *cma)
{
	*cma = p->ncma && pfn != PT_PFN_UNKNOWN && cma_find(p->cma, p->ncma, pfn) >= 0;
	if (*cma)
		return true;
	return p->zone_known && zone != PT_ZONE_UNKNOWN && p->movable >= 0 && zone == p->movable;
}

void place_print(const struct place *p, FILE *f)
{
	fprintf(f, "Page frames: %s\n", p->how_pfn);
	fprintf(f, "Zones:       %s\n", p->how_zone);
	fprintf(f, "CMA:         %s\n", p->how_cma);
	for (int i = 0; i < p->ncma; i++)
		fprintf(f, "  %s: pfn 0x%llx +%llu%s\n", p->cma[i].name,
			(unsigned long long)p->cma[i].base_pfn, (unsigned long long)p->cma[i].count,
			p->cma[i].exact ? "" : " (at most)");
}

json_object *place_json(const struct place *p)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(j, "pfn_known", json_object_new_boolean(p->pfn_known));
	json_object_object_add(j, "pfn", json_object_new_string(p->how_pfn));
	json_object_object_add(j, "zone_known", json_object_new_boolean(p->zone_known));
	json_object_object_add(j, "zone", json_object_new_string(p->how_zone));
	if (p->zone_known)
		json_object_object_add(j, "zone_shift", json_object_new_int(p->zone_shift));
	json_object_object_add(j, "kernel_cma", json_object_new_boolean(p->kernel_cma));
	json_object_object_add(j, "cma", json_object_new_string(p->how_cma));
	for (int i = 0; i < p->ncma; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "name", json_object_new_string(p->cma[i].name));
		json_object_object_add(r, "base_pfn", json_object_new_int64((int64_t)p->cma[i].base_pfn));
		json_object_object_add(r, "count", json_object_new_int64((int64_t)p->cma[i].count));
		json_object_object_add(r, "exact", json_object_new_boolean(p->cma[i].exact));
		json_object_array_add(a, r);
	}
	json_object_object_add(j, "cma_ranges", a);
	return j;
}
