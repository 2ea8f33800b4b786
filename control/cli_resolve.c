/*
 * `sipedge resolve`: a user's window onto server location (RFC 3263) and the shared DNS
 * cache. Once: each host's targets in failover order, as JSON. With --lines N: N lines
 * each locate every host once a second, spread evenly, for --duration seconds through
 * one cache, as `run` will; the counters then say what the population cost in queries,
 * and how the lines split across the targets.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <uv.h>

#include "control/cli.h"
#include "control/dns_locate.h"
#include "control/dns_resolver.h"
#include "control/json.h"
#include "control/run_dns.h"
#include "sip/builder.h"

#define CTL_RESOLVE_MAX_HOSTS 8
#define CTL_RESOLVE_TICK_MS 10

static const char ctl__usage[] =
	"usage: sipedge resolve [OPTIONS] HOST[:PORT][;transport=udp|tcp|tls]...\n"
	"Locate each SIP server as RFC 3263 says (NAPTR -> SRV -> A for the transport, UDP\n"
	"unless it says; A alone when a port is given) through the shared DNS cache, and\n"
	"print its targets in failover order as one JSON object per host.\n"
	"  --server IP[:P],...  DNS servers to ask (default: /etc/resolv.conf's)\n"
	"  --timeout MS         per try (2000); --tries N per server (2)\n"
	"  --serve-stale        serve answers past their TTL while the server cannot be\n"
	"                       reached (RFC 8767); --max-stale S (86400)\n"
	"  --max-ttl S          clamp longer TTLs (86400)\n"
	"  --lines N            N lines locate every HOST once a second each, spread evenly,\n"
	"                       through one cache; then one JSON object of what it cost\n"
	"  --duration S         how long the lines run (10)\n"
	"  --every-ms MS        with --lines: a JSON line of the split every MS (0: none)\n";

struct ctl__host {
	char name[CTL_DNS_NAME_MAX + 1];
	uint16_t port;
	int transport;		     /* SIP_TPL_UDP, _TCP, _TLS */
	struct ctl_sip_targets last; /* the latest targets any line got */
	uint64_t split[CTL_SIP_TARGETS_MAX];
	uint64_t located, waited, failed;
	uint64_t fail_by[CTL_DNS_STATUS__COUNT];
};

struct ctl__resolve {
	uv_loop_t loop;
	uv_timer_t tick;
	struct ctl_dns_resolver *r;
	struct ctl__host host[CTL_RESOLVE_MAX_HOSTS];
	unsigned nhosts;
	uint32_t lines;
	uint32_t duration_s;
	uint32_t every_ms;
	uint64_t t0, last_every;
	uint64_t next_line; /* lines started, over the whole run */
	unsigned outstanding;
	int rc;
};

/* One locate of one line: which line and host it was for. */
struct ctl__ask {
	struct ctl__resolve *x;
	struct ctl__host *h;
	uint32_t line;
};

static const char *ctl__tp_name(int transport)
{
	return transport == SIP_TPL_TLS ? "tls" : transport == SIP_TPL_TCP ? "tcp" : "udp";
}

static void ctl__print_host(const struct ctl__host *h)
{
	struct ctl_json j;

	ctl_json_init(&j, stdout);
	ctl_json_begin_object(&j, NULL);
	ctl_json_cstr(&j, "host", h->name);
	ctl_json_cstr(&j, "transport", ctl__tp_name(h->transport));
	ctl_sip_targets_json(&j, &h->last);
	ctl_json_end_object(&j);
	putchar('\n');
}

/* A line's targets: it takes its weighted share of the best priority. */
static void ctl__located(struct ctl__ask *a, const struct ctl_sip_targets *t)
{
	struct ctl__host *h = a->h;
	bool up[CTL_SIP_TARGETS_MAX];
	int k;

	h->last = *t;
	if (t->status != CTL_DNS_OK) {
		h->failed++;
		h->fail_by[t->status]++;
		return;
	}
	h->located++;
	for (unsigned i = 0; i < t->n; i++)
		up[i] = true;
	k = ctl_sip_pick(t, up, a->line);
	if (k >= 0)
		h->split[k]++;
}

static void ctl__done(void *arg, const struct ctl_sip_targets *t)
{
	struct ctl__ask *a = arg;

	a->x->outstanding--;
	ctl__located(a, t);
	if (!a->x->lines) /* once: print it */
		ctl__print_host(a->h);
	free(a);
}

static int ctl__locate(struct ctl__resolve *x, struct ctl__host *h, uint32_t line)
{
	struct ctl__ask *a = malloc(sizeof(*a));
	struct ctl_sip_targets t;
	int rc;

	if (!a)
		return -ENOMEM;
	*a = (struct ctl__ask){x, h, line};
	rc = ctl_sip_locate(x->r, h->name, h->port, h->transport, &t, ctl__done, a);
	if (rc == 1) {
		ctl__located(a, &t);
		if (!x->lines)
			ctl__print_host(h);
		free(a);
	} else if (rc == 0) {
		x->outstanding++;
		h->waited++;
	} else {
		free(a);
	}
	return rc < 0 ? rc : 0;
}

