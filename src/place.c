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
#include <sys/klog.h>
#include <sys/mman.h>
#include <bpf/btf.h>
#include "ksyms.h"
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

static unsigned int page_shift(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (unsigned int)__builtin_ctzl((unsigned long)ps) : 12;
}

/* An area's ranges into P->cma; false when not all of them fit or were read. */
static bool add_area(struct place *p, const struct pt_cma_area *a)
{
	for (__u32 j = 0; j < a->nranges && j < PT_CMA_RANGES; j++) {
		struct mm_cma *c = &p->cma[p->ncma];

		if (!a->count[j])
			continue;
		if (p->ncma == PLACE_MAX_CMA)
			return false;
		snprintf(c->name, sizeof(c->name), "%.*s", (int)sizeof(a->name), a->name);
		c->base_pfn = a->base_pfn[j];
		c->count = a->count[j];
		c->exact = true;
		p->ncma++;
	}
	return a->nranges >= a->kernel_nranges;
}

/*
 * The kernel's own table, cma_areas[cma_area_count], through BPF. Both are
 * data symbols: kallsyms lists them only with CONFIG_KALLSYMS_ALL (Debian
 * amd64 and arm64 6.12; not arm64 6.1).
 */
static bool cma_from_kernel(struct place *p, bool force, char *why, size_t len)
{
	static const char *const syms[] = { "cma_areas", "cma_area_count" };
	unsigned long long addr[2];
	struct pt_cma_read r = {};
	bool all = true;
	int n, err;

	n = ksyms_data_lookup(NULL, syms, addr, 2);
	if (n < 0) {
		snprintf(why, len, "/proc/kallsyms: %s", strerror(-n));
		return false;
	}
	if (n < 2 && !force) {
		/* kallsyms shows others zeros, and BPF is root's anyway */
		snprintf(why, len, geteuid() ? "not root: kallsyms hides kernel addresses" :
			 "no cma_areas symbol (CONFIG_KALLSYMS_ALL off)");
		return false;
	}
	r.areas = addr[0];
	r.count_addr = addr[1];
	err = session_read_cma(&r);
	if (err || r.err) {
		snprintf(why, len, "reading cma_areas with BPF failed (%s)",
			 strerror(err ? -err : -r.err));
		return false;
	}
	for (__u32 i = 0; i < r.n && all; i++)
		all = add_area(p, &r.area[i]);
	all &= r.n == r.total;
	cma_sort(p->cma, p->ncma);
	p->cma_source = PLACE_CMA_KALLSYMS;
	snprintf(p->how_cma, sizeof(p->how_cma), "%d range(s) of %u area(s) from the kernel's "
		 "cma_areas (kallsyms, read with BPF)%s", p->ncma, r.total,
		 all ? "" : "; not all of them: more than pintrace keeps");
	return true;
}

/* Linux's SYSLOG_ACTION_*: glibc has klogctl() but not the names. */
#define KLOG_READ_ALL		3
#define KLOG_SIZE_BUFFER	10

/* The "cma: Reserved" lines of the kernel log: ranges, no names. */
static bool cma_from_boot_log(struct place *p, const char *not_kernel, char *why, size_t len)
{
	int size = klogctl(KLOG_SIZE_BUFFER, NULL, 0), n = -1;
	char *buf = size > 0 ? malloc((size_t)size) : NULL;
	bool more;

	if (buf)
		n = klogctl(KLOG_READ_ALL, buf, size);
	if (n < 0) {
		snprintf(why, len, "the boot log is unreadable (%s)", buf || size < 0 ?
			 strerror(errno) : "no log buffer");
		free(buf);
		return false;
	}
	n = cma_from_log(buf, (size_t)n, page_shift(), p->cma, PLACE_MAX_CMA);
	free(buf);
	more = n == -ENOSPC;
	if (more)
		n = PLACE_MAX_CMA;
	if (n <= 0) {
		snprintf(why, len, "the boot log has no 'cma: Reserved' lines (rotated out?)");
		return false;
	}
	p->ncma = n;
	p->cma_unnamed = n >= 32 ? ~0u : (1u << n) - 1;
	p->cma_source = PLACE_CMA_BOOT_LOG;
	snprintf(p->how_cma, sizeof(p->how_cma), "%d range(s) from the boot log ('cma: Reserved' "
		 "lines)%s: bases and sizes only, the log does not name areas (%s)", n,
		 more ? ", more not kept" : "", not_kernel);
	return true;
}

