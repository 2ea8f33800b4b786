/*
 * A worker's lines and the registration client each one runs (RFC 3261 §10.2, UDP
 * non-INVITE client transactions §17.1.2): REGISTER, digest answer to 401/407, refresh
 * before expiry, 423 and 503 handling, un-REGISTER. Pure logic: sending and events go
 * through struct dp_line_io, time comes in as an argument, so tests drive it with a
 * fake clock and no DPDK.
 */
#ifndef DP_LINE_H
#define DP_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/msg.h"
#include "dataplane/stats.h"
#include "dataplane/wheel.h"
#include "sip/builder.h"
#include "sip/digest.h"
#include "sip/parser.h"
#include "sip/stun.h"

enum dp_line_state {
	DP_LINE_IDLE = 0,      /* not started, or un-registered */
	DP_LINE_REGISTERING,   /* a REGISTER transaction is out */
	DP_LINE_REGISTERED,    /* waiting to refresh */
	DP_LINE_RETRY_WAIT,    /* failed, waiting to try again */
	DP_LINE_UNREGISTERING, /* REGISTER with expiry 0 is out */
};

/* Hot state of one line: what every packet and timer of the line touches. */
struct dp_line {
	uint8_t state;
	uint8_t retx;		 /* retransmissions of the current request */
	uint8_t auth_sent : 1;	 /* credentials sent for the current registration attempt */
	uint8_t unreg_after : 1; /* un-REGISTER once the current transaction ends */
	uint8_t unsent : 1;	 /* the request could not be sent (no buffer, no MAC): build anew */
	uint8_t bound : 1;	 /* a registrar holds our binding: counted in stats.registered */
	/* the line's target (dataplane/msg.h): Request-URI server, AOR, where datagrams go */
	uint8_t reg;
	uint8_t aor;
	uint8_t via;
	uint16_t ka_base_s;   /* the server's Flow-Timer, 0: use the configured interval */
	uint32_t cseq;	      /* with the flow and line, names the request's branch */
	uint32_t req_expires; /* asked for; a 423 raises it */
	uint32_t granted;
	uint32_t interval_ms; /* timer E's current value */
	/* low 32 bits of the microsecond clock, taken modulo 2^32 (71 minutes): timer F is
	 * at most 10 minutes (run_cfg.c), a registration's latency far less */
	uint32_t tx_first_us; /* first send of the current request: timer F base */
	uint32_t attempt_us;  /* start of this registration, for its latency */
	/* while registered: the one wheel timer is whichever of these comes first */
	uint64_t refresh_due_us;
	uint64_t ka_next_us; /* next keep-alive, 0: none */
	uint64_t ka_sent_us; /* STUN keep-alive waiting for its answer, 0: none */
	uint32_t ka_txid;    /* counter part of that STUN transaction id */
};
/* One cache line, aligned (dp_lines_alloc): a keep-alive's timer and its answer each
 * touch the line once; at 80 octets three lines in four straddled two. */
_Static_assert(sizeof(struct dp_line) == 64, "struct dp_line is one cache line");

enum dp_keepalive {
	DP_KA_NONE = 0,
	DP_KA_STUN, /* RFC 5626 §4.4.2: Binding request, a missed answer fails the flow */
	DP_KA_CRLF, /* double CRLF, what many phones send over UDP; nothing to answer */
	DP_KA_PING, /* RFC 5626 §4.4.1 on TCP/TLS: double CRLF, a missed CRLF pong fails the flow */
};

/* What the worker does for the line logic: send, hold for retransmission, report. */
struct dp_line_io {
	void *ctx;
	/* Room for a datagram's payload, or NULL (no buffer, no next-hop MAC yet). */
	char *(*tx_alloc)(void *ctx, size_t *cap);
	/* Send the payload just built for line id; keep: hold it for retransmission. sum:
	 * the payload's 16-bit big-endian words added up (dp_net_sum), or DP_SUM_NONE */
	void (*tx_send)(void *ctx, uint32_t id, size_t len, bool keep, uint32_t sum);
	/* Give back the room from tx_alloc unsent (the text did not fit). */
	void (*tx_abort)(void *ctx);
	void (*tx_resend)(void *ctx, uint32_t id);
	void (*tx_release)(void *ctx, uint32_t id);
	void (*event)(void *ctx, const struct dp_msg *m);
};

#define DP_SUM_NONE UINT32_MAX /* tx_send: the sender adds the payload up itself */
#define DP_HOSTPORT_MAX 21     /* "255.255.255.255:65535" */
#define DP_TO_TAG_MAX 47       /* longer remote tags are not kept: the next SUBSCRIBE starts anew */
/* A subscription dialog's remote target and route set after DP_DLG_HDR octets (their two
 * lengths and the dialog's generation, which its Call-ID carries); a dialog whose pair
 * does not fit is not kept (the next SUBSCRIBE starts a new one). Kamailio's record-route
 * with its ftag and a notifier's Contact take about 90. */
#define DP_DLG_MAX 192
#define DP_DLG_HDR 3

struct dp_server_addr {
	uint32_t ip;
	uint16_t port;
};