static void ctl__split_json(struct ctl_json *j, const struct ctl__host *h)
{
	char ip[16];

	ctl_json_begin_array(j, "split");
	for (unsigned k = 0; k < h->last.n; k++) {
		struct in_addr a = {htonl(h->last.t[k].ip)};

		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		ctl_json_begin_object(j, NULL);
		ctl_json_cstr(j, "ip", ip);
		ctl_json_u64(j, "priority", h->last.t[k].priority);
		ctl_json_u64(j, "weight", h->last.t[k].weight);
		ctl_json_u64(j, "lines", h->split[k]);
		ctl_json_end_object(j);
	}
	ctl_json_end_array(j);
}

static void ctl__every(struct ctl__resolve *x, uint64_t now)
{
	struct ctl_json j;

	ctl_json_init(&j, stdout);
	ctl_json_begin_object(&j, NULL);
	ctl_json_double(&j, "t_s", (double)(now - x->t0) / 1000.0);
	ctl_json_begin_array(&j, "hosts");
	for (unsigned k = 0; k < x->nhosts; k++) {
		ctl_json_begin_object(&j, NULL);
		ctl_json_cstr(&j, "host", x->host[k].name);
		ctl_json_cstr(&j, "status", ctl_dns_status_name(x->host[k].last.status));
		ctl_json_bool(&j, "stale", x->host[k].last.stale);
		ctl__split_json(&j, &x->host[k]);
		ctl_json_end_object(&j);
		memset(x->host[k].split, 0, sizeof(x->host[k].split));
	}
	ctl_json_end_array(&j);
	ctl_json_end_object(&j);
	putchar('\n');
	fflush(stdout);
}

static void ctl__summary(struct ctl__resolve *x)
{
	const struct ctl_dns_cache_stats *c = ctl_dns_cache_stats(ctl_dns_resolver_cache(x->r));
	const struct ctl_dns_resolver_stats *s = ctl_dns_resolver_stats(x->r);
	struct ctl_json j;

	ctl_json_init(&j, stdout);
	ctl_json_begin_object(&j, NULL);
	ctl_json_u64(&j, "lines", x->lines);
	ctl_json_u64(&j, "duration_s", x->duration_s);
	ctl_json_u64(&j, "lookups", c->lookups);
	ctl_json_u64(&j, "hits", c->hits);
	ctl_json_u64(&j, "misses", c->misses);
	ctl_json_u64(&j, "coalesced", c->coalesced);
	ctl_json_u64(&j, "queries", c->queries);
	ctl_json_u64(&j, "prefetches", c->prefetches);
	ctl_json_u64(&j, "stale_served", c->stale_served);
	ctl_json_u64(&j, "ttl_zero", c->ttl_zero);
	ctl_json_u64(&j, "ttl_clamped", c->ttl_clamped);
	ctl_json_begin_object(&j, "answers");
	for (int k = 0; k < CTL_DNS_STATUS__COUNT; k++)
		ctl_json_u64(&j, ctl_dns_status_name(k), c->answers[k]);
	ctl_json_end_object(&j);
	ctl_json_u64(&j, "sent_by_cares", s->sent);
	ctl_json_u64(&j, "timeouts", s->timeouts);
	ctl_json_u64(&j, "bad_replies", s->bad);
	ctl_dns_names_json(ctl_dns_resolver_cache(x->r), uv_now(&x->loop), &j);
	ctl_json_begin_array(&j, "hosts");
	for (unsigned k = 0; k < x->nhosts; k++) {
		const struct ctl__host *h = &x->host[k];

		ctl_json_begin_object(&j, NULL);
		ctl_json_cstr(&j, "host", h->name);
		ctl_json_cstr(&j, "transport", ctl__tp_name(h->transport));
		ctl_json_u64(&j, "located", h->located);
		ctl_json_u64(&j, "waited", h->waited);
		ctl_json_u64(&j, "failed", h->failed);
		ctl_sip_targets_json(&j, &h->last);
		ctl_json_end_object(&j);
	}
	ctl_json_end_array(&j);
	ctl_json_end_object(&j);
	putchar('\n');
}

static void ctl__tick(uv_timer_t *t)
{
	struct ctl__resolve *x = t->data;
	uint64_t now = uv_now(&x->loop), elapsed = now - x->t0;
	/* lines * seconds elapsed: each line once a second, spread over the second */
	uint64_t due = x->lines * elapsed / 1000;

	if (x->lines ? elapsed >= 1000ull * x->duration_s : x->outstanding == 0) {
		if (x->lines)
			ctl__summary(x);
		uv_timer_stop(t);
		uv_close((uv_handle_t *)t, NULL);
		ctl_dns_resolver_close(x->r);
		return;
	}
	if (!x->lines)
		return; /* once: waiting for the answers */
	for (; x->next_line < due; x->next_line++) {
		for (unsigned k = 0; k < x->nhosts; k++)
			if (ctl__locate(x, &x->host[k], (uint32_t)(x->next_line % x->lines)) != 0)
				x->rc = 1;
	}
	if (x->every_ms && now - x->last_every >= x->every_ms) {
		x->last_every = now;
		ctl__every(x, now);
	}
}

