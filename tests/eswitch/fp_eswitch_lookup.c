/* SPDX-License-Identifier: Apache-2.0 */

/*
 * net_fpesw, the test e-switch (a TEST FIXTURE): a frame's headers and the
 * rule tables that the switch thread looks frames up in.
 *
 * A port's rules are on its list, in the order they are tried: by
 * priority, then in the order they were created. To find the first that
 * applies to a frame without walking the list, each rule is also in the
 * hash table of its shape (struct fpesw_shape): the item types, 'any'
 * flags and masks it shares with others, such as those of one kind of
 * offloaded stream. Its key is its specs under the masks; a frame that
 * fits the shape has a key too, its headers under the same masks, and
 * the rules of the shape that match the frame are exactly those with the
 * same key. A lookup hashes the frame's key for each shape of the port
 * that the frame fits (a few), and merges the candidates of the buckets,
 * each kept in list order, into list order: the order the walk of the
 * list would try them in. The cost is per shape, not per rule.
 *
 * Everything here is under the switch's lock, as the rules: the write
 * lock to link and unlink, the read lock (at least) to look up.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_common.h>
#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "fp_eswitch.h"

#define FPESW_HTAB_MIN 16       /* Buckets of a new table. */
#define FPESW_HASH_SEED 0x5eed5eedU

/* Headers. */

size_t
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

void
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

bool
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

/* Hash tables. */

/* Makes room in 't' for one more node: its first buckets, or twice as
 * many when it holds as many nodes as buckets. Returns -ENOMEM if 't' has
 * no buckets and cannot get them; a table that cannot grow stays as it
 * is, with longer chains. */
static int
fpesw_htab_reserve(struct fpesw_htab *t)
{
	struct fpesw_hnode **nb;
	uint32_t size, i;

	if (t->bucket == NULL) {
		t->bucket = calloc(FPESW_HTAB_MIN, sizeof(*t->bucket));
		if (t->bucket == NULL)
			return -ENOMEM;
		t->mask = FPESW_HTAB_MIN - 1;
		t->n = 0;
		return 0;
	}
	size = t->mask + 1;
	if (t->n < size || size > UINT32_MAX / 4)
		return 0;
	nb = calloc((size_t)size * 2, sizeof(*nb));
	if (nb == NULL)
		return 0;
	/* Bucket i splits into i and i + size: append each node to the
	 * tail of its new bucket, which keeps their order. */
	for (i = 0; i < size; i++) {
		struct fpesw_hnode **tail[2] = { &nb[i], &nb[i + size] };
		struct fpesw_hnode *node, *next;

		for (node = t->bucket[i]; node != NULL; node = next) {
			int hi = (node->hash & size) != 0;

			next = node->next;
			node->next = NULL;
			*tail[hi] = node;
			tail[hi] = &node->next;
		}
	}
	free(t->bucket);
	t->bucket = nb;
	t->mask = size * 2 - 1;
	return 0;
}

/* The link that points to the head of the bucket of 'hash'. */
static inline struct fpesw_hnode **
fpesw_htab_head(const struct fpesw_htab *t, uint32_t hash)
{
	return &t->bucket[hash & t->mask];
}

/* Links 'node', whose 'hash' is set, where link '*at' of its bucket
 * points (the table has room: fpesw_htab_reserve()). */
static void
fpesw_htab_insert(struct fpesw_htab *t, struct fpesw_hnode **at,
		  struct fpesw_hnode *node)
{
	node->next = *at;
	*at = node;
	t->n++;
}

/* Unlinks 'node' from 't'; frees the buckets of a table left empty. */
static void
fpesw_htab_remove(struct fpesw_htab *t, struct fpesw_hnode *node)
{
	struct fpesw_hnode **at = fpesw_htab_head(t, node->hash);

	while (*at != NULL && *at != node)
		at = &(*at)->next;
	if (*at == NULL)
		return;
	*at = node->next;
	node->next = NULL;
	if (--t->n == 0) {
		free(t->bucket);
		t->bucket = NULL;
		t->mask = 0;
	}
}

/* Frees the buckets of a table that holds nothing. */
static void
fpesw_htab_trim(struct fpesw_htab *t)
{
	if (t->n == 0) {
		free(t->bucket);
		t->bucket = NULL;
		t->mask = 0;
	}
}

/* Shapes and keys. */

static uint32_t
fpesw_key_hash(const uint8_t *key, unsigned int len)
{
	return rte_hash_crc(key, len, FPESW_HASH_SEED);
}

static uint32_t
fpesw_ptr_hash(const void *ptr)
{
	uint64_t v = (uint64_t)(uintptr_t)ptr * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(v >> 32);
}

/* Tables of objects by address: 'node' is inside the object at 'obj'. */

/* Links 'node' of the object at 'obj' into 't' (which has room:
 * fpesw_htab_reserve()). */
static void
fpesw_ptrtab_insert(struct fpesw_htab *t, struct fpesw_hnode *node,
		    const void *obj)
{
	node->hash = fpesw_ptr_hash(obj);
	fpesw_htab_insert(t, fpesw_htab_head(t, node->hash), node);
}

