/*
 * bench/run dns: the shared DNS cache alone, no network: ns per cache hit, RFC 3263
 * resolutions per second through a warm cache (NAPTR, SRV and three A lookups each,
 * plus the weighted pick of a target), and the queries that 1,000,000 lines looking up
 * one name cost over 10 TTL periods on a simulated clock (the answer to 10 periods is 10
 * refreshes after the first answer). --json prints one object for scripts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "control/dns_cache.h"
#include "control/dns_locate.h"
#include "control/dns_resolver.h"
#include "sip/builder.h"

#define LINES 1000000u
#define TTL_S 300u

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fake upstream: remembers that a query went out; the bench answers it. */
static unsigned queries, out_now;

static void upstream(void *ctx, const char *name, uint16_t type)
{
	(void)ctx;
	(void)name;
	(void)type;
	queries++;
	out_now = 1;
}

static void ignore(void *arg, const char *name, uint16_t type, const struct ctl_dns_answer *a)
{
	(void)arg;
	(void)name;
	(void)type;
	(void)a;
}

static struct ctl_dns_cache_config cache_cfg(void)
{
	struct ctl_dns_resolver_config c;

	ctl_dns_resolver_defaults(&c);
	return c.cache;
}

static void answer(struct ctl_dns_cache *c, const char *name, uint16_t type, uint64_t now_ms)
{
	struct ctl_dns_rr rr = {.type = type, .ttl = TTL_S, .a = 0xc6120001};
	const struct ctl_dns_rr *p = &rr;

	snprintf(rr.name, sizeof(rr.name), "%s", name);
	ctl_dns_cache_result(c, name, type, CTL_DNS_OK, &p, 1, TTL_S, now_ms);
}

static double hit_ns(void)
{
	struct ctl_dns_cache_config cfg = cache_cfg();
	struct ctl_dns_cache *c;
	struct ctl_dns_answer a;
	const unsigned n = 20000000;
	double t0;
	unsigned ok = 0;

	ctl_dns_cache_create(&c, &cfg, upstream, NULL);
	ctl_dns_cache_get(c, "r1.example.test", CTL_DNS_A, 0, &a, ignore, NULL);
	answer(c, "r1.example.test", CTL_DNS_A, 0);
	t0 = now_s();
	for (unsigned k = 0; k < n; k++)
		ok += ctl_dns_cache_get(c, "r1.example.test", CTL_DNS_A, 1000, &a, ignore, NULL);
	t0 = now_s() - t0;
	ctl_dns_cache_destroy(c);
	return ok == n ? t0 * 1e9 / n : -1;
}

/* 1,000,000 lines each look the name up once per TTL period, evenly spread, on a
 * simulated clock; the upstream answers 1 ms after each query. */
static unsigned queries_10ttl(void)
{
	struct ctl_dns_cache_config cfg = cache_cfg();
	struct ctl_dns_cache *c;
	struct ctl_dns_answer a;
	const uint64_t step_ms = 10, period_ms = 1000ull * TTL_S;
	uint64_t t = 0, first = 0, line = 0, answer_at = 0;
	unsigned before = 0;

	queries = 0;
	ctl_dns_cache_create(&c, &cfg, upstream, NULL);
	for (; !first || t <= first + 10 * period_ms; t += step_ms) {
		uint64_t due = LINES * (t + step_ms) / period_ms;

		ctl_dns_cache_tick(c, t);
		if (out_now) {
			out_now = 0;
			answer_at = t + 1;
		}
		if (answer_at && t >= answer_at) {
			answer(c, "sip.example.test", CTL_DNS_SRV, t);
			answer_at = 0;
			if (!first) {
				first = t;
				before = queries;
			}
		}
		for (; line < due; line++)
			ctl_dns_cache_get(c, "sip.example.test", CTL_DNS_SRV, t, &a, ignore, NULL);
	}
	ctl_dns_cache_destroy(c);
	return queries - before;
}

/* Warm a resolver's cache with the lab zone's answers (no query leaves: the server
 * named is loopback's discard port and the loop never runs). */