static int ctl__host_arg(struct ctl__host *h, const char *arg)
{
	const char *tp = strchr(arg, ';');
	size_t len = tp ? (size_t)(tp - arg) : strlen(arg);
	const char *colon = memchr(arg, ':', len);
	size_t n = colon ? (size_t)(colon - arg) : len;
	unsigned long port = 0;
	char *end;

	h->transport = SIP_TPL_UDP;
	if (tp && !strcasecmp(tp, ";transport=tcp"))
		h->transport = SIP_TPL_TCP;
	else if (tp && !strcasecmp(tp, ";transport=tls"))
		h->transport = SIP_TPL_TLS;
	else if (tp && strcasecmp(tp, ";transport=udp"))
		return -EINVAL;
	if (!n || n > CTL_DNS_NAME_MAX - 11)
		return -EINVAL;
	if (colon) {
		port = strtoul(colon + 1, &end, 10);
		if (end != arg + len || !port || port > 65535)
			return -EINVAL;
	}
	memcpy(h->name, arg, n);
	h->name[n] = 0;
	h->port = (uint16_t)port;
	return 0;
}

int ctl_cmd_resolve(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", 1, NULL, 's'},    {"timeout", 1, NULL, 't'},
		{"tries", 1, NULL, 'n'},     {"serve-stale", 0, NULL, 'S'},
		{"max-stale", 1, NULL, 'M'}, {"max-ttl", 1, NULL, 'T'},
		{"lines", 1, NULL, 'l'},     {"duration", 1, NULL, 'd'},
		{"every-ms", 1, NULL, 'e'},  {"help", 0, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static struct ctl__resolve x;
	struct ctl_dns_resolver_config cfg;
	char err[256];
	int c;

	ctl_dns_resolver_defaults(&cfg);
	x.duration_s = 10;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end = NULL;
		unsigned long v = optarg ? strtoul(optarg, &end, 10) : 0;
		bool num = optarg && *optarg && end && !*end;

		switch (c) {
		case 's':
			cfg.servers = optarg;
			continue;
		case 'S':
			cfg.cache.serve_stale = true;
			continue;
		case 'h':
			fputs(ctl__usage, stdout);
			return 0;
		case 't':
		case 'n':
		case 'M':
		case 'T':
		case 'l':
		case 'd':
		case 'e':
			if (!num || v > 100000000ul) {
				fprintf(stderr, "sipedge resolve: --%s wants a number, not '%s'\n",
					opts[c == 't'	? 1
					     : c == 'n' ? 2
					     : c == 'M' ? 4
					     : c == 'T' ? 5
					     : c == 'l' ? 6
					     : c == 'd' ? 7
							: 8]
						.name,
					optarg);
				return 2;
			}
			if (c == 't')
				cfg.timeout_ms = (uint32_t)v;
			else if (c == 'n')
				cfg.tries = (uint32_t)v;
			else if (c == 'M')
				cfg.cache.max_stale_s = (uint32_t)v;
			else if (c == 'T')
				cfg.cache.max_ttl_s = (uint32_t)v;
			else if (c == 'l')
				x.lines = (uint32_t)v;
			else if (c == 'd')
				x.duration_s = (uint32_t)v;
			else
				x.every_ms = (uint32_t)v;
			continue;
		default:
			fputs(ctl__usage, stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "sipedge resolve: no host given\n%s", ctl__usage);
		return 2;
	}
	for (int k = optind; k < argc; k++) {
		if (x.nhosts == CTL_RESOLVE_MAX_HOSTS ||
		    ctl__host_arg(&x.host[x.nhosts++], argv[k]) != 0) {
			fprintf(stderr,
				"sipedge resolve: '%s' is not a HOST[:PORT][;transport=udp|tcp|tls] (at most %d)\n",
				argv[k], CTL_RESOLVE_MAX_HOSTS);
			return 2;
		}
	}
	uv_loop_init(&x.loop);
	if (ctl_dns_resolver_create(&x.r, &x.loop, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipedge resolve: %s\n", err);
		uv_loop_close(&x.loop);
		return 1;
	}
	x.t0 = x.last_every = uv_now(&x.loop);
	for (unsigned k = 0; !x.lines && k < x.nhosts; k++)
		ctl__locate(&x, &x.host[k], 0); /* once: the tick ends it when all are in */
	uv_timer_init(&x.loop, &x.tick);
	x.tick.data = &x;
	uv_timer_start(&x.tick, ctl__tick, CTL_RESOLVE_TICK_MS, CTL_RESOLVE_TICK_MS);
	uv_run(&x.loop, UV_RUN_DEFAULT);
	uv_loop_close(&x.loop);
	for (unsigned k = 0; k < x.nhosts; k++)
		if (x.host[k].failed)
			x.rc = 1;
	return x.rc;
}
