// SPDX-License-Identifier: GPL-2.0-only
/*
 * relay.bpf.c: the relay's TC ingress fast path.
 *
 * For each UDP/IPv4 packet to the stream's port, every KERNEL slot gets a
 * copy (headers rewritten in place, bpf_clone_redirect to the slot's
 * interface) and the USERSPACE slots are named in one perf event that
 * carries the packet up. The original then continues, unchanged, to the
 * udpsrc socket: the program returns TC_ACT_UNSPEC (TCX_NEXT) for every
 * packet, so other programs on the interface run as well.
 *
 * Checksums are never computed here from the bytes: the csum helpers know
 * skb->ip_summed (NONE/UNNECESSARY: fix the field; PARTIAL: the field
 * holds only the pseudo header sum; COMPLETE: skb->csum too).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "relay.h"

char LICENSE[] SEC("license") = "GPL";

/* Stream's UDP port, host byte order; set by userspace before load. */
const volatile __u16 relay_port = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RELAY_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct relay_sub);
} subs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RELAY_MAX_SUBS);
	__type(key, __u32);
	__type(value, struct relay_counters);
} sub_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct relay_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RELAY_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct relay_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

#define IP_MF		0x2000
#define IP_OFFSET	0x1fff

#define IP_OFF		ETH_HLEN
#define IP_CSUM_OFF	(IP_OFF + offsetof(struct iphdr, check))
#define IP_ADDR_OFF	(IP_OFF + offsetof(struct iphdr, saddr))
#define UDP_OFF		(IP_OFF + sizeof(struct iphdr))
#define UDP_CSUM_OFF	(UDP_OFF + offsetof(struct udphdr, check))
#define HDR_LEN		(UDP_OFF + sizeof(struct udphdr))

/* A perf record, header and sample included, must fit in 64 KiB. */
#define EVENT_MAX_PKT	65000

/*
 * The header fields a copy gets are kept in struct relay_sub form: its
 * layout follows the packet (dmac, smac; saddr, daddr; sport, dport), so
 * each group is written with one store.
 */
_Static_assert(__builtin_offsetof(struct relay_sub, smac) == ETH_ALEN, "macs");
_Static_assert(__builtin_offsetof(struct relay_sub, daddr) ==
	       __builtin_offsetof(struct relay_sub, saddr) + 4, "addrs");
_Static_assert(__builtin_offsetof(struct relay_sub, dport) ==
	       __builtin_offsetof(struct relay_sub, sport) + 2, "ports");

/* Headers of a packet without IP options, as in the packet from .eth on.
 * The pad puts the IP header on a 4-byte boundary for the verifier. */
struct hdrs {
	__u8 pad[2];
	struct ethhdr eth;
	struct iphdr ip;
	struct udphdr udp;
};

struct loop_ctx {
	struct __sk_buff *skb;
	struct relay_event *ev;
	struct hdrs *orig;		/* the packet's headers as received */
	struct relay_sub orig_f;	/* their fields */
	struct relay_sub cur;		/* fields now in the skb */
	__u64 port_flags;
	__u32 payload_len;
	__u8 rewritten;
	__u8 broken;
	__u8 users;
};

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		(*v)++;
}

static __always_inline void send_event(struct __sk_buff *skb,
				       struct relay_event *ev)
{
	__u64 len = skb->len;
	long err = -1;

	if (len <= EVENT_MAX_PKT)
		err = bpf_perf_event_output(skb, &events,
					    BPF_F_CURRENT_CPU | (len << 32),
					    ev, sizeof(*ev));
	stat_inc(err ? RELAY_STAT_EVENT_ERRORS : RELAY_STAT_EVENTS);
}

/* Rewrite the skb's headers from c->cur to *to. Only the fields that
 * differ are touched: usually the copies differ in daddr and dport only. */
