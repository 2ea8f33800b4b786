/*
 * Counters of one worker: written only by that worker's lcore, read (racily, as DPDK
 * reads port stats) by control for progress lines and the run report.
 */
#ifndef DP_STATS_H
#define DP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "dataplane/msg.h"
#include "dataplane/net.h"

#define DP_LAT_BUCKET_US 100	/* registration latency histogram: 100 us buckets */
#define DP_CALL_LAT_BUCKETS 500 /* 10 ms each: call set-up up to 5 s */
#define DP_LAT_BUCKETS 2000	/* up to 200 ms; slower ones land in the last bucket */

enum dp_sip_drop {
	DP_SIP_DROP_PARSE = 0,	  /* not a SIP message we can parse */
	DP_SIP_DROP_UNKNOWN_LINE, /* response for an address:port that is no line of ours */
	DP_SIP_DROP_STALE,	  /* response to no transaction of the line (late retransmission) */
	DP_SIP_DROP_NO_BUFFER,	  /* mbuf pool empty */
	DP_SIP_DROP_NOT_FROM_SERVER, /* response from a source that is not the line's server */
	DP_SIP_DROP__COUNT
};

enum dp_method_stat {
	DP_M_REGISTER = 0,
	DP_M_OPTIONS,
	DP_M_NOTIFY,
	DP_M_INVITE,
	DP_M_BYE,
	DP_M_ACK,
	DP_M_SUBSCRIBE,
	DP_M_OTHER,
	DP_M__COUNT
};

struct dp_stats {
	uint64_t rx_frames;
	uint64_t tx_frames;
	uint64_t tx_full; /* frames the port would not take */
	uint64_t arp_replies;
	uint64_t arp_requests;
	uint64_t icmp_echo_replies;
	uint64_t icmp_unreachable; /* our datagrams the network refused */
	uint64_t drops[DP_DROP__COUNT];
	uint64_t sip_drops[DP_SIP_DROP__COUNT];
	uint64_t tx_requests[DP_M__COUNT];
	uint64_t tx_register_auth; /* REGISTERs carrying credentials */
	uint64_t tx_unregister;
	uint64_t tx_retransmissions;
	uint64_t rx_requests[DP_M__COUNT];
	uint64_t tx_responses[7]; /* by class: [2] is 2xx ... */
	uint64_t rx_responses[7]; /* by class */
	uint64_t rx_401;
	uint64_t rx_407;
	uint64_t rx_423;
	uint64_t rx_503;
	uint64_t reg_ok; /* 200 to a REGISTER with expiry > 0 */
	uint64_t unreg_ok;
	uint64_t tx_keepalive_stun;
	uint64_t tx_keepalive_crlf;
	uint64_t rx_keepalive_ok;   /* STUN answers to our keep-alives */
	uint64_t flow_failures;	    /* keep-alives that went unanswered */
	uint64_t rx_keepalive_crlf; /* CRLF keep-alives received */
	uint64_t rx_stun_other;	    /* STUN that answers nothing of ours */
	uint64_t reg_fail[DP_FAIL__COUNT];
	uint64_t events_lost;		       /* event ring full */
	uint64_t bad_commands;		       /* commands naming a target that is not configured */
	uint64_t tx_by_server[DP_MAX_SERVERS]; /* requests sent to each server, first sends */
	uint64_t reg_ok_by_server[DP_MAX_SERVERS];
	uint64_t tx_probes; /* OPTIONS probes of servers, first sends */
	uint64_t probes_answered;
	uint64_t registered;	/* lines registered now (gauge) */
	uint64_t in_flight;	/* lines with a transaction out (gauge) */
	uint64_t unreg_pending; /* lines the un-register ramp has not reached yet (gauge) */
	uint64_t lat_hist[DP_LAT_BUCKETS];
	uint64_t idle_sleeps;
	uint64_t dispatched; /* frames received for another worker's lines, handed to it */
	/* TSC cycles of the worker's loop: all of them since it started, and those of
	 * passes that found work (frames in or out, timers, commands; not a pass that only
	 * found the port's ring full); busy / run is how loaded the worker's core is */
	uint64_t run_cycles;
	uint64_t busy_cycles;
	/* calls the lines placed (dataplane/call.h) */
	uint64_t calls_attempted;	       /* first INVITEs */
	uint64_t calls_answered;	       /* 2xx to the INVITE */
	uint64_t calls_completed;	       /* our BYE answered 2xx */
	uint64_t calls_failed[DP_FAIL__COUNT]; /* INVITE: timer B, 4xx, 5xx, 6xx, credentials */
	uint64_t calls_no_answer;	       /* ringing past the set-up limit: cancelled */
	uint64_t calls_cancelled;	       /* CANCELs sent (no answer, or the run ended) */
	uint64_t calls_bye_failed;	       /* our BYE timed out or was refused */
	uint64_t calls_remote_bye;	       /* the other side hung up */
	uint64_t calls_not_placed; /* a call was due but no line was free and registered */
	uint64_t calls_stray_2xx;  /* 2xx no call kept (a fork's, a late one): ACK and BYE */
	uint64_t calls_too_big;	   /* a request of a call did not fit a datagram: not sent */
	uint64_t calls_active;	   /* gauge */
	uint64_t calls_by_server[DP_MAX_SERVERS];      /* first INVITEs per next hop */
	uint64_t call_setup_hist[DP_CALL_LAT_BUCKETS]; /* first INVITE to 2xx */
	/* TCP/TLS lines (control/stream.h): their connections */
	uint64_t conn_opened;  /* connections made */
	uint64_t conn_failed;  /* refused, unreachable, or the TLS handshake failed */
	uint64_t conn_lost;    /* reset or closed once up */
	uint64_t tls_failures; /* handshakes and records OpenSSL refused */
} __attribute__((aligned(64)));

/* to += from, every counter (a struct of uint64_t only). */
static inline void dp_stats_add(struct dp_stats *to, const struct dp_stats *from)
{
	uint64_t *t = (uint64_t *)to;
	const uint64_t *f = (const uint64_t *)from;

	for (size_t i = 0; i < sizeof(*to) / sizeof(uint64_t); i++)
		t[i] += f[i];
}

#endif
