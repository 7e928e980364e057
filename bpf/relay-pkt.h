/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * relay-pkt.h: the layout of the packets relay.bpf.c handles (Ethernet,
 * IPv4 without options or IPv6 without extension headers, UDP): the
 * headers as loaded (struct hdrs) and the offsets the skb helpers write
 * at. Part of relay.bpf.c (one object; included by it only).
 */
#ifndef __RELAY_PKT_H__
#define __RELAY_PKT_H__

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

/* Headers of a packet without IP options (IPv4) or extension headers
 * (IPv6), as in the packet from .eth on. The pad puts the IP header on a
 * 4-byte boundary for the verifier. */
struct hdrs {
	__u8 pad[2];
	struct ethhdr eth;
	union {
		struct {
			struct iphdr ip;
			struct udphdr udp;
		};
		struct {
			struct ipv6hdr ip6;
			struct udphdr udp6;
		};
	};
};

#define IP_MF     0x2000
#define IP_OFFSET 0x1fff

#define IP_OFF       ETH_HLEN
#define IP_CSUM_OFF  (IP_OFF + offsetof(struct iphdr, check))
#define IP_ADDR_OFF  (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_TOS_OFF   (IP_OFF + offsetof(struct iphdr, tos))
#define IP_TTL_OFF   (IP_OFF + offsetof(struct iphdr, ttl))
#define UDP_OFF      (IP_OFF + sizeof(struct iphdr))
#define UDP_CSUM_OFF (UDP_OFF + offsetof(struct udphdr, check))
#define HDR_LEN      (UDP_OFF + sizeof(struct udphdr))
/* The RTP sequence number of a packet the kernel sends (no IP options). */
#define SEQ_OFF      (HDR_LEN + 2)

/* The same for IPv6 without extension headers: a fixed 40-byte header,
 * no header checksum; the UDP checksum (mandatory) covers the addresses
 * through the pseudo header. */
#define IP6_ADDR_OFF  (IP_OFF + offsetof(struct ipv6hdr, saddr))
#define IP6_HOPS_OFF  (IP_OFF + offsetof(struct ipv6hdr, hop_limit))
#define UDP6_OFF      (IP_OFF + sizeof(struct ipv6hdr))
#define UDP6_CSUM_OFF (UDP6_OFF + offsetof(struct udphdr, check))
#define HDR6_LEN      (UDP6_OFF + sizeof(struct udphdr))
#define SEQ6_OFF      (HDR6_LEN + 2)

#endif /* __RELAY_PKT_H__ */
