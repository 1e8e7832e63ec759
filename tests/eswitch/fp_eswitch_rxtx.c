/* SPDX-License-Identifier: Apache-2.0 */

/*
 * net_fpesw, the test e-switch (a TEST FIXTURE): the data path. One thread
 * per e-switch plays the hardware (fpesw_thread()): it receives the frames
 * of the ports' outsides (the wire, the VFs), matches each against its
 * port's rules (fpesw_input(), with the tables of fp_eswitch_lookup.c),
 * runs the actions of the first that applies (fpesw_apply()) and sends the
 * frame out of the rule's port, or hands a miss to the host's rx ring. The
 * host's side, rx_burst and tx_burst, is at the end.
 */

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <ethdev_driver.h>

#include "fp_eswitch.h"

/* The "hardware". */

/* Recomputes the IPv4 header checksum and the L4 checksum of a frame. */
static void
fpesw_fix_csums(uint8_t *f, uint16_t len)
{
	struct fpesw_hdrs h;
	unsigned int i;

	fpesw_parse(f, len, &h);
	for (i = 0; i < h.n; i++) {
		if (h.type[i] == RTE_FLOW_ITEM_TYPE_IPV4) {
			struct rte_ipv4_hdr *ip = (void *)(f + h.ofs[i]);

			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
			if (i + 1 < h.n && h.type[i + 1] ==
			    RTE_FLOW_ITEM_TYPE_TCP) {
				struct rte_tcp_hdr *t = (void *)
					(f + h.ofs[i + 1]);

				t->cksum = 0;
				t->cksum = rte_ipv4_udptcp_cksum(ip, t);
			} else if (i + 1 < h.n && h.type[i + 1] ==
				   RTE_FLOW_ITEM_TYPE_UDP) {
				struct rte_udp_hdr *u = (void *)
					(f + h.ofs[i + 1]);

				if (u->dgram_cksum != 0) {
					u->dgram_cksum = 0;
					u->dgram_cksum =
						rte_ipv4_udptcp_cksum(ip, u);
				}
			}
		} else if (h.type[i] == RTE_FLOW_ITEM_TYPE_IPV6 &&
			   i + 1 < h.n) {
			struct rte_ipv6_hdr *ip = (void *)(f + h.ofs[i]);
			uint8_t *l4 = f + h.ofs[i + 1];
			int at = -1;
			uint16_t ck;

			if (h.type[i + 1] == RTE_FLOW_ITEM_TYPE_TCP)
				at = 16;
			else if (h.type[i + 1] == RTE_FLOW_ITEM_TYPE_UDP)
				at = 6;
			if (at >= 0) {
				memset(l4 + at, 0, 2);
				ck = rte_ipv6_udptcp_cksum(ip, l4);
				memcpy(l4 + at, &ck, 2);
			}
		}
	}
}

/* Computes the checksum of UDP header 'u' after IP header 'l3'. */
static void
fpesw_udp_cksum(const uint8_t *l3, struct rte_udp_hdr *u)
{
	uint16_t c;

	u->dgram_cksum = 0;
	if ((l3[0] >> 4) == 4)
		c = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)l3, u);
	else
		c = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)l3, u);
	u->dgram_cksum = c != 0 ? c : 0xffff;
}

/* VXLAN_DECAP: strips the outer headers, up to the VXLAN header, found in
 * 'h0', the headers of the frame as received. Returns the new length, or
 * -1 to drop. */
static int
fpesw_vxlan_decap(uint8_t *buf, uint16_t len, const struct fpesw_hdrs *h0)
{
	unsigned int i;

	for (i = 0; i < h0->n; i++)
		if (h0->type[i] == RTE_FLOW_ITEM_TYPE_VXLAN)
			break;
	if (i + 1 >= h0->n)
		return -1;
	len -= h0->ofs[i + 1];
	memmove(buf, buf + h0->ofs[i + 1], len);
	return len;
}

/* After RAW_ENCAP: sets the lengths of the new outer headers and, as a NIC
 * would, their IPv4 checksum and a UDP checksum that is not 0. */
