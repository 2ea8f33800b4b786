/*
 * `sipedge run`: bring up the dataplane on a DPDK port, register N lines at a registrar,
 * keep them registered, and on Ctrl-C, SIGTERM or the end of --duration un-register
 * every line under the rate cap and print (and write) the summary. One libuv loop on
 * the main lcore drives it; the worker is spoken to only through dataplane/dataplane.h.
 */
#include "control/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "control/failover.h"
#include "control/fo_report.h"
#include "control/config.h"
#include "control/linegen.h"
#include "control/phonecfg.h"
#include "control/run_cfg.h"
#include "control/stream.h"
#include "control/run_dns.h"
#include "dataplane/dataplane.h"
#include "sip/builder.h"

#define CTL_TICK_MS 10 /* events, probes and storm control's releases */
#define CTL_MAX_EAL_ARGS 64

struct ctl_run {
	struct ctl_run_cfg c;
	struct ctl_fo fo;
	struct ctl_fo fo_sub;	/* the lines' subscriptions, when c.dp.subscribe */
	struct ctl_fo fo_reg2;	/* mode 4: the lines' second outbound flow, when c.dp.reg2 */
	struct ctl_run_dns dns; /* roles given as host names */
	unsigned ticks;
	/* slot addresses a full ring refused: sent again each tick until taken */
	struct {
		bool pending;
		uint32_t ip;
		uint16_t port;
	} server_update[CTL_SLOTS];
	uint32_t call_target; /* sent to the workers; UINT32_MAX: nothing yet */
	bool calls_pending;
	char eal_prefix[64];
	char eal_lcores[1024]; /* the lab default with --workers N (64 at most) */
	char eal_vdev[96];
	char *eal_argv[CTL_MAX_EAL_ARGS];
	/* run state */
	struct dp *d;
	struct ctl_stream *st; /* lines over TCP/TLS instead of the dataplane (control/stream.h) */
	uv_loop_t loop;
	uv_timer_t tick;
	uv_timer_t progress;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	uint64_t t0_ms;
	uint64_t stop_ms;    /* 0 until stopping began */
	uint64_t stop_bound; /* lines registered or in flight then: the un-register ramp */
	bool interrupted;
	double load_s; /* dp_create: EAL, port, every line's template and HA1s */
	uint64_t rss_kb_loaded;
	uint64_t registered_peak;
	uint64_t registered_at_stop; /* lines registered when the stop began */
	uint64_t events;
	struct dp_stats last;
	uint64_t peak_rps[CTL_SLOTS]; /* most requests sent to a server in one second */
};

/* The lines' counters of one flow, whichever carries them. */
static void ctl__flow_stats(const struct ctl_run *r, int flow, struct dp_stats *out)
{
	if (r->st)
		ctl_stream_stats(r->st, flow, out);
	else if (flow == DP_FLOW_REGISTER)
		dp_stats_sum(r->d, out);
	else if (flow == DP_FLOW_SUBSCRIBE)
		dp_sub_stats_sum(r->d, out);
	else
		dp_flow_stats_sum(r->d, flow, out);
}

static unsigned ctl__events(struct ctl_run *r, struct dp_msg *out, unsigned max)
{
	return r->st ? ctl_stream_events(r->st, out, max) : dp_events(r->d, out, max);
}

/* Workers to tell what all of them do: the stream transport is one. */
static unsigned ctl__workers(const struct ctl_run *r)
{
	return r->st ? 1 : dp_workers(r->d);
}

static int ctl__worker_command(struct ctl_run *r, unsigned w, const struct dp_msg *c)
{
	return r->st ? ctl_stream_command(r->st, c) : dp_command(r->d, w, c);
}

/* Options after the EAL's "--" (a -c FILE first, whatever its place): returns -1 to go
 * on, or an exit status. */
