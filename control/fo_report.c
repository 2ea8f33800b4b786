/* Failover figures for the run report (control/fo_report.h). */
#include "control/fo_report.h"

/* A role given as a host name: its own slot carries no traffic, its targets do. */
static bool ctl__dns_role(const struct ctl_fo *fo, int r)
{
	return fo->rt && r < CTL_ROLE__COUNT && fo->rt[r].dns;
}

/* The name of slot r's row, or NULL when it has none: configured roles, and the DNS
 * targets that are in use or carried traffic. */
static const char *ctl__slot_row(const struct ctl_fo *fo, const struct dp_stats *s, int r)
{
	if (r < CTL_ROLE__COUNT)
		return fo->cfg.configured[r] ? ctl_role_name(r) : NULL;
	if (!fo->slot_name || (fo->slot_role[r] < 0 && !s->tx_by_server[r]))
		return NULL;
	return fo->slot_name[r][0] ? fo->slot_name[r] : NULL;
}

/* A counter of role r: its own slot's, or for a DNS role the sum over its targets. */
static uint64_t ctl__role_sum(const struct ctl_fo *fo, const uint64_t *by_slot, int r)
{
	uint64_t n = 0;

	if (!ctl__dns_role(fo, r))
		return by_slot[r];
	for (int k = CTL_ROLE__COUNT; k < CTL_SLOTS; k++)
		n += fo->slot_role[k] == r ? by_slot[k] : 0;
	return n;
}

static const char *ctl__u32s(uint32_t v)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return buf;
}

#include <stdlib.h>
#include <string.h>

static const double ctl__pcts[] = {50, 90, 99, 100};
static const char *const ctl__pct_keys[] = {"p50", "p90", "p99", "p100"};

/* Every episode of one kind as one: the times of all their lines together. */
static void ctl__merge(const struct ctl_fo *fo, bool failback, struct ctl_episode *out)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	for (unsigned k = 0; k < fo->nep; k++) {
		if (fo->ep[k].failback == failback)
			n += fo->ep[k].settled;
	}
	out->latency_ms = n ? malloc(n * sizeof(uint32_t)) : NULL;
	for (unsigned k = 0; k < fo->nep; k++) {
		const struct ctl_episode *e = &fo->ep[k];

		if (e->failback != failback)
			continue;
		out->affected += e->affected;
		if (out->latency_ms)
			memcpy(out->latency_ms + out->settled, e->latency_ms,
			       e->settled * sizeof(uint32_t));
		out->settled += e->settled;
	}
	if (!out->latency_ms)
		out->settled = 0;
}

static void ctl__pct_cell(FILE *out, int64_t ms)
{
	if (ms < 0)
		fputs(" - |", out);
	else
		fprintf(out, " %.2f |", (double)ms / 1000.0);
}

static void ctl__row(FILE *out, const char *what, const struct ctl_episode *e)
{
	fprintf(out, "| %s | %u | %u |", what, e->affected, e->settled);
	for (size_t k = 0; k < 4; k++)
		ctl__pct_cell(out, ctl_episode_pct_ms(e, ctl__pcts[k]));
	fputc('\n', out);
}

/* One row per episode of fo, then each kind merged; words name the flow's moves. */
static void ctl__episodes_table(const struct ctl_fo *fo, const char *title,
				const char *const words[2], FILE *out)
{
	struct ctl_episode all;
	char what[64];

	fprintf(out,
		"\n| %s | lines | settled | 50 %% s | 90 %% s | 99 %% s | 100 %% s |\n"
		"|---|---:|---:|---:|---:|---:|---:|\n",
		title);
	for (unsigned k = 0; k < fo->nep; k++) {
		const struct ctl_episode *e = &fo->ep[k];

		snprintf(what, sizeof(what), "%s (%s %s)", words[e->failback],
			 ctl_role_name(e->role), e->failback ? "back" : "down");
		ctl__row(out, what, e);
	}
	for (int fb = 0; fb < 2; fb++) {
		ctl__merge(fo, fb, &all);
		snprintf(what, sizeof(what), "all: %s", words[fb]);
		ctl__row(out, what, &all);
		free(all.latency_ms);
	}
}

