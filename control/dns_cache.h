/*
 * The process's one DNS cache, keyed by (name, type) and shared by every line
 * (DESIGN.md §5). Pure logic on an injected clock: it asks its owner to send a query
 * (ctl_dns_query_fn) and is told the outcome (ctl_dns_cache_result), so tests drive it
 * without a network and control/dns_resolver.c drives it with c-ares.
 *
 * - An answer is used until its TTL runs out, never after, unless serve-stale (RFC 8767)
 *   is on: then, while the server cannot be reached, within max_stale_s.
 * - Negative answers (NXDOMAIN, no data) live as long as RFC 2308 §5 says (SOA); without
 *   an SOA they are not kept.
 * - One query in flight per key: every asker meanwhile waits on it (coalesced).
 * - A name in use is asked again shortly before it expires (prefetch), so nobody waits on
 *   a refresh; a name not used during its TTL is let go.
 * - TTL 0 answers serve the askers of that query and are not kept; TTLs are clamped to
 *   max_ttl_s.
 */
#ifndef CTL_DNS_CACHE_H
#define CTL_DNS_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "control/dns_msg.h"

/* What a lookup came to. */
enum ctl_dns_status {
	CTL_DNS_OK = 0,
	CTL_DNS_NODATA,	  /* the name exists, no record of the type */
	CTL_DNS_NXDOMAIN, /* the name does not exist */
	CTL_DNS_SERVFAIL, /* SERVFAIL, REFUSED, NOTIMP, FORMERR */
	CTL_DNS_TIMEOUT,  /* no answer: every try timed out or was refused */
	CTL_DNS_BADREPLY, /* garbage, or an answer to another question */
	CTL_DNS_CNAME_LOOP,
	CTL_DNS_STATUS__COUNT
};

const char *ctl_dns_status_name(enum ctl_dns_status s);

/* An answer as the cache hands it out: records of the type asked (views into the cache's
 * copy, valid until the next call into the cache). */
struct ctl_dns_answer {
	enum ctl_dns_status status;
	bool stale; /* served past its TTL (serve-stale) */
	uint32_t ttl_left_s;
	const struct ctl_dns_rr *rr;
	unsigned nrr;
};

/* Called once per lookup with its answer; never from inside ctl_dns_cache_get(). */
typedef void (*ctl_dns_done_fn)(void *arg, const char *name, uint16_t type,
				const struct ctl_dns_answer *a);
/* Send one query for (name, type); its outcome comes back in ctl_dns_cache_result(). */
typedef void (*ctl_dns_query_fn)(void *ctx, const char *name, uint16_t type);

struct ctl_dns_cache_config {
	uint32_t max_ttl_s;   /* longer TTLs are clamped (86400) */
	bool serve_stale;     /* RFC 8767 (off) */
	uint32_t max_stale_s; /* how long past its TTL an answer may serve (86400) */
	uint32_t stale_ttl_s; /* a stale answer counts as fresh this long (30, RFC 8767 §4) */
	/* a name in use is asked again this long before it expires: 5 % of its TTL, at most
	 * prefetch_max_ms (1000), so its answer arrives in time and a TTL period costs one
	 * query */
	uint32_t prefetch_max_ms;
	uint32_t failure_hold_ms; /* a failure is the answer to askers this long (1000) */
};

struct ctl_dns_cache_stats {
	uint64_t lookups;
	uint64_t hits;
	uint64_t misses;
	uint64_t coalesced; /* askers that found their query already in flight */
	uint64_t queries;   /* sent */
	uint64_t prefetches;
	uint64_t stale_served;
	uint64_t answers[CTL_DNS_STATUS__COUNT];
	uint64_t ttl_clamped;
	uint64_t ttl_zero;
};

struct ctl_dns_cache;

int ctl_dns_cache_create(struct ctl_dns_cache **out, const struct ctl_dns_cache_config *cfg,
			 ctl_dns_query_fn query, void *query_ctx);
void ctl_dns_cache_destroy(struct ctl_dns_cache *c);

/*
 * Look (name, type) up at now_ms. A fresh (or, with serve-stale, usable stale) answer is
 * returned at once: 1, *out filled. Otherwise 0: the query is sent (or already out) and
 * done(arg, ...) is called when it ends. -ENOMEM, -EINVAL (a name longer than 255).
 */
int ctl_dns_cache_get(struct ctl_dns_cache *c, const char *name, uint16_t type, uint64_t now_ms,
		      struct ctl_dns_answer *out, ctl_dns_done_fn done, void *arg);

/* As ctl_dns_cache_get() when the cache can answer now (1, *out filled); 0 and nothing
 * else happens when it cannot: no query, no asker kept. The fast path of a warm cache. */
int ctl_dns_cache_peek(struct ctl_dns_cache *c, const char *name, uint16_t type, uint64_t now_ms,
		       struct ctl_dns_answer *out);

/*
 * The outcome of the query for (name, type): status, and for CTL_DNS_OK the records with
 * ttl_s the least TTL of them; for NODATA/NXDOMAIN ttl_s is the negative TTL (0: do not
 * keep). Wakes every asker.
 */
void ctl_dns_cache_result(struct ctl_dns_cache *c, const char *name, uint16_t type,
			  enum ctl_dns_status status, const struct ctl_dns_rr *const *rr,
			  unsigned nrr, uint32_t ttl_s, uint64_t now_ms);

/* Prefetch names in use that near their expiry; let go of names no one used. */
void ctl_dns_cache_tick(struct ctl_dns_cache *c, uint64_t now_ms);

const struct ctl_dns_cache_stats *ctl_dns_cache_stats(const struct ctl_dns_cache *c);

/* Each cached key: f(arg, name, type, status, seconds of TTL left (negative: stale)). */
void ctl_dns_cache_each(const struct ctl_dns_cache *c, uint64_t now_ms,
			void (*f)(void *arg, const char *name, uint16_t type,
				  enum ctl_dns_status status, int64_t ttl_left_s),
			void *arg);

#endif
