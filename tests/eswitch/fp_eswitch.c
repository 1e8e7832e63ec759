/* SPDX-License-Identifier: Apache-2.0 */

/*
 * net_fpesw: a TEST FIXTURE, not a driver for real hardware.
 *
 * It models an SR-IOV e-switch with rte_flow offload, for Foldpath's
 * offload tests: no DPDK 22.11 software PMD implements transfer rules with
 * VXLAN decapsulation, COUNT and AGE. Ports with the same "switch" devarg
 * form one e-switch: one uplink (role=uplink, whose "wire" is a Linux
 * interface) and representors (role=rep, each of whose VF is a Linux
 * interface; the VM attaches to the other end of it). A thread plays the
 * hardware: a frame from the wire or a VF that matches a rule of its port
 * is handled by the rule's actions and never reaches the host; a miss goes
 * to the host through rx_burst. See README.rst for what it does not model.
 */

#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_flow_driver.h>
#include <rte_ip.h>
#include <rte_kvargs.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>

#define FPESW_MAX_PORTS 16
#define FPESW_MAX_FRAME 2048
#define FPESW_RING_SIZE 1024
#define FPESW_MAX_ITEMS 16
#define FPESW_HDR_MAX 40

/* The TCP window check of the conntrack model (see fpesw_ct_run()). */
#define FPESW_MAXACKWINDOW (0xffff + 1500)
#define FPESW_SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define FPESW_SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)

static const char *const fpesw_valid_args[] = {
	"role", "switch", "iface", "vf", "max_rules", "reject", "mac", NULL,
};

enum fpesw_role { FPESW_UPLINK, FPESW_REP };

struct fpesw_switch;

/* A rule's pattern item: the header it matches, masked. */
struct fpesw_item {
	enum rte_flow_item_type type;
	bool any;                       /* No spec: any header of the type. */
	uint8_t spec[FPESW_HDR_MAX];
	uint8_t mask[FPESW_HDR_MAX];
};

/*
 * An indirect CONNTRACK action: the tracking state of one TCP connection,
 * shared by the rules of its two directions. It belongs to an e-switch, so
 * that any port of the switch can use it.
 */
struct rte_flow_action_handle {
	LIST_ENTRY(rte_flow_action_handle) next;  /* Under sw->lock. */
	struct fpesw_switch *sw;
	pthread_mutex_t mutex;            /* Protects 'profile'. */
	struct rte_flow_action_conntrack profile;
	unsigned int n_rules;             /* Rules using it; under sw->lock. */
};

struct rte_flow {
	TAILQ_ENTRY(rte_flow) next;
	struct fpesw_port *port;
	uint32_t priority;
	unsigned int n_items;
	struct fpesw_item items[FPESW_MAX_ITEMS];
	struct rte_flow_action *actions;  /* Copied, END-terminated. */
	unsigned int n_actions;
	struct fpesw_port *out;           /* NULL: drop. */
	atomic_uint_fast64_t hits;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t last_hit;    /* Seconds, monotonic. */
	uint32_t age_timeout;
	void *age_context;
	bool aged;
	bool age_reported;
	/* Conntrack: the handle of the INDIRECT action (or NULL), the
	 * direction of the rule (fixed at creation), the index of the tcp
	 * item whose header the action checks, and the CONNTRACK item, if
	 * any: the state the action gives a packet, masked with 'ct_mask',
	 * must equal 'ct_spec' masked for the rule to apply. */
	struct rte_flow_action_handle *ct;
	bool ct_original;
	unsigned int ct_tcp;
	bool ct_item;
	uint32_t ct_spec;
	uint32_t ct_mask;
};

TAILQ_HEAD(fpesw_rules, rte_flow);

struct fpesw_port {
	struct fpesw_switch *sw;
	struct rte_eth_dev *dev;
	enum fpesw_role role;
	uint16_t vf;
	char iface[IF_NAMESIZE];
	int fd;
	struct rte_ring *rx_ring;
	struct rte_mempool *mp;
	bool started;
	struct rte_ether_addr mac;
	uint32_t max_rules;
	uint32_t n_rules;
	char reject[256];               /* ":name:name:" of refused types. */
	struct fpesw_rules rules;       /* Under sw->lock. */
	atomic_uint_fast64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	atomic_uint_fast64_t hw_pkts, rx_drops, tx_errors;
};

struct fpesw_switch {
	LIST_ENTRY(fpesw_switch) next;
	char name[64];
	uint16_t domain_id;
	unsigned int refs;
	struct fpesw_port *ports[FPESW_MAX_PORTS];
	pthread_rwlock_t lock;          /* Rules, 'ports' and 'handles'. */
	LIST_HEAD(, rte_flow_action_handle) handles;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	unsigned int n_started;
};

static LIST_HEAD(, fpesw_switch) fpesw_switches =
	LIST_HEAD_INITIALIZER(fpesw_switches);
static pthread_mutex_t fpesw_mutex = PTHREAD_MUTEX_INITIALIZER;

static uint64_t
fpesw_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Names of items and actions, for "reject" and for error messages. */
static const char *
fpesw_item_name(enum rte_flow_item_type t)
{
	switch (t) {
	case RTE_FLOW_ITEM_TYPE_ETH: return "eth";
	case RTE_FLOW_ITEM_TYPE_VLAN: return "vlan";
	case RTE_FLOW_ITEM_TYPE_IPV4: return "ipv4";
	case RTE_FLOW_ITEM_TYPE_IPV6: return "ipv6";
	case RTE_FLOW_ITEM_TYPE_UDP: return "udp";
	case RTE_FLOW_ITEM_TYPE_TCP: return "tcp";
	case RTE_FLOW_ITEM_TYPE_VXLAN: return "vxlan";
	case RTE_FLOW_ITEM_TYPE_CONNTRACK: return "conntrack";
	default: return "other";
	}
}

static const char *
fpesw_action_name(enum rte_flow_action_type t)
{
	switch (t) {
	case RTE_FLOW_ACTION_TYPE_VXLAN_DECAP: return "vxlan_decap";
	case RTE_FLOW_ACTION_TYPE_RAW_ENCAP: return "raw_encap";
	case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC: return "set_mac_src";
	case RTE_FLOW_ACTION_TYPE_SET_MAC_DST: return "set_mac_dst";
	case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC: return "set_ipv4_src";
	case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST: return "set_ipv4_dst";
	case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC: return "set_ipv6_src";
	case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST: return "set_ipv6_dst";
	case RTE_FLOW_ACTION_TYPE_SET_TP_SRC: return "set_tp_src";
	case RTE_FLOW_ACTION_TYPE_SET_TP_DST: return "set_tp_dst";
	case RTE_FLOW_ACTION_TYPE_SET_TTL: return "set_ttl";
	case RTE_FLOW_ACTION_TYPE_DEC_TTL: return "dec_ttl";
	case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN: return "of_pop_vlan";
	case RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN: return "of_push_vlan";
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID: return "of_set_vlan_vid";
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP: return "of_set_vlan_pcp";
	case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT: return "represented_port";
	case RTE_FLOW_ACTION_TYPE_PORT_ID: return "port_id";
	case RTE_FLOW_ACTION_TYPE_COUNT: return "count";
	case RTE_FLOW_ACTION_TYPE_AGE: return "age";
	case RTE_FLOW_ACTION_TYPE_DROP: return "drop";
	case RTE_FLOW_ACTION_TYPE_METER: return "meter";
	case RTE_FLOW_ACTION_TYPE_CONNTRACK: return "conntrack";
	case RTE_FLOW_ACTION_TYPE_INDIRECT: return "indirect";
	default: return "other";
	}
}

