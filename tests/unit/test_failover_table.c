/*
 * Promises of control/failover.c's tables: every cell of the line state machine, the
 * seed table per mode (../shared/seed/, DESIGN.md §4) as targets from health, and the
 * probe back-off and storm-control arithmetic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "control/failover.h"

#define X               \
	{               \
		0, 0, 0 \
	}
#define C(a, n)                         \
	{                               \
		CTL_A_##a, CTL_L_##n, 1 \
	}

/* The table written out again, cell by cell, from DESIGN.md §4 and the header's comments:
 * a change to one cell of control/failover.c has to be made here too, on purpose. */
/* clang-format off */
static const struct ctl_transition expected[CTL_L__COUNT][CTL_E__COUNT] = {
	/* columns: registered, failed, flow-failed, unregistered, retarget, go, go-leave, go-stay, stop, start */
	[CTL_L_REGISTERING] = {C(SETTLED, REGISTERED), C(RETRY, RETRY), C(NONE, REGISTERING), X, C(QUEUE, MOVE_WAIT), X, X, X, C(UNREGISTER, STOPPING), X},
	[CTL_L_IDLE] = {X, X, X, X, C(NONE, IDLE), X, X, X, C(NONE, STOPPED), C(REGISTER, REGISTERING)},
	[CTL_L_REGISTERED] = {C(NONE, REGISTERED), C(RETRY, RETRY), C(NONE, REGISTERING), X, C(QUEUE, MOVE_WAIT), X, X, X, C(UNREGISTER, STOPPING), X},
	[CTL_L_RETRY] = {C(SETTLED, REGISTERED), C(RETRY, RETRY), X, X, C(QUEUE, MOVE_WAIT), X, X, X, C(UNREGISTER, STOPPED), X},
	[CTL_L_MOVE_WAIT] = {C(NONE, MOVE_WAIT), C(NONE, MOVE_WAIT), C(NONE, MOVE_WAIT), X, C(NONE, MOVE_WAIT), C(REGISTER, REGISTERING), C(UNREGISTER, LEAVING), C(NONE, REGISTERED), C(UNREGISTER, STOPPING), X},
	[CTL_L_LEAVING] = {C(NONE, LEAVING), C(REGISTER, REGISTERING), X, C(REGISTER, REGISTERING), C(NONE, LEAVING), X, X, X, C(NONE, STOPPING), X},
	[CTL_L_STOPPING] = {C(NONE, STOPPING), C(NONE, STOPPED), X, C(NONE, STOPPED), C(NONE, STOPPING), C(NONE, STOPPING), C(NONE, STOPPING), C(NONE, STOPPING), C(NONE, STOPPING), X},
	[CTL_L_STOPPED] = {C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), C(NONE, STOPPED), X},
};
/* clang-format on */

static void every_cell_of_the_line_table_is_as_designed(void **state)
{
	(void)state;
	for (int st = 0; st < CTL_L__COUNT; st++) {
		for (int ev = 0; ev < CTL_E__COUNT; ev++) {
			const struct ctl_transition *t = ctl_line_step(st, ev);
			const struct ctl_transition *x = &expected[st][ev];

			if (t->valid != x->valid ||
			    (x->valid && (t->action != x->action || t->next != x->next)))
				fail_msg("state %s, event %s: table has action %d next %s valid %d",
					 ctl_line_state_name(st), ctl_line_event_name(ev),
					 t->action, ctl_line_state_name(t->next), t->valid);
		}
	}
}

static void out_of_range_states_and_events_are_invalid(void **state)
{
	(void)state;
	assert_int_equal(ctl_line_step(CTL_L__COUNT, CTL_E_GO)->valid, 0);
	assert_int_equal(ctl_line_step(CTL_L_REGISTERED, CTL_E__COUNT)->valid, 0);
}

/* Once STOP arrives, no event leads back out of stopping/stopped: no line restarts. */
static void no_event_leaves_stopping_or_stopped(void **state)
{
	(void)state;
	for (int ev = 0; ev < CTL_E__COUNT; ev++) {
		const struct ctl_transition *a = ctl_line_step(CTL_L_STOPPING, ev);
		const struct ctl_transition *b = ctl_line_step(CTL_L_STOPPED, ev);

		if (a->valid)
			assert_true(a->next == CTL_L_STOPPING || a->next == CTL_L_STOPPED);
		if (b->valid)
			assert_int_equal(b->next, CTL_L_STOPPED);
		assert_int_equal(a->action, CTL_A_NONE);
		assert_int_equal(b->action, CTL_A_NONE);
	}
}

/* Every state but stopped takes STOP: no line is forgotten when the run ends. */
static void every_live_state_takes_stop(void **state)
{
	(void)state;
	for (int st = 0; st < CTL_L__COUNT; st++)
		assert_int_equal(ctl_line_step(st, CTL_E_STOP)->valid, 1);
}

/* ---- the seed table ---- */

static bool all[CTL_ROLE__COUNT] = {true, true, true, true, true, true};

