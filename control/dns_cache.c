/*
 * The shared DNS cache (control/dns_cache.h): a chained hash of (name, type) entries,
 * each holding its answer, its expiry, whether it was used this TTL period, the query in
 * flight and who waits on it.
 */
#include "control/dns_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CTL_DNS_BUCKETS 1024

struct ctl__waiter {
	ctl_dns_done_fn done;
	void *arg;
};

struct ctl__entry {
	struct ctl__entry *next;
	char name[CTL_DNS_NAME_MAX + 1]; /* lower case */
	uint16_t type;
	/* the answer held: status OK with records, or a negative one */
	bool has_data;
	enum ctl_dns_status status;
	struct ctl_dns_rr *rr;
	unsigned nrr;
	uint32_t ttl_s;
	uint64_t fetched_ms;
	uint64_t expires_ms;
	bool used;	       /* asked for since it was fetched: refresh before it expires */
	bool stale_ok;	       /* serve-stale: the last refresh could not reach the server */
	uint64_t recheck_ms;   /* serve-stale: next try to refresh */
	uint64_t failed_until; /* a failure is the answer until then */
	enum ctl_dns_status fail_status;
	bool pending;
	struct ctl__waiter *w;
	size_t nw, capw;
};

struct ctl_dns_cache {
	struct ctl_dns_cache_config cfg;
	ctl_dns_query_fn query;
	void *query_ctx;
	struct ctl__entry *bucket[CTL_DNS_BUCKETS];
	struct ctl_dns_cache_stats st;
};

const char *ctl_dns_status_name(enum ctl_dns_status s)
{
	static const char *const n[CTL_DNS_STATUS__COUNT] = {
		"ok", "nodata", "nxdomain", "servfail", "timeout", "bad_reply", "cname_loop"};

	return (unsigned)s < CTL_DNS_STATUS__COUNT ? n[s] : "?";
}

int ctl_dns_cache_create(struct ctl_dns_cache **out, const struct ctl_dns_cache_config *cfg,
			 ctl_dns_query_fn query, void *query_ctx)
{
	struct ctl_dns_cache *c = calloc(1, sizeof(*c));

	*out = c;
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->query = query;
	c->query_ctx = query_ctx;
	return 0;
}

static void ctl__drop_data(struct ctl__entry *e)
{
	free(e->rr);
	e->rr = NULL;
	e->nrr = 0;
	e->has_data = false;
	e->stale_ok = false;
}

void ctl_dns_cache_destroy(struct ctl_dns_cache *c)
{
	if (!c)
		return;
	for (size_t b = 0; b < CTL_DNS_BUCKETS; b++) {
		for (struct ctl__entry *e = c->bucket[b], *n; e; e = n) {
			n = e->next;
			ctl__drop_data(e);
			free(e->w);
			free(e);
		}
	}
	free(c);
}

static size_t ctl__hash(const char *name, uint16_t type)
{
	uint64_t h = 1469598103934665603ull ^ type;

	for (; *name; name++)
		h = (h ^ (uint8_t)(*name >= 'A' && *name <= 'Z' ? *name + 32 : *name)) *
		    1099511628211ull;
	return (size_t)(h % CTL_DNS_BUCKETS);
}

