/*
 * The dataplane as control sees it: create it from a config (EAL, port, lines), start
 * its workers, talk to them only in struct dp_msg words, read their counters, destroy
 * it. No DPDK type appears here, so control/ includes this and dataplane/msg.h only.
 */
#ifndef DP_DATAPLANE_H
#define DP_DATAPLANE_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/msg.h"
#include "dataplane/stats.h"

struct dp;

/* Every line's +sip.instance is "<urn:uuid:" DP_INSTANCE_PREFIX "<line id, 12 hex>>". */
#define DP_INSTANCE_PREFIX "5e1bed9e-0000-4000-8000-"

#define DP_CALL_TO_MAX 128 /* a call's Request-URI, NUL included */

/* Writes line id's user name (NUL-terminated) into buf; returns 0 or -ENOSPC. */
typedef int (*dp_line_user_fn)(void *ctx, uint32_t id, char *buf, size_t cap);

struct dp_server_cfg {
	uint32_t ip; /* host order */
	uint16_t port;
	const char *host; /* Request-URI host of a REGISTER to it; NULL: its address */
};

struct dp_config {
	int eal_argc; /* arguments for rte_eal_init(), argv[0] included */
	char **eal_argv;
	uint32_t lines;
	/* worker lcores, each a shard of consecutive line ids; 0: every worker lcore the
	 * EAL gives. The port needs a tx queue per worker (af_packet: qpairs=N); frames that
	 * arrive at a worker not owning their line are handed over on a ring. */
	unsigned workers;
	uint32_t first_ip; /* host order; lines take first_port..+nports, then the next IP */
	uint16_t first_port;
	uint16_t nports;
	/* servers lines may be sent to (control's roles); port 0: not configured */
	struct dp_server_cfg server[DP_MAX_SERVERS];
	/* AOR domains, also the realm of each HA1; [0] required, NULL: not configured */
	const char *aor_domain[DP_MAX_AORS];
	uint32_t target; /* every line's first target, DP_TARGET() */
	/* per flow, each line's first next hop (a server slot), overriding the target's:
	 * lines spread over a role's DNS targets; NULL: the target's; read at create only */
	const uint8_t *line_via[DP_FLOW__COUNT];
	bool managed; /* control runs failover: failed lines wait for its command */
	/* subscriptions (RFC 6665): each line may also keep one SUBSCRIBE to its own AOR,
	 * started and moved by control (flow DP_FLOW_SUBSCRIBE of the ring messages) */
	bool subscribe;
	uint32_t sub_target;   /* DP_TARGET(): the proxy, the AOR, the next hop */
	uint32_t sub_expires;  /* asked for in each SUBSCRIBE */
	const char *sub_event; /* event package; NULL: message-summary (RFC 3842) */
	/* SIP outbound (RFC 5626 §4.2): REGISTERs carry ;reg-id=1 and the line's
	 * +sip.instance ("urn:uuid:" DP_INSTANCE_PREFIX and the line id in 12 hex digits)
	 * with Supported: outbound, path; SUBSCRIBE Contacts carry ;ob. With reg2 on, each
	 * line also keeps a second registration (flow DP_FLOW_REGISTER2, reg-id 2), started
	 * with the first at reg2_target and moved by control only. */
	bool outbound;
	bool reg2;
	uint32_t reg2_target;
	uint32_t next_hop; /* 0: the first line target's server is on the link */
	dp_line_user_fn line_user;
	void *line_user_ctx;
	/* line id's own password, or NULL for the shared one; may be NULL itself */
	const char *(*line_password)(void *ctx, uint32_t id);
	const char *password; /* turned into HA1s at load and not kept */
	const char *user_agent;
	uint32_t expires;
	uint8_t refresh_min_pct;
	uint8_t refresh_max_pct;
	uint32_t t1_ms;
	uint32_t t2_ms;
	uint32_t tf_ms;
	uint32_t retry_ms;
	uint32_t rate;	       /* lines started (and un-registered) per second; 0: no cap */
	uint64_t seed;	       /* for branches, tags, jitter; 0 picks one */
	const char *pcap_path; /* write every frame in and out here (libpcap), or NULL */
	bool invite_answer;    /* INVITE gets 180 then 200 with SDP; else 486 Busy Here */
	/* calls the lines place (dataplane/call.h): INVITEs to this Request-URI (NULL: no
	 * calls), up to call_max at once per worker; rate, hold time and next hop come from
	 * control (DP_CMD_CALLS) */
	const char *call_to;
	uint32_t call_max;
	uint8_t keepalive;	 /* enum dp_keepalive of dataplane/line.h: 0 none, 1 STUN, 2 CRLF */
	uint32_t ka_interval_ms; /* keep-alive interval (ms) when the server sends no Flow-Timer */
	uint32_t ka_timeout_ms;	 /* an unanswered STUN keep-alive fails the flow after this */
};

/*
 * For a program that embeds the agent (bench/ringagent.c runs its peer on another lcore
 * of the same process). dp_eal_up_hook: called by dp_create once the EAL is up, before
 * the workers' lcores and the port are taken, e.g. to create ports and launch lcores
 * (the workers take only lcores left free); non-zero fails dp_create. dp_eal_down_hook:
 * called by dp_destroy once the workers have stopped (or never ran), before the EAL is
 * cleaned up: it stops and waits for what the first launched. NULL: none.
 */
extern int (*dp_eal_up_hook)(void);
extern void (*dp_eal_down_hook)(void);

/* 0, or a negative errno with a sentence in err. */
int dp_create(const struct dp_config *cfg, struct dp **out, char *err, size_t errlen);
int dp_start(struct dp *d);
unsigned dp_workers(const struct dp *d);
/* The worker owning line id (commands about a line go there). */
unsigned dp_line_worker(const struct dp *d, uint32_t line);
/* Worker w's shard: lines first..first+n-1; -EINVAL for no such worker. */
int dp_worker_lines(const struct dp *d, unsigned w, uint32_t *first, uint32_t *n);
/* Queue a command for worker w; -ENOBUFS when its ring is full. */
int dp_command(struct dp *d, unsigned w, const struct dp_msg *cmd);
/* Take up to max events from every worker. */
unsigned dp_events(struct dp *d, struct dp_msg *out, unsigned max);
/* Sum of every worker's counters: its registrations, or its subscriptions. */
void dp_stats_sum(const struct dp *d, struct dp_stats *out);
void dp_sub_stats_sum(const struct dp *d, struct dp_stats *out);
/* Every worker's counters of one flow (enum dp_flow). */
void dp_flow_stats_sum(const struct dp *d, int flow, struct dp_stats *out);
/* Worker w's own counters of one flow; 0, or -EINVAL for no such worker or flow. */
int dp_worker_stats(const struct dp *d, unsigned w, int flow, struct dp_stats *out);
/* Worker w's lcore (the DPDK core it runs on), -1 for no such worker. */
int dp_worker_lcore(const struct dp *d, unsigned w);
/* "af_packet on se-dp, 02:..." for the logs. */
const char *dp_port_desc(const struct dp *d);
/* Stops the workers (if running), closes the port, releases the EAL. Accepts NULL. */
void dp_destroy(struct dp *d);

#endif
