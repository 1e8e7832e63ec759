/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_PIN_H_
#define _FP_PIN_H_

/**
 * @file
 * The PMD pinning policy: which PMD core polls each rx queue of each
 * VM's vhost-user ports, so that VMs keep to their own pCPUs and NUMA
 * node.
 *
 * fp_pin_plan_compute() is a pure function of the host topology, the PMD
 * cores (pmd-cpu-mask), a mode and the VMs with their ports. Modes:
 *
 * - off: nothing is decided; every queue is left to OVS's own rxq
 *   scheduling ("OVS default"), except queues the operator pinned.
 * - numa: a VM's queues go only to PMDs on the VM's memory node.
 * - isolate: as numa, and no PMD polls queues of two different VMs.
 * - sibling: as isolate, preferring PMDs that are SMT siblings of the
 *   VM's pCPUs, then PMDs on the same package, then the nearest core id.
 *
 * In every mode but off, a VM's queues never go to one of its own vCPU
 * cores while another PMD would do, and an operator's pmd-rxq-affinity
 * always wins. Whenever a rule cannot be kept, the plan carries a
 * conflict: a kind and a sentence saying what was done instead.
 *
 * The plan is deterministic: VMs are served in the order given, ports and
 * queues in their order, and ties between PMDs go to the lowest core. A
 * VM's queues spread round-robin over the PMDs chosen for it. In isolate
 * and sibling modes, free PMDs are dealt one per VM per round, in VM
 * order, until each VM has as many as it has queues or none is left; a VM
 * left without one shares the least loaded of its candidates.
 *
 * Applying a plan (pmd-rxq-affinity, reconfiguration, appctl) is the OVS
 * glue's job, not this library's.
 *
 * Thread-safety: fp_pin_plan_compute() keeps no state; a plan belongs to
 * its caller and is read-only once computed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fp_topo.h"
#include "fp_vm.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest VM or port name a plan keeps, NUL included. */
#define FP_PIN_NAME_MAX 64

/** A queue's PMD in a plan when OVS's own scheduling decides. */
#define FP_PIN_PMD_DEFAULT (-1)

/** How VMs' queues are placed on PMDs. */
enum fp_pin_mode {
	FP_PIN_MODE_OFF,     /**< Leave it to OVS. */
	FP_PIN_MODE_NUMA,    /**< PMDs on the VM's node. */
	FP_PIN_MODE_ISOLATE, /**< numa, and PMDs not shared between VMs. */
	FP_PIN_MODE_SIBLING, /**< isolate, preferring SMT siblings. */
};

/** A vhost-user port of a VM, as the policy needs it. */
struct fp_pin_port {
	const char *name;        /**< Port name. */
	unsigned int n_rxq;      /**< Its rx queues. */
	/** n_rxq entries: the core the operator's pmd-rxq-affinity names
	 *  for each queue, or -1; NULL when none is set. */
	const int *rxq_affinity;
};

/** A VM, as the policy needs it. fp_pin_vm_init() fills it from a
 *  struct fp_vm. */
struct fp_pin_vm {
	const char *name;            /**< VM name. */
	struct fp_cpuset vcpu_cpus;  /**< pCPUs of its vCPUs; may be empty. */
	int numa_node;               /**< Its memory's node, -1: unknown. */
	bool spans_nodes;            /**< Its memory is on several nodes. */
	/** Nodes holding its memory, bit n for node n, for messages; 0 if
	 *  unknown. */
	uint64_t mem_nodes;
	const struct fp_pin_port *ports; /**< Its ports. */
	unsigned int n_ports;
};

/** What kind of rule could not be kept. */
enum fp_pin_conflict_kind {
	/** The PMD pool is empty: everything is left to OVS. */
	FP_PIN_CONFLICT_NO_PMD,
	/** The VM's node is unknown: PMDs of all nodes are candidates. */
	FP_PIN_CONFLICT_NODE_UNKNOWN,
	/** The VM's memory spans nodes: the one with most memory is used. */
	FP_PIN_CONFLICT_SPANS_NODES,
	/** No PMD on the VM's node: PMDs of all nodes are used. */
	FP_PIN_CONFLICT_NO_PMD_ON_NODE,
	/** A PMD core is one of the VM's vCPU cores (avoided, or used
	 *  because nothing else was left). */
	FP_PIN_CONFLICT_PMD_ON_VCPU,
	/** Too few PMDs to isolate: a VM shares a PMD with another. */
	FP_PIN_CONFLICT_SHARED_PMD,
	/** The operator pinned a queue to a core outside the PMD pool. */
	FP_PIN_CONFLICT_AFFINITY_NOT_PMD,
	/** The operator pinned a queue to one of the VM's vCPU cores. */
	FP_PIN_CONFLICT_AFFINITY_ON_VCPU,
};

/** A rule that could not be kept, and what was done instead. */
struct fp_pin_conflict {
	enum fp_pin_conflict_kind kind;
	int vm;          /**< Index of the VM concerned, or -1. */
	char text[256];  /**< A sentence, such as "VM vm1: PMD core 3 is
			  *   one of its vCPU cores; using core 5 instead". */
};

