/*
 * Calls the lines place (DESIGN.md §4: INVITE follows the active proxy, as REGISTER and
 * SUBSCRIBE do): at a rate the worker's share of --calls, a registered line without a
 * call sends an INVITE with an SDP offer to the Request-URI --call-to, through the next
 * hop control names (the proxy the line's subscriptions use: P or BP, or an outbound
 * proxy), answers a challenge (401/407) once, ACKs the final answer, holds an answered
 * call for --call-hold and ends it with a BYE along the dialog's route set (RFC 3261
 * §12.1.2: the 2xx's Record-Route reversed, its Contact as remote target).
 *
 * A call is one of a fixed number of slots; its timers run on a wheel of their own. Calls
 * are rare next to registrations and keep-alives, so their requests are formatted here
 * rather than from per-line templates. What carries them is the caller's (struct
 * dp_call_io): a DPDK worker's port over UDP, or control's connections over TCP and TLS
 * (then there are no retransmissions: timers B and F alone, RFC 3261 §17.1.1.2).
 */
#ifndef DP_CALL_H
#define DP_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "dataplane/dataplane.h"
#include "dataplane/wheel.h"
#include "sip/parser.h"

struct dp_lines;

#define DP_CALL_TAG_MAX 64
#define DP_CALL_URI_MAX DP_CALL_TO_MAX
#define DP_CALL_ROUTE_MAX 512
#define DP_CALL_AUTH_MAX 640

enum dp_call_state {
	DP_CALL_FREE = 0,
	DP_CALL_CALLING,    /* INVITE out, retransmitted on timer A until timer B */
	DP_CALL_PROCEEDING, /* a provisional answer came: wait for the final one */
	DP_CALL_CANCELLING, /* CANCEL out (no answer in time, or the run ends): wait for 487 */
	DP_CALL_UP,	    /* 2xx ACKed: held until the hold time runs out */
	DP_CALL_BYE,	    /* BYE out, retransmitted on timer E until timer F */
};

struct dp_call {
	uint32_t line;	       /* index into the worker's lines */
	uint32_t seq;	       /* the worker's call number: Call-ID, tag and branches carry it */
	uint8_t state;	       /* enum dp_call_state */
	uint8_t cseq;	       /* of the INVITE: 1, 2 after a challenge */
	uint8_t auth_sent;     /* the INVITE was challenged and answered */
	uint8_t bye_auth_sent; /* the BYE was challenged and answered */
	uint8_t sent;	       /* the request of the current state went out at least once */
	uint8_t held;	       /* the io holds that request for retransmission */
	uint8_t to_tag_len;
	uint16_t rtarget_len;
	uint16_t route_len;
	uint16_t auth_len;
	uint32_t target; /* DP_TARGET() the INVITE went to */
	uint32_t interval_ms;
	uint64_t t_invite_us; /* first INVITE sent: call set-up time starts here */
	uint64_t deadline_us;
	char to_tag[DP_CALL_TAG_MAX];
	char rtarget[DP_CALL_URI_MAX]; /* the 2xx's Contact: the BYE's Request-URI */
	char route[DP_CALL_ROUTE_MAX]; /* the 2xx's Record-Route reversed: the BYE's Route */
	char auth[DP_CALL_AUTH_MAX];   /* the INVITE's credentials line: its ACK repeats it */
};

#define DP_CALL_NONE UINT32_MAX /* a request of no call: a reply to what just came in */

/* What carries the calls' requests. */
struct dp_call_io {
	void *ctx;
	/*
	 * n octets of text from line i to ip:port for call k (DP_CALL_NONE: an ACK or BYE no
	 * call keeps, to where the response it answers came from); kept for resend when keep
	 * (replacing what k held). False when nothing went out (the io counts why).
	 */
	bool (*send)(void *ctx, uint32_t k, uint32_t i, uint32_t ip, uint16_t port,
		     const char *text, size_t n, bool keep);
	void (*resend)(void *ctx, uint32_t k);	/* what k holds, again */
	void (*release)(void *ctx, uint32_t k); /* k's transaction is over: drop what it holds */
	void (*end)(void *ctx, uint32_t k);	/* call k is over (after release) */
	void (*event)(void *ctx, const struct dp_msg *m);
};

