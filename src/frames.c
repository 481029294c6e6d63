// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "frames.h"

static bool all_hex(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

const char *frame_stable(const char *frame, char *buf, size_t len)
{
	const char *mod = strstr(frame, " [");
	size_t n = strcspn(frame, "+. [");

	if (!len)
		return buf;
	if (!strncmp(frame, "0x", 2) && all_hex(frame + 2)) {
		snprintf(buf, len, "?");
		return buf;
	}
	/* "func" or "func [module]"; a name that starts with '.' stays whole */
	if (!n)
		n = strcspn(frame, "+ [");
	if (mod)
		snprintf(buf, len, "%.*s%s", (int)n, frame, mod);
	else
		snprintf(buf, len, "%.*s", (int)n, frame);
	return buf;
}

/*
 * Prefixes of GUP's own functions, across 6.1 .. 6.18: the chokepoints,
 * the page-table walkers of the slow and fast paths, and the API entry
 * points with their internal helpers.
 */
static const char *const gup_prefixes[] = {
	"try_grab_", "folio_add_pin", "gup_", "__gup_", "follow_", "__follow_",
	"get_user_pages", "__get_user_pages", "pin_user_pages", "__pin_user_pages",
	"internal_get_user_pages", "lockless_pages_from_mm", "faultin_page",
	"memfd_pin_folios", "is_valid_gup_args", "record_subpages",
};

bool frame_internal(const char *frame)
{
	for (size_t i = 0; i < sizeof(gup_prefixes) / sizeof(gup_prefixes[0]); i++)
		if (!strncmp(frame, gup_prefixes[i], strlen(gup_prefixes[i])))
			return true;
	return false;
}

size_t frames_first_caller(const char *const *frames, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!frame_internal(frames[i]))
			return i;
	return 0;
}
