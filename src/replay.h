/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef PT_REPLAY_H
#define PT_REPLAY_H

#include "opts.h"

/*
 * pintrace replay FILE: feed a recording (--record) through the live
 * pipeline and print the exit summary. Returns the process exit code.
 */
int replay_main(const struct pt_opts *o);

#endif
