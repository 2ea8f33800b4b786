/*
 * c-ares on the libuv loop (control/dns_resolver.h): c-ares tells which sockets it wants
 * watched (ARES_OPT_SOCK_STATE_CB), a uv_poll_t per socket hands readiness back
 * (ares_process_fd), and a 50 ms timer runs c-ares' timeouts and the cache's prefetch.
 */
#include "control/dns_resolver.h"

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "control/dns_msg.h"

#define CTL_DNS_TICK_MS 50
#define ctl__container_of(p, type, member) ((type *)((char *)(p)-offsetof(type, member)))

struct ctl__sock {
	uv_poll_t poll;
	ares_socket_t fd;
	struct ctl_dns_resolver *r;
	struct ctl__sock *next;
};

/* One query out: what it asked, to check the answer against. */
struct ctl__query {
	struct ctl_dns_resolver *r;
	uint16_t type;
	char name[CTL_DNS_NAME_MAX + 1];
};

/* An outcome that came while the cache was still inside its call: told a loop turn later
 * (libuv's rule: a callback never runs inside the call that registered it). */
struct ctl__late {
	char name[CTL_DNS_NAME_MAX + 1];
	uint16_t type;
	enum ctl_dns_status status;
};

struct ctl_dns_resolver {
	uv_loop_t *loop;
	ares_channel ch;
	bool ch_up;
	struct ctl_dns_cache *cache;
	uv_timer_t tick;
	uv_timer_t late_timer;
	struct ctl__sock *socks;
	int handles_open;
	bool closing;
	bool in_send;
	struct ctl__late *late;
	size_t nlate, caplate;
	struct ctl_dns_resolver_stats st;
	struct ctl_dns_msg msg; /* scratch for one answer (large) */
};

void ctl_dns_resolver_defaults(struct ctl_dns_resolver_config *cfg)
{
	*cfg = (struct ctl_dns_resolver_config){
		.servers = NULL,
		.timeout_ms = 2000,
		.tries = 2,
		.cache =
			{
				.max_ttl_s = 86400,
				.serve_stale = false,
				.max_stale_s = 86400,
				.stale_ttl_s = 30,
				.prefetch_max_ms = 1000,
				.failure_hold_ms = 1000,
			},
	};
}

static void ctl__free_if_done(struct ctl_dns_resolver *r)
{
	if (r->closing && r->handles_open == 0) {
		ctl_dns_cache_destroy(r->cache);
		free(r->late);
		free(r);
	}
}

static void ctl__handle_closed(uv_handle_t *h)
{
	struct ctl_dns_resolver *r = h->data;

	if (h->type == UV_POLL)
		free(ctl__container_of((uv_poll_t *)h, struct ctl__sock, poll));
	r->handles_open--;
	ctl__free_if_done(r);
}

static void ctl__poll_cb(uv_poll_t *p, int status, int events)
{
	struct ctl__sock *s = ctl__container_of(p, struct ctl__sock, poll);
	ares_socket_t rd = ARES_SOCKET_BAD, wr = ARES_SOCKET_BAD;

	if (status < 0 || events & UV_READABLE)
		rd = s->fd; /* an error: let c-ares read it and learn */
	if (status < 0 || events & UV_WRITABLE)
		wr = s->fd;
	ares_process_fd(s->r->ch, rd, wr);
}

/* c-ares: watch fd for reading and/or writing, or stop watching it. */
static void ctl__sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct ctl_dns_resolver *r = data;
	struct ctl__sock **ps = &r->socks, *s;

	while (*ps && (*ps)->fd != fd)
		ps = &(*ps)->next;
	s = *ps;
	if (!readable && !writable) {
		if (!s)
			return;
		*ps = s->next;
		uv_poll_stop(&s->poll);
		uv_close((uv_handle_t *)&s->poll, ctl__handle_closed);
		return;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s || uv_poll_init_socket(r->loop, &s->poll, fd) != 0) {
			free(s);
			return; /* c-ares times the query out: counted, never stuck */
		}
		s->fd = fd;
		s->r = r;
		s->poll.data = r;
		s->next = r->socks;
		r->socks = s;
		r->handles_open++;
	}
	uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
		      ctl__poll_cb);
}

static uint64_t ctl__now(struct ctl_dns_resolver *r)
{
	return uv_now(r->loop);
}

