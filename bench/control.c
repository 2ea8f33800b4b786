/*
 * bench/run control: the control plane alone, no DPDK: how many dataplane events the
 * failover machine handles per second (refreshes, then a whole failover and failback of
 * every line), the bytes of control state per line, and the time to load 1,000,000
 * lines from a template and from a CSV file (names, and the HA1s the dataplane keeps).
 * --json prints one object for scripts; --lines N changes the population.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control/csvlines.h"
#include "control/failover.h"
#include "control/linegen.h"
#include "sip/digest.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f && fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	if (f)
		fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t commands;

static int sink(void *ctx, const struct dp_msg *c)
{
	(void)ctx;
	(void)c;
	commands++;
	return 0;
}

static void feed(struct ctl_fo *fo, uint32_t n, uint16_t type, uint32_t target, uint64_t now_us)
{
	struct dp_msg m = {.type = type, .target = target, .value = 60};

	for (uint32_t i = 0; i < n; i++) {
		m.line = i;
		ctl_fo_event(fo, &m, now_us);
	}
}

struct fig {
	double events_per_s, event_ns, failover_events_per_s, bytes_per_line;
	double load_template_s, load_csv_s, names_template_s, names_csv_s;
	uint64_t events;
};

/* Refreshes of every line, then R down, every line released and settled at BR, then
 * R back and every line settled at R again: the events and ticks of a real failover. */
static void bench_events(uint32_t n, struct fig *f)
{
	struct ctl_fo_config cfg = {
		.mode = 1,
		.configured = {[CTL_P] = true, [CTL_BP] = true, [CTL_R] = true, [CTL_BR] = true},
		.retry_ms = 30000,
		.timer_f_ms = 32000,
		.fail_threshold = 2,
		.probe_min_ms = 2000,
		.probe_max_ms = 60000,
		.probe_timeout_ms = 4000,
		.storm_on = false, /* release all at once: measure the machine, not the pace */
		.seed = 1,
	};
	struct ctl_fo fo;
	const uint32_t at_r = DP_TARGET(CTL_R, 0, CTL_R), at_br = DP_TARGET(CTL_BR, 0, CTL_BR);
	struct dp_msg fail = {.type = DP_EV_FAILED, .reason = DP_FAIL_TIMEOUT, .target = at_r};
	struct dp_msg probe_ok = {.type = DP_EV_PROBE, .value = 200, .target = at_r};
	long rss0 = rss_kb();
	double t0, t1;
	uint64_t now = 1000000;

	ctl_fo_init(&fo, &cfg, n, sink, NULL);
	t0 = now_s();
	for (int round = 0; round < 3; round++)
		feed(&fo, n, DP_EV_REGISTERED, at_r, now++);
	t1 = now_s();
	f->events_per_s = 3.0 * n / (t1 - t0);
	f->event_ns = (t1 - t0) * 1e9 / (3.0 * n);
	t0 = now_s();
	for (uint32_t i = 0; i < 2; i++) {
		fail.line = i;
		ctl_fo_event(&fo, &fail, now++);
	}
	ctl_fo_tick(&fo, now += 10000);
	feed(&fo, n, DP_EV_REGISTERED, at_br, now++);
	ctl_fo_event(&fo, &probe_ok, now++);
	ctl_fo_tick(&fo, now += 10000);
	feed(&fo, n, DP_EV_UNREGISTERED, at_br, now++);
	feed(&fo, n, DP_EV_REGISTERED, at_r, now++);
	t1 = now_s();
	f->failover_events_per_s = 4.0 * n / (t1 - t0);
	f->events = 7ull * n;
	f->bytes_per_line = (double)(rss_kb() - rss0) * 1024.0 / n;
	if (fo.nep != 2 || fo.ep[0].settled != n || fo.ep[1].settled != n)
		fprintf(stderr, "bench_control: the failover did not settle every line\n");
	ctl_fo_destroy(&fo);
}

