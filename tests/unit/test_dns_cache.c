/*
 * Promises of control/dns_cache.c on a fake clock with a fake upstream that records the
 * queries: TTLs kept and never overrun, one query per key however many ask, prefetch of
 * names in use, negative caching by the SOA, TTL 0, clamping, serve-stale, failures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control/dns_cache.h"

struct fx {
	struct ctl_dns_cache *c;
	unsigned queries;
	char last_name[256];
	uint16_t last_type;
	unsigned done_calls;
	struct ctl_dns_answer last;
	uint32_t last_ip;
	uint64_t now;
	bool used_pending; /* a query for used.example.test is out */
};

static void upstream(void *ctx, const char *name, uint16_t type)
{
	struct fx *f = ctx;

	f->queries++;
	snprintf(f->last_name, sizeof(f->last_name), "%s", name);
	f->last_type = type;
	if (!strcmp(name, "used.example.test"))
		f->used_pending = true;
}

static void done(void *arg, const char *name, uint16_t type, const struct ctl_dns_answer *a)
{
	struct fx *f = arg;

	(void)name;
	(void)type;
	f->done_calls++;
	f->last = *a;
	f->last_ip = a->nrr ? a->rr[0].a : 0;
}

static struct ctl_dns_cache_config cfg(bool stale)
{
	struct ctl_dns_cache_config c = {
		.max_ttl_s = 3600,
		.serve_stale = stale,
		.max_stale_s = 600,
		.stale_ttl_s = 30,
		.prefetch_max_ms = 1000,
		.failure_hold_ms = 1000,
	};

	return c;
}

static int setup_with(void **state, bool stale)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ctl_dns_cache_config c = cfg(stale);

	assert_int_equal(ctl_dns_cache_create(&f->c, &c, upstream, f), 0);
	f->now = 1000000;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

static int setup_stale(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ctl_dns_cache_destroy(f->c);
	free(f);
	return 0;
}

static int get(struct fx *f, const char *name, struct ctl_dns_answer *a)
{
	return ctl_dns_cache_get(f->c, name, CTL_DNS_A, f->now, a, done, f);
}

/* The upstream answers name with one A record of ip and ttl. */
static void answer_a(struct fx *f, const char *name, uint32_t ip, uint32_t ttl)
{
	struct ctl_dns_rr rr = {.type = CTL_DNS_A, .ttl = ttl, .a = ip};
	const struct ctl_dns_rr *p = &rr;

	snprintf(rr.name, sizeof(rr.name), "%s", name);
	ctl_dns_cache_result(f->c, name, CTL_DNS_A, CTL_DNS_OK, &p, 1, ttl, f->now);
}

static void upstream_fails(struct fx *f, const char *name, enum ctl_dns_status st)
{
	ctl_dns_cache_result(f->c, name, CTL_DNS_A, st, NULL, 0, 0, f->now);
}

/* A million askers of one name while its query is out cause one query. */
static void one_query_for_every_asker(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	for (int k = 0; k < 1000000; k++)
		assert_int_equal(get(f, "sip.example.test", &a), 0);
	assert_int_equal(f->queries, 1);
	assert_int_equal(ctl_dns_cache_stats(f->c)->coalesced, 999999);
	answer_a(f, "sip.example.test", 0xc6120001, 5);
	assert_int_equal(f->done_calls, 1000000);
	assert_int_equal(f->last_ip, 0xc6120001);
	assert_int_equal(get(f, "SIP.Example.Test", &a), 1); /* names ignore case */
	assert_int_equal(a.nrr, 1);
	assert_int_equal(f->queries, 1);
}

/* An answer serves until its TTL runs out and never after. */
static void an_answer_is_used_until_its_ttl_and_never_after(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	get(f, "r.example.test", &a);
	answer_a(f, "r.example.test", 1, 5);
	f->now += 4999;
	assert_int_equal(get(f, "r.example.test", &a), 1);
	assert_int_equal(a.rr[0].a, 1);
	f->now += 1;
	assert_int_equal(get(f, "r.example.test", &a), 0); /* expired: asked again */
	assert_int_equal(f->queries, 2);
}

/* A name in use is asked again shortly before it expires: no asker waits, and a TTL
 * period costs one query; a name no one uses is not refreshed. */
static void names_in_use_are_prefetched_once_per_ttl(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;
	uint64_t end;

	get(f, "used.example.test", &a);
	get(f, "idle.example.test", &a);
	f->used_pending = false;
	answer_a(f, "used.example.test", 7, 5);
	answer_a(f, "idle.example.test", 8, 5);
	assert_int_equal(f->queries, 2);
	end = f->now + 50000; /* ten TTL periods, asked every 10 ms, answered at once */
	while (f->now < end) {
		f->now += 10;
		ctl_dns_cache_tick(f->c, f->now);
		if (f->used_pending) {
			f->used_pending = false;
			answer_a(f, "used.example.test", 7, 5);
		}
		assert_int_equal(get(f, "used.example.test", &a), 1); /* never waits */
	}
	/* refreshed at 95 % of each TTL: ten refreshes in ten periods after the first answer */
	assert_int_equal(ctl_dns_cache_stats(f->c)->prefetches, 10);
	assert_int_equal(f->queries, 12);
	assert_int_equal(get(f, "idle.example.test", &a), 0); /* it was let go */
}

