/*
 * Responses a phone sends to requests it receives (OPTIONS, NOTIFY, INVITE, BYE, unknown
 * methods): built from the parsed request by copying its Via, From, To, Call-ID and CSeq
 * values (RFC 3261 §8.2.6.2) into the caller's buffer, with bounds checks, no allocation.
 * A 101-299 to INVITE or SUBSCRIBE also copies every Record-Route in order (§12.1.1), a
 * 100 copies Timestamp (§8.2.6.1).
 */
#ifndef SIP_RESPONSE_H
#define SIP_RESPONSE_H

#include <stdint.h>
#include <sys/types.h>

#include "sip/parser.h"

struct sip_response_opts {
	uint16_t status;	     /* 100..699 */
	struct sip_str reason;	     /* empty: the RFC 3261 §21 phrase for status */
	struct sip_str to_tag;	     /* added when the request's To has no tag: then required,
				      * except in a 100 (§8.2.6.2) */
	struct sip_str contact;	     /* optional Contact URI, without <> */
	struct sip_str allow;	     /* optional Allow value (405 must carry one, §21.4.6) */
	struct sip_str supported;    /* optional */
	struct sip_str server;	     /* optional Server value */
	struct sip_str content_type; /* required with a body */
	struct sip_str body;
	/* optional whole header lines ("WWW-Authenticate: Digest ...\r\n"), each ending in
	 * CRLF, none empty or folded: what no field above names */
	struct sip_str extra;
};

/* The reason phrase RFC 3261 §21 gives a status code, "" for codes it does not list. */
const char *sip_reason_phrase(unsigned status);

/*
 * Length written, or -ENOSPC (nothing past cap is touched), or -EINVAL: a status outside
 * 100..699, req not a request or lacking Via, From, To, Call-ID or CSeq, no to_tag where
 * one is needed, a CR or LF in any caller string (it would forge a header), or a body
 * without a content_type.
 */
ssize_t sip_build_response(const struct sip_msg *req, const struct sip_response_opts *o, char *buf,
			   size_t cap);

#endif
