/*
 * STUN Binding (RFC 5389) for the UDP keep-alives of SIP outbound flows (RFC 5626 §4.4.2):
 * tell STUN from SIP on the shared port, build requests and responses into caller buffers,
 * parse and verify responses. No allocation; views point into the caller's buffer.
 */
#ifndef SIP_STUN_H
#define SIP_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/str.h"

#define SIP_STUN_HDR_LEN 20
#define SIP_STUN_TXID_LEN 12
#define SIP_STUN_MAGIC_COOKIE 0x2112a442u
/* A Binding request with FINGERPRINT only: header plus one 8-octet attribute. */
#define SIP_STUN_REQUEST_FP_LEN (SIP_STUN_HDR_LEN + 8)
/* RFC 5389 §15.10 and §15.6: SOFTWARE and the ERROR-CODE reason are at most 763 octets. */
#define SIP_STUN_TEXT_MAX 763

/* Message classes, RFC 5389 §6 (the two C bits of the message type). */
enum sip_stun_class {
	SIP_STUN_CLASS_REQUEST = 0,
	SIP_STUN_CLASS_INDICATION = 1,
	SIP_STUN_CLASS_SUCCESS = 2,
	SIP_STUN_CLASS_ERROR = 3,
};

#define SIP_STUN_METHOD_BINDING 0x001

/* Full message types for the Binding method, RFC 5389 §18.1. */
enum sip_stun_type {
	SIP_STUN_BINDING_REQUEST = 0x0001,
	SIP_STUN_BINDING_INDICATION = 0x0011,
	SIP_STUN_BINDING_SUCCESS = 0x0101,
	SIP_STUN_BINDING_ERROR = 0x0111,
};

/* Attribute types this module reads or writes, RFC 5389 §18.2. */
enum sip_stun_attr {
	SIP_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
	SIP_STUN_ATTR_USERNAME = 0x0006,
	SIP_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
	SIP_STUN_ATTR_ERROR_CODE = 0x0009,
	SIP_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000a,
	SIP_STUN_ATTR_REALM = 0x0014,
	SIP_STUN_ATTR_NONCE = 0x0015,
	SIP_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
	SIP_STUN_ATTR_SOFTWARE = 0x8022,
	SIP_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
	SIP_STUN_ATTR_FINGERPRINT = 0x8028,
};

/* Address family octet of (XOR-)MAPPED-ADDRESS, RFC 5389 §15.1 (not AF_INET/AF_INET6). */
enum sip_stun_family {
	SIP_STUN_FAMILY_NONE = 0,
	SIP_STUN_FAMILY_IPV4 = 1,
	SIP_STUN_FAMILY_IPV6 = 2,
};

/* A transport address in the clear: port in host order, address octets in network order. */
struct sip_stun_addr {
	uint8_t family; /* enum sip_stun_family; NONE when absent */
	uint16_t port;
	uint8_t addr[16]; /* IPv4 uses addr[0..3] */
};

/*
 * What sip_stun_parse() found. The caller owns it; the sip_str views point into the
 * parsed buffer and live as long as it does.
 */
struct sip_stun_msg {
	uint16_t type;	 /* full 14-bit message type, e.g. SIP_STUN_BINDING_SUCCESS */
	uint16_t method; /* SIP_STUN_METHOD_BINDING for us */
	uint8_t cls;	 /* enum sip_stun_class */
	uint8_t txid[SIP_STUN_TXID_LEN];

	/* XOR-MAPPED-ADDRESS if present, else MAPPED-ADDRESS (RFC 5389 §7.3.3, old servers). */
	struct sip_stun_addr mapped;
	bool mapped_is_xor;

	struct sip_str software;
	struct sip_str username;

	/* ERROR-CODE: class * 100 + number (e.g. 401), 0 when absent. */
	int error_code;
	struct sip_str error_reason;

	/* MESSAGE-INTEGRITY attribute header offset; 0 when absent (offset 0 is the header). */
	size_t integrity_off;
	/* FINGERPRINT was present and matched; a mismatch fails the parse instead. */
	bool fingerprint_ok;

	/*
	 * First comprehension-required attribute (type < 0x8000) we do not understand; 0 if
	 * none. RFC 5389 §7.3.3: a response carrying one fails the transaction, a request gets
	 * 420. The caller decides, so the parse still succeeds.
	 */
	uint16_t unknown_required;

	/* On -EBADMSG: octet offset of the fault (may equal the length if truncated), and why. */
	size_t bad_off;
	const char *bad_why;
};

