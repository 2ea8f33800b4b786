/*
 * `sipedge check -c FILE`: read a configuration file as `sipedge run -c FILE` would and
 * report every problem with file:line and a sentence, without touching the network.
 */
#include "control/cli.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "control/config.h"
#include "control/run_cfg.h"
#include "sip/builder.h"

static const char ctl__check_usage[] =
	"usage: sipedge check -c FILE...\n"
	"Reads each configuration file (YAML, see docs/config.md) and reports every problem\n"
	"as FILE:LINE: sentence. Exit 0 when all are fine, 1 when any has a problem.\n";

/* One line on what the file sets up, so a user sees it was read as meant. */
static void ctl__describe(const char *path, const struct ctl_run_cfg *c)
{
	char ip[16];

	printf("%s: ok: %u lines, mode %d,", path, c->dp.lines, c->fo_cfg.mode);
	for (int k = 0; k < CTL_ROLE__COUNT; k++) {
		if (!c->fo_cfg.configured[k])
			continue;
		inet_ntop(AF_INET, &(struct in_addr){htonl(c->dp.server[k].ip)}, ip, sizeof(ip));
		if (c->dns_host[k][0]) /* a host name: located through DNS */
			printf(" %s %s%s%.0u (%s)", ctl_role_name(k), c->dns_host[k],
			       c->dns_port[k] ? ":" : "", c->dns_port[k],
			       c->dns_port[k] ? "A" : "NAPTR/SRV");
		else
			printf(" %s %s:%u", ctl_role_name(k), ip, c->dp.server[k].port);
		if (c->stream != SIP_TPL_UDP)
			printf(";transport=%s", c->stream == SIP_TPL_TLS ? "tls" : "tcp");
	}
	printf(", AOR user@%s", c->dp.aor_domain[0]);
	if (c->dp.aor_domain[1])
		printf(", backup AOR user@%s", c->dp.aor_domain[1]);
	putchar('\n');
}

static int ctl__check_one(const char *path)
{
	static struct ctl_run_cfg c; /* big (line templates): not on the stack */
	char err[256];
	int n;

	ctl_run_cfg_defaults(&c);
	n = ctl_config_load(path, &c, stderr);
	if (n == 0 && ctl_run_cfg_finish(&c, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		n = 1;
	}
	if (n == 0)
		ctl__describe(path, &c);
	ctl_run_cfg_release(&c);
	return n != 0;
}

int ctl_cmd_check(int argc, char **argv)
{
	int bad = 0, files = 0;

	for (int k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
			fputs(ctl__check_usage, stdout);
			return 0;
		}
		if (!strcmp(argv[k], "-c") || !strcmp(argv[k], "--config")) {
			if (k + 1 == argc) {
				fputs("sipedge check: -c wants a file (see 'sipedge check --help')\n",
				      stderr);
				return 2;
			}
			bad |= ctl__check_one(argv[++k]);
			files++;
			continue;
		}
		fprintf(stderr,
			"sipedge check: unexpected argument '%s' (see 'sipedge check --help')\n",
			argv[k]);
		return 2;
	}
	if (!files) {
		fputs("sipedge check: no file given: sipedge check -c FILE\n", stderr);
		return 2;
	}
	return bad;
}
