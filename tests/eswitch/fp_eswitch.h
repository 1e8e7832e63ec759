/* SPDX-License-Identifier: Apache-2.0 */

#ifndef FP_ESWITCH_H
#define FP_ESWITCH_H

/*
 * net_fpesw, the test e-switch PMD (a TEST FIXTURE): what its files share.
 * There is no public header: applications reach the driver through ethdev
 * and rte_flow only.
 *
 *   fp_eswitch.c       vdev probe and remove, ethdev ops, the switches.
 *   fp_eswitch_flow.c  rte_flow ops: rule checks, create, query, age.
 *   fp_eswitch_ct.c    indirect CONNTRACK handles and the TCP window check.
 *   fp_eswitch_lookup.c  a frame's headers, and the rule tables: each
 *                      port's rules by shape, in hash tables of exact
 *                      keys, looked up in the order of the port's list.
 *   fp_eswitch_rxtx.c  the data path: the host's rx and tx bursts, and the
 *                      thread that plays the hardware (parse, match, apply).
 *
 * Thread-safety
 * =============
 *
 * Three kinds of thread use a port:
 *
 *   - Control threads: the EAL's probe and remove, ethdev's configure,
 *     start, stop, close and queue setup, and rte_flow calls. ethdev calls
 *     one port's rte_flow ops one at a time (the driver does not set
 *     RTE_ETH_DEV_FLOW_OPS_THREAD_SAFE, so ethdev takes the port's
 *     flow_ops_mutex), but two ports of one e-switch may be in rte_flow
 *     calls at once.
 *   - The switch thread, one per e-switch (fpesw_thread()): started by the
 *     first start of one of its ports, stopped when its last port closes.
 *     It reads the rules of all ports of its switch.
 *   - The host data path: rx_burst and tx_burst on the port's one queue.
 *
 * Three locks, always taken in this order:
 *
 *   - fpesw_mutex (fp_eswitch.c): the list of switches, and each switch's
 *     'refs', 'running' and 'thread'.
 *   - fpesw_switch.lock, a read-write lock: the rules of the switch's
 *     ports, its 'ports' array and its conntrack handles. Control threads
 *     write them; the switch thread reads them, and so do the control
 *     ops that only look (validate, get_aged_flows, the update and query
 *     of a handle).
 *   - rte_flow_action_handle.mutex: one connection's profile, which the
 *     switch thread moves as packets pass while control threads update
 *     and query it. Taken under fpesw_switch.lock (read or write).
 *
 * Counters are atomics, read and reset without a lock. Each structure
 * below says who may read or write each of its members, and when.
 */

#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <sys/queue.h>

#include <rte_ether.h>
#include <rte_flow.h>
#include <rte_flow_driver.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <ethdev_driver.h>

#define FPESW_MAX_PORTS 16
#define FPESW_MAX_FRAME 2048
#define FPESW_RING_SIZE 1024
#define FPESW_MAX_ITEMS 16
#define FPESW_HDR_MAX 40
/* The longest key of a shape: every byte of every header masked. */
#define FPESW_KEY_MAX (FPESW_MAX_ITEMS * FPESW_HDR_MAX)
/* Shapes with candidates one lookup merges; more, and it walks the list. */
#define FPESW_LOOKUP_MAX 16

enum fpesw_role { FPESW_UPLINK, FPESW_REP };

struct fpesw_switch;

/* A rule's pattern item: the header it matches, masked. Immutable. */
struct fpesw_item {
	enum rte_flow_item_type type;
	bool any;                       /* No spec: any header of the type. */
	uint8_t spec[FPESW_HDR_MAX];
	uint8_t mask[FPESW_HDR_MAX];
};

/*
 * A node of a chained hash table (struct fpesw_htab), inside what the
 * table holds. Both are under the switch's lock: written under the write
 * lock, read under the read lock.
 */
struct fpesw_hnode {
	struct fpesw_hnode *next;       /* In its bucket. */
	uint32_t hash;
};

/* A chained hash table that doubles its buckets as it fills (to one node
 * a bucket). Growing keeps the order of each bucket's nodes. */
struct fpesw_htab {
	struct fpesw_hnode **bucket;    /* NULL while empty. */
	uint32_t mask;                  /* Buckets - 1. */
	uint32_t n;                     /* Nodes. */
};

/* A byte of a shape's key: the byte 'at' of the header of item 'item',
 * under 'mask' (never 0). */
