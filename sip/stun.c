/*
 * STUN Binding (RFC 5389) for RFC 5626 §4.4.2 keep-alives: classify, build, parse, verify.
 * Parsing trusts nothing in the datagram: every length is checked against the buffer
 * before a read, so a hostile peer on the SIP port can at worst get -EBADMSG.
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "sip/stun.h"

/* RFC 5389 §15.5: the CRC-32 is XORed with "STUN" so it differs from other protocols'. */
#define SIP__STUN_FINGERPRINT_XOR 0x5354554eu
#define SIP__STUN_HMAC_LEN 20

/* One attribute as the walker found it; val points into the message. */
struct sip__stun_attr {
	size_t off; /* of the attribute header */
	uint16_t type;
	uint16_t len; /* value length, padding excluded */
	const uint8_t *val;
};

static inline uint16_t sip__stun_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t sip__stun_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void sip__stun_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void sip__stun_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* RFC 5389 §15: attribute values are padded to a multiple of 4 octets. */
static inline size_t sip__stun_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/*
 * CRC-32 of ISO 3309 / ITU-T V.42 (reflected, polynomial 0xedb88320), which RFC 5389
 * §15.5 names for FINGERPRINT. A constant table: one lookup per octet, no init race.
 */
static const uint32_t sip__stun_crc_table[256] = {
	0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535,
	0x9e6495a3, 0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd,
	0xe7b82d07, 0x90bf1d91, 0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d,
	0x6ddde4eb, 0xf4d4b551, 0x83d385c7, 0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec,
	0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5, 0x3b6e20c8, 0x4c69105e, 0xd56041e4,
	0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b, 0x35b5a8fa, 0x42b2986c,
	0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59, 0x26d930ac,
	0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
	0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab,
	0xb6662d3d, 0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f,
	0x9fbfe4a5, 0xe8b8d433, 0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb,
	0x086d3d2d, 0x91646c97, 0xe6635c01, 0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e,
	0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457, 0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea,
	0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65, 0x4db26158, 0x3ab551ce,
	0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb, 0x4369e96a,
	0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
	0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409,
	0xce61e49f, 0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81,
	0xb7bd5c3b, 0xc0ba6cad, 0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739,
	0x9dd277af, 0x04db2615, 0x73dc1683, 0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8,
	0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1, 0xf00f9344, 0x8708a3d2, 0x1e01f268,
	0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7, 0xfed41b76, 0x89d32be0,
	0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5, 0xd6d6a3e8,
	0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
	0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef,
	0x4669be79, 0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703,
	0x220216b9, 0x5505262f, 0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7,
	0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d, 0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a,
	0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713, 0x95bf4a82, 0xe2b87a14, 0x7bb12bae,
	0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21, 0x86d3d2d4, 0xf1d4e242,
	0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777, 0x88085ae6,
	0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
	0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d,
	0x3e6e77db, 0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5,
	0x47b2cf7f, 0x30b5ffe9, 0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605,
	0xcdd70693, 0x54de5729, 0x23d967bf, 0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94,
	0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * Slicing by 8: eight octets per step through eight tables derived from the one above,
 * filled once when the program loads (before any thread can ask). A keep-alive's CRC
 * spans 20 to 36 octets; octet by octet it was a tenth of a busy worker's time
 * (perf, bench/run dataplane's keep-alive run), one step per octet waiting on the last.
 */
static uint32_t sip__stun_crc8[8][256];

__attribute__((constructor)) static void sip__stun_crc8_init(void)
{
	for (int i = 0; i < 256; i++)
		sip__stun_crc8[0][i] = sip__stun_crc_table[i];
	for (int k = 1; k < 8; k++) {
		for (int i = 0; i < 256; i++) {
			uint32_t v = sip__stun_crc8[k - 1][i];

			sip__stun_crc8[k][i] = (v >> 8) ^ sip__stun_crc_table[v & 0xff];
		}
	}
}

/* The CRC register after p[0..n) from c: neither preset nor final inversion. */
static uint32_t sip__stun_crc_update(uint32_t c, const uint8_t *p, size_t n)
{
	const uint32_t(*t)[256] = (const uint32_t(*)[256])sip__stun_crc8;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= c;
		c = t[7][w & 0xff] ^ t[6][(w >> 8) & 0xff] ^ t[5][(w >> 16) & 0xff] ^
		    t[4][(w >> 24) & 0xff] ^ t[3][(w >> 32) & 0xff] ^ t[2][(w >> 40) & 0xff] ^
		    t[1][(w >> 48) & 0xff] ^ t[0][w >> 56];
	}
	while (n--)
		c = sip__stun_crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}
#else
static uint32_t sip__stun_crc_update(uint32_t c, const uint8_t *p, size_t n)
{
	while (n--)
		c = sip__stun_crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}
#endif

static uint32_t sip__stun_crc32(const uint8_t *p, size_t n)
{
	return sip__stun_crc_update(0xffffffffu, p, n) ^ 0xffffffffu;
}

/*
 * RFC 5389 §15.5: CRC over everything before the attribute, the length field already
 * counting the FINGERPRINT itself.
 */
static uint32_t sip__stun_fingerprint(const uint8_t *buf, size_t attr_off)
{
	return sip__stun_crc32(buf, attr_off) ^ SIP__STUN_FINGERPRINT_XOR;
}

/* RFC 5389 §6 header rules; on failure says where and why. */
static inline int sip__stun_check_hdr(const uint8_t *buf, size_t len, size_t *bad_off,
				      const char **why)
{
	size_t body;

	if (len < SIP_STUN_HDR_LEN) {
		*bad_off = len;
		*why = "shorter than the 20-octet STUN header";
		return -EBADMSG;
	}
	if (buf[0] & 0xc0) {
		*bad_off = 0;
		*why = "top two bits of the message type are not zero";
		return -EBADMSG;
	}
	if (sip__stun_get32(buf + 4) != SIP_STUN_MAGIC_COOKIE) {
		*bad_off = 4;
		*why = "no magic cookie";
		return -EBADMSG;
	}
	body = sip__stun_get16(buf + 2);
	if (body & 3) {
		*bad_off = 2;
		*why = "message length is not a multiple of 4";
		return -EBADMSG;
	}
	if (body != len - SIP_STUN_HDR_LEN) {
		*bad_off = 2;
		*why = "message length does not match the datagram";
		return -EBADMSG;
	}
	return 0;
}

/*
 * Step to the next attribute at *pos. Returns 1 with *a filled, 0 at the end of the
 * message, -EBADMSG if the attribute (with its padding) would run past len.
 */
static int sip__stun_next(const uint8_t *buf, size_t len, size_t *pos, struct sip__stun_attr *a,
			  const char **why)
{
	size_t off = *pos;

	if (off >= len)
		return 0;
	a->off = off;
	if (len - off < 4) {
		*why = "attribute header runs past the message";
		return -EBADMSG;
	}
	a->type = sip__stun_get16(buf + off);
	a->len = sip__stun_get16(buf + off + 2);
	/* The message length counts padding (RFC 5389 §15), so the padded value must fit. */
	if (sip__stun_pad4(a->len) > len - off - 4) {
		*why = "attribute value runs past the message";
		return -EBADMSG;
	}
	a->val = buf + off + 4;
	*pos = off + 4 + sip__stun_pad4(a->len);
	return 1;
}

bool sip_stun_is_stun(const uint8_t *buf, size_t len)
{
	size_t bad_off;
	const char *why;

	return sip__stun_check_hdr(buf, len, &bad_off, &why) == 0;
}

static void sip__stun_put_hdr(uint8_t *buf, uint16_t type, size_t body_len,
			      const uint8_t txid[SIP_STUN_TXID_LEN])
{
	sip__stun_put16(buf, type);
	sip__stun_put16(buf + 2, (uint16_t)body_len);
	sip__stun_put32(buf + 4, SIP_STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, SIP_STUN_TXID_LEN);
}

/* Write one attribute at off with zero padding; returns the offset after it. */
static size_t sip__stun_put_attr(uint8_t *buf, size_t off, uint16_t type, const void *val,
				 size_t len)
{
	sip__stun_put16(buf + off, type);
	sip__stun_put16(buf + off + 2, (uint16_t)len);
	if (len)
		memcpy(buf + off + 4, val, len);
	memset(buf + off + 4 + len, 0, sip__stun_pad4(len) - len);
	return off + 4 + sip__stun_pad4(len);
}

/* FINGERPRINT as the last attribute at off; the header length must already count it. */
static void sip__stun_put_fingerprint(uint8_t *buf, size_t off)
{
	sip__stun_put16(buf + off, SIP_STUN_ATTR_FINGERPRINT);
	sip__stun_put16(buf + off + 2, 4);
	sip__stun_put32(buf + off + 4, sip__stun_fingerprint(buf, off));
}

int sip_stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[SIP_STUN_TXID_LEN],
			   struct sip_str software, bool fingerprint)
{
	size_t sw = 0, need, off = SIP_STUN_HDR_LEN;

