/* SPDX-License-Identifier: Apache-2.0 */

/*
 * net_fpesw, the test e-switch (a TEST FIXTURE): connection tracking. An
 * indirect CONNTRACK action (struct rte_flow_action_handle) holds the
 * profile of one TCP connection; the rules of both its directions use it
 * through an INDIRECT action, and fpesw_ct_run() checks each of their
 * packets against its window as Open vSwitch's software conntrack would.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_flow.h>
#include <rte_flow_driver.h>
#include <rte_tcp.h>

#include "fp_eswitch.h"

/* The TCP window check of the conntrack model (see fpesw_ct_window()). */
#define FPESW_MAXACKWINDOW (0xffff + 1500)
#define FPESW_SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define FPESW_SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)

/* Indirect actions: CONNTRACK only. */

/* Frees a handle that has left its switch's list. */
void
fpesw_handle_free(struct rte_flow_action_handle *h)
{
	pthread_mutex_destroy(&h->mutex);
	free(h);
}

struct rte_flow_action_handle *
fpesw_action_handle_create(struct rte_eth_dev *dev,
			   const struct rte_flow_indir_action_conf *conf,
			   const struct rte_flow_action *action,
			   struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow_action_handle *h;
	char msg[160];

	(void)conf;
	if (action->type != RTE_FLOW_ACTION_TYPE_CONNTRACK) {
		snprintf(msg, sizeof(msg), "fpesw: indirect action %s is not "
			 "supported", fpesw_action_name(action->type));
		rte_flow_error_set(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
				   action, fpesw_msg_set(msg));
		return NULL;
	}
	if (fpesw_rejected(p, "conntrack")) {
		rte_flow_error_set(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
				   action, "fpesw: conntrack is not supported "
				   "by this e-switch");
		return NULL;
	}
	if (action->conf == NULL) {
		rte_flow_error_set(error, EINVAL,
				   RTE_FLOW_ERROR_TYPE_ACTION_CONF, action,
				   "fpesw: conntrack needs a profile");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		rte_flow_error_set(error, ENOMEM, RTE_FLOW_ERROR_TYPE_ACTION,
				   action, "fpesw: no memory");
		return NULL;
	}
	memcpy(&h->profile, action->conf, sizeof(h->profile));
	h->sw = p->sw;
	pthread_mutex_init(&h->mutex, NULL);
	pthread_rwlock_wrlock(&p->sw->lock);
	if (fpesw_handle_link(p->sw, h) != 0) {
		pthread_rwlock_unlock(&p->sw->lock);
		fpesw_handle_free(h);
		rte_flow_error_set(error, ENOMEM, RTE_FLOW_ERROR_TYPE_ACTION,
				   action, "fpesw: no memory");
		return NULL;
	}
	pthread_rwlock_unlock(&p->sw->lock);
	return h;
}

int
fpesw_action_handle_destroy(struct rte_eth_dev *dev,
			    struct rte_flow_action_handle *handle,
			    struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow_action_handle *h;
	unsigned int n;
	char msg[160];

	pthread_rwlock_wrlock(&p->sw->lock);
	h = fpesw_handle_find(p->sw, handle);
	if (h == NULL) {
		pthread_rwlock_unlock(&p->sw->lock);
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, handle,
			"fpesw: unknown indirect action handle");
	}
	n = h->n_rules;
	if (n > 0) {
		pthread_rwlock_unlock(&p->sw->lock);
		snprintf(msg, sizeof(msg), "fpesw: conntrack handle is used "
			 "by %u rules", n);
		return rte_flow_error_set(error, EBUSY,
			RTE_FLOW_ERROR_TYPE_ACTION, handle, fpesw_msg_set(msg));
	}
	fpesw_handle_unlink(p->sw, h);
	pthread_rwlock_unlock(&p->sw->lock);
	fpesw_handle_free(h);
	return 0;
}

/*
 * Finds 'handle' for an op of port 'p' that reads or writes its profile,
 * and locks it: returns it under sw->lock (read) and its mutex, for
 * fpesw_handle_unlock(). Returns NULL, with 'error' set to EINVAL, if there
 * is no such handle, or if the op's argument 'arg' is NULL (the message is
 * then 'missing').
 */
