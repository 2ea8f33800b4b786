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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "control/linegen.h"
#include "dataplane/dataplane.h"

#define CTL_TICK_MS 50
#define CTL_MAX_EAL_ARGS 64

struct ctl_run {
	struct dp_config dp;
	struct ctl_linegen users;
	const char *summary_json;
	uint32_t duration_s;
	bool quiet;
	char eal_prefix[64];
	char *eal_argv[CTL_MAX_EAL_ARGS];
	/* run state */
	struct dp *d;
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
	uint64_t events;
	struct dp_stats last;
};

static const char ctl__run_usage[] =
	"usage: sipedge run [EAL ARGS --] [OPTIONS]\n"
	"Registers N lines at a registrar through a DPDK port and keeps them registered;\n"
	"Ctrl-C, SIGTERM or the end of --duration un-registers them and prints a summary.\n"
	"EAL ARGS default to the lab: -l 0-1 --no-huge -m 512 --no-pci\n"
	"  --vdev=net_af_packet0,iface=se-dp (see deploy/lab).\n"
	"Options:\n"
	"  --lines N            lines to emulate (1000)\n"
	"  --registrar IP[:P]   registrar address (198.18.0.1:5060)\n"
	"  --domain NAME        AOR domain and realm (the registrar's IP)\n"
	"  --local-ip IP        first line address (198.18.1.1)\n"
	"  --local-ports A-B    each address carries lines on ports A..B (5060-5099)\n"
	"  --user PATTERN       line user names, {id} or {id:0N} (1{id:05})\n"
	"  --user-base N        number of line 0 in the pattern (0)\n"
	"  --password PW        every line's password (secret)\n"
	"  --expires S          expiry asked in each REGISTER (3600)\n"
	"  --refresh MIN-MAX    refresh at MIN..MAX %% of the granted expiry (50-90)\n"
	"  --rate N             lines started or un-registered per second, 0 = no cap (1000)\n"
	"  --t1 MS --t2 MS --timer-f MS   RFC 3261 timers (500, 4000, 32000)\n"
	"  --retry S            wait after a failure before trying again (30)\n"
	"  --duration S         stop after S seconds (0: until Ctrl-C)\n"
	"  --summary-json FILE  write the final summary as JSON\n"
	"  --seed N             fixed seed for branches, tags and jitter\n"
	"  --pcap FILE          write every frame in and out as a pcap (Wireshark, sngrep)\n"
	"  --invite busy|answer INVITE gets 486, or 180 then 200 with SDP (busy)\n"
	"  --keepalive K        none, stun (RFC 5626 STUN binding) or crlf (none)\n"
	"  --keepalive-interval S   keep-alive at 80-100 %% of S, or of the server's\n"
	"                       Flow-Timer when it sends one (30)\n"
	"  --keepalive-timeout MS   an unanswered STUN keep-alive fails the flow (10000)\n"
	"  --quiet              no progress line\n";

static int ctl__line_user(void *ctx, uint32_t id, char *buf, size_t cap)
{
	return ctl_linegen_name(ctx, id, buf, cap);
}

static int ctl__bad(const char *fmt, const char *arg)
{
	fputs("sipedge run: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see 'sipedge run --help')\n", stderr);
	return 2;
}

static bool ctl__u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return false;
	*out = (uint32_t)v;
	return true;
}

/* "2", "0.25": seconds with up to millisecond precision, into milliseconds (>= 1). */
static bool ctl__seconds_ms(const char *s, uint32_t *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0.001 || v > 86400)
		return false;
	*ms = (uint32_t)(v * 1000 + 0.5);
	return true;
}

static bool ctl__ip(const char *s, uint32_t *ip, uint16_t *port)
{
	char buf[64];
	char *colon;
	struct in_addr a;
	uint32_t p;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (!port || !ctl__u32(colon + 1, 65535, &p) || p == 0)
			return false;
		*port = (uint16_t)p;
	}
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*ip = ntohl(a.s_addr);
	return true;
}

static bool ctl__range(const char *s, uint32_t max, uint32_t *lo, uint32_t *hi)
{
	char buf[32];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return false;
	*dash = '\0';
	return ctl__u32(buf, max, lo) && ctl__u32(dash + 1, max, hi) && *lo <= *hi;
}

