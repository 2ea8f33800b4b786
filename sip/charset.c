/*
 * The table behind charset.h, computed by the compiler from the ABNF's own lists below so
 * that a reader can check each class against RFC 3261 §25.1 by eye, and so that the
 * table is const data that no start-up code has to fill.
 */
#include "sip/charset.h"

#define SIP__IN(c, lo, hi) ((c) >= (lo) && (c) <= (hi))

/* ALPHA = %x41-5A / %x61-7A; DIGIT = %x30-39 (RFC 5234 B.1) */
#define SIP__ALPHA(c) (SIP__IN(c, 'A', 'Z') || SIP__IN(c, 'a', 'z'))
#define SIP__DIGIT(c) SIP__IN(c, '0', '9')
#define SIP__ALNUM(c) (SIP__ALPHA(c) || SIP__DIGIT(c))

/* HEXDIG = DIGIT / "A" / "B" / "C" / "D" / "E" / "F", any case (RFC 3261 §25.1, LHEX) */
#define SIP__HEX(c) (SIP__DIGIT(c) || SIP__IN(c, 'A', 'F') || SIP__IN(c, 'a', 'f'))

/* token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
#define SIP__TOKEN(c)                                                                           \
	(SIP__ALNUM(c) || (c) == '-' || (c) == '.' || (c) == '!' || (c) == '%' || (c) == '*' || \
	 (c) == '_' || (c) == '+' || (c) == '`' || (c) == '\'' || (c) == '~')

/* unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
#define SIP__UNRESERVED(c)                                                                      \
	(SIP__ALNUM(c) || (c) == '-' || (c) == '_' || (c) == '.' || (c) == '!' || (c) == '~' || \
	 (c) == '*' || (c) == '\'' || (c) == '(' || (c) == ')')

/* user-unreserved = "&" / "=" / "+" / "$" / "," / ";" / "?" / "/" */
#define SIP__USER(c)                                                                         \
	((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',' || (c) == ';' || \
	 (c) == '?' || (c) == '/')

/* password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ): the last five */
#define SIP__PASSWORD(c) ((c) == '&' || (c) == '=' || (c) == '+' || (c) == '$' || (c) == ',')

/* param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$" */
#define SIP__PARAM(c)                                                                        \
	((c) == '[' || (c) == ']' || (c) == '/' || (c) == ':' || (c) == '&' || (c) == '+' || \
	 (c) == '$')

/* hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" */
#define SIP__HNV(c)                                                                          \
	((c) == '[' || (c) == ']' || (c) == '/' || (c) == '?' || (c) == ':' || (c) == '+' || \
	 (c) == '$')

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ): the octets after the first */
#define SIP__SCHEME(c) (SIP__ALNUM(c) || (c) == '+' || (c) == '-' || (c) == '.')

/*
 * word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" /
 *        "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}")
 */
#define SIP__WORD(c)                                                                            \
	(SIP__TOKEN(c) || (c) == '(' || (c) == ')' || (c) == '<' || (c) == '>' || (c) == ':' || \
	 (c) == '\\' || (c) == '"' || (c) == '/' || (c) == '[' || (c) == ']' || (c) == '?' ||   \
	 (c) == '{' || (c) == '}')

/* LWS = [*WSP CRLF] 1*WSP, WSP = SP / HTAB: the octets it is made of */
#define SIP__LWS(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

/* hostname = *( domainlabel "." ) toplabel [ "." ], IPv4address: alphanum / "-" / "." */
#define SIP__HOST(c) (SIP__ALNUM(c) || (c) == '-' || (c) == '.')

/* domainlabel = alphanum / alphanum *( alphanum / "-" ) alphanum: its octets */
#define SIP__LABEL(c) (SIP__ALNUM(c) || (c) == '-')

/* gen-value = token / host / quoted-string: token octets, and ":" "[" "]" of an IPv6 host */
#define SIP__PVALUE(c) (SIP__TOKEN(c) || (c) == ':' || (c) == '[' || (c) == ']')

#define SIP__BIT(test, cls) ((test) ? (cls) : 0)
#define SIP__CLASSES(c)                                                                            \
	(uint16_t)(SIP__BIT(SIP__ALPHA(c), SIP_CS_ALPHA) | SIP__BIT(SIP__DIGIT(c), SIP_CS_DIGIT) | \
		   SIP__BIT(SIP__HEX(c), SIP_CS_HEX) | SIP__BIT(SIP__TOKEN(c), SIP_CS_TOKEN) |     \
		   SIP__BIT(SIP__UNRESERVED(c), SIP_CS_UNRESERVED) |                               \
		   SIP__BIT(SIP__USER(c), SIP_CS_USER) |                                           \
		   SIP__BIT(SIP__PASSWORD(c), SIP_CS_PASSWORD) |                                   \
		   SIP__BIT(SIP__PARAM(c), SIP_CS_PARAM) | SIP__BIT(SIP__HNV(c), SIP_CS_HNV) |     \
		   SIP__BIT(SIP__SCHEME(c), SIP_CS_SCHEME) | SIP__BIT(SIP__WORD(c), SIP_CS_WORD) | \
		   SIP__BIT(SIP__LWS(c), SIP_CS_LWS) | SIP__BIT(SIP__HOST(c), SIP_CS_HOST) |       \
		   SIP__BIT(SIP__PVALUE(c), SIP_CS_PVALUE) |                                       \
		   SIP__BIT(SIP__LABEL(c), SIP_CS_LABEL))

#define SIP__ROW4(c) SIP__CLASSES(c), SIP__CLASSES(c + 1), SIP__CLASSES(c + 2), SIP__CLASSES(c + 3)
#define SIP__ROW16(c) SIP__ROW4(c), SIP__ROW4(c + 4), SIP__ROW4(c + 8), SIP__ROW4(c + 12)
#define SIP__ROW64(c) SIP__ROW16(c), SIP__ROW16(c + 16), SIP__ROW16(c + 32), SIP__ROW16(c + 48)

/*
 * Octets 0x80-0xff belong to no class: the grammar admits them only as UTF8-NONASCII
 * inside quoted strings, comments and reason phrases, which are scanned without it.
 */
const uint16_t sip_charset[256] = {SIP__ROW64(0), SIP__ROW64(64), SIP__ROW64(128), SIP__ROW64(192)};