	if (software.len > SIP_STUN_TEXT_MAX || (software.len && !software.p))
		return -EINVAL;
	if (software.len)
		sw = 4 + sip__stun_pad4(software.len);
	need = SIP_STUN_HDR_LEN + sw + (fingerprint ? 8 : 0);
	if (cap < need)
		return -ENOSPC;

	sip__stun_put_hdr(buf, SIP_STUN_BINDING_REQUEST, need - SIP_STUN_HDR_LEN, txid);
	if (sw)
		off = sip__stun_put_attr(buf, off, SIP_STUN_ATTR_SOFTWARE, software.p,
					 software.len);
	if (fingerprint)
		sip__stun_put_fingerprint(buf, off);
	return (int)need;
}

void sip_stun_ka_init(struct sip_stun_ka *k, const uint8_t txid_head[SIP_STUN_KA_HEAD_LEN])
{
	uint8_t *h = k->head;

	sip__stun_put16(h, SIP_STUN_BINDING_REQUEST);
	sip__stun_put16(h + 2, SIP_STUN_KA_LEN - SIP_STUN_HDR_LEN);
	sip__stun_put32(h + 4, SIP_STUN_MAGIC_COOKIE);
	memcpy(h + 8, txid_head, SIP_STUN_KA_HEAD_LEN);
	k->crc = sip__stun_crc_update(0xffffffffu, h, sizeof(k->head));
	k->sum = SIP_STUN_ATTR_FINGERPRINT + 4;
	for (size_t i = 0; i < sizeof(k->head); i += 2)
		k->sum += sip__stun_get16(h + i);
}

