/*
 * Promises of dataplane/net.c on frames built octet by octet in plain arrays (no EAL):
 * ARP answered for the line range only and learned from the next hop, ICMP echo
 * answered with valid checksums, UDP built and classified back, and every drop reason.
 * Checksums are verified with a one's-complement sum written here, not DPDK's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataplane/net.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define OUR_FIRST IP(198, 18, 0, 10)
#define OUR_LAST IP(198, 18, 0, 19)
#define SERVER IP(198, 18, 0, 1)
#define STRANGER IP(198, 18, 0, 77)

#define ETH_ARP 0x0806
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd

/* Offsets in a frame: Ethernet, then IPv4 (20 octets, no options), then UDP/ICMP/ARP. */
#define O_ETH_DST 0
#define O_ETH_SRC 6
#define O_ETH_TYPE 12
#define O_IP 14
#define O_IP_TOT (O_IP + 2)
#define O_IP_FRAG (O_IP + 6)
#define O_IP_TTL (O_IP + 8)
#define O_IP_PROTO (O_IP + 9)
#define O_IP_CSUM (O_IP + 10)
#define O_IP_SRC (O_IP + 12)
#define O_IP_DST (O_IP + 16)
#define O_L4 34
#define O_UDP_SPORT (O_L4 + 0)
#define O_UDP_DPORT (O_L4 + 2)
#define O_UDP_LEN (O_L4 + 4)
#define O_UDP_CSUM (O_L4 + 6)
#define O_ARP_OP (O_IP + 6)
#define O_ARP_SHA (O_IP + 8)
#define O_ARP_SIP (O_IP + 14)
#define O_ARP_THA (O_IP + 18)
#define O_ARP_TIP (O_IP + 24)

static const uint8_t our_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t peer_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xaa};
static const uint8_t other_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xbb};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static const char sip_payload[] = "SIP/2.0 200 OK\r\nCSeq: 1 REGISTER\r\n\r\n!"; /* odd length */

static struct dp_net net_make(void)
{
	struct dp_net n = {.ip_first = OUR_FIRST, .ip_last = OUR_LAST, .next_hop = SERVER};

	memcpy(n.mac.b, our_mac, 6);
	return n;
}

static void put16(uint8_t *f, size_t off, uint16_t v)
{
	f[off] = (uint8_t)(v >> 8);
	f[off + 1] = (uint8_t)v;
}

