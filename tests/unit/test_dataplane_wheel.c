/*
 * Promises of dataplane/wheel.c: a timer fires at its due tick and no other, re-arming
 * moves it, cancelling removes it, a timer further out than the wheel's span waits its
 * turn instead of firing a lap early, and a burst of due timers spreads over calls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/wheel.h"

#define NSLOTS 8
#define NIDS 32

struct fx {
	struct dp_wheel w;
	uint32_t slots[DP_WHEEL_HEADS(NSLOTS)];
	struct dp_wheel_link links[NIDS];
	uint32_t out[NIDS];
};

static void fx_init(struct fx *f, uint64_t now)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(dp_wheel_init(&f->w, f->slots, NSLOTS, f->links, NIDS, now), 0);
}

/* Expire exactly at now, with room for every id. */
static size_t expire(struct fx *f, uint64_t now)
{
	return dp_wheel_expire(&f->w, now, f->out, NIDS);
}

static bool out_has(const struct fx *f, size_t n, uint32_t id)
{
	for (size_t k = 0; k < n; k++)
		if (f->out[k] == id)
			return true;
	return false;
}

static void init_rejects_a_slot_count_that_is_not_a_power_of_two(void **state)
{
	struct dp_wheel w;
	uint32_t slots[DP_WHEEL_HEADS(12)];
	struct dp_wheel_link links[4];

	(void)state;
	assert_int_equal(dp_wheel_init(&w, slots, 12, links, 4, 0), -EINVAL);
	assert_int_equal(dp_wheel_init(&w, slots, 0, links, 4, 0), -EINVAL);
}

static void armed_timer_does_not_fire_before_its_due_tick(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 3, 5);
	for (uint64_t t = 0; t < 5; t++)
		assert_int_equal(expire(&f, t), 0);
	assert_true(dp_wheel_armed(&f.w, 3));
}

static void armed_timer_fires_at_its_due_tick(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 3, 5);
	assert_int_equal(expire(&f, 4), 0);
	assert_int_equal(expire(&f, 5), 1);
	assert_int_equal(f.out[0], 3);
	assert_false(dp_wheel_armed(&f.w, 3));
}

static void expired_timer_fires_once(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 3, 5);
	assert_int_equal(expire(&f, 5), 1);
	assert_int_equal(expire(&f, 5), 0);
	for (uint64_t t = 6; t < 6 + 3 * NSLOTS; t++)
		assert_int_equal(expire(&f, t), 0);
}

static void late_expiry_call_fires_every_timer_passed_over(void **state)
{
	struct fx f;
	size_t n;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 1, 2);
	dp_wheel_arm(&f.w, 2, 4);
	dp_wheel_arm(&f.w, 3, 7);
	n = expire(&f, 6);
	assert_int_equal(n, 2);
	assert_true(out_has(&f, n, 1));
	assert_true(out_has(&f, n, 2));
	assert_true(dp_wheel_armed(&f.w, 3));
}

static void rearm_moves_the_timer_to_its_new_tick(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 7, 3);
	dp_wheel_arm(&f.w, 7, 6);
	for (uint64_t t = 0; t < 6; t++)
		assert_int_equal(expire(&f, t), 0);
	assert_int_equal(expire(&f, 6), 1);
	assert_int_equal(f.out[0], 7);
}

static void rearm_earlier_moves_the_timer_forward(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 7, 6);
	dp_wheel_arm(&f.w, 7, 2);
	assert_int_equal(expire(&f, 1), 0);
	assert_int_equal(expire(&f, 2), 1);
	assert_int_equal(f.out[0], 7);
	for (uint64_t t = 3; t <= 6 + NSLOTS; t++)
		assert_int_equal(expire(&f, t), 0);
}

static void cancelled_timer_never_fires(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 4, 3);
	dp_wheel_cancel(&f.w, 4);
	assert_false(dp_wheel_armed(&f.w, 4));
	for (uint64_t t = 0; t < 3 * NSLOTS; t++)
		assert_int_equal(expire(&f, t), 0);
}

static void cancel_of_an_unarmed_id_changes_nothing(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 1, 3);
	dp_wheel_cancel(&f.w, 2);
	dp_wheel_cancel(&f.w, 2);
	assert_int_equal(f.w.armed, 1);
	assert_int_equal(expire(&f, 3), 1);
	assert_int_equal(f.out[0], 1);
}