/* Error messages outlive the call: keep them per thread. */
static __thread char fpesw_msg[160];

static const char *
fpesw_msg_set(const char *msg)
{
	snprintf(fpesw_msg, sizeof(fpesw_msg), "%s", msg);
	return fpesw_msg;
}

static bool
fpesw_rejected(const struct fpesw_port *p, const char *name)
{
	char key[40];

	snprintf(key, sizeof(key), ":%s:", name);
	return strstr(p->reject, key) != NULL;
}

/* Finds 'handle' among the indirect actions of 'sw'; under sw->lock. */
static struct rte_flow_action_handle *
fpesw_handle_find(struct fpesw_switch *sw, const void *handle)
{
	struct rte_flow_action_handle *h;

	LIST_FOREACH(h, &sw->handles, next)
		if (h == handle)
			return h;
	return NULL;
}

/* Header length each item type matches, and its default mask. */
static size_t
fpesw_item_hdr(enum rte_flow_item_type t, const void **def_mask)
{
	switch (t) {
	case RTE_FLOW_ITEM_TYPE_ETH:
		*def_mask = &rte_flow_item_eth_mask;
		return sizeof(struct rte_ether_hdr);
	case RTE_FLOW_ITEM_TYPE_VLAN:
		*def_mask = &rte_flow_item_vlan_mask;
		return sizeof(struct rte_vlan_hdr);
	case RTE_FLOW_ITEM_TYPE_IPV4:
		*def_mask = &rte_flow_item_ipv4_mask;
		return sizeof(struct rte_ipv4_hdr);
	case RTE_FLOW_ITEM_TYPE_IPV6:
		*def_mask = &rte_flow_item_ipv6_mask;
		return sizeof(struct rte_ipv6_hdr);
	case RTE_FLOW_ITEM_TYPE_UDP:
		*def_mask = &rte_flow_item_udp_mask;
		return sizeof(struct rte_udp_hdr);
	case RTE_FLOW_ITEM_TYPE_TCP:
		*def_mask = &rte_flow_item_tcp_mask;
		return sizeof(struct rte_tcp_hdr);
	case RTE_FLOW_ITEM_TYPE_VXLAN:
		*def_mask = &rte_flow_item_vxlan_mask;
		return 8;
	default:
		return 0;
	}
}

/* Size of the configuration of the actions a rule keeps a copy of. */
static size_t
fpesw_conf_size(enum rte_flow_action_type t)
{
	switch (t) {
	case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
		return sizeof(struct rte_flow_action_set_mac);
	case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
		return sizeof(struct rte_flow_action_set_ipv4);
	case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
		return sizeof(struct rte_flow_action_set_ipv6);
	case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
	case RTE_FLOW_ACTION_TYPE_SET_TP_DST:
		return sizeof(struct rte_flow_action_set_tp);
	case RTE_FLOW_ACTION_TYPE_SET_TTL:
		return sizeof(struct rte_flow_action_set_ttl);
	case RTE_FLOW_ACTION_TYPE_OF_PUSH_VLAN:
		return sizeof(struct rte_flow_action_of_push_vlan);
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID:
		return sizeof(struct rte_flow_action_of_set_vlan_vid);
	case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP:
		return sizeof(struct rte_flow_action_of_set_vlan_pcp);
	case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
		return sizeof(struct rte_flow_action_ethdev);
	case RTE_FLOW_ACTION_TYPE_PORT_ID:
		return sizeof(struct rte_flow_action_port_id);
	case RTE_FLOW_ACTION_TYPE_AGE:
		return sizeof(struct rte_flow_action_age);
	default:
		return 0;
	}
}

/* Checks a rule and, with 'flow', fills it in. */
static int
fpesw_check(struct fpesw_port *p, const struct rte_flow_attr *attr,
	    const struct rte_flow_item items[],
	    const struct rte_flow_action actions[], struct rte_flow *flow,
	    struct rte_flow_error *error)
{
	char msg[160];
	bool vxlan = false, decap = false, tcp = false, ct_item = false;
	enum rte_flow_item_type prev = RTE_FLOW_ITEM_TYPE_END;
	struct rte_flow_action_handle *ct = NULL;
	unsigned int n_fate = 0, n = 0, i, tcp_idx = 0;
	uint32_t ct_spec = 0, ct_mask = 0;
	const struct rte_flow_item *it;
	const struct rte_flow_action *a;

