/* SPDX-License-Identifier: Apache-2.0 */

/*
 * net_fpesw, the test e-switch (a TEST FIXTURE): its rte_flow ops. Rules
 * are checked against what the e-switch models (fpesw_check()) and kept,
 * in priority order, on their port's list and in its tables, where the
 * switch thread looks frames up (fp_eswitch_lookup.c, fp_eswitch_rxtx.c).
 * The indirect CONNTRACK ops are in fp_eswitch_ct.c.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_flow_driver.h>

#include "fp_eswitch.h"

/* Names of items and actions, for "reject" and for error messages. */
const char *
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

const char *
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

const char *
fpesw_msg_set(const char *msg)
{
	snprintf(fpesw_msg, sizeof(fpesw_msg), "%s", msg);
	return fpesw_msg;
}

bool
fpesw_rejected(const struct fpesw_port *p, const char *name)
{
	char key[40];

	snprintf(key, sizeof(key), ":%s:", name);
	return strstr(p->reject, key) != NULL;
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

/*
 * What fpesw_check() learns of a rule on its way through the items and
 * the actions, for the checks that need more than one of them and to fill
 * in the rule.
 */
struct fpesw_rule_info {
	unsigned int n_items;           /* Header items, matched by position. */
	bool vxlan;                     /* A vxlan item. */
	bool tcp;                       /* A tcp item, the last at 'tcp_idx'. */
	unsigned int tcp_idx;
	bool ct_item;                   /* A CONNTRACK item, with its flags. */
	uint32_t ct_spec;
	uint32_t ct_mask;
	bool decap;                     /* A VXLAN_DECAP action. */
	struct rte_flow_action_handle *ct;  /* The INDIRECT action's handle. */
	unsigned int n_fate;            /* Port and drop actions. */
	unsigned int n_actions;         /* Actions before END. */
};

static int
fpesw_check_attr(const struct rte_flow_attr *attr,
		 struct rte_flow_error *error)
{
	if (attr->transfer == 0)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, attr,
			"fpesw: only transfer rules are supported");
	if (attr->egress != 0 || attr->group != 0)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ATTR, attr,
			"fpesw: egress and groups are not supported");
	return 0;
}

/*
 * A CONNTRACK item is not a header: it matches the state the rule's
 * conntrack action gives the packet, so it is kept apart from the items
 * matched by position. No spec matches any state. 'prev' is the type of
 * the header item before it.
 */
static int
fpesw_check_ct_item(const struct rte_flow_item *it,
		    enum rte_flow_item_type prev, struct fpesw_rule_info *ri,
		    struct rte_flow_error *error)
{
	if (prev != RTE_FLOW_ITEM_TYPE_TCP)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ITEM, it,
			"fpesw: the conntrack item must follow a tcp item");
	ri->ct_item = true;
	if (it->spec != NULL) {
		const struct rte_flow_item_conntrack *sp = it->spec;
		const struct rte_flow_item_conntrack *mk =
			it->mask != NULL ? it->mask :
			&rte_flow_item_conntrack_mask;

		ri->ct_spec = sp->flags;
		ri->ct_mask = mk->flags;
	}
	return 0;
}

/* Copies header item 'it', of 'len' bytes, into the rule's item 'fi'. */
static void
fpesw_item_copy(struct fpesw_item *fi, const struct rte_flow_item *it,
		size_t len, const void *def_mask)
{
	fi->type = it->type;
	fi->any = it->spec == NULL;
	if (!fi->any) {
		memcpy(fi->spec, it->spec, len);
		memcpy(fi->mask, it->mask != NULL ? it->mask : def_mask, len);
	}
}

/* Checks the pattern and, with 'flow', copies its header items. */
static int
fpesw_check_items(struct fpesw_port *p, const struct rte_flow_item items[],
		  struct rte_flow *flow, struct fpesw_rule_info *ri,
		  struct rte_flow_error *error)
{
	enum rte_flow_item_type prev = RTE_FLOW_ITEM_TYPE_END;
	const struct rte_flow_item *it;
	char msg[160];
	int ret;

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
				RTE_FLOW_ERROR_TYPE_ITEM, it,
				fpesw_msg_set(msg));
		}
		if (it->last != NULL)
			return rte_flow_error_set(error, ENOTSUP,
				RTE_FLOW_ERROR_TYPE_ITEM_LAST, it,
				"fpesw: ranges are not supported");
		if (ri->ct_item)
			return rte_flow_error_set(error, ENOTSUP,
				RTE_FLOW_ERROR_TYPE_ITEM, it,
				"fpesw: the conntrack item must be the last "
				"item");
		if (it->type == RTE_FLOW_ITEM_TYPE_CONNTRACK) {
			ret = fpesw_check_ct_item(it, prev, ri, error);
			if (ret != 0)
				return ret;
			continue;
		}
		if (ri->n_items >= FPESW_MAX_ITEMS)
			return rte_flow_error_set(error, EINVAL,
				RTE_FLOW_ERROR_TYPE_ITEM_NUM, it,
				"fpesw: too many items");
		if (it->type == RTE_FLOW_ITEM_TYPE_VXLAN)
			ri->vxlan = true;
		if (it->type == RTE_FLOW_ITEM_TYPE_TCP) {
			ri->tcp = true;
			ri->tcp_idx = ri->n_items;
		}
		prev = it->type;
		if (flow != NULL)
			fpesw_item_copy(&flow->items[ri->n_items], it, len,
					def_mask);
		ri->n_items++;
	}
	return 0;
}

