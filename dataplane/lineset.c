/*
 * Every line's load-time work (dataplane/lineset.h): HA1s, templates, first targets, so
 * that nothing is formatted or hashed from a password on the fast path.
 */
#include "dataplane/lineset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dp__ls_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int dp_lineset_check(const struct dp_config *c, char *err, size_t errlen)
{
	if (c->lines == 0)
		return dp__ls_fail(err, errlen, -EINVAL,
				   "no lines to emulate (lines must be >= 1)");
	if (c->nports == 0 || (uint32_t)c->first_port + c->nports > 65536)
		return dp__ls_fail(err, errlen, -EINVAL, "local port range outside 1..65535");
	if ((uint64_t)c->first_ip + (c->lines - 1) / c->nports > UINT32_MAX)
		return dp__ls_fail(err, errlen, -EINVAL,
				   "local address range runs past 255.255.255.255");
	if (!c->line_user || !c->aor_domain[0] || !c->password)
		return dp__ls_fail(err, errlen, -EINVAL,
				   "line users, domain and password are required");
	if (DP_TARGET_REG(c->target) >= DP_MAX_SERVERS ||
	    DP_TARGET_VIA(c->target) >= DP_MAX_SERVERS || DP_TARGET_AOR(c->target) >= DP_MAX_AORS ||
	    !c->server[DP_TARGET_REG(c->target)].port ||
	    !c->server[DP_TARGET_VIA(c->target)].port || !c->aor_domain[DP_TARGET_AOR(c->target)])
		return dp__ls_fail(err, errlen, -EINVAL,
				   "the lines' first target names a server or AOR not configured");
	if (c->refresh_min_pct == 0 || c->refresh_min_pct > c->refresh_max_pct ||
	    c->refresh_max_pct > 100)
		return dp__ls_fail(err, errlen, -EINVAL,
				   "refresh window must be within 1..100 %% of the expiry");
	if (c->keepalive > DP_KA_PING ||
	    ((c->keepalive == DP_KA_STUN || c->keepalive == DP_KA_PING) && !c->ka_timeout_ms))
		return dp__ls_fail(err, errlen, -EINVAL,
				   "keep-alive must be none, stun or crlf, with a timeout for stun "
				   "(and for pings on TCP/TLS)");
	if (c->t1_ms == 0 || c->t2_ms < c->t1_ms || c->tf_ms < c->t1_ms)
		return dp__ls_fail(err, errlen, -EINVAL,
				   "timers must satisfy 0 < T1 <= T2 and T1 <= F");
	return 0;
}

/* The HA1s of line i: done once here, never on the fast path, and the password is not
 * kept. */
static int dp__ls_line(struct dp_lineset *s, const struct dp_config *c, struct sip_digest_ctx *dctx,
		       uint32_t i, char *err, size_t errlen)
{
	char user[32];
	const char *pw = c->line_password ? c->line_password(c->line_user_ctx, i) : NULL;
	struct dp_line *l = &s->line[DP_FLOW_REGISTER][i];

	memset(user, 0, sizeof(user));
	if (!pw)
		pw = c->password;
	if (c->line_user(c->line_user_ctx, i, user, sizeof(user)) != 0 || !user[0])
		return dp__ls_fail(err, errlen, -EINVAL,
				   "line %u: user name empty or longer than 31", i);
	for (const char *u = user; *u; u++) {
		/* the name goes into URIs as is: only what RFC 3261 §25.1 user allows unescaped */
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()&=+$,;?/",
			    *u))
			return dp__ls_fail(
				err, errlen, -EINVAL,
				"line %u: user name '%s' has '%c', which a SIP URI cannot carry", i,
				user, *u);
	}
	memcpy(s->auth_user[i], user, sizeof(s->auth_user[i]));
	for (int a = 0; a < DP_MAX_AORS && c->aor_domain[a]; a++) {
		struct sip_str realm = sip_str_cstr(c->aor_domain[a]);

		if (sip_digest_ha1(dctx, SIP_DIGEST_MD5, sip_str_cstr(user), realm,
				   sip_str_cstr(pw), s->ha1_md5[a][i]) < 0 ||
		    sip_digest_ha1(dctx, SIP_DIGEST_SHA256, sip_str_cstr(user), realm,
				   sip_str_cstr(pw), s->ha1_sha256[a][i]) < 0)
			return dp__ls_fail(err, errlen, -EIO, "line %u: HA1 failed", i);
	}
	l->req_expires = c->expires;
	l->reg = (uint8_t)DP_TARGET_REG(c->target);
	l->aor = (uint8_t)DP_TARGET_AOR(c->target);
	l->via = c->line_via[DP_FLOW_REGISTER] ? c->line_via[DP_FLOW_REGISTER][i]
					       : (uint8_t)DP_TARGET_VIA(c->target);
	if (l->via >= DP_MAX_SERVERS || !c->server[l->via].port)
		return dp__ls_fail(err, errlen, -EINVAL, "line %u: its first next hop is no server",
				   i);
	return 0;
}

