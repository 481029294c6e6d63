// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pintrace diff: finding the summary in a run's output, the NDJSON stream
 * of `pintrace -o json` (or just its summary object).
 *
 * The input is parsed by json-c, strictly (no single quotes, no trailing
 * commas), with UTF-8 validated and json-c's nesting limit. Records are
 * parsed one at a time and dropped unless they are the summary: memory
 * stays bounded by the largest record, not by the stream. What the
 * summary says is diff_summary.c's business.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "diff.h"
#include "output.h"

#define READ_CHUNK	65536

struct loader {
	struct diff_run *r;
	json_tokener *tok;
	json_object *summary;	/* the last "summary" record */
	json_object *untyped;	/* the first record without "type" */
	size_t nrecords, nuntyped;
	size_t line, rec_line;	/* 1-based: where we are, where the record began */
	bool pending;		/* the tokener holds part of a record */
	char *err;
	size_t errlen;
};

static int fail(struct loader *l, int code, const char *fmt, ...)
{
	size_t n;
	va_list ap;

	snprintf(l->err, l->errlen, "%s: ", l->r->name);
	n = strlen(l->err);
	va_start(ap, fmt);
	vsnprintf(l->err + n, l->errlen - n, fmt, ap);
	va_end(ap);
	return code;
}

static const char *type_desc(json_object *f)
{
	return json_type_to_name(json_object_get_type(f));
}

static int check_attach(struct loader *l, json_object *o)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "schema_version", &v))
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return fail(l, -EINVAL, "line %zu: attach record: schema_version: expected an "
			    "integer, got %s", l->rec_line, type_desc(v));
	if (json_object_get_int64(v) > PT_SCHEMA_VERSION || json_object_get_int64(v) < 1)
		return fail(l, -EINVAL, "line %zu: schema_version %lld: this pintrace reads "
			    "versions 1 to %d (written by a newer pintrace?)", l->rec_line,
			    (long long)json_object_get_int64(v), PT_SCHEMA_VERSION);
	return 0;
}

/* One top-level value; takes @o. */
static int on_record(struct loader *l, json_object *o)
{
	json_object *t;
	int err = 0;

	l->nrecords++;
	if (!json_object_is_type(o, json_type_object)) {
		err = fail(l, -EINVAL, "line %zu: a record is %s, not a JSON object", l->rec_line,
			   type_desc(o));
	} else if (!json_object_object_get_ex(o, "type", &t)) {
		if (!l->nuntyped++) {
			l->untyped = o;
			return 0;
		}
	} else if (!json_object_is_type(t, json_type_string)) {
		err = fail(l, -EINVAL, "line %zu: \"type\": expected a string, got %s", l->rec_line,
			   type_desc(t));
	} else if (!strcmp(json_object_get_string(t), "summary")) {
		json_object_put(l->summary);
		l->summary = o;
		return 0;
	} else if (!strcmp(json_object_get_string(t), "attach")) {
		err = check_attach(l, o);
	}
	json_object_put(o);
	return err;
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;

	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
		n++;
	return n;
}

static int feed(struct loader *l, const char *buf, size_t len)
{
	while (len) {
		enum json_tokener_error jerr;
		json_object *o;
		size_t chunk, used;

		if (!l->pending) {
			while (len && (*buf == ' ' || *buf == '\t' || *buf == '\r' || *buf == '\n')) {
				l->line += *buf == '\n';
				buf++;
				len--;
			}
			if (!len)
				break;
			l->rec_line = l->line;
		}
		chunk = len > INT_MAX ? INT_MAX : len;	/* json-c takes an int */
		o = json_tokener_parse_ex(l->tok, buf, (int)chunk);
		jerr = json_tokener_get_error(l->tok);
		if (jerr == json_tokener_continue) {
			l->line += count_lines(buf, chunk);
			l->pending = true;
			buf += chunk;
			len -= chunk;
			continue;
		}
		if (jerr != json_tokener_success)
			return fail(l, -EINVAL, "line %zu: not JSON: %s", l->rec_line,
				    json_tokener_error_desc(jerr));
		used = json_tokener_get_parse_end(l->tok);
		if (!used || used > chunk) {	/* cannot happen: no progress would loop */
			json_object_put(o);
			return fail(l, -EINVAL, "line %zu: not JSON", l->rec_line);
		}
		l->line += count_lines(buf, used);
		buf += used;
		len -= used;
		l->pending = false;
		json_tokener_reset(l->tok);
		if (on_record(l, o))
			return -EINVAL;
	}
	return 0;
}

static int finish(struct loader *l)
{
	json_object *s;

	/* a number at the very end waits for its terminator: give it one */
	if (l->pending) {
		int err = feed(l, "\n", 1);

		if (err)
			return err;
		if (l->pending)
			return fail(l, -EINVAL, "line %zu: truncated JSON record", l->rec_line);
	}
	if (!l->nrecords)
		return fail(l, -EINVAL, "empty: no JSON records");
	s = l->summary;
	if (!s && l->nuntyped == 1 && l->nrecords == 1 &&
	    json_object_object_get_ex(l->untyped, "pins", NULL))
		s = l->untyped;	/* a bare summary object, "type" stripped */
	if (!s)
		return fail(l, -EINVAL, "no \"summary\" record (the output of a run that did "
			    "not finish?)");
	return diff_run_from_summary(s, l->r, l->err, l->errlen);
}

static int loader_init(struct loader *l, struct diff_run *r, const char *name, char *err,
		       size_t errlen)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	*l = (struct loader){ .r = r, .line = 1, .err = err, .errlen = errlen };
	l->tok = json_tokener_new();
	if (!l->tok)
		return fail(l, -ENOMEM, "out of memory");
	json_tokener_set_flags(l->tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
			       JSON_TOKENER_VALIDATE_UTF8);
	return 0;
}

static int loader_done(struct loader *l, int err)
{
	json_tokener_free(l->tok);
	json_object_put(l->summary);
	json_object_put(l->untyped);
	if (err == -ENOMEM && !l->err[0])
		fail(l, err, "out of memory");
	if (err)
		diff_run_free(l->r);
	return err;
}

int diff_load_mem(const char *buf, size_t len, const char *name, struct diff_run *r,
		  char *err, size_t errlen)
{
	struct loader l;
	int e;

	err[0] = '\0';
	e = loader_init(&l, r, name, err, errlen);
	if (e)
		return e;
	e = feed(&l, buf, len);
	return loader_done(&l, e ?: finish(&l));
}

int diff_load_file(const char *path, struct diff_run *r, char *err, size_t errlen)
{
	struct loader l;
	char *chunk;
	ssize_t n;
	int fd, e;

	err[0] = '\0';
	e = loader_init(&l, r, path, err, errlen);
	if (e)
		return e;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return loader_done(&l, fail(&l, -EINVAL, "cannot open: %s", strerror(errno)));
	chunk = malloc(READ_CHUNK);
	if (!chunk)
		e = -ENOMEM;
	while (!e && (n = read(fd, chunk, READ_CHUNK)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		e = n < 0 ? fail(&l, -EINVAL, "cannot read: %s", strerror(errno)) :
			    feed(&l, chunk, (size_t)n);
	}
	free(chunk);
	close(fd);
	return loader_done(&l, e ?: finish(&l));
}
