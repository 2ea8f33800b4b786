/*
 * What `sipedge run` is told: every option once, checked in one place, whether it comes
 * from the command line or from a configuration file (control/config.c), so that both
 * say the same thing about a bad value. See control/run_cfg.h.
 */
#include "control/run_cfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "sip/builder.h"
#include "sip/uri.h"

const char ctl_run_cfg_usage[] =
	"usage: sipedge run [EAL ARGS --] [-c FILE] [OPTIONS]\n"
	"Registers N lines through a DPDK port, keeps them registered and moves them between\n"
	"primary and backup servers as the phone's failover table says (DESIGN.md §4);\n"
	"Ctrl-C, SIGTERM or the end of --duration un-registers them and prints a summary.\n"
	"EAL ARGS default to the configuration file's run.eal, else to the lab's:\n"
	"  -l 0-1 --no-huge -m 512 --no-pci --vdev=net_af_packet0,iface=se-dp (deploy/lab).\n"
	"Options (each also a key of the configuration file, docs/config.md):\n"
	"  -c, --config FILE    read settings from a YAML file first; options here override\n"
	"  --phone-config FILE  read an Aastra/Mitel phone config (its servers, outbound,\n"
	"                       registration period, user, password) as the line template\n"
	"  --lines N            lines to emulate (1000)\n"
	"  --registrar IP[:P]   primary registrar R (198.18.0.1:5060)\n"
	"  --backup-registrar IP[:P]   backup registrar BR\n"
	"  --proxy IP[:P]       primary proxy P; --backup-proxy IP[:P]: BP\n"
	"  --outbound-proxy IP[:P]  OP; --backup-outbound-proxy IP[:P]: BOP\n"
	"  --mode 1|2|3|4       failover rules of the phone's table, DESIGN.md §4 (1); 4 is\n"
	"                       SIP outbound: two flows per line, through OP and BOP\n"
	"  --domain NAME        primary AOR domain and realm (P's, else R's address)\n"
	"  --backup-domain NAME backup AOR domain and realm (BP's address)\n"
	"  --fail-threshold N   failures in a row that mark a server down (2)\n"
	"  --probe-interval A-B a down server is probed after A s, backing off to B s (2-60)\n"
	"  --probe-timeout MS   an unanswered OPTIONS probe failed (4000)\n"
	"  --monitor-interval S OPTIONS to up servers that carry no registration (5; 0: off)\n"
	"  --storm-window S     moves of one failover spread over S seconds (10)\n"
	"  --storm-rate N       and never more than N lines/s (2000; 0: no cap)\n"
	"  --no-storm-control   every line moves at once: a stampede (--storm-control off)\n"
	"  --outbound on|off    SIP outbound, RFC 5626 (off); on means mode 4\n"
	"  A server may be a host name[:port]: located as RFC 3263 says (NAPTR, SRV, A) through\n"
	"  one DNS cache; its SRV priorities are its failover order, weights split the lines\n"
	"  --dns-server IP[:P],...  DNS servers to ask (default: /etc/resolv.conf's)\n"
	"  --serve-stale on|off serve answers past their TTL while DNS cannot be reached (off)\n"
	"  --dns-max-ttl S      clamp longer TTLs (86400); --dns-timeout MS per try (2000)\n"
	"  --flow-recovery A,B,M  mode 4: a failed flow registers again after 50-100 % of\n"
	"                       min(M, base * 2^failures), base A s when no flow of the line\n"
	"                       is registered, B s when another is (30,90,1800, RFC 5626 §4.5)\n"
	"  --subscribe on|off   each line subscribes to its own AOR (message-summary) at the\n"
	"                       proxy the mode's table names, after it registered (on when\n"
	"                       a proxy P is given)\n"
	"  --sub-expires S      expiry asked in each SUBSCRIBE (3600)\n"
	"  --event PKG          event package of the subscriptions (message-summary)\n"
	"  --local-ip IP        first line address (198.18.1.1)\n"
	"  --local-ports A-B    each address carries lines on ports A..B (5060-5099)\n"
	"  --user PATTERN       line user names, {id} or {id:0N} (1{id:05})\n"
	"  --user-base N        number of line 0 in the pattern (0)\n"
	"  --lines-csv FILE     lines from a SIPp injection-style CSV (user;[authentication\n"
	"                       username=U password=P]); --lines defaults to its rows\n"
	"  --password PW        every line's password (secret)\n"
	"  --expires S          expiry asked in each REGISTER (3600)\n"
	"  --refresh MIN-MAX    refresh at MIN..MAX % of the granted expiry (50-90)\n"
	"  --rate N             lines started or un-registered per second, 0 = no cap (1000)\n"
	"  --workers N          worker lcores, lines sharded by id (every worker lcore of the\n"
	"                       EAL; the lab default gives N workers and af_packet N qpairs)\n"
	"  --t1 MS --t2 MS --timer-f MS   RFC 3261 timers (500, 4000, 32000)\n"
	"  --retry S            wait after a failure before trying again (30)\n"
	"  --duration S         stop after S seconds (0: until Ctrl-C)\n"
	"  --summary-json FILE  write the final summary as JSON\n"
	"  --report-dir DIR     write summary.md and summary.json into DIR\n"
	"  --seed N             fixed seed for branches, tags and jitter\n"
	"  --pcap FILE          write every frame in and out as a pcap (Wireshark, sngrep)\n"
	"  --invite busy|answer INVITE gets 486, or 180 then 200 with SDP (busy)\n"
	"  --calls N            lines place N calls per second in all (0.5: one in 2 s; 0)\n"
	"                       through the active proxy, to --call-to\n"
	"  --call-to URI        Request-URI of every call (sip:user@host; UDP, so not sips:)\n"
	"  --call-hold S        an answered call is ended with BYE after S seconds (5)\n"
	"  --call-max N         calls at once per worker, at most (4096)\n"
	"  --tls-ca FILE        TLS roles: verify servers against these PEM certificates\n"
	"                       (none: not verified, as a lab's self-signed servers need)\n"
	"  --stream-source IP   TCP/TLS roles: connections leave from IP (the kernel's choice)\n"
	"  --keepalive K        none, stun (RFC 5626 STUN binding) or crlf (none)\n"
	"  --keepalive-interval S   keep-alive at 80-100 % of S, or of the server's\n"
	"                       Flow-Timer when it sends one (30)\n"
	"  --keepalive-timeout MS   an unanswered STUN keep-alive fails the flow (10000)\n"
	"  --quiet              no progress line\n";

