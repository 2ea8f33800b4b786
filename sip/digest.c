/*
 * SIP Digest client: the challenge and Authentication-Info parsers, the choice among
 * challenges, and the hashing behind Authorization. Hashes come from libcrypto's EVP,
 * fetched once; a response is one buffered EVP pass, with HA2 cached per line.
 */
#include "sip/digest.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

enum { SIP__MD5, SIP__SHA256, SIP__SHA512_256, SIP__NHASH };

static const char *const sip__md_name[SIP__NHASH] = {"MD5", "SHA2-256", "SHA2-512/256"};
static EVP_MD *sip__md[SIP__NHASH];
static pthread_once_t sip__md_once = PTHREAD_ONCE_INIT;
static int sip__md_err;

/* Two hex digits per octet, one load each: the responses are all hex (RFC 7616 §3.4.1). */
static const char sip__hex2[512 + 1] = "000102030405060708090a0b0c0d0e0f"
				       "101112131415161718191a1b1c1d1e1f"
				       "202122232425262728292a2b2c2d2e2f"
				       "303132333435363738393a3b3c3d3e3f"
				       "404142434445464748494a4b4c4d4e4f"
				       "505152535455565758595a5b5c5d5e5f"
				       "606162636465666768696a6b6c6d6e6f"
				       "707172737475767778797a7b7c7d7e7f"
				       "808182838485868788898a8b8c8d8e8f"
				       "909192939495969798999a9b9c9d9e9f"
				       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
				       "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
				       "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
				       "d0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
				       "e0e1e2e3e4e5e6e7e8e9eaebecedeeef"
				       "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static void sip__hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + 2 * i, sip__hex2 + 2 * in[i], 2);
}

static void sip__init_once(void)
{
	int found = 0;

	for (int i = 0; i < SIP__NHASH; i++) {
		sip__md[i] = EVP_MD_fetch(NULL, sip__md_name[i], NULL);
		found += sip__md[i] != NULL;
	}
	sip__md_err = found ? 0 : -ENOTSUP;
}

int sip_digest_init(void)
{
	pthread_once(&sip__md_once, sip__init_once);
	return sip__md_err;
}

void sip_digest_ctx_destroy(struct sip_digest_ctx *ctx)
{
	if (!ctx)
		return;
	for (int i = 0; i < SIP__NHASH; i++) {
		EVP_MD_CTX_free(ctx->md[i]);
		ctx->md[i] = NULL;
	}
}

int sip_digest_ctx_create(struct sip_digest_ctx *ctx)
{
	int err = sip_digest_init();

	memset(ctx, 0, sizeof(*ctx));
	if (err)
		return err;
	for (int i = 0; i < SIP__NHASH; i++) {
		if (!sip__md[i])
			continue;
		ctx->md[i] = EVP_MD_CTX_new();
		/* Tried once now, so a provider that cannot run the hash fails here. */
		if (!ctx->md[i] || !EVP_DigestInit_ex2(ctx->md[i], sip__md[i], NULL)) {
			sip_digest_ctx_destroy(ctx);
			return -ENOMEM;
		}
	}
	return 0;
}

/* ---- algorithms ---- */

static const struct {
	const char *name;
	enum sip_digest_alg alg;
} sip__algs[] = {
	{"MD5", SIP_DIGEST_MD5},
	{"MD5-sess", SIP_DIGEST_MD5_SESS},
	{"SHA-256", SIP_DIGEST_SHA256},
	{"SHA-256-sess", SIP_DIGEST_SHA256_SESS},
	{"SHA-512-256", SIP_DIGEST_SHA512_256},
	{"SHA-512-256-sess", SIP_DIGEST_SHA512_256_SESS},
};

static int sip__hash_of(enum sip_digest_alg alg)
{
	if (alg < SIP_DIGEST_MD5 || alg > SIP_DIGEST_SHA512_256_SESS)
		return -1;
	return (alg - 1) / 2;
}