	if (attr->transfer == 0)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, attr,
			"fpesw: only transfer rules are supported");
	if (attr->egress != 0 || attr->group != 0)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ATTR, attr,
			"fpesw: egress and groups are not supported");
	for (it = items; it->type != RTE_FLOW_ITEM_TYPE_END; it++) {
		const void *def_mask = NULL;
		size_t len;

		if (it->type == RTE_FLOW_ITEM_TYPE_VOID)
			continue;
		len = fpesw_item_hdr(it->type, &def_mask);
		if ((len == 0 && it->type != RTE_FLOW_ITEM_TYPE_CONNTRACK) ||
		    fpesw_rejected(p, fpesw_item_name(it->type))) {
			snprintf(msg, sizeof(msg), "fpesw: item %s is not "
				 "supported by this e-switch",
				 fpesw_item_name(it->type));
			return rte_flow_error_set(error, ENOTSUP,
				RTE_FLOW_ERROR_TYPE_ITEM, it, fpesw_msg_set(msg));
		}
		if (it->last != NULL)
			return rte_flow_error_set(error, ENOTSUP,
				RTE_FLOW_ERROR_TYPE_ITEM_LAST, it,
				"fpesw: ranges are not supported");
		if (ct_item)
			return rte_flow_error_set(error, ENOTSUP,
				RTE_FLOW_ERROR_TYPE_ITEM, it,
				"fpesw: the conntrack item must be the last "
				"item");
		if (it->type == RTE_FLOW_ITEM_TYPE_CONNTRACK) {
			/* Not a header: it matches the state the rule's
			 * conntrack action gives the packet, so it is kept
			 * apart from the items matched by position. No spec
			 * matches any state. */
			if (prev != RTE_FLOW_ITEM_TYPE_TCP)
				return rte_flow_error_set(error, ENOTSUP,
					RTE_FLOW_ERROR_TYPE_ITEM, it,
					"fpesw: the conntrack item must follow "
					"a tcp item");
			ct_item = true;
			if (it->spec != NULL) {
				const struct rte_flow_item_conntrack *sp =
					it->spec;
				const struct rte_flow_item_conntrack *mk =
					it->mask != NULL ? it->mask :
					&rte_flow_item_conntrack_mask;

				ct_spec = sp->flags;
				ct_mask = mk->flags;
			}
			continue;
		}
		if (n >= FPESW_MAX_ITEMS)
			return rte_flow_error_set(error, EINVAL,
				RTE_FLOW_ERROR_TYPE_ITEM_NUM, it,
				"fpesw: too many items");
		if (it->type == RTE_FLOW_ITEM_TYPE_VXLAN)
			vxlan = true;
		if (it->type == RTE_FLOW_ITEM_TYPE_TCP) {
			tcp = true;
			tcp_idx = n;
		}
		prev = it->type;
		if (flow != NULL) {
			struct fpesw_item *fi = &flow->items[n];

			fi->type = it->type;
			fi->any = it->spec == NULL;
			if (!fi->any) {
				memcpy(fi->spec, it->spec, len);
				memcpy(fi->mask, it->mask != NULL ? it->mask :
				       def_mask, len);
			}
		}
		n++;
	}
	for (a = actions; a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
		const char *name = fpesw_action_name(a->type);

		if (fpesw_rejected(p, name) ||
		    a->type == RTE_FLOW_ACTION_TYPE_METER ||
		    a->type == RTE_FLOW_ACTION_TYPE_CONNTRACK ||
		    strcmp(name, "other") == 0) {
			snprintf(msg, sizeof(msg), "fpesw: action %s is not "
				 "supported by this e-switch%s", name,
				 a->type == RTE_FLOW_ACTION_TYPE_METER ?
				 ": it has no meters" :
				 a->type == RTE_FLOW_ACTION_TYPE_CONNTRACK &&
				 !fpesw_rejected(p, name) ?
				 ": only as an indirect action" : "");
			return rte_flow_error_set(error, ENOTSUP,
				RTE_FLOW_ERROR_TYPE_ACTION, a, fpesw_msg_set(msg));
		}
		switch (a->type) {
		case RTE_FLOW_ACTION_TYPE_INDIRECT: {
			/* Its conf is the handle; only conntrack handles
			 * exist. */
			struct rte_flow_action_handle *h =
				fpesw_handle_find(p->sw, a->conf);

			if (h == NULL)
				return rte_flow_error_set(error, EINVAL,
					RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					"fpesw: unknown indirect action "
					"handle");
			if (ct != NULL)
				return rte_flow_error_set(error, ENOTSUP,
					RTE_FLOW_ERROR_TYPE_ACTION, a,
					"fpesw: a rule takes one conntrack "
					"action");
			ct = h;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_VXLAN_DECAP:
			decap = true;
			break;
		case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
		case RTE_FLOW_ACTION_TYPE_PORT_ID: {
			uint32_t id = a->type == RTE_FLOW_ACTION_TYPE_PORT_ID ?
				((const struct rte_flow_action_port_id *)
				 a->conf)->id :
				((const struct rte_flow_action_ethdev *)
				 a->conf)->port_id;
			struct fpesw_port *out = NULL;

			for (i = 0; i < FPESW_MAX_PORTS; i++)
				if (p->sw->ports[i] != NULL &&
				    p->sw->ports[i]->dev->data->port_id == id)
					out = p->sw->ports[i];
			if (out == NULL)
				return rte_flow_error_set(error, EINVAL,
					RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					"fpesw: the port is not in this "
					"e-switch");
			if (flow != NULL)
				flow->out = out;
			n_fate++;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_DROP:
			n_fate++;
			break;
		case RTE_FLOW_ACTION_TYPE_AGE:
			if (flow != NULL) {
				const struct rte_flow_action_age *age = a->conf;

				flow->age_timeout = age->timeout;
				flow->age_context = age->context != NULL ?
					age->context : flow;
			}
			break;
		case RTE_FLOW_ACTION_TYPE_RAW_ENCAP:
			if (((const struct rte_flow_action_raw_encap *)
			     a->conf)->size > 128)
				return rte_flow_error_set(error, EINVAL,
					RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					"fpesw: encapsulation too long");
			break;
		default:
			break;
		}
	}
	if (decap && !vxlan)
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			"fpesw: vxlan_decap needs a VXLAN item");
	if (ct_item && ct == NULL)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ITEM, NULL,
			"fpesw: the conntrack item needs a conntrack action "
			"in the same rule");
	if (ct != NULL && !tcp)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			"fpesw: a conntrack action needs a tcp item");
	if (n_fate != 1)
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			"fpesw: a rule needs exactly one port or drop action");
	if (flow != NULL) {
		size_t na = (size_t)(a - actions) + 1;

		flow->n_items = n;
		flow->ct = ct;
		flow->ct_tcp = tcp_idx;
		flow->ct_item = ct_item;
		flow->ct_spec = ct_spec;
		flow->ct_mask = ct_mask;
		flow->n_actions = (unsigned int)na - 1;
		flow->actions = calloc(na, sizeof(*flow->actions));
		if (flow->actions == NULL)
			return rte_flow_error_set(error, ENOMEM,
				RTE_FLOW_ERROR_TYPE_HANDLE, NULL,
				"fpesw: no memory");
		/* The conf of INDIRECT is the handle, not a structure to
		 * copy (fpesw_conf_size() is 0 for it): the copy has none,
		 * the rule keeps the handle in flow->ct. */
		for (i = 0; i < na; i++) {
			flow->actions[i].type = actions[i].type;
			flow->actions[i].conf = NULL;
			if (actions[i].type == RTE_FLOW_ACTION_TYPE_RAW_ENCAP) {
				const struct rte_flow_action_raw_encap *e =
					actions[i].conf;
				struct rte_flow_action_raw_encap *c =
					calloc(1, sizeof(*c) + e->size);

				if (c == NULL)
					return -ENOMEM;
				c->data = (uint8_t *)(c + 1);
				memcpy(c->data, e->data, e->size);
				c->size = e->size;
				flow->actions[i].conf = c;
			} else if (actions[i].conf != NULL &&
				   fpesw_conf_size(actions[i].type) > 0) {
				size_t size = fpesw_conf_size(actions[i].type);
				void *c = malloc(size);

				if (c == NULL)
					return -ENOMEM;
				memcpy(c, actions[i].conf, size);
				flow->actions[i].conf = c;
			}
		}
	}
	return 0;
}

static struct fpesw_port *
fpesw_port(struct rte_eth_dev *dev)
{
	return dev->data->dev_private;
}

static int
fpesw_flow_validate(struct rte_eth_dev *dev, const struct rte_flow_attr *attr,
		    const struct rte_flow_item items[],
		    const struct rte_flow_action actions[],
		    struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	int ret;

	pthread_rwlock_rdlock(&p->sw->lock);
	ret = fpesw_check(p, attr, items, actions, NULL, error);
	pthread_rwlock_unlock(&p->sw->lock);
	return ret;
}

static void
fpesw_flow_free(struct rte_flow *flow)
{
	unsigned int i;

	if (flow->actions != NULL)
		for (i = 0; i < flow->n_actions; i++)
			free((void *)(uintptr_t)flow->actions[i].conf);
	free(flow->actions);
	free(flow);
}

/*
 * A rule leaves its port's list: drops its reference to its conntrack
 * handle. Under the switch's write lock.
 */