struct fpesw_key_byte {
	uint8_t item;
	uint8_t at;
	uint8_t mask;
};

/*
 * A shape: what the rules of a port that it groups have in common, the
 * type and 'any' of each header item and the mask of each item with a
 * spec. A frame fits it if its first headers have the shape's types; a
 * rule of the shape then matches the frame if its key (its specs under
 * the masks) equals the frame's (the frame's headers under the masks).
 * Created by the first rule of its shape, freed with the last; under the
 * switch's lock, as the rules.
 */
struct fpesw_shape {
	LIST_ENTRY(fpesw_shape) next;   /* On its port's 'shapes'. */
	unsigned int n_items;
	struct fpesw_item items[FPESW_MAX_ITEMS];  /* 'spec' unused. */
	unsigned int key_len;
	struct fpesw_key_byte key[FPESW_KEY_MAX];
	/* Its rules by the hash of their key (rte_flow.by_key); each
	 * bucket in the order of the port's list. */
	struct fpesw_htab rules;
};

/*
 * An indirect CONNTRACK action: the tracking state of one TCP connection,
 * shared by the rules of its two directions. It belongs to an e-switch, so
 * that any port of the switch can use it. It lives while it is on the
 * switch's 'handles' list: whoever uses it holds sw->lock.
 */
struct rte_flow_action_handle {
	LIST_ENTRY(rte_flow_action_handle) next;  /* Under sw->lock. */
	struct fpesw_hnode by_ptr;        /* In sw->handle_ptrs. */
	struct fpesw_switch *sw;          /* Immutable. */
	pthread_mutex_t mutex;            /* Protects 'profile'. */
	/* The switch thread moves its window (fpesw_ct_run()); control
	 * threads update, query and copy the direction at rule creation. */
	struct rte_flow_action_conntrack profile;
	unsigned int n_rules;             /* Rules using it; under sw->lock. */
};

/*
 * A rule. fpesw_check() fills it in and fpesw_flow_create() links it into
 * its port's list and tables (fpesw_rule_link()), under the switch's
 * write lock; until it is destroyed, under that lock too, only the
 * members marked otherwise change.
 */