static void timer_beyond_the_span_fires_only_at_its_due_tick(void **state)
{
	struct fx f;
	const uint64_t due = 3 * NSLOTS + 5; /* shares its slot with ticks 5, 13, 21 */

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 9, due);
	for (uint64_t t = 0; t < due; t++)
		assert_int_equal(expire(&f, t), 0);
	assert_int_equal(expire(&f, due), 1);
	assert_int_equal(f.out[0], 9);
}

static void timer_beyond_the_span_survives_one_call_over_several_laps(void **state)
{
	struct fx f;
	const uint64_t due = 3 * NSLOTS + 5;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 9, due);
	assert_int_equal(expire(&f, due - 1), 0);
	assert_true(dp_wheel_armed(&f.w, 9));
	assert_int_equal(expire(&f, due), 1);
}

static void burst_larger_than_max_returns_the_rest_on_the_next_call(void **state)
{
	struct fx f;
	uint32_t seen[NIDS] = {0};
	size_t n;

	(void)state;
	fx_init(&f, 0);
	for (uint32_t id = 0; id < 5; id++)
		dp_wheel_arm(&f.w, id, 4);
	n = dp_wheel_expire(&f.w, 4, f.out, 2);
	assert_int_equal(n, 2);
	for (size_t k = 0; k < n; k++)
		seen[f.out[k]]++;
	n = dp_wheel_expire(&f.w, 4, f.out, 2);
	assert_int_equal(n, 2);
	for (size_t k = 0; k < n; k++)
		seen[f.out[k]]++;
	n = dp_wheel_expire(&f.w, 4, f.out, 2);
	assert_int_equal(n, 1);
	seen[f.out[0]]++;
	for (uint32_t id = 0; id < 5; id++)
		assert_int_equal(seen[id], 1);
	assert_int_equal(dp_wheel_expire(&f.w, 4, f.out, 2), 0);
}

static void burst_cut_at_an_early_tick_still_reaches_later_ticks(void **state)
{
	struct fx f;
	size_t n;

	(void)state;
	fx_init(&f, 0);
	dp_wheel_arm(&f.w, 1, 2);
	dp_wheel_arm(&f.w, 2, 2);
	dp_wheel_arm(&f.w, 3, 6);
	n = dp_wheel_expire(&f.w, 9, f.out, 1);
	assert_int_equal(n, 1);
	assert_true(f.out[0] == 1 || f.out[0] == 2);
	n = dp_wheel_expire(&f.w, 9, f.out, 1);
	assert_int_equal(n, 1);
	assert_true(f.out[0] == 1 || f.out[0] == 2);
	n = dp_wheel_expire(&f.w, 9, f.out, 1);
	assert_int_equal(n, 1);
	assert_int_equal(f.out[0], 3);
}

static void due_in_the_past_fires_at_the_next_expiry(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(expire(&f, 100), 0);
	dp_wheel_arm(&f.w, 5, 40);
	assert_int_equal(expire(&f, 100), 1);
	assert_int_equal(f.out[0], 5);
}

static void due_before_init_time_fires_at_the_first_expiry(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 1000);
	dp_wheel_arm(&f.w, 5, 10);
	assert_int_equal(expire(&f, 1000), 1);
	assert_int_equal(f.out[0], 5);
}

static void many_ids_in_one_slot_fire_each_at_its_own_tick(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	/* ids 0..NIDS-1 all in slot 3: ticks 3, 11, 19, 27 take a quarter each */
	for (uint32_t id = 0; id < NIDS; id++)
		dp_wheel_arm(&f.w, id, 3 + (uint64_t)(id % 4) * NSLOTS);
	for (uint64_t t = 0; t <= 3 + 3 * NSLOTS; t++) {
		size_t n = expire(&f, t);

		if (t % NSLOTS != 3) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, NIDS / 4);
		for (size_t k = 0; k < n; k++)
			assert_int_equal(f.out[k] % 4, (t - 3) / NSLOTS);
	}
	assert_int_equal(f.w.armed, 0);
}

static void cancel_inside_a_shared_slot_keeps_the_others(void **state)
{
	struct fx f;
	size_t n;

	(void)state;
	fx_init(&f, 0);
	for (uint32_t id = 0; id < 5; id++)
		dp_wheel_arm(&f.w, id, 6);
	dp_wheel_cancel(&f.w, 2); /* middle of the list */
	dp_wheel_cancel(&f.w, 4); /* head: armed last */
	dp_wheel_cancel(&f.w, 0); /* tail */
	n = expire(&f, 6);
	assert_int_equal(n, 2);
	assert_true(out_has(&f, n, 1));
	assert_true(out_has(&f, n, 3));
}

