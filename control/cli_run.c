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

#include "control/failover.h"
#include "control/fo_report.h"
#include "control/linegen.h"
#include "dataplane/dataplane.h"

#define CTL_TICK_MS 10 /* events, probes and storm control's releases */
#define CTL_MAX_EAL_ARGS 64

struct ctl_run {
	struct dp_config dp;
	struct ctl_fo_config fo_cfg;
	struct ctl_fo fo;
	char domain_buf[DP_MAX_AORS][64];
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
	"  --registrar IP[:P]   primary registrar R (198.18.0.1:5060)\n"
	"  --backup-registrar IP[:P]   backup registrar BR\n"
	"  --proxy IP[:P]       primary proxy P; --backup-proxy IP[:P]: BP\n"
	"  --outbound-proxy IP[:P]  OP; --backup-outbound-proxy IP[:P]: BOP\n"
	"  --mode 1|2|3         failover rules of the phone's table, DESIGN.md §4 (1)\n"
	"  --domain NAME        primary AOR domain and realm (P's, else R's address)\n"
	"  --backup-domain NAME backup AOR domain and realm (BP's address)\n"
	"  --fail-threshold N   failures in a row that mark a server down (2)\n"
	"  --probe-interval A-B a down server is probed after A s, backing off to B s (2-60)\n"
	"  --probe-timeout MS   an unanswered OPTIONS probe failed (4000)\n"
	"  --monitor-interval S OPTIONS to up servers that carry no registration (5; 0: off)\n"
	"  --storm-window S     moves of one failover spread over S seconds (10)\n"
	"  --storm-rate N       and never more than N lines/s (2000; 0: no cap)\n"
	"  --no-storm-control   every line moves at once: a stampede\n"
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

static void ctl__defaults(struct ctl_run *r)
{
	char err[160];

	r->dp = (struct dp_config){
		.lines = 1000,
		.first_ip = 0xc6120101, /* 198.18.1.1 */
		.first_port = 5060,
		.nports = 40,
		.server = {[CTL_R] = {.ip = 0xc6120001, .port = 5060}}, /* 198.18.0.1 */
		.managed = true,
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
	r->fo_cfg = (struct ctl_fo_config){
		.mode = 1,
		.fail_threshold = 2,
		.probe_min_ms = 2000,
		.probe_max_ms = 60000,
		.probe_timeout_ms = 4000,
		.monitor_ms = 5000,
		.storm_on = true,
		.storm_window_ms = 10000,
		.storm_rate_cap = 2000,
	};
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
	O_BACKUP_REGISTRAR,
	O_PROXY,
	O_BACKUP_PROXY,
	O_OUTBOUND_PROXY,
	O_BACKUP_OUTBOUND_PROXY,
	O_MODE,
	O_BACKUP_DOMAIN,
	O_FAIL_THRESHOLD,
	O_PROBE_INTERVAL,
	O_PROBE_TIMEOUT,
	O_MONITOR,
	O_STORM_WINDOW,
	O_STORM_RATE,
	O_NO_STORM,
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
	{"backup-registrar", 1, NULL, O_BACKUP_REGISTRAR},
	{"proxy", 1, NULL, O_PROXY},
	{"backup-proxy", 1, NULL, O_BACKUP_PROXY},
	{"outbound-proxy", 1, NULL, O_OUTBOUND_PROXY},
	{"backup-outbound-proxy", 1, NULL, O_BACKUP_OUTBOUND_PROXY},
	{"mode", 1, NULL, O_MODE},
	{"backup-domain", 1, NULL, O_BACKUP_DOMAIN},
	{"fail-threshold", 1, NULL, O_FAIL_THRESHOLD},
	{"probe-interval", 1, NULL, O_PROBE_INTERVAL},
	{"probe-timeout", 1, NULL, O_PROBE_TIMEOUT},
	{"monitor-interval", 1, NULL, O_MONITOR},
	{"storm-window", 1, NULL, O_STORM_WINDOW},
	{"storm-rate", 1, NULL, O_STORM_RATE},
	{"no-storm-control", 0, NULL, O_NO_STORM},
	{"help", 0, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

static void ctl__ip_str(uint32_t ip, char *buf, size_t cap)
{
	struct in_addr a = {htonl(ip)};

	inet_ntop(AF_INET, &a, buf, (socklen_t)cap);
}

/* What the roles given add up to: AOR domains, the mode's needs, the lines' first target. */
static int ctl__roles(struct ctl_run *r)
{
	const struct dp_server_cfg *sv = r->dp.server;
	bool up[CTL_ROLE__COUNT];
	struct ctl_targets t;

	for (int k = 0; k < CTL_ROLE__COUNT; k++)
		r->fo_cfg.configured[k] = up[k] = sv[k].port != 0;
	if (!r->dp.aor_domain[CTL_AOR_PRIMARY]) {
		ctl__ip_str(sv[CTL_P].port ? sv[CTL_P].ip : sv[CTL_R].ip, r->domain_buf[0], 64);
		r->dp.aor_domain[CTL_AOR_PRIMARY] = r->domain_buf[0];
	}
	if (!r->dp.aor_domain[CTL_AOR_BACKUP] && sv[CTL_BP].port) {
		ctl__ip_str(sv[CTL_BP].ip, r->domain_buf[1], 64);
		r->dp.aor_domain[CTL_AOR_BACKUP] = r->domain_buf[1];
	}
	if (r->fo_cfg.mode == 2 && (!sv[CTL_BR].port || !r->dp.aor_domain[CTL_AOR_BACKUP]))
		return ctl__bad("%s", "--mode 2 needs --backup-registrar and a backup AOR domain "
				      "(--backup-proxy or --backup-domain)");
	if (r->fo_cfg.mode == 3 && (!sv[CTL_OP].port || !sv[CTL_BOP].port))
		return ctl__bad("%s",
				"--mode 3 needs --outbound-proxy and --backup-outbound-proxy");
	if (sv[CTL_BP].port && !r->dp.aor_domain[CTL_AOR_BACKUP])
		return ctl__bad("%s", "a backup proxy needs a backup AOR domain");
	t = ctl_mode_targets(r->fo_cfg.mode, r->fo_cfg.configured, up);
	r->dp.target = DP_TARGET(t.reg, t.aor, t.via);
	return -1;
}

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
		case O_BACKUP_REGISTRAR:
		case O_PROXY:
		case O_BACKUP_PROXY:
		case O_OUTBOUND_PROXY:
		case O_BACKUP_OUTBOUND_PROXY: {
			int role = c == O_REGISTRAR	     ? CTL_R
				   : c == O_BACKUP_REGISTRAR ? CTL_BR
				   : c == O_PROXY	     ? CTL_P
				   : c == O_BACKUP_PROXY     ? CTL_BP
				   : c == O_OUTBOUND_PROXY   ? CTL_OP
							     : CTL_BOP;
			struct dp_server_cfg *sv = &r->dp.server[role];

			sv->port = 5060;
			if (!ctl__ip(optarg, &sv->ip, &sv->port))
				return ctl__bad("servers want IPv4[:port], not '%s'", optarg);
			break;
		}
		case O_MODE:
			if (!ctl__u32(optarg, 3, &v) || v == 0)
				return ctl__bad("--mode wants 1, 2 or 3, not '%s'", optarg);
			r->fo_cfg.mode = (int)v;
			break;
		case O_DOMAIN:
			r->dp.aor_domain[CTL_AOR_PRIMARY] = optarg;
			break;
		case O_BACKUP_DOMAIN:
			r->dp.aor_domain[CTL_AOR_BACKUP] = optarg;
			break;
		case O_FAIL_THRESHOLD:
			if (!ctl__u32(optarg, 1000000, &r->fo_cfg.fail_threshold) ||
			    !r->fo_cfg.fail_threshold)
				return ctl__bad("--fail-threshold wants 1..1000000, not '%s'",
						optarg);
			break;
		case O_PROBE_INTERVAL:
			if (!ctl__range(optarg, 86400, &lo, &hi) || lo == 0)
				return ctl__bad("--probe-interval wants MIN-MAX seconds, not '%s'",
						optarg);
			r->fo_cfg.probe_min_ms = lo * 1000;
			r->fo_cfg.probe_max_ms = hi * 1000;
			break;
		case O_PROBE_TIMEOUT:
			if (!ctl__u32(optarg, 600000, &r->fo_cfg.probe_timeout_ms) ||
			    !r->fo_cfg.probe_timeout_ms)
				return ctl__bad("--probe-timeout wants 1..600000 ms, not '%s'",
						optarg);
			break;
		case O_MONITOR:
			if (!ctl__u32(optarg, 86400, &v))
				return ctl__bad("--monitor-interval wants seconds, not '%s'",
						optarg);
			r->fo_cfg.monitor_ms = v * 1000;
			break;
		case O_STORM_WINDOW:
			if (!ctl__seconds_ms(optarg, &r->fo_cfg.storm_window_ms))
				return ctl__bad("--storm-window wants seconds, not '%s'", optarg);
			break;
		case O_STORM_RATE:
			if (!ctl__u32(optarg, 100000000, &r->fo_cfg.storm_rate_cap))
				return ctl__bad("--storm-rate wants lines per second, not '%s'",
						optarg);
			break;
		case O_NO_STORM:
			r->fo_cfg.storm_on = false;
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
	return ctl__roles(r);
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

	char at[96] = "";
	size_t n = 0;

	dp_stats_sum(r->d, &s);
	for (int k = 0; k < CTL_ROLE__COUNT && n < sizeof(at) - 24; k++) {
		if (r->fo_cfg.configured[k] && (k == CTL_R || k == CTL_BR))
			n += (size_t)snprintf(at + n, sizeof(at) - n, " %s %u", ctl_role_name(k),
					      r->fo.bound_at[k]);
	}
	if (!r->quiet)
		fprintf(stderr,
			"%s[%6.1fs] registered %llu/%u (at%s)  REGISTER/s %llu  401 %llu  200 %llu  "
			"retx %llu  fail %llu  drops %llu   ",
			isatty(2) ? "\r" : "", secs, (unsigned long long)s.registered, r->dp.lines,
			at,
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
	ctl_fo_stop(&r->fo);
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

	uint64_t now_us = uv_hrtime() / 1000;

	while ((n = dp_events(r->d, ev, 256)) > 0) {
		r->events += n;
		for (unsigned k = 0; k < n; k++)
			ctl_fo_event(&r->fo, &ev[k], now_us);
	}
	ctl_fo_tick(&r->fo, now_us);
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
		ctl_fo_report_table(&r->fo, &s, out);
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
	ctl_json_u64(&j, "bad_commands", s.bad_commands);
	ctl_fo_report_json(&r->fo, &s, &j);
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

static int ctl__command(void *ctx, const struct dp_msg *cmd)
{
	struct ctl_run *r = ctx;

	/* one worker holds every line for now; sharding will pick it by line id */
	return dp_command(r->d, 0, cmd);
}

static void ctl__print_roles(const struct ctl_run *r)
{
	char ip[16];

	fprintf(stderr, "sipedge run: %u lines on %s, mode %d:", r->dp.lines, dp_port_desc(r->d),
		r->fo_cfg.mode);
	for (int k = 0; k < CTL_ROLE__COUNT; k++) {
		if (!r->fo_cfg.configured[k])
			continue;
		ctl__ip_str(r->dp.server[k].ip, ip, sizeof(ip));
		fprintf(stderr, " %s %s:%u", ctl_role_name(k), ip, r->dp.server[k].port);
	}
	fprintf(stderr, "; AOR %s", r->dp.aor_domain[0]);
	if (r->dp.aor_domain[1])
		fprintf(stderr, ", backup AOR %s", r->dp.aor_domain[1]);
	fputc('\n', stderr);
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
	r->fo_cfg.retry_ms = r->dp.retry_ms;
	r->fo_cfg.seed = r->dp.seed ? r->dp.seed : uv_hrtime();
	if (ctl_fo_init(&r->fo, &r->fo_cfg, r->dp.lines, ctl__command, r) != 0) {
		fprintf(stderr, "sipedge run: no memory for %u lines' failover state\n",
			r->dp.lines);
		dp_destroy(r->d);
		return 1;
	}
	if (!r->quiet)
		ctl__print_roles(r);
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
	ctl_fo_destroy(&r->fo);
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
