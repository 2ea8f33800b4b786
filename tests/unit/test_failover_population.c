/*
 * Promises of control/failover.c for a population of lines, driven as the dataplane
 * would: events in, the commands it answers with captured, a fake clock. Shared health
 * (one signal moves every line), storm control's pace, failback, the AOR switch with the
 * old binding left cleanly, a full command ring, and the end of the run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/failover.h"

#define N 100
#define MAX_CMDS 4096
#define S_US 1000000ull
#define MS_US 1000ull

struct fx {
	struct ctl_fo fo;
	struct dp_msg cmd[MAX_CMDS];
	unsigned ncmd;
	unsigned refuse_after; /* the ring takes this many more commands, then is full */
	uint64_t now_us;
};

static int sink(void *ctx, const struct dp_msg *c)
{
	struct fx *f = ctx;

	if (f->refuse_after == 0 || f->ncmd == MAX_CMDS)
		return -ENOBUFS;
	f->refuse_after--;
	f->cmd[f->ncmd++] = *c;
	return 0;
}

static struct ctl_fo_config base_cfg(void)
{
	struct ctl_fo_config c = {
		.mode = 1,
		.configured = {[CTL_P] = true, [CTL_BP] = true, [CTL_R] = true, [CTL_BR] = true},
		.retry_ms = 30000,
		.timer_f_ms = 3000,
		.fail_threshold = 2,
		.probe_min_ms = 2000,
		.probe_max_ms = 60000,
		.probe_timeout_ms = 4000,
		.monitor_ms = 5000,
		.storm_on = true,
		.storm_window_ms = 1000,
		.storm_rate_cap = 0,
		.seed = 42,
	};

	return c;
}

static int setup_with(void **state, struct ctl_fo_config c)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->refuse_after = UINT32_MAX;
	f->now_us = 10 * S_US;
	assert_int_equal(ctl_fo_init(&f->fo, &c, N, sink, f), 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, base_cfg());
}

static int setup_no_storm(void **state)
{
	struct ctl_fo_config c = base_cfg();

	c.storm_on = false;
	return setup_with(state, c);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_fo_destroy(&f->fo);
	free(f);
	return 0;
}

static void ev(struct fx *f, uint16_t type, uint32_t line, uint32_t target, uint16_t reason,
	       uint32_t value)
{
	struct dp_msg m = {
		.type = type, .line = line, .target = target, .reason = reason, .value = value};

	ctl_fo_event(&f->fo, &m, f->now_us);
}

static void tick_for(struct fx *f, uint64_t us)
{
	uint64_t end = f->now_us + us;

	while (f->now_us < end) {
		f->now_us += 10 * MS_US;
		ctl_fo_tick(&f->fo, f->now_us);
	}
}

static const uint32_t AT_R = DP_TARGET(CTL_R, CTL_AOR_PRIMARY, CTL_R);
static const uint32_t AT_BR = DP_TARGET(CTL_BR, CTL_AOR_PRIMARY, CTL_BR);
static const uint32_t AT_R_BACKUP_AOR = DP_TARGET(CTL_R, CTL_AOR_BACKUP, CTL_R);

/* Every line registered at R: the steady state before a failure. */
static void all_registered_at(struct fx *f, uint32_t target)
{
	for (uint32_t i = 0; i < N; i++)
		ev(f, DP_EV_REGISTERED, i, target, 0, 60);
}

static unsigned count_cmds(const struct fx *f, uint16_t type, uint32_t target)
{
	unsigned n = 0;

	for (unsigned k = 0; k < f->ncmd; k++)
		n += f->cmd[k].type == type && (target == UINT32_MAX || f->cmd[k].target == target);
	return n;
}

/* Two lines' requests sent after R last answered time out. */
static void fail_r_twice(struct fx *f)
{
	f->now_us += 4 * S_US;
	ev(f, DP_EV_FAILED, 0, AT_R, DP_FAIL_TIMEOUT, 0);
	ev(f, DP_EV_FAILED, 1, AT_R, DP_FAIL_TIMEOUT, 0);
}

static void lines_start_registering_at_r_with_the_primary_aor(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->fo.want.reg, CTL_R);
	assert_int_equal(f->fo.want.aor, CTL_AOR_PRIMARY);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(f->fo.line[i].state, CTL_L_REGISTERING);
	all_registered_at(f, AT_R);
	assert_int_equal(f->fo.bound_at[CTL_R], N);
	assert_int_equal(f->ncmd, 0);
}

/* One failure is below the threshold: that line retries at R; nothing else moves. */
static void a_failure_below_the_threshold_retries_the_same_server(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	ev(f, DP_EV_FAILED, 7, AT_R, DP_FAIL_TIMEOUT, 0);
	assert_true(f->fo.srv[CTL_R].up);
	assert_int_equal(f->ncmd, 1);
	assert_int_equal(f->cmd[0].type, DP_CMD_REGISTER);
	assert_int_equal(f->cmd[0].line, 7);
	assert_int_equal(f->cmd[0].value, 30000);
	assert_int_equal(f->cmd[0].target, AT_R | DP_TARGET_SET);
	assert_int_equal(f->fo.line[7].state, CTL_L_RETRY);
}

/* Auth and 4xx failures say nothing about the server's health. */
static void auth_failures_do_not_count_against_the_server(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	for (uint32_t i = 0; i < 10; i++)
		ev(f, DP_EV_FAILED, i, AT_R, DP_FAIL_AUTH, 401);
	assert_true(f->fo.srv[CTL_R].up);
	assert_int_equal(f->fo.srv[CTL_R].fail_signals, 0);
}

/*
 * A stampede at a live server: it answers some and drops others. Timeouts of requests
 * sent before its last answer are losses, counted, not signs of death; once requests
 * sent after its last answer time out too, it is down.
 */