static int ctl__line_user(void *ctx, uint32_t id, char *buf, size_t cap)
{
	const struct ctl_run_cfg *c = ctx;

	if (c->csv.n) {
		if (id >= c->csv.n ||
		    (size_t)snprintf(buf, cap, "%s", c->csv.text + c->csv.user[id]) >= cap)
			return -ENOSPC;
		return 0;
	}
	return ctl_linegen_name(&c->users, id, buf, cap);
}

static const char *ctl__line_password(void *ctx, uint32_t id)
{
	const struct ctl_run_cfg *c = ctx;

	if (id >= c->csv.n || c->csv.pass[id] == CTL_CSV_NO_PASSWORD)
		return NULL;
	return c->csv.text + c->csv.pass[id];
}

static int ctl__err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* on/off, true/false, yes/no, 1/0: 1, 0, or -1 for anything else. */
static int ctl__bool(const char *s)
{
	static const char *const on[] = {"on", "true", "yes", "1"}, *const off[] = {"off", "false",
										    "no", "0"};

	for (size_t k = 0; s && k < 4; k++) {
		if (!strcasecmp(s, on[k]))
			return 1;
		if (!strcasecmp(s, off[k]))
			return 0;
	}
	return -1;
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
	if (errno || end == s || *end || !(v >= 0.001 && v <= 86400)) /* NaN fails too */
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

/* "name[:port]": letters, digits, hyphens and dots, as RFC 1123 host names. */
static bool ctl__host(const char *s, char out[256], uint16_t *port)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	uint32_t p = 0;

	if (!n || n > 240 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
		return false;
	for (size_t k = 0; k < n; k++) {
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.",
			    s[k]) ||
		    (s[k] == '.' && s[k + 1] == '.'))
			return false;
	}
	if (colon && (!ctl__u32(colon + 1, 65535, &p) || p == 0))
		return false;
	/* RFC 1123 §2.1: a top label of digits only is a (bad) address, not a name */
	for (size_t k = n; k-- > 0 && s[k] != '.';) {
		if (s[k] < '0' || s[k] > '9')
			break;
		if (k == 0 || s[k - 1] == '.')
			return false;
	}
	memcpy(out, s, n);
	out[n] = 0;
	*port = (uint16_t)p;
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