static struct rte_flow_action_handle *
fpesw_handle_lock(struct fpesw_port *p, const void *handle, const void *arg,
		  const char *missing, struct rte_flow_error *error)
{
	struct rte_flow_action_handle *h;

	pthread_rwlock_rdlock(&p->sw->lock);
	h = fpesw_handle_find(p->sw, handle);
	if (h == NULL || arg == NULL) {
		pthread_rwlock_unlock(&p->sw->lock);
		rte_flow_error_set(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION,
				   handle, h == NULL ?
				   "fpesw: unknown indirect action handle" :
				   missing);
		return NULL;
	}
	pthread_mutex_lock(&h->mutex);
	return h;
}

static void
fpesw_handle_unlock(struct fpesw_port *p, struct rte_flow_action_handle *h)
{
	pthread_mutex_unlock(&h->mutex);
	pthread_rwlock_unlock(&p->sw->lock);
}

int
fpesw_action_handle_update(struct rte_eth_dev *dev,
			   struct rte_flow_action_handle *handle,
			   const void *update, struct rte_flow_error *error)
{
	const struct rte_flow_modify_conntrack *mod = update;
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow_action_handle *h;

	h = fpesw_handle_lock(p, handle, mod, "fpesw: no conntrack update",
			      error);
	if (h == NULL)
		return -EINVAL;
	if (mod->state) {
		/* Everything but the direction. */
		uint32_t dir = h->profile.is_original_dir;

		h->profile = mod->new_ct;
		h->profile.is_original_dir = dir;
	}
	if (mod->direction)
		h->profile.is_original_dir = mod->new_ct.is_original_dir;
	fpesw_handle_unlock(p, h);
	return 0;
}

int
fpesw_action_handle_query(struct rte_eth_dev *dev,
			  const struct rte_flow_action_handle *handle,
			  void *data, struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow_action_handle *h;

	h = fpesw_handle_lock(p, handle, data,
			      "fpesw: no place for the conntrack profile",
			      error);
	if (h == NULL)
		return -EINVAL;
	memcpy(data, &h->profile, sizeof(h->profile));
	fpesw_handle_unlock(p, h);
	return 0;
}

/* The conntrack action. */

static uint32_t
fpesw_get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static uint16_t
fpesw_get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

/* The TCP segment a conntrack action checks. */
struct fpesw_tcp_seg {
	bool bad;               /* Too short for its IP and TCP headers. */
	uint8_t flags;
	uint32_t ip_len;        /* The IP payload: TCP header and data. */
	uint32_t hdr_len;       /* The TCP header. */
	uint32_t seq;
	uint32_t ack;
	uint32_t win;
};

/*
 * Reads into 'seg' the TCP header the rule's tcp item matched in the frame
 * 'f' of 'len' bytes, whose headers are 'h', after its IP header.
 */
static void
fpesw_ct_seg_read(const struct rte_flow *flow, const uint8_t *f,
		  uint16_t len, const struct fpesw_hdrs *h,
		  struct fpesw_tcp_seg *seg)
{
	unsigned int ti = flow->ct_tcp;
	const uint8_t *ip, *tcp;
	uint32_t thl, ihl;

	memset(seg, 0, sizeof(*seg));
	seg->bad = true;
	if (ti == 0 || ti >= h->n || h->type[ti] != RTE_FLOW_ITEM_TYPE_TCP)
		return;
	ip = f + h->ofs[ti - 1];
	tcp = f + h->ofs[ti];
	thl = (uint32_t)(tcp[12] >> 4) * 4;
	if (h->type[ti - 1] == RTE_FLOW_ITEM_TYPE_IPV4) {
		ihl = (uint32_t)(ip[0] & 0xf) * 4;
		seg->ip_len = fpesw_get16(ip + 2);
		seg->bad = ihl < 20 || seg->ip_len < ihl;
		seg->ip_len -= seg->bad ? 0 : ihl;
	} else if (h->type[ti - 1] == RTE_FLOW_ITEM_TYPE_IPV6) {
		seg->ip_len = fpesw_get16(ip + 4);
		seg->bad = false;
	}
	if (thl < 20 || seg->ip_len < thl ||
	    (uint32_t)h->ofs[ti] + thl > len)
		seg->bad = true;
	seg->hdr_len = thl;
	seg->flags = tcp[13];
	seg->seq = fpesw_get32(tcp + 4);
	seg->ack = fpesw_get32(tcp + 8);
	seg->win = fpesw_get16(tcp + 14);
}

/*
 * The window check of an established connection, for a well-formed ACK
 * 'seg' without SYN, FIN or RST, sent from the 'original' direction if
 * true: returns the packet's state and, if it is inside the window, moves
 * the window in profile 'pr'. Under the handle's mutex.
 */
