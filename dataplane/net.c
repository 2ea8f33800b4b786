/*
 * Frame parsing and building for dataplane/net.h. Header layouts come from DPDK's
 * rte_ether.h / rte_ip.h / rte_arp.h so that the field names are the ones every DPDK
 * reader knows; nothing here needs an initialised EAL.
 */
#include "dataplane/net.h"

#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_udp.h>

static const char *const dp__drop_names[DP_DROP__COUNT] = {
	[DP_DROP_NONE] = "none",
	[DP_DROP_RUNT] = "runt",
	[DP_DROP_ETHERTYPE] = "ethertype",
	[DP_DROP_NOT_OURS] = "not_ours",
	[DP_DROP_IP_HEADER] = "ip_header",
	[DP_DROP_TRUNCATED] = "truncated",
	[DP_DROP_IP_CHECKSUM] = "ip_checksum",
	[DP_DROP_IP_FRAGMENT] = "ip_fragment",
	[DP_DROP_IP_PROTOCOL] = "ip_protocol",
	[DP_DROP_ICMP_OTHER] = "icmp_other",
	[DP_DROP_UDP_HEADER] = "udp_header",
	[DP_DROP_UDP_CHECKSUM] = "udp_checksum",
	[DP_DROP_ARP_MALFORMED] = "arp_malformed",
	[DP_DROP_DISPATCH_FULL] = "dispatch_full",
};

const char *dp_drop_name(enum dp_drop d)
{
	return (unsigned)d < DP_DROP__COUNT ? dp__drop_names[d] : "?";
}

static void dp__drop(struct dp_pkt *p, enum dp_drop why)
{
	p->kind = DP_PKT_DROP;
	p->drop = why;
}

static void dp__classify_arp(struct dp_net *n, const uint8_t *f, size_t len, struct dp_pkt *p)
{
	const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(f + DP_NET_ETH_LEN);
	uint32_t sip, tip;

	if (len < DP_NET_ETH_LEN + sizeof(*a))
		return dp__drop(p, DP_DROP_RUNT);
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || a->arp_hlen != 6 ||
	    a->arp_plen != 4)
		return dp__drop(p, DP_DROP_ARP_MALFORMED);
	sip = rte_be_to_cpu_32(a->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(a->arp_data.arp_tip);
	if (sip == n->next_hop && sip != 0) {
		memcpy(n->next_hop_mac.b, a->arp_data.arp_sha.addr_bytes, 6);
		n->next_hop_known = true;
	}
	p->src_ip = sip;
	p->dst_ip = tip;
	if (a->arp_opcode == rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) && dp_net_is_ours(n, tip))
		p->kind = DP_PKT_ARP_REQUEST;
	else
		p->kind = DP_PKT_ARP_OTHER;
}

