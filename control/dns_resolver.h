/*
 * The control plane's resolver: the shared cache (control/dns_cache.h) fed by c-ares,
 * whose sockets and timeouts the libuv loop drives (as Node.js does), so no call ever
 * blocks. c-ares carries the queries (UDP, TCP after a truncated answer, retries across
 * servers); control/dns_msg.c reads the answers, so that every TTL is seen.
 */
#ifndef CTL_DNS_RESOLVER_H
#define CTL_DNS_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "control/dns_cache.h"

struct ctl_dns_resolver_config {
	const char *servers; /* "IP[:port],..."; NULL: the system's (/etc/resolv.conf) */
	uint32_t timeout_ms; /* per try (2000) */
	uint32_t tries;	     /* per server (2) */
	struct ctl_dns_cache_config cache;
};

struct ctl_dns_resolver_stats {
	uint64_t sent;	    /* queries handed to c-ares */
	uint64_t timeouts;  /* every try timed out or was refused */
	uint64_t bad;	    /* unreadable, or the answer to another question */
	uint64_t rcode[16]; /* answers by RCODE */
	uint64_t truncated; /* answers with TC set that reached us (c-ares retries over TCP) */
};

struct ctl_dns_resolver;

/* Defaults: the system's servers, 2000 ms x 2 tries, cache defaults of dns_cache.h. */
void ctl_dns_resolver_defaults(struct ctl_dns_resolver_config *cfg);
/* 0, or a negative errno with a sentence in err. */
int ctl_dns_resolver_create(struct ctl_dns_resolver **out, uv_loop_t *loop,
			    const struct ctl_dns_resolver_config *cfg, char *err, size_t errlen);
/* Cancels what is in flight (askers are not called) and closes the loop's handles; the
 * memory goes once the loop has run their close callbacks. Accepts NULL. */
void ctl_dns_resolver_close(struct ctl_dns_resolver *r);

/* ctl_dns_cache_get() at the loop's time: 1 with *out now, or 0 and done() later. */
int ctl_dns_lookup(struct ctl_dns_resolver *r, const char *name, uint16_t type,
		   struct ctl_dns_answer *out, ctl_dns_done_fn done, void *arg);

struct ctl_dns_cache *ctl_dns_resolver_cache(struct ctl_dns_resolver *r);
/* The cache's clock: the loop's time in ms. */
uint64_t ctl_dns_resolver_now(const struct ctl_dns_resolver *r);
const struct ctl_dns_resolver_stats *ctl_dns_resolver_stats(const struct ctl_dns_resolver *r);

#endif