static void timeouts_outlived_by_an_answer_do_not_mark_the_server_down(void **state)
{
	struct fx *f = *state;

	for (uint32_t i = 0; i < N / 2; i++)
		ev(f, DP_EV_REGISTERED, i, AT_R, 0, 60);
	f->now_us += 2 * S_US; /* sent before the answers above, out of time now */
	for (uint32_t i = N / 2; i < N; i++)
		ev(f, DP_EV_FAILED, i, AT_R, DP_FAIL_TIMEOUT, 0);
	assert_true(f->fo.srv[CTL_R].up);
	assert_int_equal(f->fo.srv[CTL_R].fail_signals, N / 2);
	assert_int_equal(f->fo.srv[CTL_R].fails_outlived, N / 2);
	assert_int_equal(f->fo.q_len, 0);
	f->now_us += 2 * S_US; /* now sent after R's last answer */
	ev(f, DP_EV_FAILED, 0, AT_R, DP_FAIL_TIMEOUT, 0);
	assert_true(f->fo.srv[CTL_R].up);
	ev(f, DP_EV_FAILED, 1, AT_R, DP_FAIL_TIMEOUT, 0);
	assert_false(f->fo.srv[CTL_R].up);
	assert_int_equal(f->fo.want.reg, CTL_BR);
}

/* Shared health: two lines' timeouts mark R down and every line moves to BR. */
static void r_down_moves_every_line_to_br(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	assert_false(f->fo.srv[CTL_R].up);
	assert_int_equal(f->fo.want.reg, CTL_BR);
	assert_int_equal(f->fo.q_len, N);
	tick_for(f, 2 * S_US);
	assert_int_equal(f->fo.q_len, 0);
	/* R is down: no un-register there first, a REGISTER at BR for every line */
	assert_int_equal(count_cmds(f, DP_CMD_REGISTER, AT_BR | DP_TARGET_SET), N);
	assert_int_equal(count_cmds(f, DP_CMD_UNREGISTER, UINT32_MAX), 0);
	all_registered_at(f, AT_BR);
	assert_int_equal(f->fo.bound_at[CTL_BR], N);
	assert_int_equal(f->fo.bound_at[CTL_R], 0);
	assert_int_equal(f->fo.nep, 1);
	assert_int_equal(f->fo.ep[0].affected, N);
	assert_int_equal(f->fo.ep[0].settled, N);
	assert_false(f->fo.ep[0].failback);
}

/* Storm control: a batch of N over a 1 s window is released at N/s, in random order. */
static void storm_control_spreads_the_moves_over_the_window(void **state)
{
	struct fx *f = *state;
	unsigned after_half, in_order = 0;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	f->ncmd = 0;
	tick_for(f, 500 * MS_US);
	after_half = f->ncmd;
	assert_in_range(after_half, N / 2 - 3, N / 2 + 3);
	tick_for(f, 600 * MS_US);
	assert_int_equal(f->ncmd, N);
	for (unsigned k = 1; k < f->ncmd; k++)
		in_order += f->cmd[k].line == f->cmd[k - 1].line + 1;
	assert_true(in_order < N / 4); /* shuffled, not line order */
}

/* Storm control off: every line goes in the first tick, a stampede on purpose. */
static void without_storm_control_every_line_moves_at_once(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	f->ncmd = 0;
	tick_for(f, 10 * MS_US);
	assert_int_equal(f->ncmd, N);
}

/* A down server is probed with back-off; its answer brings every line back, and the
 * binding at BR (which is up) is un-registered before the line registers at R again. */
static void probe_answer_fails_lines_back_leaving_br_cleanly(void **state)
{
	struct fx *f = *state;
	struct dp_msg probe_ok = {.type = DP_EV_PROBE, .target = DP_TARGET(CTL_R, 0, CTL_R)};
	unsigned probes;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	tick_for(f, 3 * S_US); /* the moves, and the first probe within 1-2 s */
	all_registered_at(f, AT_BR);
	probes = count_cmds(f, DP_CMD_PROBE, DP_TARGET(CTL_R, 0, CTL_R));
	assert_int_equal(probes, 1);
	tick_for(f, 10 * S_US); /* no second probe while the first is out */
	assert_int_equal(count_cmds(f, DP_CMD_PROBE, DP_TARGET(CTL_R, 0, CTL_R)), 1);
	probe_ok.value = 200;
	f->ncmd = 0;
	ctl_fo_event(&f->fo, &probe_ok, f->now_us);
	assert_true(f->fo.srv[CTL_R].up);
	assert_int_equal(f->fo.want.reg, CTL_R);
	tick_for(f, 2 * S_US);
	assert_int_equal(count_cmds(f, DP_CMD_UNREGISTER, UINT32_MAX), N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(f->fo.line[i].state, CTL_L_LEAVING);
		ev(f, DP_EV_UNREGISTERED, i, AT_BR, 0, 0);
		assert_int_equal(f->fo.line[i].state, CTL_L_REGISTERING);
	}
	assert_int_equal(count_cmds(f, DP_CMD_REGISTER, AT_R | DP_TARGET_SET), N);
	all_registered_at(f, AT_R);
	assert_int_equal(f->fo.nep, 2);
	assert_true(f->fo.ep[1].failback);
	assert_int_equal(f->fo.ep[1].settled, N);
	assert_true(ctl_episode_pct_ms(&f->fo.ep[1], 100) >= 0);
	assert_int_equal(f->fo.srv[CTL_BR].bindings_left, 0); /* every one removed */
}

/* An un-REGISTER that fails while leaving BR (or at the stop) leaves its binding there:
 * the line goes on, and the summary counts the binding left behind at BR. */
static void a_failed_unregister_counts_the_binding_left_behind(void **state)
{
	struct fx *f = *state;
	struct dp_msg probe_ok = {
		.type = DP_EV_PROBE, .target = DP_TARGET(CTL_R, 0, CTL_R), .value = 200};

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	tick_for(f, 3 * S_US);
	all_registered_at(f, AT_BR);
	ctl_fo_event(&f->fo, &probe_ok, f->now_us);
	tick_for(f, 2 * S_US);
	assert_int_equal(f->fo.line[0].state, CTL_L_LEAVING);
	ev(f, DP_EV_FAILED, 0, AT_BR, DP_FAIL_5XX, 500);
	assert_int_equal(f->fo.line[0].state, CTL_L_REGISTERING); /* on to R all the same */
	assert_int_equal(f->fo.srv[CTL_BR].bindings_left, 1);
	ev(f, DP_EV_UNREGISTERED, 1, AT_BR, 0, 0); /* a clean one counts nothing */
	assert_int_equal(f->fo.srv[CTL_BR].bindings_left, 1);
	/* at the stop: line 2 (still bound at BR) times out its un-REGISTER */
	ctl_fo_stop(&f->fo);
	ev(f, DP_EV_FAILED, 2, AT_BR, DP_FAIL_TIMEOUT, 0);
	assert_int_equal(f->fo.srv[CTL_BR].bindings_left, 2);
	assert_int_equal(f->fo.line[2].state, CTL_L_STOPPED);
}