static int ctl__options(struct ctl_run *r, int argc, char **argv)
{
	int code, idx, help = ctl_run_cfg_code("help");
	char err[256];

	optind = 1;
	opterr = 0;
	while ((code = getopt_long(argc, argv, "c:", ctl_run_cfg_opts, NULL)) != -1) {
		if (code == 'c' && ctl_config_load(optarg, &r->c, stderr) != 0)
			return 2;
		if (code == 'p' && ctl_phonecfg_load(optarg, &r->c, stderr) != 0)
			return 2;
	}
	optind = 1;
	while ((code = getopt_long(argc, argv, "c:", ctl_run_cfg_opts, &idx)) != -1) {
		if (code == 'c' || code == 'p')
			continue;
		if (code == help) {
			fputs(ctl_run_cfg_usage, stdout);
			return 0;
		}
		if (code == '?' || code == ':') {
			fprintf(stderr,
				"sipedge run: unknown or incomplete option '%s' (see 'sipedge run "
				"--help')\n",
				argv[optind - 1]);
			return 2;
		}
		if (ctl_run_cfg_option(&r->c, code, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "sipedge run: --%s %s (see 'sipedge run --help')\n",
				ctl_run_cfg_opts[idx].name, err);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"sipedge run: unexpected argument '%s' (see 'sipedge run --help')\n",
			argv[optind]);
		return 2;
	}
	if (ctl_run_cfg_finish(&r->c, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipedge run: %s\n", err);
		return 2;
	}
	return -1;
}

/* The lab default for N workers: the main lcore on CPU 0, workers spread over the
 * other CPUs (several on one when there are fewer CPUs than workers), and an af_packet
 * queue pair per worker. */
static void ctl__eal_workers(struct ctl_run *r, const char **def)
{
	unsigned nw = r->c.dp.workers, ncpu = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	size_t n;

	n = (size_t)snprintf(r->eal_lcores, sizeof(r->eal_lcores), "0@0");
	for (unsigned k = 1; k <= nw && n < sizeof(r->eal_lcores); k++)
		n += (size_t)snprintf(r->eal_lcores + n, sizeof(r->eal_lcores) - n, ",%u@%u", k,
				      ncpu > 1 ? 1 + (k - 1) % (ncpu - 1) : 0);
	snprintf(r->eal_vdev, sizeof(r->eal_vdev), "--vdev=net_af_packet0,iface=se-dp,qpairs=%u",
		 nw);
	def[0] = "--lcores";
	def[1] = r->eal_lcores;
	def[6] = r->eal_vdev;
}

/* EAL arguments: those before "--", or the lab default. */
static void ctl__eal_args(struct ctl_run *r, int neal, char **eal)
{
	const char *def[] = {"-l",
			     "0-1",
			     "--no-huge",
			     "-m",
			     "512",
			     "--no-pci",
			     "--vdev=net_af_packet0,iface=se-dp",
			     "--no-telemetry",
			     "--log-level=lib.eal:error"};
	int n = 0;

	r->eal_argv[n++] = "sipedge";
	snprintf(r->eal_prefix, sizeof(r->eal_prefix), "--file-prefix=sipedge%d", (int)getpid());
	r->eal_argv[n++] = r->eal_prefix;
	if (neal < 0) {
		if (r->c.dp.workers > 1)
			ctl__eal_workers(r, def);
		for (size_t k = 0; k < sizeof(def) / sizeof(def[0]); k++)
			r->eal_argv[n++] = (char *)def[k];
	} else {
		for (int k = 0; k < neal && n < CTL_MAX_EAL_ARGS - 1; k++)
			r->eal_argv[n++] = eal[k];
	}
	r->eal_argv[n] = NULL;
	r->c.dp.eal_argc = n;
	r->c.dp.eal_argv = r->eal_argv;
}

/* --- the run --- */

static uint64_t ctl__pct_us(const struct dp_stats *s, double pct)
{
	uint64_t total = 0, seen = 0;

	for (int k = 0; k < DP_LAT_BUCKETS; k++)
		total += s->lat_hist[k];
	if (!total)
		return 0;
	for (int k = 0; k < DP_LAT_BUCKETS; k++) {
		seen += s->lat_hist[k];
		if ((double)seen >= pct / 100.0 * (double)total)
			return (uint64_t)(k + 1) * DP_LAT_BUCKET_US;
	}
	return (uint64_t)DP_LAT_BUCKETS * DP_LAT_BUCKET_US;
}

static uint64_t ctl__fails(const struct dp_stats *s)
{
	uint64_t n = 0;

	for (int k = 1; k < DP_FAIL__COUNT; k++)
		n += s->reg_fail[k];
	return n;
}

/* The registrations' counters; in mode 4 the per-server ones count both flows, since
 * both load the servers (the flows table has each flow's own). */
static void ctl__reg_stats(struct ctl_run *r, struct dp_stats *s)
{
	struct dp_stats s2;

	ctl__flow_stats(r, DP_FLOW_REGISTER, s);
	if (!r->c.dp.reg2)
		return;
	ctl__flow_stats(r, DP_FLOW_REGISTER2, &s2);
	for (int k = 0; k < DP_MAX_SERVERS; k++) {
		s->tx_by_server[k] += s2.tx_by_server[k];
		s->reg_ok_by_server[k] += s2.reg_ok_by_server[k];
	}
}

static void ctl__progress(uv_timer_t *t)
{
	struct ctl_run *r = t->data;
	struct dp_stats s;
	double secs = (double)(uv_now(&r->loop) - r->t0_ms) / 1000.0;

	char at[96] = "";
	size_t n = 0;

	ctl__reg_stats(r, &s);
	/* the peak is the run's, not the final un-register ramp's (that one --rate paces) */
	for (int k = 0; k < CTL_SLOTS && !r->stop_ms; k++) {
		uint64_t rps = s.tx_by_server[k] - r->last.tx_by_server[k];

		if (rps > r->peak_rps[k])
			r->peak_rps[k] = rps;
	}
	for (int k = 0; k < CTL_ROLE__COUNT && n < sizeof(at) - 24; k++) {
		if (r->c.fo_cfg.configured[k] && (k == CTL_R || k == CTL_BR))
			n += (size_t)snprintf(at + n, sizeof(at) - n, " %s %u", ctl_role_name(k),
					      r->fo.bound_at[k]);
	}
	if (r->c.dp.reg2 && n < sizeof(at) - 48) {
		struct dp_stats s2;

		ctl__flow_stats(r, DP_FLOW_REGISTER2, &s2);
		n += (size_t)snprintf(at + n, sizeof(at) - n, "; flow 2 (BOP) %llu",
				      (unsigned long long)s2.registered);
	}
	for (int k = 0; k < CTL_ROLE__COUNT && r->c.dp.subscribe && n < sizeof(at) - 32; k++) {
		if (r->fo_sub.bound_at[k])
			n += (size_t)snprintf(at + n, sizeof(at) - n, "; subscribed at %s %u",
					      ctl_role_name(k), r->fo_sub.bound_at[k]);
	}
	if (!r->c.quiet)
		fprintf(stderr,
			"%s[%6.1fs] registered %llu/%u (at%s)  REGISTER/s %llu  401 %llu  200 %llu  "
			"retx %llu  fail %llu  drops %llu   ",
			isatty(2) ? "\r" : "", secs, (unsigned long long)s.registered,
			r->c.dp.lines, at,
			(unsigned long long)(s.tx_requests[DP_M_REGISTER] -
					     r->last.tx_requests[DP_M_REGISTER]),
			(unsigned long long)s.rx_401, (unsigned long long)s.rx_responses[2],
			(unsigned long long)s.tx_retransmissions,
			(unsigned long long)ctl__fails(&s),
			(unsigned long long)(s.sip_drops[DP_SIP_DROP_PARSE] +
					     s.sip_drops[DP_SIP_DROP_UNKNOWN_LINE]));
	if (!r->c.quiet && !isatty(2))
		fputc('\n', stderr);
	r->last = s;
}

static void ctl__begin_stop(struct ctl_run *r, const char *why)
{
	struct dp_msg c = {.type = DP_CMD_UNREGISTER_ALL};

	struct dp_stats s;

	if (r->stop_ms)
		return;
	r->stop_ms = uv_now(&r->loop);
	ctl__flow_stats(r, DP_FLOW_REGISTER, &s);
	r->stop_bound = s.registered + s.in_flight;
	r->registered_at_stop = s.registered;
	if (!r->c.quiet)
		fprintf(stderr, "\n%s: un-registering every line\n", why);
	ctl_fo_stop(&r->fo);
	if (r->c.dp.subscribe)
		ctl_fo_stop(&r->fo_sub);
	if (r->c.dp.reg2)
		ctl_fo_stop(&r->fo_reg2);
	for (unsigned k = 0; k < ctl__workers(r); k++)
		ctl__worker_command(r, k, &c);
}

static void ctl__signal(uv_signal_t *sig, int signum)
{
	struct ctl_run *r = sig->data;

	if (r->stop_ms) {
		/* a second interrupt: stop waiting, still write the summary */
		uv_stop(&r->loop);
		return;
	}
	r->interrupted = true;
	ctl__begin_stop(r, signum == SIGINT ? "interrupted" : "terminated");
}

static void ctl__set_server(void *ctx, unsigned slot, uint32_t ip, uint16_t port);

/* The failover state of one flow of the lines (an event's), or NULL when it is off. */
static struct ctl_fo *ctl__fo_of(struct ctl_run *r, unsigned flow)
{
	switch (flow) {
	case DP_FLOW_REGISTER:
		return &r->fo;
	case DP_FLOW_SUBSCRIBE:
		return r->c.dp.subscribe ? &r->fo_sub : NULL;
	case DP_FLOW_REGISTER2:
		return r->c.dp.reg2 ? &r->fo_reg2 : NULL;
	default:
		return NULL;
	}
}

/* Calls: the rate, hold time and next hop of new INVITEs to every worker, when the
 * target moved (or a full ring refused it last time). */
static void ctl__calls(struct ctl_run *r)
{
	uint32_t t = ctl_fo_call_target(&r->fo), nw = ctl__workers(r);
	bool all = true;

	if (!r->c.dp.call_to || r->stop_ms || (t == r->call_target && !r->calls_pending))
		return;
	for (unsigned k = 0; k < nw; k++) {
		/* the rate split over the workers, the remainder to the first ones */
		struct dp_msg c = {.type = DP_CMD_CALLS,
				   .value = r->c.call_rate_milli / nw +
					    (k < r->c.call_rate_milli % nw),
				   .value2 = r->c.call_hold_ms,
				   .target = t};

		all &= ctl__worker_command(r, k, &c) == 0;
	}
	r->calls_pending = !all;
	r->call_target = t;
}

static void ctl__tick(uv_timer_t *t)
{
	struct ctl_run *r = t->data;
	struct dp_msg ev[256];
	struct dp_stats s, sub, reg2;
	unsigned n;

	uint64_t now_us = uv_hrtime() / 1000;

	while ((n = ctl__events(r, ev, 256)) > 0) {
		r->events += n;
		for (unsigned k = 0; k < n; k++) {
			struct ctl_fo *fo = ctl__fo_of(r, ev[k].flow);

			if (ev[k].type == DP_EV_CALL)
				ctl_fo_call_event(&r->fo, &ev[k], now_us);
			else
				ctl_fo_event(fo ? fo : &r->fo, &ev[k], now_us);
		}
	}
	for (unsigned f = 0; f < DP_FLOW__COUNT; f++) {
		struct ctl_fo *fo = ctl__fo_of(r, f);

		if (fo)
			ctl_fo_tick(fo, now_us);
	}
	ctl__calls(r);
	for (unsigned k = 0; k < CTL_SLOTS; k++) {
		if (r->server_update[k].pending)
			ctl__set_server(r, k, r->server_update[k].ip, r->server_update[k].port);
	}
	if (++r->ticks % 10 == 0 && !r->stop_ms) /* every 100 ms: DNS answers the cache has */
		ctl_run_dns_tick(&r->dns);
	ctl__flow_stats(r, DP_FLOW_REGISTER, &s);
	ctl__flow_stats(r, DP_FLOW_SUBSCRIBE, &sub);
	ctl__flow_stats(r, DP_FLOW_REGISTER2, &reg2);
	if (s.registered > r->registered_peak)
		r->registered_peak = s.registered;
	if (!r->stop_ms && r->c.duration_s &&
	    uv_now(&r->loop) - r->t0_ms >= (uint64_t)r->c.duration_s * 1000)
		ctl__begin_stop(r, "duration reached");
	if (r->stop_ms) {
		/* done when every line was reached, none is registered and no transaction is
		 * out (a REGISTER in flight may still make a binding), or after timer F */
		bool quiet = s.registered == 0 && s.in_flight == 0 && s.unreg_pending == 0 &&
			     s.calls_active == 0 && sub.registered == 0 && sub.in_flight == 0 &&
			     reg2.registered == 0 && reg2.in_flight == 0;

		if (quiet ||
		    uv_now(&r->loop) - r->stop_ms >
			    r->c.dp.tf_ms + 5000 +
				    (uint64_t)(r->c.dp.rate ? 1000ull * r->stop_bound / r->c.dp.rate
							    : 0))
			uv_stop(&r->loop);
	}
}

static uint64_t ctl__sum(const uint64_t *v, size_t n)
{
	uint64_t t = 0;

	for (size_t k = 0; k < n; k++)
		t += v[k];
	return t;
}

/* Each worker's own counters (every flow of its lines together). */
static void ctl__worker_stats(const struct ctl_run *r, unsigned w, struct dp_stats *out)
{
	struct dp_stats f;

	memset(out, 0, sizeof(*out));
	for (int flow = 0; flow < DP_FLOW__COUNT; flow++) {
		if (dp_worker_stats(r->d, w, flow, &f) == 0)
			dp_stats_add(out, &f);
	}
}

static void ctl__workers_table(const struct ctl_run *r, FILE *out)
{
	if (r->st)
		return; /* no worker lcores: the lines run on control's loop */
	fprintf(out,
		"\n| worker (lcore) | lines | busy | frames in / out / handed over | requests sent (REGISTER, SUBSCRIBE) | "
		"retransmissions | responses 1xx / 2xx / 4xx / 5xx | requests answered | "
		"SIP dropped | frames dropped |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (unsigned w = 0; w < dp_workers(r->d); w++) {
		struct dp_stats s;

		uint32_t first = 0, n = 0;

		ctl__worker_stats(r, w, &s);
		dp_worker_lines(r->d, w, &first, &n);
		fprintf(out,
			"| %u (%d) | %u-%u | %.0f %% | %llu / %llu / %llu | %llu (%llu, %llu) | %llu | %llu / "
			"%llu / %llu / %llu | %llu | %llu | %llu |\n",
			w, dp_worker_lcore(r->d, w), first, first + n - 1,
			s.run_cycles ? 100.0 * (double)s.busy_cycles / (double)s.run_cycles : 0.0,
			(unsigned long long)s.rx_frames, (unsigned long long)s.tx_frames,
			(unsigned long long)s.dispatched,
			(unsigned long long)ctl__sum(s.tx_requests, DP_M__COUNT),
			(unsigned long long)s.tx_requests[DP_M_REGISTER],
			(unsigned long long)s.tx_requests[DP_M_SUBSCRIBE],
			(unsigned long long)s.tx_retransmissions,
			(unsigned long long)s.rx_responses[1],
			(unsigned long long)s.rx_responses[2],
			(unsigned long long)s.rx_responses[4],
			(unsigned long long)s.rx_responses[5],
			(unsigned long long)ctl__sum(s.rx_requests, DP_M__COUNT),
			(unsigned long long)ctl__sum(s.sip_drops, DP_SIP_DROP__COUNT),
			(unsigned long long)ctl__sum(s.drops, DP_DROP__COUNT));
	}
}

static void ctl__workers_json(const struct ctl_run *r, struct ctl_json *j)
{
	static const char *const methods[DP_M__COUNT] = {
		"REGISTER", "OPTIONS", "NOTIFY", "INVITE", "BYE", "ACK", "SUBSCRIBE", "other"};

	ctl_json_begin_array(j, "workers");
	for (unsigned w = 0; !r->st && w < dp_workers(r->d); w++) {
		struct dp_stats s;
		char cls[4] = "1xx";
		uint32_t first, n;

		ctl__worker_stats(r, w, &s);
		ctl_json_begin_object(j, NULL);
		ctl_json_u64(j, "worker", w);
		ctl_json_u64(j, "lcore", (uint64_t)dp_worker_lcore(r->d, w));
		if (dp_worker_lines(r->d, w, &first, &n) == 0) {
			ctl_json_u64(j, "first_line", first);
			ctl_json_u64(j, "lines", n);
		}
		ctl_json_u64(j, "rx_frames", s.rx_frames);
		ctl_json_u64(j, "dispatched", s.dispatched);
		ctl_json_double(j, "busy_share",
				s.run_cycles ? (double)s.busy_cycles / (double)s.run_cycles : 0);
		ctl_json_u64(j, "tx_frames", s.tx_frames);
		ctl_json_begin_object(j, "tx_requests");
		for (int k = 0; k < DP_M__COUNT; k++)
			ctl_json_u64(j, methods[k], s.tx_requests[k]);
		ctl_json_end_object(j);
		ctl_json_begin_object(j, "rx_requests");
		for (int k = 0; k < DP_M__COUNT; k++)
			ctl_json_u64(j, methods[k], s.rx_requests[k]);
		ctl_json_end_object(j);
		ctl_json_begin_object(j, "rx_responses");
		for (int k = 1; k <= 6; k++) {
			cls[0] = (char)('0' + k);
			ctl_json_u64(j, cls, s.rx_responses[k]);
		}
		ctl_json_end_object(j);
		ctl_json_u64(j, "retransmissions", s.tx_retransmissions);
		ctl_json_begin_object(j, "drops");
		for (int k = 1; k < DP_DROP__COUNT; k++)
			ctl_json_u64(j, dp_drop_name(k), s.drops[k]);
		ctl_json_u64(j, "sip_unparsable", s.sip_drops[DP_SIP_DROP_PARSE]);
		ctl_json_u64(j, "sip_unknown_line", s.sip_drops[DP_SIP_DROP_UNKNOWN_LINE]);
		ctl_json_u64(j, "sip_stale", s.sip_drops[DP_SIP_DROP_STALE]);
		ctl_json_u64(j, "sip_no_buffer", s.sip_drops[DP_SIP_DROP_NO_BUFFER]);
		ctl_json_u64(j, "sip_not_from_server", s.sip_drops[DP_SIP_DROP_NOT_FROM_SERVER]);
		ctl_json_end_object(j);
		ctl_json_end_object(j);
	}
	ctl_json_end_array(j);
}

/* TCP/TLS: the connections of every flow of the lines. */
static void ctl__conn_sum(const struct ctl_run *r, struct dp_stats *all)
{
	struct dp_stats f;

	memset(all, 0, sizeof(*all));
	for (int k = 0; k < DP_FLOW__COUNT; k++) {
		ctl__flow_stats(r, k, &f);
		dp_stats_add(all, &f);
	}
}

static void ctl__conn_row(const struct ctl_run *r, FILE *out)
{
	struct dp_stats a;

	ctl__conn_sum(r, &a);
	fprintf(out,
		"| %s connections made / refused or failed / lost / TLS failures | %llu / %llu / "
		"%llu / %llu |\n",
		r->c.stream == SIP_TPL_TLS ? "TLS" : "TCP", (unsigned long long)a.conn_opened,
		(unsigned long long)a.conn_failed, (unsigned long long)a.conn_lost,
		(unsigned long long)a.tls_failures);
}

static void ctl__conn_json(const struct ctl_run *r, struct ctl_json *j)
{
	struct dp_stats a;

	ctl__conn_sum(r, &a);
	ctl_json_begin_object(j, "connections");
	ctl_json_str(j, "transport", r->c.stream == SIP_TPL_TLS ? "tls" : "tcp", 3);
	ctl_json_u64(j, "opened", a.conn_opened);
	ctl_json_u64(j, "failed", a.conn_failed);
	ctl_json_u64(j, "lost", a.conn_lost);
	ctl_json_u64(j, "tls_failures", a.tls_failures);
	ctl_json_end_object(j);
}

static void ctl__summary(struct ctl_run *r, FILE *out, bool json)
{
	struct dp_stats s;
	struct ctl_json j;
	double secs = (double)(uv_now(&r->loop) - r->t0_ms) / 1000.0;

	ctl__reg_stats(r, &s);
	if (!json) {
		fprintf(out, "\n| figure | value |\n|---|---:|\n");
		fprintf(out, "| lines | %u |\n| run time s | %.1f |\n", r->c.dp.lines, secs);
		fprintf(out, "| registered at peak | %llu |\n",
			(unsigned long long)r->registered_peak);
		fprintf(out, "| registered when the stop began | %llu |\n",
			(unsigned long long)r->registered_at_stop);
		fprintf(out, "| registered at end | %llu |\n", (unsigned long long)s.registered);
		fprintf(out, "| REGISTER sent (with credentials) | %llu (%llu) |\n",
			(unsigned long long)s.tx_requests[DP_M_REGISTER],
			(unsigned long long)s.tx_register_auth);
		fprintf(out, "| registrations ok | %llu |\n| un-registrations ok | %llu |\n",
			(unsigned long long)s.reg_ok, (unsigned long long)s.unreg_ok);
		fprintf(out, "| 401 / 407 / 423 / 503 | %llu / %llu / %llu / %llu |\n",
			(unsigned long long)s.rx_401, (unsigned long long)s.rx_407,
			(unsigned long long)s.rx_423, (unsigned long long)s.rx_503);
		fprintf(out, "| retransmissions | %llu |\n",
			(unsigned long long)s.tx_retransmissions);
		fprintf(out,
			"| keep-alives sent / answered / flow failures | %llu / %llu / %llu |\n",
			(unsigned long long)(s.tx_keepalive_stun + s.tx_keepalive_crlf),
			(unsigned long long)s.rx_keepalive_ok, (unsigned long long)s.flow_failures);
		for (int k = 1; k < DP_FAIL__COUNT; k++)
			fprintf(out, "| failures: %s | %llu |\n", dp_fail_name(k),
				(unsigned long long)s.reg_fail[k]);
		fprintf(out, "| registration latency p50 / p99 us | %llu / %llu |\n",
			(unsigned long long)ctl__pct_us(&s, 50),
			(unsigned long long)ctl__pct_us(&s, 99));
		fprintf(out,
			"| SIP dropped: unparsable / unknown line / stale | %llu / %llu / %llu |\n",
			(unsigned long long)s.sip_drops[DP_SIP_DROP_PARSE],
			(unsigned long long)s.sip_drops[DP_SIP_DROP_UNKNOWN_LINE],
			(unsigned long long)s.sip_drops[DP_SIP_DROP_STALE]);
		fprintf(out,
			"| requests answered (OPTIONS/NOTIFY/INVITE/other) | %llu / %llu / %llu / %llu |\n",
			(unsigned long long)s.rx_requests[DP_M_OPTIONS],
			(unsigned long long)s.rx_requests[DP_M_NOTIFY],
			(unsigned long long)s.rx_requests[DP_M_INVITE],
			(unsigned long long)s.rx_requests[DP_M_OTHER]);
		if (r->st)
			ctl__conn_row(r, out);
		ctl_fo_report_table(&r->fo, &s, r->peak_rps, out);
		if (r->c.dp.call_to)
			ctl_fo_report_calls_table(&r->fo, &s, out);
		if (r->c.dp.reg2) {
			const struct ctl_fo *fo[2] = {&r->fo, &r->fo_reg2};
			struct dp_stats fs[2];

			ctl__flow_stats(r, DP_FLOW_REGISTER, &fs[0]);
			ctl__flow_stats(r, DP_FLOW_REGISTER2, &fs[1]);
			ctl_fo_report_flows_table(fo, fs, out);
		}
		if (r->c.dp.subscribe) {
			ctl__flow_stats(r, DP_FLOW_SUBSCRIBE, &s);
			ctl_fo_report_subs_table(&r->fo_sub, &s, out);
		}
		ctl_run_dns_table(&r->dns, out);
		ctl__workers_table(r, out);
		return;
	}
	ctl_json_init(&j, out);
	ctl_json_begin_object(&j, NULL);
	ctl_json_u64(&j, "lines", r->c.dp.lines);
	ctl_json_double(&j, "run_s", secs);
	ctl_json_double(&j, "load_s", r->load_s);
	ctl_json_u64(&j, "rss_kb_loaded", r->rss_kb_loaded);
	ctl_json_bool(&j, "interrupted", r->interrupted);
	ctl_json_u64(&j, "registered_peak", r->registered_peak);
	ctl_json_u64(&j, "registered_at_stop", r->registered_at_stop);
	ctl_json_u64(&j, "registered_end", s.registered);
	ctl_json_u64(&j, "register_sent", s.tx_requests[DP_M_REGISTER]);
	ctl_json_u64(&j, "register_with_credentials", s.tx_register_auth);
	ctl_json_u64(&j, "registrations_ok", s.reg_ok);
	ctl_json_u64(&j, "unregistrations_ok", s.unreg_ok);
	ctl_json_u64(&j, "rx_401", s.rx_401);
	ctl_json_u64(&j, "rx_407", s.rx_407);
	ctl_json_u64(&j, "rx_423", s.rx_423);
	ctl_json_u64(&j, "rx_503", s.rx_503);
	/* requests that reached the lines, each answered as a phone does (ACK: nothing) */
	ctl_json_begin_object(&j, "requests_answered");
	ctl_json_u64(&j, "OPTIONS", s.rx_requests[DP_M_OPTIONS]);
	ctl_json_u64(&j, "NOTIFY", s.rx_requests[DP_M_NOTIFY]);
	ctl_json_u64(&j, "INVITE", s.rx_requests[DP_M_INVITE]);
	ctl_json_u64(&j, "BYE", s.rx_requests[DP_M_BYE]);
	ctl_json_u64(&j, "other",
		     s.rx_requests[DP_M_OTHER] + s.rx_requests[DP_M_SUBSCRIBE] +
			     s.rx_requests[DP_M_REGISTER]);
	ctl_json_end_object(&j);
	if (r->st)
		ctl__conn_json(r, &j);
	ctl_json_u64(&j, "retransmissions", s.tx_retransmissions);
	ctl_json_begin_object(&j, "failures");
	for (int k = 1; k < DP_FAIL__COUNT; k++)
		ctl_json_u64(&j, dp_fail_name(k), s.reg_fail[k]);
	ctl_json_end_object(&j);
	ctl_json_u64(&j, "reg_latency_p50_us", ctl__pct_us(&s, 50));
	ctl_json_u64(&j, "reg_latency_p99_us", ctl__pct_us(&s, 99));
	ctl_json_begin_object(&j, "drops");
	for (int k = 1; k < DP_DROP__COUNT; k++)
		ctl_json_u64(&j, dp_drop_name(k), s.drops[k]);
	ctl_json_u64(&j, "sip_unparsable", s.sip_drops[DP_SIP_DROP_PARSE]);
	ctl_json_u64(&j, "sip_unknown_line", s.sip_drops[DP_SIP_DROP_UNKNOWN_LINE]);
	ctl_json_u64(&j, "sip_stale", s.sip_drops[DP_SIP_DROP_STALE]);
	ctl_json_u64(&j, "sip_no_buffer", s.sip_drops[DP_SIP_DROP_NO_BUFFER]);
	ctl_json_end_object(&j);
	ctl_json_u64(&j, "rx_frames", s.rx_frames);
	ctl_json_u64(&j, "tx_frames", s.tx_frames);
	ctl_json_u64(&j, "tx_full", s.tx_full);
	ctl_json_u64(&j, "arp_replies", s.arp_replies);
	ctl_json_u64(&j, "icmp_echo_replies", s.icmp_echo_replies);
	ctl_json_u64(&j, "icmp_unreachable", s.icmp_unreachable);
	ctl_json_u64(&j, "keepalive_stun_sent", s.tx_keepalive_stun);
	ctl_json_u64(&j, "keepalive_crlf_sent", s.tx_keepalive_crlf);
	ctl_json_u64(&j, "keepalive_answered", s.rx_keepalive_ok);
	ctl_json_u64(&j, "flow_failures", s.flow_failures);
	ctl_json_u64(&j, "events_lost", s.events_lost);
	ctl_json_u64(&j, "bad_commands", s.bad_commands);
	ctl_fo_report_json(&r->fo, &s, r->peak_rps, &j);
	if (r->c.dp.call_to)
		ctl_fo_report_calls_json(&r->fo, &s, &j);
	if (r->c.dp.reg2) {
		const struct ctl_fo *fo[2] = {&r->fo, &r->fo_reg2};
		struct dp_stats fs[2];

		ctl__flow_stats(r, DP_FLOW_REGISTER, &fs[0]);
		ctl__flow_stats(r, DP_FLOW_REGISTER2, &fs[1]);
		ctl_fo_report_flows_json(fo, fs, &j);
	}
	if (r->c.dp.subscribe) {
		ctl__flow_stats(r, DP_FLOW_SUBSCRIBE, &s);
		ctl_fo_report_subs_json(&r->fo_sub, &s, &j);
	}
	ctl_run_dns_json(&r->dns, &j);
	ctl__workers_json(r, &j);
	ctl_json_end_object(&j);
	fputc('\n', out);
}

/* Resident set size of this process, from /proc (0 when unreadable). */
static uint64_t ctl__rss_kb(void)
{
	char line[128];
	uint64_t kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %llu", (unsigned long long *)&kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/* The summary into a file, as JSON or as the table; a file that cannot be written is said
 * on stderr and does not stop the others. */
static void ctl__write_summary(struct ctl_run *r, const char *path, bool json)
{
	FILE *f;

	if (!path)
		return;
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "sipedge run: cannot write %s: %s\n", path, strerror(errno));
		return;
	}
	ctl__summary(r, f, json);
	fclose(f);
}