/** Where one rx queue goes. */
struct fp_pin_rxq {
	unsigned int vm;            /**< Index of its VM in the input. */
	unsigned int port;          /**< Index of its port in the VM's. */
	unsigned int rxq;           /**< Queue number. */
	char port_name[FP_PIN_NAME_MAX];
	int pmd;                    /**< Core, or FP_PIN_PMD_DEFAULT. */
	bool by_operator;           /**< From pmd-rxq-affinity. */
};

/** A VM's part of a plan. */
struct fp_pin_plan_vm {
	char name[FP_PIN_NAME_MAX];
	int numa_node;              /**< Node used, -1 if none. */
	struct fp_cpuset vcpu_cpus; /**< As given. */
	struct fp_cpuset pmds;      /**< PMDs chosen for its queues. */
};

/** The result of fp_pin_plan_compute(). Release with fp_pin_plan_fini(). */
struct fp_pin_plan {
	enum fp_pin_mode mode;
	struct fp_cpuset pmds;              /**< The PMD pool, as given. */
	unsigned int n_vms;
	struct fp_pin_plan_vm *vms;         /**< In input order. */
	unsigned int n_rxqs;
	struct fp_pin_rxq *rxqs;            /**< By VM, port, queue. */
	unsigned int n_conflicts;
	struct fp_pin_conflict *conflicts;  /**< By VM (global ones first). */
};

/**
 * Parse a mode name: "off", "numa", "isolate" or "sibling".
 *
 * @param str
 *   The name.
 * @param mode
 *   Receives the mode.
 * @param err
 *   Receives an error sentence on failure; may be NULL.
 * @param err_size
 *   Size of 'err'.
 * @return
 *   0 on success; -EINVAL for any other string (NULL included).
 */
int
fp_pin_mode_parse(const char *str, enum fp_pin_mode *mode, char *err,
		  size_t err_size);

/**
 * Name a mode.
 *
 * @param mode
 *   The mode.
 * @return
 *   "off", "numa", "isolate", "sibling", or "?" for other values.
 */
const char *
fp_pin_mode_name(enum fp_pin_mode mode);

/**
 * Name a conflict kind, for display ("shared-pmd", ...).
 *
 * @param kind
 *   The kind.
 * @return
 *   A static string.
 */
const char *
fp_pin_conflict_kind_name(enum fp_pin_conflict_kind kind);

/**
 * Fill a policy VM from a discovered or declared one: name (pointing into
 * 'vm', which must outlive 'pv'), vCPU pCPUs, node and the nodes holding
 * its memory. Ports are left empty.
 *
 * @param pv
 *   The policy VM.
 * @param vm
 *   The VM.
 */
void
fp_pin_vm_init(struct fp_pin_vm *pv, const struct fp_vm *vm);

/**
 * Compute where every rx queue of every VM goes.
 *
 * @param topo
 *   The host topology.
 * @param pmds
 *   The PMD cores (pmd-cpu-mask).
 * @param mode
 *   The mode.
 * @param vms
 *   The VMs, with their ports.
 * @param n_vms
 *   Number of VMs.
 * @param plan
 *   Receives the plan; release with fp_pin_plan_fini(), also after an
 *   error.
 * @return
 *   0 on success (conflicts are not errors); -EINVAL for bad arguments
 *   (a mode out of range, a VM or port without a name, a VM node beyond
 *   FP_NUMA_MAX); -ENOMEM.
 */
int
fp_pin_plan_compute(const struct fp_topo *topo, const struct fp_cpuset *pmds,
		    enum fp_pin_mode mode, const struct fp_pin_vm *vms,
		    unsigned int n_vms, struct fp_pin_plan *plan);

/**
 * Find the PMD a plan chose for a queue.
 *
 * @param plan
 *   The plan.
 * @param vm
 *   VM index, as given to fp_pin_plan_compute().
 * @param port
 *   Port index in that VM.
 * @param rxq
 *   Queue number.
 * @return
 *   The core, FP_PIN_PMD_DEFAULT if OVS decides, or -ENOENT if the plan
 *   has no such queue.
 */
int
fp_pin_plan_pmd(const struct fp_pin_plan *plan, unsigned int vm,
		unsigned int port, unsigned int rxq);

/**
 * Render a plan as text, for "ovs-appctl vm-pin/show": the mode and PMD
 * pool, one line per VM with its chosen PMDs, one line per queue, then
 * the conflicts.
 *
 * @param plan
 *   The plan.
 * @param buf
 *   Where to write; always NUL-terminated when 'size' > 0.
 * @param size
 *   Size of 'buf'.
 * @return
 *   The length of the whole text, as snprintf() returns; the output is
 *   truncated if that is >= size.
 */
int
fp_pin_plan_format(const struct fp_pin_plan *plan, char *buf, size_t size);

/**
 * Release what a plan holds and empty it.
 *
 * @param plan
 *   A plan, or a zeroed struct.
 */
void
fp_pin_plan_fini(struct fp_pin_plan *plan);

#ifdef __cplusplus
}
#endif

#endif /* _FP_PIN_H_ */
