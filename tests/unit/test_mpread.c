/* SPDX-License-Identifier: MIT */
/* The bounded msgpack reader: every type, sizes checked against the bytes
 * that remain, truncation at every byte, the depth cap and raw spans. */
#include "support.h"

#include <math.h>
#include <string.h>

#include "wire/wire_impl.h"

static void
read_one(const uint8_t *p, size_t len, struct xs_mp_val *v)
{
	struct xs_mp_reader r;

	xs_mp_init(&r, p, len);
	assert_xs_ok(xs_mp_next(&r, v));
}

static void
test_mpread_scalars(void **state)
{
	struct xs_mp_val v;

	(void) state;
	read_one((const uint8_t *) "\xc0", 1, &v);
	assert_int_equal(v.type, XS_MP_NIL);
	read_one((const uint8_t *) "\xc3", 1, &v);
	assert_int_equal(v.type, XS_MP_BOOL);
	assert_true(v.v.b);
	read_one((const uint8_t *) "\xc2", 1, &v);
	assert_false(v.v.b);
}

static void
test_mpread_ints(void **state)
{
	static const struct {
		const char *bytes;
		size_t      len;
		bool        neg;
		uint64_t    u;
		int64_t     i;
	} cases[] = {
		{ "\x05", 1, false, 5, 0 },
		{ "\x7f", 1, false, 127, 0 },
		{ "\xff", 1, true, 0, -1 },
		{ "\xe0", 1, true, 0, -32 },
		{ "\xcc\xff", 2, false, 255, 0 },
		{ "\xcd\x01\x00", 3, false, 256, 0 },
		{ "\xce\x00\x01\x00\x00", 5, false, 65536, 0 },
		{ "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9, false, UINT64_MAX,
		    0 },
		{ "\xd0\x80", 2, true, 0, -128 },
		{ "\xd0\x05", 2, false, 5, 0 },
		{ "\xd1\xff\x00", 3, true, 0, -256 },
		{ "\xd2\xff\xff\xff\xfe", 5, true, 0, -2 },
		{ "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9, true, 0,
		    INT64_MIN },
		{ "\xd3\x00\x00\x00\x00\x00\x00\x00\x07", 9, false, 7, 0 },
	};
	struct xs_mp_val v;

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		read_one((const uint8_t *) cases[i].bytes, cases[i].len, &v);
		if (cases[i].neg) {
			assert_int_equal(v.type, XS_MP_INT);
			assert_true(v.v.i == cases[i].i);
		} else {
			assert_int_equal(v.type, XS_MP_UINT);
			assert_true(v.v.u == cases[i].u);
		}
	}
}

static void
test_mpread_floats(void **state)
{
	struct xs_mp_val v;

	(void) state;
	read_one((const uint8_t *) "\xca\x3f\xc0\x00\x00", 5, &v);
	assert_int_equal(v.type, XS_MP_FLOAT);
	assert_true(v.v.f == 1.5);
	read_one(
	    (const uint8_t *) "\xcb\x40\x04\x00\x00\x00\x00\x00\x00", 9, &v);
	assert_true(v.v.f == 2.5);
	read_one(
	    (const uint8_t *) "\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00", 9, &v);
	assert_true(isnan(v.v.f));
}

static void
test_mpread_strings(void **state)
{
	struct xs_mp_val v;

	(void) state;
	read_one((const uint8_t *) "\xa3"
	                           "abc",
	    4, &v);
	assert_int_equal(v.type, XS_MP_STR);
	assert_int_equal(v.v.s.len, 3);
	assert_memory_equal(v.v.s.p, "abc", 3);
	read_one((const uint8_t *) "\xd9\x03"
	                           "xyz",
	    5, &v);
	assert_int_equal(v.v.s.len, 3);
	assert_memory_equal(v.v.s.p, "xyz", 3);
	read_one((const uint8_t *) "\xda\x00\x02"
	                           "hi",
	    5, &v);
	assert_memory_equal(v.v.s.p, "hi", 2);
	read_one((const uint8_t *) "\xdb\x00\x00\x00\x01"
	                           "q",
	    6, &v);
	assert_int_equal(v.v.s.len, 1);
	read_one((const uint8_t *) "\xc4\x02\x01\x02", 4, &v);
	assert_int_equal(v.type, XS_MP_BIN);
	assert_int_equal(v.v.s.len, 2);
	read_one((const uint8_t *) "\xa0", 1, &v);
	assert_int_equal(v.type, XS_MP_STR);
	assert_int_equal(v.v.s.len, 0);
}

static void
test_mpread_containers(void **state)
{
	struct xs_mp_val v;

	(void) state;
	read_one((const uint8_t *) "\x92\x01\x02", 3, &v);
	assert_int_equal(v.type, XS_MP_ARRAY);
	assert_int_equal(v.v.n, 2);
	read_one((const uint8_t *) "\xdc\x00\x01\xc0", 4, &v);
	assert_int_equal(v.v.n, 1);
	read_one((const uint8_t *) "\xdd\x00\x00\x00\x01\xc0", 6, &v);
	assert_int_equal(v.v.n, 1);
	read_one((const uint8_t *) "\x81\x01\x02", 3, &v);
	assert_int_equal(v.type, XS_MP_MAP);
	assert_int_equal(v.v.n, 1);
	read_one((const uint8_t *) "\xde\x00\x01\x01\x02", 5, &v);
	assert_int_equal(v.v.n, 1);
	read_one((const uint8_t *) "\xdf\x00\x00\x00\x01\x01\x02", 7, &v);
	assert_int_equal(v.v.n, 1);
}

