// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "vmstat.h"

void vmstat_read_pins(struct vmstat_pins *v)
{
	char name[64];
	long long val;
	int found = 0;
	FILE *f;

	memset(v, 0, sizeof(*v));
	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);	/* an error only means less exact values */
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return;
	while (fscanf(f, "%63s %lld", name, &val) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired")) {
			v->acquired = val;
			found++;
		} else if (!strcmp(name, "nr_foll_pin_released")) {
			v->released = val;
			found++;
		}
	}
	fclose(f);
	v->ok = found == 2;
}