static void warm(struct ctl_dns_cache *c, uint64_t now)
{
	static const char *const a_names[] = {"r1.example.test", "r2.example.test",
					      "r3.example.test"};
	struct ctl_dns_rr n = {.type = CTL_DNS_NAPTR, .ttl = 3600}, s[3], a;
	const struct ctl_dns_rr *p[3];
	struct ctl_dns_answer x;

	snprintf(n.name, sizeof(n.name), "sip.example.test");
	n.naptr.order = 10;
	snprintf(n.naptr.flags, sizeof(n.naptr.flags), "s");
	snprintf(n.naptr.service, sizeof(n.naptr.service), "sip+d2u");
	snprintf(n.naptr.replacement, sizeof(n.naptr.replacement), "_sip._udp.sip.example.test");
	p[0] = &n;
	ctl_dns_cache_get(c, "sip.example.test", CTL_DNS_NAPTR, now, &x, ignore, NULL);
	ctl_dns_cache_result(c, "sip.example.test", CTL_DNS_NAPTR, CTL_DNS_OK, p, 1, 3600, now);
	for (int k = 0; k < 3; k++) {
		s[k] = (struct ctl_dns_rr){.type = CTL_DNS_SRV, .ttl = 3600};
		s[k].srv.priority = k < 2 ? 10 : 20;
		s[k].srv.weight = k == 0 ? 60 : k == 1 ? 40 : 0;
		s[k].srv.port = 5060;
		snprintf(s[k].srv.target, sizeof(s[k].srv.target), "%s", a_names[k]);
		p[k] = &s[k];
	}
	ctl_dns_cache_get(c, "_sip._udp.sip.example.test", CTL_DNS_SRV, now, &x, ignore, NULL);
	ctl_dns_cache_result(c, "_sip._udp.sip.example.test", CTL_DNS_SRV, CTL_DNS_OK, p, 3, 3600,
			     now);
	for (int k = 0; k < 3; k++) {
		a = (struct ctl_dns_rr){.type = CTL_DNS_A, .ttl = 3600, .a = 0xc6120001u + k};
		p[0] = &a;
		ctl_dns_cache_get(c, a_names[k], CTL_DNS_A, now, &x, ignore, NULL);
		ctl_dns_cache_result(c, a_names[k], CTL_DNS_A, CTL_DNS_OK, p, 1, 3600, now);
	}
}

static void no_locate(void *arg, const struct ctl_sip_targets *t)
{
	(void)arg;
	(void)t;
}

static double resolutions_per_s(void)
{
	struct ctl_dns_resolver_config cfg;
	struct ctl_dns_resolver *r;
	struct ctl_sip_targets t;
	bool up[CTL_SIP_TARGETS_MAX];
	uv_loop_t loop;
	char err[128];
	const unsigned n = 2000000;
	unsigned ok = 0, picks[3] = {0};
	double t0;

	uv_loop_init(&loop);
	ctl_dns_resolver_defaults(&cfg);
	cfg.servers = "127.0.0.1:9";
	if (ctl_dns_resolver_create(&r, &loop, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "bench_dns: %s\n", err);
		return -1;
	}
	warm(ctl_dns_resolver_cache(r), ctl_dns_resolver_now(r));
	for (int k = 0; k < CTL_SIP_TARGETS_MAX; k++)
		up[k] = true;
	t0 = now_s();
	for (unsigned k = 0; k < n; k++) {
		int i;

		ok += ctl_sip_locate(r, "sip.example.test", 0, SIP_TPL_UDP, &t, no_locate, NULL) ==
			      1 &&
		      t.n == 3;
		i = ctl_sip_pick(&t, up, k);
		picks[i >= 0 && i < 3 ? i : 0]++;
	}
	t0 = now_s() - t0;
	ctl_dns_resolver_close(r);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (ok != n || picks[2] != 0)
		return -1;
	return n / t0;
}

int main(int argc, char **argv)
{
	int json = argc > 1 && !strcmp(argv[1], "--json");
	double hit, rps;
	unsigned q;

	if (argc > 1 && !json) {
		fprintf(stderr, "usage: bench_dns [--json]\n");
		return 2;
	}
	hit = hit_ns();
	rps = resolutions_per_s();
	q = queries_10ttl();
	if (hit < 0 || rps < 0) {
		fprintf(stderr, "bench_dns: a warm cache missed\n");
		return 1;
	}
	if (json) {
		printf("{\"cache_hit_ns\":%.1f,\"resolutions_per_s\":%.0f,\"queries_per_key_10ttl\":%u,"
		       "\"lines\":%u,\"ttl_s\":%u}\n",
		       hit, rps, q, LINES, TTL_S);
		return 0;
	}
	printf("| figure | value |\n|---|---:|\n");
	printf("| ns per cache hit (one name, A) | %.1f |\n", hit);
	printf("| RFC 3263 resolutions per s through the warm cache (NAPTR, SRV, 3 A, pick) | %.0f |\n",
	       rps);
	printf("| queries for %u lines on one name over 10 TTL periods (after the first answer) | %u |\n",
	       LINES, q);
	return 0;
}