static void
fpesw_flow_release_ct(struct rte_flow *flow)
{
	if (flow->ct != NULL) {
		flow->ct->n_rules--;
		flow->ct = NULL;
	}
}

static struct rte_flow *
fpesw_flow_create(struct rte_eth_dev *dev, const struct rte_flow_attr *attr,
		  const struct rte_flow_item items[],
		  const struct rte_flow_action actions[],
		  struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow *flow = calloc(1, sizeof(*flow)), *f;
	int ret;

	if (flow == NULL) {
		rte_flow_error_set(error, ENOMEM, RTE_FLOW_ERROR_TYPE_HANDLE,
				   NULL, "fpesw: no memory");
		return NULL;
	}
	pthread_rwlock_wrlock(&p->sw->lock);
	if (p->n_rules >= p->max_rules) {
		pthread_rwlock_unlock(&p->sw->lock);
		free(flow);
		rte_flow_error_set(error, ENOSPC, RTE_FLOW_ERROR_TYPE_HANDLE,
				   NULL, "fpesw: flow table full (max_rules)");
		return NULL;
	}
	ret = fpesw_check(p, attr, items, actions, flow, error);
	if (ret != 0) {
		pthread_rwlock_unlock(&p->sw->lock);
		fpesw_flow_free(flow);
		rte_errno = -ret;
		return NULL;
	}
	flow->port = p;
	flow->priority = attr->priority;
	if (flow->ct != NULL) {
		/* The direction of a rule is the handle's at this moment;
		 * updating the handle's direction then serves the rule of
		 * the other direction. */
		pthread_mutex_lock(&flow->ct->mutex);
		flow->ct_original = flow->ct->profile.is_original_dir != 0;
		pthread_mutex_unlock(&flow->ct->mutex);
		flow->ct->n_rules++;
	}
	atomic_store(&flow->last_hit, fpesw_now_s());
	TAILQ_FOREACH(f, &p->rules, next)
		if (f->priority > flow->priority)
			break;
	if (f != NULL)
		TAILQ_INSERT_BEFORE(f, flow, next);
	else
		TAILQ_INSERT_TAIL(&p->rules, flow, next);
	p->n_rules++;
	pthread_rwlock_unlock(&p->sw->lock);
	return flow;
}

static int
fpesw_flow_destroy(struct rte_eth_dev *dev, struct rte_flow *flow,
		   struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow *f;

	pthread_rwlock_wrlock(&p->sw->lock);
	TAILQ_FOREACH(f, &p->rules, next)
		if (f == flow)
			break;
	if (f == NULL) {
		pthread_rwlock_unlock(&p->sw->lock);
		return rte_flow_error_set(error, ENOENT,
			RTE_FLOW_ERROR_TYPE_HANDLE, flow,
			"fpesw: no such rule");
	}
	TAILQ_REMOVE(&p->rules, flow, next);
	p->n_rules--;
	fpesw_flow_release_ct(flow);
	pthread_rwlock_unlock(&p->sw->lock);
	fpesw_flow_free(flow);
	return 0;
}

static int
fpesw_flow_flush(struct rte_eth_dev *dev, struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow *f;

	(void)error;
	pthread_rwlock_wrlock(&p->sw->lock);
	while ((f = TAILQ_FIRST(&p->rules)) != NULL) {
		TAILQ_REMOVE(&p->rules, f, next);
		fpesw_flow_release_ct(f);
		fpesw_flow_free(f);
	}
	p->n_rules = 0;
	pthread_rwlock_unlock(&p->sw->lock);
	return 0;
}

static int
fpesw_flow_query(struct rte_eth_dev *dev, struct rte_flow *flow,
		 const struct rte_flow_action *action, void *data,
		 struct rte_flow_error *error)
{
	(void)dev;
	if (action->type == RTE_FLOW_ACTION_TYPE_COUNT) {
		struct rte_flow_query_count *q = data;

		q->hits_set = 1;
		q->bytes_set = 1;
		q->hits = atomic_load(&flow->hits);
		q->bytes = atomic_load(&flow->bytes);
		if (q->reset) {
			atomic_store(&flow->hits, 0);
			atomic_store(&flow->bytes, 0);
		}
		return 0;
	}
	if (action->type == RTE_FLOW_ACTION_TYPE_AGE &&
	    flow->age_timeout > 0) {
		struct rte_flow_query_age *q = data;

		memset(q, 0, sizeof(*q));
		q->aged = flow->aged;
		q->sec_since_last_hit_valid = 1;
		q->sec_since_last_hit = (uint32_t)(fpesw_now_s() -
					 atomic_load(&flow->last_hit));
		return 0;
	}
	return rte_flow_error_set(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION,
		action, "fpesw: the rule has no such action to query");
}

static int
fpesw_flow_get_aged(struct rte_eth_dev *dev, void **contexts, uint32_t n,
		    struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow *f;
	uint32_t got = 0;

	(void)error;
	pthread_rwlock_rdlock(&p->sw->lock);
	TAILQ_FOREACH(f, &p->rules, next) {
		if (!f->aged || f->age_reported)
			continue;
		if (n == 0) {
			got++;
			continue;
		}
		if (got == n)
			break;
		contexts[got++] = f->age_context;
		f->age_reported = true;
	}
	pthread_rwlock_unlock(&p->sw->lock);
	return (int)got;
}

/* Indirect actions: CONNTRACK only. */

static void
fpesw_handle_free(struct rte_flow_action_handle *h)
{
	pthread_mutex_destroy(&h->mutex);
	free(h);
}

static struct rte_flow_action_handle *
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
	LIST_INSERT_HEAD(&p->sw->handles, h, next);
	pthread_rwlock_unlock(&p->sw->lock);
	return h;
}

static int
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
	LIST_REMOVE(h, next);
	pthread_rwlock_unlock(&p->sw->lock);
	fpesw_handle_free(h);
	return 0;
}

static int
fpesw_action_handle_update(struct rte_eth_dev *dev,
			   struct rte_flow_action_handle *handle,
			   const void *update, struct rte_flow_error *error)
{
	const struct rte_flow_modify_conntrack *mod = update;
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow_action_handle *h;

	pthread_rwlock_rdlock(&p->sw->lock);
	h = fpesw_handle_find(p->sw, handle);
	if (h == NULL || mod == NULL) {
		pthread_rwlock_unlock(&p->sw->lock);
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, handle, h == NULL ?
			"fpesw: unknown indirect action handle" :
			"fpesw: no conntrack update");
	}
	pthread_mutex_lock(&h->mutex);
	if (mod->state) {
		/* Everything but the direction. */
		uint32_t dir = h->profile.is_original_dir;

		h->profile = mod->new_ct;
		h->profile.is_original_dir = dir;
	}
	if (mod->direction)
		h->profile.is_original_dir = mod->new_ct.is_original_dir;
	pthread_mutex_unlock(&h->mutex);
	pthread_rwlock_unlock(&p->sw->lock);
	return 0;
}