static void ha1s(struct sip_digest_ctx *d, const char *user, const char *pw)
{
	char md5[SIP_DIGEST_HEX_MAX], sha[SIP_DIGEST_HEX_MAX];

	sip_digest_ha1(d, SIP_DIGEST_MD5, sip_str_cstr(user), SIP_STR("198.18.0.3"),
		       sip_str_cstr(pw), md5);
	sip_digest_ha1(d, SIP_DIGEST_SHA256, sip_str_cstr(user), SIP_STR("198.18.0.3"),
		       sip_str_cstr(pw), sha);
}

/* Loading lines: their names (pattern, or parsing the CSV) and their two HA1s each. */
static void bench_load(uint32_t n, struct fig *f)
{
	struct sip_digest_ctx d;
	struct ctl_linegen g;
	struct ctl_csv csv;
	char user[32], err[128], path[] = "/tmp/sipedge-bench-XXXXXX";
	int fd = mkstemp(path);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	double t0;

	sip_digest_ctx_create(&d);
	ctl_linegen_init(&g, "1{id:06}", 0, err, sizeof(err));
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		ctl_linegen_name(&g, i, user, sizeof(user));
	f->names_template_s = now_s() - t0;
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		ctl_linegen_name(&g, i, user, sizeof(user));
		ha1s(&d, user, "secret");
	}
	f->load_template_s = now_s() - t0;
	if (!out) {
		perror("bench_control: temporary CSV");
		exit(1);
	}
	fputs("SEQUENTIAL\n", out);
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "1%06u;198.18.0.3;[authentication username=1%06u password=pw%u]\n", i,
			i, i % 1000);
	fclose(out);
	t0 = now_s();
	if (ctl_csv_load(&csv, path, stderr) != 0)
		exit(1);
	f->names_csv_s = now_s() - t0;
	for (uint32_t i = 0; i < csv.n; i++)
		ha1s(&d, csv.text + csv.user[i], csv.text + csv.pass[i]);
	f->load_csv_s = now_s() - t0;
	ctl_csv_free(&csv);
	unlink(path);
	sip_digest_ctx_destroy(&d);
}

int main(int argc, char **argv)
{
	uint32_t n = 1000000;
	int json = 0;
	struct fig f = {0};

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = 1;
		else if (!strcmp(argv[k], "--lines") && k + 1 < argc)
			n = (uint32_t)strtoul(argv[++k], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_control [--json] [--lines N]\n");
			return 2;
		}
	}
	if (n < 1000)
		n = 1000;
	bench_events(n, &f);
	bench_load(n, &f);
	if (json) {
		printf("{\"lines\":%u,\"events_per_s\":%.0f,\"event_ns\":%.1f,"
		       "\"failover_events_per_s\":%.0f,\"bytes_per_line_control\":%.1f,"
		       "\"names_template_s\":%.3f,\"load_template_s\":%.3f,\"names_csv_s\":%.3f,"
		       "\"load_csv_s\":%.3f}\n",
		       n, f.events_per_s, f.event_ns, f.failover_events_per_s, f.bytes_per_line,
		       f.names_template_s, f.load_template_s, f.names_csv_s, f.load_csv_s);
		return 0;
	}
	printf("| figure (%u lines) | value |\n|---|---:|\n", n);
	printf("| refresh events handled per s (ns each) | %.0f (%.1f) |\n", f.events_per_s,
	       f.event_ns);
	printf("| events per s through a whole failover and failback (2 moves per line) | %.0f |\n",
	       f.failover_events_per_s);
	printf("| control state per line, bytes (RSS growth after both moves) | %.1f |\n",
	       f.bytes_per_line);
	printf("| names from the template, s | %.3f |\n", f.names_template_s);
	printf("| load from the template: names + MD5 and SHA-256 HA1s, s | %.3f |\n",
	       f.load_template_s);
	printf("| CSV read and parsed, s | %.3f |\n", f.names_csv_s);
	printf("| load from the CSV: parse + HA1s with each row's password, s | %.3f |\n",
	       f.load_csv_s);
	return 0;
}
