/*
 * The YAML configuration file (control/config.h). Keys map to the options of
 * `sipedge run`, so the values are checked by the same code as the command line's.
 */
#include "control/config.h"

#include "control/phonecfg.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <yaml.h>

/* section.key -> option of sipedge run; the order is the order docs/config.md uses */
static const struct ctl__key {
	const char *section;
	const char *key;
	const char *option;
} ctl__keys[] = {
	{"lines", "count", "lines"},
	{"lines", "user", "user"},
	{"lines", "user_base", "user-base"},
	{"lines", "password", "password"},
	{"lines", "local_ip", "local-ip"},
	{"lines", "local_ports", "local-ports"},
	{"lines", "phone_config", "phone-config"}, /* read as a file of the phone's settings */
	{"lines", "csv", "lines-csv"},
	{"servers", "P", "proxy"},
	{"servers", "BP", "backup-proxy"},
	{"servers", "R", "registrar"},
	{"servers", "BR", "backup-registrar"},
	{"servers", "OP", "outbound-proxy"},
	{"servers", "BOP", "backup-outbound-proxy"},
	{"servers", "domain", "domain"},
	{"servers", "backup_domain", "backup-domain"},
	{"servers", "tls_ca", "tls-ca"},
	{"servers", "stream_source", "stream-source"},
	{"failover", "mode", "mode"},
	{"failover", "outbound", "outbound"},
	{"failover", "flow_recovery", "flow-recovery"},
	{"failover", "fail_threshold", "fail-threshold"},
	{"failover", "probe_interval", "probe-interval"},
	{"failover", "probe_timeout_ms", "probe-timeout"},
	{"failover", "monitor_interval", "monitor-interval"},
	{"storm", "control", "storm-control"},
	{"storm", "window", "storm-window"},
	{"storm", "rate", "storm-rate"},
	{"registration", "expires", "expires"},
	{"registration", "refresh", "refresh"},
	{"registration", "retry", "retry"},
	{"registration", "rate", "rate"},
	{"timers", "t1_ms", "t1"},
	{"timers", "t2_ms", "t2"},
	{"timers", "f_ms", "timer-f"},
	{"keepalive", "mode", "keepalive"},
	{"keepalive", "interval", "keepalive-interval"},
	{"keepalive", "timeout_ms", "keepalive-timeout"},
	{"subscriptions", "enabled", "subscribe"},
	{"subscriptions", "expires", "sub-expires"},
	{"subscriptions", "event", "event"},
	{"calls", "invite", "invite"},
	{"calls", "rate", "calls"},
	{"calls", "to", "call-to"},
	{"calls", "hold", "call-hold"},
	{"calls", "max", "call-max"},
	{"dns", "server", "dns-server"},
	{"dns", "serve_stale", "serve-stale"},
	{"dns", "max_ttl", "dns-max-ttl"},
	{"dns", "timeout_ms", "dns-timeout"},
	{"run", "duration", "duration"},
	{"run", "summary_json", "summary-json"},
	{"run", "report_dir", "report-dir"},
	{"run", "pcap", "pcap"},
	{"run", "seed", "seed"},
	{"run", "workers", "workers"},
	{"run", "eal", NULL}, /* a list of EAL arguments */
};

#define CTL__NKEYS (sizeof(ctl__keys) / sizeof(ctl__keys[0]))

struct ctl__load {
	const char *path;
	yaml_document_t *doc;
	struct ctl_run_cfg *c;
	FILE *errs;
	int problems;
};

static void ctl__problem(struct ctl__load *L, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ctl__problem(struct ctl__load *L, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	fprintf(L->errs, "%s:%lu: ", L->path, (unsigned long)n->start_mark.line + 1);
	va_start(ap, fmt);
	vfprintf(L->errs, fmt, ap);
	va_end(ap);
	fputc('\n', L->errs);
	L->problems++;
}

static const char *ctl__scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The keys a section knows, for the sentence about a key it does not. */
static void ctl__known(const char *section, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < CTL__NKEYS && n < cap; k++) {
		if (section ? strcmp(ctl__keys[k].section, section) != 0
			    : k > 0 && !strcmp(ctl__keys[k].section, ctl__keys[k - 1].section))
			continue;
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "",
				      section ? ctl__keys[k].key : ctl__keys[k].section);
	}
}