/* A failed probe backs off: the next one comes later than the first gap. */
static void failed_probes_back_off(void **state)
{
	struct fx *f = *state;
	struct dp_msg probe_fail = {.type = DP_EV_PROBE,
				    .reason = DP_FAIL_TIMEOUT,
				    .target = DP_TARGET(CTL_R, 0, CTL_R)};
	uint64_t t_sent[6];
	unsigned n = 0;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	while (n < 6) {
		unsigned before = f->ncmd;

		tick_for(f, 10 * MS_US);
		if (count_cmds(f, DP_CMD_PROBE, DP_TARGET(CTL_R, 0, CTL_R)) > n &&
		    f->ncmd > before) {
			t_sent[n++] = f->now_us;
			ctl_fo_event(&f->fo, &probe_fail, f->now_us);
		}
	}
	assert_false(f->fo.srv[CTL_R].up);
	/* after k failed probes the gap is 50-100 % of 2 s * 2^k, capped at 60 s */
	for (unsigned k = 1; k < 6; k++) {
		uint64_t gap = t_sent[k] - t_sent[k - 1], lo = 1000ull << k;

		if (lo > 30000)
			lo = 30000;
		assert_true(gap >= lo * MS_US);
		assert_true(gap <= 2 * lo * MS_US + 20 * MS_US);
	}
}

/* Mode 1 bullet 3: P fails (its OPTIONS monitor goes unanswered) -> the backup AOR at R,
 * after un-registering the primary AOR there (R is up). */
static void p_down_switches_to_the_backup_aor_at_r(void **state)
{
	struct fx *f = *state;
	struct dp_msg p_fail = {.type = DP_EV_PROBE,
				.reason = DP_FAIL_TIMEOUT,
				.target = DP_TARGET(CTL_P, 0, CTL_P)};

	all_registered_at(f, AT_R);
	tick_for(f, 6 * S_US);
	assert_true(count_cmds(f, DP_CMD_PROBE, DP_TARGET(CTL_P, 0, CTL_P)) >= 1);
	ctl_fo_event(&f->fo, &p_fail, f->now_us);
	assert_true(f->fo.srv[CTL_P].up); /* one miss: below the threshold */
	tick_for(f, 6 * S_US);
	ctl_fo_event(&f->fo, &p_fail, f->now_us);
	assert_false(f->fo.srv[CTL_P].up);
	assert_int_equal(f->fo.want.aor, CTL_AOR_BACKUP);
	assert_int_equal(f->fo.want.reg, CTL_R);
	f->ncmd = 0;
	tick_for(f, 2 * S_US);
	assert_int_equal(count_cmds(f, DP_CMD_UNREGISTER, UINT32_MAX), N);
	for (uint32_t i = 0; i < N; i++)
		ev(f, DP_EV_UNREGISTERED, i, AT_R, 0, 0);
	assert_int_equal(count_cmds(f, DP_CMD_REGISTER, AT_R_BACKUP_AOR | DP_TARGET_SET), N);
	all_registered_at(f, AT_R_BACKUP_AOR);
	assert_int_equal(f->fo.ep[0].settled, N);
}

static void call_ev(struct fx *f, uint32_t target, uint16_t reason, uint32_t status)
{
	struct dp_msg m = {.type = DP_EV_CALL, .target = target, .reason = reason, .value = status};

	ctl_fo_call_event(&f->fo, &m, f->now_us);
}

/* Calls follow the proxy (seed table, mode 1): new INVITEs go to P with the primary AOR;
 * two INVITEs that time out take P down, and calls go to BP with the backup AOR; a
 * callee's refusal through P (486, a 408 of P's own timer) is no failure of P. */
static void calls_follow_the_proxy_and_fail_it_over(void **state)
{
	struct fx *f = *state;
	const uint32_t via_p = DP_TARGET(CTL_P, CTL_AOR_PRIMARY, CTL_P);
	const uint32_t via_bp = DP_TARGET(CTL_BP, CTL_AOR_BACKUP, CTL_BP);

	all_registered_at(f, AT_R);
	assert_int_equal(ctl_fo_call_target(&f->fo), via_p);
	call_ev(f, via_p, DP_FAIL_NONE, 486);
	call_ev(f, via_p, DP_FAIL_NONE, 408);
	call_ev(f, via_p, DP_FAIL_NONE, 200);
	assert_true(f->fo.srv[CTL_P].up);
	assert_int_equal(f->fo.srv[CTL_P].fail_signals, 0);
	/* INVITEs sent after P's last answer time out (timer B) */
	f->now_us += 4 * S_US;
	call_ev(f, via_p, DP_FAIL_TIMEOUT, 0);
	assert_true(f->fo.srv[CTL_P].up); /* one: below the threshold */
	call_ev(f, via_p, DP_FAIL_TIMEOUT, 0);
	assert_false(f->fo.srv[CTL_P].up);
	assert_int_equal(ctl_fo_call_target(&f->fo), via_bp);
	/* and the registrations take the backup AOR (bullet 3) */
	assert_int_equal(f->fo.want.aor, CTL_AOR_BACKUP);
	/* a 503 from BP is overload: a failure signal */
	call_ev(f, via_bp, DP_FAIL_NONE, 503);
	assert_int_equal(f->fo.srv[CTL_BP].fail_signals, 1);
}

/* A timeout of an INVITE sent before the proxy's last answer is a loss, not a failure. */
static void a_call_timeout_older_than_the_last_answer_is_outlived(void **state)
{
	struct fx *f = *state;
	const uint32_t via_p = DP_TARGET(CTL_P, CTL_AOR_PRIMARY, CTL_P);

	all_registered_at(f, AT_R);
	f->now_us += 10 * S_US;
	call_ev(f, via_p, DP_FAIL_NONE, 200); /* P answered just now */
	f->now_us += 1 * S_US; /* timer B is 3 s: these INVITEs left before that answer */
	call_ev(f, via_p, DP_FAIL_TIMEOUT, 0);
	call_ev(f, via_p, DP_FAIL_TIMEOUT, 0);
	assert_true(f->fo.srv[CTL_P].up);
	assert_int_equal(f->fo.srv[CTL_P].fails_outlived, 2);
}