struct dp_line_cfg {
	uint32_t t1_ms; /* RFC 3261 timers: T1 500, T2 4000, F = 64*T1 */
	uint32_t t2_ms;
	uint32_t tf_ms;
	uint32_t expires;	 /* asked for in each REGISTER */
	uint8_t refresh_min_pct; /* refresh at a random point in [min, max] % of the */
	uint8_t refresh_max_pct; /* granted expiry, so refreshes never bunch up */
	uint32_t retry_ms;	 /* after a failure without Retry-After */
	/* managed: control runs failover; a failed line reports and waits for its command
	 * instead of retrying on its own */
	bool managed;
	struct dp_server_addr server[DP_MAX_SERVERS]; /* host order; port 0: not configured */
	struct sip_str ruri[DP_MAX_SERVERS];	      /* Request-URI of a REGISTER to that server */
	struct sip_str aor_domain[DP_MAX_AORS];	      /* a SUBSCRIBE's Request-URI is user@domain */
	uint8_t keepalive;			      /* enum dp_keepalive */
	uint32_t ka_interval_ms; /* sent at 80-100 % of this, or of the server's Flow-Timer */
	uint32_t ka_timeout_ms;	 /* a STUN keep-alive unanswered this long fails the flow */
	/* TCP/TLS: no retransmission, only timer F (RFC 3261 §17.1.2.2) */
	bool reliable;
};

struct dp_lines {
	struct dp_line *line;
	uint32_t n;
	uint32_t first_id; /* global id of line[0] */
	uint32_t first_ip; /* addressing: id -> ip, port (see dp_lines_addr) */
	uint16_t first_port;
	uint16_t nports;
	/* one REGISTER template per (server, AOR) for every line; user, host:port, tag and
	 * Call-ID are patched in per build (sip_build_register_vars), so a line costs no
	 * template memory */
	const struct sip_tpl *tpl[DP_MAX_SERVERS][DP_MAX_AORS];
	uint64_t id_seed; /* mixed into tags and Call-IDs: stable within a run, new each run */
	/* HA1 per AOR: the AOR's domain is the realm (RFC 3261 §22.1) */
	const char (*ha1_md5[DP_MAX_AORS])[32];
	const char (*ha1_sha256[DP_MAX_AORS])[64];
	const char (*auth_user)[32]; /* NUL-padded */
	struct dp_line_cfg cfg;
	struct sip_digest_ctx dctx;
	/* per server: every line sends the same method and Request-URI to a server */
	struct sip_digest_ha2 ha2[DP_MAX_SERVERS];
	struct dp_wheel wheel;
	uint64_t rng;
	struct dp_stats *stats;
	struct dp_line_io io;
	uint16_t worker;
	uint8_t flow; /* enum dp_flow: REGISTER or SUBSCRIBE, same client (dp_lines_set_flow) */
	/* this flow's STUN keep-alives: transaction id 's' 'e' flow 0, global line id, count */
	struct sip_stun_ka ka_tpl;
	/* SUBSCRIBE flow: the dialog's remote tag per line ([0] its length, 0: none), so a
	 * refresh or an un-SUBSCRIBE is in the dialog (RFC 6665 §4.1.2.1); NULL otherwise */
	char (*to_tag)[DP_TO_TAG_MAX + 1];
	/* SUBSCRIBE flow: the dialog's remote target ([0] its length) and route set ([1] its
	 * length, as one Route value), from the 2xx (RFC 3261 §12.1.2), so in-dialog
	 * requests are addressed as §12.2.1.1 says; [2] counts the line's dialogs, for a
	 * Call-ID per dialog; NULL otherwise */
	uint8_t (*dlg)[DP_DLG_MAX];
	/* TCP/TLS: each line's own address as its connection has it, [0] its length (0: not
	 * known yet), for Via and Contact; NULL: the line's address of the range */
	char (*hostport)[DP_HOSTPORT_MAX + 1];
};

/* Address of line i (index into the table): lines fill the port range, then the next IP. */
static inline void dp_lines_addr(const struct dp_lines *L, uint32_t i, uint32_t *ip, uint16_t *port)
{
	uint32_t g = L->first_id + i;

	*ip = L->first_ip + g / L->nports;
	*port = (uint16_t)(L->first_port + g % L->nports);
}

/*
 * Load the lines ids[0..n) (a cache line each) and their wheel links now, ahead of
 * their timers or answers: the misses of a burst overlap instead of queueing one behind
 * the other. Loads, not rte_prefetch0: on this project's machines (AMD EPYC under KVM) a
 * burst's prefetches went largely unserved; bench_kapath at 1,000,000 lines took 214 ns
 * a keep-alive with them, 184 with loads (the same at 20,000 lines, which fit in cache).
 */
static inline void dp_lines_fetch(const struct dp_lines *L, const uint32_t *ids, size_t n)
{
	uint32_t acc = 0;

	for (size_t k = 0; k < n; k++) {
		const volatile uint8_t *l = (const volatile uint8_t *)&L->line[ids[k]];

		acc += l[0] + *(const volatile uint32_t *)&L->wheel.links[ids[k]].next;
	}
	__asm__ volatile("" : : "r"(acc));
}

