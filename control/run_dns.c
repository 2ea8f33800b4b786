/*
 * Roles given as host names, for `sipedge run` (control/run_dns.h).
 */
#include "control/run_dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A slot for (role, ip, port): its own again, else a fresh one, else a free one. */
static int ctl__slot_for(struct ctl_run_dns *d, int role, uint32_t ip, uint16_t port)
{
	int fresh = -1, freed = -1;

	for (int s = CTL_ROLE__COUNT; s < CTL_SLOTS; s++) {
		if (d->slot[s].role == role && d->slot[s].ip == ip && d->slot[s].port == port)
			return s;
		if (d->slot[s].role < 0 && !d->slot[s].ever && fresh < 0)
			fresh = s;
		if (d->slot[s].role < 0 && d->slot[s].ever && freed < 0)
			freed = s;
	}
	return fresh >= 0 ? fresh : freed;
}

static void ctl__name_slot(struct ctl_run_dns *d, int s)
{
	struct in_addr a = {htonl(d->slot[s].ip)};
	char ip[16];

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	snprintf(d->slot_name[s], sizeof(d->slot_name[s]), "%s %s:%u",
		 ctl_role_name(d->slot[s].role), ip, d->slot[s].port);
}

/* What role's answer t makes of its targets; true when they changed. */
static bool ctl__apply(struct ctl_run_dns *d, int role, const struct ctl_sip_targets *t)
{
	struct ctl_role_targets nt = {.dns = true};
	struct ctl_role_targets *cur = &d->rt[role];

	if (t->status != CTL_DNS_OK || !t->n) {
		d->failures++;
		d->last_fail[role] = t->status != CTL_DNS_OK ? t->status : CTL_DNS_NODATA;
		if (cur->dns_failed)
			return false;
		cur->dns_failed = true; /* no usable answer: down until DNS answers */
		return true;
	}
	for (unsigned k = 0; k < t->n && nt.n < CTL_ROLE_TARGETS_MAX; k++) {
		int s = ctl__slot_for(d, role, t->t[k].ip, t->t[k].port);
		bool taken = false;

		if (s < 0) {
			d->no_slot++;
			continue;
		}
		for (unsigned j = 0; j < nt.n; j++)
			taken |= nt.slot[j] == s;
		if (taken)
			continue; /* the same address twice */
		if (d->slot[s].role != role || d->slot[s].ip != t->t[k].ip ||
		    d->slot[s].port != t->t[k].port) {
			d->slot[s].role = (int8_t)role;
			d->slot[s].ip = t->t[k].ip;
			d->slot[s].port = t->t[k].port;
			d->slot[s].ever = true;
			ctl__name_slot(d, s);
			if (d->started)
				d->set_server(d->ctx, (unsigned)s, t->t[k].ip, t->t[k].port);
		}
		nt.slot[nt.n] = (uint8_t)s;
		nt.priority[nt.n] = t->t[k].priority;
		nt.weight[nt.n] = t->t[k].weight;
		nt.n++;
	}
	d->last[role] = *t;
	if (!cur->dns_failed && nt.n == cur->n && !memcmp(nt.slot, cur->slot, nt.n) &&
	    !memcmp(nt.priority, cur->priority, nt.n * sizeof(nt.priority[0])) &&
	    !memcmp(nt.weight, cur->weight, nt.n * sizeof(nt.weight[0])))
		return false;
	/* slots the role no longer uses are free (after the rest: a line leaving one still
	 * reaches it, as its address stays until the slot is taken again) */
	for (unsigned k = 0; k < cur->n; k++) {
		bool kept = false;

		for (unsigned j = 0; j < nt.n; j++)
			kept |= nt.slot[j] == cur->slot[k];
		if (!kept)
			d->slot[cur->slot[k]].role = -1;
	}
	*cur = nt;
	d->changes++;
	return true;
}

static void ctl__located(void *arg, const struct ctl_sip_targets *t);

struct ctl__ask {
	struct ctl_run_dns *d;
	int role;
};

static void ctl__locate(struct ctl_run_dns *d, int role)
{
	struct ctl__ask *a = malloc(sizeof(*a));
	struct ctl_sip_targets t;
	int rc;

	if (!a)
		return;
	*a = (struct ctl__ask){d, role};
	rc = ctl_sip_locate(d->r, d->c->dns_host[role], d->c->dns_port[role], d->c->transport[role],
			    &t, ctl__located, a);
	if (rc == 0) {
		d->locating[role] = true;
		return;
	}
	free(a);
	if (rc < 0)
		t = (struct ctl_sip_targets){.status = CTL_DNS_BADREPLY};
	if (ctl__apply(d, role, &t) && d->started)
		d->changed(d->ctx, role);
}