/*
 * The first source that tells, in order; how_cma says which, or why none
 * did. PINTRACE_CMA, for tests: "log" goes straight to the boot log, "bpf"
 * runs the BPF read even without the symbols (it must load everywhere).
 */
static void cma_init(struct place *p)
{
	const char *force = getenv("PINTRACE_CMA");
	bool log = force && !strcmp(force, "log"), bpf = force && !strcmp(force, "bpf");
	char dfs[200] = "", ks[120] = "", klog[120] = "";
	int n = log ? 0 : cma_load(MM_CMA_DIR, p->cma, PLACE_MAX_CMA, dfs, sizeof(dfs));

	if (log)
		snprintf(dfs, sizeof(dfs), "debugfs and kallsyms skipped (PINTRACE_CMA=log)");
	if (n > 0) {
		p->ncma = n;
		p->cma_source = PLACE_CMA_DEBUGFS;
		snprintf(p->how_cma, sizeof(p->how_cma), "%d range(s) from %s", n, MM_CMA_DIR);
		return;
	}
	if ((!log && cma_from_kernel(p, bpf, ks, sizeof(ks))) ||
	    cma_from_boot_log(p, log ? dfs : ks, klog, sizeof(klog)))
		return;
	p->ncma = 0;
	p->cma_source = PLACE_CMA_UNKNOWN;
	snprintf(p->how_cma, sizeof(p->how_cma), "kernel has CMA; areas unknown: %s; %s%s%s",
		 dfs[0] ? dfs : "no CMA debugfs", ks, ks[0] ? "; " : "", klog);
}

void place_init(struct place *p, const struct btf *btf)
{
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
		p->cma_source = PLACE_CMA_NONE;
		snprintf(p->how_cma, sizeof(p->how_cma),
			 "none: this kernel has no CMA (MIGRATE_CMA absent from its BTF: CONFIG_CMA off)");
		return;
	}
	cma_init(p);
}

void place_cma_name(struct place *p, __u64 pfn, const char *name)
{
	int i;

	if (!p->cma_unnamed || !name || !name[0])
		return;
	i = cma_find(p->cma, p->ncma, pfn);
	if (i < 0 || i >= 32 || !(p->cma_unnamed & (1u << i)))
		return;
	snprintf(p->cma[i].name, sizeof(p->cma[i].name), "%s", name);
	p->cma_unnamed &= ~(1u << i);
	if (!p->cma_renamed) {
		size_t l = strlen(p->how_cma);

		p->cma_renamed = true;
		snprintf(p->how_cma + l, sizeof(p->how_cma) - l, "; names from the cma tracepoints");
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
	int idx[8], n, m, shift = -1, ambiguous = -1;
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
		int zi = mm_zone_index(z[idx[i]].name, names, p->nzones), s, err;

		err = zi < 0 ? -ENOENT : zone_shift_solve(c->flags, z[idx[i]].node, zi,
							  p->zones_width, MAX_NODES_SHIFT, &s);
		if (err == -EEXIST)
			ambiguous = zi;
		if (err)
			continue;
		if (shift >= 0 && s != shift) {
			snprintf(why, len, "ambiguous: zones overlapping pfn 0x%llx give shifts %d and %d",
				 (unsigned long long)c->pfn, shift, s);
			return -1;
		}
		shift = s;
		p->calib_zone = zi;
	}
	/*
	 * Node 0's first zone has all-zero bits: every position fits. Only
	 * a page of another zone (or the kernel config's NODES_SHIFT) tells.
	 */
	if (shift < 0 && ambiguous >= 0)
		snprintf(why, len, "ambiguous: pfn 0x%llx is in zone %s of node 0, whose bits are "
			 "all zero, so any position fits (flags 0x%llx)", (unsigned long long)c->pfn,
			 place_zone_name(p, (__u8)ambiguous), (unsigned long long)c->flags);
	else if (shift < 0)
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

static const char *const cma_sources[] = {
	[PLACE_CMA_UNKNOWN] = "unknown",
	[PLACE_CMA_NONE] = "none",
	[PLACE_CMA_DEBUGFS] = "debugfs",
	[PLACE_CMA_KALLSYMS] = "kallsyms",
	[PLACE_CMA_BOOT_LOG] = "boot-log",
};

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
	json_object_object_add(j, "cma_source", json_object_new_string(cma_sources[p->cma_source]));
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
