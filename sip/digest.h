/*
 * SIP Digest client (RFC 8760 on RFC 7616, answering RFC 2617 and RFC 2069 servers too):
 * parse WWW-/Proxy-Authenticate and Authentication-Info, pick a challenge, and answer it
 * from an HA1 computed once per line, so the password is never kept after load.
 */
#ifndef SIP_DIGEST_H
#define SIP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sip/str.h"

/* Lowercase hex of the largest digest we speak: SHA-256 and SHA-512-256 (RFC 7616 §3.4.1). */
#define SIP_DIGEST_HEX_MAX 64
/* sip_digest_cnonce(): 64 bits as 16 lowercase hex digits. */
#define SIP_DIGEST_CNONCE_LEN 16
/* Method plus digest-uri the HA2 cache keeps; a longer key is hashed every time instead. */
#define SIP_DIGEST_HA2_KEY_MAX 192

/*
 * Values of the algorithm parameter (RFC 7616 §3.3, IANA "HTTP Digest Hash Algorithms").
 * Each hash comes as a pair, plain then -sess, so (alg - 1) / 2 ranks the hash.
 */
enum sip_digest_alg {
	SIP_DIGEST_ALG_UNKNOWN = 0,
	SIP_DIGEST_MD5,
	SIP_DIGEST_MD5_SESS,
	SIP_DIGEST_SHA256,
	SIP_DIGEST_SHA256_SESS,
	SIP_DIGEST_SHA512_256,
	SIP_DIGEST_SHA512_256_SESS,
};

/* qop-options of a challenge (RFC 7616 §3.3); other tokens are kept in qop_raw only. */
enum {
	SIP_DIGEST_QOP_AUTH = 1 << 0,
	SIP_DIGEST_QOP_AUTH_INT = 1 << 1,
};

/*
 * One challenge of a WWW-Authenticate or Proxy-Authenticate value. Every view points into
 * the parsed value; a parameter that was absent has .p == NULL (so opaque="" is told from
 * no opaque). Quoted strings are given between the quotes as on the wire, backslash
 * escapes kept: sip_digest_unescape() gives the plain text, and the response code hashes
 * the plain text itself.
 */
struct sip_challenge {
	struct sip_str scheme; /* "Digest"; other schemes are parsed alike and never picked */
	struct sip_str realm;
	struct sip_str nonce;
	struct sip_str opaque;
	struct sip_str domain;
	struct sip_str charset;
	/* As sent; absent means MD5 (RFC 7616 §3.3), and algorithm says so. */
	struct sip_str algorithm_raw;
	struct sip_str qop_raw; /* absent: RFC 2069 compatibility, no cnonce and no nc */
	enum sip_digest_alg algorithm;
	unsigned int qop; /* SIP_DIGEST_QOP_* */
	bool stale;	  /* RFC 7616 §3.3: the nonce aged, the credentials were right */
	bool userhash;	  /* the server takes H(username:realm) in place of the username */
	uint16_t params_unknown;
};

/* Authentication-Info or Proxy-Authentication-Info (RFC 7616 §3.5, RFC 3261 §20.6). */
struct sip_auth_info {
	struct sip_str nextnonce; /* use it for the next request, nc back to 1 */
	struct sip_str qop;
	struct sip_str rspauth; /* the server proves it knows HA1: sip_digest_rspauth_check() */
	struct sip_str cnonce;
	struct sip_str nc_raw;
	uint32_t nc; /* valid when nc_raw.p != NULL */
	uint16_t params_unknown;
};

/*
 * Per-thread hashing state: one EVP_MD_CTX per hash, made once and reused so that no call
 * creates one. One per lcore or thread, never shared.
 */
struct sip_digest_ctx {
	struct evp_md_ctx_st *md[3]; /* EVP_MD_CTX for MD5, SHA-256, SHA-512/256 */
};

/*
 * HA2 = H(method ":" digest-uri) for qop=auth and no qop (RFC 7616 §3.4.3) depends on
 * neither nonce nor password, so a line that refreshes the same REGISTER keeps it here.
 * Caller-owned, one per line and request kind; zero it (or call ..._reset) to start.
 */
struct sip_digest_ha2 {
	uint8_t hash; /* 0: empty, else 1 + hash rank of the cached value */
	uint8_t hex_len;
	uint16_t method_len;
	uint16_t key_len;
	char key[SIP_DIGEST_HA2_KEY_MAX]; /* method then uri */
	char hex[SIP_DIGEST_HEX_MAX];
	uint32_t hits;	 /* answers that reused the cached HA2 */
	uint32_t misses; /* answers that hashed it */
};

/*
 * What the line answers with. username and uri are plain text (the writer escapes them);
 * ha1 is the hex from sip_digest_ha1() for the challenge's hash: a length that does not
 * match the hash is refused with -EINVAL, which catches an MD5 HA1 sent to a SHA-256
 * challenge.
 */
struct sip_digest_req {
	struct sip_str method;	 /* "REGISTER" */
	struct sip_str uri;	 /* digest-uri: the Request-URI (RFC 3261 §22.4) */
	struct sip_str username; /* as configured */
	struct sip_str ha1;
	/* Optional: sip_digest_userhash() hex, sent when the challenge says userhash=true. */
	struct sip_str userhash;
	struct sip_str cnonce; /* with qop only; sip_digest_cnonce() makes one */
	uint32_t nc;	       /* with qop only: 1 for the first request on a nonce */
};

/*
 * Fetch the EVP_MDs once for the process; sip_digest_ctx_create() calls it too. Return 0,
 * or -ENOTSUP when no hash at all is available (a provider without any of the three).
 * A hash missing alone (MD5 under a FIPS provider) only makes its challenges unusable.
 */
int sip_digest_init(void);