static int
fpesw_action_handle_query(struct rte_eth_dev *dev,
			  const struct rte_flow_action_handle *handle,
			  void *data, struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow_action_handle *h;

	pthread_rwlock_rdlock(&p->sw->lock);
	h = fpesw_handle_find(p->sw, handle);
	if (h == NULL || data == NULL) {
		pthread_rwlock_unlock(&p->sw->lock);
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, handle, h == NULL ?
			"fpesw: unknown indirect action handle" :
			"fpesw: no place for the conntrack profile");
	}
	pthread_mutex_lock(&h->mutex);
	memcpy(data, &h->profile, sizeof(h->profile));
	pthread_mutex_unlock(&h->mutex);
	pthread_rwlock_unlock(&p->sw->lock);
	return 0;
}

static const struct rte_flow_ops fpesw_flow_ops = {
	.validate = fpesw_flow_validate,
	.create = fpesw_flow_create,
	.destroy = fpesw_flow_destroy,
	.flush = fpesw_flow_flush,
	.query = fpesw_flow_query,
	.get_aged_flows = fpesw_flow_get_aged,
	.action_handle_create = fpesw_action_handle_create,
	.action_handle_destroy = fpesw_action_handle_destroy,
	.action_handle_update = fpesw_action_handle_update,
	.action_handle_query = fpesw_action_handle_query,
};

/* The "hardware". */

/* Headers of a frame, in order: what pattern items are matched against. */
struct fpesw_hdrs {
	unsigned int n;
	enum rte_flow_item_type type[FPESW_MAX_ITEMS];
	uint16_t ofs[FPESW_MAX_ITEMS];
};

static void
fpesw_parse(const uint8_t *f, uint16_t len, struct fpesw_hdrs *h)
{
	uint16_t ofs = 0, type;
	uint8_t proto;
	int layer;

	h->n = 0;
	for (layer = 0; layer < 2; layer++) {
#define FPESW_ADD(T, L) do { \
		if (h->n >= FPESW_MAX_ITEMS || ofs + (L) > len) \
			return; \
		h->type[h->n] = (T); \
		h->ofs[h->n++] = ofs; \
	} while (0)
		FPESW_ADD(RTE_FLOW_ITEM_TYPE_ETH, 14);
		type = (uint16_t)(f[ofs + 12] << 8 | f[ofs + 13]);
		ofs += 14;
		if (type == RTE_ETHER_TYPE_VLAN) {
			FPESW_ADD(RTE_FLOW_ITEM_TYPE_VLAN, 4);
			type = (uint16_t)(f[ofs + 2] << 8 | f[ofs + 3]);
			ofs += 4;
		}
		if (type == RTE_ETHER_TYPE_IPV4) {
			FPESW_ADD(RTE_FLOW_ITEM_TYPE_IPV4, 20);
			proto = f[ofs + 9];
			ofs += (uint16_t)((f[ofs] & 0xf) * 4);
		} else if (type == RTE_ETHER_TYPE_IPV6) {
			FPESW_ADD(RTE_FLOW_ITEM_TYPE_IPV6, 40);
			proto = f[ofs + 6];
			ofs += 40;
		} else {
			return;
		}
		if (proto == IPPROTO_TCP) {
			FPESW_ADD(RTE_FLOW_ITEM_TYPE_TCP, 20);
			return;
		}
		if (proto != IPPROTO_UDP)
			return;
		FPESW_ADD(RTE_FLOW_ITEM_TYPE_UDP, 8);
		if (layer == 1 || (f[ofs + 2] << 8 | f[ofs + 3]) != 4789)
			return;
		ofs += 8;
		FPESW_ADD(RTE_FLOW_ITEM_TYPE_VXLAN, 8);
		ofs += 8;
#undef FPESW_ADD
	}
}

/*
 * Matches the header items of 'flow' against the headers of a frame, by
 * position. A CONNTRACK item is not among them (fpesw_check() keeps it
 * apart): fpesw_input() matches it against the conntrack state.
 */
static bool
fpesw_match(const struct rte_flow *flow, const uint8_t *f,
	    const struct fpesw_hdrs *h)
{
	unsigned int i, b;

	if (flow->n_items > h->n)
		return false;
	for (i = 0; i < flow->n_items; i++) {
		const struct fpesw_item *it = &flow->items[i];
		const void *dm;
		size_t len = fpesw_item_hdr(it->type, &dm);

		if (h->type[i] != it->type)
			return false;
		if (it->any)
			continue;
		for (b = 0; b < len; b++)
			if ((f[h->ofs[i] + b] & it->mask[b]) !=
			    (it->spec[b] & it->mask[b]))
				return false;
	}
	return true;
}

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

/* Runs the actions of 'flow' on the frame in 'buf'; returns its length,
 * or 0 to drop. */