/* Index of the line at ip:port, or -1 when it is none of this table's. */
static inline int64_t dp_lines_index(const struct dp_lines *L, uint32_t ip, uint16_t port)
{
	uint64_t g;

	if (ip < L->first_ip || port < L->first_port || port >= L->first_port + L->nports)
		return -1;
	g = (uint64_t)(ip - L->first_ip) * L->nports + (port - L->first_port);
	if (g < L->first_id || g >= (uint64_t)L->first_id + L->n)
		return -1;
	return (int64_t)(g - L->first_id);
}

#define DP_CHALLENGES 4 /* challenges read from one 401/407 */
/* The challenge of a 401 or 407 to answer (the strongest we hold a HA1 kind for), its
 * index in ch, or -1 when none is usable. */
int dp_line_challenge(const struct sip_msg *m, struct sip_challenge ch[DP_CHALLENGES]);

/* Begin registering line i now. */
void dp_line_start(struct dp_lines *L, uint32_t i, uint64_t now_us);
/*
 * Control's command: take target (DP_TARGET()) when set is true, then register after
 * delay_us (at once when 0). A binding held elsewhere stops counting as registered: the
 * line has left it.
 */
void dp_line_register(struct dp_lines *L, uint32_t i, bool set, uint32_t target, uint64_t delay_us,
		      uint64_t now_us);
/* Un-register line i (at once, or after its transaction in flight). */
void dp_line_unregister(struct dp_lines *L, uint32_t i, uint64_t now_us);
/* Its timer fired: retransmit, time out, refresh or retry. */
void dp_line_timer(struct dp_lines *L, uint32_t i, uint64_t now_us);
/* A STUN Binding success response arrived for line i with this transaction id. */
void dp_line_stun_answer(struct dp_lines *L, uint32_t i, const uint8_t *txid, uint64_t now_us);
/* Line i's address changed (its connection came up): its request out is built anew and
 * sent, with its credentials asked for again. */
void dp_line_resend(struct dp_lines *L, uint32_t i, uint64_t now_us);
/* The pong of line i's ping keep-alive (DP_KA_PING) arrived. */
void dp_line_pong(struct dp_lines *L, uint32_t i, uint64_t now_us);
/* Line i's connection is gone (reset, closed, refused, TLS failure): a transaction out
 * fails as a transport error; a registered flow has failed (RFC 5626 §4.4) and
 * registers again. */
void dp_line_transport_lost(struct dp_lines *L, uint32_t i, uint64_t now_us);
/* ICMP says the line's datagram to server_ip:server_port was not delivered. */
void dp_line_unreachable(struct dp_lines *L, uint32_t i, uint32_t server_ip, uint16_t server_port,
			 uint64_t now_us);
/* L is the table of flow (enum dp_flow): its requests and keep-alives say so. */
void dp_lines_set_flow(struct dp_lines *L, uint8_t flow);
/* New keep-alive settings for every line of L (enum dp_keepalive kind; STUN needs a
 * timeout); each line takes them at its next registration or keep-alive. 0 or -EINVAL. */
int dp_lines_keepalive(struct dp_lines *L, uint8_t kind, uint32_t interval_ms, uint32_t timeout_ms);
/* Whether m answers the request line i has out (its CSeq, method and Via branch). */
bool dp_line_owns(const struct dp_lines *L, uint32_t i, const struct sip_msg *m);
/* What a flow's Call-ID and From tag start with, before the line's own "{callid}" and
 * "{tag}": each flow of a line is a dialog of its own (dataplane/lineset.c). */
static inline const char *dp_flow_id_prefix(int flow)
{
	return flow == DP_FLOW_SUBSCRIBE ? "s" : flow == DP_FLOW_REGISTER2 ? "r" : "";
}

/* A response for line i arrived from src_ip:src_port. */
void dp_line_response(struct dp_lines *L, uint32_t i, const struct sip_msg *m, uint32_t src_ip,
		      uint16_t src_port, uint64_t now_us);
/*
 * A NOTIFY to line i, answered already, seen by its subscription (L a DP_FLOW_SUBSCRIBE
 * set). One in the line's dialog (Call-ID and both tags) whose Subscription-State is
 * terminated ends the subscription (RFC 6665 §4.1.3): it fails with DP_FAIL_TERMINATED,
 * to be tried again under a new Call-ID at once (reason deactivated or timeout, or none),
 * after retry-after= when it gives one, else after the retry timer. Any other NOTIFY
 * changes nothing. Whether it ended the subscription.
 */
bool dp_line_notify(struct dp_lines *L, uint32_t i, const struct sip_msg *m, uint64_t now_us);

/* The counter a request's method is counted under (SUBSCRIBE sent, the others received). */
enum dp_method_stat dp_method_stat_of(struct sip_str method);
/* What a phone answers a request to one of its lines (not ACK, which gets nothing):
 * OPTIONS, NOTIFY, BYE 200; INVITE 486 (a line that takes no calls); methods it knows
 * of but does not take 405, others 501. */
unsigned dp_phone_answer(struct sip_str method);

#endif
