/*
 * URI parser for sip:, sips: and tel: URIs (RFC 3261 §19.1, RFC 3966) and, for any other
 * scheme, the absoluteURI shape that a SIP element must carry through unchanged.
 * Fields are views into the caller's buffer; nothing is unescaped or copied.
 */
#ifndef SIP_URI_H
#define SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "sip/str.h"

enum sip_scheme {
	SIP_SCHEME_OTHER = 0,
	SIP_SCHEME_SIP,
	SIP_SCHEME_SIPS,
	SIP_SCHEME_TEL,
};

struct sip_uri {
	enum sip_scheme scheme;
	struct sip_str scheme_str; /* as written, without ':' */
	struct sip_str user;	   /* sip/sips userinfo user; tel: the number */
	struct sip_str password;
	struct sip_str host;	/* IPv6 references keep their brackets */
	struct sip_str params;	/* from the first ';' on, or empty */
	struct sip_str headers; /* after '?', or empty */
	struct sip_str opaque;	/* other schemes: all after "scheme:" */
	uint16_t port;		/* 0 when absent */
	bool host_is_ipv6;
};

/*
 * Parse one URI that fills all of s (no surrounding '<>', no whitespace). Returns 0, or
 * -EBADMSG with *err_off set to the offending octet within s and *why to a sentence.
 * Ports are 1*DIGIT with a value of 1..65535; a tel: URI is a global number ("+" and at
 * least one digit) or a local one with a phone-context parameter (RFC 3966 §5.1.5).
 */
int sip_uri_parse(struct sip_str s, struct sip_uri *u, size_t *err_off, const char **why);

/*
 * For sip/'s own header parsers: the URI shape registrars write, "sip:user@host[:port]"
 * with nothing escaped and no parameter, at the start of s and ended by the octet stop
 * (a name-addr's ">"), read without first searching for stop. Returns the URI's length
 * with u filled as sip_uri_parse() fills it for those octets alone, or 0 (u unchanged)
 * for any other shape, which the caller then parses with sip_uri_parse(). u must be
 * empty on entry: the results that embed it start empty (see hdr.c).
 */
size_t sip__uri_plain(struct sip_str s, char stop, struct sip_uri *u);

/* Host syntax checks, exposed for Via sent-by and received= (RFC 3261 §25.1, RFC 5118). */
bool sip_host_valid(struct sip_str host);
bool sip_ipv4_valid(struct sip_str s);
bool sip_ipv6_valid(struct sip_str s); /* without brackets */

/*
 * Walk ";name=value" parameters, URI or header style (LWS around ';' and '=' is skipped,
 * RFC 3261 §7.3.1). *cursor is advanced; returns false at the end. A value may be a
 * quoted string, which is returned with its quotes.
 */
bool sip_param_next(struct sip_str *cursor, struct sip_str *name, struct sip_str *value);

/* First parameter called name (case-insensitive); *value is empty for a valueless one. */
bool sip_param_find(struct sip_str params, const char *name, struct sip_str *value);

#endif