static int ctl__command(void *ctx, const struct dp_msg *cmd)
{
	struct ctl_run *r = ctx;

	/* a line's commands go to the worker owning it; probes to worker 0, which holds
	 * line 0, whose address they are sent from */
	if (r->st)
		return ctl_stream_command(r->st, cmd);
	if (cmd->type == DP_CMD_REGISTER || cmd->type == DP_CMD_UNREGISTER)
		return dp_command(r->d, dp_line_worker(r->d, cmd->line), cmd);
	return dp_command(r->d, 0, cmd);
}

static void ctl__print_roles(const struct ctl_run *r)
{
	char ip[16];

	fprintf(stderr, "sipedge run: %u lines on %s, mode %d:", r->c.dp.lines,
		r->st ? ctl_stream_desc(r->st) : dp_port_desc(r->d), r->c.fo_cfg.mode);
	for (int k = 0; k < CTL_ROLE__COUNT; k++) {
		if (!r->c.fo_cfg.configured[k])
			continue;
		inet_ntop(AF_INET, &(struct in_addr){htonl(r->c.dp.server[k].ip)}, ip, sizeof(ip));
		if (r->c.dns_host[k][0]) /* a host name: located through DNS */
			fprintf(stderr, " %s %s%s%.0u (%s)", ctl_role_name(k), r->c.dns_host[k],
				r->c.dns_port[k] ? ":" : "", r->c.dns_port[k],
				r->c.dns_port[k] ? "A" : "NAPTR/SRV");
		else
			fprintf(stderr, " %s %s:%u", ctl_role_name(k), ip, r->c.dp.server[k].port);
	}
	fprintf(stderr, "; AOR %s", r->c.dp.aor_domain[0]);
	if (r->c.dp.aor_domain[1])
		fprintf(stderr, ", backup AOR %s", r->c.dp.aor_domain[1]);
	fputc('\n', stderr);
}

