/*
 * RFC 3263 §4 over the shared cache (control/dns_locate.h). Each step asks the cache;
 * a step the cache answers at once runs on at once, so a warm cache locates a server
 * without a loop turn.
 */
#include "control/dns_locate.h"

#include "control/failover.h"
#include "sip/builder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl__loc;

struct ctl__aq {
	struct ctl__loc *l;
	unsigned idx;
};

struct ctl__loc {
	struct ctl_dns_resolver *r;
	char host[CTL_DNS_NAME_MAX + 1];
	uint16_t port;
	int transport; /* SIP_TPL_UDP, _TCP or _TLS */
	ctl_sip_locate_fn done;
	void *arg;
	bool sync;     /* still inside ctl_sip_locate() */
	bool finished; /* the result is in res */
	bool peek;     /* the cache-only walk: a step not cached stops it (missed) */
	bool missed;
	unsigned pending;
	struct ctl_sip_targets res;
	unsigned nsrv;
	struct {
		char name[CTL_DNS_NAME_MAX + 1];
		uint16_t port, priority, weight;
	} srv[CTL_SIP_TARGETS_MAX];
	struct ctl__aq aq[CTL_SIP_TARGETS_MAX];
	enum ctl_dns_status last_fail;
};

static void ctl__ttl(struct ctl__loc *l, const struct ctl_dns_answer *a)
{
	if (a->ttl_left_s < l->res.ttl_s)
		l->res.ttl_s = a->ttl_left_s;
	l->res.stale |= a->stale;
}

static int ctl__by_priority(const void *x, const void *y)
{
	const struct ctl_sip_target *a = x, *b = y;

	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->weight != b->weight)
		return a->weight > b->weight ? -1 : 1;
	/* one order whatever order the answers came in: the same answer, the same list */
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return a->port < b->port ? -1 : a->port > b->port;
}

static void ctl__finish(struct ctl__loc *l, enum ctl_dns_status st)
{
	l->res.status = l->res.n ? CTL_DNS_OK : st;
	qsort(l->res.t, l->res.n, sizeof(l->res.t[0]), ctl__by_priority);
	if (l->res.ttl_s == UINT32_MAX)
		l->res.ttl_s = 0;
	l->finished = true;
	if (l->sync)
		return; /* ctl_sip_locate() hands it out */
	l->done(l->arg, &l->res);
	free(l);
}

static void ctl__add(struct ctl__loc *l, uint32_t ip, uint16_t port, uint16_t prio, uint16_t w)
{
	if (l->res.n < CTL_SIP_TARGETS_MAX)
		l->res.t[l->res.n++] = (struct ctl_sip_target){ip, port, prio, w};
}

/* Ask the cache; its answer goes to f now or later. */
static void ctl__ask(struct ctl__loc *l, const char *name, uint16_t type, ctl_dns_done_fn f,
		     void *ctx)
{
	struct ctl_dns_answer a;
	int rc;

	if (l->peek) {
		if (ctl_dns_cache_peek(ctl_dns_resolver_cache(l->r), name, type,
				       ctl_dns_resolver_now(l->r), &a))
			f(ctx, name, type, &a);
		else
			l->missed = true;
		return;
	}
	rc = ctl_dns_lookup(l->r, name, type, &a, f, ctx);
	if (rc == 1)
		f(ctx, name, type, &a);
	else if (rc < 0)
		f(ctx, name, type, &(struct ctl_dns_answer){.status = CTL_DNS_SERVFAIL});
}

/* RFC 3263 §4.1 and RFC 3261 §19.1.2: per transport, the NAPTR service, the SRV prefix
 * and the port a host without SRV listens at. */
static const struct {
	const char *naptr, *srv;
	uint16_t port;
} ctl__tp[] = {
	[SIP_TPL_UDP] = {"sip+d2u", "_sip._udp", 5060},
	[SIP_TPL_TCP] = {"sip+d2t", "_sip._tcp", 5060},
	[SIP_TPL_TLS] = {"sips+d2t", "_sips._tcp", 5061},
};