/* An INDIRECT action: its conf is the handle; only conntrack handles
 * exist. */
static int
fpesw_check_indirect(struct fpesw_port *p, const struct rte_flow_action *a,
		     struct fpesw_rule_info *ri, struct rte_flow_error *error)
{
	struct rte_flow_action_handle *h = fpesw_handle_find(p->sw, a->conf);

	if (h == NULL)
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
			"fpesw: unknown indirect action handle");
	if (ri->ct != NULL)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ACTION, a,
			"fpesw: a rule takes one conntrack action");
	ri->ct = h;
	return 0;
}

/* A REPRESENTED_PORT or PORT_ID action: its port must be in the switch. */
static int
fpesw_check_port_action(struct fpesw_port *p, const struct rte_flow_action *a,
			struct rte_flow *flow, struct fpesw_rule_info *ri,
			struct rte_flow_error *error)
{
	uint32_t id = a->type == RTE_FLOW_ACTION_TYPE_PORT_ID ?
		((const struct rte_flow_action_port_id *)a->conf)->id :
		((const struct rte_flow_action_ethdev *)a->conf)->port_id;
	struct fpesw_port *out = NULL;
	unsigned int i;

	for (i = 0; i < FPESW_MAX_PORTS; i++)
		if (p->sw->ports[i] != NULL &&
		    p->sw->ports[i]->dev->data->port_id == id)
			out = p->sw->ports[i];
	if (out == NULL)
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
			"fpesw: the port is not in this e-switch");
	if (flow != NULL)
		flow->out = out;
	ri->n_fate++;
	return 0;
}

/* Checks one action and, with 'flow', takes what the rule keeps of it
 * apart from the copy of the actions (fpesw_flow_fill()). */
static int
fpesw_check_action(struct fpesw_port *p, const struct rte_flow_action *a,
		   struct rte_flow *flow, struct fpesw_rule_info *ri,
		   struct rte_flow_error *error)
{
	const char *name = fpesw_action_name(a->type);
	char msg[160];

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
	case RTE_FLOW_ACTION_TYPE_INDIRECT:
		return fpesw_check_indirect(p, a, ri, error);
	case RTE_FLOW_ACTION_TYPE_VXLAN_DECAP:
		ri->decap = true;
		break;
	case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT:
	case RTE_FLOW_ACTION_TYPE_PORT_ID:
		return fpesw_check_port_action(p, a, flow, ri, error);
	case RTE_FLOW_ACTION_TYPE_DROP:
		ri->n_fate++;
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
	return 0;
}

static int
fpesw_check_actions(struct fpesw_port *p,
		    const struct rte_flow_action actions[],
		    struct rte_flow *flow, struct fpesw_rule_info *ri,
		    struct rte_flow_error *error)
{
	const struct rte_flow_action *a;
	int ret;

	for (a = actions; a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
		ret = fpesw_check_action(p, a, flow, ri, error);
		if (ret != 0)
			return ret;
	}
	ri->n_actions = (unsigned int)(a - actions);
	return 0;
}

/* The checks that need more than one item or action. */
static int
fpesw_check_rule(const struct fpesw_rule_info *ri,
		 struct rte_flow_error *error)
{
	if (ri->decap && !ri->vxlan)
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			"fpesw: vxlan_decap needs a VXLAN item");
	if (ri->ct_item && ri->ct == NULL)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ITEM, NULL,
			"fpesw: the conntrack item needs a conntrack action "
			"in the same rule");
	if (ri->ct != NULL && !ri->tcp)
		return rte_flow_error_set(error, ENOTSUP,
			RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			"fpesw: a conntrack action needs a tcp item");
	if (ri->n_fate != 1)
		return rte_flow_error_set(error, EINVAL,
			RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			"fpesw: a rule needs exactly one port or drop action");
	return 0;
}

/*
 * Copies action 'a' into 'copy', with its own copy of its configuration.
 * The conf of INDIRECT is the handle, not a structure to copy
 * (fpesw_conf_size() is 0 for it): the copy has none, the rule keeps the
 * handle in flow->ct.
 */