static void put32(uint8_t *f, size_t off, uint32_t v)
{
	put16(f, off, (uint16_t)(v >> 16));
	put16(f, off + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *f, size_t off)
{
	return (uint16_t)(f[off] << 8 | f[off + 1]);
}

static uint32_t get32(const uint8_t *f, size_t off)
{
	return (uint32_t)get16(f, off) << 16 | get16(f, off + 2);
}

/* RFC 1071 one's-complement sum of big-endian 16-bit words, odd octet padded with zero. */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc)
{
	for (size_t k = 0; k + 1 < len; k += 2)
		acc += (uint32_t)(p[k] << 8 | p[k + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

/* A header or message with its checksum in place sums to all ones. */
static bool ip_cksum_ok(const uint8_t *f)
{
	return fold(sum16(f + O_IP, 20, 0)) == 0xffff;
}

static bool udp_cksum_ok(const uint8_t *f)
{
	uint16_t ulen = get16(f, O_UDP_LEN);
	uint32_t acc = sum16(f + O_IP_SRC, 8, 0) + 17 + ulen; /* pseudo-header */

	return fold(sum16(f + O_L4, ulen, acc)) == 0xffff;
}

static void ip_cksum_set(uint8_t *f)
{
	put16(f, O_IP_CSUM, 0);
	put16(f, O_IP_CSUM, (uint16_t)~fold(sum16(f + O_IP, 20, 0)));
}

static void udp_cksum_set(uint8_t *f)
{
	uint16_t ulen = get16(f, O_UDP_LEN);
	uint16_t c;

	put16(f, O_UDP_CSUM, 0);
	c = (uint16_t)~fold(sum16(f + O_L4, ulen, sum16(f + O_IP_SRC, 8, 0) + 17 + ulen));
	put16(f, O_UDP_CSUM, c ? c : 0xffff);
}

static void eth_put(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f + O_ETH_DST, dst, 6);
	memcpy(f + O_ETH_SRC, src, 6);
	put16(f, O_ETH_TYPE, type);
}

static void ip_put(uint8_t *f, uint8_t proto, uint32_t src, uint32_t dst, size_t l4_len)
{
	f[O_IP] = 0x45;
	f[O_IP + 1] = 0;
	put16(f, O_IP_TOT, (uint16_t)(20 + l4_len));
	put16(f, O_IP + 4, 0x1234);
	put16(f, O_IP_FRAG, 0x4000); /* DF */
	f[O_IP_TTL] = 61;
	f[O_IP_PROTO] = proto;
	put32(f, O_IP_SRC, src);
	put32(f, O_IP_DST, dst);
	ip_cksum_set(f);
}

/* A datagram from the server to one of our lines; returns the frame length. */
static size_t udp_frame(uint8_t *f, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
			const char *payload, size_t plen)
{
	memset(f, 0, DP_NET_UDP_HDRS_LEN + plen);
	eth_put(f, our_mac, peer_mac, ETH_IPV4);
	ip_put(f, 17, src, dst, 8 + plen);
	put16(f, O_UDP_SPORT, sport);
	put16(f, O_UDP_DPORT, dport);
	put16(f, O_UDP_LEN, (uint16_t)(8 + plen));
	memcpy(f + DP_NET_UDP_HDRS_LEN, payload, plen);
	udp_cksum_set(f);
	return DP_NET_UDP_HDRS_LEN + plen;
}

static size_t default_udp_frame(uint8_t *f)
{
	return udp_frame(f, SERVER, 5060, OUR_FIRST + 3, 5062, sip_payload,
			 sizeof(sip_payload) - 1);
}

/* An ICMP message of type/code with an echo id, sequence and data; returns the length. */
static size_t icmp_frame(uint8_t *f, uint8_t type, uint8_t code, uint32_t dst, size_t data_len)
{
	size_t ilen = 8 + data_len;

	memset(f, 0, O_L4 + ilen);
	eth_put(f, our_mac, peer_mac, ETH_IPV4);
	ip_put(f, 1, SERVER, dst, ilen);
	f[O_L4] = type;
	f[O_L4 + 1] = code;
	put16(f, O_L4 + 4, 0xbeef); /* identifier */
	put16(f, O_L4 + 6, 7);	    /* sequence */
	for (size_t k = 0; k < data_len; k++)
		f[O_L4 + 8 + k] = (uint8_t)(k * 7 + 1);
	put16(f, O_L4 + 2, (uint16_t)~fold(sum16(f + O_L4, ilen, 0)));
	return O_L4 + ilen;
}

/* An ARP frame padded to the Ethernet minimum; returns DP_NET_ARP_FRAME_LEN. */
static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t sip,
			const uint8_t *tha, uint32_t tip)
{
	memset(f, 0, DP_NET_ARP_FRAME_LEN);
	eth_put(f, op == 1 ? bcast : our_mac, sha, ETH_ARP);
	put16(f, O_IP, 1);	      /* hardware: Ethernet */
	put16(f, O_IP + 2, ETH_IPV4); /* protocol */
	f[O_IP + 4] = 6;
	f[O_IP + 5] = 4;
	put16(f, O_ARP_OP, op);
	memcpy(f + O_ARP_SHA, sha, 6);
	put32(f, O_ARP_SIP, sip);
	memcpy(f + O_ARP_THA, tha, 6);
	put32(f, O_ARP_TIP, tip);
	return DP_NET_ARP_FRAME_LEN;
}

static struct dp_pkt classify(struct dp_net *n, const uint8_t *f, size_t len)
{
	struct dp_pkt p;

	dp_net_classify(n, f, len, &p);
	return p;
}

/* Classify a copy in a heap block of exactly len octets, so ASan sees any over-read. */
static struct dp_pkt classify_exact(struct dp_net *n, const uint8_t *f, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct dp_pkt p;

	assert_non_null(copy);
	memcpy(copy, f, len);
	dp_net_classify(n, copy, len, &p);
	free(copy);
	return p;
}

static void assert_dropped(struct dp_net *n, const uint8_t *f, size_t len, enum dp_drop why)
{
	struct dp_pkt p = classify_exact(n, f, len);

	assert_int_equal(p.kind, DP_PKT_DROP);
	assert_string_equal(dp_drop_name(p.drop), dp_drop_name(why));
}

/* ---- ARP ---------------------------------------------------------------------------- */

static void arp_request_for_an_address_in_the_range_is_to_be_answered(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 1, peer_mac, STRANGER, (const uint8_t[6]){0}, OUR_LAST);
	struct dp_pkt p = classify(&n, f, len);

	(void)state;
	assert_int_equal(p.kind, DP_PKT_ARP_REQUEST);
	assert_int_equal(p.dst_ip, OUR_LAST);
	assert_int_equal(p.src_ip, STRANGER);
}