/* Mode 4: calls go through the outbound proxy that works. */
static void mode4_calls_use_the_working_outbound_proxy(void **state)
{
	struct fx *f = *state;

	assert_int_equal(DP_TARGET_VIA(ctl_fo_call_target(&f->fo)), CTL_OP);
	f->fo.srv[CTL_OP].up = false;
	assert_int_equal(DP_TARGET_VIA(ctl_fo_call_target(&f->fo)), CTL_BOP);
	assert_int_equal(DP_TARGET_REG(ctl_fo_call_target(&f->fo)), CTL_P);
}

/* An event about a target the line has left (sent before the move) changes nothing for
 * the line, though it still counts against that server. */
static void stale_events_from_the_old_target_are_ignored(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	tick_for(f, 2 * S_US);
	f->ncmd = 0;
	ev(f, DP_EV_FAILED, 5, AT_R, DP_FAIL_TIMEOUT, 0);
	assert_int_equal(f->fo.line[5].state, CTL_L_REGISTERING);
	assert_int_equal(f->ncmd, 0);
	assert_int_equal(f->fo.srv[CTL_R].fail_signals, 3);
}

/* A full command ring never strands a line: it waits in the queue and goes later. */
static void a_full_ring_defers_moves_without_losing_lines(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	f->ncmd = 0;
	f->refuse_after = 10;
	tick_for(f, 2 * S_US);
	assert_int_equal(f->ncmd, 10);
	assert_true(f->fo.cmd_dropped > 0);
	f->refuse_after = UINT32_MAX;
	tick_for(f, 2 * S_US);
	assert_int_equal(count_cmds(f, DP_CMD_REGISTER, AT_BR | DP_TARGET_SET), N);
}

/* A 503 with Retry-After: the line retries after the server's delay, not ours. */
static void retry_after_of_a_503_sets_the_retry_delay(void **state)
{
	struct fx *f = *state;
	struct dp_msg m = {.type = DP_EV_FAILED,
			   .line = 3,
			   .target = AT_R,
			   .reason = DP_FAIL_5XX,
			   .value = 503,
			   .value2 = 120};

	all_registered_at(f, AT_R);
	ctl_fo_event(&f->fo, &m, f->now_us);
	assert_int_equal(f->ncmd, 1);
	assert_int_equal(f->cmd[0].value, 120000);
}

/* The end of the run: every line in stopping or stopped, no more moves or probes. */
static void stop_leaves_no_line_behind(void **state)
{
	struct fx *f = *state;

	all_registered_at(f, AT_R);
	fail_r_twice(f);
	tick_for(f, 300 * MS_US); /* some moved, some still queued */
	ctl_fo_stop(&f->fo);
	f->ncmd = 0;
	tick_for(f, 5 * S_US);
	assert_int_equal(f->ncmd, 0);
	assert_int_equal(f->fo.q_len, 0);
	for (uint32_t i = 0; i < N; i++)
		assert_true(f->fo.line[i].state == CTL_L_STOPPING ||
			    f->fo.line[i].state == CTL_L_STOPPED);
}

/* Subscriptions start once their line registers, share health with the registrations,
 * and move from P to BP (backup AOR) when P fails, with the REGISTERs' AOR switch. */
static void subscriptions_start_after_registering_and_follow_p(void **state)
{
	struct fx *f = *state;
	struct ctl_fo_config c = base_cfg();
	struct ctl_fo subs;
	struct dp_msg p_fail = {.type = DP_EV_PROBE,
				.reason = DP_FAIL_TIMEOUT,
				.target = DP_TARGET(CTL_P, 0, CTL_P)};
	const uint32_t AT_P = DP_TARGET(CTL_P, CTL_AOR_PRIMARY, CTL_P);
	const uint32_t AT_BP = DP_TARGET(CTL_BP, CTL_AOR_BACKUP, CTL_BP);
	unsigned subscribes = 0, to_bp = 0;

	assert_int_equal(ctl_fo_init(&subs, &c, N, sink, f), 0);
	ctl_fo_follow(&subs, &f->fo);
	assert_int_equal(subs.line[0].state, CTL_L_IDLE);
	all_registered_at(f, AT_R);
	for (unsigned k = 0; k < f->ncmd; k++)
		subscribes += f->cmd[k].flow == DP_FLOW_SUBSCRIBE &&
			      f->cmd[k].type == DP_CMD_REGISTER &&
			      f->cmd[k].target == (AT_P | DP_TARGET_SET);
	assert_int_equal(subscribes, N);
	for (uint32_t i = 0; i < N; i++) {
		struct dp_msg m = {.type = DP_EV_REGISTERED, .line = i, .target = AT_P, .flow = 1};

		ctl_fo_event(&subs, &m, f->now_us);
	}
	assert_int_equal(subs.bound_at[CTL_P], N);
	tick_for(f, 6 * S_US);
	ctl_fo_event(&f->fo, &p_fail, f->now_us);
	tick_for(f, 6 * S_US);
	ctl_fo_event(&f->fo, &p_fail, f->now_us);
	assert_false(subs.srv[CTL_P].up); /* one health for both flows */
	assert_int_equal(subs.want.reg, CTL_BP);
	f->ncmd = 0;
	for (int k = 0; k < 300; k++) {
		f->now_us += 10000;
		ctl_fo_tick(&f->fo, f->now_us);
		ctl_fo_tick(&subs, f->now_us);
	}
	/* P is down: no un-SUBSCRIBE there, a SUBSCRIBE to BP for every line */
	for (unsigned k = 0; k < f->ncmd; k++)
		to_bp += f->cmd[k].flow == DP_FLOW_SUBSCRIBE &&
			 f->cmd[k].target == (AT_BP | DP_TARGET_SET);
	assert_int_equal(to_bp, N);
	ctl_fo_destroy(&subs);
}