static uint32_t
fpesw_ct_window(struct rte_flow_action_conntrack *pr, bool original,
		const struct fpesw_tcp_seg *seg)
{
	struct rte_flow_tcp_dir_param *src, *dst;
	uint32_t plen, seq, end, ack = seg->ack, win = seg->win;
	unsigned int sws, dws;
	int64_t ackskew;
	bool strict, loose;

	src = original ? &pr->original_dir : &pr->reply_dir;
	dst = original ? &pr->reply_dir : &pr->original_dir;
	if (!(seg->flags & RTE_TCP_ACK_FLAG) || src->max_win == 0)
		return RTE_FLOW_CONNTRACK_PKT_STATE_INVALID;

	/* A scale of 0xf means no window scaling; as in OVS, the window is
	 * scaled only if both ends scale it. */
	if (src->scale == 0xf || dst->scale == 0xf) {
		sws = 0;
		dws = 0;
	} else {
		sws = src->scale;
		dws = dst->scale;
	}
	plen = seg->ip_len - seg->hdr_len;
	seq = seg->seq;
	end = seq + plen;
	if (plen == 0)
		seq = end = src->sent_end;
	ackskew = (int32_t)(dst->sent_end - ack);
	strict = FPESW_SEQ_GEQ(src->reply_end, end) &&
		 FPESW_SEQ_GEQ(seq, src->sent_end -
			       (uint32_t)((uint64_t)dst->max_win << dws)) &&
		 ackskew >= -(int64_t)FPESW_MAXACKWINDOW &&
		 ackskew <= (int64_t)FPESW_MAXACKWINDOW << sws;
	loose = dst->max_win == 0 &&
		FPESW_SEQ_GEQ(src->reply_end + FPESW_MAXACKWINDOW, end) &&
		FPESW_SEQ_GEQ(seq, src->sent_end - FPESW_MAXACKWINDOW);
	if (!strict && !loose)
		return RTE_FLOW_CONNTRACK_PKT_STATE_INVALID;

	/* In the window: move it. */
	if (win > src->max_win)
		src->max_win = win;
	if (FPESW_SEQ_GT(end, src->sent_end))
		src->sent_end = end;
	if (FPESW_SEQ_GEQ(ack + (win << sws), dst->reply_end))
		dst->reply_end = ack + RTE_MAX(win << sws, 1u);
	pr->last_seq = seg->seq;
	pr->last_ack = ack;
	pr->last_end = end;
	pr->last_window = (uint16_t)win;
	/* As rte_flow.h: 1 for the original direction. */
	pr->last_direction = original ? 1 : 0;
	pr->last_index = RTE_FLOW_CONNTRACK_FLAG_ACK;
	return RTE_FLOW_CONNTRACK_PKT_STATE_VALID;
}

/*
 * The conntrack action of 'flow' on a frame its header items matched:
 * returns the packet's RTE_FLOW_CONNTRACK_PKT_STATE_* and, for a packet
 * inside the window, moves the window in the handle's profile. The check
 * is the one of Open vSwitch's software conntrack for an established
 * connection (tcp_conn_update() in lib/conntrack-tcp.c): there, sent_end
 * is "seqlo", reply_end "seqhi", and a max_win of 0 means that the peer has
 * not sent yet. A packet is VALID only if software, in the same state,
 * would accept it; state changes (SYN, FIN, RST) are left to software.
 * Under sw->lock (read).
 */
uint32_t
fpesw_ct_run(const struct rte_flow *flow, const uint8_t *f, uint16_t len,
	     const struct fpesw_hdrs *h)
{
	struct rte_flow_action_handle *ct = flow->ct;
	struct rte_flow_action_conntrack *pr = &ct->profile;
	struct fpesw_tcp_seg seg;
	uint32_t state;

	fpesw_ct_seg_read(flow, f, len, h, &seg);
	pthread_mutex_lock(&ct->mutex);
	if (!pr->enable)
		state = RTE_FLOW_CONNTRACK_PKT_STATE_DISABLED;
	else if (seg.bad)
		state = RTE_FLOW_CONNTRACK_PKT_STATE_INVALID |
			RTE_FLOW_CONNTRACK_PKT_STATE_BAD;
	else if (seg.flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG |
			      RTE_TCP_RST_FLAG))
		state = RTE_FLOW_CONNTRACK_PKT_STATE_VALID |
			RTE_FLOW_CONNTRACK_PKT_STATE_CHANGED;
	else
		state = fpesw_ct_window(pr, flow->ct_original, &seg);
	pthread_mutex_unlock(&ct->mutex);
	return state;
}