static void ctl__located(void *arg, const struct ctl_sip_targets *t)
{
	struct ctl__ask *a = arg;
	struct ctl_run_dns *d = a->d;
	int role = a->role;

	free(a);
	d->locating[role] = false;
	if (ctl__apply(d, role, t) && d->started)
		d->changed(d->ctx, role);
}

/* Each line's first next hop in a flow whose target goes through a DNS role. */
static int ctl__first_hops(struct ctl_run_dns *d, int flow, int via_role)
{
	const struct ctl_role_targets *t = &d->rt[via_role];
	bool up[CTL_ROLE_TARGETS_MAX];
	uint8_t *hop;

	if (!t->dns)
		return 0;
	hop = malloc(d->c->dp.lines);
	if (!hop)
		return -1;
	for (unsigned k = 0; k < t->n; k++)
		up[k] = true;
	for (uint32_t i = 0; i < d->c->dp.lines; i++) {
		int k = ctl_pick_target(t->n, t->priority, t->weight, up, i);

		hop[i] = t->slot[k < 0 ? 0 : k];
	}
	d->c->dp.line_via[flow] = hop;
	return 0;
}

static void ctl__guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

int ctl_run_dns_start(struct ctl_run_dns *d, uv_loop_t *loop, struct ctl_run_cfg *c, char *err,
		      size_t errlen)
{
	struct ctl_targets t;
	bool up[CTL_ROLE__COUNT], expired = false;
	uv_timer_t guard;

	memset(d, 0, sizeof(*d));
	d->loop = loop;
	d->c = c;
	for (int s = 0; s < CTL_SLOTS; s++)
		d->slot[s].role = (int8_t)(s < CTL_ROLE__COUNT ? s : -1);
	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		d->any |= c->dns_host[r][0] != 0 && c->fo_cfg.configured[r];
	if (!d->any)
		return 0;
	if (ctl_dns_resolver_create(&d->r, loop, &c->dns, err, errlen) != 0)
		return -1;
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (c->dns_host[r][0] && c->fo_cfg.configured[r])
			ctl__locate(d, r);
	}
	/* c-ares on the loop: its own timeouts end this; the guard bounds it anyway */
	uv_timer_init(loop, &guard);
	guard.data = &expired;
	uv_timer_start(&guard, ctl__guard, 4ull * c->dns.timeout_ms * c->dns.tries + 2000, 0);
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		while (d->locating[r] && !expired)
			uv_run(loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (d->locating[r]) {
			snprintf(err, errlen, "%s %s: DNS gave no answer in time", ctl_role_name(r),
				 c->dns_host[r]);
			return -1;
		}
	}
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (!c->dns_host[r][0] || !c->fo_cfg.configured[r])
			continue;
		if (d->rt[r].dns_failed || !d->rt[r].n) {
			snprintf(err, errlen, "%s %s: DNS gave no usable answer (%s)",
				 ctl_role_name(r), c->dns_host[r],
				 ctl_dns_status_name(d->last_fail[r]));
			return -1;
		}
		/* the role's own slot: its name for the Request-URI, its first target */
		c->dp.server[r].ip = d->slot[d->rt[r].slot[0]].ip;
		c->dp.server[r].port = d->slot[d->rt[r].slot[0]].port;
	}
	for (int s = CTL_ROLE__COUNT; s < CTL_SLOTS; s++) {
		if (d->slot[s].role >= 0)
			c->dp.server[s] =
				(struct dp_server_cfg){d->slot[s].ip, d->slot[s].port, NULL};
	}
	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		up[r] = c->fo_cfg.configured[r];
	t = ctl_mode_targets(c->fo_cfg.mode, c->fo_cfg.configured, up);
	if (ctl__first_hops(d, DP_FLOW_REGISTER, t.via) ||
	    (c->dp.subscribe &&
	     ctl__first_hops(d, DP_FLOW_SUBSCRIBE, DP_TARGET_VIA(c->dp.sub_target))) ||
	    (c->dp.reg2 && ctl__first_hops(d, DP_FLOW_REGISTER2, CTL_BOP))) {
		snprintf(err, errlen, "no memory for %u lines' next hops", c->dp.lines);
		return -1;
	}
	for (int r = 0; r < CTL_ROLE__COUNT; r++)
		d->rt[r].dns = c->dns_host[r][0] && c->fo_cfg.configured[r];
	d->started = true;
	return 0;
}

void ctl_run_dns_tick(struct ctl_run_dns *d)
{
	for (int r = 0; d->any && r < CTL_ROLE__COUNT; r++) {
		if (d->rt[r].dns && !d->locating[r])
			ctl__locate(d, r);
	}
}

