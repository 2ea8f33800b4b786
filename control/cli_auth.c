/* The authentication headers of a parsed message as typed JSON, for `sipedge parse`. */
#include "control/cli.h"

#include <errno.h>

#include "sip/digest.h"

#define CTL_MAX_CHALLENGES 8

static void ctl__json_opt(struct ctl_json *j, const char *key, struct sip_str s)
{
	if (s.p)
		ctl_json_str(j, key, s.p, s.len);
}

static void ctl__json_challenge(struct ctl_json *j, const struct sip_challenge *c)
{
	struct sip_str alg = sip_digest_alg_name(c->algorithm);

	ctl_json_begin_object(j, NULL);
	ctl_json_str(j, "scheme", c->scheme.p, c->scheme.len);
	ctl__json_opt(j, "realm", c->realm);
	ctl__json_opt(j, "nonce", c->nonce);
	ctl__json_opt(j, "opaque", c->opaque);
	ctl__json_opt(j, "domain", c->domain);
	ctl__json_opt(j, "algorithm_raw", c->algorithm_raw);
	if (alg.len)
		ctl_json_str(j, "algorithm", alg.p, alg.len);
	ctl__json_opt(j, "qop", c->qop_raw);
	if (c->stale)
		ctl_json_bool(j, "stale", true);
	if (c->userhash)
		ctl_json_bool(j, "userhash", true);
	ctl_json_end_object(j);
}

/* Every challenge of every header with this id; an unparsable value shows its error. */
static void ctl__json_challenges(struct ctl_json *j, const char *key, const struct sip_msg *m,
				 enum sip_hdr_id id)
{
	const struct sip_header *h;

	if (!m->first[id])
		return;
	ctl_json_begin_array(j, key);
	for (size_t k = 0; (h = sip_msg_header(m, id, k)); k++) {
		struct sip_challenge ch[CTL_MAX_CHALLENGES];
		size_t n = 0, off = 0;
		int rc = sip_digest_challenges_parse(h->value, ch, CTL_MAX_CHALLENGES, &n, &off);

		for (size_t i = 0; i < n; i++)
			ctl__json_challenge(j, &ch[i]);
		if (rc && rc != -ENOSPC) {
			ctl_json_begin_object(j, NULL);
			ctl_json_cstr(j, "error", "malformed challenge");
			ctl_json_u64(j, "offset", off);
			ctl_json_end_object(j);
		}
	}
	ctl_json_end_array(j);
}

static void ctl__json_auth_info(struct ctl_json *j, const struct sip_msg *m)
{
	const struct sip_header *h = sip_msg_header(m, SIP_HDR_AUTHENTICATION_INFO, 0);
	struct sip_auth_info ai;
	size_t off;

	if (!h)
		return;
	if (sip_digest_auth_info_parse(h->value, &ai, &off)) {
		ctl_json_null(j, "authentication_info");
		return;
	}
	ctl_json_begin_object(j, "authentication_info");
	ctl__json_opt(j, "nextnonce", ai.nextnonce);
	ctl__json_opt(j, "qop", ai.qop);
	ctl__json_opt(j, "rspauth", ai.rspauth);
	ctl__json_opt(j, "cnonce", ai.cnonce);
	if (ai.nc_raw.p)
		ctl_json_u64(j, "nc", ai.nc);
	ctl_json_end_object(j);
}

void ctl_cli_json_auth(struct ctl_json *j, const struct sip_msg *m)
{
	ctl__json_challenges(j, "www_authenticate", m, SIP_HDR_WWW_AUTHENTICATE);
	ctl__json_challenges(j, "proxy_authenticate", m, SIP_HDR_PROXY_AUTHENTICATE);
	ctl__json_auth_info(j, m);
}