/* Whether 't' holds the object at 'obj', which may be any pointer, whose
 * node is 'node_ofs' bytes into it. */
static bool
fpesw_ptrtab_has(const struct fpesw_htab *t, const void *obj,
		 size_t node_ofs)
{
	const struct fpesw_hnode *node;

	if (t->bucket == NULL)
		return false;
	for (node = *fpesw_htab_head(t, fpesw_ptr_hash(obj)); node != NULL;
	     node = node->next)
		if ((const char *)node - node_ofs == (const char *)obj)
			return true;
	return false;
}

/* Whether rule 'a' comes before rule 'b' of the same port in its list. */
static inline bool
fpesw_rule_before(const struct rte_flow *a, const struct rte_flow *b)
{
	return a->priority < b->priority ||
	       (a->priority == b->priority && a->seq < b->seq);
}

/* Whether 'flow' is of shape 's'. */
static bool
fpesw_shape_is(const struct fpesw_shape *s, const struct rte_flow *flow)
{
	unsigned int i;

	if (s->n_items != flow->n_items)
		return false;
	for (i = 0; i < s->n_items; i++) {
		const struct fpesw_item *a = &s->items[i];
		const struct fpesw_item *b = &flow->items[i];
		const void *dm;

		if (a->type != b->type || a->any != b->any)
			return false;
		if (!a->any && memcmp(a->mask, b->mask,
				      fpesw_item_hdr(a->type, &dm)) != 0)
			return false;
	}
	return true;
}

/* The shape of 'flow' among those of port 'p', made if it is new (with
 * no rules yet). NULL: no memory. */
static struct fpesw_shape *
fpesw_shape_get(struct fpesw_port *p, const struct rte_flow *flow)
{
	struct fpesw_shape *s;
	unsigned int i, b;

	LIST_FOREACH(s, &p->shapes, next)
		if (fpesw_shape_is(s, flow))
			return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->n_items = flow->n_items;
	for (i = 0; i < flow->n_items; i++) {
		const struct fpesw_item *it = &flow->items[i];
		const void *dm;
		size_t len = fpesw_item_hdr(it->type, &dm);

		s->items[i].type = it->type;
		s->items[i].any = it->any;
		if (it->any)
			continue;
		memcpy(s->items[i].mask, it->mask, len);
		/* The key keeps the bytes the mask looks at. */
		for (b = 0; b < len; b++) {
			if (it->mask[b] == 0)
				continue;
			s->key[s->key_len].item = (uint8_t)i;
			s->key[s->key_len].at = (uint8_t)b;
			s->key[s->key_len].mask = it->mask[b];
			s->key_len++;
		}
	}
	LIST_INSERT_HEAD(&p->shapes, s, next);
	return s;
}

static void
fpesw_shape_free(struct fpesw_shape *s)
{
	LIST_REMOVE(s, next);
	free(s->rules.bucket);
	free(s);
}

/* The hash of the key of rule 'flow', of shape 's'. */
static uint32_t
fpesw_rule_hash(const struct fpesw_shape *s, const struct rte_flow *flow)
{
	uint8_t key[FPESW_KEY_MAX];
	unsigned int k;

	for (k = 0; k < s->key_len; k++) {
		const struct fpesw_key_byte *kb = &s->key[k];

		key[k] = flow->items[kb->item].spec[kb->at] & kb->mask;
	}
	return fpesw_key_hash(key, s->key_len);
}

/* Whether frame headers 'h' fit shape 's'; then, its key's hash in
 * '*hash'. */
static bool
fpesw_frame_hash(const struct fpesw_shape *s, const uint8_t *f,
		 const struct fpesw_hdrs *h, uint32_t *hash)
{
	uint8_t key[FPESW_KEY_MAX];
	unsigned int i, k;

	if (s->n_items > h->n)
		return false;
	for (i = 0; i < s->n_items; i++)
		if (h->type[i] != s->items[i].type)
			return false;
	for (k = 0; k < s->key_len; k++) {
		const struct fpesw_key_byte *kb = &s->key[k];

		key[k] = f[h->ofs[kb->item] + kb->at] & kb->mask;
	}
	*hash = fpesw_key_hash(key, s->key_len);
	return true;
}

/* Rules. */

int
fpesw_rule_link(struct fpesw_port *p, struct rte_flow *flow)
{
	struct fpesw_shape *s = fpesw_shape_get(p, flow);
	struct fpesw_hnode **at;
	struct rte_flow *f;

	if (s == NULL)
		return -ENOMEM;
	if (fpesw_htab_reserve(&s->rules) != 0 ||
	    fpesw_htab_reserve(&p->rule_ptrs) != 0) {
		if (s->rules.n == 0)
			fpesw_shape_free(s);
		fpesw_htab_trim(&p->rule_ptrs);
		return -ENOMEM;
	}
	flow->seq = p->rule_seq++;
	flow->shape = s;

	/* The list: after the last rule of the same or a lower priority,
	 * sought from the tail (the tail itself, when rules come in
	 * priority order). */
	TAILQ_FOREACH_REVERSE(f, &p->rules, fpesw_rules, next)
		if (f->priority <= flow->priority)
			break;
	if (f != NULL)
		TAILQ_INSERT_AFTER(&p->rules, f, flow, next);
	else
		TAILQ_INSERT_HEAD(&p->rules, flow, next);
	p->n_rules++;

	/* Its shape's bucket, in list order (so usually at its tail). */
	flow->by_key.hash = fpesw_rule_hash(s, flow);
	at = fpesw_htab_head(&s->rules, flow->by_key.hash);
	while (*at != NULL &&
	       fpesw_rule_before(container_of(*at, struct rte_flow, by_key),
				 flow))
		at = &(*at)->next;
	fpesw_htab_insert(&s->rules, at, &flow->by_key);

	fpesw_ptrtab_insert(&p->rule_ptrs, &flow->by_ptr, flow);
	return 0;
}

