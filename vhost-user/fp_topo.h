/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_TOPO_H_
#define _FP_TOPO_H_

/**
 * @file
 * Host CPU topology, as sysfs shows it, and a small CPU set type.
 *
 * fp_topo_load() reads, under a root directory that tests redirect ("/" in
 * production):
 *
 * - sys/devices/system/cpu/{present,online,isolated};
 * - sys/devices/system/cpu/cpuN/topology/{core_id,physical_package_id,
 *   thread_siblings_list};
 * - sys/devices/system/node/nodeN/cpulist.
 *
 * A kernel without NUMA (no node directory) is one node, 0, holding every
 * present CPU. CPUs whose topology directory is missing (offline CPUs on
 * some kernels) have core and package -1 and are their own only sibling.
 *
 * CPU numbers are bounded by FP_CPU_MAX and node numbers by FP_NUMA_MAX;
 * a host beyond those makes fp_topo_load() fail with -ERANGE.
 *
 * Thread-safety: a loaded topology is read-only; any thread may read it.
 * The cpuset helpers touch only the sets they are given.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most CPUs (CPU numbers are below this). */
#define FP_CPU_MAX 1024
/** Most NUMA nodes (node numbers are below this). */
#define FP_NUMA_MAX 64

/** A set of CPU numbers, a bitmap. Zero-initialised means empty. */
struct fp_cpuset {
	uint64_t bits[FP_CPU_MAX / 64];
};

/** What sysfs says about one CPU. */
struct fp_topo_cpu {
	int core_id;                 /**< core_id, or -1 if unknown. */
	int package;                 /**< physical_package_id, or -1. */
	int node;                    /**< NUMA node, or -1 if in none. */
	struct fp_cpuset siblings;   /**< SMT siblings, itself included. */
};

/** A host's CPU topology. About 150 KB: allocate it, do not put it on
 *  the stack. */
struct fp_topo {
	struct fp_cpuset present;    /**< CPUs that exist. */
	struct fp_cpuset online;     /**< CPUs that run. */
	struct fp_cpuset isolated;   /**< isolcpus= CPUs (may be empty). */
	int n_nodes;                 /**< Highest node number + 1. */
	struct fp_cpuset node_cpus[FP_NUMA_MAX]; /**< CPUs of each node. */
	struct fp_topo_cpu cpu[FP_CPU_MAX];      /**< Indexed by CPU. */
};

/**
 * Empty a set.
 *
 * @param set
 *   The set.
 */
void
fp_cpuset_zero(struct fp_cpuset *set);

/**
 * Add a CPU to a set; CPUs outside [0, FP_CPU_MAX) are ignored.
 *
 * @param set
 *   The set.
 * @param cpu
 *   The CPU number.
 */
void
fp_cpuset_set(struct fp_cpuset *set, int cpu);

/**
 * Remove a CPU from a set; CPUs outside [0, FP_CPU_MAX) are ignored.
 *
 * @param set
 *   The set.
 * @param cpu
 *   The CPU number.
 */
void
fp_cpuset_clear(struct fp_cpuset *set, int cpu);

/**
 * Tell whether a set holds a CPU.
 *
 * @param set
 *   The set.
 * @param cpu
 *   The CPU number; outside [0, FP_CPU_MAX) is never held.
 * @return
 *   true if 'cpu' is in 'set'.
 */
bool
fp_cpuset_isset(const struct fp_cpuset *set, int cpu);

/**
 * Count the CPUs of a set.
 *
 * @param set
 *   The set.
 * @return
 *   The number of CPUs in 'set'.
 */
unsigned int
fp_cpuset_count(const struct fp_cpuset *set);

/**
 * Tell whether a set is empty.
 *
 * @param set
 *   The set.
 * @return
 *   true if 'set' holds no CPU.
 */
bool
fp_cpuset_empty(const struct fp_cpuset *set);

/**
 * Find the lowest CPU of a set at or above a CPU, for iteration:
 * for (c = fp_cpuset_next(s, 0); c >= 0; c = fp_cpuset_next(s, c + 1)).
 *
 * @param set
 *   The set.
 * @param from
 *   First CPU to consider; negative counts as 0.
 * @return
 *   The CPU, or -1 if there is none.
 */
int
fp_cpuset_next(const struct fp_cpuset *set, int from);

