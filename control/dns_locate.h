/*
 * Locating a SIP server (RFC 3263 §4) through the shared cache: NAPTR -> SRV -> A, or
 * SRV and A directly when the port is known, for the role's transport (UDP, TCP or TLS:
 * NAPTR services SIP+D2U, SIP+D2T, SIPS+D2T; SRV _sip._udp, _sip._tcp, _sips._tcp). The result
 * is the ordered target list: SRV priority order is the order of failover, weights split
 * lines within a priority (RFC 2782; ctl_sip_pick spreads lines by their id).
 */
#ifndef CTL_DNS_LOCATE_H
#define CTL_DNS_LOCATE_H

#include <stdbool.h>
#include <stdint.h>

#include "control/dns_cache.h"
#include "control/dns_resolver.h"

#define CTL_SIP_TARGETS_MAX 16

struct ctl_sip_target {
	uint32_t ip; /* host order */
	uint16_t port;
	uint16_t priority;
	uint16_t weight;
};

struct ctl_sip_targets {
	enum ctl_dns_status status; /* OK with n >= 1, else why there is none */
	bool stale;		    /* some step served past its TTL (serve-stale) */
	uint32_t ttl_s;		    /* least TTL along the way */
	const char *how;	    /* "address", "A", "SRV", "NAPTR" */
	unsigned n;
	struct ctl_sip_target t[CTL_SIP_TARGETS_MAX]; /* priority order, heavier first */
};

typedef void (*ctl_sip_locate_fn)(void *arg, const struct ctl_sip_targets *t);

/*
 * Where a request for host (and port, 0: none given) goes over transport (SIP_TPL_UDP,
 * _TCP or _TLS of sip/builder.h): 1 with *out filled when every step was in the cache, 0
 * when done(arg, ...) follows, a negative errno.
 */
int ctl_sip_locate(struct ctl_dns_resolver *r, const char *host, uint16_t port, int transport,
		   struct ctl_sip_targets *out, ctl_sip_locate_fn done, void *arg);

/*
 * Line id's target among those of the best priority whose up[] is true: a weighted
 * choice (RFC 2782) that spreads lines by id in the weights' ratio. -1 when none is up.
 */
int ctl_sip_pick(const struct ctl_sip_targets *t, const bool *up, uint32_t id);

#endif