/* Mode 4's world: P, R, OP and BOP; flow 1 through OP, flow 2 through BOP, subscriptions. */
struct m4 {
	struct ctl_fo reg2, subs;
};

static int setup_mode4(void **state)
{
	struct ctl_fo_config c = base_cfg();

	c.mode = 4;
	c.configured[CTL_BP] = c.configured[CTL_BR] = false;
	c.configured[CTL_OP] = c.configured[CTL_BOP] = true;
	c.flow_base_all_ms = 30000;
	c.flow_base_ok_ms = 90000;
	c.flow_max_ms = 1800000;
	return setup_with(state, c);
}

static void mode4_init(struct fx *f, struct m4 *m)
{
	assert_int_equal(ctl_fo_init(&m->reg2, &f->fo.cfg, N, sink, f), 0);
	assert_int_equal(ctl_fo_init(&m->subs, &f->fo.cfg, N, sink, f), 0);
	ctl_fo_follow(&m->subs, &f->fo);
	ctl_fo_second_flow(&m->reg2, &f->fo);
}

static void flow_ev(struct fx *f, struct ctl_fo *fo, uint16_t type, uint32_t line, uint32_t target,
		    uint16_t reason, uint32_t value)
{
	struct dp_msg m = {.type = type,
			   .line = line,
			   .target = target,
			   .reason = reason,
			   .value = value,
			   .flow = (uint16_t)fo->flow};

	ctl_fo_event(fo, &m, f->now_us);
}

static const uint32_t AT_R_OP = DP_TARGET(CTL_R, CTL_AOR_PRIMARY, CTL_OP);
static const uint32_t AT_R_BOP = DP_TARGET(CTL_R, CTL_AOR_PRIMARY, CTL_BOP);

/* The wait of the last REGISTER command for line i of flow. */
static uint32_t last_register_delay(const struct fx *f, int flow, uint32_t i)
{
	for (unsigned k = f->ncmd; k-- > 0;) {
		if (f->cmd[k].type == DP_CMD_REGISTER && f->cmd[k].flow == flow &&
		    f->cmd[k].line == i)
			return f->cmd[k].value;
	}
	fail_msg("no REGISTER for line %u of flow %d", i, flow);
	return 0;
}

/* A notifier ended a subscription (RFC 6665 §4.1.3): the line subscribes again after the
 * wait its reason gave (0: at once), at the same server, which is no failure of it. */
static void a_subscription_the_notifier_ended_is_made_again_after_its_wait(void **state)
{
	struct fx *f = *state;
	struct ctl_fo_config c = base_cfg();
	struct ctl_fo subs;
	const uint32_t AT_P = DP_TARGET(CTL_P, CTL_AOR_PRIMARY, CTL_P);
	struct dp_msg m = {.type = DP_EV_FAILED,
			   .line = 4,
			   .target = AT_P,
			   .reason = DP_FAIL_TERMINATED,
			   .flow = DP_FLOW_SUBSCRIBE};

	assert_int_equal(ctl_fo_init(&subs, &c, N, sink, f), 0);
	ctl_fo_follow(&subs, &f->fo);
	all_registered_at(f, AT_R);
	for (uint32_t i = 0; i < N; i++) {
		struct dp_msg r = {.type = DP_EV_REGISTERED, .line = i, .target = AT_P, .flow = 1};

		ctl_fo_event(&subs, &r, f->now_us);
	}
	f->ncmd = 0;
	ctl_fo_event(&subs, &m, f->now_us);
	assert_int_equal(f->ncmd, 1);
	assert_int_equal(f->cmd[0].flow, DP_FLOW_SUBSCRIBE);
	assert_int_equal(f->cmd[0].type, DP_CMD_REGISTER);
	assert_int_equal(f->cmd[0].value, 0);
	assert_int_equal(f->cmd[0].target, AT_P | DP_TARGET_SET);
	m.line = 5;
	m.value2 = 90; /* retry-after=90 */
	ctl_fo_event(&subs, &m, f->now_us);
	assert_int_equal(last_register_delay(f, DP_FLOW_SUBSCRIBE, 5), 90000);
	assert_true(subs.srv[CTL_P].up);
	ctl_fo_destroy(&subs);
}

/* RFC 5626 §4.5: W = min(max, base * 2^failures), then 50-100 % of it. */
static void flow_recovery_wait_doubles_up_to_the_cap(void **state)
{
	(void)state;
	for (uint64_t rnd = 0; rnd < 1000; rnd += 37) {
		uint64_t w1 = ctl_flow_recovery_ms(30000, 1800000, 1, rnd);
		uint64_t w3 = ctl_flow_recovery_ms(30000, 1800000, 3, rnd);
		uint64_t w9 = ctl_flow_recovery_ms(30000, 1800000, 9, rnd);

		assert_in_range(w1, 30000, 60000);   /* the first failure: 30-60 s */
		assert_in_range(w3, 120000, 240000); /* RFC's example: W = 240 s */
		assert_in_range(w9, 900000, 1800000);
	}
}

/* Mode 4: both flows register at R, flow 1 through OP, flow 2 through BOP, with one
 * instance; subscriptions go through OP. */
static void mode4_two_flows_through_op_and_bop(void **state)
{
	struct fx *f = *state;
	struct m4 m;

	mode4_init(f, &m);
	assert_int_equal(f->fo.want.via, CTL_OP);
	assert_int_equal(m.reg2.want.via, CTL_BOP);
	assert_int_equal(m.reg2.want.reg, CTL_R);
	assert_int_equal(m.reg2.line[5].state, CTL_L_REGISTERING);
	assert_int_equal(m.subs.want.via, CTL_OP);
	flow_ev(f, &f->fo, DP_EV_REGISTERED, 5, AT_R_OP, 0, 60);
	flow_ev(f, &m.reg2, DP_EV_REGISTERED, 5, AT_R_BOP, 0, 60);
	assert_int_equal(f->fo.bound_at[CTL_R], 1);
	assert_int_equal(m.reg2.bound_at[CTL_R], 1);
	assert_int_equal(m.subs.line[5].state, CTL_L_REGISTERING); /* it subscribed */
	ctl_fo_destroy(&m.reg2);
	ctl_fo_destroy(&m.subs);
}