static bool sip__is_sess(enum sip_digest_alg alg)
{
	return alg != SIP_DIGEST_ALG_UNKNOWN && (alg - 1) % 2 == 1;
}

size_t sip_digest_hex_len(enum sip_digest_alg alg)
{
	int h = sip__hash_of(alg);

	return h < 0 ? 0 : h == SIP__MD5 ? 32 : 64;
}

struct sip_str sip_digest_alg_name(enum sip_digest_alg alg)
{
	if (sip__hash_of(alg) < 0)
		return sip_str_make("", 0);
	return sip_str_cstr(sip__algs[alg - 1].name);
}

/* Algorithm tokens are case-insensitive (RFC 7616 §3.3: "SHA-256" and "sha-256" alike). */
static enum sip_digest_alg sip__alg_lookup(struct sip_str v)
{
	for (size_t i = 0; i < sizeof(sip__algs) / sizeof(sip__algs[0]); i++)
		if (sip_str_ieq_cstr(v, sip__algs[i].name))
			return sip__algs[i].alg;
	return SIP_DIGEST_ALG_UNKNOWN;
}

/* ---- scanning (RFC 7235 §2.1 and RFC 3261 §25.1 grammar) ---- */

struct sip__scan {
	const char *s;
	size_t len;
	size_t pos;
	size_t err_off;
};