static uint16_t ctl__default_port(const struct ctl__loc *l)
{
	return ctl__tp[l->transport].port;
}

/* An SRV target's (or the host's) addresses. */
static void ctl__on_a(void *ctx, const char *name, uint16_t type, const struct ctl_dns_answer *a)
{
	struct ctl__aq *q = ctx;
	struct ctl__loc *l = q->l;

	(void)name;
	(void)type;
	ctl__ttl(l, a);
	if (a->status == CTL_DNS_OK) {
		/* a target's weight is shared by its addresses, so each target keeps its share */
		uint16_t w = a->nrr ? (uint16_t)(l->srv[q->idx].weight / a->nrr) : 0;

		if (!w && l->srv[q->idx].weight)
			w = 1;
		for (unsigned k = 0; k < a->nrr; k++)
			ctl__add(l, a->rr[k].a, l->srv[q->idx].port, l->srv[q->idx].priority, w);
	} else {
		l->last_fail = a->status;
	}
	if (--l->pending == 0)
		ctl__finish(l, l->last_fail);
}

static void ctl__addresses(struct ctl__loc *l)
{
	l->pending = 1; /* held while asking, so no answer finishes it early */
	for (unsigned k = 0; k < l->nsrv && !l->missed; k++) {
		l->aq[k] = (struct ctl__aq){l, k};
		l->pending++;
		ctl__ask(l, l->srv[k].name, CTL_DNS_A, ctl__on_a, &l->aq[k]);
	}
	if (--l->pending == 0)
		ctl__finish(l, l->last_fail);
}

/* No SRV: the host's own addresses on the default port (RFC 3263 §4.2). */
static void ctl__host_a(struct ctl__loc *l, uint16_t port)
{
	l->res.how = "A";
	l->nsrv = 1;
	snprintf(l->srv[0].name, sizeof(l->srv[0].name), "%s", l->host);
	l->srv[0].port = port;
	l->srv[0].priority = l->srv[0].weight = 0;
	ctl__addresses(l);
}

static void ctl__on_srv(void *ctx, const char *name, uint16_t type, const struct ctl_dns_answer *a)
{
	struct ctl__loc *l = ctx;

	(void)name;
	(void)type;
	ctl__ttl(l, a);
	if (a->status == CTL_DNS_NODATA || a->status == CTL_DNS_NXDOMAIN)
		return ctl__host_a(l, ctl__default_port(l));
	if (a->status != CTL_DNS_OK)
		return ctl__finish(l, a->status);
	if (strcmp(l->res.how, "NAPTR"))
		l->res.how = "SRV";
	for (unsigned k = 0; k < a->nrr && l->nsrv < CTL_SIP_TARGETS_MAX; k++) {
		const struct ctl_dns_rr *rr = &a->rr[k];

		if (!rr->srv.target[0]) /* "." : no service here (RFC 2782) */
			continue;
		snprintf(l->srv[l->nsrv].name, sizeof(l->srv[0].name), "%s", rr->srv.target);
		l->srv[l->nsrv].port = rr->srv.port;
		l->srv[l->nsrv].priority = rr->srv.priority;
		l->srv[l->nsrv].weight = rr->srv.weight;
		l->nsrv++;
	}
	if (!l->nsrv)
		return ctl__finish(l, CTL_DNS_NODATA);
	ctl__addresses(l);
}

static void ctl__srv(struct ctl__loc *l, const char *name)
{
	char n[CTL_DNS_NAME_MAX + 1];

	snprintf(n, sizeof(n), "%s", name);
	ctl__ask(l, n, CTL_DNS_SRV, ctl__on_srv, l);
}

/* NAPTR: the best record for SIP over the transport names the SRV to ask (RFC 3263 §4.1).
 * The transport is the role's own, so records for the others are passed over. */