/* DNS: a target slot's new address, for every worker; a full ring gets it again at the
 * next tick (lines sent there meanwhile fail and retry: never lost). */
static void ctl__set_server(void *ctx, unsigned slot, uint32_t ip, uint16_t port)
{
	struct ctl_run *r = ctx;
	struct dp_msg c = {.type = DP_CMD_SERVER,
			   .target = DP_TARGET(0, 0, slot),
			   .value = ip,
			   .value2 = port};
	bool all = true;

	for (unsigned k = 0; k < ctl__workers(r); k++)
		all &= ctl__worker_command(r, k, &c) == 0;
	r->server_update[slot].pending = !all;
	r->server_update[slot].ip = ip;
	r->server_update[slot].port = port;
}

/* TLS: a slot of a role given as a host name must show a certificate for that name. */
static const char *ctl__tls_name(void *ctx, unsigned slot)
{
	const struct ctl_run *r = ctx;
	int role = slot < CTL_SLOTS ? r->dns.slot[slot].role : -1;

	return role >= 0 && role < CTL_ROLE__COUNT && r->c.dns_host[role][0] ? r->c.dns_host[role]
									     : NULL;
}

/* DNS: a role's targets changed; its lines move. */
static void ctl__dns_changed(void *ctx, int role)
{
	struct ctl_run *r = ctx;

	if (!r->stop_ms)
		ctl_fo_targets_changed(&r->fo, role, uv_hrtime() / 1000);
}