struct dp_calls {
	bool on;
	bool reliable;	    /* a connection carries them: no timer A or E */
	int transport;	    /* SIP_TPL_UDP, _TCP or _TLS (sip/builder.h): Via and Contact */
	uint16_t worker;    /* named in Call-IDs and tags */
	struct dp_lines *L; /* the lines that call: their addresses, users, HA1s, counters */
	struct dp_call_io io;
	bool stopping; /* the run ends: answered calls end at once, ringing ones are cancelled */
	uint32_t max;  /* slots */
	struct dp_call *call;
	uint32_t *free; /* stack of free slot numbers */
	uint32_t nfree;
	struct dp_wheel wheel;
	uint32_t *wheel_slots;
	struct dp_wheel_link *links;
	uint16_t *slot_of; /* per line of the worker: its call's slot + 1, 0: none */
	uint64_t step_us;  /* one call placed every step_us (0: none) */
	uint64_t due_us;
	uint32_t hold_ms;
	uint32_t target; /* DP_TARGET(): proxy, AOR, next hop of new calls */
	uint32_t cursor; /* next line to consider for a call */
	uint32_t seq;
	char to[DP_CALL_URI_MAX]; /* Request-URI and To of every INVITE */
};

/*
 * Slots and timers for up to max calls at once by the lines of L (their counters are L's
 * stats), carried by io; 0, or -EINVAL (a Request-URI too long), -ENOMEM. The caller sets
 * reliable, transport and worker after.
 */
int dp_calls_init(struct dp_calls *c, uint32_t max, struct dp_lines *L, const char *to,
		  const struct dp_call_io *io, uint64_t now_ms);
void dp_calls_free(struct dp_calls *c);
/* Control's DP_CMD_CALLS: rate in calls per 1000 s for these lines, hold ms, target. */
void dp_calls_set(struct dp_calls *c, uint32_t rate_milli, uint32_t hold_ms, uint32_t target,
		  uint64_t now_us);
/* Place due calls, run due timers; returns the work done. */
unsigned dp_calls_poll(struct dp_calls *c, uint64_t now_us);
/*
 * A response to an INVITE, CANCEL or BYE of ours at line i (by its Via branch), from
 * ip:port; false when it answers no call of ours (then it is the caller's to count). A
 * final answer to an INVITE is ACKed even when its call is gone (a retransmission, a 2xx
 * of a fork or after we gave up: that dialog is ACKed and ended with BYE at once).
 */
bool dp_calls_response(struct dp_calls *c, uint32_t i, const struct sip_msg *m, uint32_t ip,
		       uint16_t port, uint64_t now_us);
/* A BYE to line i: when it ends one of our calls (its Call-ID), the call is over. */
void dp_calls_remote_bye(struct dp_calls *c, uint32_t i, const struct sip_msg *m);
/* ICMP: line i's datagram to ip:port could not be delivered; a call there fails now. */
void dp_calls_unreachable(struct dp_calls *c, uint32_t i, uint32_t ip, uint16_t port,
			  uint64_t now_us);
/* Call k's connection ended (refused, reset, closed, a failed TLS handshake): a
 * transaction out fails as a transport error; a call up stays up (its BYE goes over a new
 * connection). */
void dp_calls_transport_lost(struct dp_calls *c, uint32_t k, uint64_t now_us);
/* The run ends: no new calls; calls up are ended with a BYE now, ringing ones cancelled,
 * calls being set up cancelled at their first provisional answer or ended at their 2xx. */
void dp_calls_stop(struct dp_calls *c, uint64_t now_us);
/* Drops every held request (the lines are going). */
void dp_calls_release(struct dp_calls *c);

#endif
