// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util.h"

int parse_duration(const char *s, __u64 *ns)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
		{ "", 1e9 },
	};
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].sfx))
			continue;
		if (v * units[i].mul > 1e18)
			return -ERANGE;
		*ns = (__u64)(v * units[i].mul);
		return 0;
	}
	return -EINVAL;
}

int parse_size(const char *s, size_t *bytes)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	if (v > (1ULL << 32))
		return -EINVAL;	/* before the shifts below, which could wrap */
	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	case '\0': break;
	default: return -EINVAL;
	}
	if (*end || v > (1ULL << 32))
		return -EINVAL;
	*bytes = v;
	return 0;
}

const char *fmt_duration(__u64 ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

const char *fmt_bytes(__u64 n, char *buf, size_t len)
{
	if (n < 1024)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(buf, len, "%.1f KiB", n / 1024.0);
	else if (n < 1024ULL * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", n / (1024.0 * 1024));
	else
		snprintf(buf, len, "%.2f GiB", n / (1024.0 * 1024 * 1024));
	return buf;
}

__u64 now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Length of a valid UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* reject overlong forms, surrogates and out-of-range code points */
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * Code points a terminal acts on or that reorder the line: C1 controls
 * (U+0080..U+009F, U+009B is CSI) and the bidi overrides and isolates.
 */
static bool invisible(const unsigned char *p, size_t l)
{
	if (l == 2)
		return p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
	if (l == 3 && p[0] == 0xe2 && p[1] == 0x80)
		return (p[2] >= 0xa8 && p[2] <= 0xae);	/* U+2028..U+202E */
	if (l == 3 && p[0] == 0xe2 && p[1] == 0x81)
		return p[2] >= 0xa6 && p[2] <= 0xa9;	/* U+2066..U+2069 */
	return false;
}

static size_t bounded_len(const char *in, size_t inlen)
{
	const char *nul = memchr(in, '\0', inlen);

	return nul ? (size_t)(nul - in) : inlen;
}

const char *sanitize_text(const char *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = bounded_len(in, inlen), o = 0;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(p + i, n - i);
		bool printable = (l > 1 && !invisible(p + i, l)) ||
				 (l == 1 && p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\');

		if (printable) {
			if (o + l >= outlen)
				break;
			memcpy(out + o, p + i, l);
			o += l;
			i += l;
		} else {
			/* escape every byte of the sequence (one for invalid UTF-8) */
			size_t k = l ? l : 1;

			if (o + 4 * k >= outlen)
				break;
			for (size_t b = 0; b < k; b++, o += 4)
				snprintf(out + o, outlen - o, "\\x%02x", p[i + b]);
			i += k;
		}
	}
	out[o] = '\0';
	return out;
}

const char *sanitize_utf8(const char *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t n = bounded_len(in, inlen), o = 0;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(p + i, n - i);
		const char *src = (const char *)p + i;

		if (!l) {
			src = "\xef\xbf\xbd";	/* U+FFFD */
			l = 3;
			i++;
		} else {
			i += l;
		}
		if (o + l >= outlen)
			break;
		memcpy(out + o, src, l);
		o += l;
	}
	out[o] = '\0';
	return out;
}