/*
 * Is this datagram on the SIP port a STUN message? RFC 5626 §4.4.2 multiplexes STUN with
 * SIP on one flow; SIP text never starts with 0x00-0x3f, STUN always does (RFC 7983 §7).
 * True iff len >= 20, top two bits 0, magic cookie at offset 4, and the length field is a
 * multiple of 4 and equals len - 20. Hot path: a few loads, no loop.
 */
bool sip_stun_is_stun(const uint8_t *buf, size_t len);

/*
 * Write a Binding request with the caller's 96-bit transaction id (RFC 5389 §6: it must
 * be uniformly random; this module has no RNG on purpose). software may be SIP_STR_NULL;
 * fingerprint adds FINGERPRINT (RFC 5389 §15.5). Returns the length written, -ENOSPC if
 * cap is too small (nothing past cap is written), -EINVAL for a SOFTWARE text too long.
 */
int sip_stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[SIP_STUN_TXID_LEN],
			   struct sip_str software, bool fingerprint);

/*
 * Keep-alive Binding requests (RFC 5626 §4.4.2) that share the first 4 octets of their
 * transaction id and differ in the last 8 (a line and a counter, say): the CRC of the 12
 * octets before those is taken once, so a request's FINGERPRINT costs 8 octets of CRC, not
 * 20 (CRC was 8 % of a busy worker's samples on keep-alives). The caller keeps the id
 * unguessable enough for its purpose; the head is fixed per template.
 */
#define SIP_STUN_KA_LEN 28     /* header and FINGERPRINT */
#define SIP_STUN_KA_HEAD_LEN 4 /* fixed part of the transaction id */
#define SIP_STUN_KA_TAIL_LEN 8 /* per-request part */
struct sip_stun_ka {
	uint8_t head[SIP_STUN_HDR_LEN - SIP_STUN_KA_TAIL_LEN]; /* type .. txid head */
	uint32_t crc;					       /* CRC register after head */
	uint32_t sum; /* head's and FINGERPRINT's type and length words, added */
};

void sip_stun_ka_init(struct sip_stun_ka *k, const uint8_t txid_head[SIP_STUN_KA_HEAD_LEN]);

/*
 * Write the SIP_STUN_KA_LEN-octet request whose transaction id is the template's head then
 * txid_tail, FINGERPRINT included: what sip_stun_build_request writes for that id. Returns
 * its 16-bit big-endian words added up, unfolded (RFC 1071), for the UDP checksum the
 * caller writes next, so that it need not read back the octets just stored. Hot path.
 */
uint32_t sip_stun_ka_build(const struct sip_stun_ka *k, uint8_t buf[SIP_STUN_KA_LEN],
			   const uint8_t txid_tail[SIP_STUN_KA_TAIL_LEN]);

/*
 * Re-arm a prebuilt message (20 octets, 28 with FINGERPRINT) for a new transaction: write
 * txid and recompute FINGERPRINT if it is the last attribute. Hot path: no allocation, no
 * syscall, one CRC over at most the message. Returns 0, or -EINVAL if buf is not STUN.
 */
int sip_stun_patch_txid(uint8_t *buf, size_t len, const uint8_t txid[SIP_STUN_TXID_LEN]);

/*
 * Write a Binding success response (0x0101) carrying XOR-MAPPED-ADDRESS for mapped (IPv4
 * or IPv6), optionally FINGERPRINT. For the benchmark responder and tests. Returns the
 * length, -ENOSPC if cap is too small, -EINVAL for a bad family.
 */
int sip_stun_build_response(uint8_t *buf, size_t cap, const uint8_t txid[SIP_STUN_TXID_LEN],
			    const struct sip_stun_addr *mapped, bool fingerprint);

/*
 * Parse and verify one STUN message (a whole datagram). Every attribute length is checked
 * against the buffer; FINGERPRINT, when present, must be last and must match. Attributes
 * after MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 5389 §15.4). Returns 0,
 * or -EBADMSG with out->bad_off and out->bad_why set.
 */
int sip_stun_parse(const uint8_t *buf, size_t len, struct sip_stun_msg *out);

/*
 * Verify MESSAGE-INTEGRITY with short-term credentials (key = the password as given,
 * RFC 5389 §15.4). Not on the keep-alive hot path: it goes through libcrypto. Returns 0 if
 * it matches, -EACCES if it does not, -ENOENT if the message has none, -EBADMSG if the
 * message is malformed, -ENOMEM/-EIO if libcrypto fails.
 */
int sip_stun_check_integrity(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen);

/* Is msg a Binding success or error response to the transaction txid (RFC 5389 §7.3)? */
bool sip_stun_match(const struct sip_stun_msg *msg, const uint8_t txid[SIP_STUN_TXID_LEN]);

#endif