/*
 * The REGISTER (or SUBSCRIBE) every line sends to server sv for AOR a in flow, its own
 * values patched in by the builder. A SUBSCRIBE is to the line's own AOR (its mailbox)
 * and is a dialog of its own: its Call-ID and tag differ from the registration's. The
 * second outbound flow has its own Call-ID too (RFC 5626 §4.2.1), the same instance.
 */
static int dp__ls_template(struct dp_lineset *s, const struct dp_config *c, int sv, int a, int flow,
			   int transport, char *err, size_t errlen)
{
	/* RFC 3261 §19.1.1: a Contact reached over TCP or TLS says so */
	static const char *const contact[] = {"sip:{user}@{hostport}",
					      "sip:{user}@{hostport};transport=tcp",
					      "sip:{user}@{hostport};transport=tls"};
	bool sub = flow == DP_FLOW_SUBSCRIBE;
	char aor[160], call_id[16], tag[16];
	struct sip_tpl_params p;
	struct sip_tpl **tpl = &s->tpl[flow][sv][a];
	int rc;

	snprintf(aor, sizeof(aor), "sip:{user}@%s", c->aor_domain[a]);
	snprintf(call_id, sizeof(call_id), "%s{callid}", dp_flow_id_prefix(flow));
	snprintf(tag, sizeof(tag), "%s{tag}", dp_flow_id_prefix(flow));
	p = (struct sip_tpl_params){
		.method = sub ? SIP_TPL_SUBSCRIBE : SIP_TPL_REGISTER,
		.request_uri = sub ? sip_str_cstr(aor) : sip_str_cstr(s->ruri[sv]),
		.from_uri = sip_str_cstr(aor),
		.from_tag = sip_str_cstr(tag),
		.call_id = sip_str_cstr(call_id),
		.contact_uri = sip_str_cstr(contact[transport]),
		.via_sent_by = SIP_STR("{hostport}"),
		.transport = (enum sip_tpl_transport)transport,
		/* over a connection, the server's requests come back on it (RFC 5923) */
		.via_alias = transport != SIP_TPL_UDP,
		.user_agent = sip_str_cstr(c->user_agent),
		.event = sub && c->sub_event ? sip_str_cstr(c->sub_event) : SIP_STR_NULL,
		.to_tag_var = sub,
		.dialog_var = sub,
		.outbound = c->outbound,
		.reg_id = flow == DP_FLOW_REGISTER2 ? 2 : 1,
		.instance = c->outbound ? SIP_STR("urn:uuid:" DP_INSTANCE_PREFIX "{uuid}")
					: SIP_STR_NULL,
	};
	*tpl = aligned_alloc(64, (sizeof(**tpl) + 63) & ~(size_t)63);
	if (!*tpl)
		return dp__ls_fail(err, errlen, -ENOMEM, "no memory for a request template");
	if ((rc = sip_tpl_prepare(*tpl, &p)) != 0)
		return dp__ls_fail(err, errlen, rc, "%s template for %s and domain '%s': %s",
				   sub ? "SUBSCRIBE" : "REGISTER", s->ruri[sv], c->aor_domain[a],
				   strerror(-rc));
	return 0;
}

/* n lines, zeroed, each on its own cache line (struct dp_line is one); free() frees it. */
static struct dp_line *dp__ls_lines(uint32_t n)
{
	size_t size = (size_t)(n ? n : 1) * sizeof(struct dp_line);
	struct dp_line *line = aligned_alloc(64, size);

	if (line)
		memset(line, 0, size);
	return line;
}