void ctl_fo_report_table(const struct ctl_fo *fo, const struct dp_stats *s,
			 const uint64_t peak_rps[CTL_SLOTS], FILE *out)
{
	static const char *const words[2] = {"failover", "failback"};

	ctl__episodes_table(fo, "move", words, out);
	fprintf(out,
		"\n| server | up | REGISTER sent | peak REGISTER/s | registered ok | bound now | "
		"failure signals / outlived | down | probes sent / ok |\n"
		"|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int r = 0; r < CTL_SLOTS; r++) {
		const struct ctl_server *sv = &fo->srv[r];
		const char *name = ctl__slot_row(fo, s, r);

		if (!name)
			continue;
		if (r < CTL_ROLE__COUNT && ctl__dns_role(fo, r)) { /* its targets follow */
			fprintf(out, "| %s (DNS) | %s | %llu | | %llu | %u | | | |\n", name,
				ctl_fo_role_up(fo, r) ? "yes" : "no",
				(unsigned long long)ctl__role_sum(fo, s->tx_by_server, r),
				(unsigned long long)ctl__role_sum(fo, s->reg_ok_by_server, r),
				fo->bound_at[r]);
			continue;
		}
		fprintf(out,
			"| %s | %s | %llu | %llu | %llu | %s | %llu / %llu | %llu | %llu / %llu |\n",
			name, sv->up ? "yes" : "no", (unsigned long long)s->tx_by_server[r],
			(unsigned long long)peak_rps[r], (unsigned long long)s->reg_ok_by_server[r],
			r < CTL_ROLE__COUNT ? ctl__u32s(fo->bound_at[r]) : "",
			(unsigned long long)sv->fail_signals,
			(unsigned long long)sv->fails_outlived, (unsigned long long)sv->downs,
			(unsigned long long)sv->probes_sent, (unsigned long long)sv->probes_ok);
	}
	for (int r = 0, first = 1; r < CTL_SLOTS; r++) {
		const char *name = ctl__slot_row(fo, s, r);

		if (!fo->srv[r].bindings_left || !name)
			continue;
		fprintf(out, "%s %s %llu",
			first ? "\nbindings left behind (their un-REGISTER failed; they expire):"
			      : ",",
			name, (unsigned long long)fo->srv[r].bindings_left);
		first = 0;
	}
	for (int r = 0; r < CTL_SLOTS; r++) {
		if (fo->srv[r].bindings_left && ctl__slot_row(fo, s, r)) {
			fputc('\n', out);
			break;
		}
	}
}

static void ctl__pct_json(struct ctl_json *j, const char *key, const struct ctl_episode *e)
{
	ctl_json_begin_object(j, key);
	for (size_t k = 0; k < 4; k++) {
		int64_t ms = ctl_episode_pct_ms(e, ctl__pcts[k]);

		if (ms < 0)
			ctl_json_null(j, ctl__pct_keys[k]);
		else
			ctl_json_double(j, ctl__pct_keys[k], (double)ms / 1000.0);
	}
	ctl_json_u64(j, "lines", e->affected);
	ctl_json_u64(j, "settled", e->settled);
	ctl_json_end_object(j);
}

/* failover_s and failback_s (each kind's episodes merged), then the episodes one by one. */
static void ctl__episodes_json(const struct ctl_fo *fo, struct ctl_json *j)
{
	struct ctl_episode all;

	for (int fb = 0; fb < 2; fb++) {
		ctl__merge(fo, fb, &all);
		ctl__pct_json(j, fb ? "failback_s" : "failover_s", &all);
		free(all.latency_ms);
	}
	ctl_json_begin_array(j, "episodes");
	for (unsigned k = 0; k < fo->nep; k++) {
		const struct ctl_episode *e = &fo->ep[k];

		ctl_json_begin_object(j, NULL);
		ctl_json_cstr(j, "kind", e->failback ? "failback" : "failover");
		ctl_json_cstr(j, "server", ctl_role_name(e->role));
		ctl__pct_json(j, "time_s", e);
		ctl_json_end_object(j);
	}
	ctl_json_end_array(j);
}