static void arp_reply_answers_with_our_mac_and_swapped_addresses(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 1, peer_mac, STRANGER, (const uint8_t[6]){0}, OUR_FIRST + 2);

	(void)state;
	assert_int_equal(dp_net_arp_reply(&n, f, len), DP_NET_ARP_FRAME_LEN);
	assert_memory_equal(f + O_ETH_DST, peer_mac, 6);
	assert_memory_equal(f + O_ETH_SRC, our_mac, 6);
	assert_int_equal(get16(f, O_ETH_TYPE), ETH_ARP);
	assert_int_equal(get16(f, O_IP), 1);
	assert_int_equal(get16(f, O_IP + 2), ETH_IPV4);
	assert_int_equal(f[O_IP + 4], 6);
	assert_int_equal(f[O_IP + 5], 4);
	assert_int_equal(get16(f, O_ARP_OP), 2);
	assert_memory_equal(f + O_ARP_SHA, our_mac, 6);
	assert_int_equal(get32(f, O_ARP_SIP), OUR_FIRST + 2);
	assert_memory_equal(f + O_ARP_THA, peer_mac, 6);
	assert_int_equal(get32(f, O_ARP_TIP), STRANGER);
}

static void arp_request_for_an_address_outside_the_range_is_not_answered(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 1, peer_mac, STRANGER, (const uint8_t[6]){0}, OUR_LAST + 1);

	(void)state;
	assert_int_equal(classify(&n, f, len).kind, DP_PKT_ARP_OTHER);
	arp_frame(f, 1, peer_mac, STRANGER, (const uint8_t[6]){0}, OUR_FIRST - 1);
	assert_int_equal(classify(&n, f, len).kind, DP_PKT_ARP_OTHER);
}

static void arp_reply_to_us_is_not_answered(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 2, peer_mac, STRANGER, our_mac, OUR_FIRST);

	(void)state;
	assert_int_equal(classify(&n, f, len).kind, DP_PKT_ARP_OTHER);
}

static void arp_reply_from_the_next_hop_teaches_its_mac(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 2, peer_mac, SERVER, our_mac, OUR_FIRST);

	(void)state;
	assert_false(n.next_hop_known);
	classify(&n, f, len);
	assert_true(n.next_hop_known);
	assert_memory_equal(n.next_hop_mac.b, peer_mac, 6);
}

static void arp_request_from_the_next_hop_teaches_its_mac(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 1, other_mac, SERVER, (const uint8_t[6]){0}, OUR_FIRST);

	(void)state;
	classify(&n, f, len);
	assert_true(n.next_hop_known);
	assert_memory_equal(n.next_hop_mac.b, other_mac, 6);
}

static void arp_from_another_host_does_not_change_the_next_hop_mac(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 2, peer_mac, SERVER, our_mac, OUR_FIRST);

	(void)state;
	classify(&n, f, len);
	arp_frame(f, 2, other_mac, STRANGER, our_mac, OUR_FIRST);
	classify(&n, f, len);
	assert_true(n.next_hop_known);
	assert_memory_equal(n.next_hop_mac.b, peer_mac, 6);
}

static void arp_request_we_write_is_one_our_reply_code_would_answer(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];

	(void)state;
	assert_int_equal(dp_net_arp_request(&n, OUR_FIRST, SERVER, f), DP_NET_ARP_FRAME_LEN);
	assert_memory_equal(f + O_ETH_DST, bcast, 6);
	assert_memory_equal(f + O_ETH_SRC, our_mac, 6);
	assert_int_equal(get16(f, O_ETH_TYPE), ETH_ARP);
	assert_int_equal(get16(f, O_ARP_OP), 1);
	assert_memory_equal(f + O_ARP_SHA, our_mac, 6);
	assert_int_equal(get32(f, O_ARP_SIP), OUR_FIRST);
	assert_int_equal(get32(f, O_ARP_TIP), SERVER);
	/* seen from the server's side (its range holding SERVER), it asks for SERVER */
	n.ip_first = n.ip_last = SERVER;
	n.next_hop = 0;
	assert_int_equal(classify(&n, f, DP_NET_ARP_FRAME_LEN).kind, DP_PKT_ARP_REQUEST);
}