/* Another client of the same lines (the subscription, or the second outbound flow): its
 * own line state for every line, each line at its first target. */

static int dp__ls_flow(struct dp_lineset *s, const struct dp_config *c, int flow, char *err,
		       size_t errlen)
{
	bool sub = flow == DP_FLOW_SUBSCRIBE;
	uint32_t target = sub ? c->sub_target : c->reg2_target;
	struct dp_line *line = dp__ls_lines(c->lines);

	s->line[flow] = line;
	if (sub) {
		s->to_tag = calloc(c->lines, sizeof(*s->to_tag));
		s->dlg = calloc(c->lines, sizeof(*s->dlg));
	}
	if (!line || (sub && (!s->to_tag || !s->dlg)))
		return dp__ls_fail(err, errlen, -ENOMEM, "no memory for %u %s", c->lines,
				   sub ? "subscriptions" : "second flows");
	for (uint32_t i = 0; i < c->lines; i++) {
		line[i].req_expires = sub ? c->sub_expires : c->expires;
		line[i].reg = (uint8_t)DP_TARGET_REG(target);
		line[i].aor = (uint8_t)DP_TARGET_AOR(target);
		line[i].via =
			c->line_via[flow] ? c->line_via[flow][i] : (uint8_t)DP_TARGET_VIA(target);
		if (line[i].via >= DP_MAX_SERVERS || !c->server[line[i].via].port)
			return dp__ls_fail(err, errlen, -EINVAL,
					   "line %u: its first next hop is no server", i);
	}
	return 0;
}

static int dp__ls_templates(struct dp_lineset *s, const struct dp_config *c, int transport,
			    char *err, size_t errlen)
{
	int rc;

	for (int sv = 0; sv < DP_MAX_SERVERS; sv++) {
		const struct dp_server_cfg *srv = &c->server[sv];

		if (!srv->port)
			continue;
		if (srv->host)
			snprintf(s->ruri[sv], sizeof(s->ruri[sv]), "sip:%s", srv->host);
		else
			snprintf(s->ruri[sv], sizeof(s->ruri[sv]), "sip:%u.%u.%u.%u", srv->ip >> 24,
				 (srv->ip >> 16) & 255, (srv->ip >> 8) & 255, srv->ip & 255);
		for (int a = 0; a < DP_MAX_AORS && c->aor_domain[a]; a++) {
			for (int f = 0; f < DP_FLOW__COUNT; f++) {
				if ((f == DP_FLOW_SUBSCRIBE && !c->subscribe) ||
				    (f == DP_FLOW_REGISTER2 && !c->reg2))
					continue;
				if ((rc = dp__ls_template(s, c, sv, a, f, transport, err, errlen)))
					return rc;
			}
		}
	}
	return 0;
}

static void dp__ls_base(struct dp_lineset *s, const struct dp_config *c, uint64_t seed)
{
	struct dp_lines *b = &s->base;

	*b = (struct dp_lines){
		.n = c->lines,
		.first_ip = c->first_ip,
		.first_port = c->first_port,
		.nports = c->nports,
		.id_seed = seed,
		.cfg =
			{
				.t1_ms = c->t1_ms,
				.t2_ms = c->t2_ms,
				.tf_ms = c->tf_ms,
				.expires = c->expires,
				.refresh_min_pct = c->refresh_min_pct,
				.refresh_max_pct = c->refresh_max_pct,
				.retry_ms = c->retry_ms,
				.managed = c->managed,
				.keepalive = c->keepalive,
				.ka_interval_ms = c->ka_interval_ms,
				.ka_timeout_ms = c->ka_timeout_ms,
			},
	};
	for (int sv = 0; sv < DP_MAX_SERVERS; sv++) {
		b->cfg.server[sv] = (struct dp_server_addr){c->server[sv].ip, c->server[sv].port};
		b->cfg.ruri[sv] = sip_str_cstr(s->ruri[sv]);
	}
	for (int a = 0; a < DP_MAX_AORS; a++) {
		b->ha1_md5[a] = (const char(*)[32])s->ha1_md5[a];
		b->ha1_sha256[a] = (const char(*)[64])s->ha1_sha256[a];
		b->cfg.aor_domain[a] =
			c->aor_domain[a] ? sip_str_cstr(c->aor_domain[a]) : SIP_STR_NULL;
	}
}