static void ctl__name_ttl(void *arg, const char *name, uint16_t type, enum ctl_dns_status st,
			  int64_t ttl_left_s)
{
	struct ctl_json *j = arg;
	char key[CTL_DNS_NAME_MAX + 16];

	snprintf(key, sizeof(key), "%s %s", name,
		 type == CTL_DNS_A	 ? "A"
		 : type == CTL_DNS_SRV	 ? "SRV"
		 : type == CTL_DNS_NAPTR ? "NAPTR"
					 : "other");
	ctl_json_begin_object(j, key);
	ctl_json_cstr(j, "status", ctl_dns_status_name(st));
	ctl_json_double(j, "ttl_left_s", (double)ttl_left_s);
	ctl_json_end_object(j);
}

void ctl_sip_targets_json(struct ctl_json *j, const struct ctl_sip_targets *t)
{
	char ip[16];

	ctl_json_cstr(j, "status", ctl_dns_status_name(t->status));
	ctl_json_cstr(j, "how", t->status == CTL_DNS_OK ? t->how : "");
	ctl_json_u64(j, "ttl_s", t->ttl_s);
	ctl_json_bool(j, "stale", t->stale);
	ctl_json_begin_array(j, "targets");
	for (unsigned k = 0; k < t->n; k++) {
		struct in_addr a = {htonl(t->t[k].ip)};

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		ctl_json_begin_object(j, NULL);
		ctl_json_cstr(j, "ip", ip);
		ctl_json_u64(j, "port", t->t[k].port);
		ctl_json_u64(j, "priority", t->t[k].priority);
		ctl_json_u64(j, "weight", t->t[k].weight);
		ctl_json_end_object(j);
	}
	ctl_json_end_array(j);
}

void ctl_dns_names_json(const struct ctl_dns_cache *c, uint64_t now_ms, struct ctl_json *j)
{
	ctl_json_begin_object(j, "names");
	ctl_dns_cache_each(c, now_ms, ctl__name_ttl, j);
	ctl_json_end_object(j);
}

void ctl_run_dns_json(const struct ctl_run_dns *d, struct ctl_json *j)
{
	const struct ctl_dns_cache_stats *c;

	if (!d->any)
		return;
	c = ctl_dns_cache_stats(ctl_dns_resolver_cache(d->r));
	ctl_json_begin_object(j, "dns");
	ctl_json_u64(j, "lookups", c->lookups);
	ctl_json_u64(j, "hits", c->hits);
	ctl_json_u64(j, "misses", c->misses);
	ctl_json_u64(j, "coalesced", c->coalesced);
	ctl_json_u64(j, "queries", c->queries);
	ctl_json_u64(j, "prefetches", c->prefetches);
	ctl_json_u64(j, "stale_served", c->stale_served);
	ctl_json_begin_object(j, "answers");
	for (int k = 0; k < CTL_DNS_STATUS__COUNT; k++)
		ctl_json_u64(j, ctl_dns_status_name(k), c->answers[k]);
	ctl_json_end_object(j);
	ctl_json_u64(j, "target_changes", d->changes);
	ctl_json_u64(j, "failures", d->failures);
	ctl_json_u64(j, "targets_without_slot", d->no_slot);
	ctl_dns_names_json(ctl_dns_resolver_cache(d->r), ctl_dns_resolver_now(d->r), j);
	ctl_json_begin_object(j, "roles");
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		const struct ctl_role_targets *t = &d->rt[r];

		if (!t->dns)
			continue;
		ctl_json_begin_object(j, ctl_role_name(r));
		ctl_json_cstr(j, "host", d->c->dns_host[r]);
		ctl_json_bool(j, "resolved", !t->dns_failed);
		ctl_sip_targets_json(j, &d->last[r]); /* the last usable answer */
		ctl_json_end_object(j);
	}
	ctl_json_end_object(j);
	ctl_json_end_object(j);
}

void ctl_run_dns_table(const struct ctl_run_dns *d, FILE *out)
{
	const struct ctl_dns_cache_stats *c;

	if (!d->any)
		return;
	c = ctl_dns_cache_stats(ctl_dns_resolver_cache(d->r));
	fprintf(out,
		"\n| DNS | lookups | cache hits | coalesced | queries sent | prefetches | stale served "
		"| failures | target changes |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
		"| all roles | %llu | %llu | %llu | %llu | %llu | %llu | %llu | %llu |\n",
		(unsigned long long)c->lookups, (unsigned long long)c->hits,
		(unsigned long long)c->coalesced, (unsigned long long)c->queries,
		(unsigned long long)c->prefetches, (unsigned long long)c->stale_served,
		(unsigned long long)d->failures, (unsigned long long)d->changes);
}

void ctl_run_dns_close(struct ctl_run_dns *d)
{
	if (!d->c)
		return;
	for (int f = 0; f < DP_FLOW__COUNT; f++) {
		free((void *)d->c->dp.line_via[f]);
		d->c->dp.line_via[f] = NULL;
	}
	ctl_dns_resolver_close(d->r);
	d->r = NULL;
}