static uint16_t
fpesw_apply(const struct rte_flow *flow, uint8_t *buf, uint16_t len,
	    const struct fpesw_hdrs *h0)
{
	const struct rte_flow_action *a;
	struct fpesw_hdrs h;
	bool csum = false;
	unsigned int i;

	for (a = flow->actions; a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
		fpesw_parse(buf, len, &h);
		switch (a->type) {
		case RTE_FLOW_ACTION_TYPE_VXLAN_DECAP:
			for (i = 0; i < h0->n; i++)
				if (h0->type[i] == RTE_FLOW_ITEM_TYPE_VXLAN)
					break;
			if (i + 1 >= h0->n)
				return 0;
			len -= h0->ofs[i + 1];
			memmove(buf, buf + h0->ofs[i + 1], len);
			break;
		case RTE_FLOW_ACTION_TYPE_RAW_ENCAP: {
			const struct rte_flow_action_raw_encap *e = a->conf;
			struct fpesw_hdrs eh;
			uint8_t *l3 = NULL;

			if (len + e->size > FPESW_MAX_FRAME)
				return 0;
			memmove(buf + e->size, buf, len);
			memcpy(buf, e->data, e->size);
			len = (uint16_t)(len + e->size);
			fpesw_parse(buf, len, &eh);
			for (i = 0; i < eh.n; i++) {
				uint8_t *p = buf + eh.ofs[i];

				if (eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV4 ||
				    eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV6)
					l3 = p;
				if (eh.type[i] == RTE_FLOW_ITEM_TYPE_IPV4) {
					struct rte_ipv4_hdr *ip = (void *)p;

					ip->total_length = rte_cpu_to_be_16(
						len - eh.ofs[i]);
					ip->hdr_checksum = 0;
					ip->hdr_checksum = rte_ipv4_cksum(ip);
				} else if (eh.type[i] ==
					   RTE_FLOW_ITEM_TYPE_IPV6) {
					((struct rte_ipv6_hdr *)p)->payload_len
						= rte_cpu_to_be_16(len -
							eh.ofs[i] - 40);
				} else if (eh.type[i] ==
					   RTE_FLOW_ITEM_TYPE_UDP) {
					struct rte_udp_hdr *u = (void *)p;

					u->dgram_len = rte_cpu_to_be_16(len -
									eh.ofs[i]);
					/* A header with a checksum (not 0) gets
					 * it computed, as a NIC would. */
					if (u->dgram_cksum != 0 && l3 != NULL)
						fpesw_udp_cksum(l3, u);
					break;
				}
			}
			break;
		}
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
			for (i = 0; i < h.n; i++) {
				uint8_t *p = buf + h.ofs[i];
				bool v4 = h.type[i] == RTE_FLOW_ITEM_TYPE_IPV4;
				bool v6 = h.type[i] == RTE_FLOW_ITEM_TYPE_IPV6;
				bool l4 = h.type[i] == RTE_FLOW_ITEM_TYPE_TCP ||
					  h.type[i] == RTE_FLOW_ITEM_TYPE_UDP;

				if (v4 && a->type ==
				    RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC)
					memcpy(p + 12, a->conf, 4);
				else if (v4 && a->type ==
					 RTE_FLOW_ACTION_TYPE_SET_IPV4_DST)
					memcpy(p + 16, a->conf, 4);
				else if (v6 && a->type ==
					 RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC)
					memcpy(p + 8, a->conf, 16);
				else if (v6 && a->type ==
					 RTE_FLOW_ACTION_TYPE_SET_IPV6_DST)
					memcpy(p + 24, a->conf, 16);
				else if (l4 && a->type ==
					 RTE_FLOW_ACTION_TYPE_SET_TP_SRC)
					memcpy(p, a->conf, 2);
				else if (l4 && a->type ==
					 RTE_FLOW_ACTION_TYPE_SET_TP_DST)
					memcpy(p + 2, a->conf, 2);
				else if ((v4 || v6) && a->type ==
					 RTE_FLOW_ACTION_TYPE_SET_TTL)
					p[v4 ? 8 : 7] = *(const uint8_t *)
						a->conf;
				else if ((v4 || v6) && a->type ==
					 RTE_FLOW_ACTION_TYPE_DEC_TTL)
					p[v4 ? 8 : 7]--;
			}
			csum = true;
			break;
		case RTE_FLOW_ACTION_TYPE_OF_POP_VLAN:
			if (h.n < 2 || h.type[1] != RTE_FLOW_ITEM_TYPE_VLAN)
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
		case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_VID: {
			uint16_t vid = rte_be_to_cpu_16(
				((const struct rte_flow_action_of_set_vlan_vid *)
				 a->conf)->vlan_vid);

			buf[14] = (uint8_t)((buf[14] & 0xf0) | (vid >> 8));
			buf[15] = (uint8_t)vid;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_OF_SET_VLAN_PCP:
			buf[14] = (uint8_t)((buf[14] & 0x1f) |
				((const struct rte_flow_action_of_set_vlan_pcp *)
				 a->conf)->vlan_pcp << 5);
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
static uint32_t
fpesw_ct_run(const struct rte_flow *flow, const uint8_t *f, uint16_t len,
	     const struct fpesw_hdrs *h)
{
	struct rte_flow_action_handle *ct = flow->ct;
	struct rte_flow_action_conntrack *pr = &ct->profile;
	struct rte_flow_tcp_dir_param *src, *dst;
	unsigned int ti = flow->ct_tcp;
	uint32_t ip_len = 0, hdr_len, plen, seq, orig_seq, ack, end, win;
	uint32_t state;
	unsigned int sws, dws;
	uint8_t tcp_flags = 0;
	int64_t ackskew;
	bool bad = true, strict, loose;

	/* The TCP header is the one the rule's tcp item matched, after its
	 * IP header. */
	if (ti > 0 && ti < h->n && h->type[ti] == RTE_FLOW_ITEM_TYPE_TCP) {
		const uint8_t *ip = f + h->ofs[ti - 1];
		const uint8_t *tcp = f + h->ofs[ti];
		uint32_t thl = (uint32_t)(tcp[12] >> 4) * 4;
		uint32_t ihl = 0;

		if (h->type[ti - 1] == RTE_FLOW_ITEM_TYPE_IPV4) {
			ihl = (uint32_t)(ip[0] & 0xf) * 4;
			ip_len = fpesw_get16(ip + 2);
			bad = ihl < 20 || ip_len < ihl;
			ip_len -= bad ? 0 : ihl;
		} else if (h->type[ti - 1] == RTE_FLOW_ITEM_TYPE_IPV6) {
			ip_len = fpesw_get16(ip + 4);
			bad = false;
		}
		if (thl < 20 || ip_len < thl ||
		    (uint32_t)h->ofs[ti] + thl > len)
			bad = true;
		hdr_len = thl;
		tcp_flags = tcp[13];
		seq = fpesw_get32(tcp + 4);
		ack = fpesw_get32(tcp + 8);
		win = fpesw_get16(tcp + 14);
	} else {
		hdr_len = 0;
		seq = ack = win = 0;
	}

	pthread_mutex_lock(&ct->mutex);
	if (!pr->enable) {
		state = RTE_FLOW_CONNTRACK_PKT_STATE_DISABLED;
		goto out;
	}
	if (bad) {
		state = RTE_FLOW_CONNTRACK_PKT_STATE_INVALID |
			RTE_FLOW_CONNTRACK_PKT_STATE_BAD;
		goto out;
	}
	if (tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG |
			 RTE_TCP_RST_FLAG)) {
		state = RTE_FLOW_CONNTRACK_PKT_STATE_VALID |
			RTE_FLOW_CONNTRACK_PKT_STATE_CHANGED;
		goto out;
	}
	src = flow->ct_original ? &pr->original_dir : &pr->reply_dir;
	dst = flow->ct_original ? &pr->reply_dir : &pr->original_dir;
	if (!(tcp_flags & RTE_TCP_ACK_FLAG) || src->max_win == 0) {
		state = RTE_FLOW_CONNTRACK_PKT_STATE_INVALID;
		goto out;
	}

	/* A scale of 0xf means no window scaling; as in OVS, the window is
	 * scaled only if both ends scale it. */
	if (src->scale == 0xf || dst->scale == 0xf) {
		sws = 0;
		dws = 0;
	} else {
		sws = src->scale;
		dws = dst->scale;
	}
	plen = ip_len - hdr_len;
	orig_seq = seq;
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
	if (!strict && !loose) {
		state = RTE_FLOW_CONNTRACK_PKT_STATE_INVALID;
		goto out;
	}

	/* In the window: move it. */
	if (win > src->max_win)
		src->max_win = win;
	if (FPESW_SEQ_GT(end, src->sent_end))
		src->sent_end = end;
	if (FPESW_SEQ_GEQ(ack + (win << sws), dst->reply_end))
		dst->reply_end = ack + RTE_MAX(win << sws, 1u);
	pr->last_seq = orig_seq;
	pr->last_ack = ack;
	pr->last_end = end;
	pr->last_window = (uint16_t)win;
	/* As rte_flow.h: 1 for the original direction. */
	pr->last_direction = flow->ct_original ? 1 : 0;
	pr->last_index = RTE_FLOW_CONNTRACK_FLAG_ACK;
	state = RTE_FLOW_CONNTRACK_PKT_STATE_VALID;
out:
	pthread_mutex_unlock(&ct->mutex);
	return state;
}

/* A frame arrived from the outside of port 'p' (wire or VF). */
static void
fpesw_input(struct fpesw_port *p, uint8_t *buf, uint16_t len)
{
	struct fpesw_switch *sw = p->sw;
	struct fpesw_hdrs h;
	struct rte_flow *f;
	struct rte_mbuf *m;

	fpesw_parse(buf, len, &h);
	pthread_rwlock_rdlock(&sw->lock);
	TAILQ_FOREACH(f, &p->rules, next) {
		if (fpesw_match(f, buf, &h)) {
			struct fpesw_port *out = f->out;
			uint16_t n;

			/* The conntrack action runs on every packet of the
			 * rule; the rule applies only if the state it gives
			 * matches the rule's CONNTRACK item, if any. */
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

static void *
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

/* ethdev ops. */

static int
fpesw_dev_configure(struct rte_eth_dev *dev)
{
	(void)dev;
	return 0;
}

static int
fpesw_dev_start(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct fpesw_switch *sw = p->sw;
	int ret = 0;

	pthread_mutex_lock(&fpesw_mutex);
	p->started = true;
	dev->data->dev_link.link_status = RTE_ETH_LINK_UP;
	if (!sw->running) {
		atomic_store(&sw->stop, false);
		ret = pthread_create(&sw->thread, NULL, fpesw_thread, sw);
		if (ret == 0) {
			char name[16];

			snprintf(name, sizeof(name), "fpesw-%.9s", sw->name);
			pthread_setname_np(sw->thread, name);
			sw->running = true;
		}
	}
	pthread_mutex_unlock(&fpesw_mutex);
	return -ret;
}

static int
fpesw_dev_stop(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);

	p->started = false;
	dev->data->dev_link.link_status = RTE_ETH_LINK_DOWN;
	return 0;
}

static void
fpesw_switch_put(struct fpesw_switch *sw)
{
	struct rte_flow_action_handle *h;

	if (--sw->refs > 0)
		return;
	if (sw->running) {
		atomic_store(&sw->stop, true);
		pthread_join(sw->thread, NULL);
	}
	/* The rules of all ports are gone: so are the handles' users. */
	while ((h = LIST_FIRST(&sw->handles)) != NULL) {
		LIST_REMOVE(h, next);
		fpesw_handle_free(h);
	}
	LIST_REMOVE(sw, next);
	rte_eth_switch_domain_free(sw->domain_id);
	pthread_rwlock_destroy(&sw->lock);
	free(sw);
}

static int
fpesw_dev_close(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct fpesw_switch *sw;
	struct rte_mbuf *m;
	unsigned int i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || p == NULL ||
	    p->sw == NULL)
		return 0;
	sw = p->sw;
	fpesw_flow_flush(dev, NULL);
	pthread_mutex_lock(&fpesw_mutex);
	/* Rules of other ports that send to this one must go first. */
	pthread_rwlock_wrlock(&sw->lock);
	for (i = 0; i < FPESW_MAX_PORTS; i++) {
		struct fpesw_port *o = sw->ports[i];
		struct rte_flow *f, *t;

		if (o == p)
			sw->ports[i] = NULL;
		if (o == NULL || o == p)
			continue;
		for (f = TAILQ_FIRST(&o->rules); f != NULL; f = t) {
			t = TAILQ_NEXT(f, next);
			if (f->out == p) {
				TAILQ_REMOVE(&o->rules, f, next);
				o->n_rules--;
				fpesw_flow_release_ct(f);
				fpesw_flow_free(f);
			}
		}
	}
	pthread_rwlock_unlock(&sw->lock);
	fpesw_switch_put(sw);
	pthread_mutex_unlock(&fpesw_mutex);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->rx_ring != NULL) {
		while (rte_ring_dequeue(p->rx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(p->rx_ring);
		p->rx_ring = NULL;
	}
	p->sw = NULL;
	dev->data->mac_addrs = NULL;
	return 0;
}

static int
fpesw_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct fpesw_port *p = fpesw_port(dev);

	info->max_mac_addrs = 1;
	info->max_rx_pktlen = FPESW_MAX_FRAME;
	info->max_rx_queues = 1;
	info->max_tx_queues = 1;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = FPESW_MAX_FRAME - RTE_ETHER_HDR_LEN - 4;
	info->switch_info.name = p->sw->name;
	info->switch_info.domain_id = p->sw->domain_id;
	info->switch_info.port_id = p->role == FPESW_UPLINK ? 0xffff : p->vf;
	return 0;
}

static int
fpesw_link_update(struct rte_eth_dev *dev, int wait)
{
	(void)dev;
	(void)wait;
	return 0;
}

static int
fpesw_noop(struct rte_eth_dev *dev)
{
	(void)dev;
	return 0;
}

static int
fpesw_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	(void)dev;
	return mtu + RTE_ETHER_HDR_LEN + 4 <= FPESW_MAX_FRAME ? 0 : -EINVAL;
}

static int
fpesw_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st)
{
	struct fpesw_port *p = fpesw_port(dev);

	st->ipackets = atomic_load(&p->rx_pkts);
	st->ibytes = atomic_load(&p->rx_bytes);
	st->opackets = atomic_load(&p->tx_pkts);
	st->obytes = atomic_load(&p->tx_bytes);
	st->imissed = atomic_load(&p->rx_drops);
	st->oerrors = atomic_load(&p->tx_errors);
	return 0;
}

static int
fpesw_stats_reset(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);

	atomic_store(&p->rx_pkts, 0);
	atomic_store(&p->rx_bytes, 0);
	atomic_store(&p->tx_pkts, 0);
	atomic_store(&p->tx_bytes, 0);
	atomic_store(&p->rx_drops, 0);
	atomic_store(&p->tx_errors, 0);
	return 0;
}

static int
fpesw_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		     unsigned int socket, const struct rte_eth_rxconf *conf,
		     struct rte_mempool *mp)
{
	struct fpesw_port *p = fpesw_port(dev);
	char name[RTE_RING_NAMESIZE];