void ctl_fo_report_json(const struct ctl_fo *fo, const struct dp_stats *s,
			const uint64_t peak_rps[CTL_SLOTS], struct ctl_json *j)
{
	ctl__episodes_json(fo, j);
	ctl_json_begin_object(j, "requests_by_server");
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (fo->cfg.configured[r])
			ctl_json_u64(j, ctl_role_name(r), ctl__role_sum(fo, s->tx_by_server, r));
	}
	ctl_json_end_object(j);
	ctl_json_begin_object(j, "peak_requests_per_s_by_server");
	for (int r = 0; r < CTL_SLOTS; r++) {
		const char *name = ctl__slot_row(fo, s, r);

		if (name && !(r < CTL_ROLE__COUNT && ctl__dns_role(fo, r)))
			ctl_json_u64(j, name, peak_rps[r]);
	}
	ctl_json_end_object(j);
	ctl_json_begin_object(j, "errors_by_kind");
	for (int k = 1; k < DP_FAIL__COUNT; k++)
		ctl_json_u64(j, dp_fail_name(k), s->reg_fail[k]);
	ctl_json_u64(j, "flow_failed", s->flow_failures);
	ctl_json_end_object(j);
	ctl_json_begin_object(j, "servers");
	for (int r = 0; r < CTL_SLOTS; r++) {
		const struct ctl_server *sv = &fo->srv[r];
		const char *name = ctl__slot_row(fo, s, r);

		if (!name)
			continue;
		ctl_json_begin_object(j, name);
		ctl_json_bool(j, "up", r < CTL_ROLE__COUNT ? ctl_fo_role_up(fo, r) : sv->up);
		ctl_json_u64(j, "register_sent", ctl__role_sum(fo, s->tx_by_server, r));
		ctl_json_u64(j, "registered_ok", ctl__role_sum(fo, s->reg_ok_by_server, r));
		if (r < CTL_ROLE__COUNT)
			ctl_json_u64(j, "bound_now", fo->bound_at[r]);
		ctl_json_u64(j, "downs", sv->downs);
		ctl_json_u64(j, "fail_signals", sv->fail_signals);
		ctl_json_u64(j, "fails_outlived", sv->fails_outlived);
		ctl_json_u64(j, "probes_sent", sv->probes_sent);
		ctl_json_u64(j, "probes_ok", sv->probes_ok);
		ctl_json_u64(j, "bindings_left", sv->bindings_left);
		ctl_json_end_object(j);
	}
	ctl_json_end_object(j);
	ctl_json_u64(j, "fsm_ignored_events", fo->ignored);
	ctl_json_u64(j, "commands_deferred", fo->cmd_dropped);
}

void ctl_fo_report_subs_table(const struct ctl_fo *fo, const struct dp_stats *s, FILE *out)
{
	static const char *const words[2] = {"away", "back"};
	uint64_t fails = 0;

	for (int k = 1; k < DP_FAIL__COUNT; k++)
		fails += s->reg_fail[k];
	ctl__episodes_table(fo, "subscriptions move", words, out);
	fprintf(out,
		"\n| proxy | SUBSCRIBE sent | accepted | active now |\n|---|---:|---:|---:|\n");
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (fo->cfg.configured[r] && (s->tx_by_server[r] || fo->bound_at[r]))
			fprintf(out, "| %s | %llu | %llu | %u |\n", ctl_role_name(r),
				(unsigned long long)s->tx_by_server[r],
				(unsigned long long)s->reg_ok_by_server[r], fo->bound_at[r]);
	}
	fprintf(out, "\nSUBSCRIBE failures: %llu, un-SUBSCRIBEs: %llu\n", (unsigned long long)fails,
		(unsigned long long)s->unreg_ok);
}