/* The one's-complement sum over pseudo-header, header and data is all ones when valid. */
static bool dp__udp_cksum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *u,
			     size_t ulen)
{
	struct {
		uint32_t src, dst;
		uint8_t zero, proto;
		uint16_t len;
	} __attribute__((packed))
	ph = {ip->src_addr, ip->dst_addr, 0, IPPROTO_UDP, rte_cpu_to_be_16((uint16_t)ulen)};
	uint32_t sum = (uint32_t)rte_raw_cksum(&ph, sizeof(ph)) + rte_raw_cksum(u, ulen);

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Destination unreachable quoting one of our UDP datagrams (RFC 792, RFC 1122 §3.2.2.1). */
static void dp__classify_unreach(struct dp_pkt *p, const uint8_t *icmp, size_t len)
{
	const struct rte_ipv4_hdr *oip = (const struct rte_ipv4_hdr *)(icmp + 8);
	const struct rte_udp_hdr *ou;
	size_t oihl;

	if (len < 8 + DP_NET_IP_LEN + DP_NET_UDP_LEN)
		return dp__drop(p, DP_DROP_RUNT);
	oihl = (size_t)(oip->version_ihl & 0x0f) * 4;
	if (oihl < DP_NET_IP_LEN || len < 8 + oihl + DP_NET_UDP_LEN ||
	    oip->next_proto_id != IPPROTO_UDP)
		return dp__drop(p, DP_DROP_ICMP_OTHER);
	ou = (const struct rte_udp_hdr *)((const uint8_t *)oip + oihl);
	p->kind = DP_PKT_ICMP_UNREACH;
	p->src_ip = rte_be_to_cpu_32(oip->dst_addr);
	p->src_port = rte_be_to_cpu_16(ou->dst_port);
	p->dst_ip = rte_be_to_cpu_32(oip->src_addr);
	p->dst_port = rte_be_to_cpu_16(ou->src_port);
}

void dp_net_classify(struct dp_net *n, const uint8_t *f, size_t len, struct dp_pkt *p)
{
	const struct rte_ether_hdr *e = (const struct rte_ether_hdr *)f;
	const struct rte_ipv4_hdr *ip;
	size_t ihl, tot;

	memset(p, 0, sizeof(*p));
	if (len < DP_NET_ETH_LEN)
		return dp__drop(p, DP_DROP_RUNT);
	memcpy(p->src_mac.b, e->src_addr.addr_bytes, 6);
	if (e->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		return dp__classify_arp(n, f, len, p);
	if (e->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return dp__drop(p, DP_DROP_ETHERTYPE);
	if (len < DP_NET_ETH_LEN + DP_NET_IP_LEN)
		return dp__drop(p, DP_DROP_RUNT);
	ip = (const struct rte_ipv4_hdr *)(f + DP_NET_ETH_LEN);
	ihl = (size_t)(ip->version_ihl & 0x0f) * 4;
	tot = rte_be_to_cpu_16(ip->total_length);
	if ((ip->version_ihl >> 4) != 4 || ihl < DP_NET_IP_LEN || tot < ihl)
		return dp__drop(p, DP_DROP_IP_HEADER);
	if (DP_NET_ETH_LEN + tot > len)
		return dp__drop(p, DP_DROP_TRUNCATED);
	p->src_ip = rte_be_to_cpu_32(ip->src_addr);
	p->dst_ip = rte_be_to_cpu_32(ip->dst_addr);
	if (!dp_net_is_ours(n, p->dst_ip))
		return dp__drop(p, DP_DROP_NOT_OURS);
	if (rte_raw_cksum(ip, ihl) != 0xffff)
		return dp__drop(p, DP_DROP_IP_CHECKSUM);
	if (rte_be_to_cpu_16(ip->fragment_offset) &
	    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		return dp__drop(p, DP_DROP_IP_FRAGMENT);
	if (ip->next_proto_id == IPPROTO_ICMP) {
		const struct rte_icmp_hdr *ic =
			(const struct rte_icmp_hdr *)((const uint8_t *)ip + ihl);

		if (tot < ihl + sizeof(*ic))
			return dp__drop(p, DP_DROP_RUNT);
		if (ic->icmp_type == 3)
			return dp__classify_unreach(p, (const uint8_t *)ic, tot - ihl);
		if (ic->icmp_type != RTE_IP_ICMP_ECHO_REQUEST)
			return dp__drop(p, DP_DROP_ICMP_OTHER);
		p->kind = DP_PKT_ICMP_ECHO;
		p->payload_off = (uint16_t)(DP_NET_ETH_LEN + ihl);
		p->payload_len = (uint16_t)(tot - ihl);
		return;
	}
	if (ip->next_proto_id != IPPROTO_UDP)
		return dp__drop(p, DP_DROP_IP_PROTOCOL);
	const struct rte_udp_hdr *u = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	size_t ulen;

	if (tot < ihl + DP_NET_UDP_LEN)
		return dp__drop(p, DP_DROP_UDP_HEADER);
	ulen = rte_be_to_cpu_16(u->dgram_len);
	if (ulen < DP_NET_UDP_LEN || ulen > tot - ihl)
		return dp__drop(p, DP_DROP_UDP_HEADER);
	/* 0 means "no checksum" over IPv4 (RFC 768); else the sum over the pseudo-header */
	if (u->dgram_cksum != 0 && !dp__udp_cksum_ok(ip, u, ulen))
		return dp__drop(p, DP_DROP_UDP_CHECKSUM);
	p->kind = DP_PKT_UDP;
	p->src_port = rte_be_to_cpu_16(u->src_port);
	p->dst_port = rte_be_to_cpu_16(u->dst_port);
	p->payload_off = (uint16_t)(DP_NET_ETH_LEN + ihl + DP_NET_UDP_LEN);
	p->payload_len = (uint16_t)(ulen - DP_NET_UDP_LEN);
}

size_t dp_net_arp_reply(const struct dp_net *n, uint8_t *f, size_t len)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f + DP_NET_ETH_LEN);
	uint32_t asked = a->arp_data.arp_tip;

	memcpy(e->dst_addr.addr_bytes, e->src_addr.addr_bytes, 6);
	memcpy(e->src_addr.addr_bytes, n->mac.b, 6);
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	a->arp_data.arp_tha = a->arp_data.arp_sha;
	a->arp_data.arp_tip = a->arp_data.arp_sip;
	memcpy(a->arp_data.arp_sha.addr_bytes, n->mac.b, 6);
	a->arp_data.arp_sip = asked;
	return len < DP_NET_ARP_FRAME_LEN ? DP_NET_ARP_FRAME_LEN : len;
}

size_t dp_net_arp_request(const struct dp_net *n, uint32_t sender, uint32_t target, uint8_t *f)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(f + DP_NET_ETH_LEN);

	memset(f, 0, DP_NET_ARP_FRAME_LEN);
	memset(e->dst_addr.addr_bytes, 0xff, 6);
	memcpy(e->src_addr.addr_bytes, n->mac.b, 6);
	e->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(a->arp_data.arp_sha.addr_bytes, n->mac.b, 6);
	a->arp_data.arp_sip = rte_cpu_to_be_32(sender);
	a->arp_data.arp_tip = rte_cpu_to_be_32(target);
	return DP_NET_ARP_FRAME_LEN;
}

size_t dp_net_icmp_echo_reply(const struct dp_net *n, uint8_t *f, const struct dp_pkt *p)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + DP_NET_ETH_LEN);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(f + p->payload_off);
	uint32_t tmp = ip->src_addr;

	memcpy(e->dst_addr.addr_bytes, e->src_addr.addr_bytes, 6);
	memcpy(e->src_addr.addr_bytes, n->mac.b, 6);
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = tmp;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, p->payload_len);
	return (size_t)p->payload_off + p->payload_len;
}