static void set(bool *b, bool p, bool bp, bool r, bool br, bool op, bool bop)
{
	b[CTL_P] = p;
	b[CTL_BP] = bp;
	b[CTL_R] = r;
	b[CTL_BR] = br;
	b[CTL_OP] = op;
	b[CTL_BOP] = bop;
}

static void expect(struct ctl_targets t, int reg, int aor, int via)
{
	assert_int_equal(t.reg, reg);
	assert_int_equal(t.aor, aor);
	assert_int_equal(t.via, via);
}

/* Mode 1, bullet 1: everything up -> R with the primary AOR. */
static void mode1_all_up_registers_primary_aor_at_r(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 1, 1, 1, 0, 0);
	expect(ctl_mode_targets(1, cfg, all), CTL_R, CTL_AOR_PRIMARY, CTL_R);
	set(up, 1, 1, 1, 1, 1, 1);
	expect(ctl_mode_targets(1, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_R);
}

/* Bullet 2: R fails -> BR with the active AOR (primary, and backup when P is down too). */
static void mode1_r_down_registers_active_aor_at_br(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 1, 1, 1, 0, 0);
	set(up, 1, 1, 0, 1, 0, 0);
	expect(ctl_mode_targets(1, cfg, up), CTL_BR, CTL_AOR_PRIMARY, CTL_BR);
	set(up, 0, 1, 0, 1, 0, 0);
	expect(ctl_mode_targets(1, cfg, up), CTL_BR, CTL_AOR_BACKUP, CTL_BR);
}

/* Bullet 3: P fails -> backup AOR at the active registrar (R, or BR). */
static void mode1_p_down_registers_backup_aor_at_active_registrar(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 1, 1, 1, 0, 0);
	set(up, 0, 1, 1, 1, 0, 0);
	expect(ctl_mode_targets(1, cfg, up), CTL_R, CTL_AOR_BACKUP, CTL_R);
	set(up, 0, 1, 0, 1, 0, 0);
	expect(ctl_mode_targets(1, cfg, up), CTL_BR, CTL_AOR_BACKUP, CTL_BR);
}

/* Bullets 4 and 5: R back -> R with the AOR active then; P back -> primary AOR. */
static void mode1_returns_restore_each_axis_alone(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 1, 1, 1, 0, 0);
	set(up, 0, 1, 1, 1, 0, 0); /* R returned while P is still down */
	expect(ctl_mode_targets(1, cfg, up), CTL_R, CTL_AOR_BACKUP, CTL_R);
	set(up, 1, 1, 0, 1, 0, 0); /* P returned while R is still down */
	expect(ctl_mode_targets(1, cfg, up), CTL_BR, CTL_AOR_PRIMARY, CTL_BR);
}

/* With no backup to go to, the primary stays the target (and is retried). */
static void mode1_without_a_live_backup_stays_on_primary(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 0, 0, 1, 0, 0, 0);
	set(up, 0, 0, 0, 0, 0, 0);
	expect(ctl_mode_targets(1, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_R);
	set(cfg, 1, 1, 1, 1, 0, 0);
	set(up, 0, 0, 0, 0, 0, 0);
	expect(ctl_mode_targets(1, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_R);
}

/* Mode 2: any failure -> backup AOR at BR via BOP; all back -> primary via OP. */
static void mode2_any_failure_moves_everything_to_the_backups(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 1, 1, 1, 1, 1);
	expect(ctl_mode_targets(2, cfg, all), CTL_R, CTL_AOR_PRIMARY, CTL_OP);
	set(up, 0, 1, 1, 1, 1, 1);
	expect(ctl_mode_targets(2, cfg, up), CTL_BR, CTL_AOR_BACKUP, CTL_BOP);
	set(up, 1, 1, 0, 1, 1, 1);
	expect(ctl_mode_targets(2, cfg, up), CTL_BR, CTL_AOR_BACKUP, CTL_BOP);
	set(up, 1, 1, 1, 1, 0, 1);
	expect(ctl_mode_targets(2, cfg, up), CTL_BR, CTL_AOR_BACKUP, CTL_BOP);
	set(cfg, 1, 1, 1, 1, 0, 0); /* no outbound proxies: straight to the registrars */
	set(up, 1, 1, 0, 1, 0, 0);
	expect(ctl_mode_targets(2, cfg, up), CTL_BR, CTL_AOR_BACKUP, CTL_BR);
}