static void arp_with_wrong_hardware_or_protocol_is_malformed(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = arp_frame(f, 1, peer_mac, STRANGER, (const uint8_t[6]){0}, OUR_FIRST);

	(void)state;
	put16(f, O_IP + 2, ETH_IPV6);
	assert_dropped(&n, f, len, DP_DROP_ARP_MALFORMED);
}

/* ---- ICMP --------------------------------------------------------------------------- */

static void icmp_echo_request_to_one_of_ours_is_to_be_answered(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len = icmp_frame(f, 8, 0, OUR_FIRST + 1, 37);
	struct dp_pkt p = classify(&n, f, len);

	(void)state;
	assert_int_equal(p.kind, DP_PKT_ICMP_ECHO);
	assert_int_equal(p.payload_off, O_L4);
	assert_int_equal(p.payload_len, 8 + 37);
}

static void icmp_echo_reply_has_valid_ip_and_icmp_checksums(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len = icmp_frame(f, 8, 0, OUR_FIRST + 1, 37); /* odd: the last word is padded */
	struct dp_pkt p = classify(&n, f, len);

	(void)state;
	assert_int_equal(dp_net_icmp_echo_reply(&n, f, &p), len);
	assert_true(ip_cksum_ok(f));
	assert_int_equal(fold(sum16(f + O_L4, 8 + 37, 0)), 0xffff);
}

static void icmp_echo_reply_swaps_addresses_and_keeps_the_echo(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128], orig[128];
	size_t len = icmp_frame(f, 8, 0, OUR_FIRST + 1, 37);
	struct dp_pkt p = classify(&n, f, len);

	(void)state;
	memcpy(orig, f, len);
	dp_net_icmp_echo_reply(&n, f, &p);
	assert_memory_equal(f + O_ETH_DST, peer_mac, 6);
	assert_memory_equal(f + O_ETH_SRC, our_mac, 6);
	assert_int_equal(get32(f, O_IP_SRC), OUR_FIRST + 1);
	assert_int_equal(get32(f, O_IP_DST), SERVER);
	assert_int_equal(f[O_L4], 0); /* echo reply */
	assert_int_equal(f[O_L4 + 1], 0);
	assert_memory_equal(f + O_L4 + 4, orig + O_L4 + 4, 4 + 37); /* id, seq, data */
}

static void icmp_other_than_echo_request_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len;

	(void)state;
	len = icmp_frame(f, 0, 0, OUR_FIRST, 8); /* echo reply */
	assert_dropped(&n, f, len, DP_DROP_ICMP_OTHER);
	len = icmp_frame(f, 5, 1, OUR_FIRST, 28); /* redirect */
	assert_dropped(&n, f, len, DP_DROP_ICMP_OTHER);
	len = icmp_frame(f, 13, 0, OUR_FIRST, 12); /* timestamp */
	assert_dropped(&n, f, len, DP_DROP_ICMP_OTHER);
}

/* Port unreachable from the server, quoting the IP header and 8 octets of our datagram. */
static size_t unreach_frame(uint8_t *f, uint8_t quoted_proto)
{
	uint8_t *q = f + O_L4 + 8;
	size_t ilen = 8 + 20 + 8;

	memset(f, 0, O_L4 + ilen);
	eth_put(f, our_mac, peer_mac, ETH_IPV4);
	ip_put(f, 1, SERVER, OUR_FIRST + 1, ilen);
	f[O_L4] = 3;
	f[O_L4 + 1] = 3;
	q[0] = 0x45;
	put16(q, 2, 20 + 8 + 500);
	q[8] = 64;
	q[9] = quoted_proto;
	put32(q, 12, OUR_FIRST + 1);
	put32(q, 16, SERVER);
	put16(q, 20, 5061);
	put16(q, 22, 5060);
	put16(q, 24, 8 + 500);
	put16(f, O_L4 + 2, (uint16_t)~fold(sum16(f + O_L4, ilen, 0)));
	return O_L4 + ilen;
}