void
fpesw_rule_unlink(struct fpesw_port *p, struct rte_flow *flow)
{
	struct fpesw_shape *s = flow->shape;

	TAILQ_REMOVE(&p->rules, flow, next);
	p->n_rules--;
	fpesw_htab_remove(&p->rule_ptrs, &flow->by_ptr);
	fpesw_htab_remove(&s->rules, &flow->by_key);
	if (s->rules.n == 0)
		fpesw_shape_free(s);
	flow->shape = NULL;
}

bool
fpesw_rule_find(const struct fpesw_port *p, const struct rte_flow *flow)
{
	return fpesw_ptrtab_has(&p->rule_ptrs, flow,
				offsetof(struct rte_flow, by_ptr));
}

int
fpesw_handle_link(struct fpesw_switch *sw, struct rte_flow_action_handle *h)
{
	if (fpesw_htab_reserve(&sw->handle_ptrs) != 0)
		return -ENOMEM;
	LIST_INSERT_HEAD(&sw->handles, h, next);
	fpesw_ptrtab_insert(&sw->handle_ptrs, &h->by_ptr, h);
	return 0;
}

void
fpesw_handle_unlink(struct fpesw_switch *sw, struct rte_flow_action_handle *h)
{
	LIST_REMOVE(h, next);
	fpesw_htab_remove(&sw->handle_ptrs, &h->by_ptr);
}

struct rte_flow_action_handle *
fpesw_handle_find(struct fpesw_switch *sw, const void *handle)
{
	if (!fpesw_ptrtab_has(&sw->handle_ptrs, handle,
			      offsetof(struct rte_flow_action_handle, by_ptr)))
		return NULL;
	return (struct rte_flow_action_handle *)(uintptr_t)handle;
}

/* Lookups. */

/* The first rule from 'node' on in its bucket whose key hash is 'hash'
 * and whose header items match the frame, or NULL. */
static struct rte_flow *
fpesw_bucket_match(const struct fpesw_hnode *node, uint32_t hash,
		   const uint8_t *f, const struct fpesw_hdrs *h)
{
	for (; node != NULL; node = node->next) {
		struct rte_flow *flow = container_of(node, struct rte_flow,
						     by_key);

		if (node->hash == hash && fpesw_match(flow, f, h))
			return flow;
	}
	return NULL;
}

void
fpesw_lookup_start(struct fpesw_lookup *l, const struct fpesw_port *p,
		   const uint8_t *f, const struct fpesw_hdrs *h)
{
	const struct fpesw_shape *s;

	l->f = f;
	l->h = h;
	l->walk = false;
	l->walk_next = NULL;
	l->n = 0;
	LIST_FOREACH(s, &p->shapes, next) {
		struct rte_flow *c;
		uint32_t hash;

		if (s->rules.bucket == NULL ||
		    !fpesw_frame_hash(s, f, h, &hash))
			continue;
		c = fpesw_bucket_match(*fpesw_htab_head(&s->rules, hash),
				       hash, f, h);
		if (c == NULL)
			continue;
		if (l->n == FPESW_LOOKUP_MAX) {
			/* Too many to merge: the list has them all. */
			l->walk = true;
			l->walk_next = TAILQ_FIRST(&p->rules);
			l->n = 0;
			return;
		}
		l->cand[l->n] = c;
		l->hash[l->n] = hash;
		l->n++;
	}
}

struct rte_flow *
fpesw_lookup_next(struct fpesw_lookup *l)
{
	struct rte_flow *flow;
	unsigned int i, first = 0;

	if (l->walk) {
		for (flow = l->walk_next; flow != NULL;
		     flow = TAILQ_NEXT(flow, next))
			if (fpesw_match(flow, l->f, l->h))
				break;
		l->walk_next = flow != NULL ? TAILQ_NEXT(flow, next) : NULL;
		return flow;
	}
	if (l->n == 0)
		return NULL;
	for (i = 1; i < l->n; i++)
		if (fpesw_rule_before(l->cand[i], l->cand[first]))
			first = i;
	flow = l->cand[first];
	l->cand[first] = fpesw_bucket_match(flow->by_key.next, l->hash[first],
					    l->f, l->h);
	if (l->cand[first] == NULL) {
		l->n--;
		l->cand[first] = l->cand[l->n];
		l->hash[first] = l->hash[l->n];
	}
	return flow;
}