static char ctl__domain_buf[64];

static void ctl__defaults(struct ctl_run *r)
{
	char err[160];

	r->dp = (struct dp_config){
		.lines = 1000,
		.first_ip = 0xc6120101, /* 198.18.1.1 */
		.first_port = 5060,
		.nports = 40,
		.server_ip = 0xc6120001, /* 198.18.0.1 */
		.server_port = 5060,
		.password = "secret",
		.user_agent = "sipedge/" SIPEDGE_VERSION,
		.expires = 3600,
		.refresh_min_pct = 50,
		.refresh_max_pct = 90,
		.t1_ms = 500,
		.t2_ms = 4000,
		.tf_ms = 32000,
		.retry_ms = 30000,
		.rate = 1000,
		.ka_interval_ms = 30000,
		.ka_timeout_ms = 10000,
		.line_user = ctl__line_user,
		.line_user_ctx = &r->users,
	};
	ctl_linegen_init(&r->users, "1{id:05}", 0, err, sizeof(err));
}

enum {
	O_LINES = 256,
	O_REGISTRAR,
	O_DOMAIN,
	O_LOCAL_IP,
	O_LOCAL_PORTS,
	O_USER,
	O_USER_BASE,
	O_PASSWORD,
	O_EXPIRES,
	O_REFRESH,
	O_RATE,
	O_T1,
	O_T2,
	O_TF,
	O_RETRY,
	O_DURATION,
	O_SUMMARY,
	O_SEED,
	O_QUIET,
	O_PCAP,
	O_KA,
	O_INVITE,
	O_KA_INTERVAL,
	O_KA_TIMEOUT,
	O_HELP
};