static void icmp_port_unreachable_names_the_datagram_that_failed(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len = unreach_frame(f, 17);
	struct dp_pkt p = classify_exact(&n, f, len);

	(void)state;
	assert_int_equal(p.kind, DP_PKT_ICMP_UNREACH);
	assert_int_equal(p.src_ip, SERVER);
	assert_int_equal(p.src_port, 5060);
	assert_int_equal(p.dst_ip, OUR_FIRST + 1);
	assert_int_equal(p.dst_port, 5061);
}

static void icmp_unreachable_quoting_other_than_udp_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len = unreach_frame(f, 6);

	(void)state;
	assert_dropped(&n, f, len, DP_DROP_ICMP_OTHER);
}

static void icmp_unreachable_cut_inside_its_quote_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len = unreach_frame(f, 17);

	(void)state;
	/* RFC 792 quotes 8 octets past the IP header: fewer name no port */
	for (size_t cut = 1; cut <= 8; cut++) {
		put16(f, O_IP_TOT, (uint16_t)(len - O_IP - cut));
		ip_cksum_set(f);
		assert_int_equal(classify_exact(&n, f, len - cut).kind, DP_PKT_DROP);
	}
}

/* ---- UDP ---------------------------------------------------------------------------- */

static void udp_built_by_udp_finish_classifies_back_unchanged(void **state)
{
	struct dp_net n = net_make();
	struct dp_mac dst = {{0x02, 0, 0, 0, 0, 0xaa}};
	uint8_t f[256];
	size_t plen = sizeof(sip_payload) - 1, len;
	struct dp_pkt p;

	(void)state;
	memcpy(f + DP_NET_UDP_HDRS_LEN, sip_payload, plen);
	len = dp_net_udp_finish(&n, f, &dst, SERVER, 5060, OUR_LAST, 5999, plen);
	assert_int_equal(len, DP_NET_UDP_HDRS_LEN + plen);
	p = classify_exact(&n, f, len);
	assert_int_equal(p.kind, DP_PKT_UDP);
	assert_int_equal(p.src_ip, SERVER);
	assert_int_equal(p.dst_ip, OUR_LAST);
	assert_int_equal(p.src_port, 5060);
	assert_int_equal(p.dst_port, 5999);
	assert_memory_equal(p.src_mac.b, our_mac, 6);
	assert_int_equal(p.payload_off, DP_NET_UDP_HDRS_LEN);
	assert_int_equal(p.payload_len, plen);
	assert_memory_equal(f + p.payload_off, sip_payload, plen);
}

static void udp_finish_writes_valid_ip_and_udp_checksums(void **state)
{
	struct dp_net n = net_make();
	struct dp_mac dst = {{0x02, 0, 0, 0, 0, 0xaa}};
	uint8_t f[256];
	size_t plen = sizeof(sip_payload) - 1;

	(void)state;
	memcpy(f + DP_NET_UDP_HDRS_LEN, sip_payload, plen);
	dp_net_udp_finish(&n, f, &dst, OUR_FIRST, 5060, SERVER, 5060, plen);
	assert_true(ip_cksum_ok(f));
	assert_int_not_equal(get16(f, O_UDP_CSUM), 0);
	assert_true(udp_cksum_ok(f));
}

/* Every payload length 0..80 (odd ones too), from addresses and ports that carry into
 * every fold: dp_net_udp_finish_sum, given dp_net_sum, writes what a peer verifies. */
static void udp_finish_sum_checksums_verify_for_every_length_and_address(void **state)
{
	struct dp_net n = net_make();
	struct dp_mac dst = {{0x02, 0, 0, 0, 0, 0xaa}};
	uint8_t f[256];
	uint32_t x = 12345;

	(void)state;
	for (size_t plen = 0; plen <= 80; plen++) {
		for (unsigned r = 0; r < 20; r++) {
			uint32_t src, dsti;
			uint16_t sp, dpt;

			for (size_t k = 0; k < plen; k++) {
				x = x * 1103515245u + 12345u;
				f[DP_NET_UDP_HDRS_LEN + k] = (uint8_t)(r & 1 ? 0xff : x >> 16);
			}
			x = x * 1103515245u + 12345u;
			src = r & 2 ? 0xfffffffeu : x;
			x = x * 1103515245u + 12345u;
			dsti = x;
			sp = (uint16_t)(r & 4 ? 0xffff : x >> 7);
			dpt = (uint16_t)(x >> 3);
			memset(f, 0x5a, DP_NET_UDP_HDRS_LEN);
			dp_net_udp_finish_sum(&n, f, &dst, src, sp, dsti, dpt, plen,
					      dp_net_sum(f + DP_NET_UDP_HDRS_LEN, plen));
			assert_true(ip_cksum_ok(f));
			assert_true(udp_cksum_ok(f));
			assert_int_not_equal(get16(f, O_UDP_CSUM), 0);
		}
	}
}