	(void)nb_desc;
	(void)conf;
	if (qid != 0)
		return -EINVAL;
	p->mp = mp;
	if (p->rx_ring == NULL) {
		snprintf(name, sizeof(name), "fpesw_rx_%u",
			 dev->data->port_id);
		p->rx_ring = rte_ring_create(name, FPESW_RING_SIZE, (int)socket,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (p->rx_ring == NULL)
			return -rte_errno;
	}
	dev->data->rx_queues[qid] = p;
	return 0;
}

static int
fpesw_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		     unsigned int socket, const struct rte_eth_txconf *conf)
{
	(void)nb_desc;
	(void)socket;
	(void)conf;
	if (qid != 0)
		return -EINVAL;
	dev->data->tx_queues[qid] = fpesw_port(dev);
	return 0;
}

static void
fpesw_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	(void)dev;
	(void)qid;
}

static int
fpesw_flow_ops_get(struct rte_eth_dev *dev, const struct rte_flow_ops **ops)
{
	(void)dev;
	*ops = &fpesw_flow_ops;
	return 0;
}

static const struct eth_dev_ops fpesw_ops = {
	.dev_configure = fpesw_dev_configure,
	.dev_start = fpesw_dev_start,
	.dev_stop = fpesw_dev_stop,
	.dev_close = fpesw_dev_close,
	.dev_infos_get = fpesw_dev_infos_get,
	.link_update = fpesw_link_update,
	.promiscuous_enable = fpesw_noop,
	.promiscuous_disable = fpesw_noop,
	.allmulticast_enable = fpesw_noop,
	.allmulticast_disable = fpesw_noop,
	.mtu_set = fpesw_mtu_set,
	.stats_get = fpesw_stats_get,
	.stats_reset = fpesw_stats_reset,
	.rx_queue_setup = fpesw_rx_queue_setup,
	.tx_queue_setup = fpesw_tx_queue_setup,
	.rx_queue_release = fpesw_queue_release,
	.tx_queue_release = fpesw_queue_release,
	.flow_ops_get = fpesw_flow_ops_get,
};