/* Mode 3: only the outbound proxy changes: OP, else BOP, OP again when it returns. */
static void mode3_moves_only_the_outbound_proxy(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 0, 0, 1, 0, 1, 1);
	expect(ctl_mode_targets(3, cfg, all), CTL_R, CTL_AOR_PRIMARY, CTL_OP);
	set(up, 0, 0, 1, 0, 0, 1);
	expect(ctl_mode_targets(3, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_BOP);
	set(up, 0, 0, 1, 0, 0, 0);
	expect(ctl_mode_targets(3, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_OP);
}

/* Mode 4: flow 1 always through OP (flow 2 through BOP, failover.c): an outbound proxy's
 * failure leaves it where it is to recover in the background; the registrar fails over
 * as in mode 1. Subscriptions use a working flow: OP, else BOP. */
static void mode4_keeps_flow_1_on_op(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 0, 1, 1, 1, 1);
	expect(ctl_mode_targets(4, cfg, all), CTL_R, CTL_AOR_PRIMARY, CTL_OP);
	set(up, 1, 0, 1, 1, 0, 1);
	expect(ctl_mode_targets(4, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_OP);
	expect(ctl_mode_sub_targets(4, cfg, up), CTL_P, CTL_AOR_PRIMARY, CTL_BOP);
	set(up, 1, 0, 0, 1, 1, 1);
	expect(ctl_mode_targets(4, cfg, up), CTL_BR, CTL_AOR_PRIMARY, CTL_OP);
	expect(ctl_mode_sub_targets(4, cfg, all), CTL_P, CTL_AOR_PRIMARY, CTL_OP);
}

/* Subscriptions, the same rows: mode 1 P fails -> BP with the backup AOR, P back -> P. */
static void subscriptions_follow_the_proxy_rows(void **state)
{
	bool cfg[CTL_ROLE__COUNT], up[CTL_ROLE__COUNT];

	(void)state;
	set(cfg, 1, 1, 1, 1, 0, 0);
	expect(ctl_mode_sub_targets(1, cfg, all), CTL_P, CTL_AOR_PRIMARY, CTL_P);
	set(up, 0, 1, 1, 1, 0, 0);
	expect(ctl_mode_sub_targets(1, cfg, up), CTL_BP, CTL_AOR_BACKUP, CTL_BP);
	set(up, 1, 1, 0, 0, 0, 0); /* registrars down: subscriptions stay at P */
	expect(ctl_mode_sub_targets(1, cfg, up), CTL_P, CTL_AOR_PRIMARY, CTL_P);
	/* mode 2: any failure -> BP via BOP */
	set(cfg, 1, 1, 1, 1, 1, 1);
	expect(ctl_mode_sub_targets(2, cfg, all), CTL_P, CTL_AOR_PRIMARY, CTL_OP);
	set(up, 1, 1, 0, 1, 1, 1);
	expect(ctl_mode_sub_targets(2, cfg, up), CTL_BP, CTL_AOR_BACKUP, CTL_BOP);
	/* mode 3: through OP, else BOP; with no proxy the registrar takes them */
	set(cfg, 0, 0, 1, 0, 1, 1);
	expect(ctl_mode_sub_targets(3, cfg, all), CTL_R, CTL_AOR_PRIMARY, CTL_OP);
	set(up, 0, 0, 1, 0, 0, 1);
	expect(ctl_mode_sub_targets(3, cfg, up), CTL_R, CTL_AOR_PRIMARY, CTL_BOP);
}

/* ---- arithmetic ---- */

static void probe_gap_doubles_to_the_cap_and_stays_in_50_to_100_percent(void **state)
{
	(void)state;
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 0, 0), 1000);
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 0, 1000), 2000);
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 0, 1001), 1000);
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 3, 4000), 8000 + 4000);
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 3, 8001), 8000);
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 10, 0), 30000);
	assert_int_equal(ctl_probe_gap_ms(2000, 60000, 1000, 30000), 60000);
	for (uint64_t r = 0; r < 100000; r += 7) {
		uint64_t g = ctl_probe_gap_ms(1000, 30000, 4, r);

		assert_true(g >= 8000 && g <= 16000);
	}
}

static void storm_rate_spreads_a_batch_over_the_window_under_the_cap(void **state)
{
	(void)state;
	assert_true(ctl_storm_rate(10000, 10000, 0) == 1000.0);
	assert_true(ctl_storm_rate(10000, 10000, 500) == 500.0);
	assert_true(ctl_storm_rate(100, 10000, 500) == 10.0);
	assert_true(ctl_storm_rate(100, 0, 500) == 500.0);
	assert_true(ctl_storm_rate(100, 0, 0) == 0.0); /* no window, no cap: all at once */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_cell_of_the_line_table_is_as_designed),
		cmocka_unit_test(out_of_range_states_and_events_are_invalid),
		cmocka_unit_test(no_event_leaves_stopping_or_stopped),
		cmocka_unit_test(every_live_state_takes_stop),
		cmocka_unit_test(mode1_all_up_registers_primary_aor_at_r),
		cmocka_unit_test(mode1_r_down_registers_active_aor_at_br),
		cmocka_unit_test(mode1_p_down_registers_backup_aor_at_active_registrar),
		cmocka_unit_test(mode1_returns_restore_each_axis_alone),
		cmocka_unit_test(mode1_without_a_live_backup_stays_on_primary),
		cmocka_unit_test(mode2_any_failure_moves_everything_to_the_backups),
		cmocka_unit_test(mode3_moves_only_the_outbound_proxy),
		cmocka_unit_test(mode4_keeps_flow_1_on_op),
		cmocka_unit_test(subscriptions_follow_the_proxy_rows),
		cmocka_unit_test(probe_gap_doubles_to_the_cap_and_stays_in_50_to_100_percent),
		cmocka_unit_test(storm_rate_spreads_a_batch_over_the_window_under_the_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