static int
fpesw_action_copy(struct rte_flow_action *copy,
		  const struct rte_flow_action *a)
{
	copy->type = a->type;
	copy->conf = NULL;
	if (a->type == RTE_FLOW_ACTION_TYPE_RAW_ENCAP) {
		const struct rte_flow_action_raw_encap *e = a->conf;
		struct rte_flow_action_raw_encap *c =
			calloc(1, sizeof(*c) + e->size);

		if (c == NULL)
			return -ENOMEM;
		c->data = (uint8_t *)(c + 1);
		memcpy(c->data, e->data, e->size);
		c->size = e->size;
		copy->conf = c;
	} else if (a->conf != NULL && fpesw_conf_size(a->type) > 0) {
		size_t size = fpesw_conf_size(a->type);
		void *c = malloc(size);

		if (c == NULL)
			return -ENOMEM;
		memcpy(c, a->conf, size);
		copy->conf = c;
	}
	return 0;
}

/* Fills in the rest of 'flow' from a rule that passed the checks. */
static int
fpesw_flow_fill(struct rte_flow *flow, const struct rte_flow_action actions[],
		const struct fpesw_rule_info *ri, struct rte_flow_error *error)
{
	size_t na = (size_t)ri->n_actions + 1;
	size_t i;
	int ret;

	flow->n_items = ri->n_items;
	flow->ct = ri->ct;
	flow->ct_tcp = ri->tcp_idx;
	flow->ct_item = ri->ct_item;
	flow->ct_spec = ri->ct_spec;
	flow->ct_mask = ri->ct_mask;
	flow->n_actions = ri->n_actions;
	flow->actions = calloc(na, sizeof(*flow->actions));
	if (flow->actions == NULL)
		return rte_flow_error_set(error, ENOMEM,
			RTE_FLOW_ERROR_TYPE_HANDLE, NULL,
			"fpesw: no memory");
	for (i = 0; i < na; i++) {
		ret = fpesw_action_copy(&flow->actions[i], &actions[i]);
		if (ret != 0)
			return ret;
	}
	return 0;
}

/*
 * Checks a rule and, with 'flow', fills it in. Under sw->lock: the read
 * lock to validate, the write lock to create.
 */
static int
fpesw_check(struct fpesw_port *p, const struct rte_flow_attr *attr,
	    const struct rte_flow_item items[],
	    const struct rte_flow_action actions[], struct rte_flow *flow,
	    struct rte_flow_error *error)
{
	struct fpesw_rule_info ri;
	int ret;

	memset(&ri, 0, sizeof(ri));
	ret = fpesw_check_attr(attr, error);
	if (ret == 0)
		ret = fpesw_check_items(p, items, flow, &ri, error);
	if (ret == 0)
		ret = fpesw_check_actions(p, actions, flow, &ri, error);
	if (ret == 0)
		ret = fpesw_check_rule(&ri, error);
	if (ret == 0 && flow != NULL)
		ret = fpesw_flow_fill(flow, actions, &ri, error);
	return ret;
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

void
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
void
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
	struct rte_flow *flow = calloc(1, sizeof(*flow));
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
	/* After the rules of the same or a lower priority. */
	ret = fpesw_rule_link(p, flow);
	if (ret != 0) {
		pthread_rwlock_unlock(&p->sw->lock);
		fpesw_flow_free(flow);
		rte_flow_error_set(error, -ret, RTE_FLOW_ERROR_TYPE_HANDLE,
				   NULL, "fpesw: no memory");
		return NULL;
	}
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
	pthread_rwlock_unlock(&p->sw->lock);
	return flow;
}

static int
fpesw_flow_destroy(struct rte_eth_dev *dev, struct rte_flow *flow,
		   struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);

	pthread_rwlock_wrlock(&p->sw->lock);
	if (!fpesw_rule_find(p, flow)) {
		pthread_rwlock_unlock(&p->sw->lock);
		return rte_flow_error_set(error, ENOENT,
			RTE_FLOW_ERROR_TYPE_HANDLE, flow,
			"fpesw: no such rule");
	}
	fpesw_rule_unlink(p, flow);
	fpesw_flow_release_ct(flow);
	pthread_rwlock_unlock(&p->sw->lock);
	fpesw_flow_free(flow);
	return 0;
}

int
fpesw_flow_flush(struct rte_eth_dev *dev, struct rte_flow_error *error)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct rte_flow *f;

	(void)error;
	pthread_rwlock_wrlock(&p->sw->lock);
	while ((f = TAILQ_FIRST(&p->rules)) != NULL) {
		fpesw_rule_unlink(p, f);
		fpesw_flow_release_ct(f);
		fpesw_flow_free(f);
	}
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

const struct rte_flow_ops fpesw_flow_ops = {
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