/* RFC 2308: a negative answer lives as its SOA says; without one it is not kept. */
static void negative_answers_live_by_the_soa(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	get(f, "gone.example.test", &a);
	ctl_dns_cache_result(f->c, "gone.example.test", CTL_DNS_A, CTL_DNS_NXDOMAIN, NULL, 0, 3,
			     f->now);
	assert_int_equal(f->last.status, CTL_DNS_NXDOMAIN);
	f->now += 2999;
	assert_int_equal(get(f, "gone.example.test", &a), 1);
	assert_int_equal(a.status, CTL_DNS_NXDOMAIN);
	f->now += 1;
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(get(f, "gone.example.test", &a), 0);
	assert_int_equal(f->queries, 2);
}

/* TTL 0 answers serve the query's askers and are not kept; absurd TTLs are clamped. */
static void ttl_zero_is_not_kept_and_long_ttls_are_clamped(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	get(f, "zero.example.test", &a);
	answer_a(f, "zero.example.test", 9, 0);
	assert_int_equal(f->done_calls, 1);
	assert_int_equal(f->last_ip, 9);
	assert_int_equal(get(f, "zero.example.test", &a), 0);
	assert_int_equal(f->queries, 2);
	get(f, "long.example.test", &a);
	answer_a(f, "long.example.test", 10, 2000000000u);
	assert_int_equal(get(f, "long.example.test", &a), 1);
	assert_int_equal(a.ttl_left_s, 3600);
	assert_int_equal(ctl_dns_cache_stats(f->c)->ttl_clamped, 1);
}

/* A failure answers the askers, and for a moment the next ones, without a query each. */
static void a_failure_answers_and_is_held_briefly(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	get(f, "down.example.test", &a);
	get(f, "down.example.test", &a);
	upstream_fails(f, "down.example.test", CTL_DNS_TIMEOUT);
	assert_int_equal(f->done_calls, 2);
	assert_int_equal(f->last.status, CTL_DNS_TIMEOUT);
	assert_int_equal(get(f, "down.example.test", &a), 1);
	assert_int_equal(a.status, CTL_DNS_TIMEOUT);
	f->now += 1000;
	assert_int_equal(get(f, "down.example.test", &a), 0);
	assert_int_equal(f->queries, 2);
}

/* Without serve-stale, an expired answer whose refresh fails is gone: askers get the
 * failure (lines fail over). */
static void without_serve_stale_the_failure_wins_after_the_ttl(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	get(f, "r.example.test", &a);
	answer_a(f, "r.example.test", 1, 5);
	f->now += 4960; /* in the prefetch window: the refresh goes out and times out */
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(f->queries, 1); /* not used since it was fetched: no prefetch */
	get(f, "r.example.test", &a);
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(f->queries, 2);
	upstream_fails(f, "r.example.test", CTL_DNS_TIMEOUT);
	assert_int_equal(get(f, "r.example.test", &a), 1); /* still within its TTL */
	assert_int_equal(a.rr[0].a, 1);
	f->now += 40;
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(get(f, "r.example.test", &a), 0);
	upstream_fails(f, "r.example.test", CTL_DNS_TIMEOUT);
	assert_int_equal(f->last.status, CTL_DNS_TIMEOUT);
	assert_false(f->last.stale);
}

/* With serve-stale, the last answer keeps serving while the server cannot be reached,
 * within max_stale, and the cache keeps trying to refresh it. */
static void serve_stale_keeps_the_last_answer_while_the_server_is_gone(void **state)
{
	struct fx *f = *state;
	struct ctl_dns_answer a;

	get(f, "r.example.test", &a);
	answer_a(f, "r.example.test", 1, 5);
	f->now += 5000;
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(get(f, "r.example.test", &a), 0);
	upstream_fails(f, "r.example.test", CTL_DNS_TIMEOUT);
	assert_int_equal(f->last.status, CTL_DNS_OK);
	assert_true(f->last.stale);
	assert_int_equal(f->last_ip, 1);
	f->now += 10000;
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(get(f, "r.example.test", &a), 1);
	assert_true(a.stale);
	assert_int_equal(f->queries, 2); /* the next try waits for the recheck time */
	f->now += 20000;
	assert_int_equal(get(f, "r.example.test", &a), 1);
	assert_int_equal(f->queries, 3);
	answer_a(f, "r.example.test", 2, 5); /* the server is back with a new answer */
	assert_int_equal(get(f, "r.example.test", &a), 1);
	assert_false(a.stale);
	assert_int_equal(a.rr[0].a, 2);
	assert_true(ctl_dns_cache_stats(f->c)->stale_served >= 3);
	/* and never past max_stale */
	f->now += 5000;
	ctl_dns_cache_tick(f->c, f->now);
	get(f, "r.example.test", &a);
	upstream_fails(f, "r.example.test", CTL_DNS_TIMEOUT);
	f->now += 600000;
	ctl_dns_cache_tick(f->c, f->now);
	assert_int_equal(get(f, "r.example.test", &a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(one_query_for_every_asker, setup, teardown),
		cmocka_unit_test_setup_teardown(an_answer_is_used_until_its_ttl_and_never_after,
						setup, teardown),
		cmocka_unit_test_setup_teardown(names_in_use_are_prefetched_once_per_ttl, setup,
						teardown),
		cmocka_unit_test_setup_teardown(negative_answers_live_by_the_soa, setup, teardown),
		cmocka_unit_test_setup_teardown(ttl_zero_is_not_kept_and_long_ttls_are_clamped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_failure_answers_and_is_held_briefly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(without_serve_stale_the_failure_wins_after_the_ttl,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			serve_stale_keeps_the_last_answer_while_the_server_is_gone, setup_stale,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