int dp_lineset_load(struct dp_lineset *s, const struct dp_config *c, int transport, uint64_t seed,
		    char *err, size_t errlen)
{
	struct sip_digest_ctx dctx;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (transport < SIP_TPL_UDP || transport > SIP_TPL_TLS)
		return dp__ls_fail(err, errlen, -EINVAL, "no such transport (%d)", transport);
	s->lines = c->lines;
	s->line[DP_FLOW_REGISTER] = dp__ls_lines(c->lines);
	s->auth_user = calloc(c->lines, sizeof(*s->auth_user));
	if (!s->line[DP_FLOW_REGISTER] || !s->auth_user)
		return dp__ls_fail(err, errlen, -ENOMEM, "no memory for %u lines", c->lines);
	for (int a = 0; a < DP_MAX_AORS && c->aor_domain[a]; a++) {
		s->ha1_md5[a] = calloc(c->lines, sizeof(*s->ha1_md5[a]));
		s->ha1_sha256[a] = calloc(c->lines, sizeof(*s->ha1_sha256[a]));
		if (!s->ha1_md5[a] || !s->ha1_sha256[a])
			return dp__ls_fail(err, errlen, -ENOMEM, "no memory for %u lines",
					   c->lines);
	}
	if ((rc = dp__ls_templates(s, c, transport, err, errlen)))
		return rc;
	if ((rc = sip_digest_ctx_create(&dctx)) != 0)
		return dp__ls_fail(err, errlen, rc, "digest: no usable hash in libcrypto");
	for (uint32_t i = 0; i < c->lines && rc == 0; i++)
		rc = dp__ls_line(s, c, &dctx, i, err, errlen);
	sip_digest_ctx_destroy(&dctx);
	if (rc)
		return rc;
	if ((c->subscribe && (rc = dp__ls_flow(s, c, DP_FLOW_SUBSCRIBE, err, errlen))) ||
	    (c->reg2 && (rc = dp__ls_flow(s, c, DP_FLOW_REGISTER2, err, errlen))))
		return rc;
	dp__ls_base(s, c, seed);
	return 0;
}

void dp_lineset_view(const struct dp_lineset *s, const struct dp_config *c, int flow,
		     uint32_t first, uint32_t n, struct dp_lines *out)
{
	*out = s->base;
	out->first_id = first;
	out->n = n;
	dp_lines_set_flow(out, (uint8_t)flow);
	out->line = s->line[flow] + first;
	out->auth_user = (const char(*)[32])(s->auth_user + first);
	for (int a = 0; a < DP_MAX_AORS; a++) {
		out->ha1_md5[a] = s->ha1_md5[a] ? (const char(*)[32])(s->ha1_md5[a] + first) : NULL;
		out->ha1_sha256[a] =
			s->ha1_sha256[a] ? (const char(*)[64])(s->ha1_sha256[a] + first) : NULL;
	}
	for (int sv = 0; sv < DP_MAX_SERVERS; sv++) {
		for (int a = 0; a < DP_MAX_AORS; a++)
			out->tpl[sv][a] = s->tpl[flow][sv][a];
	}
	if (flow == DP_FLOW_SUBSCRIBE) {
		out->to_tag = s->to_tag ? s->to_tag + first : NULL;
		out->dlg = s->dlg ? s->dlg + first : NULL;
		out->cfg.expires = c->sub_expires;
		out->cfg.keepalive = DP_KA_NONE;
	}
	if (flow != DP_FLOW_REGISTER)
		out->cfg.managed = true; /* moved by control only */
}

void dp_lineset_free(struct dp_lineset *s)
{
	if (!s)
		return;
	for (int f = 0; f < DP_FLOW__COUNT; f++) {
		for (int sv = 0; sv < DP_MAX_SERVERS; sv++) {
			for (int a = 0; a < DP_MAX_AORS; a++)
				free(s->tpl[f][sv][a]);
		}
		free(s->line[f]);
	}
	for (int a = 0; a < DP_MAX_AORS; a++) {
		free(s->ha1_md5[a]);
		free(s->ha1_sha256[a]);
	}
	free(s->auth_user);
	free(s->to_tag);
	free(s->dlg);
	memset(s, 0, sizeof(*s));
}
