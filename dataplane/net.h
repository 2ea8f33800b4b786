/*
 * The L2/L3 the dataplane speaks for its lines: Ethernet, ARP (answering for the whole
 * line address range, resolving the next hop), IPv4, ICMP echo and UDP. Works on raw
 * frames in caller buffers (an mbuf's data, or a test's array), so it is unit-tested
 * without an EAL. Hot path: no allocation, no syscall.
 */
#ifndef DP_NET_H
#define DP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_NET_ETH_LEN 14
#define DP_NET_IP_LEN 20
#define DP_NET_UDP_LEN 8
#define DP_NET_UDP_HDRS_LEN (DP_NET_ETH_LEN + DP_NET_IP_LEN + DP_NET_UDP_LEN)
#define DP_NET_ARP_FRAME_LEN 60 /* 42 octets of ARP padded to the Ethernet minimum */

struct dp_mac {
	uint8_t b[6];
};

/* Addresses are host byte order throughout; frames are network order. */
struct dp_net {
	struct dp_mac mac;
	uint32_t ip_first; /* the lines' address range, inclusive */
	uint32_t ip_last;
	uint32_t next_hop; /* where every line's traffic goes (registrar or gateway) */
	struct dp_mac next_hop_mac;
	bool next_hop_known;
};

enum dp_pkt_kind {
	DP_PKT_DROP = 0,
	DP_PKT_ARP_REQUEST,  /* someone asks for one of our addresses: answer it */
	DP_PKT_ARP_OTHER,    /* a reply or a request not for us: learned from, then dropped */
	DP_PKT_ICMP_ECHO,    /* ping to one of our addresses: answer it */
	DP_PKT_UDP,	     /* a datagram for one of our addresses */
	DP_PKT_ICMP_UNREACH, /* one of our datagrams could not be delivered: see below */
};

/* Why a frame was dropped: each one is a counter of the worker. */
enum dp_drop {
	DP_DROP_NONE = 0,
	DP_DROP_RUNT,	   /* shorter than its headers say */
	DP_DROP_ETHERTYPE, /* neither IPv4 nor ARP (IPv6, LLDP, ...) */
	DP_DROP_NOT_OURS,  /* IPv4 for an address outside the line range */
	DP_DROP_IP_HEADER, /* version or header length wrong */
	DP_DROP_TRUNCATED, /* frame shorter than its IP length: oversized for the port, or cut */
	DP_DROP_IP_CHECKSUM,
	DP_DROP_IP_FRAGMENT, /* SIP over UDP here is never fragmented: see below */
	DP_DROP_IP_PROTOCOL, /* neither UDP nor ICMP */
	DP_DROP_ICMP_OTHER,  /* ICMP other than echo request (unreachables are counted too) */
	DP_DROP_UDP_HEADER,
	DP_DROP_UDP_CHECKSUM,
	DP_DROP_ARP_MALFORMED,
	DP_DROP_DISPATCH_FULL, /* for another worker's line, whose hand-over ring was full */
	DP_DROP__COUNT
};

struct dp_pkt {
	enum dp_pkt_kind kind;
	enum dp_drop drop;
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t payload_off; /* UDP payload or ICMP message */
	uint16_t payload_len;
	struct dp_mac src_mac;
};

const char *dp_drop_name(enum dp_drop d);

static inline bool dp_net_is_ours(const struct dp_net *n, uint32_t ip)
{
	return ip >= n->ip_first && ip <= n->ip_last;
}

/*
 * For DP_PKT_ICMP_UNREACH the addresses are those of the datagram that failed, seen as
 * if answering it: src_ip:src_port is where we sent it, dst_ip:dst_port the line that
 * sent it (RFC 792: the message quotes the IP header and 8 octets of the datagram).
 *
 * Classify a received frame. ARP from the next hop teaches its MAC (hence n is
 * writable). Fragments are dropped and counted: a SIP UA keeps requests under the path
 * MTU (RFC 3261 §18.1.1), and the lab's registrar answers likewise.
 */
void dp_net_classify(struct dp_net *n, const uint8_t *f, size_t len, struct dp_pkt *p);

/* The destination address and port of a frame that looks like IPv4 without options
 * carrying UDP, read with no other check (dp_net_classify makes them): what a burst's
 * lines are fetched ahead by. False for any other frame. */
static inline bool dp_net_udp_dst_peek(const uint8_t *f, size_t len, uint32_t *ip, uint16_t *port)
{
	if (len < DP_NET_UDP_HDRS_LEN || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 ||
	    f[23] != 17)
		return false;
	*ip = (uint32_t)f[30] << 24 | (uint32_t)f[31] << 16 | (uint32_t)f[32] << 8 | f[33];
	*port = (uint16_t)(f[36] << 8 | f[37]);
	return true;
}

/* Turn an ARP request for one of our addresses into its reply, in place. Returns length. */
size_t dp_net_arp_reply(const struct dp_net *n, uint8_t *f, size_t len);

/* Write an ARP request for target from sender (one of ours). Returns DP_NET_ARP_FRAME_LEN. */
size_t dp_net_arp_request(const struct dp_net *n, uint32_t sender, uint32_t target, uint8_t *f);

/* Turn an ICMP echo request into its reply, in place. Returns the frame length. */
size_t dp_net_icmp_echo_reply(const struct dp_net *n, uint8_t *f, const struct dp_pkt *p);

/*
 * Write Ethernet, IPv4 and UDP headers in front of a payload already placed at
 * f + DP_NET_UDP_HDRS_LEN, checksums included. Returns the frame length.
 */
size_t dp_net_udp_finish(const struct dp_net *n, uint8_t *f, const struct dp_mac *dst_mac,
			 uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
			 size_t payload_len);

/* The payload's 16-bit big-endian words added up, unfolded (RFC 1071; an odd last octet
 * is the high half of a word): what the UDP checksum needs of it. */
uint32_t dp_net_sum(const void *payload, size_t len);

/* dp_net_udp_finish for a caller that knows its payload's dp_net_sum: every checksum is
 * taken from the values, none from the frame. Hot path (keep-alives): reading back what
 * was just written in narrow stores stalls on store forwarding, which perf put at 40 %
 * of the old dp_net_udp_finish's samples. */
size_t dp_net_udp_finish_sum(const struct dp_net *n, uint8_t *f, const struct dp_mac *dst_mac,
			     uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
			     size_t payload_len, uint32_t payload_sum);

#endif
