/*
 * String views: every field that sip/ hands out is a (pointer, length) view into a buffer
 * the caller owns. Nothing here allocates or copies.
 */
#ifndef SIP_STR_H
#define SIP_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct sip_str {
	const char *p;
	size_t len;
};

#define SIP_STR(lit) ((struct sip_str){(lit), sizeof(lit) - 1})
#define SIP_STR_NULL ((struct sip_str){NULL, 0})

static inline struct sip_str sip_str_make(const char *p, size_t len)
{
	return (struct sip_str){p, len};
}

static inline struct sip_str sip_str_cstr(const char *s)
{
	return (struct sip_str){s, s ? strlen(s) : 0};
}

/* Exact, octet for octet (tags, branches, Call-IDs compare this way: RFC 3261 §20). */
static inline bool sip_str_eq(struct sip_str a, struct sip_str b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ASCII case-insensitive (header names, tokens, parameter names); no locale involved,
 * as SIP's case rules are ASCII's (RFC 3261 §7.3.1). */
static inline bool sip_str_ieq(struct sip_str a, struct sip_str b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

static inline bool sip_str_ieq_cstr(struct sip_str a, const char *lit)
{
	return sip_str_ieq(a, sip_str_cstr(lit));
}

#endif