void ctl_fo_report_subs_json(const struct ctl_fo *fo, const struct dp_stats *s, struct ctl_json *j)
{
	ctl_json_begin_object(j, "subscriptions");
	ctl_json_u64(j, "subscribe_sent", s->tx_requests[DP_M_SUBSCRIBE]);
	ctl_json_u64(j, "accepted", s->reg_ok);
	ctl_json_u64(j, "unsubscribed", s->unreg_ok);
	ctl_json_u64(j, "active_end", s->registered);
	ctl_json_begin_object(j, "failures");
	for (int k = 1; k < DP_FAIL__COUNT; k++)
		ctl_json_u64(j, dp_fail_name(k), s->reg_fail[k]);
	ctl_json_end_object(j);
	ctl_json_begin_object(j, "by_server");
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (!fo->cfg.configured[r])
			continue;
		ctl_json_begin_object(j, ctl_role_name(r));
		ctl_json_u64(j, "subscribe_sent", s->tx_by_server[r]);
		ctl_json_u64(j, "accepted", s->reg_ok_by_server[r]);
		ctl_json_u64(j, "active_now", fo->bound_at[r]);
		ctl_json_end_object(j);
	}
	ctl_json_end_object(j);
	ctl__episodes_json(fo, j);
	ctl_json_end_object(j);
}

static uint64_t ctl__fails_of(const struct dp_stats *s)
{
	uint64_t n = 0;

	for (int k = 1; k < DP_FAIL__COUNT; k++)
		n += s->reg_fail[k];
	return n;
}

void ctl_fo_report_flows_table(const struct ctl_fo *const fo[2], const struct dp_stats s[2],
			       FILE *out)
{
	fprintf(out, "\n| outbound flow | via | registered now | registrations ok | failures | "
		     "keep-alives sent / answered | flow failures |\n"
		     "|---|---|---:|---:|---:|---:|---:|\n");
	for (int k = 0; k < 2; k++)
		fprintf(out, "| reg-id %d | %s | %llu | %llu | %llu | %llu / %llu | %llu |\n",
			k + 1, ctl_role_name(fo[k]->want.via), (unsigned long long)s[k].registered,
			(unsigned long long)s[k].reg_ok, (unsigned long long)ctl__fails_of(&s[k]),
			(unsigned long long)(s[k].tx_keepalive_stun + s[k].tx_keepalive_crlf),
			(unsigned long long)s[k].rx_keepalive_ok,
			(unsigned long long)s[k].flow_failures);
}

void ctl_fo_report_flows_json(const struct ctl_fo *const fo[2], const struct dp_stats s[2],
			      struct ctl_json *j)
{
	ctl_json_begin_array(j, "outbound_flows");
	for (int k = 0; k < 2; k++) {
		ctl_json_begin_object(j, NULL);
		ctl_json_u64(j, "reg_id", (uint64_t)k + 1);
		ctl_json_cstr(j, "via", ctl_role_name(fo[k]->want.via));
		ctl_json_u64(j, "registered_end", s[k].registered);
		ctl_json_u64(j, "registrations_ok", s[k].reg_ok);
		ctl_json_u64(j, "failures", ctl__fails_of(&s[k]));
		ctl_json_u64(j, "keepalive_sent", s[k].tx_keepalive_stun + s[k].tx_keepalive_crlf);
		ctl_json_u64(j, "keepalive_answered", s[k].rx_keepalive_ok);
		ctl_json_u64(j, "flow_failures", s[k].flow_failures);
		ctl_json_end_object(j);
	}
	ctl_json_end_array(j);
}

/* The time by which pct % of the answered calls had their 2xx, in ms (10 ms buckets; the
 * last holds the slower ones, so a figure of DP_CALL_LAT_BUCKETS * 10 means "or more");
 * 0 with no call answered. */