void ctl_run_cfg_defaults(struct ctl_run_cfg *r)
{
	char err[160];

	memset(r, 0, sizeof(*r));
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
		.call_max = 4096,
		.rate = 1000,
		.ka_interval_ms = 30000,
		.ka_timeout_ms = 10000,
		.line_user = ctl__line_user,
		.line_password = ctl__line_password,
		.line_user_ctx = r,
	};
	ctl_linegen_init(&r->users, "1{id:05}", 0, err, sizeof(err));
	r->subscribe = -1;
	r->dp.sub_expires = 3600;
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
		.flow_base_all_ms = 30000,
		.flow_base_ok_ms = 90000,
		.flow_max_ms = 1800000,
	};
	r->outbound = -1;
	r->call_hold_ms = 5000;
	ctl_dns_resolver_defaults(&r->dns);
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
	O_WORKERS,
	O_CALLS,
	O_CALL_TO,
	O_CALL_HOLD,
	O_CALL_MAX,
	O_TLS_CA,
	O_STREAM_SOURCE,
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
	O_REPORT_DIR,
	O_SUBSCRIBE,
	O_SUB_EXPIRES,
	O_EVENT,
	O_LINES_CSV,
	O_STORM_CONTROL,
	O_OUTBOUND,
	O_FLOW_RECOVERY,
	O_DNS_SERVER,
	O_SERVE_STALE,
	O_DNS_MAX_TTL,
	O_DNS_TIMEOUT,
	O_HELP
};

const struct option ctl_run_cfg_opts[] = {
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
	{"workers", 1, NULL, O_WORKERS},
	{"calls", 1, NULL, O_CALLS},
	{"call-to", 1, NULL, O_CALL_TO},
	{"call-hold", 1, NULL, O_CALL_HOLD},
	{"call-max", 1, NULL, O_CALL_MAX},
	{"tls-ca", 1, NULL, O_TLS_CA},
	{"stream-source", 1, NULL, O_STREAM_SOURCE},
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
	{"report-dir", 1, NULL, O_REPORT_DIR},
	{"subscribe", 1, NULL, O_SUBSCRIBE},
	{"sub-expires", 1, NULL, O_SUB_EXPIRES},
	{"event", 1, NULL, O_EVENT},
	{"lines-csv", 1, NULL, O_LINES_CSV},
	{"storm-control", 1, NULL, O_STORM_CONTROL},
	{"outbound", 1, NULL, O_OUTBOUND},
	{"flow-recovery", 1, NULL, O_FLOW_RECOVERY},
	{"dns-server", 1, NULL, O_DNS_SERVER},
	{"serve-stale", 1, NULL, O_SERVE_STALE},
	{"dns-max-ttl", 1, NULL, O_DNS_MAX_TTL},
	{"dns-timeout", 1, NULL, O_DNS_TIMEOUT},
	{"config", 1, NULL, 'c'},
	{"phone-config", 1, NULL, 'p'},
	{"help", 0, NULL, O_HELP},
	{NULL, 0, NULL, 0},
};

int ctl_run_cfg_code(const char *name)
{
	for (const struct option *o = ctl_run_cfg_opts; o->name; o++) {
		if (!strcmp(o->name, name))
			return o->val;
	}
	return -1;
}

