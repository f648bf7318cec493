/* SPDX-License-Identifier: MIT */
/* xs_ring between a producer thread and the test's thread: every slot
 * published is taken once, in order, and never refilled before it is
 * released; the consumer sees how producing ended (the end of the
 * input, an error, nothing at all); a consumer that stops early frees
 * a producer waiting on a full ring. Run with one slot and with four. */
#include "support.h"

#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "common/common.h"

#define SLOTS_MAX 4
#define SLOT_WORDS 64

/* A slot holds SLOT_WORDS copies of its sequence number: a slot
 * refilled while the consumer reads it shows two different ones. */
struct slot {
	uint64_t w[SLOT_WORDS];
};

struct prod {
	struct xs_ring ring;
	struct slot    s[SLOTS_MAX];
	uint64_t  n_fill;    /* slots to publish; UINT64_MAX: until stopped */
	xsell_err end_err;   /* given to xs_ring_end */
	uint64_t  published; /* the producer's count */
	bool      saw_stop;  /* xs_ring_fill said false */
};

static void *
produce(void *arg)
{
	struct prod *p = arg;

	for (uint64_t seq = 1; p->published < p->n_fill; seq++) {
		size_t k;

		if (!xs_ring_fill(&p->ring, &k)) {
			p->saw_stop = true;
			break;
		}
		for (size_t i = 0; i < SLOT_WORDS; i++) {
			p->s[k].w[i] = seq;
			if (i == SLOT_WORDS / 2) {
				sched_yield(); /* a torn slot shows if it can
				                */
			}
		}
		xs_ring_publish(&p->ring);
		p->published++;
	}
	xs_ring_end(&p->ring, p->saw_stop ? XSELL_OK : p->end_err);
	return NULL;
}

/* Take every slot: each must hold seq 1, 2, 3... whole. Returns how
 * many were taken; *endp the producer's end. */
static uint64_t
take_all(struct prod *p, xsell_err *endp)
{
	uint64_t expect = 1;
	size_t   k;

	while (xs_ring_take(&p->ring, &k, endp)) {
		assert_true(k < p->ring.n_slots);
		for (size_t i = 0; i < SLOT_WORDS; i++) {
			assert_int_equal(p->s[k].w[i], expect);
		}
		sched_yield(); /* the producer may try to refill it now */
		for (size_t i = 0; i < SLOT_WORDS; i++) {
			assert_int_equal(p->s[k].w[i], expect);
		}
		xs_ring_release(&p->ring);
		expect++;
	}
	return expect - 1;
}

static void
run_to_end(size_t n_slots, uint64_t n_fill, xsell_err end_err)
{
	struct prod p;
	xsell_err   end = XSELL_EINTERNAL;

	memset(&p, 0, sizeof(p));
	p.n_fill  = n_fill;
	p.end_err = end_err;
	assert_true(xs_ring_start(&p.ring, n_slots, produce, &p));
	assert_int_equal(take_all(&p, &end), n_fill);
	assert_int_equal(end, end_err);
	xs_ring_join(&p.ring);
	assert_int_equal(p.published, n_fill);
	assert_false(p.saw_stop);
}

static void
test_one_slot_carries_every_batch_in_order(void **state)
{
	(void) state;
	run_to_end(1, 2000, XSELL_ENOENT);
}

static void
test_four_slots_carry_every_batch_in_order(void **state)
{
	(void) state;
	run_to_end(4, 2000, XSELL_ENOENT);
}

/* An error after three slots: the three are taken, then the error. */
static void
test_error_comes_after_the_slots_published(void **state)
{
	(void) state;
	run_to_end(1, 3, XSELL_EIO);
	run_to_end(4, 3, XSELL_EIO);
}

/* A producer with nothing to give: the first take is the end. */
static void
test_empty_run_ends_at_once(void **state)
{
	(void) state;
	run_to_end(1, 0, XSELL_OK);
	run_to_end(4, 0, XSELL_ENOMEM);
}

/* The consumer takes two slots and stops: the producer, which would
 * fill forever, is told at its next fill and ends. It can have
 * published at most the two taken and n_slots more. */
static void
stop_early(size_t n_slots)
{
	struct prod p;
	size_t      k;
	xsell_err   end = XSELL_OK;

	memset(&p, 0, sizeof(p));
	p.n_fill = UINT64_MAX;
	assert_true(xs_ring_start(&p.ring, n_slots, produce, &p));
	for (uint64_t seq = 1; seq <= 2; seq++) {
		assert_true(xs_ring_take(&p.ring, &k, &end));
		assert_int_equal(p.s[k].w[0], seq);
		xs_ring_release(&p.ring);
	}
	xs_ring_join(&p.ring);
	assert_true(p.saw_stop);
	assert_true(p.published >= 2);
	assert_true(p.published <= 2 + n_slots);
}

static void
test_consumer_stop_frees_the_producer(void **state)
{
	(void) state;
	stop_early(1);
	stop_early(4);
}

static void
test_zero_slots_do_not_start(void **state)
{
	struct prod p;

	(void) state;
	memset(&p, 0, sizeof(p));
	assert_false(xs_ring_start(&p.ring, 0, produce, &p));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_slot_carries_every_batch_in_order),
		cmocka_unit_test(test_four_slots_carry_every_batch_in_order),
		cmocka_unit_test(test_error_comes_after_the_slots_published),
		cmocka_unit_test(test_empty_run_ends_at_once),
		cmocka_unit_test(test_consumer_stop_frees_the_producer),
		cmocka_unit_test(test_zero_slots_do_not_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