static void ctl__late_cb(uv_timer_t *t)
{
	struct ctl_dns_resolver *r = t->data;
	size_t n = r->nlate;
	struct ctl__late *l = r->late;

	r->late = NULL;
	r->nlate = r->caplate = 0;
	for (size_t k = 0; k < n; k++)
		ctl_dns_cache_result(r->cache, l[k].name, l[k].type, l[k].status, NULL, 0, 0,
				     ctl__now(r));
	free(l);
}

/* A failure without an answer to read: told now, or a turn later inside a send. */
static void ctl__fail(struct ctl_dns_resolver *r, const struct ctl__query *q,
		      enum ctl_dns_status st)
{
	if (!r->in_send) {
		ctl_dns_cache_result(r->cache, q->name, q->type, st, NULL, 0, 0, ctl__now(r));
		return;
	}
	if (r->nlate == r->caplate) {
		size_t cap = r->caplate ? 2 * r->caplate : 8;
		struct ctl__late *l = realloc(r->late, cap * sizeof(*l));

		if (!l)
			return; /* the cache's failure hold covers the askers' next try */
		r->late = l;
		r->caplate = cap;
	}
	r->late[r->nlate] = (struct ctl__late){.type = q->type, .status = st};
	memcpy(r->late[r->nlate].name, q->name, sizeof(q->name));
	r->nlate++;
	uv_timer_start(&r->late_timer, ctl__late_cb, 0, 0);
}

/* What an answer says about (name, type), into the cache. */
static void ctl__answer(struct ctl_dns_resolver *r, const struct ctl__query *q,
			const unsigned char *abuf, int alen)
{
	struct ctl_dns_msg *m = &r->msg;
	const struct ctl_dns_rr *rr[CTL_DNS_MAX_RRS];
	const char *why;
	size_t at;
	uint32_t ttl = 0;
	int n;

	if (ctl_dns_msg_parse(abuf, (size_t)alen, m, &why, &at) != 0 ||
	    !ctl_dns_name_eq(m->qname, q->name) || m->qtype != q->type) {
		r->st.bad++; /* garbage, or the answer to another question */
		return ctl__fail(r, q, CTL_DNS_BADREPLY);
	}
	r->st.rcode[m->rcode & 15]++;
	r->st.truncated += m->truncated;
	switch (m->rcode) {
	case CTL_DNS_RCODE_NOERROR:
		n = ctl_dns_msg_records(m, rr, CTL_DNS_MAX_RRS, &ttl);
		if (n < 0)
			return ctl__fail(r, q, CTL_DNS_CNAME_LOOP);
		if (n == 0)
			return ctl_dns_cache_result(r->cache, q->name, q->type, CTL_DNS_NODATA,
						    NULL, 0, m->has_soa ? m->negative_ttl : 0,
						    ctl__now(r));
		return ctl_dns_cache_result(r->cache, q->name, q->type, CTL_DNS_OK, rr, (unsigned)n,
					    ttl, ctl__now(r));
	case CTL_DNS_RCODE_NXDOMAIN:
		return ctl_dns_cache_result(r->cache, q->name, q->type, CTL_DNS_NXDOMAIN, NULL, 0,
					    m->has_soa ? m->negative_ttl : 0, ctl__now(r));
	default:
		return ctl__fail(r, q, CTL_DNS_SERVFAIL);
	}
}

static void ctl__ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct ctl__query *q = arg;
	struct ctl_dns_resolver *r = q->r;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED || r->closing) {
		free(q);
		return;
	}
	if (status == ARES_SUCCESS && abuf) {
		ctl__answer(r, q, abuf, alen);
	} else if (status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED ||
		   status == ARES_ESERVFAIL || status == ARES_EREFUSED) {
		r->st.timeouts += status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED;
		ctl__fail(r, q,
			  status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED
				  ? CTL_DNS_TIMEOUT
				  : CTL_DNS_SERVFAIL);
	} else {
		r->st.bad++;
		ctl__fail(r, q, CTL_DNS_BADREPLY);
	}
	free(q);
}

/* The cache asks: one query for (name, type). An outcome known at once is told a loop
 * turn later, since the cache is still inside the asker's call. */
static void ctl__query(void *ctx, const char *name, uint16_t type)
{
	struct ctl_dns_resolver *r = ctx;
	struct ctl__query *q = calloc(1, sizeof(*q)), failed = {.r = r, .type = type};
	unsigned char *buf = NULL;
	int len = 0;

	r->in_send = true;
	snprintf(failed.name, sizeof(failed.name), "%s", name);
	if (!q) {
		ctl__fail(r, &failed, CTL_DNS_SERVFAIL);
	} else if (ares_create_query(name, 1 /* IN */, type, 0, 1, &buf, &len, 0) != ARES_SUCCESS) {
		ctl__fail(r, &failed, CTL_DNS_BADREPLY); /* a name no query can carry */
		free(q);
	} else {
		*q = failed;
		r->st.sent++;
		ares_send(r->ch, buf, len, ctl__ares_cb, q);
		ares_free_string(buf);
	}
	r->in_send = false;
}