static void
expect_bad(const char *bytes, size_t len)
{
	struct xs_mp_reader r;
	struct xs_mp_val    v;

	xs_mp_init(&r, bytes, len);
	assert_xs_err(xs_mp_next(&r, &v), XSELL_EINVAL);
	assert_int_equal(r.pos, 0); /* the cursor did not move */
}

static void
test_mpread_rejects_ext_and_c1(void **state)
{
	(void) state;
	expect_bad("\xc1", 1);
	expect_bad("\xd4\x01\x00", 3);
	expect_bad("\xc7\x01\x01\x00", 4);
	expect_bad("\xd8\x01"
	           "0123456789abcdef",
	    18);
}

static void
test_mpread_rejects_sizes_past_the_end(void **state)
{
	(void) state;
	/* 5-byte array header declaring 2^32-1 elements, nothing after. */
	expect_bad("\xdd\xff\xff\xff\xff", 5);
	expect_bad("\xdf\xff\xff\xff\xff", 5);
	expect_bad("\xdb\xff\xff\xff\xff", 5);
	expect_bad("\xc6\xff\xff\xff\xff", 5);
	/* Counts just past what remains. */
	expect_bad("\x93\x01\x02", 3);
	expect_bad("\x82\x01\x02\x03", 4); /* needs 4 bytes after header */
	expect_bad("\xd9\x05"
	           "ab",
	    4);
	expect_bad("", 0);
}

/* {"op":"event","id":[1,"x"],"events":[{"type":"view","ts":1.5}]} */
static const uint8_t sample[] = { 0x83, 0xa2, 'o', 'p', 0xa5, 'e', 'v', 'e',
	'n', 't', 0xa2, 'i', 'd', 0x92, 0x01, 0xa1, 'x', 0xa6, 'e', 'v', 'e',
	'n', 't', 's', 0x91, 0x82, 0xa4, 't', 'y', 'p', 'e', 0xa4, 'v', 'i',
	'e', 'w', 0xa2, 't', 's', 0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0 };

static void
test_mpread_truncation_fails_at_every_byte(void **state)
{
	struct xs_mp_reader r;

	(void) state;
	xs_mp_init(&r, sample, sizeof(sample));
	assert_xs_ok(xs_mp_skip(&r, 1));
	assert_int_equal(r.pos, sizeof(sample));
	for (size_t len = 0; len < sizeof(sample); len++) {
		xs_mp_init(&r, sample, len);
		assert_xs_err(xs_mp_skip(&r, 1), XSELL_EINVAL);
		assert_true(r.pos <= len);
	}
}

static void
nested(uint8_t *buf, unsigned depth)
{
	memset(buf, 0x91, depth - 1);
	buf[depth - 1] = 0x90;
}

static void
test_mpread_depth_limit(void **state)
{
	struct xs_mp_reader r;
	uint8_t             buf[16];

	(void) state;
	nested(buf, XSELL_DEPTH_MAX);
	xs_mp_init(&r, buf, XSELL_DEPTH_MAX);
	assert_xs_ok(xs_mp_skip(&r, 1));
	assert_int_equal(r.pos, XSELL_DEPTH_MAX);

	nested(buf, XSELL_DEPTH_MAX + 1);
	xs_mp_init(&r, buf, XSELL_DEPTH_MAX + 1);
	assert_xs_err(xs_mp_skip(&r, 1), XSELL_ETOOBIG);

	/* Scalars at the deepest level are fine. */
	memset(buf, 0x91, XSELL_DEPTH_MAX);
	buf[XSELL_DEPTH_MAX] = 0x01;
	xs_mp_init(&r, buf, XSELL_DEPTH_MAX + 1);
	assert_xs_ok(xs_mp_skip(&r, 1));
}

static void
test_mpread_raw_span_of_id(void **state)
{
	struct xs_mp_reader r;
	struct xs_mp_val    v;
	const uint8_t      *p;
	size_t              len;

	(void) state;
	xs_mp_init(&r, sample, sizeof(sample));
	assert_xs_ok(xs_mp_next(&r, &v)); /* map */
	assert_int_equal(v.v.n, 3);
	assert_xs_ok(xs_mp_skip(&r, 2)); /* "op" */
	assert_xs_ok(xs_mp_skip(&r, 2)); /* "event" */
	assert_xs_ok(xs_mp_next(&r, &v));
	assert_memory_equal(v.v.s.p, "id", 2);
	assert_xs_ok(xs_mp_raw(&r, 2, &p, &len));
	assert_ptr_equal(p, sample + 13);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "\x92\x01\xa1x", 4);
	assert_int_equal(r.pos, 17);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mpread_scalars),
		cmocka_unit_test(test_mpread_ints),
		cmocka_unit_test(test_mpread_floats),
		cmocka_unit_test(test_mpread_strings),
		cmocka_unit_test(test_mpread_containers),
		cmocka_unit_test(test_mpread_rejects_ext_and_c1),
		cmocka_unit_test(test_mpread_rejects_sizes_past_the_end),
		cmocka_unit_test(test_mpread_truncation_fails_at_every_byte),
		cmocka_unit_test(test_mpread_depth_limit),
		cmocka_unit_test(test_mpread_raw_span_of_id),
	};

	return cmocka_run_group_tests_name("mpread", tests, NULL, NULL);
}