static void ctl__on_naptr(void *ctx, const char *name, uint16_t type,
			  const struct ctl_dns_answer *a)
{
	struct ctl__loc *l = ctx;
	const struct ctl_dns_rr *best = NULL;
	char srv[CTL_DNS_NAME_MAX + 1];

	(void)name;
	(void)type;
	ctl__ttl(l, a);
	if (a->status == CTL_DNS_TIMEOUT || a->status == CTL_DNS_BADREPLY ||
	    a->status == CTL_DNS_CNAME_LOOP)
		return ctl__finish(l, a->status);
	for (unsigned k = 0; a->status == CTL_DNS_OK && k < a->nrr; k++) {
		const struct ctl_dns_rr *rr = &a->rr[k];

		if (strcmp(rr->naptr.service, ctl__tp[l->transport].naptr) ||
		    !strchr(rr->naptr.flags, 's'))
			continue;
		if (!best || rr->naptr.order < best->naptr.order ||
		    (rr->naptr.order == best->naptr.order &&
		     rr->naptr.preference < best->naptr.preference))
			best = rr;
	}
	if (best) {
		l->res.how = "NAPTR";
		return ctl__srv(l, best->naptr.replacement);
	}
	/* no NAPTR for the transport: SRV of the host (§4.1, last paragraph) */
	if (snprintf(srv, sizeof(srv), "%s.%s", ctl__tp[l->transport].srv, l->host) >=
	    (int)sizeof(srv))
		return ctl__finish(l, CTL_DNS_BADREPLY);
	ctl__srv(l, srv);
}

/* Fields a walk starts from (the arrays are filled as it goes, not cleared). */
static void ctl__start(struct ctl__loc *l, struct ctl_dns_resolver *r, const char *host,
		       uint16_t port, int transport, bool peek)
{
	l->r = r;
	snprintf(l->host, sizeof(l->host), "%s", host);
	l->port = port;
	l->transport = transport;
	l->sync = true;
	l->finished = l->missed = false;
	l->peek = peek;
	l->pending = 0;
	l->nsrv = 0;
	l->last_fail = CTL_DNS_NODATA;
	l->res.n = 0;
	l->res.stale = false;
	l->res.ttl_s = UINT32_MAX;
	l->res.how = "SRV";
	if (port)
		ctl__host_a(l, port); /* a port given: its addresses only (§4.2) */
	else
		ctl__ask(l, l->host, CTL_DNS_NAPTR, ctl__on_naptr, l);
	l->sync = false;
}

int ctl_sip_locate(struct ctl_dns_resolver *r, const char *host, uint16_t port, int transport,
		   struct ctl_sip_targets *out, ctl_sip_locate_fn done, void *arg)
{
	struct in_addr ip;
	struct ctl__loc quick, *l;

	if (strlen(host) > CTL_DNS_NAME_MAX - 11 ||
	    (transport != SIP_TPL_UDP && transport != SIP_TPL_TCP && transport != SIP_TPL_TLS))
		return -EINVAL;
	if (inet_pton(AF_INET, host, &ip) == 1) { /* an address: no DNS (§4.2) */
		*out = (struct ctl_sip_targets){.status = CTL_DNS_OK, .how = "address", .n = 1};
		out->t[0] = (struct ctl_sip_target){ntohl(ip.s_addr),
						    port ? port : ctl__tp[transport].port, 0, 0};
		return 1;
	}
	/* a warm cache answers every step: no allocation, no query */
	ctl__start(&quick, r, host, port, transport, true);
	if (quick.finished) {
		*out = quick.res;
		return 1;
	}
	if (!(l = malloc(sizeof(*l))))
		return -ENOMEM;
	l->done = done;
	l->arg = arg;
	ctl__start(l, r, host, port, transport, false);
	if (!l->finished)
		return 0;
	*out = l->res;
	free(l);
	return 1;
}

int ctl_sip_pick(const struct ctl_sip_targets *t, const bool *up, uint32_t id)
{
	uint16_t prio[CTL_SIP_TARGETS_MAX], weight[CTL_SIP_TARGETS_MAX];

	for (unsigned k = 0; k < t->n; k++) {
		prio[k] = t->t[k].priority;
		weight[k] = t->t[k].weight;
	}
	return ctl_pick_target(t->n, prio, weight, up, id);
}
