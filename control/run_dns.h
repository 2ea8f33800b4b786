/*
 * The roles of a run given as host names (DESIGN.md §5): located through the shared DNS
 * cache (control/dns_locate.h) before the lines start, their targets put in server slots
 * of their own, and followed while the run lasts: a changed answer moves the lines (to
 * the new targets, under storm control), no usable answer takes the role down (the mode's
 * table fails the lines over), and an answer again brings it back.
 */
#ifndef CTL_RUN_DNS_H
#define CTL_RUN_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "control/dns_locate.h"
#include "control/dns_resolver.h"
#include "control/failover.h"
#include "control/json.h"
#include "control/run_cfg.h"

struct ctl_run_dns {
	struct ctl_dns_resolver *r;
	uv_loop_t *loop;
	struct ctl_run_cfg *c;
	bool any; /* some role is a host name */
	struct ctl_role_targets rt[CTL_ROLE__COUNT];
	struct ctl_sip_targets last[CTL_ROLE__COUNT];	/* the answer the targets came from */
	enum ctl_dns_status last_fail[CTL_ROLE__COUNT]; /* why the latest lookup failed */
	bool locating[CTL_ROLE__COUNT];
	struct {
		uint32_t ip;
		uint16_t port;
		int8_t role; /* -1: free */
		bool ever;   /* used once: taken again only when no slot is fresh */
	} slot[CTL_SLOTS];
	char slot_name[CTL_SLOTS][48]; /* "R 198.18.0.1:5060" */
	/* a slot's address for the dataplane, and a role's targets changed (after start) */
	void (*set_server)(void *ctx, unsigned slot, uint32_t ip, uint16_t port);
	void (*changed)(void *ctx, int role);
	void *ctx;
	/* counters */
	uint64_t changes;  /* answers that moved a role's targets */
	uint64_t failures; /* lookups with no usable answer */
	uint64_t no_slot;  /* targets left out: every server slot taken */
	bool started;
};

/*
 * Locate every role of c given as a host name, running loop until each has an answer or
 * the resolver gave up (no blocking call: the loop runs c-ares). Fills c's server table
 * (role slots keep the name for the Request-URI; targets get slots of their own) and each
 * flow's first next hop per line. 0, or -1 with a sentence in err (a name that does not
 * resolve when the run starts is an error the user must see).
 */
int ctl_run_dns_start(struct ctl_run_dns *d, uv_loop_t *loop, struct ctl_run_cfg *c, char *err,
		      size_t errlen);
/* Ask again (the cache answers until the TTL runs out, then one query goes). */
void ctl_run_dns_tick(struct ctl_run_dns *d);
/* The "dns" object of the summary: the cache's counters and each role's targets. */
void ctl_run_dns_json(const struct ctl_run_dns *d, struct ctl_json *j);
/* t's fields into the object j has open: status, how, ttl_s, stale, targets[]. */
void ctl_sip_targets_json(struct ctl_json *j, const struct ctl_sip_targets *t);
/* Key "names": each cached (name, type) with its status and the seconds its TTL has left
 * (negative: served stale). */
void ctl_dns_names_json(const struct ctl_dns_cache *c, uint64_t now_ms, struct ctl_json *j);
/* One table line for people. */
void ctl_run_dns_table(const struct ctl_run_dns *d, FILE *out);
void ctl_run_dns_close(struct ctl_run_dns *d);

#endif
