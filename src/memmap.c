// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Where a physical page lives; the interface and the kernel formats it
 * relies on are described in memmap.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <zlib.h>

#include "memmap.h"

int mm_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	s += strspn(s, " \t\n");
	if (!isdigit((unsigned char)*s))	/* strtoull would take "-1" */
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || end[strspn(end, " \t\n")] ? -EINVAL : 0;
}

/* "Node 0, zone   Normal": fills node and name, or fails on anything else. */
static int parse_zone_header(const char *line, struct mm_zone *z)
{
	char name[sizeof(z->name)];
	int node, end = 0;

	/* the last test rejects a name too long for the buffer, or junk after it */
	if (sscanf(line, "Node %d, zone %15s%n", &node, name, &end) != 2 || node < 0 ||
	    line[end + strspn(line + end, " \t\n")])
		return -EINVAL;
	*z = (struct mm_zone){ .node = node, .start_pfn = MM_PFN_UNKNOWN };
	snprintf(z->name, sizeof(z->name), "%s", name);
	return 0;
}

/* One "key value" line of the current zone; unknown keys are skipped. */
static void parse_zone_field(const char *line, struct mm_zone *z)
{
	char key[32], val[32];
	uint64_t v;

	if (sscanf(line, " %31s %31s", key, val) != 2 || mm_parse_u64(val, &v))
		return;
	if (!strcmp(key, "spanned"))
		z->spanned = v;
	else if (!strcmp(key, "present"))
		z->present = v;
	else if (!strcmp(key, "managed"))
		z->managed = v;
	else if (!strcmp(key, "start_pfn:"))
		z->start_pfn = v;
}

int zoneinfo_parse(FILE *f, struct mm_zone *out, int max)
{
	struct mm_zone *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	int n = 0, err = 0;

	if (!f || !out || max < 0)
		return -EINVAL;
	while (getline(&line, &cap, f) >= 0) {
		if (!strncmp(line, "Node ", 5)) {
			struct mm_zone z;

			cur = NULL;
			if (parse_zone_header(line, &z))
				continue;
			if (n == max) {
				err = -ENOSPC;
				break;
			}
			out[n] = z;
			cur = &out[n++];
		} else if (cur) {
			parse_zone_field(line, cur);
		}
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	return err ? err : n ? n : -ENODATA;
}

int zoneinfo_find(const struct mm_zone *z, int n, uint64_t pfn, int *idx_out, int max)
{
	int i, found = 0;

	if ((!z && n > 0) || (!idx_out && max > 0) || max < 0)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		/* written as a difference so that start + spanned cannot overflow */
		if (z[i].start_pfn == MM_PFN_UNKNOWN || pfn < z[i].start_pfn ||
		    pfn - z[i].start_pfn >= z[i].spanned)
			continue;
		if (found == max)
			return -ENOSPC;
		idx_out[found++] = i;
	}
	return found;
}

int mm_zone_index(const char *zoneinfo_name, const char *const *enum_names, int n_enum)
{
	int i;

	if (!zoneinfo_name || !*zoneinfo_name || (!enum_names && n_enum > 0))
		return -EINVAL;
	for (i = 0; i < n_enum; i++) {
		const char *e = enum_names[i] ? enum_names[i] : "";

		e += strncasecmp(e, "ZONE_", 5) ? 0 : 5;
		if (!strcasecmp(e, zoneinfo_name))
			return i;
	}
	return -ENOENT;
}

int mm_zones_width(int nr_zones)
{
	int w = 0;

	while (w < 31 && (1 << w) < nr_zones)
		w++;
	return w;
}

int zone_shift_solve(uint64_t flags, int node, int zone_idx, int zones_width,
		     int max_nodes_shift, int *shift_out)
{
	int n, shift, found = 0, best = -1;

	if (!shift_out || zones_width < 1 || zones_width > 8 || node < 0 ||
	    zone_idx < 0 || zone_idx >= (1 << zones_width) ||
	    max_nodes_shift < 0 || max_nodes_shift > 64 - zones_width - 1)
		return -EINVAL;
	for (n = 0; n <= max_nodes_shift; n++) {
		uint64_t zone, nid;

		shift = 64 - n - zones_width;
		zone = (flags >> shift) & ((1ULL << zones_width) - 1);
		nid = n ? flags >> (64 - n) : 0;	/* >> 64 is undefined */
		if (zone == (uint64_t)zone_idx && nid == (uint64_t)node) {
			found++;
			best = shift;
		}
	}
	if (found != 1)
		return found ? -EEXIST : -ENOENT;
	*shift_out = best;
	return 0;
}

/*
 * One config file: 0..N from it, -1 when it does not tell. Only whole lines
 * are looked at: gzgets() splits a line longer than the buffer, and its
 * tail must not be read as a line of its own.
 */
static int kconfig_file(const char *path)
{
	char line[512];
	bool at_start = true;
	int ret = -1;
	gzFile gz;

	gz = gzopen(path, "rb");	/* reads plain text files as well */
	if (!gz)
		return -1;
	while (ret < 0 && gzgets(gz, line, sizeof(line))) {
		bool whole = at_start;
		uint64_t v;

		at_start = strchr(line, '\n') != NULL;
		if (!whole)
			continue;
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "# CONFIG_NUMA is not set"))
			ret = 0;
		else if (!strncmp(line, "CONFIG_NODES_SHIFT=", 19) &&
			 !mm_parse_u64(line + 19, &v) && v <= 16)
			ret = (int)v;
	}
	gzclose(gz);
	return ret;
}

int kconfig_nodes_shift(const char *const *paths, int npaths)
{
	int i, v;

	for (i = 0; paths && i < npaths; i++) {
		if (paths[i] && (v = kconfig_file(paths[i])) >= 0)
			return v;
	}
	return -1;
}

int kconfig_default_paths(struct kconfig_paths *kp, const char *release)
{
	struct utsname u;
	int i;

	if (!kp)
		return -EINVAL;
	if (!release) {
		if (uname(&u))
			return -errno;
		release = u.release;
	}
	snprintf(kp->buf[0], sizeof(kp->buf[0]), "/proc/config.gz");
	snprintf(kp->buf[1], sizeof(kp->buf[1]), "/boot/config-%s", release);
	snprintf(kp->buf[2], sizeof(kp->buf[2]), "/lib/modules/%s/config", release);
	for (i = 0; i < KCONFIG_NPATHS; i++)
		kp->path[i] = kp->buf[i];
	return KCONFIG_NPATHS;
}

int pagemap_pfn(int pagemap_fd, const void *addr, uint64_t *pfn)
{
	long psize = sysconf(_SC_PAGESIZE);
	uint64_t e;
	ssize_t r;

	if (!pfn || psize <= 0)
		return -EINVAL;
	/* one 64-bit entry per virtual page */
	r = pread(pagemap_fd, &e, sizeof(e), (off_t)((uintptr_t)addr / psize * sizeof(e)));
	if (r < 0)
		return -errno;
	if (r != sizeof(e))
		return -EIO;
	if (!(e >> 63))		/* bit 63: present (bit 62, swapped, is not) */
		return -ENOENT;
	e &= (1ULL << 55) - 1;	/* bits 0-54: PFN */
	if (!e)
		return -EPERM;
	*pfn = e;
	return 0;
}
