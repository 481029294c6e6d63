// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Durations, sizes, and making hostile task names safe for text and JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>
#include "output.h"
#include "util.h"

static void test_durations(void **state)
{
	__u64 ns;

	assert_int_equal(parse_duration("300ms", &ns), 0);
	assert_int_equal(ns, 300000000ULL);
	assert_int_equal(parse_duration("2", &ns), 0);
	assert_int_equal(ns, 2000000000ULL);
	assert_int_equal(parse_duration("1.5s", &ns), 0);
	assert_int_equal(ns, 1500000000ULL);
	assert_int_equal(parse_duration("250us", &ns), 0);
	assert_int_equal(ns, 250000ULL);
	assert_int_equal(parse_duration("2m", &ns), 0);
	assert_int_equal(ns, 120000000000ULL);
	assert_int_not_equal(parse_duration("", &ns), 0);
	assert_int_not_equal(parse_duration("ms", &ns), 0);
	assert_int_not_equal(parse_duration("-1s", &ns), 0);
	assert_int_not_equal(parse_duration("5parsecs", &ns), 0);
	assert_int_not_equal(parse_duration("1e30h", &ns), 0);
	assert_int_not_equal(parse_duration("nan", &ns), 0);
	assert_int_not_equal(parse_duration("inf", &ns), 0);
}

static void test_sizes(void **state)
{
	size_t b;

	assert_int_equal(parse_size("4M", &b), 0);
	assert_int_equal(b, 4u << 20);
	assert_int_equal(parse_size("4096", &b), 0);
	assert_int_equal(b, 4096);
	assert_int_not_equal(parse_size("4X", &b), 0);
	assert_int_not_equal(parse_size("-4K", &b), 0);
	assert_int_not_equal(parse_size("99999999G", &b), 0);
	/* 2^54 G would wrap to a small power of two if checked after the shift */
	assert_int_not_equal(parse_size("18014398509481984G", &b), 0);
}

static void test_sanitize_text(void **state)
{
	char out[128];

	/* a comm is 16 bytes, not necessarily NUL-terminated in our copy */
	const char evil[16] = "a\nb\x1b[31m\x7f\xff";
	assert_string_equal(sanitize_text(evil, sizeof(evil), out, sizeof(out)),
			    "a\\x0ab\\x1b[31m\\x7f\\xff");
	assert_string_equal(sanitize_text("caf\xc3\xa9", 5, out, sizeof(out)), "caf\xc3\xa9");
	/* overlong encoding of '/' and a lone surrogate are not valid UTF-8 */
	assert_string_equal(sanitize_text("\xc0\xaf", 2, out, sizeof(out)), "\\xc0\\xaf");
	assert_string_equal(sanitize_text("\xed\xa0\x80", 3, out, sizeof(out)), "\\xed\\xa0\\x80");
	/* C1 CSI and a right-to-left override are escaped, not passed to the terminal */
	assert_string_equal(sanitize_text("a\xc2\x9b" "2J\xe2\x80\xae", 8, out, sizeof(out)),
			    "a\\xc2\\x9b2J\\xe2\\x80\\xae");
	/* no overflow of a small buffer */
	assert_true(strlen(sanitize_text("\n\n\n\n\n\n", 6, out, 9)) < 9);
	/* 16 bytes without a NUL stop at 16 */
	assert_string_equal(sanitize_text("0123456789abcdefXYZ", 16, out, sizeof(out)),
			    "0123456789abcdef");
}

/* A hostile comm must not break the one-record-per-line JSON stream. */
static void test_json_escaping(void **state)
{
	const char evil[16] = "x\"}\n{\"a\xff\\";
	json_object *o = json_object_new_object(), *back;
	const char *s;

	json_object_object_add(o, "comm", json_str_kernel(evil, sizeof(evil)));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	assert_null(strchr(s, '\n'));
	back = json_tokener_parse(s);
	assert_non_null(back);
	assert_string_equal(json_object_get_string(json_object_object_get(back, "comm")),
			    "x\"}\n{\"a\xef\xbf\xbd\\");
	json_object_put(back);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_sanitize_text),
		cmocka_unit_test(test_json_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