/* A failed flow waits §4.5's back-off: base 90 s while the other flow is registered,
 * doubling with each failure in a row; 30 s when no flow is; a success resets it. */
static void mode4_failed_flow_backs_off_by_rfc5626(void **state)
{
	struct fx *f = *state;
	struct m4 m;
	uint32_t d;

	mode4_init(f, &m);
	flow_ev(f, &m.reg2, DP_EV_REGISTERED, 7, AT_R_BOP, 0, 60);
	flow_ev(f, &f->fo, DP_EV_FAILED, 7, AT_R_OP, DP_FAIL_4XX, 403);
	d = last_register_delay(f, DP_FLOW_REGISTER, 7);
	assert_in_range(d, 90000, 180000);
	flow_ev(f, &f->fo, DP_EV_FAILED, 7, AT_R_OP, DP_FAIL_4XX, 403);
	d = last_register_delay(f, DP_FLOW_REGISTER, 7);
	assert_in_range(d, 180000, 360000);
	/* the other flow fails too: base 30 s, three failures in a row */
	flow_ev(f, &m.reg2, DP_EV_FAILED, 7, AT_R_BOP, DP_FAIL_4XX, 403);
	flow_ev(f, &f->fo, DP_EV_FAILED, 7, AT_R_OP, DP_FAIL_4XX, 403);
	d = last_register_delay(f, DP_FLOW_REGISTER, 7);
	assert_in_range(d, 120000, 240000);
	/* registered again: the next failure starts from the first step */
	flow_ev(f, &f->fo, DP_EV_REGISTERED, 7, AT_R_OP, 0, 60);
	flow_ev(f, &f->fo, DP_EV_FAILED, 7, AT_R_OP, DP_FAIL_4XX, 403);
	d = last_register_delay(f, DP_FLOW_REGISTER, 7);
	assert_in_range(d, 30000, 60000);
	ctl_fo_destroy(&m.reg2);
	ctl_fo_destroy(&m.subs);
}

/* TCP/TLS: a flow whose connection ended re-registers without marking its server
 * failed (a server may close idle connections); missed keep-alives do mark it. */
static void flow_ended_by_its_connection_is_no_server_failure(void **state)
{
	struct fx *f = *state;
	struct m4 m;

	mode4_init(f, &m);
	for (uint32_t i = 0; i < 4; i++)
		flow_ev(f, &f->fo, DP_EV_REGISTERED, i, AT_R_OP, 0, 60);
	f->now_us += 4 * S_US;
	flow_ev(f, &f->fo, DP_EV_FLOW_FAILED, 1, AT_R_OP, DP_FAIL_TRANSPORT, 0);
	flow_ev(f, &f->fo, DP_EV_FLOW_FAILED, 2, AT_R_OP, DP_FAIL_TRANSPORT, 0);
	assert_true(f->fo.srv[CTL_OP].up);
	assert_int_equal(f->fo.line[1].state, CTL_L_REGISTERING);
	flow_ev(f, &f->fo, DP_EV_FLOW_FAILED, 0, AT_R_OP, DP_FAIL_TIMEOUT, 0);
	flow_ev(f, &f->fo, DP_EV_FLOW_FAILED, 3, AT_R_OP, DP_FAIL_TIMEOUT, 0);
	assert_false(f->fo.srv[CTL_OP].up);
	ctl_fo_destroy(&m.reg2);
	ctl_fo_destroy(&m.subs);
}

/* OP fails: flow 1 keeps to OP (it recovers in the background), flow 2 stays where it
 * is, subscriptions move through BOP; OP back: they return through OP. */
static void mode4_op_down_moves_only_subscriptions(void **state)
{
	struct fx *f = *state;
	struct m4 m;
	unsigned to_bop = 0, reg_moves = 0;

	mode4_init(f, &m);
	for (uint32_t i = 0; i < N; i++) {
		flow_ev(f, &f->fo, DP_EV_REGISTERED, i, AT_R_OP, 0, 60);
		flow_ev(f, &m.reg2, DP_EV_REGISTERED, i, AT_R_BOP, 0, 60);
		flow_ev(f, &m.subs, DP_EV_REGISTERED, i, DP_TARGET(CTL_P, CTL_AOR_PRIMARY, CTL_OP),
			0, 60);
	}
	f->ncmd = 0;
	f->now_us += 4 * S_US;
	flow_ev(f, &f->fo, DP_EV_FLOW_FAILED, 1, AT_R_OP, DP_FAIL_TIMEOUT, 0);
	flow_ev(f, &f->fo, DP_EV_FLOW_FAILED, 2, AT_R_OP, DP_FAIL_TIMEOUT, 0);
	assert_false(f->fo.srv[CTL_OP].up);
	assert_int_equal(f->fo.want.via, CTL_OP);
	assert_int_equal(m.reg2.want.via, CTL_BOP);
	assert_int_equal(m.subs.want.via, CTL_BOP);
	for (int k = 0; k < 300; k++) {
		f->now_us += 10000;
		ctl_fo_tick(&f->fo, f->now_us);
		ctl_fo_tick(&m.reg2, f->now_us);
		ctl_fo_tick(&m.subs, f->now_us);
	}
	for (unsigned k = 0; k < f->ncmd; k++) {
		to_bop += f->cmd[k].flow == DP_FLOW_SUBSCRIBE &&
			  f->cmd[k].target ==
				  (DP_TARGET(CTL_P, CTL_AOR_PRIMARY, CTL_BOP) | DP_TARGET_SET);
		reg_moves +=
			f->cmd[k].flow != DP_FLOW_SUBSCRIBE && f->cmd[k].type == DP_CMD_REGISTER;
	}
	assert_int_equal(to_bop, N);
	assert_int_equal(reg_moves, 0);
	assert_int_equal(m.reg2.bound_at[CTL_R], N);
	/* the flows through OP fail in turn; OP answers a probe again: their recovery is a
	 * failback episode that ends as each registers again */
	for (uint32_t i = 0; i < N; i++)
		flow_ev(f, &f->fo, DP_EV_FAILED, i, AT_R_OP, DP_FAIL_TIMEOUT, 0);
	assert_int_equal(f->fo.bound_at[CTL_R], 0);
	{
		struct dp_msg back = {
			.type = DP_EV_PROBE, .value = 200, .target = DP_TARGET(CTL_OP, 0, CTL_OP)};
		const struct ctl_episode *e;

		ctl_fo_event(&f->fo, &back, f->now_us);
		assert_true(f->fo.srv[CTL_OP].up);
		assert_int_equal(f->fo.nep, 1);
		e = &f->fo.ep[0];
		assert_true(e->failback);
		assert_int_equal(e->affected, N);
		f->now_us += 5 * S_US;
		for (uint32_t i = 0; i < N; i++)
			flow_ev(f, &f->fo, DP_EV_REGISTERED, i, AT_R_OP, 0, 60);
		assert_int_equal(e->settled, N);
		assert_int_equal(ctl_episode_pct_ms(e, 100), 5000);
	}
	ctl_fo_destroy(&m.reg2);
	ctl_fo_destroy(&m.subs);
}