/* Return 0, -ENOMEM, or -ENOTSUP as sip_digest_init(). Destroy accepts NULL. */
int sip_digest_ctx_create(struct sip_digest_ctx *ctx);
void sip_digest_ctx_destroy(struct sip_digest_ctx *ctx);

/*
 * Parse a challenge list: several challenges may share one value, each starting where a
 * token is followed by white space and a parameter (RFC 7235 §4.1, RFC 3261 §25.1).
 * Fill out[0..cap) and *n_out. Return 0; -EBADMSG for a malformed value with *err_off at
 * the offending octet (the length, when the value ends too soon); -ENOSPC when more than
 * cap challenges came, with the first cap filled and *err_off where the next one starts.
 * Never reads past value.len.
 */
int sip_digest_challenges_parse(struct sip_str value, struct sip_challenge *out, size_t cap,
				size_t *n_out, size_t *err_off);

/* Parse an Authentication-Info value. Return 0 or -EBADMSG with *err_off as above. */
int sip_digest_auth_info_parse(struct sip_str value, struct sip_auth_info *out, size_t *err_off);

/*
 * Index of the strongest Digest challenge we can answer: SHA-512-256, then SHA-256, then
 * MD5; at equal hash, qop=auth before RFC 2069 mode and plain before -sess; at full tie
 * the first, as the server lists its preferred first (RFC 8760 §2). A challenge offering only
 * auth-int, an unknown algorithm, a -sess without qop (there is no cnonce to hash, RFC
 * 2617 §3.2.2.2), or a missing nonce or realm is passed over. -ENOTSUP if none is left.
 */
int sip_digest_pick(const struct sip_challenge *ch, size_t n);

/* Hash of an algorithm: the hex length of its HA1 and response (32 or 64), 0 if unknown. */
size_t sip_digest_hex_len(enum sip_digest_alg alg);
/* Canonical token ("SHA-256-sess"), empty for SIP_DIGEST_ALG_UNKNOWN. */
struct sip_str sip_digest_alg_name(enum sip_digest_alg alg);

/*
 * HA1 = H(username ":" realm ":" password) in lowercase hex (RFC 7616 §3.4.2), for the
 * hash of alg (plain and -sess give the same: the -sess step is taken per nonce from this
 * HA1). Done at load for each hash the line may be challenged with; the line keeps only
 * this. Realm is plain text. Return the hex length or -EINVAL, -ENOTSUP, -EIO.
 */
int sip_digest_ha1(struct sip_digest_ctx *ctx, enum sip_digest_alg alg, struct sip_str username,
		   struct sip_str realm, struct sip_str password, char out[SIP_DIGEST_HEX_MAX]);

/* userhash = H(username ":" realm) in hex (RFC 7616 §3.4.4). Return as sip_digest_ha1(). */
int sip_digest_userhash(struct sip_digest_ctx *ctx, enum sip_digest_alg alg,
			struct sip_str username, struct sip_str realm,
			char out[SIP_DIGEST_HEX_MAX]);

/* 64 bits (from the caller's random source) as 16 lowercase hex digits in buf. */
struct sip_str sip_digest_cnonce(uint64_t v, char buf[SIP_DIGEST_CNONCE_LEN]);

/* Plain text of a quoted-string's inside. Return its length or -ENOSPC. */
ssize_t sip_digest_unescape(struct sip_str wire, char *buf, size_t cap);

void sip_digest_ha2_reset(struct sip_digest_ha2 *cache);

/*
 * The response parameter (RFC 7616 §3.4.1): with qop=auth H(HA1:nonce:nc:cnonce:auth:HA2),
 * without qop H(HA1:nonce:HA2); for -sess HA1 is first H(HA1:nonce:cnonce). cache may be
 * NULL. Return the hex length written to out, -ENOTSUP for a challenge that
 * sip_digest_pick() would pass over, -EINVAL for a bad req.
 * Hot path: no allocation, no syscall, no lock.
 */
int sip_digest_response(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
			const struct sip_digest_req *req, struct sip_digest_ha2 *cache,
			char out[SIP_DIGEST_HEX_MAX]);

/*
 * Write the whole Authorization / Proxy-Authorization value answering ch:
 *   Digest username="..", realm="..", nonce="..", uri="..", response="..", algorithm=X,
 *   cnonce="..", qop=auth, nc=00000001, opaque=".."
 * cnonce, qop and nc only when ch had qop; opaque only when ch had one; userhash=true
 * (and the hash as username) when ch asked for it and req has one. Return the length (no
 * NUL) or -ENOSPC when it does not fit cap (nothing is written past cap), and the errors
 * of sip_digest_response(). The challenge must come from the parser, which refuses
 * control octets in quoted strings, so the output never carries CR or LF.
 *
 * stale=true (RFC 7616 §3.3) on a 401/407 is not a wrong password: keep HA1, answer the
 * new challenge with its nonce, nc back to 1 and a fresh cnonce, and do not count it as
 * an authentication failure. A 401 without stale after our credentials is a refusal.
 * Views in ch point into the response buffer: copy nonce, realm and opaque into the
 * line's storage before reusing them for later requests with nc + 1.
 * Hot path: no allocation, no syscall, no lock.
 */
ssize_t sip_digest_authorization(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
				 const struct sip_digest_req *req, struct sip_digest_ha2 *cache,
				 char *buf, size_t cap);

/*
 * Check rspauth of an Authentication-Info answering req (RFC 7616 §3.5: the response
 * computed with an empty method). Return 0 when it matches, -EACCES when it does not,
 * -EBADMSG when info lacks rspauth, or the errors of sip_digest_response().
 */
int sip_digest_rspauth_check(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
			     const struct sip_digest_req *req, const struct sip_auth_info *info);

#endif