static void
fpesw_encap_fixup(uint8_t *buf, uint16_t len)
{
	struct fpesw_hdrs eh;
	uint8_t *l3 = NULL;
	unsigned int i;

	fpesw_parse(buf, len, &eh);
	for (i = 0; i < eh.n; i++) {
		uint8_t *p = buf + eh.ofs[i];

		if (eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV4 ||
		    eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV6)
			l3 = p;
		if (eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV4) {
			struct rte_ipv4_hdr *ip = (void *)p;

			ip->total_length = rte_cpu_to_be_16(len - eh.ofs[i]);
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		} else if (eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV6) {
			((struct rte_ipv6_hdr *)p)->payload_len =
				rte_cpu_to_be_16(len - eh.ofs[i] - 40);
		} else if (eh.type[i] == RTE_FLOW_ITEM_TYPE_UDP) {
			struct rte_udp_hdr *u = (void *)p;

			u->dgram_len = rte_cpu_to_be_16(len - eh.ofs[i]);
			/* A header with a checksum (not 0) gets it
			 * computed, as a NIC would. */
			if (u->dgram_cksum != 0 && l3 != NULL)
				fpesw_udp_cksum(l3, u);
			break;
		}
	}
}

/* RAW_ENCAP: prepends the header 'e'. Returns the new length, or -1 to
 * drop a frame that would grow too long. */
static int
fpesw_raw_encap(uint8_t *buf, uint16_t len,
		const struct rte_flow_action_raw_encap *e)
{
	if (len + e->size > FPESW_MAX_FRAME)
		return -1;
	memmove(buf + e->size, buf, len);
	memcpy(buf, e->data, e->size);
	len = (uint16_t)(len + e->size);
	fpesw_encap_fixup(buf, len);
	return len;
}

/* The SET_IPV4_*, SET_IPV6_*, SET_TP_*, SET_TTL and DEC_TTL actions, on
 * every header of the frame they apply to (the checksums are fixed up
 * after all actions). */
static void
fpesw_set_field(uint8_t *buf, const struct fpesw_hdrs *h,
		const struct rte_flow_action *a)
{
	unsigned int i;

	for (i = 0; i < h->n; i++) {
		uint8_t *p = buf + h->ofs[i];
		bool v4 = h->type[i] == RTE_FLOW_ITEM_TYPE_IPV4;
		bool v6 = h->type[i] == RTE_FLOW_ITEM_TYPE_IPV6;
		bool l4 = h->type[i] == RTE_FLOW_ITEM_TYPE_TCP ||
			  h->type[i] == RTE_FLOW_ITEM_TYPE_UDP;

		if (v4 && a->type == RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC)
			memcpy(p + 12, a->conf, 4);
		else if (v4 && a->type == RTE_FLOW_ACTION_TYPE_SET_IPV4_DST)
			memcpy(p + 16, a->conf, 4);
		else if (v6 && a->type == RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC)
			memcpy(p + 8, a->conf, 16);
		else if (v6 && a->type == RTE_FLOW_ACTION_TYPE_SET_IPV6_DST)
			memcpy(p + 24, a->conf, 16);
		else if (l4 && a->type == RTE_FLOW_ACTION_TYPE_SET_TP_SRC)
			memcpy(p, a->conf, 2);
		else if (l4 && a->type == RTE_FLOW_ACTION_TYPE_SET_TP_DST)
			memcpy(p + 2, a->conf, 2);
		else if ((v4 || v6) && a->type == RTE_FLOW_ACTION_TYPE_SET_TTL)
			p[v4 ? 8 : 7] = *(const uint8_t *)a->conf;
		else if ((v4 || v6) && a->type == RTE_FLOW_ACTION_TYPE_DEC_TTL)
			p[v4 ? 8 : 7]--;
	}
}

/* The OF_*_VLAN actions, on the outer Ethernet header. Returns the new
 * length. */
static uint16_t
fpesw_vlan_action(uint8_t *buf, uint16_t len, const struct fpesw_hdrs *h,
		  const struct rte_flow_action *a)
{
	uint16_t vid;

	switch (a->type) {
	case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN:
		if (h->n < 2 || h->type[1] != RTE_FLOW_ITEM_TYPE_VLAN)
			break;
		memmove(buf + 12, buf + 16, len - 16);
		len -= 4;
		break;
	case RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN:
		memmove(buf + 16, buf + 12, len - 12);
		buf[12] = 0x81;
		buf[13] = 0x00;
		buf[14] = 0;
		buf[15] = 0;
		len += 4;
		break;
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID:
		vid = rte_be_to_cpu_16(
			((const struct rte_flow_action_of_set_vlan_vid *)
			 a->conf)->vlan_vid);
		buf[14] = (uint8_t)((buf[14] & 0xf0) | (vid >> 8));
		buf[15] = (uint8_t)vid;
		break;
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP:
		buf[14] = (uint8_t)((buf[14] & 0x1f) |
			((const struct rte_flow_action_of_set_vlan_pcp *)
			 a->conf)->vlan_pcp << 5);
		break;
	default:
		break;
	}
	return len;
}