static void ctl__eal(struct ctl__load *L, const yaml_node_t *v)
{
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE) {
		ctl__problem(L, v, "run.eal wants a list of EAL arguments");
		return;
	}
	L->c->neal = 0;
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		const yaml_node_t *e = yaml_document_get_node(L->doc, *it);
		const char *s = ctl__scalar(e);

		if (!s) {
			ctl__problem(L, e, "run.eal: each EAL argument is one string");
			continue;
		}
		if (L->c->neal == CTL_RUN_MAX_EAL) {
			ctl__problem(L, e, "run.eal: more than %d arguments", CTL_RUN_MAX_EAL);
			return;
		}
		L->c->eal[L->c->neal++] = ctl_run_cfg_keep(L->c, s);
	}
}

static void ctl__setting(struct ctl__load *L, const char *section, const yaml_node_t *kn,
			 const yaml_node_t *v)
{
	const char *key = ctl__scalar(kn), *val;
	char err[256], known[512];
	int code;

	for (size_t k = 0; k < CTL__NKEYS; k++) {
		if (strcmp(ctl__keys[k].section, section) || strcmp(ctl__keys[k].key, key))
			continue;
		if (!ctl__keys[k].option)
			return ctl__eal(L, v);
		val = ctl__scalar(v);
		if (!val) {
			ctl__problem(L, v, "%s.%s wants a single value, not a %s", section, key,
				     v->type == YAML_MAPPING_NODE ? "mapping" : "list");
			return;
		}
		code = ctl_run_cfg_code(ctl__keys[k].option);
		if (code == 'p') {
			int n = ctl_phonecfg_load(val, L->c, L->errs);

			if (n)
				ctl__problem(L, v, "%s.%s: the phone configuration %s has %s",
					     section, key, val,
					     n < 0 ? "no text to read" : "problems (above)");
			return;
		}
		if (ctl_run_cfg_option(L->c, code, ctl_run_cfg_keep(L->c, val), err, sizeof(err)) !=
		    0)
			ctl__problem(L, v, "%s.%s %s", section, key, err);
		return;
	}
	ctl__known(section, known, sizeof(known));
	ctl__problem(L, kn, "unknown key '%s' in %s (it knows: %s)", key, section, known);
}

static void ctl__section(struct ctl__load *L, const yaml_node_t *kn, const yaml_node_t *v)
{
	const char *section = ctl__scalar(kn);
	char known[256];
	yaml_node_pair_t *p;
	bool exists = false;

	for (size_t k = 0; k < CTL__NKEYS && section; k++)
		exists |= !strcmp(ctl__keys[k].section, section);
	if (!exists) {
		ctl__known(NULL, known, sizeof(known));
		ctl__problem(L, kn, "unknown section '%s' (sections: %s)", section ? section : "?",
			     known);
		return;
	}
	if (v->type != YAML_MAPPING_NODE) {
		ctl__problem(L, v, "section %s wants keys under it (key: value)", section);
		return;
	}
	for (p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(L->doc, p->key);

		if (!ctl__scalar(k)) {
			ctl__problem(L, k, "in %s: a key must be a plain name", section);
			continue;
		}
		ctl__setting(L, section, k, yaml_document_get_node(L->doc, p->value));
	}
}

/* Walk a loaded document into L's settings. */
static void ctl__walk(struct ctl__load *L)
{
	yaml_node_t *root = yaml_document_get_root_node(L->doc);
	yaml_node_pair_t *p;

	if (!root) {
		fprintf(L->errs, "%s: empty: no settings (see docs/config.md)\n", L->path);
		L->problems++;
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		ctl__problem(L, root, "the file wants sections (lines:, servers:, failover: ...)");
		return;
	}
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
		ctl__section(L, yaml_document_get_node(L->doc, p->key),
			     yaml_document_get_node(L->doc, p->value));
}

/* Load with parser set up on some input; -1 when it is not YAML. */
static int ctl__load(const char *path, yaml_parser_t *parser, struct ctl_run_cfg *c, FILE *errs)
{
	yaml_document_t doc;
	struct ctl__load L = {.path = path, .doc = &doc, .c = c, .errs = errs};

	if (!yaml_parser_load(parser, &doc)) {
		fprintf(errs, "%s:%lu: not YAML: %s\n", path,
			(unsigned long)parser->problem_mark.line + 1,
			parser->problem ? parser->problem : "unreadable");
		return -1;
	}
	ctl__walk(&L);
	yaml_document_delete(&doc);
	return L.problems;
}

int ctl_config_load_text(const char *path, const char *text, size_t len, struct ctl_run_cfg *c,
			 FILE *errs)
{
	yaml_parser_t parser;
	int rc;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	rc = ctl__load(path, &parser, c, errs);
	yaml_parser_delete(&parser);
	return rc;
}

int ctl_config_load(const char *path, struct ctl_run_cfg *c, FILE *errs)
{
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	rc = ctl__load(path, &parser, c, errs);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}