uint32_t sip_stun_ka_build(const struct sip_stun_ka *k, uint8_t buf[SIP_STUN_KA_LEN],
			   const uint8_t txid_tail[SIP_STUN_KA_TAIL_LEN])
{
	uint32_t fp = sip__stun_crc_update(k->crc, txid_tail, SIP_STUN_KA_TAIL_LEN) ^ 0xffffffffu ^
		      SIP__STUN_FINGERPRINT_XOR;
	uint32_t sum = k->sum + (fp >> 16) + (fp & 0xffff);

	for (size_t i = 0; i < SIP_STUN_KA_TAIL_LEN; i += 2)
		sum += sip__stun_get16(txid_tail + i);
	memcpy(buf, k->head, sizeof(k->head));
	memcpy(buf + sizeof(k->head), txid_tail, SIP_STUN_KA_TAIL_LEN);
	sip__stun_put16(buf + SIP_STUN_HDR_LEN, SIP_STUN_ATTR_FINGERPRINT);
	sip__stun_put16(buf + SIP_STUN_HDR_LEN + 2, 4);
	sip__stun_put32(buf + SIP_STUN_HDR_LEN + 4, fp);
	return sum;
}

int sip_stun_patch_txid(uint8_t *buf, size_t len, const uint8_t txid[SIP_STUN_TXID_LEN])
{
	struct sip__stun_attr a;
	size_t pos = SIP_STUN_HDR_LEN;
	const char *why;
	int rc;

	if (!sip_stun_is_stun(buf, len))
		return -EINVAL;
	memcpy(buf + 8, txid, SIP_STUN_TXID_LEN);
	/* Walk rather than peek at the last 8 octets: a SOFTWARE text could end in them. */
	while ((rc = sip__stun_next(buf, len, &pos, &a, &why)) > 0) {
		if (a.type == SIP_STUN_ATTR_FINGERPRINT && a.len == 4 && pos == len)
			sip__stun_put_fingerprint(buf, a.off);
	}
	return rc < 0 ? -EINVAL : 0;
}

