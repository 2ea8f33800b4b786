/*
 * The invariant of DESIGN.md §4 / issue 5, checked against random fault schedules: while
 * any registrar answers, every line ends up registered somewhere, exactly once, and no
 * line is forgotten in a state. control/failover.c runs against a simulated dataplane and
 * simulated servers (bindings with expiry, timeouts while down, probes) for half an hour
 * of simulated time per seed, servers failing and returning at random; then everything
 * comes back and, once stale bindings expired, each line must hold exactly one binding,
 * at the targets the mode's table wants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/failover.h"

#define N 150
#define MS 1000ull
#define S 1000000ull
#define STEP (10 * MS) /* the world moves in 10 ms steps, as often as control ticks */
#define RTT (2 * MS)
#define TIMER_F (4 * S)
#define GRANT (60 * S)
#define REFRESH (30 * S)

enum sim_state { SIM_IDLE, SIM_REG, SIM_BOUND, SIM_UNREG, SIM_WAIT };

struct sim_line {
	uint8_t state;
	uint32_t target;
	uint64_t due;	   /* when the transaction ends, the wait ends, or the refresh starts */
	bool will_succeed; /* the transaction's fate, fixed when it was sent */
	bool unreg_after;  /* told to un-register while a REGISTER was out (dataplane/line.c) */
	/* bindings servers hold for this line: expiry per (registrar, AOR), 0: none */
	uint64_t binding[CTL_ROLE__COUNT][2];
};

struct sim {
	struct ctl_fo fo;
	struct sim_line line[N];
	bool up[CTL_ROLE__COUNT];
	uint64_t probe_due[CTL_ROLE__COUNT]; /* 0: none out */
	bool probe_ok[CTL_ROLE__COUNT];
	uint64_t now;
	uint64_t rng;
	struct dp_msg pending[4 * N + 16]; /* events the dataplane has produced, in order */
	unsigned npending;
};

static uint64_t sim_rand(struct sim *s)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return s->rng;
}

static void emit(struct sim *s, uint16_t type, uint32_t line, uint32_t target, uint16_t reason,
		 uint32_t value)
{
	assert_true(s->npending < sizeof(s->pending) / sizeof(s->pending[0]));
	s->pending[s->npending++] = (struct dp_msg){
		.type = type, .line = line, .target = target, .reason = reason, .value = value};
}

/* A request to target goes through if its next hop and its registrar both answer. */
static bool reachable(const struct sim *s, uint32_t t)
{
	return s->up[DP_TARGET_VIA(t)] && s->up[DP_TARGET_REG(t)];
}

static void start_tx(struct sim *s, struct sim_line *l, uint8_t state)
{
	l->state = state;
	l->unreg_after = false;
	l->will_succeed = reachable(s, l->target);
	l->due = s->now + (l->will_succeed ? RTT : TIMER_F);
}

/* The dataplane's side of a command (dataplane/line.c, in managed mode). */
static int sim_command(void *ctx, const struct dp_msg *c)
{
	struct sim *s = ctx;
	struct sim_line *l = c->line < N ? &s->line[c->line] : NULL;

	switch (c->type) {
	case DP_CMD_REGISTER:
		if (c->target & DP_TARGET_SET)
			l->target = c->target & ~DP_TARGET_SET;
		if (c->value) {
			l->state = SIM_WAIT;
			l->due = s->now + c->value * MS;
		} else {
			start_tx(s, l, SIM_REG);
		}
		return 0;
	case DP_CMD_UNREGISTER:
		if (l->state == SIM_BOUND)
			start_tx(s, l, SIM_UNREG);
		else if (l->state == SIM_REG)
			l->unreg_after = true;
		else if (l->state == SIM_WAIT)
			l->state = SIM_IDLE; /* nothing comes back, as in the dataplane */
		return 0;
	case DP_CMD_PROBE: {
		int r = (int)DP_TARGET_VIA(c->target);

		s->probe_ok[r] = s->up[r];
		s->probe_due[r] = s->now + (s->up[r] ? RTT : c->value * MS);
		return 0;
	}
	default:
		return 0;
	}
}

static void sim_line_step(struct sim *s, uint32_t i)
{
	struct sim_line *l = &s->line[i];
	uint32_t reg = DP_TARGET_REG(l->target), aor = DP_TARGET_AOR(l->target);

	if (l->state == SIM_IDLE || s->now < l->due)
		return;
	switch (l->state) {
	case SIM_WAIT:
		start_tx(s, l, SIM_REG);
		return;
	case SIM_BOUND: /* the refresh */
		start_tx(s, l, SIM_REG);
		return;
	case SIM_REG:
		if (l->will_succeed) {
			bool unreg = l->unreg_after;

			l->binding[reg][aor] = s->now + GRANT;
			l->state = SIM_BOUND;
			l->due = s->now + REFRESH;
			emit(s, DP_EV_REGISTERED, i, l->target, 0, 60);
			if (unreg)
				start_tx(s, l, SIM_UNREG);
		} else {
			l->state = SIM_IDLE;
			emit(s, DP_EV_FAILED, i, l->target, DP_FAIL_TIMEOUT, 0);
		}
		return;
	case SIM_UNREG:
		l->state = SIM_IDLE;
		if (l->will_succeed) {
			l->binding[reg][aor] = 0;
			emit(s, DP_EV_UNREGISTERED, i, l->target, 0, 0);
		} else {
			emit(s, DP_EV_FAILED, i, l->target, DP_FAIL_TIMEOUT, 0);
		}
		return;
	}
}