/* Add up ones-complement partial sums: fold the carries back into 16 bits. */
static inline uint16_t dp__fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

uint32_t dp_net_sum(const void *payload, size_t len)
{
	/* rte_raw_cksum adds words as the CPU loads them: swapping the folded sum gives the
	 * big-endian one (RFC 1071 §2(B)) */
	return rte_be_to_cpu_16(rte_raw_cksum(payload, len));
}

size_t dp_net_udp_finish_sum(const struct dp_net *n, uint8_t *f, const struct dp_mac *dst_mac,
			     uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
			     size_t payload_len, uint32_t payload_sum)
{
	struct rte_ether_hdr *e = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + DP_NET_ETH_LEN);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(f + DP_NET_ETH_LEN + DP_NET_IP_LEN);
	uint32_t ip_len = (uint32_t)(DP_NET_IP_LEN + DP_NET_UDP_LEN + payload_len);
	uint32_t udp_len = (uint32_t)(DP_NET_UDP_LEN + payload_len);
	uint32_t addrs = (src_ip >> 16) + (src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff);
	/* version/IHL and TOS, length, id 0, DF, TTL 64 and UDP, addresses */
	uint16_t ip_sum = dp__fold(0x4500 + ip_len + 0x4000 + (64 << 8 | IPPROTO_UDP) + addrs);
	/* pseudo-header (addresses, protocol, length), the header, the payload */
	uint16_t udp_sum = dp__fold(addrs + IPPROTO_UDP + udp_len + src_port + dst_port + udp_len +
				    dp__fold(payload_sum));

	memcpy(e->dst_addr.addr_bytes, dst_mac->b, 6);
	memcpy(e->src_addr.addr_bytes, n->mac.b, 6);
	e->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)ip_len);
	ip->packet_id = 0;
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~ip_sum);
	ip->src_addr = rte_cpu_to_be_32(src_ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	u->src_port = rte_cpu_to_be_16(src_port);
	u->dst_port = rte_cpu_to_be_16(dst_port);
	u->dgram_len = rte_cpu_to_be_16((uint16_t)udp_len);
	/* RFC 768: a computed 0 goes out as all ones (0 means no checksum) */
	u->dgram_cksum = rte_cpu_to_be_16(udp_sum == 0xffff ? 0xffff : (uint16_t)~udp_sum);
	return DP_NET_UDP_HDRS_LEN + payload_len;
}

size_t dp_net_udp_finish(const struct dp_net *n, uint8_t *f, const struct dp_mac *dst_mac,
			 uint32_t src_ip, uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
			 size_t payload_len)
{
	return dp_net_udp_finish_sum(n, f, dst_mac, src_ip, src_port, dst_ip, dst_port, payload_len,
				     dp_net_sum(f + DP_NET_UDP_HDRS_LEN, payload_len));
}
