// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* FOLL_* values: from anonymous BTF enums (6.3+) or the legacy table. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "foll.h"

/* BTF shaped like 6.12's: two anonymous enums, FOLL_PIN in the internal one. */
static struct btf *btf_6_12(bool with_pin)
{
	struct btf *b = btf__new_empty();

	assert_non_null(b);
	assert_true(btf__add_enum(b, NULL, 4) > 0);
	btf__add_enum_value(b, "FOLL_WRITE", 1);
	btf__add_enum_value(b, "FOLL_GET", 2);
	btf__add_enum_value(b, "FOLL_LONGTERM", 0x100);
	assert_true(btf__add_enum(b, NULL, 4) > 0);
	btf__add_enum_value(b, "FOLL_TOUCH", 0x10000);
	if (with_pin)
		btf__add_enum_value(b, "FOLL_PIN", 0x80000);
	/* a named enum with a FOLL_ lookalike must be ignored */
	assert_true(btf__add_enum(b, "unrelated", 4) > 0);
	btf__add_enum_value(b, "FOLL_PINX", 7);
	return b;
}

static void test_btf_values(void **state)
{
	struct btf *b = btf_6_12(true);
	struct foll_table ft;

	assert_int_equal(foll_load(b, &ft), 0);
	assert_true(ft.from_btf);
	assert_int_equal(ft.pin, 0x80000);
	assert_int_equal(ft.get, 0x2);
	assert_int_equal(ft.longterm, 0x100);
	assert_int_equal(ft.write, 0x1);
	btf__free(b);
}

/* FOLL_LONGTERM without FOLL_PIN: refuse rather than guess. */
static void test_inconsistent(void **state)
{
	struct btf *b = btf_6_12(false);
	struct foll_table ft;

	assert_int_equal(foll_load(b, &ft), -EINVAL);
	btf__free(b);
}

static void test_legacy(void **state)
{
	struct btf *b = btf__new_empty();
	struct foll_table ft;

	assert_int_equal(foll_load(b, &ft), 0);
	assert_false(ft.from_btf);
	assert_int_equal(ft.pin, 0x40000);
	assert_int_equal(ft.get, 0x4);
	assert_int_equal(ft.longterm, 0x10000);
	/* the trap: old FOLL_FAST_ONLY has the value of new FOLL_PIN */
	assert_int_not_equal(ft.pin, 0x80000);
	btf__free(b);
	assert_int_equal(foll_load(NULL, &ft), 0);
	assert_int_equal(ft.pin, 0x40000);
}

static void test_format(void **state)
{
	struct foll_table ft;
	char buf[128];

	foll_load(NULL, &ft);
	assert_string_equal(foll_format(&ft, 0x40000 | 0x10000 | 0x1, buf, sizeof(buf)),
			    "PIN|LONGTERM|WRITE");
	assert_string_equal(foll_format(&ft, 0x4 | 0x2000, buf, sizeof(buf)), "GET|REMOTE");
	assert_string_equal(foll_format(&ft, 0, buf, sizeof(buf)), "0");
	assert_string_equal(foll_format(&ft, 0x40000ULL | (1ULL << 40), buf, sizeof(buf)),
			    "PIN|0x10000000000");
	/* truncation stays NUL-terminated */
	foll_format(&ft, 0xfffff, buf, 8);
	assert_true(strlen(buf) < 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_btf_values),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_legacy),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
