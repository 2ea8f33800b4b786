/*
 * Every line's tables, built once at load: user names, HA1s per AOR domain (the password
 * is not kept), a REGISTER or SUBSCRIBE template per (server, AOR) for each flow, and each
 * flow's line state. No DPDK here: the dataplane's workers run the registration client
 * (dataplane/line.h) over these tables on UDP, and control's stream transport
 * (control/stream.h) runs the same client over TCP and TLS through the kernel.
 */
#ifndef DP_LINESET_H
#define DP_LINESET_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/dataplane.h"
#include "dataplane/line.h"

struct dp_lineset {
	uint32_t lines;
	struct dp_line *line[DP_FLOW__COUNT]; /* NULL: the config asks for no such flow */
	struct sip_tpl *tpl[DP_FLOW__COUNT][DP_MAX_SERVERS][DP_MAX_AORS];
	char (*ha1_md5[DP_MAX_AORS])[32];
	char (*ha1_sha256[DP_MAX_AORS])[64];
	char (*auth_user)[32];
	char (*to_tag)[DP_TO_TAG_MAX + 1]; /* the subscriptions' dialogs */
	uint8_t (*dlg)[DP_DLG_MAX];	   /* their remote targets and route sets */
	char ruri[DP_MAX_SERVERS][160];
	/* every line's registration client: config and tables; the caller adds its wheel,
	 * rng, stats, io and digest context (dp_lineset_view) */
	struct dp_lines base;
};

/* 0, or -EINVAL with a sentence in err when c cannot make lines. */
int dp_lineset_check(const struct dp_config *c, char *err, size_t errlen);
/*
 * Build every table c asks for, the templates for transport (enum sip_tpl_transport: the
 * Via's transport and the Contact's ;transport). 0, or a negative errno with a sentence
 * in err; on an error dp_lineset_free() releases what was built.
 */
int dp_lineset_load(struct dp_lineset *s, const struct dp_config *c, int transport, uint64_t seed,
		    char *err, size_t errlen);
/* Flow's client over lines first..first+n-1 (a worker's shard): tables and config of s;
 * wheel, rng, stats, io and dctx are left for the caller. */
void dp_lineset_view(const struct dp_lineset *s, const struct dp_config *c, int flow,
		     uint32_t first, uint32_t n, struct dp_lines *out);
void dp_lineset_free(struct dp_lineset *s);

#endif