static struct ctl__entry *ctl__find(struct ctl_dns_cache *c, const char *name, uint16_t type,
				    bool create)
{
	size_t b = ctl__hash(name, type), n = strlen(name);
	struct ctl__entry *e;

	for (e = c->bucket[b]; e; e = e->next) {
		if (e->type == type && ctl_dns_name_eq(e->name, name))
			return e;
	}
	if (!create || n > CTL_DNS_NAME_MAX || !(e = calloc(1, sizeof(*e))))
		return NULL;
	for (size_t k = 0; k <= n; k++)
		e->name[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
	e->type = type;
	e->next = c->bucket[b];
	c->bucket[b] = e;
	return e;
}

static void ctl__send(struct ctl_dns_cache *c, struct ctl__entry *e)
{
	e->pending = true;
	c->st.queries++;
	c->query(c->query_ctx, e->name, e->type);
}

static void ctl__view(const struct ctl__entry *e, enum ctl_dns_status status, bool stale,
		      uint64_t now_ms, struct ctl_dns_answer *a)
{
	a->status = status;
	a->stale = stale;
	a->ttl_left_s = e->expires_ms > now_ms ? (uint32_t)((e->expires_ms - now_ms) / 1000) : 0;
	a->rr = status == CTL_DNS_OK ? e->rr : NULL;
	a->nrr = status == CTL_DNS_OK ? e->nrr : 0;
}

/* Serve-stale: the held answer may still serve past its TTL. */
static bool ctl__stale_usable(const struct ctl_dns_cache *c, const struct ctl__entry *e,
			      uint64_t now_ms)
{
	return c->cfg.serve_stale && e->has_data && e->stale_ok &&
	       now_ms < e->expires_ms + 1000ull * c->cfg.max_stale_s;
}

/* What the cache can answer now: 1 with *out, or 0. */
static int ctl__answer_now(struct ctl_dns_cache *c, struct ctl__entry *e, uint64_t now_ms,
			   struct ctl_dns_answer *out)
{
	if (e->has_data && now_ms < e->expires_ms) {
		c->st.hits++;
		e->used = true;
		ctl__view(e, e->status, false, now_ms, out);
		return 1;
	}
	if (ctl__stale_usable(c, e, now_ms)) {
		c->st.stale_served++;
		e->used = true;
		if (!e->pending && now_ms >= e->recheck_ms)
			ctl__send(c, e);
		ctl__view(e, e->status, true, now_ms, out);
		return 1;
	}
	if (!e->pending && now_ms < e->failed_until) {
		c->st.hits++;
		ctl__view(e, e->fail_status, false, now_ms, out);
		return 1;
	}
	return 0;
}

int ctl_dns_cache_peek(struct ctl_dns_cache *c, const char *name, uint16_t type, uint64_t now_ms,
		       struct ctl_dns_answer *out)
{
	struct ctl__entry *e = ctl__find(c, name, type, false);

	if (!e || !ctl__answer_now(c, e, now_ms, out))
		return 0;
	c->st.lookups++;
	return 1;
}

int ctl_dns_cache_get(struct ctl_dns_cache *c, const char *name, uint16_t type, uint64_t now_ms,
		      struct ctl_dns_answer *out, ctl_dns_done_fn done, void *arg)
{
	struct ctl__entry *e;

	if (strlen(name) > CTL_DNS_NAME_MAX)
		return -EINVAL;
	if (!(e = ctl__find(c, name, type, true)))
		return -ENOMEM;
	c->st.lookups++;
	if (ctl__answer_now(c, e, now_ms, out))
		return 1;
	c->st.misses++;
	if (e->nw == e->capw) {
		size_t cap = e->capw ? 2 * e->capw : 4;
		struct ctl__waiter *w = realloc(e->w, cap * sizeof(*w));

		if (!w)
			return -ENOMEM;
		e->w = w;
		e->capw = cap;
	}
	e->w[e->nw++] = (struct ctl__waiter){done, arg};
	if (e->pending)
		c->st.coalesced++;
	else
		ctl__send(c, e);
	return 0;
}

/* Keep the answer: a copy of the records, the TTL clamped; 0 when it was kept. */
static int ctl__keep(struct ctl_dns_cache *c, struct ctl__entry *e, enum ctl_dns_status status,
		     const struct ctl_dns_rr *const *rr, unsigned nrr, uint32_t ttl_s,
		     uint64_t now_ms)
{
	struct ctl_dns_rr *copy = nrr ? malloc(nrr * sizeof(*copy)) : NULL;

	if (nrr && !copy)
		return -ENOMEM;
	for (unsigned k = 0; k < nrr; k++)
		copy[k] = *rr[k];
	ctl__drop_data(e);
	if (ttl_s > c->cfg.max_ttl_s) {
		c->st.ttl_clamped++;
		ttl_s = c->cfg.max_ttl_s;
	}
	e->has_data = true;
	e->status = status;
	e->rr = copy;
	e->nrr = nrr;
	e->ttl_s = ttl_s;
	e->fetched_ms = now_ms;
	e->expires_ms = now_ms + 1000ull * ttl_s;
	e->failed_until = 0;
	e->recheck_ms = 0;
	return 0;
}

/* Every asker of the query gets a; the list is emptied first, so a done() that asks
 * again finds a clean entry. */
static void ctl__wake(struct ctl__entry *e, const struct ctl_dns_answer *a)
{
	struct ctl__waiter *w = e->w;
	size_t nw = e->nw;

	e->w = NULL;
	e->nw = e->capw = 0;
	for (size_t k = 0; k < nw; k++)
		w[k].done(w[k].arg, e->name, e->type, a);
	free(w);
}

void ctl_dns_cache_result(struct ctl_dns_cache *c, const char *name, uint16_t type,
			  enum ctl_dns_status status, const struct ctl_dns_rr *const *rr,
			  unsigned nrr, uint32_t ttl_s, uint64_t now_ms)
{
	struct ctl__entry *e = ctl__find(c, name, type, false);
	struct ctl_dns_answer a = {.status = status};
	bool answer =
		status == CTL_DNS_OK || status == CTL_DNS_NODATA || status == CTL_DNS_NXDOMAIN;

	if (!e || !e->pending)
		return; /* not asked, or already told: nothing waits on it */
	e->pending = false;
	if ((unsigned)status < CTL_DNS_STATUS__COUNT)
		c->st.answers[status]++;
	if (answer && ttl_s == 0) {
		/* TTL 0: good for the askers of this query only (RFC 1035 §3.2.1) */
		struct ctl_dns_rr *copy = NULL;

		c->st.ttl_zero++;
		ctl__drop_data(e);
		if (nrr && (copy = malloc(nrr * sizeof(*copy)))) {
			for (unsigned k = 0; k < nrr; k++)
				copy[k] = *rr[k];
		}
		a.rr = copy;
		a.nrr = copy ? nrr : 0;
		if (nrr && !copy)
			a.status = CTL_DNS_SERVFAIL;
		ctl__wake(e, &a);
		free(copy);
		return;
	}
	if (answer && ctl__keep(c, e, status, rr, nrr, ttl_s, now_ms) == 0) {
		e->used = false; /* a new TTL period: in use once someone asks during it */
		ctl__view(e, status, false, now_ms, &a);
		ctl__wake(e, &a);
		return;
	}
	/* no usable answer: the server is unreachable, failing, or lying */
	if (e->has_data &&
	    (now_ms < e->expires_ms ||
	     (c->cfg.serve_stale && now_ms < e->expires_ms + 1000ull * c->cfg.max_stale_s))) {
		bool stale = now_ms >= e->expires_ms;

		/* a failed refresh of an answer still valid, or serve-stale (RFC 8767 §4);
		 * the next try waits, so a server failing fast is not asked every tick */
		if (c->cfg.serve_stale) {
			e->stale_ok = true;
			e->recheck_ms = now_ms + 1000ull * c->cfg.stale_ttl_s;
		} else {
			e->recheck_ms = now_ms + c->cfg.failure_hold_ms;
		}
		if (stale)
			c->st.stale_served += e->nw;
		ctl__view(e, e->status, stale, now_ms, &a);
		ctl__wake(e, &a);
		return;
	}
	ctl__drop_data(e);
	e->fail_status = status;
	e->failed_until = now_ms + c->cfg.failure_hold_ms;
	ctl__wake(e, &a);
}

static uint64_t ctl__margin_ms(const struct ctl_dns_cache *c, const struct ctl__entry *e)
{
	uint64_t m = 50ull * e->ttl_s; /* 5 % of the TTL, in ms */

	return m < c->cfg.prefetch_max_ms ? m : c->cfg.prefetch_max_ms;
}

void ctl_dns_cache_tick(struct ctl_dns_cache *c, uint64_t now_ms)
{
	for (size_t b = 0; b < CTL_DNS_BUCKETS; b++) {
		struct ctl__entry **pe = &c->bucket[b];

		while (*pe) {
			struct ctl__entry *e = *pe;

			if (e->has_data && !e->pending && e->used && now_ms < e->expires_ms &&
			    now_ms + ctl__margin_ms(c, e) >= e->expires_ms &&
			    now_ms >= e->recheck_ms) {
				c->st.prefetches++;
				ctl__send(c, e);
			}
			/* serve-stale keeps an expired answer for when its refresh fails */
			if (e->has_data && now_ms >= e->expires_ms &&
			    !(c->cfg.serve_stale &&
			      now_ms < e->expires_ms + 1000ull * c->cfg.max_stale_s))
				ctl__drop_data(e);
			if (!e->has_data && !e->pending && !e->nw && now_ms >= e->failed_until) {
				*pe = e->next; /* no one asks for it: let it go */
				free(e->w);
				free(e);
				continue;
			}
			pe = &e->next;
		}
	}
}

const struct ctl_dns_cache_stats *ctl_dns_cache_stats(const struct ctl_dns_cache *c)
{
	return &c->st;
}

void ctl_dns_cache_each(const struct ctl_dns_cache *c, uint64_t now_ms,
			void (*f)(void *arg, const char *name, uint16_t type,
				  enum ctl_dns_status status, int64_t ttl_left_s),
			void *arg)
{
	for (size_t b = 0; b < CTL_DNS_BUCKETS; b++) {
		for (const struct ctl__entry *e = c->bucket[b]; e; e = e->next) {
			if (e->has_data)
				f(arg, e->name, e->type, e->status,
				  ((int64_t)e->expires_ms - (int64_t)now_ms) / 1000);
		}
	}
}