static bool sip__alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* tchar of RFC 7230 §3.2.6, which RFC 3261's token shares but for a few rare marks. */
static bool sip__tchar(unsigned char c)
{
	return sip__alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool sip__t68char(unsigned char c)
{
	return sip__alnum(c) || (c && strchr("-._~+/", c));
}

/* SIP's LWS may fold: CR and LF count as white space here (RFC 3261 §7.3.1). */
static bool sip__ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void sip__ows(struct sip__scan *sc)
{
	while (sc->pos < sc->len && sip__ws(sc->s[sc->pos]))
		sc->pos++;
}

static bool sip__at(const struct sip__scan *sc, char c)
{
	return sc->pos < sc->len && sc->s[sc->pos] == c;
}

static int sip__fail(struct sip__scan *sc, size_t off)
{
	sc->err_off = off;
	return -EBADMSG;
}

static struct sip_str sip__token(struct sip__scan *sc)
{
	size_t start = sc->pos;

	while (sc->pos < sc->len && sip__tchar(sc->s[sc->pos]))
		sc->pos++;
	return sip_str_make(sc->s + start, sc->pos - start);
}

/*
 * Octets a quoted-string may hold once the value is unfolded: qdtext and quoted-pair are
 * HTAB, SP, VCHAR and obs-text (RFC 7230 §3.2.6). CR, LF and other controls are refused so
 * that a value copied into Authorization can never end the header line.
 */
static bool sip__qchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int sip__quoted(struct sip__scan *sc, struct sip_str *v)
{
	size_t start = ++sc->pos;

	while (sc->pos < sc->len) {
		unsigned char c = sc->s[sc->pos];

		if (c == '"') {
			*v = sip_str_make(sc->s + start, sc->pos - start);
			sc->pos++;
			return 0;
		}
		if (!sip__qchar(c))
			return sip__fail(sc, sc->pos);
		if (c == '\\') {
			if (++sc->pos == sc->len)
				break;
			if (!sip__qchar(sc->s[sc->pos]))
				return sip__fail(sc, sc->pos);
		}
		sc->pos++;
	}
	return sip__fail(sc, sc->len);
}

/* auth-param = token BWS "=" BWS ( token / quoted-string ), the name already read. */
static int sip__param_value(struct sip__scan *sc, struct sip_str *v)
{
	sip__ows(sc);
	if (!sip__at(sc, '='))
		return sip__fail(sc, sc->pos);
	sc->pos++;
	sip__ows(sc);
	if (sip__at(sc, '"'))
		return sip__quoted(sc, v);
	*v = sip__token(sc);
	if (v->len == 0)
		return sip__fail(sc, sc->pos);
	return 0;
}

/* After an element: BWS, then a comma or the end (RFC 7230 §7 list rule). */
static int sip__sep(struct sip__scan *sc)
{
	sip__ows(sc);
	if (sc->pos == sc->len)
		return 0;
	if (sc->s[sc->pos] != ',')
		return sip__fail(sc, sc->pos);
	sc->pos++;
	return 0;
}

/*
 * token68 right after a scheme ("Negotiate YIIB=="): it runs to a comma or the end. A
 * param ("realm=...") has a value after its "=", which is how the two are told apart.
 */
static bool sip__token68(struct sip__scan *sc)
{
	size_t q = sc->pos, r;

	while (q < sc->len && sip__t68char(sc->s[q]))
		q++;
	if (q == sc->pos)
		return false;
	while (q < sc->len && sc->s[q] == '=')
		q++;
	for (r = q; r < sc->len && sip__ws(sc->s[r]); r++)
		;
	if (r < sc->len && sc->s[r] != ',')
		return false;
	sc->pos = q;
	return true;
}

/* ---- challenges ---- */

static void sip__qop_options(struct sip_challenge *ch, struct sip_str v)
{
	size_t i = 0;

	while (i < v.len) {
		size_t start, end;

		while (i < v.len && (sip__ws(v.p[i]) || v.p[i] == ','))
			i++;
		start = i;
		while (i < v.len && !sip__ws(v.p[i]) && v.p[i] != ',')
			i++;
		end = i;
		if (sip_str_ieq_cstr(sip_str_make(v.p + start, end - start), "auth"))
			ch->qop |= SIP_DIGEST_QOP_AUTH;
		else if (sip_str_ieq_cstr(sip_str_make(v.p + start, end - start), "auth-int"))
			ch->qop |= SIP_DIGEST_QOP_AUTH_INT;
	}
}

static int sip__set_once(struct sip__scan *sc, struct sip_str *field, struct sip_str v,
			 size_t name_off)
{
	/* RFC 7235 §2.1: each parameter name only once per challenge. */
	if (field->p)
		return sip__fail(sc, name_off);
	*field = v;
	return 0;
}

static int sip__challenge_param(struct sip__scan *sc, struct sip_challenge *ch, struct sip_str name,
				struct sip_str v)
{
	size_t off = (size_t)(name.p - sc->s);

	if (sip_str_ieq_cstr(name, "realm"))
		return sip__set_once(sc, &ch->realm, v, off);
	if (sip_str_ieq_cstr(name, "nonce"))
		return sip__set_once(sc, &ch->nonce, v, off);
	if (sip_str_ieq_cstr(name, "opaque"))
		return sip__set_once(sc, &ch->opaque, v, off);
	if (sip_str_ieq_cstr(name, "domain"))
		return sip__set_once(sc, &ch->domain, v, off);
	if (sip_str_ieq_cstr(name, "charset"))
		return sip__set_once(sc, &ch->charset, v, off);
	if (sip_str_ieq_cstr(name, "algorithm")) {
		ch->algorithm = sip__alg_lookup(v);
		return sip__set_once(sc, &ch->algorithm_raw, v, off);
	}
	if (sip_str_ieq_cstr(name, "qop")) {
		sip__qop_options(ch, v);
		return sip__set_once(sc, &ch->qop_raw, v, off);
	}
	if (sip_str_ieq_cstr(name, "stale"))
		ch->stale = sip_str_ieq_cstr(v, "true");
	else if (sip_str_ieq_cstr(name, "userhash"))
		ch->userhash = sip_str_ieq_cstr(v, "true");
	else if (ch->params_unknown < UINT16_MAX)
		ch->params_unknown++;
	return 0;
}

static int sip__param(struct sip__scan *sc, struct sip_challenge *ch, struct sip_str name)
{
	struct sip_str v;
	int err = sip__param_value(sc, &v);

	return err ? err : sip__challenge_param(sc, ch, name, v);
}

/* A scheme token was read: what follows it, if anything, is a token68 or its first param. */
static int sip__challenge_start(struct sip__scan *sc, struct sip_challenge *ch, size_t after)
{
	struct sip_str name;

	if (sc->pos == sc->len || sc->s[sc->pos] == ',')
		return 0;
	if (sc->pos == after) /* auth-scheme [ 1*SP ... ]: the space is required */
		return sip__fail(sc, sc->pos);
	if (sip__token68(sc))
		return 0;
	name = sip__token(sc);
	if (name.len == 0)
		return sip__fail(sc, sc->pos);
	return sip__param(sc, ch, name);
}

int sip_digest_challenges_parse(struct sip_str value, struct sip_challenge *out, size_t cap,
				size_t *n_out, size_t *err_off)
{
	struct sip__scan sc = {value.p, value.p ? value.len : 0, 0, 0};
	struct sip_challenge *ch = NULL;
	size_t n = 0;
	int err = 0;

	*n_out = 0;
	*err_off = 0;
	for (;;) {
		struct sip_str t;
		size_t after;

		sip__ows(&sc);
		if (sc.pos == sc.len)
			break;
		if (sc.s[sc.pos] == ',') { /* empty list elements are allowed (RFC 7230 §7) */
			sc.pos++;
			continue;
		}
		t = sip__token(&sc);
		if (t.len == 0) {
			err = sip__fail(&sc, sc.pos);
			break;
		}
		after = sc.pos;
		sip__ows(&sc);
		if (sip__at(&sc, '=')) {
			/* token "=": a parameter of the challenge in progress */
			if (!ch) {
				err = sip__fail(&sc, (size_t)(t.p - sc.s));
				break;
			}
			err = sip__param(&sc, ch, t);
		} else {
			if (n == cap) {
				sc.err_off = (size_t)(t.p - sc.s);
				err = -ENOSPC;
				break;
			}
			ch = &out[n++];
			memset(ch, 0, sizeof(*ch));
			ch->scheme = t;
			ch->algorithm = SIP_DIGEST_MD5; /* the default, RFC 7616 §3.3 */
			err = sip__challenge_start(&sc, ch, after);
		}
		if (err || (err = sip__sep(&sc)))
			break;
	}
	if (!err && n == 0)
		err = sip__fail(&sc, sc.len); /* 1#challenge: at least one */
	*n_out = n;
	*err_off = sc.err_off;
	return err;
}

/* ---- Authentication-Info ---- */

static int sip__nc_parse(struct sip_str v, uint32_t *nc)
{
	uint32_t x = 0;

	if (v.len != 8) /* nc-value = 8LHEX (RFC 7616 §3.4) */
		return -1;
	for (size_t i = 0; i < 8; i++) {
		unsigned char c = v.p[i], l = c | 0x20;

		if (c >= '0' && c <= '9')
			x = x << 4 | (uint32_t)(c - '0');
		else if (l >= 'a' && l <= 'f')
			x = x << 4 | (uint32_t)(l - 'a' + 10);
		else
			return -1;
	}
	*nc = x;
	return 0;
}

static int sip__info_param(struct sip__scan *sc, struct sip_auth_info *ai, struct sip_str name,
			   struct sip_str v)
{
	size_t off = (size_t)(name.p - sc->s);
	struct sip_str *f = NULL;

	if (sip_str_ieq_cstr(name, "nextnonce"))
		f = &ai->nextnonce;
	else if (sip_str_ieq_cstr(name, "qop"))
		f = &ai->qop;
	else if (sip_str_ieq_cstr(name, "rspauth"))
		f = &ai->rspauth;
	else if (sip_str_ieq_cstr(name, "cnonce"))
		f = &ai->cnonce;
	else if (sip_str_ieq_cstr(name, "nc"))
		f = &ai->nc_raw;
	if (!f) {
		if (ai->params_unknown < UINT16_MAX)
			ai->params_unknown++;
		return 0;
	}
	if (f->p)
		return sip__fail(sc, off);
	if (f == &ai->nc_raw && sip__nc_parse(v, &ai->nc))
		return sip__fail(sc, (size_t)(v.p - sc->s));
	*f = v;
	return 0;
}

int sip_digest_auth_info_parse(struct sip_str value, struct sip_auth_info *out, size_t *err_off)
{
	struct sip__scan sc = {value.p, value.p ? value.len : 0, 0, 0};
	int err = 0;

	memset(out, 0, sizeof(*out));
	*err_off = 0;
	for (;;) {
		struct sip_str name, v;

		sip__ows(&sc);
		if (sc.pos == sc.len)
			break;
		if (sc.s[sc.pos] == ',') {
			sc.pos++;
			continue;
		}
		name = sip__token(&sc);
		if (name.len == 0) {
			err = sip__fail(&sc, sc.pos);
			break;
		}
		err = sip__param_value(&sc, &v);
		if (err || (err = sip__info_param(&sc, out, name, v)) || (err = sip__sep(&sc)))
			break;
	}
	*err_off = sc.err_off;
	return err;
}

/* ---- choosing ---- */

static bool sip__usable(const struct sip_challenge *ch)
{
	int h = sip__hash_of(ch->algorithm);
	bool with_qop = ch->qop_raw.p != NULL;

	if (h < 0 || !sip__md[h] || !sip_str_ieq_cstr(ch->scheme, "Digest"))
		return false;
	if (!ch->nonce.p || !ch->realm.p)
		return false;
	/* qop offered: we must answer one of them, and we only do auth (no body hash). */
	if (with_qop && !(ch->qop & SIP_DIGEST_QOP_AUTH))
		return false;
	return with_qop || !sip__is_sess(ch->algorithm);
}

int sip_digest_pick(const struct sip_challenge *ch, size_t n)
{
	int best = -ENOTSUP, best_rank = -1;

	if (sip_digest_init())
		return -ENOTSUP;
	for (size_t i = 0; i < n && i <= INT32_MAX; i++) {
		int rank;

		if (!sip__usable(&ch[i]))
			continue;
		rank = sip__hash_of(ch[i].algorithm) * 4 + (ch[i].qop_raw.p ? 2 : 0) +
		       !sip__is_sess(ch[i].algorithm);
		if (rank > best_rank) { /* strictly: the first of equals wins */
			best_rank = rank;
			best = (int)i;
		}
	}
	return best;
}

/* ---- hashing ---- */

/*
 * Pieces are gathered and handed to EVP in one update: a response is a dozen pieces, and
 * ten updates in place of one added ~100 ns to an MD5 response here (libcrypto 3.0).
 */
struct sip__hbuf {
	EVP_MD_CTX *c;
	size_t n;
	bool bad;
	unsigned char b[256];
};

static void sip__flush(struct sip__hbuf *h)
{
	if (h->n && !EVP_DigestUpdate(h->c, h->b, h->n))
		h->bad = true;
	h->n = 0;
}

static void sip__put(struct sip__hbuf *h, const void *p, size_t len)
{
	if (len == 0)
		return;
	if (len > sizeof(h->b) - h->n) {
		sip__flush(h);
		if (len > sizeof(h->b)) {
			if (!EVP_DigestUpdate(h->c, p, len))
				h->bad = true;
			return;
		}
	}
	memcpy(h->b + h->n, p, len);
	h->n += len;
}

static void sip__put_c(struct sip__hbuf *h, char c)
{
	sip__put(h, &c, 1);
}

/* Hash a quoted-string's plain text: the digest covers unq(value) (RFC 7616 §3.4.1). */
static void sip__put_unq(struct sip__hbuf *h, struct sip_str w)
{
	const char *p = w.p, *end = w.p + w.len, *bs;

	while (p < end && (bs = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		sip__put(h, p, (size_t)(bs - p));
		if (bs + 1 < end)
			sip__put(h, bs + 1, 1);
		p = bs + 2;
	}
	if (p < end)
		sip__put(h, p, (size_t)(end - p));
}

/*
 * Measured with libcrypto 3.0: EVP_DigestInit_ex2 still frees and re-makes the provider's
 * small state inside libcrypto (one malloc per hash); the context itself is reused.
 */
static int sip__begin(struct sip__hbuf *h, struct sip_digest_ctx *ctx, int hash)
{
	h->c = ctx->md[hash];
	h->n = 0;
	h->bad = false;
	if (!h->c || !EVP_DigestInit_ex2(h->c, sip__md[hash], NULL))
		return -ENOTSUP;
	return 0;
}

static int sip__final(struct sip__hbuf *h, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	sip__flush(h);
	if (h->bad || !EVP_DigestFinal_ex(h->c, md, &n))
		return -EIO;
	sip__hex(md, n, hex);
	return (int)(2 * n);
}

static int sip__hash_for(struct sip_digest_ctx *ctx, enum sip_digest_alg alg)
{
	int h = sip__hash_of(alg);

	if (h < 0)
		return -EINVAL;
	if (!ctx || !ctx->md[h])
		return -ENOTSUP;
	return h;
}

/* H(username ":" realm [":" password]): HA1 with a password, userhash without. */
static int sip__hash_user(struct sip_digest_ctx *ctx, enum sip_digest_alg alg,
			  struct sip_str username, struct sip_str realm,
			  const struct sip_str *password, char out[SIP_DIGEST_HEX_MAX])
{
	struct sip__hbuf h;
	int hash = sip__hash_for(ctx, alg), ret;

	if (hash < 0)
		return hash;
	if ((ret = sip__begin(&h, ctx, hash)))
		return ret;
	sip__put(&h, username.p, username.len);
	sip__put_c(&h, ':');
	sip__put(&h, realm.p, realm.len);
	if (password) {
		sip__put_c(&h, ':');
		sip__put(&h, password->p, password->len);
	}
	ret = sip__final(&h, out);
	OPENSSL_cleanse(h.b, sizeof(h.b)); /* the password must not outlive the load */
	return ret;
}

int sip_digest_ha1(struct sip_digest_ctx *ctx, enum sip_digest_alg alg, struct sip_str username,
		   struct sip_str realm, struct sip_str password, char out[SIP_DIGEST_HEX_MAX])
{
	return sip__hash_user(ctx, alg, username, realm, &password, out);
}

int sip_digest_userhash(struct sip_digest_ctx *ctx, enum sip_digest_alg alg,
			struct sip_str username, struct sip_str realm, char out[SIP_DIGEST_HEX_MAX])
{
	return sip__hash_user(ctx, alg, username, realm, NULL, out);
}

struct sip_str sip_digest_cnonce(uint64_t v, char buf[SIP_DIGEST_CNONCE_LEN])
{
	for (int i = 0; i < 8; i++)
		memcpy(buf + 2 * i, sip__hex2 + 2 * ((v >> (56 - 8 * i)) & 0xff), 2);
	return sip_str_make(buf, SIP_DIGEST_CNONCE_LEN);
}

ssize_t sip_digest_unescape(struct sip_str wire, char *buf, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < wire.len; i++) {
		if (wire.p[i] == '\\' && i + 1 < wire.len)
			i++;
		if (n == cap)
			return -ENOSPC;
		buf[n++] = wire.p[i];
	}
	return (ssize_t)n;
}

void sip_digest_ha2_reset(struct sip_digest_ha2 *cache)
{
	memset(cache, 0, sizeof(*cache));
}

/* HA2 = H(method ":" uri), from the cache when method, uri and hash are those it holds. */
static const char *sip__ha2(struct sip_digest_ctx *ctx, int hash, struct sip_str method,
			    struct sip_str uri, struct sip_digest_ha2 *cache, char *scratch)
{
	struct sip__hbuf h;
	size_t key_len = method.len + uri.len;

	if (cache && cache->hash == hash + 1 && cache->method_len == method.len &&
	    cache->key_len == key_len && memcmp(cache->key, method.p, method.len) == 0 &&
	    memcmp(cache->key + method.len, uri.p, uri.len) == 0) {
		cache->hits++;
		return cache->hex;
	}
	if (sip__begin(&h, ctx, hash))
		return NULL;
	sip__put(&h, method.p, method.len);
	sip__put_c(&h, ':');
	sip__put(&h, uri.p, uri.len);
	if (sip__final(&h, scratch) < 0)
		return NULL;
	if (!cache)
		return scratch;
	cache->misses++;
	cache->hash = 0;
	if (key_len <= sizeof(cache->key)) {
		memcpy(cache->key, method.p, method.len);
		memcpy(cache->key + method.len, uri.p, uri.len);
		memcpy(cache->hex, scratch, sizeof(cache->hex));
		cache->method_len = (uint16_t)method.len;
		cache->key_len = (uint16_t)key_len;
		cache->hash = (uint8_t)(hash + 1);
	}
	return scratch;
}

static void sip__nc_hex(uint32_t nc, char out[8])
{
	for (int i = 0; i < 4; i++)
		memcpy(out + 2 * i, sip__hex2 + 2 * ((nc >> (24 - 8 * i)) & 0xff), 2);
}

static int sip__check(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
		      const struct sip_digest_req *req)
{
	size_t hl = sip_digest_hex_len(ch->algorithm);

	if (!ctx || !sip__usable(ch))
		return -ENOTSUP;
	if (!req->ha1.p || req->ha1.len != hl || !req->uri.p)
		return -EINVAL;
	if (ch->qop_raw.p && req->cnonce.len == 0)
		return -EINVAL;
	return 0;
}

static int sip__response(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
			 const struct sip_digest_req *req, struct sip_str method,
			 struct sip_digest_ha2 *cache, char out[SIP_DIGEST_HEX_MAX])
{
	char ha1s[SIP_DIGEST_HEX_MAX], ha2s[SIP_DIGEST_HEX_MAX], nc[8];
	const char *ha1 = req->ha1.p, *ha2;
	int hash = sip__hash_of(ch->algorithm), err;
	size_t hl = req->ha1.len;
	bool with_qop = ch->qop_raw.p != NULL;
	struct sip__hbuf h;

	if ((err = sip__check(ctx, ch, req)))
		return err;
	if (sip__is_sess(ch->algorithm)) {
		/* HA1' = H(HA1 ":" nonce ":" cnonce), once per nonce (RFC 7616 §3.4.2). */
		if ((err = sip__begin(&h, ctx, hash)))
			return err;
		sip__put(&h, ha1, hl);
		sip__put_c(&h, ':');
		sip__put_unq(&h, ch->nonce);
		sip__put_c(&h, ':');
		sip__put(&h, req->cnonce.p, req->cnonce.len);
		if ((err = sip__final(&h, ha1s)) < 0)
			return err;
		ha1 = ha1s;
	}
	ha2 = sip__ha2(ctx, hash, method, req->uri, cache, ha2s);
	if (!ha2 || (err = sip__begin(&h, ctx, hash)))
		return -EIO;
	sip__put(&h, ha1, hl);
	sip__put_c(&h, ':');
	sip__put_unq(&h, ch->nonce);
	sip__put_c(&h, ':');
	if (with_qop) {
		sip__nc_hex(req->nc, nc);
		sip__put(&h, nc, sizeof(nc));
		sip__put_c(&h, ':');
		sip__put(&h, req->cnonce.p, req->cnonce.len);
		sip__put(&h, ":auth:", 6);
	}
	sip__put(&h, ha2, hl);
	return sip__final(&h, out);
}

int sip_digest_response(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
			const struct sip_digest_req *req, struct sip_digest_ha2 *cache,
			char out[SIP_DIGEST_HEX_MAX])
{
	if (!req->method.len)
		return -EINVAL;
	return sip__response(ctx, ch, req, req->method, cache, out);
}

int sip_digest_rspauth_check(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
			     const struct sip_digest_req *req, const struct sip_auth_info *info)
{
	char want[SIP_DIGEST_HEX_MAX];
	int n;

	if (!info->rspauth.p)
		return -EBADMSG;
	/* A2 = ":" uri for rspauth (RFC 7616 §3.5); not cached, it is once per exchange. */
	n = sip__response(ctx, ch, req, sip_str_make("", 0), NULL, want);
	if (n < 0)
		return n;
	return sip_str_ieq(info->rspauth, sip_str_make(want, (size_t)n)) ? 0 : -EACCES;
}

/* ---- writing Authorization ---- */

/* Output that counts past cap but never stores there, so one check at the end suffices. */
struct sip__out {
	char *p;
	size_t cap;
	size_t len;
	bool bad;
};

static void sip__w(struct sip__out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (o->len <= o->cap && n <= o->cap - o->len)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

#define sip__wlit(o, lit) sip__w((o), (lit), sizeof(lit) - 1)

/* Plain text into a quoted-string: escape '"' and '\', refuse controls (header injection). */
static void sip__wq(struct sip__out *o, struct sip_str v)
{
	size_t i, run = 0;

	if (v.len == 0)
		return;
	for (i = 0; i < v.len; i++) {
		unsigned char c = v.p[i];

		if (c != '"' && c != '\\' && sip__qchar(c))
			continue;
		if (!sip__qchar(c))
			o->bad = true;
		sip__w(o, v.p + run, i - run);
		sip__wlit(o, "\\");
		run = i;
	}
	sip__w(o, v.p + run, i - run);
}

ssize_t sip_digest_authorization(struct sip_digest_ctx *ctx, const struct sip_challenge *ch,
				 const struct sip_digest_req *req, struct sip_digest_ha2 *cache,
				 char *buf, size_t cap)
{
	struct sip__out o = {buf, cap, 0, false};
	struct sip_str alg = sip_digest_alg_name(ch->algorithm);
	bool uh = ch->userhash && req->userhash.len;
	char resp[SIP_DIGEST_HEX_MAX], nc[8];
	int n;

	if (uh && req->userhash.len != sip_digest_hex_len(ch->algorithm))
		return -EINVAL;
	n = sip_digest_response(ctx, ch, req, cache, resp);
	if (n < 0)
		return n;
	sip__wlit(&o, "Digest username=\"");
	if (uh)
		sip__wq(&o, req->userhash);
	else
		sip__wq(&o, req->username);
	sip__wlit(&o, "\", realm=\"");
	sip__w(&o, ch->realm.p, ch->realm.len); /* already quoted-string text */
	sip__wlit(&o, "\", nonce=\"");
	sip__w(&o, ch->nonce.p, ch->nonce.len);
	sip__wlit(&o, "\", uri=\"");
	sip__wq(&o, req->uri);
	sip__wlit(&o, "\", response=\"");
	sip__w(&o, resp, (size_t)n);
	sip__wlit(&o, "\", algorithm=");
	sip__w(&o, alg.p, alg.len);
	if (ch->qop_raw.p) {
		sip__wlit(&o, ", cnonce=\"");
		sip__wq(&o, req->cnonce);
		sip__wlit(&o, "\", qop=auth, nc=");
		sip__nc_hex(req->nc, nc);
		sip__w(&o, nc, sizeof(nc));
	}
	if (ch->opaque.p) {
		sip__wlit(&o, ", opaque=\"");
		sip__w(&o, ch->opaque.p, ch->opaque.len);
		sip__wlit(&o, "\"");
	}
	if (uh)
		sip__wlit(&o, ", userhash=true");
	if (o.bad)
		return -EINVAL;
	if (o.len > o.cap)
		return -ENOSPC;
	return (ssize_t)o.len;
}