/**
 * Intersect: dst = a & b. 'dst' may be 'a' or 'b'.
 *
 * @param dst
 *   The result.
 * @param a
 *   A set.
 * @param b
 *   A set.
 */
void
fp_cpuset_and(struct fp_cpuset *dst, const struct fp_cpuset *a,
	      const struct fp_cpuset *b);

/**
 * Unite: dst = a | b. 'dst' may be 'a' or 'b'.
 *
 * @param dst
 *   The result.
 * @param a
 *   A set.
 * @param b
 *   A set.
 */
void
fp_cpuset_or(struct fp_cpuset *dst, const struct fp_cpuset *a,
	     const struct fp_cpuset *b);

/**
 * Subtract: dst = a & ~b. 'dst' may be 'a' or 'b'.
 *
 * @param dst
 *   The result.
 * @param a
 *   A set.
 * @param b
 *   The CPUs to remove.
 */
void
fp_cpuset_andnot(struct fp_cpuset *dst, const struct fp_cpuset *a,
		 const struct fp_cpuset *b);

/**
 * Tell whether two sets hold the same CPUs.
 *
 * @param a
 *   A set.
 * @param b
 *   A set.
 * @return
 *   true if they are equal.
 */
bool
fp_cpuset_equal(const struct fp_cpuset *a, const struct fp_cpuset *b);

/**
 * Parse a kernel cpulist, such as "0-3,8,10-11".
 *
 * Surrounding white space (sysfs ends lines with a newline) is ignored and
 * an empty or all-blank string is the empty set, as sysfs writes for
 * "isolated" when nothing is. Anything else that is not a comma-separated
 * list of CPU numbers and ascending ranges is an error.
 *
 * @param str
 *   The list.
 * @param set
 *   Receives the CPUs; left empty on error.
 * @return
 *   0 on success; -EINVAL if 'str' is malformed (garbage, empty item,
 *   descending range, sign); -ERANGE if a CPU is not below FP_CPU_MAX.
 */
int
fp_cpuset_parse(const char *str, struct fp_cpuset *set);

/**
 * Write a set as a cpulist ("0-3,8"; "" when empty), the way the kernel
 * writes them, so that fp_cpuset_parse() reads it back.
 *
 * @param set
 *   The set.
 * @param buf
 *   Where to write; always NUL-terminated when 'size' > 0.
 * @param size
 *   Size of 'buf'.
 * @return
 *   The length of the whole list, not counting the NUL, as snprintf()
 *   does; the output is truncated if that is >= size.
 */
int
fp_cpuset_format(const struct fp_cpuset *set, char *buf, size_t size);

/**
 * Read the host's CPU topology from sysfs under a root directory.
 *
 * @param root
 *   The directory that holds "sys" ("/" in production); NULL means "/".
 * @param topo
 *   Receives a new topology, to free with fp_topo_free().
 * @return
 *   0 on success; -ENOENT if neither cpu/present nor cpu/online can be
 *   read; -EINVAL if a sysfs file is malformed; -ERANGE if a CPU or node
 *   is beyond FP_CPU_MAX or FP_NUMA_MAX; -ENOMEM.
 */
int
fp_topo_load(const char *root, struct fp_topo **topo);

/**
 * Free a topology.
 *
 * @param topo
 *   A topology from fp_topo_load(), or NULL.
 */
void
fp_topo_free(struct fp_topo *topo);

/**
 * Find the NUMA node of a CPU.
 *
 * @param topo
 *   The topology.
 * @param cpu
 *   The CPU number.
 * @return
 *   The node, or -1 if the CPU is unknown or in no node.
 */
int
fp_topo_cpu_node(const struct fp_topo *topo, int cpu);

/**
 * Find the node that holds most CPUs of a set (ties: the lowest node).
 *
 * @param topo
 *   The topology.
 * @param set
 *   The CPUs.
 * @param n_nodes
 *   If not NULL, receives how many nodes hold CPUs of 'set'.
 * @return
 *   The node, or -1 if no CPU of 'set' is in a node.
 */
int
fp_topo_cpuset_node(const struct fp_topo *topo, const struct fp_cpuset *set,
		    unsigned int *n_nodes);

#ifdef __cplusplus
}
#endif

#endif /* _FP_TOPO_H_ */