int sip_stun_build_response(uint8_t *buf, size_t cap, const uint8_t txid[SIP_STUN_TXID_LEN],
			    const struct sip_stun_addr *mapped, bool fingerprint)
{
	uint8_t val[4 + 16];
	size_t alen, need, off, i;

	if (mapped->family == SIP_STUN_FAMILY_IPV4)
		alen = 4;
	else if (mapped->family == SIP_STUN_FAMILY_IPV6)
		alen = 16;
	else
		return -EINVAL;
	need = SIP_STUN_HDR_LEN + 4 + 4 + alen + (fingerprint ? 8 : 0);
	if (cap < need)
		return -ENOSPC;

	sip__stun_put_hdr(buf, SIP_STUN_BINDING_SUCCESS, need - SIP_STUN_HDR_LEN, txid);
	/*
	 * RFC 5389 §15.2: port XOR the cookie's top 16 bits, address XOR the cookie (IPv4) or
	 * cookie || transaction id (IPv6) -- exactly octets 4.. of the header just written.
	 */
	val[0] = 0;
	val[1] = mapped->family;
	sip__stun_put16(val + 2, mapped->port ^ (uint16_t)(SIP_STUN_MAGIC_COOKIE >> 16));
	for (i = 0; i < alen; i++)
		val[4 + i] = mapped->addr[i] ^ buf[4 + i];
	off = sip__stun_put_attr(buf, SIP_STUN_HDR_LEN, SIP_STUN_ATTR_XOR_MAPPED_ADDRESS, val,
				 4 + alen);
	if (fingerprint)
		sip__stun_put_fingerprint(buf, off);
	return (int)need;
}

/*
 * (XOR-)MAPPED-ADDRESS, RFC 5389 §15.1/§15.2. xor is the message's octets 4..19 (cookie
 * then transaction id) for XOR-MAPPED-ADDRESS, NULL for the plain one.
 */
static int sip__stun_decode_addr(const struct sip__stun_attr *a, const uint8_t * xor,
				 struct sip_stun_addr *out, const char **why)
{
	size_t alen, i;

	if (a->len < 4) {
		*why = "address attribute shorter than 4 octets";
		return -EBADMSG;
	}
	if (a->val[1] == SIP_STUN_FAMILY_IPV4) {
		alen = 4;
	} else if (a->val[1] == SIP_STUN_FAMILY_IPV6) {
		alen = 16;
	} else {
		*why = "address family is neither IPv4 nor IPv6";
		return -EBADMSG;
	}
	if (a->len != 4 + alen) {
		*why = "address attribute length does not match its family";
		return -EBADMSG;
	}
	out->family = a->val[1];
	out->port = sip__stun_get16(a->val + 2);
	/* an IPv4 address after an IPv6 one (MAPPED then XOR-MAPPED) leaves no stale octets */
	memset(out->addr, 0, sizeof(out->addr));
	memcpy(out->addr, a->val + 4, alen);
	if (xor) {
		out->port ^= sip__stun_get16(xor);
		for (i = 0; i < alen; i++)
			out->addr[i] ^= xor[i];
	}
	return 0;
}

