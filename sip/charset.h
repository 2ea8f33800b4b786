/*
 * Character classes of the RFC 3261 §25.1 grammar, one table lookup each. The parser, the
 * URI parser and the header parsers all test octets through these, so that "what may
 * appear here" is written once, next to the ABNF it comes from (sip/charset.c).
 */
#ifndef SIP_CHARSET_H
#define SIP_CHARSET_H

#include <stdbool.h>
#include <stdint.h>

enum {
	SIP_CS_ALPHA = 1 << 0,
	SIP_CS_DIGIT = 1 << 1,
	SIP_CS_HEX = 1 << 2,
	SIP_CS_TOKEN = 1 << 3,	    /* token: alphanum / "-.!%*_+`'~" */
	SIP_CS_UNRESERVED = 1 << 4, /* alphanum / mark "-_.!~*'()" */
	SIP_CS_USER = 1 << 5,	    /* user-unreserved "&=+$,;?/" */
	SIP_CS_PASSWORD = 1 << 6,   /* "&=+$," */
	SIP_CS_PARAM = 1 << 7,	    /* param-unreserved "[]/:&+$" */
	SIP_CS_HNV = 1 << 8,	    /* hnv-unreserved "[]/?:+$" */
	SIP_CS_SCHEME = 1 << 9,	    /* ALPHA / DIGIT / "+-." after the first octet */
	SIP_CS_WORD = 1 << 10,	    /* word of Call-ID: token chars plus "()<>:\\\"/[]?{}" */
	SIP_CS_LWS = 1 << 11,	    /* SP, HT, CR, LF: inside a header value CR/LF only fold */
	SIP_CS_HOST = 1 << 12,	    /* hostname / IPv4: alphanum "-." */
	SIP_CS_PVALUE = 1 << 13,    /* gen-value without quotes: token / host, IPv6 too */
	SIP_CS_LABEL = 1 << 14,	    /* domainlabel: alphanum "-" */
};

/* Computed by the compiler (charset.c): read-only data, valid before main() runs. */
extern const uint16_t sip_charset[256];

static inline bool sip_cs(unsigned char c, uint16_t cls)
{
	return (sip_charset[c] & cls) != 0;
}

static inline int sip_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

#endif
