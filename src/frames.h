/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_FRAMES_H
#define PT_FRAMES_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Kernel stack frames as pintrace prints them ("func+0xoff",
 * "func+0xoff [module]", "0x<hex>" when unsymbolized): what is stable
 * across kernel builds, and which frames say who pinned. Pure string
 * functions, shared by the exit summary and `pintrace diff`.
 */

/*
 * The part of @frame that survives a rebuild, into @buf: "func" or
 * "func [module]". The offset goes, and so does a compiler clone suffix
 * (".isra.0", ".constprop.0", ".cold": their numbering changes with the
 * build, and they are the same source function). An unsymbolized address
 * becomes "?" (KASLR moves it on every boot). Returns @buf.
 */
const char *frame_stable(const char *frame, char *buf, size_t len);

/*
 * True for the GUP machinery itself (the grab chokepoints, the walkers,
 * the pin/get API functions): the API is reported next to a stack anyway,
 * and the frames that tell stacks apart are its callers.
 */
bool frame_internal(const char *frame);

/*
 * Index of the first frame of @frames (@n of them, innermost first) that
 * is not frame_internal(); 0 when all are, so that a caller shows the
 * innermost frames rather than nothing.
 */
size_t frames_first_caller(const char *const *frames, size_t n);

#endif