int ctl_run_cfg_option(struct ctl_run_cfg *r, int code, const char *arg, char *err, size_t errlen)
{
	uint32_t v, lo, hi;

	if (!arg && code != O_QUIET && code != O_NO_STORM && code != O_HELP)
		return ctl__err(err, errlen, "wants a value");
	switch (code) {
	case O_LINES:
		if (!ctl__u32(arg, 16777216, &v) || v == 0)
			return ctl__err(err, errlen, "wants 1..16777216, not '%s'", arg);
		r->dp.lines = v;
		r->lines_set = true;
		break;
	case O_REGISTRAR:
	case O_BACKUP_REGISTRAR:
	case O_PROXY:
	case O_BACKUP_PROXY:
	case O_OUTBOUND_PROXY:
	case O_BACKUP_OUTBOUND_PROXY: {
		int role = code == O_REGISTRAR		? CTL_R
			   : code == O_BACKUP_REGISTRAR ? CTL_BR
			   : code == O_PROXY		? CTL_P
			   : code == O_BACKUP_PROXY	? CTL_BP
			   : code == O_OUTBOUND_PROXY	? CTL_OP
							: CTL_BOP;
		struct dp_server_cfg *sv = &r->dp.server[role];
		const char *tp = strchr(arg, ';');
		char addr[300];

		/* ";transport=" as in a SIP URI: UDP through the dataplane, TCP and TLS
		 * through the kernel (control/stream.h) */
		r->transport[role] = SIP_TPL_UDP;
		if (tp) {
			if (strncasecmp(tp, ";transport=", 11) != 0 ||
			    (size_t)(tp - arg) >= sizeof(addr))
				return ctl__err(err, errlen,
						"wants IPv4[:port] or a host name[:port], then "
						"optionally ;transport=udp, tcp or tls, not '%s'",
						arg);
			if (!strcasecmp(tp + 11, "tcp"))
				r->transport[role] = SIP_TPL_TCP;
			else if (!strcasecmp(tp + 11, "tls"))
				r->transport[role] = SIP_TPL_TLS;
			else if (strcasecmp(tp + 11, "udp") != 0)
				return ctl__err(err, errlen,
						"asks for transport '%s': udp, tcp or tls",
						tp + 11);
			memcpy(addr, arg, (size_t)(tp - arg));
			addr[tp - arg] = 0;
			arg = ctl_run_cfg_keep(r, addr);
			if (!arg)
				return ctl__err(err, errlen, "out of memory");
		}
		/* RFC 3261 §19.1.2: TLS's default port is 5061 */
		sv->port = r->transport[role] == SIP_TPL_TLS ? 5061 : 5060;
		sv->host = NULL;
		r->dns_host[role][0] = 0;
		if (ctl__ip(arg, &sv->ip, &sv->port))
			break;
		/* a host name: located through DNS (RFC 3263) when the run starts */
		if (!ctl__host(arg, r->dns_host[role], &r->dns_port[role]))
			return ctl__err(err, errlen,
					"wants IPv4[:port] or a host name[:port], not '%s'", arg);
		sv->host = r->dns_host[role];
		sv->ip = 0;
		sv->port = r->dns_port[role]		       ? r->dns_port[role]
			   : r->transport[role] == SIP_TPL_TLS ? 5061
							       : 5060;
		break;
	}
	case O_MODE:
		if (!ctl__u32(arg, 4, &v) || v == 0)
			return ctl__err(err, errlen, "wants 1, 2, 3 or 4, not '%s'", arg);
		r->fo_cfg.mode = (int)v;
		break;
	case O_DOMAIN:
		r->dp.aor_domain[CTL_AOR_PRIMARY] = arg;
		break;
	case O_BACKUP_DOMAIN:
		r->dp.aor_domain[CTL_AOR_BACKUP] = arg;
		break;
	case O_FAIL_THRESHOLD:
		if (!ctl__u32(arg, 1000000, &r->fo_cfg.fail_threshold) || !r->fo_cfg.fail_threshold)
			return ctl__err(err, errlen, "wants 1..1000000, not '%s'", arg);
		break;
	case O_PROBE_INTERVAL:
		if (!ctl__range(arg, 86400, &lo, &hi) || lo == 0)
			return ctl__err(err, errlen, "wants MIN-MAX seconds, not '%s'", arg);
		r->fo_cfg.probe_min_ms = lo * 1000;
		r->fo_cfg.probe_max_ms = hi * 1000;
		break;
	case O_PROBE_TIMEOUT:
		if (!ctl__u32(arg, 600000, &r->fo_cfg.probe_timeout_ms) ||
		    !r->fo_cfg.probe_timeout_ms)
			return ctl__err(err, errlen, "wants 1..600000 ms, not '%s'", arg);
		break;
	case O_MONITOR:
		if (!ctl__u32(arg, 86400, &v))
			return ctl__err(err, errlen, "wants seconds, not '%s'", arg);
		r->fo_cfg.monitor_ms = v * 1000;
		break;
	case O_STORM_WINDOW:
		if (!ctl__seconds_ms(arg, &r->fo_cfg.storm_window_ms))
			return ctl__err(err, errlen, "wants seconds, not '%s'", arg);
		break;
	case O_STORM_RATE:
		if (!ctl__u32(arg, 100000000, &r->fo_cfg.storm_rate_cap))
			return ctl__err(err, errlen, "wants lines per second, not '%s'", arg);
		break;
	case O_NO_STORM:
		r->fo_cfg.storm_on = false;
		break;
	case O_LOCAL_IP:
		if (!ctl__ip(arg, &r->dp.first_ip, NULL))
			return ctl__err(err, errlen, "wants an IPv4 address, not '%s'", arg);
		break;
	case O_LOCAL_PORTS:
		if (!ctl__range(arg, 65535, &lo, &hi) || lo == 0)
			return ctl__err(err, errlen, "wants A-B within 1..65535, not '%s'", arg);
		r->dp.first_port = (uint16_t)lo;
		r->dp.nports = (uint16_t)(hi - lo + 1);
		break;
	case O_USER:
		r->user_pattern = arg;
		break;
	case O_USER_BASE:
		if (!ctl__u32(arg, UINT32_MAX, &r->user_base))
			return ctl__err(err, errlen, "wants a number, not '%s'", arg);
		break;
	case O_PASSWORD:
		r->dp.password = arg;
		break;
	case O_EXPIRES:
		if (!ctl__u32(arg, 86400 * 7, &r->dp.expires) || r->dp.expires == 0)
			return ctl__err(err, errlen, "wants 1..604800 seconds, not '%s'", arg);
		break;
	case O_REFRESH:
		if (!ctl__range(arg, 100, &lo, &hi) || lo == 0)
			return ctl__err(err, errlen,
					"wants MIN-MAX percent within 1..100, not '%s'", arg);
		r->dp.refresh_min_pct = (uint8_t)lo;
		r->dp.refresh_max_pct = (uint8_t)hi;
		break;
	case O_WORKERS:
		if (!ctl__u32(arg, 64, &v) || v == 0)
			return ctl__err(err, errlen, "wants 1..64 worker lcores, not '%s'", arg);
		r->dp.workers = v;
		break;
	case O_RATE:
		if (!ctl__u32(arg, 10000000, &r->dp.rate))
			return ctl__err(err, errlen,
					"wants lines per second (0 = no cap), not '%s'", arg);
		break;
	case O_T1:
	case O_T2:
	case O_TF:
		if (!ctl__u32(arg, 600000, &v) || v == 0)
			return ctl__err(err, errlen, "wants 1..600000 ms, not '%s'", arg);
		*(code == O_T1 ? &r->dp.t1_ms : code == O_T2 ? &r->dp.t2_ms : &r->dp.tf_ms) = v;
		break;
	case O_RETRY:
		if (!ctl__u32(arg, 86400, &v) || v == 0)
			return ctl__err(err, errlen, "wants 1..86400 seconds, not '%s'", arg);
		r->dp.retry_ms = v * 1000;
		break;
	case O_DURATION:
		if (!ctl__u32(arg, 86400 * 365, &r->duration_s))
			return ctl__err(err, errlen, "wants seconds, not '%s'", arg);
		break;
	case O_SUMMARY:
		r->summary_json = arg;
		break;
	case O_SEED:
		if (!ctl__u32(arg, UINT32_MAX, &v))
			return ctl__err(err, errlen, "wants a number, not '%s'", arg);
		r->dp.seed = v;
		break;
	case O_QUIET:
		r->quiet = true;
		break;
	case O_PCAP:
		r->dp.pcap_path = arg;
		break;
	case O_KA:
		if (!strcmp(arg, "none"))
			r->dp.keepalive = 0;
		else if (!strcmp(arg, "stun"))
			r->dp.keepalive = 1;
		else if (!strcmp(arg, "crlf"))
			r->dp.keepalive = 2;
		else
			return ctl__err(err, errlen, "wants none, stun or crlf, not '%s'", arg);
		r->keepalive_set = true;
		break;
	case O_CALLS:
		/* calls per second over every line, milli-precision: "0.5" is one in 2 s */
		if (!strcmp(arg, "0"))
			r->call_rate_milli = 0;
		else if (!ctl__seconds_ms(arg, &r->call_rate_milli))
			return ctl__err(err, errlen,
					"wants calls per second (0, or 0.001..86400), not '%s'",
					arg);
		break;
	case O_CALL_TO: {
		struct sip_uri u;
		size_t off;
		const char *why;

		if (strlen(arg) >= DP_CALL_TO_MAX ||
		    sip_uri_parse(sip_str_cstr(arg), &u, &off, &why) != 0 ||
		    u.scheme != SIP_SCHEME_SIP)
			/* sips: would need TLS on every hop (RFC 3261 §26.2.2); calls are UDP */
			return ctl__err(err, errlen,
					"wants a sip: URI of at most 127 octets, not '%s'", arg);
		r->dp.call_to = arg;
		break;
	}
	case O_CALL_HOLD:
		if (!ctl__seconds_ms(arg, &r->call_hold_ms))
			return ctl__err(err, errlen, "wants seconds (0.001..86400), not '%s'", arg);
		break;
	case O_TLS_CA:
		if (access(arg, R_OK) != 0)
			return ctl__err(err, errlen, "cannot read '%s': %s", arg, strerror(errno));
		r->tls_ca = arg;
		break;
	case O_STREAM_SOURCE: {
		uint16_t port = 0;

		if (!ctl__ip(arg, &r->stream_source, &port) || port)
			return ctl__err(err, errlen, "wants an IPv4 address, not '%s'", arg);
		break;
	}
	case O_CALL_MAX:
		if (!ctl__u32(arg, 65535, &r->dp.call_max) || r->dp.call_max == 0)
			return ctl__err(err, errlen, "wants 1..65535 calls at once, not '%s'", arg);
		break;
	case O_INVITE:
		if (!strcmp(arg, "busy") || !strcmp(arg, "answer"))
			r->dp.invite_answer = arg[0] == 'a';
		else
			return ctl__err(err, errlen, "wants busy or answer, not '%s'", arg);
		break;
	case O_KA_INTERVAL:
		if (!ctl__seconds_ms(arg, &r->dp.ka_interval_ms))
			return ctl__err(err, errlen, "wants seconds (0.001..86400), not '%s'", arg);
		break;
	case O_KA_TIMEOUT:
		if (!ctl__u32(arg, 600000, &r->dp.ka_timeout_ms) || r->dp.ka_timeout_ms == 0)
			return ctl__err(err, errlen, "wants 1..600000 ms, not '%s'", arg);
		break;
	case O_REPORT_DIR:
		r->report_dir = arg;
		break;
	case O_SUBSCRIBE:
		if ((r->subscribe = ctl__bool(arg)) < 0)
			return ctl__err(err, errlen, "wants on or off, not '%s'", arg);
		break;
	case O_SUB_EXPIRES:
		if (!ctl__u32(arg, 86400 * 7, &r->dp.sub_expires) || r->dp.sub_expires == 0)
			return ctl__err(err, errlen, "wants 1..604800 seconds, not '%s'", arg);
		break;
	case O_EVENT:
		if (!arg[0] || strpbrk(arg, " \t\r\n;,<>\"") || strlen(arg) > 64)
			return ctl__err(err, errlen, "wants an event package token, not '%s'", arg);
		r->dp.sub_event = arg;
		break;
	case O_LINES_CSV:
		r->csv_path = arg;
		break;
	case O_STORM_CONTROL:
	case O_OUTBOUND: {
		int on = ctl__bool(arg);

		if (on < 0)
			return ctl__err(err, errlen, "wants on or off, not '%s'", arg);
		if (code == O_STORM_CONTROL)
			r->fo_cfg.storm_on = on;
		else
			r->outbound = on;
		break;
	}
	case O_DNS_SERVER: {
		char one[64];
		uint32_t ip;
		uint16_t port;

		/* IPv4[:port], comma-separated: what c-ares is given */
		for (const char *p = arg, *e; *p; p = *e ? e + 1 : e) {
			e = strchr(p, ',');
			e = e ? e : p + strlen(p);
			if ((size_t)(e - p) >= sizeof(one))
				return ctl__err(err, errlen, "wants IPv4[:port],..., not '%s'",
						arg);
			memcpy(one, p, (size_t)(e - p));
			one[e - p] = 0;
			if (!ctl__ip(one, &ip, &port))
				return ctl__err(err, errlen, "wants IPv4[:port],..., not '%s'",
						arg);
		}
		r->dns.servers = arg;
		break;
	}
	case O_SERVE_STALE: {
		int on = ctl__bool(arg);

		if (on < 0)
			return ctl__err(err, errlen, "wants on or off, not '%s'", arg);
		r->dns.cache.serve_stale = on;
		break;
	}
	case O_DNS_MAX_TTL:
		if (!ctl__u32(arg, 604800, &v) || !v)
			return ctl__err(err, errlen, "wants 1..604800 seconds, not '%s'", arg);
		r->dns.cache.max_ttl_s = v;
		break;
	case O_DNS_TIMEOUT:
		if (!ctl__u32(arg, 60000, &v) || v < 10)
			return ctl__err(err, errlen, "wants 10..60000 ms, not '%s'", arg);
		r->dns.timeout_ms = v;
		break;
	case O_FLOW_RECOVERY: {
		unsigned a, b, m;
		char end;

		if (sscanf(arg, "%u,%u,%u%c", &a, &b, &m, &end) != 3 || !a || !b || !m ||
		    m > 86400 || a > m || b > m)
			return ctl__err(err, errlen,
					"wants ALL,OK,MAX seconds with 0 < ALL, OK <= MAX <= 86400 "
					"(RFC 5626: 30,90,1800), not '%s'",
					arg);
		r->fo_cfg.flow_base_all_ms = a * 1000;
		r->fo_cfg.flow_base_ok_ms = b * 1000;
		r->fo_cfg.flow_max_ms = m * 1000;
		break;
	}
	default:
		return ctl__err(err, errlen, "is no option of sipedge run");
	}
	return 0;
}