static void armed_count_follows_arm_rearm_cancel_and_expire(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(f.w.armed, 0);
	dp_wheel_arm(&f.w, 1, 3);
	dp_wheel_arm(&f.w, 2, 3);
	dp_wheel_arm(&f.w, 3, 20);
	assert_int_equal(f.w.armed, 3);
	dp_wheel_arm(&f.w, 1, 9); /* re-arm: still one timer */
	assert_int_equal(f.w.armed, 3);
	dp_wheel_cancel(&f.w, 3);
	assert_int_equal(f.w.armed, 2);
	assert_int_equal(expire(&f, 3), 1);
	assert_int_equal(f.w.armed, 1);
	assert_int_equal(expire(&f, 9), 1);
	assert_int_equal(f.w.armed, 0);
}

/* A slot's lists are walked side by side: an entry of a later lap in one list holds
 * back neither the due ones behind it nor those of the other lists. */
static void due_ids_of_every_list_fire_past_a_later_lap(void **state)
{
	struct fx f;
	size_t n;

	(void)state;
	fx_init(&f, 0);
	for (uint32_t id = 1; id <= 2 * DP_WHEEL_CHAINS; id++)
		dp_wheel_arm(&f.w, id, 5);
	dp_wheel_arm(&f.w, 2 * DP_WHEEL_CHAINS + 1, 5 + NSLOTS); /* head of its list */
	n = expire(&f, 5);
	assert_int_equal(n, 2 * DP_WHEEL_CHAINS);
	for (uint32_t id = 1; id <= 2 * DP_WHEEL_CHAINS; id++)
		assert_true(out_has(&f, n, id));
	assert_true(dp_wheel_armed(&f.w, 2 * DP_WHEEL_CHAINS + 1));
	assert_int_equal(expire(&f, 5 + NSLOTS), 1);
	assert_int_equal(f.out[0], 2 * DP_WHEEL_CHAINS + 1);
}

static void armed_tells_each_id_apart(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	/* id 0's idle link points at slot 0: another id at the head there must not count */
	dp_wheel_arm(&f.w, 1, NSLOTS);
	dp_wheel_arm(&f.w, 2, 5);
	assert_false(dp_wheel_armed(&f.w, 0));
	assert_true(dp_wheel_armed(&f.w, 1));
	assert_true(dp_wheel_armed(&f.w, 2));
	assert_false(dp_wheel_armed(&f.w, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(init_rejects_a_slot_count_that_is_not_a_power_of_two),
		cmocka_unit_test(armed_timer_does_not_fire_before_its_due_tick),
		cmocka_unit_test(armed_timer_fires_at_its_due_tick),
		cmocka_unit_test(expired_timer_fires_once),
		cmocka_unit_test(late_expiry_call_fires_every_timer_passed_over),
		cmocka_unit_test(rearm_moves_the_timer_to_its_new_tick),
		cmocka_unit_test(rearm_earlier_moves_the_timer_forward),
		cmocka_unit_test(cancelled_timer_never_fires),
		cmocka_unit_test(cancel_of_an_unarmed_id_changes_nothing),
		cmocka_unit_test(timer_beyond_the_span_fires_only_at_its_due_tick),
		cmocka_unit_test(timer_beyond_the_span_survives_one_call_over_several_laps),
		cmocka_unit_test(burst_larger_than_max_returns_the_rest_on_the_next_call),
		cmocka_unit_test(burst_cut_at_an_early_tick_still_reaches_later_ticks),
		cmocka_unit_test(due_in_the_past_fires_at_the_next_expiry),
		cmocka_unit_test(due_before_init_time_fires_at_the_first_expiry),
		cmocka_unit_test(many_ids_in_one_slot_fire_each_at_its_own_tick),
		cmocka_unit_test(cancel_inside_a_shared_slot_keeps_the_others),
		cmocka_unit_test(armed_count_follows_arm_rearm_cancel_and_expire),
		cmocka_unit_test(armed_tells_each_id_apart),
		cmocka_unit_test(due_ids_of_every_list_fire_past_a_later_lap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