static uint16_t
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

static uint16_t
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

/* Probe and remove. */

static int
fpesw_kv_string(const char *key, const char *value, void *arg)
{
	(void)key;
	snprintf(arg, 256, "%s", value);
	return 0;
}

static int
fpesw_open_socket(const char *iface)
{
	struct sockaddr_ll sll;
	int fd, one = 1;
	unsigned int idx = if_nametoindex(iface);

	if (idx == 0)
		return -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	(void)one;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int
fpesw_probe(struct rte_vdev_device *vdev)
{
	char role[256] = "", swname[256] = "", iface[256] = "", vf[256] = "0";
	char max_rules[256] = "1024", reject[256] = "", mac[256] = "";
	const char *name = rte_vdev_device_name(vdev);
	struct rte_kvargs *kv;
	struct rte_eth_dev *dev;
	struct fpesw_switch *sw;
	struct fpesw_port *p;
	unsigned int i;
	int fd;

	kv = rte_kvargs_parse(rte_vdev_device_args(vdev), fpesw_valid_args);
	if (kv == NULL) {
		RTE_LOG(ERR, PMD, "%s: bad devargs\n", name);
		return -EINVAL;
	}
	rte_kvargs_process(kv, "role", fpesw_kv_string, role);
	rte_kvargs_process(kv, "switch", fpesw_kv_string, swname);
	rte_kvargs_process(kv, "iface", fpesw_kv_string, iface);
	rte_kvargs_process(kv, "vf", fpesw_kv_string, vf);
	rte_kvargs_process(kv, "max_rules", fpesw_kv_string, max_rules);
	rte_kvargs_process(kv, "reject", fpesw_kv_string, reject);
	rte_kvargs_process(kv, "mac", fpesw_kv_string, mac);
	rte_kvargs_free(kv);
	if ((strcmp(role, "uplink") != 0 && strcmp(role, "rep") != 0) ||
	    swname[0] == '\0' || iface[0] == '\0') {
		RTE_LOG(ERR, PMD, "%s: role=uplink|rep, switch= and iface= are "
			"required\n", name);
		return -EINVAL;
	}
	fd = fpesw_open_socket(iface);
	if (fd < 0) {
		RTE_LOG(ERR, PMD, "%s: cannot attach to %s: %s\n", name, iface,
			strerror(-fd));
		return fd;
	}
	dev = rte_eth_vdev_allocate(vdev, sizeof(*p));
	if (dev == NULL) {
		close(fd);
		return -ENOMEM;
	}
	p = dev->data->dev_private;
	p->dev = dev;
	p->fd = fd;
	p->role = strcmp(role, "uplink") == 0 ? FPESW_UPLINK : FPESW_REP;
	p->vf = (uint16_t)atoi(vf);
	p->max_rules = (uint32_t)strtoul(max_rules, NULL, 10);
	snprintf(p->iface, sizeof(p->iface), "%s", iface);
	snprintf(p->reject, sizeof(p->reject), ":%s:", reject);
	TAILQ_INIT(&p->rules);
	if (mac[0] == '\0' || rte_ether_unformat_addr(mac, &p->mac) != 0)
		rte_eth_random_addr(p->mac.addr_bytes);

	pthread_mutex_lock(&fpesw_mutex);
	LIST_FOREACH(sw, &fpesw_switches, next)
		if (strcmp(sw->name, swname) == 0)
			break;
	if (sw == NULL) {
		sw = calloc(1, sizeof(*sw));
		if (sw == NULL || rte_eth_switch_domain_alloc(&sw->domain_id)) {
			pthread_mutex_unlock(&fpesw_mutex);
			free(sw);
			close(fd);
			rte_eth_dev_release_port(dev);
			return -ENOMEM;
		}
		snprintf(sw->name, sizeof(sw->name), "%s", swname);
		pthread_rwlock_init(&sw->lock, NULL);
		LIST_INIT(&sw->handles);
		LIST_INSERT_HEAD(&fpesw_switches, sw, next);
	}
	pthread_rwlock_wrlock(&sw->lock);
	for (i = 0; i < FPESW_MAX_PORTS; i++)
		if (sw->ports[i] == NULL)
			break;
	if (i < FPESW_MAX_PORTS)
		sw->ports[i] = p;
	pthread_rwlock_unlock(&sw->lock);
	sw->refs++;
	p->sw = sw;
	pthread_mutex_unlock(&fpesw_mutex);
	if (i == FPESW_MAX_PORTS) {
		fpesw_dev_close(dev);
		rte_eth_dev_release_port(dev);
		return -ENOSPC;
	}

	dev->dev_ops = &fpesw_ops;
	dev->rx_pkt_burst = fpesw_rx_burst;
	dev->tx_pkt_burst = fpesw_tx_burst;
	dev->data->mac_addrs = &p->mac;
	dev->data->dev_link.link_speed = RTE_ETH_SPEED_NUM_25G;
	dev->data->dev_link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	dev->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	if (p->role == FPESW_REP) {
		/* Not flagged RTE_ETH_DEV_REPRESENTOR: ethdev's devargs
		 * iterator, which OVS uses to find the port of its
		 * dpdk-devargs, skips representors unless the devargs name
		 * one with "representor=", a PCI-only syntax. The switch
		 * domain still ties the ports together. */
		dev->data->representor_id = p->vf;
		/* The uplink backs the representors (its PF, on a NIC). */
		dev->data->backer_port_id = dev->data->port_id;
		pthread_rwlock_rdlock(&sw->lock);
		for (i = 0; i < FPESW_MAX_PORTS; i++)
			if (sw->ports[i] != NULL &&
			    sw->ports[i]->role == FPESW_UPLINK)
				dev->data->backer_port_id =
					sw->ports[i]->dev->data->port_id;
		pthread_rwlock_unlock(&sw->lock);
	}
	rte_eth_dev_probing_finish(dev);
	RTE_LOG(INFO, PMD, "%s: %s of e-switch %s on %s (test fixture)\n",
		name, role, swname, iface);
	return 0;
}

static int
fpesw_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *dev;

	dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (dev == NULL)
		return 0;
	fpesw_dev_close(dev);
	rte_eth_dev_release_port(dev);
	return 0;
}

static struct rte_vdev_driver fpesw_driver = {
	.probe = fpesw_probe,
	.remove = fpesw_remove,
};

RTE_PMD_REGISTER_VDEV(net_fpesw, fpesw_driver);
RTE_PMD_REGISTER_PARAM_STRING(net_fpesw,
	"role=uplink|rep switch=<name> iface=<ifname> vf=<n> max_rules=<n> "
	"reject=<name:name...> mac=<mac>");