/* The lines go: the dataplane at once; the stream transport's connections once the loop
 * has run their close callbacks. */
static void ctl__lines_close(struct ctl_run *r)
{
	ctl_stream_destroy(r->st);
	dp_destroy(r->d);
	r->d = NULL;
}

static int ctl__run(struct ctl_run *r)
{
	char err[256];
	uint64_t t0 = uv_hrtime();
	int rc;

	uv_loop_init(&r->loop);
	if (ctl_run_dns_start(&r->dns, &r->loop, &r->c, err, sizeof(err)) != 0) {
		fprintf(stderr, "sipedge run: %s\n", err);
		ctl_run_dns_close(&r->dns);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		uv_loop_close(&r->loop);
		return 1;
	}
	r->dns.set_server = ctl__set_server;
	r->dns.changed = ctl__dns_changed;
	r->dns.ctx = r;
	t0 = uv_hrtime();
	if (r->c.stream != SIP_TPL_UDP) {
		struct ctl_stream_cfg sc = {.transport = r->c.stream,
					    .tls_ca = r->c.tls_ca,
					    .source_ip = r->c.stream_source,
					    .tls_name = ctl__tls_name,
					    .tls_name_ctx = r};

		rc = ctl_stream_create(&r->loop, &r->c.dp, &sc, &r->st, err, sizeof(err));
	} else {
		rc = dp_create(&r->c.dp, &r->d, err, sizeof(err));
	}

	r->load_s = (double)(uv_hrtime() - t0) / 1e9;
	ctl_csv_free(&r->c.csv); /* the dataplane holds HA1s now: the passwords go */
	r->rss_kb_loaded = ctl__rss_kb();
	if (rc) {
		fprintf(stderr, "sipedge run: %s\n", err);
		ctl__lines_close(r);
		ctl_run_dns_close(&r->dns);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		uv_loop_close(&r->loop);
		return 1;
	}
	r->c.fo_cfg.retry_ms = r->c.dp.retry_ms;
	r->c.fo_cfg.timer_f_ms = r->c.dp.tf_ms;
	r->c.fo_cfg.seed = r->c.dp.seed ? r->c.dp.seed : uv_hrtime();
	if (ctl_fo_init(&r->fo, &r->c.fo_cfg, r->c.dp.lines, ctl__command, r) != 0 ||
	    (r->c.dp.subscribe &&
	     ctl_fo_init(&r->fo_sub, &r->c.fo_cfg, r->c.dp.lines, ctl__command, r) != 0) ||
	    (r->c.dp.reg2 &&
	     ctl_fo_init(&r->fo_reg2, &r->c.fo_cfg, r->c.dp.lines, ctl__command, r) != 0)) {
		fprintf(stderr, "sipedge run: no memory for %u lines' failover state\n",
			r->c.dp.lines);
		ctl__lines_close(r);
		ctl_run_dns_close(&r->dns);
		uv_run(&r->loop, UV_RUN_DEFAULT);
		return 1;
	}
	if (r->c.dp.subscribe)
		ctl_fo_follow(&r->fo_sub, &r->fo);
	if (r->c.dp.reg2)
		ctl_fo_second_flow(&r->fo_reg2, &r->fo);
	for (unsigned f = 0; r->dns.any && f < DP_FLOW__COUNT; f++) {
		struct ctl_fo *fo = ctl__fo_of(r, f);

		if (fo) {
			ctl_fo_use_targets(fo, r->dns.rt);
			fo->slot_name = (const char(*)[48])r->dns.slot_name;
		}
	}
	if (!r->c.quiet)
		ctl__print_roles(r);
	r->t0_ms = uv_now(&r->loop);
	uv_timer_init(&r->loop, &r->tick);
	uv_timer_init(&r->loop, &r->progress);
	uv_signal_init(&r->loop, &r->sigint);
	uv_signal_init(&r->loop, &r->sigterm);
	r->tick.data = r->progress.data = r->sigint.data = r->sigterm.data = r;
	uv_signal_start(&r->sigint, ctl__signal, SIGINT);
	uv_signal_start(&r->sigterm, ctl__signal, SIGTERM);
	r->call_target = UINT32_MAX;
	if (r->d && dp_start(r->d) != 0) {
		fprintf(stderr, "sipedge run: the worker lcore would not start\n");
		dp_destroy(r->d);
		ctl_run_dns_close(&r->dns);
		return 1;
	}
	uv_timer_start(&r->tick, ctl__tick, CTL_TICK_MS, CTL_TICK_MS);
	uv_timer_start(&r->progress, ctl__progress, 1000, 1000);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ctl__summary(r, stdout, false);
	ctl__write_summary(r, r->c.summary_json, true);
	if (r->c.report_dir) {
		char path[4096];

		if (mkdir(r->c.report_dir, 0755) != 0 && errno != EEXIST)
			fprintf(stderr, "sipedge run: cannot make %s: %s\n", r->c.report_dir,
				strerror(errno));
		snprintf(path, sizeof(path), "%s/summary.md", r->c.report_dir);
		ctl__write_summary(r, path, false);
		snprintf(path, sizeof(path), "%s/summary.json", r->c.report_dir);
		ctl__write_summary(r, path, true);
	}
	uv_close((uv_handle_t *)&r->tick, NULL);
	uv_close((uv_handle_t *)&r->progress, NULL);
	uv_close((uv_handle_t *)&r->sigint, NULL);
	uv_close((uv_handle_t *)&r->sigterm, NULL);
	ctl_run_dns_close(&r->dns);
	ctl__lines_close(r);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
	ctl_fo_destroy(&r->fo);
	if (r->c.dp.subscribe)
		ctl_fo_destroy(&r->fo_sub);
	if (r->c.dp.reg2)
		ctl_fo_destroy(&r->fo_reg2);
	return 0;
}

int ctl_cmd_run(int argc, char **argv)
{
	static struct ctl_run r;
	int dashes = -1, rc;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--")) {
			dashes = k;
			break;
		}
	}
	ctl_run_cfg_defaults(&r.c);
	if (dashes < 0) {
		rc = ctl__options(&r, argc, argv);
	} else {
		argv[dashes] = argv[0];
		rc = ctl__options(&r, argc - dashes, argv + dashes);
	}
	if (rc >= 0)
		return rc;
	/* EAL arguments: the command line's, else the configuration file's, else the lab's */
	if (dashes > 1)
		ctl__eal_args(&r, dashes - 1, argv + 1);
	else
		ctl__eal_args(&r, r.c.neal ? r.c.neal : -1, r.c.eal);
	return ctl__run(&r);
}