/* RFC 768: a checksum that computes to 0 is sent as all ones, 0 meaning "none". */
static void udp_finish_sends_a_zero_checksum_as_all_ones(void **state)
{
	struct dp_net n = net_make();
	struct dp_mac dst = {{0x02, 0, 0, 0, 0, 0xaa}};
	uint8_t f[64];
	bool seen = false;

	(void)state;
	/* the payload's one word steps through every value: one of them sums to 0xffff */
	for (uint32_t v = 0; v <= 0xffff && !seen; v++) {
		put16(f, DP_NET_UDP_HDRS_LEN, (uint16_t)v);
		dp_net_udp_finish(&n, f, &dst, OUR_FIRST, 5060, SERVER, 5060, 2);
		assert_true(udp_cksum_ok(f));
		seen = get16(f, O_UDP_CSUM) == 0xffff;
	}
	assert_true(seen);
}

/* The fetch-ahead peek reads a UDP frame's destination as classify does, and declines
 * ICMP, ARP and a runt. */
static void udp_dst_peek_reads_what_classify_reads_and_declines_the_rest(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);
	struct dp_pkt p = classify_exact(&n, f, len);
	uint32_t ip;
	uint16_t port;

	(void)state;
	assert_true(dp_net_udp_dst_peek(f, len, &ip, &port));
	assert_int_equal(ip, p.dst_ip);
	assert_int_equal(port, p.dst_port);
	assert_false(dp_net_udp_dst_peek(f, DP_NET_UDP_HDRS_LEN - 1, &ip, &port));
	len = icmp_frame(f, 8, 0, OUR_FIRST, 16);
	assert_false(dp_net_udp_dst_peek(f, len, &ip, &port));
	len = arp_frame(f, 1, peer_mac, SERVER, bcast, OUR_FIRST);
	assert_false(dp_net_udp_dst_peek(f, len, &ip, &port));
}

static void udp_finish_writes_the_headers_a_peer_expects(void **state)
{
	struct dp_net n = net_make();
	struct dp_mac dst = {{0x02, 0, 0, 0, 0, 0xaa}};
	uint8_t f[256];
	size_t plen = sizeof(sip_payload) - 1;

	(void)state;
	memcpy(f + DP_NET_UDP_HDRS_LEN, sip_payload, plen);
	dp_net_udp_finish(&n, f, &dst, OUR_FIRST, 5061, SERVER, 5060, plen);
	assert_memory_equal(f + O_ETH_DST, dst.b, 6);
	assert_memory_equal(f + O_ETH_SRC, our_mac, 6);
	assert_int_equal(get16(f, O_ETH_TYPE), ETH_IPV4);
	assert_int_equal(f[O_IP], 0x45);
	assert_int_equal(get16(f, O_IP_TOT), 20 + 8 + plen);
	assert_int_equal(f[O_IP_PROTO], 17);
	assert_int_equal(get32(f, O_IP_SRC), OUR_FIRST);
	assert_int_equal(get32(f, O_IP_DST), SERVER);
	assert_int_equal(get16(f, O_UDP_SPORT), 5061);
	assert_int_equal(get16(f, O_UDP_DPORT), 5060);
	assert_int_equal(get16(f, O_UDP_LEN), 8 + plen);
}

static void udp_from_a_peer_with_valid_checksums_is_accepted(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);
	struct dp_pkt p = classify_exact(&n, f, len);

	(void)state;
	assert_int_equal(p.kind, DP_PKT_UDP);
	assert_int_equal(p.dst_ip, OUR_FIRST + 3);
	assert_int_equal(p.dst_port, 5062);
	assert_int_equal(p.payload_len, sizeof(sip_payload) - 1);
}