/* A registrar given as a host name: its DNS targets in slots 6, 7 (priority 10, weights
 * 60/40) and 8 (priority 20). */
static struct ctl_role_targets dns_rt[CTL_ROLE__COUNT];

static void use_dns_registrar(struct fx *f)
{
	memset(dns_rt, 0, sizeof(dns_rt));
	dns_rt[CTL_R] = (struct ctl_role_targets){
		.dns = true,
		.n = 3,
		.slot = {6, 7, 8},
		.priority = {10, 10, 20},
		.weight = {60, 40, 0},
	};
	ctl_fo_use_targets(&f->fo, dns_rt);
}

static unsigned lines_at_slot(const struct fx *f, uint8_t slot)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < N; i++)
		n += f->fo.line[i].via_slot == slot;
	return n;
}

/* The dataplane's side of leaving a live server first: each un-REGISTER answered. */
static void unregistered_where_leaving(struct fx *f)
{
	for (uint32_t i = 0; i < N; i++) {
		if (f->fo.line[i].state == CTL_L_LEAVING)
			ev(f, DP_EV_UNREGISTERED, i,
			   DP_TARGET(CTL_R, CTL_AOR_PRIMARY, f->fo.line[i].via_slot), 0, 0);
	}
}

static void register_where_sent(struct fx *f)
{
	for (uint32_t i = 0; i < N; i++)
		ev(f, DP_EV_REGISTERED, i,
		   DP_TARGET(CTL_R, CTL_AOR_PRIMARY, f->fo.line[i].via_slot), 0, 60);
}

/* SRV weights split the lines; priority 10 failing moves them to priority 20 while the
 * role stays up; a priority-10 target back takes its share again. */
static void dns_targets_split_by_weight_and_fail_over_by_priority(void **state)
{
	struct fx *f = *state;
	unsigned a, b;

	use_dns_registrar(f);
	a = lines_at_slot(f, 6);
	b = lines_at_slot(f, 7);
	assert_int_equal(a + b, N);
	assert_in_range(a, 57, 63); /* 60 % of 100 lines, within 5 % of the ratio */
	register_where_sent(f);
	assert_int_equal(f->fo.bound_at[CTL_R], N);
	f->now_us += 4 * S_US;
	for (int k = 0; k < 2; k++) { /* slot 6 then 7 stop answering */
		uint32_t i = 0;

		f->now_us += 4 * S_US; /* requests sent after its last answer */
		while (f->fo.line[i].via_slot != 6 + k)
			i++;
		ev(f, DP_EV_FAILED, i, DP_TARGET(CTL_R, CTL_AOR_PRIMARY, 6 + k), DP_FAIL_TIMEOUT,
		   0);
		ev(f, DP_EV_FAILED, i + 1 < N ? i + 1 : 0, DP_TARGET(CTL_R, CTL_AOR_PRIMARY, 6 + k),
		   DP_FAIL_TIMEOUT, 0);
		tick_for(f, 2 * S_US);
		register_where_sent(f);
	}
	assert_false(f->fo.srv[6].up);
	assert_false(f->fo.srv[7].up);
	assert_true(ctl_fo_role_up(&f->fo, CTL_R)); /* priority 20 still answers */
	assert_int_equal(f->fo.want.reg, CTL_R);
	assert_int_equal(lines_at_slot(f, 8), N);
	assert_int_equal(count_cmds(f, DP_CMD_REGISTER,
				    DP_TARGET(CTL_R, CTL_AOR_PRIMARY, 8) | DP_TARGET_SET),
			 N);
	/* slot 6 answers a probe: lines whose share it is go back to it */
	{
		struct dp_msg back = {
			.type = DP_EV_PROBE, .value = 200, .target = DP_TARGET(6, 0, 6)};

		ctl_fo_event(&f->fo, &back, f->now_us);
	}
	tick_for(f, 2 * S_US);
	unregistered_where_leaving(f); /* priority 20 still answers: left cleanly */
	register_where_sent(f);
	assert_int_equal(lines_at_slot(f, 6), N); /* the only priority-10 target up */
	assert_int_equal(lines_at_slot(f, 8), 0);
}

/* Mode 3: a 408 that OP sends for R is R's failure, not OP's: OP answered. */
static void a_proxys_408_counts_against_the_server_behind_it(void **state)
{
	struct fx *f = *state;
	const uint32_t at_r_via_op = DP_TARGET(CTL_R, CTL_AOR_PRIMARY, CTL_OP);

	f->fo.cfg.mode = 3;
	f->fo.cfg.configured[CTL_OP] = f->fo.cfg.configured[CTL_BOP] = true;
	f->fo.srv[CTL_OP].up = f->fo.srv[CTL_BOP].up = true;
	for (uint32_t i = 0; i < N; i++) {
		f->fo.line[i].via = f->fo.line[i].via_slot = CTL_OP;
		ev(f, DP_EV_REGISTERED, i, at_r_via_op, 0, 60);
	}
	ev(f, DP_EV_FAILED, 3, at_r_via_op, DP_FAIL_4XX, 408);
	assert_int_equal(f->fo.srv[CTL_OP].fail_signals, 0);
	assert_int_equal(f->fo.srv[CTL_R].fail_signals, 1);
	ev(f, DP_EV_FAILED, 4, at_r_via_op, DP_FAIL_5XX, 504);
	assert_false(f->fo.srv[CTL_R].up);
	assert_true(f->fo.srv[CTL_OP].up);
}