static void ctl__ip_str(uint32_t ip, char *buf, size_t cap)
{
	struct in_addr a = {htonl(ip)};

	inet_ntop(AF_INET, &a, buf, (socklen_t)cap);
}

/* One transport for every line: the roles' (all the same), a sentence when they differ. */
static int ctl__transport(struct ctl_run_cfg *r, char *err, size_t errlen)
{
	static const char *const name[] = {"udp", "tcp", "tls"};
	int first = -1;

	for (int k = 0; k < CTL_ROLE__COUNT; k++) {
		if (!r->dp.server[k].port)
			continue;
		if (first < 0)
			first = k;
		else if (r->transport[k] != r->transport[first])
			return ctl__err(err, errlen,
					"%s says ;transport=%s but %s says %s: the lines use one "
					"transport, so give every role the same",
					ctl_role_name(k), name[r->transport[k]],
					ctl_role_name(first), name[r->transport[first]]);
	}
	r->stream = first >= 0 ? r->transport[first] : SIP_TPL_UDP;
	if (r->stream == SIP_TPL_UDP && (r->tls_ca || r->stream_source))
		return ctl__err(err, errlen,
				"--tls-ca and --stream-source are for roles with ;transport=tcp or "
				"tls");
	if (r->stream == SIP_TPL_TCP && r->tls_ca)
		return ctl__err(err, errlen, "--tls-ca is for roles with ;transport=tls");
	return 0;
}