static __always_inline int rewrite(struct loop_ctx *c, struct relay_sub *to)
{
	struct __sk_buff *skb = c->skb;
	int addrs = to->saddr != c->cur.saddr || to->daddr != c->cur.daddr;
	int ports = to->sport != c->cur.sport || to->dport != c->cur.dport;
	__s64 addr_diff = 0, port_diff;

	if (bpf_skb_store_bytes(skb, 0, to->dmac, 2 * ETH_ALEN, 0))
		return -1;
	if (addrs) {
		addr_diff = bpf_csum_diff(&c->cur.saddr, 8, &to->saddr, 8, 0);
		if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, addr_diff, 0) ||
		    bpf_skb_store_bytes(skb, IP_ADDR_OFF, &to->saddr, 8, 0))
			return -1;
	}
	if (ports) {
		port_diff = bpf_csum_diff((__be32 *)&c->cur.sport, 4,
					  (__be32 *)&to->sport, 4, 0);
		if (bpf_l4_csum_replace(skb, UDP_CSUM_OFF, 0, port_diff,
					BPF_F_MARK_MANGLED_0) ||
		    bpf_skb_store_bytes(skb, UDP_OFF, &to->sport, 4,
					c->port_flags))
			return -1;
	}
	/* A zero UDP checksum (none) stays zero: MARK_MANGLED_0. */
	if (addrs && bpf_l4_csum_replace(skb, UDP_CSUM_OFF, 0, addr_diff,
					 BPF_F_PSEUDO_HDR |
					 BPF_F_MARK_MANGLED_0))
		return -1;
	c->cur = *to;
	return 0;
}

static long slot_cb(__u32 i, void *data)
{
	struct loop_ctx *c = data;
	struct relay_counters *cnt;
	struct relay_sub *slot, sub;

	if (i >= RELAY_MAX_SUBS)
		return 1;
	slot = bpf_map_lookup_elem(&subs, &i);
	if (!slot)
		return 1;
	/* Userspace may rewrite the slot meanwhile: the checksum update and
	 * the stored bytes must come from one copy. */
	sub = *slot;

	if (sub.state == RELAY_SUB_USERSPACE) {
		if (!c->users) {
			__builtin_memset(c->ev->bitmap, 0, sizeof(c->ev->bitmap));
			c->users = 1;
		}
		/* The mask is a no-op; it keeps the bound in the verifier's view. */
		c->ev->bitmap[(i / 64) & (RELAY_BITMAP_WORDS - 1)] |=
			1ULL << (i % 64);
		return 0;
	}
	if (sub.state != RELAY_SUB_KERNEL)
		return 0;

	if (c->broken) {
		stat_inc(RELAY_STAT_CLONE_ERRORS);
		return 0;
	}
	c->rewritten = 1;
	if (rewrite(c, &sub)) {
		/* Headers half rewritten (the helpers fail only when the skb
		 * cannot be made writable): go back to the original bytes. A
		 * COMPLETE skb->csum may stay off; the stack then verifies
		 * the checksum in software. */
		stat_inc(RELAY_STAT_CLONE_ERRORS);
		if (bpf_skb_store_bytes(c->skb, 0, &c->orig->eth, HDR_LEN, 0))
			c->broken = 1;
		else
			c->cur = c->orig_f;
		return 0;
	}
	if (bpf_clone_redirect(c->skb, sub.ifindex, 0)) {
		stat_inc(RELAY_STAT_CLONE_ERRORS);
		return 0;
	}
	cnt = bpf_map_lookup_elem(&sub_stats, &i);
	if (cnt) {
		cnt->packets++;
		cnt->bytes += c->payload_len;
	}
	return 0;
}

static __always_inline void hdr_fields(struct relay_sub *f,
				       const struct hdrs *h)
{
	__builtin_memcpy(f->dmac, h->eth.h_dest, ETH_ALEN);
	__builtin_memcpy(f->smac, h->eth.h_source, ETH_ALEN);
	f->saddr = h->ip.saddr;
	f->daddr = h->ip.daddr;
	f->sport = h->udp.source;
	f->dport = h->udp.dest;
}