/* One step of the world: servers, lines, probes, then control drains the ring and ticks. */
static void sim_step(struct sim *s)
{
	s->now += STEP;
	for (uint32_t i = 0; i < N; i++) {
		sim_line_step(s, i);
		for (int r = 0; r < CTL_ROLE__COUNT; r++) {
			for (int a = 0; a < 2; a++) {
				if (s->line[i].binding[r][a] && s->line[i].binding[r][a] <= s->now)
					s->line[i].binding[r][a] =
						0; /* the server lets it expire */
			}
		}
	}
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (s->probe_due[r] && s->now >= s->probe_due[r]) {
			s->probe_due[r] = 0;
			emit(s, DP_EV_PROBE, 0, DP_TARGET(r, 0, r),
			     s->probe_ok[r] ? DP_FAIL_NONE : DP_FAIL_TIMEOUT,
			     s->probe_ok[r] ? 200 : 0);
		}
	}
	{
		unsigned n = s->npending;

		s->npending = 0;
		for (unsigned k = 0; k < n; k++)
			ctl_fo_event(&s->fo, &s->pending[k], s->now);
		ctl_fo_tick(&s->fo, s->now);
	}
}

static void sim_run(struct sim *s, uint64_t us)
{
	for (uint64_t end = s->now + us; s->now < end;)
		sim_step(s);
}

static void check_settled(struct sim *s, int mode, uint64_t seed)
{
	uint32_t want = DP_TARGET(s->fo.want.reg, s->fo.want.aor, s->fo.want.via);

	assert_int_equal(s->fo.q_len, 0);
	for (uint32_t i = 0; i < N; i++) {
		const struct sim_line *l = &s->line[i];
		unsigned held = 0;

		for (int r = 0; r < CTL_ROLE__COUNT; r++)
			held += (l->binding[r][0] != 0) + (l->binding[r][1] != 0);
		/* bound, or bound with its refresh out at this very moment */
		if (s->fo.line[i].state != CTL_L_REGISTERED ||
		    (l->state != SIM_BOUND && l->state != SIM_REG) || l->target != want ||
		    held != 1 || !l->binding[DP_TARGET_REG(want)][DP_TARGET_AOR(want)])
			fail_msg("mode %d seed %llu line %u: control %s, dataplane state %d target "
				 "%x (want %x), %u bindings",
				 mode, (unsigned long long)seed, i,
				 ctl_line_state_name(s->fo.line[i].state), l->state, l->target,
				 want, held);
	}
}

static void run_schedule(int mode, uint64_t seed)
{
	struct ctl_fo_config cfg = {
		.mode = mode,
		.configured = {[CTL_P] = true,
			       [CTL_BP] = true,
			       [CTL_R] = true,
			       [CTL_BR] = true,
			       [CTL_OP] = mode == 2,
			       [CTL_BOP] = mode == 2},
		.retry_ms = 5000,
		.timer_f_ms = TIMER_F / MS,
		.fail_threshold = 2,
		.probe_min_ms = 1000,
		.probe_max_ms = 16000,
		.probe_timeout_ms = 2000,
		.monitor_ms = 3000,
		.storm_on = true,
		.storm_window_ms = 2000,
		.storm_rate_cap = 500,
		.seed = seed,
	};
	static const int faulty[] = {CTL_R, CTL_BR, CTL_P, CTL_BP, CTL_OP, CTL_BOP};
	struct sim *s = calloc(1, sizeof(*s));
	uint32_t first;

	s->rng = seed * 0x9e3779b97f4a7c15ull | 1;
	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		s->up[r] = true;
	assert_int_equal(ctl_fo_init(&s->fo, &cfg, N, sim_command, s), 0);
	first = DP_TARGET(s->fo.want.reg, s->fo.want.aor, s->fo.want.via);
	for (uint32_t i = 0; i < N; i++) { /* the dataplane's start-up ramp */
		s->line[i].target = first;
		start_tx(s, &s->line[i], SIM_REG);
		s->line[i].due += i * STEP;
	}
	/* 30 minutes: every 20-120 s one server fails or returns */
	for (int k = 0; k < 30; k++) {
		int r = faulty[sim_rand(s) % (mode == 2 ? 6 : 4)];

		s->up[r] = !s->up[r];
		sim_run(s, (20 + sim_rand(s) % 100) * S);
	}
	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		s->up[r] = true;
	/* probes back off to 16 s; stale bindings expire after 60 s; refreshes every 30 s */
	sim_run(s, 150 * S);
	check_settled(s, mode, seed);
	ctl_fo_destroy(&s->fo);
	free(s);
}

static void mode1_every_line_ends_registered_exactly_once(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 5; seed++)
		run_schedule(1, seed);
}

static void mode2_every_line_ends_registered_exactly_once(void **state)
{
	(void)state;
	for (uint64_t seed = 101; seed <= 105; seed++)
		run_schedule(2, seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mode1_every_line_ends_registered_exactly_once),
		cmocka_unit_test(mode2_every_line_ends_registered_exactly_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