/* One target of three failing moves its own lines only: the others keep theirs. */
static void a_failing_target_moves_only_its_own_lines(void **state)
{
	struct fx *f = *state;
	uint8_t before[N];
	unsigned moved = 0, on8 = 0;

	memset(dns_rt, 0, sizeof(dns_rt));
	dns_rt[CTL_R] = (struct ctl_role_targets){.dns = true,
						  .n = 3,
						  .slot = {6, 7, 8},
						  .priority = {10, 10, 10},
						  .weight = {1, 1, 1}};
	ctl_fo_use_targets(&f->fo, dns_rt);
	for (uint32_t i = 0; i < N; i++) {
		before[i] = ctl_fo_via_slot(&f->fo, CTL_R, i);
		on8 += before[i] == 8;
	}
	assert_in_range(on8, 28, 38);
	f->fo.srv[8].up = false;
	for (uint32_t i = 0; i < N; i++) {
		uint8_t now = ctl_fo_via_slot(&f->fo, CTL_R, i);

		assert_true(now != 8);
		moved += now != before[i];
		if (before[i] != 8)
			assert_int_equal(now, before[i]);
	}
	assert_int_equal(moved, on8);
}

/* A DNS answer that changes: lines move to the new targets (under storm control). */
static void a_changed_dns_answer_moves_the_lines(void **state)
{
	struct fx *f = *state;

	use_dns_registrar(f);
	register_where_sent(f);
	dns_rt[CTL_R] = (struct ctl_role_targets){
		.dns = true, .n = 1, .slot = {9}, .priority = {10}, .weight = {1}};
	ctl_fo_targets_changed(&f->fo, CTL_R, f->now_us);
	assert_true(f->fo.srv[9].up);
	assert_int_equal(f->fo.slot_role[6], -1);
	assert_int_equal(f->fo.q_len, N);
	tick_for(f, 2 * S_US);
	/* the old targets still answer: each line un-registers there first */
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(f->fo.line[i].state, CTL_L_LEAVING);
		ev(f, DP_EV_UNREGISTERED, i,
		   DP_TARGET(CTL_R, CTL_AOR_PRIMARY, f->fo.line[i].via_slot), 0, 0);
	}
	assert_int_equal(lines_at_slot(f, 9), N);
	assert_int_equal(count_cmds(f, DP_CMD_REGISTER,
				    DP_TARGET(CTL_R, CTL_AOR_PRIMARY, 9) | DP_TARGET_SET),
			 N);
	/* no DNS answer at all: the role is down */
	dns_rt[CTL_R].dns_failed = true;
	ctl_fo_targets_changed(&f->fo, CTL_R, f->now_us);
	assert_false(ctl_fo_role_up(&f->fo, CTL_R));
}

/* Percentiles count every affected line: unsettled ones leave the top ones open. */
static void percentiles_stay_open_until_enough_lines_settled(void **state)
{
	uint32_t t[4] = {100, 300, 200, 0};
	struct ctl_episode e = {.affected = 4, .settled = 3, .latency_ms = t};

	(void)state;
	assert_int_equal(ctl_episode_pct_ms(&e, 50), 200);
	assert_int_equal(ctl_episode_pct_ms(&e, 75), 300);
	assert_int_equal(ctl_episode_pct_ms(&e, 90), -1);
	assert_int_equal(ctl_episode_pct_ms(&e, 100), -1);
	e.settled = 4;
	t[3] = 400;
	assert_int_equal(ctl_episode_pct_ms(&e, 100), 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(lines_start_registering_at_r_with_the_primary_aor,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_failure_below_the_threshold_retries_the_same_server, setup, teardown),
		cmocka_unit_test_setup_teardown(auth_failures_do_not_count_against_the_server,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			timeouts_outlived_by_an_answer_do_not_mark_the_server_down, setup,
			teardown),
		cmocka_unit_test_setup_teardown(r_down_moves_every_line_to_br, setup, teardown),
		cmocka_unit_test(flow_recovery_wait_doubles_up_to_the_cap),
		cmocka_unit_test_setup_teardown(
			dns_targets_split_by_weight_and_fail_over_by_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(a_changed_dns_answer_moves_the_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_failing_target_moves_only_its_own_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_proxys_408_counts_against_the_server_behind_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(mode4_two_flows_through_op_and_bop, setup_mode4,
						teardown),
		cmocka_unit_test_setup_teardown(mode4_failed_flow_backs_off_by_rfc5626, setup_mode4,
						teardown),
		cmocka_unit_test_setup_teardown(mode4_op_down_moves_only_subscriptions, setup_mode4,
						teardown),
		cmocka_unit_test_setup_teardown(flow_ended_by_its_connection_is_no_server_failure,
						setup_mode4, teardown),
		cmocka_unit_test_setup_teardown(storm_control_spreads_the_moves_over_the_window,
						setup, teardown),
		cmocka_unit_test_setup_teardown(without_storm_control_every_line_moves_at_once,
						setup_no_storm, teardown),
		cmocka_unit_test_setup_teardown(probe_answer_fails_lines_back_leaving_br_cleanly,
						setup, teardown),
		cmocka_unit_test_setup_teardown(failed_probes_back_off, setup, teardown),
		cmocka_unit_test_setup_teardown(p_down_switches_to_the_backup_aor_at_r, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stale_events_from_the_old_target_are_ignored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_full_ring_defers_moves_without_losing_lines,
						setup, teardown),
		cmocka_unit_test_setup_teardown(retry_after_of_a_503_sets_the_retry_delay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stop_leaves_no_line_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(a_failed_unregister_counts_the_binding_left_behind,
						setup, teardown),
		cmocka_unit_test_setup_teardown(calls_follow_the_proxy_and_fail_it_over, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_call_timeout_older_than_the_last_answer_is_outlived, setup, teardown),
		cmocka_unit_test_setup_teardown(mode4_calls_use_the_working_outbound_proxy,
						setup_mode4, teardown),
		cmocka_unit_test_setup_teardown(subscriptions_start_after_registering_and_follow_p,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_subscription_the_notifier_ended_is_made_again_after_its_wait, setup, teardown),
		cmocka_unit_test(percentiles_stay_open_until_enough_lines_settled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