/* ERROR-CODE, RFC 5389 §15.6: class 3-6 in the low 3 bits of octet 2, number 0-99. */
static int sip__stun_decode_error(const struct sip__stun_attr *a, struct sip_stun_msg *out,
				  const char **why)
{
	unsigned int cls, num;

	if (a->len < 4) {
		*why = "ERROR-CODE shorter than 4 octets";
		return -EBADMSG;
	}
	cls = a->val[2] & 7;
	num = a->val[3];
	if (cls < 3 || cls > 6 || num > 99) {
		*why = "ERROR-CODE class or number out of range";
		return -EBADMSG;
	}
	out->error_code = (int)(cls * 100 + num);
	out->error_reason = sip_str_make((const char *)a->val + 4, a->len - 4u);
	return 0;
}

/* One attribute before MESSAGE-INTEGRITY. Only the first of duplicates counts (§15). */
static int sip__stun_decode_attr(const uint8_t *buf, const struct sip__stun_attr *a,
				 struct sip_stun_msg *out, const char **why)
{
	int rc = 0;

	switch (a->type) {
	case SIP_STUN_ATTR_XOR_MAPPED_ADDRESS:
		if (!out->mapped_is_xor) {
			rc = sip__stun_decode_addr(a, buf + 4, &out->mapped, why);
			out->mapped_is_xor = rc == 0;
		}
		break;
	case SIP_STUN_ATTR_MAPPED_ADDRESS:
		/* Only a fallback: RFC 3489 servers send no XOR-MAPPED-ADDRESS (§7.3.3). */
		if (out->mapped.family == SIP_STUN_FAMILY_NONE)
			rc = sip__stun_decode_addr(a, NULL, &out->mapped, why);
		break;
	case SIP_STUN_ATTR_ERROR_CODE:
		if (!out->error_code)
			rc = sip__stun_decode_error(a, out, why);
		break;
	case SIP_STUN_ATTR_SOFTWARE:
		if (!out->software.p)
			out->software = sip_str_make((const char *)a->val, a->len);
		break;
	case SIP_STUN_ATTR_USERNAME:
		if (!out->username.p)
			out->username = sip_str_make((const char *)a->val, a->len);
		break;
	case SIP_STUN_ATTR_MESSAGE_INTEGRITY:
		if (a->len != SIP__STUN_HMAC_LEN) {
			*why = "MESSAGE-INTEGRITY is not 20 octets";
			return -EBADMSG;
		}
		out->integrity_off = a->off;
		break;
	case SIP_STUN_ATTR_UNKNOWN_ATTRIBUTES:
	case SIP_STUN_ATTR_REALM:
	case SIP_STUN_ATTR_NONCE:
		/* Known to RFC 5389 but of no use to a short-term keep-alive client. */
		break;
	default:
		/* RFC 5389 §15: below 0x8000 is comprehension-required. */
		if (a->type < 0x8000 && !out->unknown_required)
			out->unknown_required = a->type;
		break;
	}
	return rc;
}

/* FINGERPRINT must be last (RFC 5389 §15.5) and match. */
static int sip__stun_check_fingerprint(const uint8_t *buf, size_t len,
				       const struct sip__stun_attr *a, const char **why)
{
	if (a->len != 4) {
		*why = "FINGERPRINT is not 4 octets";
		return -EBADMSG;
	}
	if (a->off + 8 != len) {
		*why = "FINGERPRINT is not the last attribute";
		return -EBADMSG;
	}
	if (sip__stun_get32(a->val) != sip__stun_fingerprint(buf, a->off)) {
		*why = "FINGERPRINT does not match";
		return -EBADMSG;
	}
	return 0;
}