/* What the roles given add up to: AOR domains, the mode's needs, the lines' first target. */
static int ctl__roles(struct ctl_run_cfg *r, char *err, size_t errlen)
{
	const struct dp_server_cfg *sv = r->dp.server;
	bool up[CTL_ROLE__COUNT];
	struct ctl_targets t;
	int rc;

	for (int k = 0; k < CTL_ROLE__COUNT; k++)
		r->fo_cfg.configured[k] = up[k] = sv[k].port != 0;
	if (!r->dp.aor_domain[CTL_AOR_PRIMARY]) {
		int role = sv[CTL_P].port ? CTL_P : CTL_R;

		if (r->dns_host[role][0])
			snprintf(r->domain_buf[0], sizeof(r->domain_buf[0]), "%s",
				 r->dns_host[role]);
		else
			ctl__ip_str(sv[role].ip, r->domain_buf[0], 64);
		r->dp.aor_domain[CTL_AOR_PRIMARY] = r->domain_buf[0];
	}
	if (!r->dp.aor_domain[CTL_AOR_BACKUP] && sv[CTL_BP].port) {
		if (r->dns_host[CTL_BP][0])
			snprintf(r->domain_buf[1], sizeof(r->domain_buf[1]), "%s",
				 r->dns_host[CTL_BP]);
		else
			ctl__ip_str(sv[CTL_BP].ip, r->domain_buf[1], 64);
		r->dp.aor_domain[CTL_AOR_BACKUP] = r->domain_buf[1];
	}
	if (r->fo_cfg.mode == 2 && (!sv[CTL_BR].port || !r->dp.aor_domain[CTL_AOR_BACKUP]))
		return ctl__err(err, errlen,
				"mode 2 needs a backup registrar (BR) and a backup AOR domain (a "
				"backup proxy BP, or the backup domain)");
	if (r->outbound == 1)
		r->fo_cfg.mode = 4;
	if (r->fo_cfg.mode == 4 && r->outbound == 0)
		return ctl__err(err, errlen, "mode 4 is SIP outbound; outbound is off");
	if (r->fo_cfg.mode >= 3 && (!sv[CTL_OP].port || !sv[CTL_BOP].port))
		return ctl__err(err, errlen,
				"mode %d needs an outbound proxy (OP) and a backup one (BOP)",
				r->fo_cfg.mode);
	if ((rc = ctl__transport(r, err, errlen)))
		return rc;
	t = ctl_mode_targets(r->fo_cfg.mode, r->fo_cfg.configured, up);
	r->dp.target = DP_TARGET(t.reg, t.aor, t.via);
	if (r->fo_cfg.mode == 4) { /* RFC 5626: a flow per outbound proxy, kept alive */
		r->dp.outbound = true;
		r->dp.reg2 = true;
		r->dp.reg2_target = DP_TARGET(t.reg, t.aor, CTL_BOP);
		if (!r->keepalive_set)
			r->dp.keepalive = 1; /* STUN (dataplane/line.h) */
	}
	/* a phone with a proxy subscribes to its mailbox there (the seed table's rows) */
	r->dp.subscribe = r->subscribe < 0 ? sv[CTL_P].port != 0 : r->subscribe;
	t = ctl_mode_sub_targets(r->fo_cfg.mode, r->fo_cfg.configured, up);
	r->dp.sub_target = DP_TARGET(t.reg, t.aor, t.via);
	if (r->dp.subscribe && !r->dp.aor_domain[t.aor])
		return ctl__err(err, errlen, "subscriptions need the AOR domain of their proxy");
	return 0;
}

