/* Aastra/Mitel phone configuration files as line templates (control/phonecfg.h). */
#include "control/phonecfg.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CTL__MAXLINE 512

void ctl_phonecfg_parse(const char *text, size_t len, ctl_phonecfg_fn fn, void *ctx)
{
	char line[CTL__MAXLINE];
	unsigned no = 0;
	size_t pos = 0;

	while (pos < len) {
		size_t end = pos, n;
		char *colon, *k, *v, *e;

		while (end < len && text[end] != '\n')
			end++;
		no++;
		n = end - pos < sizeof(line) - 1 ? end - pos : sizeof(line) - 1;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos = end + 1;
		for (size_t i = 0; i < n; i++) {
			if (line[i] == '\0' || line[i] == '\r')
				line[i] = ' '; /* CRLF files and stray NULs read as spaces */
		}
		k = line;
		while (isspace((unsigned char)*k))
			k++;
		if (*k == '\0' || *k == '#')
			continue;
		colon = strchr(k, ':');
		if (!colon) {
			fn(ctx, NULL, k, no);
			continue;
		}
		*colon = '\0';
		v = colon + 1;
		for (e = colon; e > k && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		while (isspace((unsigned char)*v))
			v++;
		for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]); e--)
			e[-1] = '\0';
		for (char *c = k; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		fn(ctx, k, v, no);
	}
}

/* The phone's keys; "sip line1 X" is read as "sip X" (sipedge emulates line 1). */
enum ctl__pk {
	PK_P_IP,
	PK_P_PORT,
	PK_BP_IP,
	PK_BP_PORT,
	PK_R_IP,
	PK_R_PORT,
	PK_BR_IP,
	PK_BR_PORT,
	PK_OP_IP,
	PK_OP_PORT,
	PK_BOP_IP,
	PK_BOP_PORT,
	PK_OUTBOUND,
	PK_PERIOD,
	PK_USER,
	PK_AUTH,
	PK_PASSWORD,
	PK__COUNT
};

static const char *const ctl__pkeys[PK__COUNT] = {
	"sip proxy ip",
	"sip proxy port",
	"sip backup proxy ip",
	"sip backup proxy port",
	"sip registrar ip",
	"sip registrar port",
	"sip backup registrar ip",
	"sip backup registrar port",
	"sip outbound proxy",
	"sip outbound proxy port",
	"sip backup outbound proxy",
	"sip backup outbound proxy port",
	"sip outbound support",
	"sip registration period",
	"sip user name",
	"sip auth name",
	"sip password",
};

struct ctl__phone {
	const char *path;
	FILE *errs;
	int problems;
	char val[PK__COUNT][128];
	unsigned line[PK__COUNT];
};

static void ctl__phone_line(void *ctx, const char *key, const char *value, unsigned line)
{
	struct ctl__phone *ph = ctx;
	char k[128];

	if (!key) {
		fprintf(ph->errs, "%s:%u: not a 'key: value' line: '%.60s'\n", ph->path, line,
			value);
		ph->problems++;
		return;
	}
	if (!strncmp(key, "sip line1 ", 10))
		snprintf(k, sizeof(k), "sip %s", key + 10);
	else
		snprintf(k, sizeof(k), "%s", key);
	for (int i = 0; i < PK__COUNT; i++) {
		if (!strcmp(k, ctl__pkeys[i])) {
			snprintf(ph->val[i], sizeof(ph->val[i]), "%s", value);
			ph->line[i] = line;
			return;
		}
	}
}

static void ctl__phone_set(struct ctl__phone *ph, struct ctl_run_cfg *c, int pk, const char *option,
			   const char *value)
{
	char err[256];

	if (ctl_run_cfg_option(c, ctl_run_cfg_code(option), ctl_run_cfg_keep(c, value), err,
			       sizeof(err)) != 0) {
		fprintf(ph->errs, "%s:%u: %s: '%s' %s\n", ph->path, ph->line[pk], ctl__pkeys[pk],
			value, err);
		ph->problems++;
	}
}