static void ctl__tick(uv_timer_t *t)
{
	struct ctl_dns_resolver *r = t->data;

	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* c-ares' timeouts */
	ctl_dns_cache_tick(r->cache, ctl__now(r));
}

int ctl_dns_resolver_create(struct ctl_dns_resolver **out, uv_loop_t *loop,
			    const struct ctl_dns_resolver_config *cfg, char *err, size_t errlen)
{
	struct ctl_dns_resolver *r = calloc(1, sizeof(*r));
	struct ares_options o = {0};
	int rc;

	*out = NULL;
	if (!r) {
		snprintf(err, errlen, "no memory for the resolver");
		return -ENOMEM;
	}
	r->loop = loop;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS ||
	    ctl_dns_cache_create(&r->cache, &cfg->cache, ctl__query, r) != 0) {
		snprintf(err, errlen, "DNS: %s",
			 rc ? ares_strerror(rc) : "no memory for the cache");
		ctl_dns_cache_destroy(r->cache);
		free(r);
		return -ENOMEM;
	}
	o.sock_state_cb = ctl__sock_state;
	o.sock_state_cb_data = r;
	o.timeout = (int)cfg->timeout_ms;
	o.tries = (int)cfg->tries;
	/* SERVFAIL and REFUSED come back as answers: the cache decides what they mean */
	o.flags = ARES_FLAG_NOCHECKRESP;
#ifdef ARES_OPT_QUERY_CACHE
	/* c-ares >= 1.23 caches too: one cache, ours, which sees every TTL */
	o.qcache_max_ttl = 0;
#endif
	if ((rc = ares_init_options(&r->ch, &o,
				    ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
					    ARES_OPT_FLAGS
#ifdef ARES_OPT_QUERY_CACHE
					    | ARES_OPT_QUERY_CACHE
#endif
				    )) != ARES_SUCCESS ||
	    (r->ch_up = true, cfg->servers && (rc = ares_set_servers_ports_csv(
						       r->ch, cfg->servers)) != ARES_SUCCESS)) {
		snprintf(err, errlen, "DNS servers '%s': %s",
			 cfg->servers ? cfg->servers : "system", ares_strerror(rc));
		if (r->ch_up)
			ares_destroy(r->ch);
		ctl_dns_cache_destroy(r->cache);
		free(r);
		return -EINVAL;
	}
	uv_timer_init(loop, &r->tick);
	uv_timer_init(loop, &r->late_timer);
	r->tick.data = r->late_timer.data = r;
	r->handles_open = 2;
	uv_timer_start(&r->tick, ctl__tick, CTL_DNS_TICK_MS, CTL_DNS_TICK_MS);
	uv_unref((uv_handle_t *)&r->tick); /* the resolver alone does not keep a loop alive */
	*out = r;
	return 0;
}

void ctl_dns_resolver_close(struct ctl_dns_resolver *r)
{
	if (!r || r->closing)
		return;
	r->closing = true;
	ares_destroy(r->ch); /* callbacks with ARES_EDESTRUCTION */
	r->ch_up = false;
	while (r->socks) { /* whatever c-ares did not report closed */
		struct ctl__sock *s = r->socks;

		r->socks = s->next;
		uv_poll_stop(&s->poll);
		uv_close((uv_handle_t *)&s->poll, ctl__handle_closed);
	}
	uv_close((uv_handle_t *)&r->tick, ctl__handle_closed);
	uv_close((uv_handle_t *)&r->late_timer, ctl__handle_closed);
}

int ctl_dns_lookup(struct ctl_dns_resolver *r, const char *name, uint16_t type,
		   struct ctl_dns_answer *out, ctl_dns_done_fn done, void *arg)
{
	return ctl_dns_cache_get(r->cache, name, type, ctl__now(r), out, done, arg);
}

uint64_t ctl_dns_resolver_now(const struct ctl_dns_resolver *r)
{
	return uv_now(r->loop);
}

struct ctl_dns_cache *ctl_dns_resolver_cache(struct ctl_dns_resolver *r)
{
	return r->cache;
}

const struct ctl_dns_resolver_stats *ctl_dns_resolver_stats(const struct ctl_dns_resolver *r)
{
	return &r->st;
}