char *ctl_run_cfg_keep(struct ctl_run_cfg *c, const char *s)
{
	char **more = realloc(c->kept, (c->nkept + 1) * sizeof(*more));
	char *copy = strdup(s);

	if (!more || !copy) {
		free(copy);
		if (more)
			c->kept = more;
		return NULL;
	}
	c->kept = more;
	c->kept[c->nkept++] = copy;
	return copy;
}

void ctl_run_cfg_release(struct ctl_run_cfg *c)
{
	ctl_csv_free(&c->csv);
	for (size_t k = 0; k < c->nkept; k++)
		free(c->kept[k]);
	free(c->kept);
	c->kept = NULL;
	c->nkept = 0;
}

int ctl_run_cfg_finish(struct ctl_run_cfg *r, char *err, size_t errlen)
{
	char why[200];

	if (r->csv_path) {
		int n = ctl_csv_load(&r->csv, r->csv_path, stderr);

		if (n != 0)
			return ctl__err(err, errlen, "lines CSV %s: %s", r->csv_path,
					n < 0 ? "cannot be read" : "has problems (above)");
		if (r->lines_set && r->dp.lines > r->csv.n)
			return ctl__err(err, errlen, "%u lines asked for, but the CSV %s has %u",
					r->dp.lines, r->csv_path, r->csv.n);
		if (!r->lines_set)
			r->dp.lines = r->csv.n;
	}
	if (r->call_rate_milli && !r->dp.call_to)
		return ctl__err(err, errlen, "--calls needs --call-to, the URI the lines call");
	if ((r->user_pattern || r->user_base) &&
	    ctl_linegen_init(&r->users, r->user_pattern ? r->user_pattern : "1{id:05}",
			     r->user_base, why, sizeof(why)) != 0)
		return ctl__err(err, errlen, "user pattern: %s", why);
	return ctl__roles(r, err, errlen);
}