static uint64_t ctl__call_setup_ms(const struct dp_stats *s, unsigned pct)
{
	uint64_t n = 0, total = 0, want;

	for (int k = 0; k < DP_CALL_LAT_BUCKETS; k++)
		total += s->call_setup_hist[k];
	want = (total * pct + 99) / 100;
	for (int k = 0; k < DP_CALL_LAT_BUCKETS && want; k++) {
		n += s->call_setup_hist[k];
		if (n >= want)
			return (uint64_t)(k + 1) * 10;
	}
	return 0;
}

void ctl_fo_report_calls_table(const struct ctl_fo *fo, const struct dp_stats *s, FILE *out)
{
	fprintf(out,
		"\n| calls | attempted | answered | completed (our BYE) | ended by the other side "
		"| timed out | refused 4xx / 5xx / 6xx / auth | not answered | BYE failed | "
		"due but no line free | stray 2xx ended | set-up p50 / p99 ms |\n"
		"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	fprintf(out,
		"| all | %llu | %llu | %llu | %llu | %llu | %llu / %llu / %llu / %llu | %llu | "
		"%llu | %llu | %llu | %llu / %llu |\n",
		(unsigned long long)s->calls_attempted, (unsigned long long)s->calls_answered,
		(unsigned long long)s->calls_completed, (unsigned long long)s->calls_remote_bye,
		(unsigned long long)s->calls_failed[DP_FAIL_TIMEOUT],
		(unsigned long long)s->calls_failed[DP_FAIL_4XX],
		(unsigned long long)s->calls_failed[DP_FAIL_5XX],
		(unsigned long long)s->calls_failed[DP_FAIL_6XX],
		(unsigned long long)s->calls_failed[DP_FAIL_AUTH],
		(unsigned long long)s->calls_no_answer, (unsigned long long)s->calls_bye_failed,
		(unsigned long long)s->calls_not_placed, (unsigned long long)s->calls_stray_2xx,
		(unsigned long long)ctl__call_setup_ms(s, 50),
		(unsigned long long)ctl__call_setup_ms(s, 99));
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		uint64_t n = ctl__role_sum(fo, s->calls_by_server, r);

		if (fo->cfg.configured[r] && n)
			fprintf(out, "| first INVITEs via %s | %llu | | | | | | | | | | |\n",
				ctl_role_name(r), (unsigned long long)n);
	}
}

void ctl_fo_report_calls_json(const struct ctl_fo *fo, const struct dp_stats *s, struct ctl_json *j)
{
	ctl_json_begin_object(j, "calls");
	ctl_json_u64(j, "attempted", s->calls_attempted);
	ctl_json_u64(j, "answered", s->calls_answered);
	ctl_json_u64(j, "completed", s->calls_completed);
	ctl_json_u64(j, "remote_bye", s->calls_remote_bye);
	ctl_json_begin_object(j, "failures");
	for (int k = 1; k < DP_FAIL__COUNT; k++)
		ctl_json_u64(j, dp_fail_name(k), s->calls_failed[k]);
	ctl_json_end_object(j);
	ctl_json_u64(j, "no_answer", s->calls_no_answer);
	ctl_json_u64(j, "cancelled", s->calls_cancelled);
	ctl_json_u64(j, "bye_failed", s->calls_bye_failed);
	ctl_json_u64(j, "not_placed", s->calls_not_placed);
	ctl_json_u64(j, "stray_2xx", s->calls_stray_2xx);
	ctl_json_u64(j, "too_big", s->calls_too_big);
	ctl_json_u64(j, "active_end", s->calls_active);
	ctl_json_begin_object(j, "by_server");
	for (int r = 0; r < CTL_ROLE__COUNT; r++) {
		if (fo->cfg.configured[r])
			ctl_json_u64(j, ctl_role_name(r), ctl__role_sum(fo, s->calls_by_server, r));
	}
	ctl_json_end_object(j);
	ctl_json_begin_object(j, "setup_ms");
	ctl_json_u64(j, "p50", ctl__call_setup_ms(s, 50));
	ctl_json_u64(j, "p90", ctl__call_setup_ms(s, 90));
	ctl_json_u64(j, "p99", ctl__call_setup_ms(s, 99));
	ctl_json_end_object(j);
	ctl_json_end_object(j);
}