int sip_stun_parse(const uint8_t *buf, size_t len, struct sip_stun_msg *out)
{
	struct sip__stun_attr a = {0};
	size_t pos = SIP_STUN_HDR_LEN;
	const char *why = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (sip__stun_check_hdr(buf, len, &out->bad_off, &out->bad_why))
		return -EBADMSG;

	out->type = sip__stun_get16(buf);
	/* RFC 5389 §6: C1 is bit 8 and C0 bit 4; the method fills the other 12 bits. */
	out->cls = (uint8_t)((out->type >> 7 & 2) | (out->type >> 4 & 1));
	out->method = (uint16_t)((out->type & 0x000f) | (out->type >> 1 & 0x0070) |
				 (out->type >> 2 & 0x0f80));
	memcpy(out->txid, buf + 8, SIP_STUN_TXID_LEN);

	while ((rc = sip__stun_next(buf, len, &pos, &a, &why)) > 0) {
		if (a.type == SIP_STUN_ATTR_FINGERPRINT) {
			rc = sip__stun_check_fingerprint(buf, len, &a, &why);
			out->fingerprint_ok = rc == 0;
		} else if (!out->integrity_off) {
			/* RFC 5389 §15.4: what follows MESSAGE-INTEGRITY is ignored. */
			rc = sip__stun_decode_attr(buf, &a, out, &why);
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		out->bad_off = a.off;
		out->bad_why = why;
		return -EBADMSG;
	}
	return 0;
}

/*
 * HMAC-SHA1 over the message up to mi_off with the header length rewritten to end at
 * MESSAGE-INTEGRITY (RFC 5389 §15.4), so a FINGERPRINT after it does not count. The
 * patched header goes through a 20-octet copy; the caller's buffer stays const.
 */
static int sip__stun_hmac_sha1(const uint8_t *buf, size_t mi_off, const uint8_t *key, size_t keylen,
			       uint8_t mac[SIP__STUN_HMAC_LEN])
{
	static const uint8_t no_key;
	char digest[] = "SHA1";
	OSSL_PARAM params[2];
	uint8_t hdr[SIP_STUN_HDR_LEN];
	EVP_MAC_CTX *ctx = NULL;
	EVP_MAC *hmac;
	size_t maclen = 0;
	int rc = -EIO;

	memcpy(hdr, buf, SIP_STUN_HDR_LEN);
	sip__stun_put16(hdr + 2, (uint16_t)(mi_off + 4 + SIP__STUN_HMAC_LEN - SIP_STUN_HDR_LEN));

	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!hmac)
		return -EIO;
	ctx = EVP_MAC_CTX_new(hmac);
	if (!ctx) {
		rc = -ENOMEM;
		goto out;
	}
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A NULL key would mean "keep the previous one" to EVP_MAC_init. */
	if (EVP_MAC_init(ctx, key ? key : &no_key, keylen, params) &&
	    EVP_MAC_update(ctx, hdr, sizeof(hdr)) &&
	    EVP_MAC_update(ctx, buf + SIP_STUN_HDR_LEN, mi_off - SIP_STUN_HDR_LEN) &&
	    EVP_MAC_final(ctx, mac, &maclen, SIP__STUN_HMAC_LEN) && maclen == SIP__STUN_HMAC_LEN)
		rc = 0;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return rc;
}

int sip_stun_check_integrity(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen)
{
	uint8_t mac[SIP__STUN_HMAC_LEN];
	struct sip__stun_attr a;
	size_t pos = SIP_STUN_HDR_LEN, bad_off;
	const char *why;
	int rc;

	if (sip__stun_check_hdr(buf, len, &bad_off, &why))
		return -EBADMSG;
	while ((rc = sip__stun_next(buf, len, &pos, &a, &why)) > 0) {
		if (a.type == SIP_STUN_ATTR_MESSAGE_INTEGRITY)
			break;
	}
	if (rc < 0)
		return rc;
	if (rc == 0)
		return -ENOENT;
	if (a.len != SIP__STUN_HMAC_LEN)
		return -EBADMSG;

	rc = sip__stun_hmac_sha1(buf, a.off, key, keylen, mac);
	if (rc)
		return rc;
	/* Constant time: a timing leak here would let a peer forge the HMAC octet by octet. */
	return CRYPTO_memcmp(mac, a.val, SIP__STUN_HMAC_LEN) ? -EACCES : 0;
}

bool sip_stun_match(const struct sip_stun_msg *msg, const uint8_t txid[SIP_STUN_TXID_LEN])
{
	return msg->method == SIP_STUN_METHOD_BINDING &&
	       (msg->cls == SIP_STUN_CLASS_SUCCESS || msg->cls == SIP_STUN_CLASS_ERROR) &&
	       memcmp(msg->txid, txid, SIP_STUN_TXID_LEN) == 0;
}
