/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * floor(log2(v)), 0 for v <= 1: the slot of the loader's log2 histograms
 * (src/hist.c hist_slot()), without loops or builtins the BPF backend may
 * lack. Plain C, so the unit tests check it against hist_slot().
 */
#ifndef PT_LOG2_BPF_H
#define PT_LOG2_BPF_H

static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, s;

	r = (v > 0xffff) << 4;
	v >>= r;
	s = (v > 0xff) << 3;
	v >>= s;
	r |= s;
	s = (v > 0xf) << 2;
	v >>= s;
	r |= s;
	s = (v > 0x3) << 1;
	v >>= s;
	r |= s;
	return r | (v >> 1);
}

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32((__u32)v);
}

#endif /* PT_LOG2_BPF_H */
