/*
 * The settings of `sipedge run`: defaults, one setter per option (by getopt code, so the
 * command line and the configuration file share every check and every sentence), and
 * the cross-checks once all are in.
 */
#ifndef CTL_RUN_CFG_H
#define CTL_RUN_CFG_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control/csvlines.h"
#include "control/dns_resolver.h"
#include "control/failover.h"
#include "control/linegen.h"
#include "dataplane/dataplane.h"

#define CTL_RUN_MAX_EAL 48

struct ctl_run_cfg {
	struct dp_config dp;
	struct ctl_fo_config fo_cfg;
	struct ctl_linegen users;
	const char *user_pattern; /* NULL: 1{id:05} */
	const char *csv_path;	  /* lines from a SIPp-style CSV file instead */
	struct ctl_csv csv;	  /* loaded by finish; free it once the dataplane has its HA1s */
	bool lines_set;
	int subscribe; /* -1: when a proxy P is configured; 0 off; 1 on */
	int outbound;  /* -1: not said (mode decides); 0 off; 1 on: mode 4 */
	/* roles given as host names (empty: an address), located when the run starts */
	char dns_host[CTL_ROLE__COUNT][256];
	uint16_t dns_port[CTL_ROLE__COUNT]; /* 0: none given (NAPTR, SRV) */
	struct ctl_dns_resolver_config dns;
	bool keepalive_set; /* else mode 4 keeps its flows alive with STUN */
	/* per role: enum sip_tpl_transport of its ;transport=; the lines' one transport
	 * (stream: TCP or TLS through the kernel, control/stream.h; UDP: the dataplane) */
	int transport[CTL_ROLE__COUNT];
	int stream;
	const char *tls_ca;
	uint32_t stream_source; /* host order, 0: the kernel's choice */
	/* calls the lines place (dp.call_to): calls per 1000 s over all lines, hold time */
	uint32_t call_rate_milli;
	uint32_t call_hold_ms;
	uint32_t user_base;
	char domain_buf[DP_MAX_AORS][256];
	const char *summary_json;
	const char *report_dir; /* summary.md and summary.json go here */
	uint32_t duration_s;
	bool quiet;
	/* EAL arguments from a configuration file, used when the command line gives none */
	char *eal[CTL_RUN_MAX_EAL];
	int neal;
	/* strings of configuration files that settings point into, freed by release */
	char **kept;
	size_t nkept;
};

extern const char ctl_run_cfg_usage[];
/* getopt_long's table; every entry but "help" and "config" is a setting. */
extern const struct option ctl_run_cfg_opts[];

void ctl_run_cfg_defaults(struct ctl_run_cfg *c);
/* The getopt code of long option name, or -1. */
int ctl_run_cfg_code(const char *name);
/*
 * Set option code to arg (NULL for options without a value). 0, or -EINVAL with err
 * holding what is wrong without the option's name ("wants 1, 2 or 3, not '7'"): the
 * caller says where the value came from. arg must outlive c.
 */
int ctl_run_cfg_option(struct ctl_run_cfg *c, int code, const char *arg, char *err, size_t errlen);
/* A copy of s that lives until ctl_run_cfg_release(); NULL when out of memory. */
char *ctl_run_cfg_keep(struct ctl_run_cfg *c, const char *s);
void ctl_run_cfg_release(struct ctl_run_cfg *c);
/* Once every option is in: line names, AOR domains, what the mode needs, first target. */
int ctl_run_cfg_finish(struct ctl_run_cfg *c, char *err, size_t errlen);

#endif