static void udp_in_a_frame_padded_past_ip_total_length_is_accepted(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];
	size_t len = udp_frame(f, SERVER, 5060, OUR_FIRST, 5060, "abc", 3);
	struct dp_pkt p;

	(void)state;
	memset(f + len, 0, sizeof(f) - len); /* Ethernet minimum: 45 octets padded to 60 */
	p = classify_exact(&n, f, sizeof(f));
	assert_int_equal(p.kind, DP_PKT_UDP);
	assert_int_equal(p.payload_len, 3);
}

static void udp_checksum_zero_is_accepted(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_UDP_CSUM, 0); /* RFC 768: no checksum computed */
	assert_int_equal(classify_exact(&n, f, len).kind, DP_PKT_UDP);
}

/* ---- drops -------------------------------------------------------------------------- */

static void frames_shorter_than_ethernet_and_ip_headers_are_runts(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];

	(void)state;
	default_udp_frame(f);
	for (size_t len = 0; len < DP_NET_ETH_LEN + DP_NET_IP_LEN; len++)
		assert_dropped(&n, f, len, DP_DROP_RUNT);
}

static void udp_frames_cut_after_the_ip_header_are_truncated(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t full = default_udp_frame(f);

	(void)state;
	for (size_t len = DP_NET_ETH_LEN + DP_NET_IP_LEN; len < full; len++)
		assert_dropped(&n, f, len, DP_DROP_TRUNCATED);
}

static void arp_frames_shorter_than_the_arp_header_are_runts(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[DP_NET_ARP_FRAME_LEN];

	(void)state;
	arp_frame(f, 1, peer_mac, STRANGER, (const uint8_t[6]){0}, OUR_FIRST);
	for (size_t len = 0; len < DP_NET_ETH_LEN + 28; len++)
		assert_dropped(&n, f, len, DP_DROP_RUNT);
}

static void icmp_shorter_than_its_header_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[128];
	size_t len = icmp_frame(f, 8, 0, OUR_FIRST, 0);

	(void)state;
	/* an IP packet holding 4 octets of ICMP: consistent lengths, no room for the header */
	put16(f, O_IP_TOT, 20 + 4);
	ip_cksum_set(f);
	assert_dropped(&n, f, len - 4, DP_DROP_RUNT);
}

static void ipv6_ethertype_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_ETH_TYPE, ETH_IPV6);
	assert_dropped(&n, f, len, DP_DROP_ETHERTYPE);
}

static void ipv4_to_an_address_outside_the_range_is_not_ours(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len;

	(void)state;
	len = udp_frame(f, SERVER, 5060, OUR_LAST + 1, 5060, "x", 1);
	assert_dropped(&n, f, len, DP_DROP_NOT_OURS);
	len = udp_frame(f, SERVER, 5060, OUR_FIRST - 1, 5060, "x", 1);
	assert_dropped(&n, f, len, DP_DROP_NOT_OURS);
}

static void bad_ip_checksum_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	f[O_IP_CSUM + 1] ^= 0x01;
	assert_dropped(&n, f, len, DP_DROP_IP_CHECKSUM);
}

static void ip_fragment_with_more_fragments_set_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_IP_FRAG, 0x2000); /* MF, offset 0: the first fragment */
	ip_cksum_set(f);
	assert_dropped(&n, f, len, DP_DROP_IP_FRAGMENT);
}

static void ip_fragment_with_an_offset_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_IP_FRAG, 0x00b9); /* MF clear, offset 185 * 8: the last fragment */
	ip_cksum_set(f);
	assert_dropped(&n, f, len, DP_DROP_IP_FRAGMENT);
}

static void bad_udp_checksum_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	f[DP_NET_UDP_HDRS_LEN] ^= 0x20; /* "SIP" -> "sIP" */
	assert_dropped(&n, f, len, DP_DROP_UDP_CHECKSUM);
}

static void udp_length_past_the_ip_payload_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_UDP_LEN, (uint16_t)(get16(f, O_UDP_LEN) + 1));
	udp_cksum_set(f);
	assert_dropped(&n, f, len, DP_DROP_UDP_HEADER);
}

static void udp_length_below_its_header_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_UDP_LEN, 7);
	put16(f, O_UDP_CSUM, 0);
	assert_dropped(&n, f, len, DP_DROP_UDP_HEADER);
}