/* Send one packet (no IP options) to the slots [0, n_slots). */
static __always_inline void forward(struct __sk_buff *skb, struct hdrs *h,
				    struct relay_event *ev, __u32 n_slots)
{
	struct loop_ctx c = {
		.skb = skb,
		.ev = ev,
		.orig = h,
		/* With no UDP checksum nothing in the packet compensates the
		 * port change: let the store fix COMPLETE's skb->csum. */
		.port_flags = h->udp.check ? 0 : BPF_F_RECOMPUTE_CSUM,
		.payload_len = ev->payload_len,
	};

	hdr_fields(&c.orig_f, h);
	c.cur = c.orig_f;

	bpf_loop(n_slots, slot_cb, &c, 0);

	if (c.rewritten) {
		/* Undo the checksum changes (this keeps COMPLETE's skb->csum
		 * right), then store the original bytes so that they are
		 * exactly what arrived. */
		if (!c.broken)
			rewrite(&c, &c.orig_f);
		if (bpf_skb_store_bytes(skb, 0, &h->eth, HDR_LEN, 0))
			stat_inc(RELAY_STAT_CLONE_ERRORS);
	}
	if (c.users) {
		ev->flags = 0;
		send_event(skb, ev);
	}
}

SEC("tc")
int relay_ingress(struct __sk_buff *skb)
{
	struct relay_config *cfg;
	struct relay_event *ev;
	__u32 key = 0, ihl_len, tot_len, udp_len, n_slots;
	struct hdrs h;

	/* A tag still in skb->vlan_tci: the packet is for a VLAN device. */
	if (skb->vlan_present)
		return TC_ACT_UNSPEC;
	/* The helper does the bounds checks, also on non-linear skbs. */
	if (bpf_skb_load_bytes(skb, 0, &h.eth, UDP_OFF))
		return TC_ACT_UNSPEC;
	if (h.eth.h_proto != bpf_htons(ETH_P_IP) || h.ip.version != 4 ||
	    h.ip.ihl < 5 || h.ip.protocol != IPPROTO_UDP)
		return TC_ACT_UNSPEC;
	/* Later fragments have no UDP header: nothing says they are ours. */
	if (h.ip.frag_off & bpf_htons(IP_OFFSET))
		return TC_ACT_UNSPEC;
	ihl_len = h.ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, IP_OFF + ihl_len, &h.udp, sizeof(h.udp)))
		return TC_ACT_UNSPEC;
	if (h.udp.dest != bpf_htons(relay_port))
		return TC_ACT_UNSPEC;

	stat_inc(RELAY_STAT_MATCHED);
	tot_len = bpf_ntohs(h.ip.tot_len);
	udp_len = bpf_ntohs(h.udp.len);
	if ((h.ip.frag_off & bpf_htons(IP_MF)) ||
	    tot_len + ETH_HLEN > skb->len ||
	    udp_len < sizeof(h.udp) || udp_len + ihl_len > tot_len) {
		stat_inc(RELAY_STAT_PASSED);
		return TC_ACT_UNSPEC;
	}

	ev = bpf_map_lookup_elem(&scratch, &key);
	if (!ev)
		return TC_ACT_UNSPEC;
	ev->payload_off = IP_OFF + ihl_len + sizeof(h.udp);
	ev->payload_len = udp_len - sizeof(h.udp);

	/* IP options: not rewritten here; userspace sends it to everyone. */
	if (ihl_len != sizeof(struct iphdr)) {
		stat_inc(RELAY_STAT_PASSED);
		ev->flags = RELAY_EVENT_ALL;
		__builtin_memset(ev->bitmap, 0, sizeof(ev->bitmap));
		send_event(skb, ev);
		return TC_ACT_UNSPEC;
	}

	cfg = bpf_map_lookup_elem(&config, &key);
	n_slots = cfg ? cfg->n_slots : 0;
	if (n_slots > RELAY_MAX_SUBS)
		n_slots = RELAY_MAX_SUBS;
	if (n_slots)
		forward(skb, &h, ev, n_slots);
	return TC_ACT_UNSPEC;
}