static const struct option ctl__opts[] = {
	{"lines", 1, NULL, O_LINES},
	{"registrar", 1, NULL, O_REGISTRAR},
	{"domain", 1, NULL, O_DOMAIN},
	{"local-ip", 1, NULL, O_LOCAL_IP},
	{"local-ports", 1, NULL, O_LOCAL_PORTS},
	{"user", 1, NULL, O_USER},
	{"user-base", 1, NULL, O_USER_BASE},
	{"password", 1, NULL, O_PASSWORD},
	{"expires", 1, NULL, O_EXPIRES},
	{"refresh", 1, NULL, O_REFRESH},
	{"rate", 1, NULL, O_RATE},
	{"t1", 1, NULL, O_T1},
	{"t2", 1, NULL, O_T2},
	{"timer-f", 1, NULL, O_TF},
	{"retry", 1, NULL, O_RETRY},
	{"duration", 1, NULL, O_DURATION},
	{"summary-json", 1, NULL, O_SUMMARY},
	{"seed", 1, NULL, O_SEED},
	{"quiet", 0, NULL, O_QUIET},
	{"pcap", 1, NULL, O_PCAP},
	{"keepalive", 1, NULL, O_KA},
	{"invite", 1, NULL, O_INVITE},
	{"keepalive-interval", 1, NULL, O_KA_INTERVAL},
	{"keepalive-timeout", 1, NULL, O_KA_TIMEOUT},
	{"help", 0, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

/* Options after the EAL's "--"; returns -1 to go on, or an exit status. */
static int ctl__options(struct ctl_run *r, int argc, char **argv)
{
	const char *user = NULL;
	uint32_t v, lo, hi, base = 0;
	char err[200];
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", ctl__opts, NULL)) != -1) {
		switch (c) {
		case O_LINES:
			if (!ctl__u32(optarg, 16777216, &v) || v == 0)
				return ctl__bad("--lines wants 1..16777216, not '%s'", optarg);
			r->dp.lines = v;
			break;
		case O_REGISTRAR:
			if (!ctl__ip(optarg, &r->dp.server_ip, &r->dp.server_port))
				return ctl__bad("--registrar wants IPv4[:port], not '%s'", optarg);
			break;
		case O_DOMAIN:
			r->dp.domain = optarg;
			break;
		case O_LOCAL_IP:
			if (!ctl__ip(optarg, &r->dp.first_ip, NULL))
				return ctl__bad("--local-ip wants an IPv4 address, not '%s'",
						optarg);
			break;
		case O_LOCAL_PORTS:
			if (!ctl__range(optarg, 65535, &lo, &hi) || lo == 0)
				return ctl__bad("--local-ports wants A-B within 1..65535, not '%s'",
						optarg);
			r->dp.first_port = (uint16_t)lo;
			r->dp.nports = (uint16_t)(hi - lo + 1);
			break;
		case O_USER:
			user = optarg;
			break;
		case O_USER_BASE:
			if (!ctl__u32(optarg, UINT32_MAX, &base))
				return ctl__bad("--user-base wants a number, not '%s'", optarg);
			break;
		case O_PASSWORD:
			r->dp.password = optarg;
			break;
		case O_EXPIRES:
			if (!ctl__u32(optarg, 86400 * 7, &r->dp.expires) || r->dp.expires == 0)
				return ctl__bad("--expires wants 1..604800 seconds, not '%s'",
						optarg);
			break;
		case O_REFRESH:
			if (!ctl__range(optarg, 100, &lo, &hi) || lo == 0)
				return ctl__bad(
					"--refresh wants MIN-MAX percent within 1..100, not '%s'",
					optarg);
			r->dp.refresh_min_pct = (uint8_t)lo;
			r->dp.refresh_max_pct = (uint8_t)hi;
			break;
		case O_RATE:
			if (!ctl__u32(optarg, 10000000, &r->dp.rate))
				return ctl__bad(
					"--rate wants lines per second (0 = no cap), not '%s'",
					optarg);
			break;
		case O_T1:
		case O_T2:
		case O_TF:
			if (!ctl__u32(optarg, 600000, &v) || v == 0)
				return ctl__bad("timers want 1..600000 ms, not '%s'", optarg);
			*(c == O_T1 ? &r->dp.t1_ms : c == O_T2 ? &r->dp.t2_ms : &r->dp.tf_ms) = v;
			break;
		case O_RETRY:
			if (!ctl__u32(optarg, 86400, &v) || v == 0)
				return ctl__bad("--retry wants 1..86400 seconds, not '%s'", optarg);
			r->dp.retry_ms = v * 1000;
			break;
		case O_DURATION:
			if (!ctl__u32(optarg, 86400 * 365, &r->duration_s))
				return ctl__bad("--duration wants seconds, not '%s'", optarg);
			break;
		case O_SUMMARY:
			r->summary_json = optarg;
			break;
		case O_SEED:
			if (!ctl__u32(optarg, UINT32_MAX, &v))
				return ctl__bad("--seed wants a number, not '%s'", optarg);
			r->dp.seed = v;
			break;
		case O_QUIET:
			r->quiet = true;
			break;
		case O_PCAP:
			r->dp.pcap_path = optarg;
			break;
		case O_KA:
			if (!strcmp(optarg, "none"))
				r->dp.keepalive = 0;
			else if (!strcmp(optarg, "stun"))
				r->dp.keepalive = 1;
			else if (!strcmp(optarg, "crlf"))
				r->dp.keepalive = 2;
			else
				return ctl__bad("--keepalive wants none, stun or crlf, not '%s'",
						optarg);
			break;
		case O_INVITE:
			if (!strcmp(optarg, "busy") || !strcmp(optarg, "answer"))
				r->dp.invite_answer = optarg[0] == 'a';
			else
				return ctl__bad("--invite wants busy or answer, not '%s'", optarg);
			break;
		case O_KA_INTERVAL:
			if (!ctl__seconds_ms(optarg, &r->dp.ka_interval_ms))
				return ctl__bad(
					"--keepalive-interval wants seconds (0.001..86400), not '%s'",
					optarg);
			break;
		case O_KA_TIMEOUT:
			if (!ctl__u32(optarg, 600000, &r->dp.ka_timeout_ms) ||
			    r->dp.ka_timeout_ms == 0)
				return ctl__bad("--keepalive-timeout wants 1..600000 ms, not '%s'",
						optarg);
			break;
		case O_HELP:
			fputs(ctl__run_usage, stdout);
			return 0;
		default:
			return ctl__bad("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl__bad("unexpected argument '%s'", argv[optind]);
	if ((user || base) &&
	    ctl_linegen_init(&r->users, user ? user : "1{id:05}", base, err, sizeof(err)) != 0)
		return ctl__bad("%s", err);
	if (!r->dp.domain) {
		struct in_addr a = {htonl(r->dp.server_ip)};

		inet_ntop(AF_INET, &a, ctl__domain_buf, sizeof(ctl__domain_buf));
		r->dp.domain = ctl__domain_buf;
	}
	return -1;
}

/* EAL arguments: those before "--", or the lab default. */
static void ctl__eal_args(struct ctl_run *r, int neal, char **eal)
{
	static const char *const def[] = {"-l",
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
		for (size_t k = 0; k < sizeof(def) / sizeof(def[0]); k++)
			r->eal_argv[n++] = (char *)def[k];
	} else {
		for (int k = 0; k < neal && n < CTL_MAX_EAL_ARGS - 1; k++)
			r->eal_argv[n++] = eal[k];
	}
	r->eal_argv[n] = NULL;
	r->dp.eal_argc = n;
	r->dp.eal_argv = r->eal_argv;
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

static void ctl__progress(uv_timer_t *t)
{
	struct ctl_run *r = t->data;
	struct dp_stats s;
	double secs = (double)(uv_now(&r->loop) - r->t0_ms) / 1000.0;

	dp_stats_sum(r->d, &s);
	if (!r->quiet)
		fprintf(stderr,
			"%s[%6.1fs] registered %llu/%u  REGISTER/s %llu  401 %llu  200 %llu  retx %llu  "
			"fail %llu  drops %llu   ",
			isatty(2) ? "\r" : "", secs, (unsigned long long)s.registered, r->dp.lines,
			(unsigned long long)(s.tx_requests[DP_M_REGISTER] -
					     r->last.tx_requests[DP_M_REGISTER]),
			(unsigned long long)s.rx_401, (unsigned long long)s.rx_responses[2],
			(unsigned long long)s.tx_retransmissions,
			(unsigned long long)ctl__fails(&s),
			(unsigned long long)(s.sip_drops[DP_SIP_DROP_PARSE] +
					     s.sip_drops[DP_SIP_DROP_UNKNOWN_LINE]));
	if (!r->quiet && !isatty(2))
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
	dp_stats_sum(r->d, &s);
	r->stop_bound = s.registered + s.in_flight;
	if (!r->quiet)
		fprintf(stderr, "\n%s: un-registering every line\n", why);
	for (unsigned k = 0; k < dp_workers(r->d); k++)
		dp_command(r->d, k, &c);
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

static void ctl__tick(uv_timer_t *t)
{
	struct ctl_run *r = t->data;
	struct dp_msg ev[256];
	struct dp_stats s;
	unsigned n;

	while ((n = dp_events(r->d, ev, 256)) > 0)
		r->events += n;
	dp_stats_sum(r->d, &s);
	if (s.registered > r->registered_peak)
		r->registered_peak = s.registered;
	if (!r->stop_ms && r->duration_s &&
	    uv_now(&r->loop) - r->t0_ms >= (uint64_t)r->duration_s * 1000)
		ctl__begin_stop(r, "duration reached");
	if (r->stop_ms) {
		/* done when every line was reached, none is registered and no transaction is
		 * out (a REGISTER in flight may still make a binding), or after timer F */
		bool quiet = s.registered == 0 && s.in_flight == 0 && s.unreg_pending == 0;

		if (quiet ||
		    uv_now(&r->loop) - r->stop_ms >
			    r->dp.tf_ms + 5000 +
				    (uint64_t)(r->dp.rate ? 1000ull * r->stop_bound / r->dp.rate
							  : 0))
			uv_stop(&r->loop);
	}
}

static void ctl__summary(struct ctl_run *r, FILE *out, bool json)
{
	struct dp_stats s;
	struct ctl_json j;
	double secs = (double)(uv_now(&r->loop) - r->t0_ms) / 1000.0;

	dp_stats_sum(r->d, &s);
	if (!json) {
		fprintf(out, "\n| figure | value |\n|---|---:|\n");
		fprintf(out, "| lines | %u |\n| run time s | %.1f |\n", r->dp.lines, secs);
		fprintf(out, "| registered at peak | %llu |\n",
			(unsigned long long)r->registered_peak);
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
		return;
	}
	ctl_json_init(&j, out);
	ctl_json_begin_object(&j, NULL);
	ctl_json_u64(&j, "lines", r->dp.lines);
	ctl_json_double(&j, "run_s", secs);
	ctl_json_double(&j, "load_s", r->load_s);
	ctl_json_u64(&j, "rss_kb_loaded", r->rss_kb_loaded);
	ctl_json_bool(&j, "interrupted", r->interrupted);
	ctl_json_u64(&j, "registered_peak", r->registered_peak);
	ctl_json_u64(&j, "registered_end", s.registered);
	ctl_json_u64(&j, "register_sent", s.tx_requests[DP_M_REGISTER]);
	ctl_json_u64(&j, "register_with_credentials", s.tx_register_auth);
	ctl_json_u64(&j, "registrations_ok", s.reg_ok);
	ctl_json_u64(&j, "unregistrations_ok", s.unreg_ok);
	ctl_json_u64(&j, "rx_401", s.rx_401);
	ctl_json_u64(&j, "rx_407", s.rx_407);
	ctl_json_u64(&j, "rx_423", s.rx_423);
	ctl_json_u64(&j, "rx_503", s.rx_503);
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

static int ctl__run(struct ctl_run *r)
{
	char err[256];
	uint64_t t0 = uv_hrtime();
	int rc = dp_create(&r->dp, &r->d, err, sizeof(err));

	r->load_s = (double)(uv_hrtime() - t0) / 1e9;
	r->rss_kb_loaded = ctl__rss_kb();
	if (rc) {
		fprintf(stderr, "sipedge run: %s\n", err);
		dp_destroy(r->d);
		return 1;
	}
	if (!r->quiet)
		fprintf(stderr, "sipedge run: %u lines on %s, registrar %u.%u.%u.%u:%u\n",
			r->dp.lines, dp_port_desc(r->d), r->dp.server_ip >> 24,
			(r->dp.server_ip >> 16) & 255, (r->dp.server_ip >> 8) & 255,
			r->dp.server_ip & 255, r->dp.server_port);
	uv_loop_init(&r->loop);
	r->t0_ms = uv_now(&r->loop);
	uv_timer_init(&r->loop, &r->tick);
	uv_timer_init(&r->loop, &r->progress);
	uv_signal_init(&r->loop, &r->sigint);
	uv_signal_init(&r->loop, &r->sigterm);
	r->tick.data = r->progress.data = r->sigint.data = r->sigterm.data = r;
	uv_signal_start(&r->sigint, ctl__signal, SIGINT);
	uv_signal_start(&r->sigterm, ctl__signal, SIGTERM);
	if (dp_start(r->d) != 0) {
		fprintf(stderr, "sipedge run: the worker lcore would not start\n");
		dp_destroy(r->d);
		return 1;
	}
	uv_timer_start(&r->tick, ctl__tick, CTL_TICK_MS, CTL_TICK_MS);
	uv_timer_start(&r->progress, ctl__progress, 1000, 1000);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	ctl__summary(r, stdout, false);
	if (r->summary_json) {
		FILE *f = fopen(r->summary_json, "w");

		if (!f) {
			fprintf(stderr, "sipedge run: cannot write %s: %s\n", r->summary_json,
				strerror(errno));
		} else {
			ctl__summary(r, f, true);
			fclose(f);
		}
	}
	uv_close((uv_handle_t *)&r->tick, NULL);
	uv_close((uv_handle_t *)&r->progress, NULL);
	uv_close((uv_handle_t *)&r->sigint, NULL);
	uv_close((uv_handle_t *)&r->sigterm, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
	dp_destroy(r->d);
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
	ctl__defaults(&r);
	if (dashes < 0) {
		rc = ctl__options(&r, argc, argv);
		ctl__eal_args(&r, -1, NULL);
	} else {
		argv[dashes] = argv[0];
		rc = ctl__options(&r, argc - dashes, argv + dashes);
		/* "sipedge run -- OPTIONS": no EAL arguments given, so the lab default */
		ctl__eal_args(&r, dashes > 1 ? dashes - 1 : -1, argv + 1);
	}
	if (rc >= 0)
		return rc;
	return ctl__run(&r);
}
