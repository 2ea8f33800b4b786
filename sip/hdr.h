/*
 * Typed views of header field values (RFC 3261 §20 and the extensions a phone meets:
 * RFC 3581 rport, RFC 5626 reg-id/+sip.instance/Flow-Timer, RFC 3327 Path, RFC 3608
 * Service-Route). Each parser takes one value view from the message and fills a struct
 * of views; none allocates. Errors are -EBADMSG with the octet offset inside the value.
 */
#ifndef SIP_HDR_H
#define SIP_HDR_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/str.h"
#include "sip/uri.h"

struct sip_via {
	struct sip_str protocol;  /* "SIP" */
	struct sip_str version;	  /* "2.0" */
	struct sip_str transport; /* "UDP", "TCP", "TLS", ... */
	struct sip_str host;
	uint16_t port; /* 0 when absent */
	struct sip_str params;
	struct sip_str branch;
	struct sip_str received;
	struct sip_str maddr;
	bool has_rport;
	uint16_t rport; /* 0 when rport carries no value */
};

/* name-addr / addr-spec with header parameters: From, To, Contact, Route, Path, ... */
struct sip_naddr {
	struct sip_str display; /* as written: a quoted string keeps its quotes */
	struct sip_str uri_str;
	struct sip_uri uri;
	struct sip_str params;
	struct sip_str tag;
	bool star; /* Contact: * (RFC 3261 §10.2.2) */
};

struct sip_contact {
	struct sip_naddr addr;
	bool has_expires;
	uint32_t expires;
	uint32_t reg_id;	 /* 0 when absent (RFC 5626 §4.2: reg-id is 1..2^31-1) */
	struct sip_str instance; /* +sip.instance value without its quotes and <> */
	struct sip_str q;
};

struct sip_cseq {
	uint32_t seq;
	struct sip_str method;
};

/* Subscription-State (RFC 6665 §8.2.3): substate-value and its subexp-params. */
enum sip_sub_state {
	SIP_SUB_OTHER = 0, /* an extension-substate: a subscriber takes it as pending */
	SIP_SUB_ACTIVE,
	SIP_SUB_PENDING,
	SIP_SUB_TERMINATED,
};

struct sip_sub_state_hdr {
	enum sip_sub_state state;
	struct sip_str reason; /* event-reason-value; .len 0 when absent */
	bool has_expires, has_retry_after;
	uint32_t expires, retry_after;
};

struct sip_retry_after {
	uint32_t seconds;
	struct sip_str comment;
	bool has_duration;
	uint32_t duration;
};

/*
 * Split a comma-separated header value into its elements (RFC 3261 §7.3.1): commas inside
 * quoted strings and <...> do not split. Elements come back trimmed of LWS; empty ones
 * are skipped. Returns false when nothing is left.
 */
bool sip_list_next(struct sip_str *cursor, struct sip_str *item);

/* Trim leading and trailing LWS (SP, HT and folding CRLF). */
struct sip_str sip_trim(struct sip_str s);

/* Unsigned decimals (Max-Forwards, reg-id, ...); -ERANGE past max, -EBADMSG for non-digits. */
int sip_u32_parse(struct sip_str v, uint32_t max, uint32_t *out);

/*
 * delta-seconds = 1*DIGIT (RFC 3261 §25.1), the one rule for Expires, Min-Expires,
 * Flow-Timer, Contact expires= and Retry-After: surrounding LWS is trimmed, a value past
 * 2^32-1 reads as 2^32-1 (an absurd expiry is the longest one, as RFC 4475 scalar02
 * allows), and only an empty value or a non-digit is an error (-EBADMSG).
 */
int sip_delta_seconds_parse(struct sip_str v, uint32_t *out);

int sip_via_parse(struct sip_str v, struct sip_via *via, size_t *err_off, const char **why);
int sip_naddr_parse(struct sip_str v, struct sip_naddr *na, size_t *err_off, const char **why);

/*
 * One element of a route set: Route, Record-Route, Path (RFC 3327), Service-Route (RFC
 * 3608). These take name-addr only ("<" URI ">", optional display name, then rr-params),
 * never a bare addr-spec (RFC 3261 §25.1 rec-route, route-param; RFC 3327 path-value). Fills
 * na as sip_naddr_parse does.
 */
int sip_route_parse(struct sip_str v, struct sip_naddr *na, size_t *err_off, const char **why);

/* Contact: "*" alone sets addr.star; whether it stands alone is the message's business. */
int sip_contact_parse(struct sip_str v, struct sip_contact *c, size_t *err_off, const char **why);

/* CSeq: 32-bit unsigned number (RFC 3261 §20.16, up to 2^32-1), LWS, method token. */
int sip_cseq_parse(struct sip_str v, struct sip_cseq *cs, size_t *err_off, const char **why);
int sip_retry_after_parse(struct sip_str v, struct sip_retry_after *ra, size_t *err_off,
			  const char **why);

/*
 * Subscription-State: substate-value *( SEMI subexp-params ), RFC 6665 §8.4. The state
 * and reason are tokens, compared without case; expires= and retry-after= are
 * delta-seconds. -EBADMSG with err_off and why when the value breaks the grammar.
 */
int sip_sub_state_parse(struct sip_str v, struct sip_sub_state_hdr *st, size_t *err_off,
			const char **why);

#endif