/* Runs the actions of 'flow' on the frame in 'buf', whose headers as
 * received are 'h0'; returns its length, or 0 to drop. */
static uint16_t
fpesw_apply(const struct rte_flow *flow, uint8_t *buf, uint16_t len,
	    const struct fpesw_hdrs *h0)
{
	const struct rte_flow_action *a;
	struct fpesw_hdrs h;
	bool csum = false;
	int n;

	for (a = flow->actions; a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
		fpesw_parse(buf, len, &h);
		switch (a->type) {
		case RTE_FLOW_ACTION_TYPE_VXLAN_DECAP:
			n = fpesw_vxlan_decap(buf, len, h0);
			if (n < 0)
				return 0;
			len = (uint16_t)n;
			break;
		case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
			n = fpesw_raw_encap(buf, len, a->conf);
			if (n < 0)
				return 0;
			len = (uint16_t)n;
			break;
		case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
			memcpy(buf + (a->type == RTE_FLOW_ACTION_TYPE_SET_MAC_DST
				      ? 0 : 6),
			       ((const struct rte_flow_action_set_mac *)
				a->conf)->mac_addr, 6);
			break;
		case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
		case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
		case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
		case RTE_FLOW_ACTION_TYPE_SET_TTL:
		case RTE_FLOW_ACTION_TYPE_DEC_TTL:
			fpesw_set_field(buf, &h, a);
			csum = true;
			break;
		case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN:
		case RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN:
		case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID:
		case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP:
			len = fpesw_vlan_action(buf, len, &h, a);
			break;
		case RTE_FLOW_ACTION_TYPE_DROP:
			return 0;
		default:
			break;
		}
	}
	if (csum)
		fpesw_fix_csums(buf, len);
	return len;
}

static void
fpesw_send(struct fpesw_port *p, const uint8_t *buf, uint16_t len)
{
	if (send(p->fd, buf, len, MSG_DONTWAIT) < 0)
		atomic_fetch_add(&p->tx_errors, 1);
}

/* A frame arrived from the outside of port 'p' (wire or VF). */
static void
fpesw_input(struct fpesw_port *p, uint8_t *buf, uint16_t len)
{
	struct fpesw_switch *sw = p->sw;
	struct fpesw_lookup l;
	struct fpesw_hdrs h;
	struct rte_flow *f;
	struct rte_mbuf *m;

	fpesw_parse(buf, len, &h);
	pthread_rwlock_rdlock(&sw->lock);
	/* The rules whose headers match, in list order, as a walk of the
	 * list would find them, from the tables (fp_eswitch_lookup.c). */
	fpesw_lookup_start(&l, p, buf, &h);
	while ((f = fpesw_lookup_next(&l)) != NULL) {
		struct fpesw_port *out = f->out;
		uint16_t n;

		/* The conntrack action runs on every packet of the rule;
		 * the rule applies only if the state it gives matches the
		 * rule's CONNTRACK item, if any. */
		if (f->ct != NULL) {
			uint32_t st = fpesw_ct_run(f, buf, len, &h);

			if (f->ct_item && (st & f->ct_mask) !=
			    (f->ct_spec & f->ct_mask))
				continue;
		}

		atomic_fetch_add(&f->hits, 1);
		atomic_fetch_add(&f->bytes, len);
		atomic_store(&f->last_hit, fpesw_now_s());
		atomic_fetch_add(&p->hw_pkts, 1);
		n = fpesw_apply(f, buf, len, &h);
		if (n > 0 && out != NULL)
			fpesw_send(out, buf, n);
		pthread_rwlock_unlock(&sw->lock);
		return;
	}
	pthread_rwlock_unlock(&sw->lock);

	/* A miss: to the host, if it listens. */
	if (!p->started || p->mp == NULL || p->rx_ring == NULL)
		return;
	m = rte_pktmbuf_alloc(p->mp);
	if (m == NULL || rte_pktmbuf_tailroom(m) < len) {
		rte_pktmbuf_free(m);
		atomic_fetch_add(&p->rx_drops, 1);
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, void *), buf, len);
	m->data_len = len;
	m->pkt_len = len;
	m->port = p->dev->data->port_id;
	if (rte_ring_enqueue(p->rx_ring, m) != 0) {
		rte_pktmbuf_free(m);
		atomic_fetch_add(&p->rx_drops, 1);
	}
}

