/*
 * The only words control and dataplane exchange: fixed-size messages on rte_rings,
 * commands down, events up (DESIGN.md §2). Plain C, no DPDK types, so control/ may
 * include it. Every message is 32 octets; a ring full of events is a counted loss, never
 * a stall of the worker.
 */
#ifndef DP_MSG_H
#define DP_MSG_H

#include <stdint.h>

/*
 * Where a line's requests go: the server whose Request-URI (and realm) the REGISTER
 * carries, the AOR domain it registers, and the server the datagram is sent to (an
 * outbound proxy, or the registrar itself). Indexes into dp_config's server and AOR
 * tables; control names them by role (P, BP, R, BR, OP, BOP).
 */
#define DP_MAX_SERVERS 32 /* control's roles first, then the addresses DNS gave them */
#define DP_MAX_AORS 2
#define DP_TARGET(reg, aor, via) ((uint32_t)(reg) | (uint32_t)(aor) << 8 | (uint32_t)(via) << 16)
#define DP_TARGET_REG(t) ((t)&0xff)
#define DP_TARGET_AOR(t) (((t) >> 8) & 0xff)
#define DP_TARGET_VIA(t) (((t) >> 16) & 0xff)
#define DP_TARGET_SET 0x80000000u /* in a command: take this target before acting */

/*
 * Each line runs up to three clients of the same shape: its registration, its
 * subscription, and with SIP outbound (RFC 5626) a second registration: the same
 * +sip.instance through the other outbound proxy (reg-id 2; the first flow is reg-id 1).
 */
enum dp_flow {
	DP_FLOW_REGISTER = 0,
	DP_FLOW_SUBSCRIBE = 1, /* RFC 6665 SUBSCRIBE (message-summary by default) */
	DP_FLOW_REGISTER2 = 2, /* RFC 5626 flow reg-id 2 */
	DP_FLOW__COUNT
};

enum dp_msg_type {
	/* commands, control -> worker */
	DP_CMD_REGISTER = 1,   /* line: (re)start registering, after value ms; target */
	DP_CMD_UNREGISTER,     /* line: REGISTER with expires 0, then stay idle */
	DP_CMD_UNREGISTER_ALL, /* every line of the worker, under the start-up rate cap */
	DP_CMD_STOP,	       /* leave the main loop */
	DP_CMD_PROBE,	       /* OPTIONS to server DP_TARGET_VIA(target); give up after value ms */
	DP_CMD_SERVER,	       /* server slot DP_TARGET_VIA(target) is now value (IPv4, host
				* order), port value2: a DNS answer changed */
	DP_CMD_KEEPALIVE,      /* flow's keep-alives: reason = enum dp_keepalive, value =
				* interval ms, value2 = STUN answer timeout ms; from each line's
				* next registration or keep-alive on */
	DP_CMD_CALLS,	       /* calls placed by the worker's lines: value = calls per 1000 s
				* (0: no new calls), value2 = hold ms, target = proxy, AOR and
				* next hop of new INVITEs (control keeps it on the active proxy) */
	/* events, worker -> control */
	DP_EV_REGISTERED = 64, /* line, value: granted expiry s, target */
	DP_EV_UNREGISTERED,    /* line, target */
	DP_EV_FAILED,	   /* line, reason, value: status code if any, value2: retry s, target */
	DP_EV_STOPPED,	   /* worker left its loop */
	DP_EV_FLOW_FAILED, /* line: its keep-alive went unanswered (RFC 5626 §4.4) */
	DP_EV_PROBE,	   /* target's via: reason NONE and value = status, or why it failed */
	DP_EV_CALL,	   /* line's INVITE (or BYE) to target ended: reason NONE and value =
			    * final status when the next hop answered, else why it failed */
};

enum dp_fail_reason {
	DP_FAIL_NONE = 0,
	DP_FAIL_TIMEOUT,   /* timer F fired (RFC 3261 §17.1.2.2) */
	DP_FAIL_TRANSPORT, /* ICMP unreachable, no route/MAC */
	DP_FAIL_AUTH,	   /* credentials refused (401/407 again without stale) */
	DP_FAIL_4XX,
	DP_FAIL_5XX, /* 503 carries Retry-After in value2 */
	DP_FAIL_6XX,
	DP_FAIL_TERMINATED, /* the notifier ended the subscription (RFC 6665 §4.1.3) */
	DP_FAIL__COUNT
};

struct dp_msg {
	uint16_t type;	 /* enum dp_msg_type */
	uint16_t reason; /* enum dp_fail_reason */
	uint32_t line;
	uint32_t value;
	uint32_t value2;
	uint32_t target; /* DP_TARGET(), | DP_TARGET_SET in commands that move a line */
	uint16_t worker;
	uint16_t flow; /* enum dp_flow: the line's registration, or its subscription */
	uint64_t t_us; /* worker clock when it happened */
};

_Static_assert(sizeof(struct dp_msg) == 32, "ring messages are 32 octets");

const char *dp_fail_name(enum dp_fail_reason r);

#endif