static void ip_total_length_past_the_frame_is_truncated(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	put16(f, O_IP_TOT, (uint16_t)(len - DP_NET_ETH_LEN + 1));
	ip_cksum_set(f);
	assert_dropped(&n, f, len, DP_DROP_TRUNCATED);
}

static void ip_version_other_than_4_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	f[O_IP] = 0x65;
	ip_cksum_set(f);
	assert_dropped(&n, f, len, DP_DROP_IP_HEADER);
}

static void ip_protocol_other_than_udp_and_icmp_is_dropped(void **state)
{
	struct dp_net n = net_make();
	uint8_t f[256];
	size_t len = default_udp_frame(f);

	(void)state;
	f[O_IP_PROTO] = 6; /* TCP */
	ip_cksum_set(f);
	assert_dropped(&n, f, len, DP_DROP_IP_PROTOCOL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arp_request_for_an_address_in_the_range_is_to_be_answered),
		cmocka_unit_test(arp_reply_answers_with_our_mac_and_swapped_addresses),
		cmocka_unit_test(arp_request_for_an_address_outside_the_range_is_not_answered),
		cmocka_unit_test(arp_reply_to_us_is_not_answered),
		cmocka_unit_test(arp_reply_from_the_next_hop_teaches_its_mac),
		cmocka_unit_test(arp_request_from_the_next_hop_teaches_its_mac),
		cmocka_unit_test(arp_from_another_host_does_not_change_the_next_hop_mac),
		cmocka_unit_test(arp_request_we_write_is_one_our_reply_code_would_answer),
		cmocka_unit_test(arp_with_wrong_hardware_or_protocol_is_malformed),
		cmocka_unit_test(icmp_echo_request_to_one_of_ours_is_to_be_answered),
		cmocka_unit_test(icmp_echo_reply_has_valid_ip_and_icmp_checksums),
		cmocka_unit_test(icmp_echo_reply_swaps_addresses_and_keeps_the_echo),
		cmocka_unit_test(icmp_other_than_echo_request_is_dropped),
		cmocka_unit_test(icmp_port_unreachable_names_the_datagram_that_failed),
		cmocka_unit_test(icmp_unreachable_quoting_other_than_udp_is_dropped),
		cmocka_unit_test(icmp_unreachable_cut_inside_its_quote_is_dropped),
		cmocka_unit_test(udp_built_by_udp_finish_classifies_back_unchanged),
		cmocka_unit_test(udp_finish_writes_valid_ip_and_udp_checksums),
		cmocka_unit_test(udp_finish_writes_the_headers_a_peer_expects),
		cmocka_unit_test(udp_dst_peek_reads_what_classify_reads_and_declines_the_rest),
		cmocka_unit_test(udp_finish_sum_checksums_verify_for_every_length_and_address),
		cmocka_unit_test(udp_finish_sends_a_zero_checksum_as_all_ones),
		cmocka_unit_test(udp_from_a_peer_with_valid_checksums_is_accepted),
		cmocka_unit_test(udp_in_a_frame_padded_past_ip_total_length_is_accepted),
		cmocka_unit_test(udp_checksum_zero_is_accepted),
		cmocka_unit_test(frames_shorter_than_ethernet_and_ip_headers_are_runts),
		cmocka_unit_test(udp_frames_cut_after_the_ip_header_are_truncated),
		cmocka_unit_test(arp_frames_shorter_than_the_arp_header_are_runts),
		cmocka_unit_test(icmp_shorter_than_its_header_is_dropped),
		cmocka_unit_test(ipv6_ethertype_is_dropped),
		cmocka_unit_test(ipv4_to_an_address_outside_the_range_is_not_ours),
		cmocka_unit_test(bad_ip_checksum_is_dropped),
		cmocka_unit_test(ip_fragment_with_more_fragments_set_is_dropped),
		cmocka_unit_test(ip_fragment_with_an_offset_is_dropped),
		cmocka_unit_test(bad_udp_checksum_is_dropped),
		cmocka_unit_test(udp_length_past_the_ip_payload_is_dropped),
		cmocka_unit_test(udp_length_below_its_header_is_dropped),
		cmocka_unit_test(ip_total_length_past_the_frame_is_truncated),
		cmocka_unit_test(ip_version_other_than_4_is_dropped),
		cmocka_unit_test(ip_protocol_other_than_udp_and_icmp_is_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