struct rte_flow {
	TAILQ_ENTRY(rte_flow) next;       /* Under sw->lock. */
	struct fpesw_port *port;
	/* Its place: the port's list is in the order of (priority, seq). */
	uint32_t priority;
	uint64_t seq;                     /* Creation order on its port. */
	struct fpesw_shape *shape;
	struct fpesw_hnode by_key;        /* In shape->rules. */
	struct fpesw_hnode by_ptr;        /* In port->rule_ptrs. */
	unsigned int n_items;
	struct fpesw_item items[FPESW_MAX_ITEMS];
	struct rte_flow_action *actions;  /* Copied, END-terminated. */
	unsigned int n_actions;
	struct fpesw_port *out;           /* NULL: drop. */
	/* Written by the switch thread for each packet that the rule
	 * applies to (under the read lock); read and reset by query. */
	atomic_uint_fast64_t hits;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t last_hit;    /* Seconds, monotonic. */
	uint32_t age_timeout;
	void *age_context;
	/* Set by the switch thread under the write lock (fpesw_age()). */
	bool aged;
	/* Set by get_aged_flows under the read lock: only that op, which
	 * ethdev serializes per port, touches it. */
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

/*
 * A port: the uplink or a representor (dev->data->dev_private). Unless
 * said otherwise, members are set at probe and then only read.
 */
struct fpesw_port {
	struct fpesw_switch *sw;        /* Cleared by close. */
	struct rte_eth_dev *dev;
	enum fpesw_role role;
	uint16_t vf;
	char iface[IF_NAMESIZE];
	/* The AF_PACKET socket of the outside: the switch thread receives
	 * on it and sends to it, tx_burst sends to it. Closed by close,
	 * after the port has left sw->ports. */
	int fd;
	/* Set by queue setup, before start. The switch thread is the ring's
	 * one producer, rx_burst its one consumer. */
	struct rte_ring *rx_ring;
	struct rte_mempool *mp;
	/* Written by start and stop; the switch thread reads it without a
	 * lock to decide whether a miss goes to the host. */
	bool started;
	struct rte_ether_addr mac;
	uint32_t max_rules;
	char reject[256];               /* ":name:name:" of refused types. */
	/* The rules (fp_eswitch_lookup.c), under sw->lock: the list, in the
	 * order they are tried, the same rules by shape, and by address. */
	uint32_t n_rules;
	uint64_t rule_seq;              /* The next rule's 'seq'. */
	struct fpesw_rules rules;
	LIST_HEAD(, fpesw_shape) shapes;
	struct fpesw_htab rule_ptrs;
	/* Host traffic: rx_burst writes rx_*, tx_burst tx_*. */
	atomic_uint_fast64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
	/* The switch thread writes these (and tx_errors, on a failed send
	 * of a forwarded frame). */
	atomic_uint_fast64_t hw_pkts, rx_drops, tx_errors;
};

/* An e-switch: the ports with the same "switch" devarg. */
struct fpesw_switch {
	LIST_ENTRY(fpesw_switch) next;  /* Under fpesw_mutex. */
	char name[64];                  /* Immutable. */
	uint16_t domain_id;             /* Immutable. */
	unsigned int refs;              /* Ports; under fpesw_mutex. */
	/* Written under fpesw_mutex and the write lock, read under the read
	 * lock; fpesw_age() reads it without the lock. */
	struct fpesw_port *ports[FPESW_MAX_PORTS];
	pthread_rwlock_t lock;          /* Rules, 'ports' and 'handles'. */
	LIST_HEAD(, rte_flow_action_handle) handles;  /* Under 'lock'. */
	struct fpesw_htab handle_ptrs;  /* The same, by address. */
	pthread_t thread;               /* Under fpesw_mutex. */
	bool running;                   /* Under fpesw_mutex. */
	atomic_bool stop;               /* Tells the switch thread to end. */
};

/* Headers of a frame, in order: what pattern items are matched against. */
struct fpesw_hdrs {
	unsigned int n;
	enum rte_flow_item_type type[FPESW_MAX_ITEMS];
	uint16_t ofs[FPESW_MAX_ITEMS];
};

static inline uint64_t
fpesw_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

static inline struct fpesw_port *
fpesw_port(struct rte_eth_dev *dev)
{
	return dev->data->dev_private;
}

/* fp_eswitch_flow.c: the rte_flow ops, and what the other files need. */

extern const struct rte_flow_ops fpesw_flow_ops;

/* The name of an item or action type, as "reject" and messages spell it;
 * "other" for a type the e-switch does not know. */
const char *fpesw_item_name(enum rte_flow_item_type t);
const char *fpesw_action_name(enum rte_flow_action_type t);
/* Keeps an error message in a per-thread buffer, which outlives the call
 * that reports it, and returns that buffer. */
const char *fpesw_msg_set(const char *msg);
/* Whether port 'p' was told to refuse the item or action 'name'. */
bool fpesw_rejected(const struct fpesw_port *p, const char *name);
/* Destroys all rules of a port; the flush op. */
int fpesw_flow_flush(struct rte_eth_dev *dev, struct rte_flow_error *error);
/* Frees a rule that is on no list. */
void fpesw_flow_free(struct rte_flow *flow);
/* Drops a leaving rule's reference to its conntrack handle; under the
 * switch's write lock. */
void fpesw_flow_release_ct(struct rte_flow *flow);

/* fp_eswitch_lookup.c: a frame's headers, and the rule tables. */

/* The header length an item type matches (0: not a header the e-switch
 * matches), and its default mask in '*def_mask'. */
size_t fpesw_item_hdr(enum rte_flow_item_type t, const void **def_mask);
/* Parses the headers of frame 'f', of 'len' bytes, into 'h': those of the
 * outer packet and, under VXLAN (UDP destination port 4789), of the inner
 * one. Each header in 'h' lies whole inside the frame. */
void fpesw_parse(const uint8_t *f, uint16_t len, struct fpesw_hdrs *h);
/* Whether the header items of 'flow' match frame 'f', whose headers are
 * 'h', by position. Not its CONNTRACK item, if any: fpesw_input()
 * matches that against the conntrack state. */
bool fpesw_match(const struct rte_flow *flow, const uint8_t *f,
		 const struct fpesw_hdrs *h);
/*
 * Links 'flow', filled in and with its 'priority' set, into the rules of
 * port 'p': its list, after the rules of the same or a lower priority,
 * the table of its shape and the port's rules by address; counts it in
 * p->n_rules. O(1) but for rules created out of priority order (their
 * place in the list is sought from its tail). Returns 0, or -ENOMEM with
 * nothing changed. Under the switch's write lock.
 */
int fpesw_rule_link(struct fpesw_port *p, struct rte_flow *flow);
/* Unlinks 'flow' from the rules of port 'p', where it is; frees its shape
 * with its last rule. Under the switch's write lock. */
void fpesw_rule_unlink(struct fpesw_port *p, struct rte_flow *flow);
/* Whether 'flow', which may be any pointer, is a rule of port 'p'. Under
 * the switch's lock (read or write). */
bool fpesw_rule_find(const struct fpesw_port *p, const struct rte_flow *flow);
/* Links handle 'h' into the handles of switch 'sw' (its list, and its
 * table by address), or unlinks it. Link returns 0, or -ENOMEM with
 * nothing changed. Under the switch's write lock. */
int fpesw_handle_link(struct fpesw_switch *sw,
		      struct rte_flow_action_handle *h);
void fpesw_handle_unlink(struct fpesw_switch *sw,
			 struct rte_flow_action_handle *h);
/* The handle of switch 'sw' at address 'handle', which may be any
 * pointer, or NULL. Under the switch's lock (read or write). */
struct rte_flow_action_handle *
fpesw_handle_find(struct fpesw_switch *sw, const void *handle);

/*
 * A lookup: the rules of a port whose header items match a frame, one at
 * a time, in the order of the port's list, as walking the list with
 * fpesw_match() would give them. Each shape the frame fits gives at most
 * one bucket of candidates, in list order; the lookup merges them. With
 * more than FPESW_LOOKUP_MAX shapes holding candidates, it walks the list.
 * Under the switch's lock (read or write), held from start to the last
 * next: the rules must not change in between.
 */
struct fpesw_lookup {
	const uint8_t *f;
	const struct fpesw_hdrs *h;
	bool walk;                      /* Walking the list... */
	struct rte_flow *walk_next;     /* ...from this rule on. */
	unsigned int n;                 /* Shapes with candidates left. */
	struct rte_flow *cand[FPESW_LOOKUP_MAX];  /* Each one's next. */
	uint32_t hash[FPESW_LOOKUP_MAX];          /* Its frame key's hash. */
};

/* Starts lookup 'l' of frame 'f', of headers 'h', among the rules of port
 * 'p'. 'f' and 'h' must outlive the lookup. Costs a key and a hash per
 * shape of the port that the frame fits. */
void fpesw_lookup_start(struct fpesw_lookup *l, const struct fpesw_port *p,
			const uint8_t *f, const struct fpesw_hdrs *h);
/* The next rule of lookup 'l' whose header items match, or NULL. */
struct rte_flow *fpesw_lookup_next(struct fpesw_lookup *l);

/* fp_eswitch_ct.c: indirect CONNTRACK handles and the conntrack action. */

/* Frees a handle that has left its switch's list. */
void fpesw_handle_free(struct rte_flow_action_handle *h);
/* The indirect action ops of fpesw_flow_ops. */
struct rte_flow_action_handle *
fpesw_action_handle_create(struct rte_eth_dev *dev,
			   const struct rte_flow_indir_action_conf *conf,
			   const struct rte_flow_action *action,
			   struct rte_flow_error *error);
int fpesw_action_handle_destroy(struct rte_eth_dev *dev,
				struct rte_flow_action_handle *handle,
				struct rte_flow_error *error);
int fpesw_action_handle_update(struct rte_eth_dev *dev,
			       struct rte_flow_action_handle *handle,
			       const void *update,
			       struct rte_flow_error *error);
int fpesw_action_handle_query(struct rte_eth_dev *dev,
			      const struct rte_flow_action_handle *handle,
			      void *data, struct rte_flow_error *error);
/* Runs the conntrack action of 'flow' on a frame whose headers 'h' its
 * header items matched; returns the packet's
 * RTE_FLOW_CONNTRACK_PKT_STATE_*. The switch thread, under sw->lock
 * (read). */
uint32_t fpesw_ct_run(const struct rte_flow *flow, const uint8_t *f,
		      uint16_t len, const struct fpesw_hdrs *h);

/* fp_eswitch_rxtx.c: the data path. */

/* The switch thread of e-switch 'arg', until its 'stop' is set. */
void *fpesw_thread(void *arg);
/* The host's burst functions; 'q' is the port. */
uint16_t fpesw_rx_burst(void *q, struct rte_mbuf **bufs, uint16_t n);
uint16_t fpesw_tx_burst(void *q, struct rte_mbuf **bufs, uint16_t n);

#endif /* FP_ESWITCH_H */