/* Marks rules whose AGE timeout passed without a hit, once each. */
static void
fpesw_age(struct fpesw_switch *sw)
{
	uint64_t now = fpesw_now_s();
	unsigned int i;

	for (i = 0; i < FPESW_MAX_PORTS; i++) {
		struct fpesw_port *p = sw->ports[i];
		struct rte_flow *f;
		bool event = false;

		if (p == NULL)
			continue;
		pthread_rwlock_wrlock(&sw->lock);
		TAILQ_FOREACH(f, &p->rules, next) {
			if (f->age_timeout > 0 && !f->aged &&
			    now - atomic_load(&f->last_hit) >= f->age_timeout) {
				f->aged = true;
				event = true;
			}
		}
		pthread_rwlock_unlock(&sw->lock);
		if (event)
			rte_eth_dev_callback_process(p->dev,
				RTE_ETH_EVENT_FLOW_AGED, NULL);
	}
}

void *
fpesw_thread(void *arg)
{
	struct fpesw_switch *sw = arg;
	uint8_t buf[FPESW_MAX_FRAME + 256];
	struct pollfd pfd[FPESW_MAX_PORTS];
	struct fpesw_port *ports[FPESW_MAX_PORTS];
	uint64_t last_age = fpesw_now_s();

	while (!atomic_load(&sw->stop)) {
		unsigned int n = 0, i;

		pthread_rwlock_rdlock(&sw->lock);
		for (i = 0; i < FPESW_MAX_PORTS; i++) {
			if (sw->ports[i] != NULL && sw->ports[i]->fd >= 0) {
				ports[n] = sw->ports[i];
				pfd[n].fd = sw->ports[i]->fd;
				pfd[n].events = POLLIN;
				pfd[n].revents = 0;
				n++;
			}
		}
		pthread_rwlock_unlock(&sw->lock);
		if (poll(pfd, n, 10) > 0) {
			for (i = 0; i < n; i++) {
				int burst;

				if (!(pfd[i].revents & POLLIN))
					continue;
				for (burst = 0; burst < 64; burst++) {
					ssize_t r = recv(pfd[i].fd, buf,
							 FPESW_MAX_FRAME,
							 MSG_DONTWAIT);

					if (r <= 0)
						break;
					fpesw_input(ports[i], buf,
						    (uint16_t)r);
				}
			}
		}
		if (fpesw_now_s() != last_age) {
			last_age = fpesw_now_s();
			fpesw_age(sw);
		}
	}
	return NULL;
}

/* The host's side. */

uint16_t
fpesw_rx_burst(void *q, struct rte_mbuf **bufs, uint16_t n)
{
	struct fpesw_port *p = q;
	unsigned int got, i;

	got = rte_ring_dequeue_burst(p->rx_ring, (void **)bufs, n, NULL);
	for (i = 0; i < got; i++) {
		atomic_fetch_add(&p->rx_pkts, 1);
		atomic_fetch_add(&p->rx_bytes, bufs[i]->pkt_len);
	}
	return (uint16_t)got;
}

uint16_t
fpesw_tx_burst(void *q, struct rte_mbuf **bufs, uint16_t n)
{
	struct fpesw_port *p = q;
	uint8_t buf[FPESW_MAX_FRAME];
	uint16_t i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = bufs[i];
		const void *data = rte_pktmbuf_read(m, 0,
			RTE_MIN(m->pkt_len, (uint32_t)sizeof(buf)), buf);

		if (data != NULL && send(p->fd, data, m->pkt_len,
					 MSG_DONTWAIT) >= 0) {
			atomic_fetch_add(&p->tx_pkts, 1);
			atomic_fetch_add(&p->tx_bytes, m->pkt_len);
		} else {
			atomic_fetch_add(&p->tx_errors, 1);
		}
		rte_pktmbuf_free(m);
	}
	return n;
}