/* "sip proxy ip" with "sip proxy port": one server; port 0 or none is 5060. */
static bool ctl__phone_server(struct ctl__phone *ph, struct ctl_run_cfg *c, int ip, int port,
			      const char *option)
{
	char v[160];

	if (!ph->val[ip][0] || !strcmp(ph->val[ip], "0.0.0.0"))
		return false;
	snprintf(v, sizeof(v), "%s:%s", ph->val[ip],
		 ph->val[port][0] && strcmp(ph->val[port], "0") ? ph->val[port] : "5060");
	ctl__phone_set(ph, c, ip, option, v);
	return true;
}

int ctl_phonecfg_load_text(const char *path, const char *text, size_t len, struct ctl_run_cfg *c,
			   FILE *errs)
{
	struct ctl__phone ph = {.path = path, .errs = errs};
	bool bp, br, bop;
	const char *u;
	char mode[2] = "1";
	int before;

	ctl_phonecfg_parse(text, len, ctl__phone_line, &ph);
	before = ph.problems;

	if (ctl__phone_server(&ph, c, PK_P_IP, PK_P_PORT, "proxy") && ph.problems == before &&
	    !ph.val[PK_R_IP][0])
		ctl__phone_server(&ph, c, PK_P_IP, PK_P_PORT, "registrar"); /* R defaults to P */
	bp = ctl__phone_server(&ph, c, PK_BP_IP, PK_BP_PORT, "backup-proxy");
	ctl__phone_server(&ph, c, PK_R_IP, PK_R_PORT, "registrar");
	br = ctl__phone_server(&ph, c, PK_BR_IP, PK_BR_PORT, "backup-registrar");
	ctl__phone_server(&ph, c, PK_OP_IP, PK_OP_PORT, "outbound-proxy");
	bop = ctl__phone_server(&ph, c, PK_BOP_IP, PK_BOP_PORT, "backup-outbound-proxy");
	if (ph.val[PK_OUTBOUND][0])
		ctl__phone_set(&ph, c, PK_OUTBOUND, "outbound", ph.val[PK_OUTBOUND]);
	/* the IF column of the phone's table: which backups are configured picks the row */
	mode[0] = bp && br && bop ? '2' : bop ? '3' : '1';
	ctl_run_cfg_option(c, ctl_run_cfg_code("mode"), ctl_run_cfg_keep(c, mode), (char[8]){0}, 8);
	if (ph.val[PK_PERIOD][0] && strcmp(ph.val[PK_PERIOD], "0"))
		ctl__phone_set(&ph, c, PK_PERIOD, "expires", ph.val[PK_PERIOD]);
	if (ph.val[PK_PASSWORD][0])
		ctl__phone_set(&ph, c, PK_PASSWORD, "password", ph.val[PK_PASSWORD]);
	u = ph.val[PK_USER];
	if (u[0] && strspn(u, "0123456789") == strlen(u)) {
		/* one phone's number: the lines are that number and the ones after it */
		ctl__phone_set(&ph, c, PK_USER, "user", "{id}");
		ctl__phone_set(&ph, c, PK_USER, "user-base", u);
	} else if (u[0]) {
		ctl__phone_set(&ph, c, PK_USER, "user", u);
	}
	if (ph.val[PK_AUTH][0] && strcmp(ph.val[PK_AUTH], u)) {
		fprintf(errs,
			"%s:%u: sip auth name '%s' differs from sip user name '%s': a separate "
			"authentication name is not supported yet\n",
			path, ph.line[PK_AUTH], ph.val[PK_AUTH], u);
		ph.problems++;
	}
	return ph.problems;
}

int ctl_phonecfg_load(const char *path, struct ctl_run_cfg *c, FILE *errs)
{
	FILE *f = fopen(path, "rb");
	char *text;
	long len;
	int rc;

	if (!f) {
		fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > (1 << 24) ||
	    fseek(f, 0, SEEK_SET) != 0 || !(text = malloc((size_t)len + 1))) {
		fprintf(errs, "%s: cannot read (larger than 16 MB?)\n", path);
		fclose(f);
		return -1;
	}
	if (fread(text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	rc = ctl_phonecfg_load_text(path, text, (size_t)len, c, errs);
	free(text);
	return rc;
}
