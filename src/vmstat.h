/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_VMSTAT_H
#define PT_VMSTAT_H

#include <stdbool.h>

/* The kernel's own pin counters: the cross-check of pintrace's counts. */
struct vmstat_pins {
	long long acquired, released;
	bool ok;
};

/*
 * Fold the per-CPU counter deltas first (vm.stat_refresh, root only) so the
 * values are exact, then read nr_foll_pin_acquired/nr_foll_pin_released.
 */
void vmstat_read_pins(struct vmstat_pins *v);

#endif
