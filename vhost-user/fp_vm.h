/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_VM_H_
#define _FP_VM_H_

/**
 * @file
 * Finding the VM behind a vhost-user port, or reading what the operator
 * declared about it.
 *
 * A VM is described by struct fp_vm: a readable name, its vCPU threads
 * and the pCPUs they may run on, its emulator threads, and the NUMA
 * node(s) of its memory. It comes from one of three sources:
 *
 * - discovery: fp_vm_socket_peer() finds the pid of the process at the
 *   other end of a vhost-user socket (QEMU, or a DPDK application such as
 *   testpmd with a virtio-user port), then fp_vm_from_pid() reads that
 *   process from procfs;
 * - a declaration of pCPUs and a node: fp_vm_from_cpuset();
 * - a libvirt domain XML: fp_vm_from_libvirt_xml().
 *
 * fp_vm_discover() picks among them for one port, by the precedence that
 * OVS applies: a declared libvirt XML, else declared pCPUs, else the
 * socket's peer.
 *
 * procfs is read under a root directory that tests redirect: "<root>/proc"
 * ("/" in production).
 *
 * Thread-safety: the functions keep no state; a struct fp_vm belongs to
 * its caller. fp_vm_from_libvirt_xml() uses libxml2, which must have been
 * initialised (xmlInitParser(), done by the first call) before threads
 * call it concurrently.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fp_topo.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest VM name kept, NUL included; longer names are truncated. */
#define FP_VM_NAME_MAX 64

/** A node's share of a VM's memory below which it is not counted as
 *  "memory spans nodes" (shared libraries and page cache of the process
 *  land anywhere), in percent. */
#define FP_VM_SPAN_MIN_PERCENT 5

/** Size of each text of struct fp_vm_discovery: a path and a sentence. */
#define FP_VM_TEXT_MAX (PATH_MAX + 256)

/** Where a struct fp_vm came from. */
enum fp_vm_source {
	FP_VM_SOURCE_PROC,    /**< fp_vm_from_pid(). */
	FP_VM_SOURCE_CPUSET,  /**< fp_vm_from_cpuset(). */
	FP_VM_SOURCE_LIBVIRT, /**< fp_vm_from_libvirt_xml(). */
};

/** What a thread of the VM does. */
enum fp_vm_thread_kind {
	/** Runs guest code: QEMU's "CPU n/KVM", or a DPDK lcore (the main
	 *  thread and "rte-worker-N"/"lcore-worker-N"/"dpdk-workerN"). */
	FP_VM_THREAD_VCPU,
	/** Anything else: QEMU's main loop, I/O threads, DPDK's interrupt
	 *  and control threads. */
	FP_VM_THREAD_EMULATOR,
};

/** One thread of a VM (or one <vcpupin> of a libvirt domain). */
struct fp_vm_thread {
	pid_t tid;                   /**< Thread id; 0 for declarations. */
	enum fp_vm_thread_kind kind;
	/** vCPU index from "CPU n/KVM" or <vcpupin vcpu=>, lcore id from a
	 *  DPDK worker name; -1 for emulator threads and the DPDK main
	 *  lcore. */
	int vcpu;
	char comm[16];               /**< Thread name, as in task/N/comm. */
	struct fp_cpuset affinity;   /**< Cpus_allowed_list, or the pin. */
};

/** A VM as this library sees it. Release with fp_vm_fini(). */
struct fp_vm {
	char name[FP_VM_NAME_MAX];    /**< Readable name. */
	enum fp_vm_source source;
	pid_t pid;                    /**< Its process; 0 if declared. */
	/** vCPU threads, or libvirt's vCPU count; 0 for a cpuset
	 *  declaration, which does not say. */
	unsigned int n_vcpus;
	/** pCPUs its vCPUs may run on: the union of their affinities. */
	struct fp_cpuset vcpu_cpus;
	/** pCPUs of its emulator threads (may be empty). */
	struct fp_cpuset emulator_cpus;
	/** Node with most of its memory (ties: lowest), or -1 if unknown. */
	int numa_node;
	/** Its memory sits on more than one node (each holding at least
	 *  FP_VM_SPAN_MIN_PERCENT of it; or numatune names several). */
	bool spans_nodes;
	/** Memory per node in kB, from numa_maps; zero if not read. */
	uint64_t node_kb[FP_NUMA_MAX];
	unsigned int n_threads;       /**< Entries in 'threads'. */
	struct fp_vm_thread *threads; /**< By ascending tid (or vCPU). */
};

/**
 * Find the pid of the process at the other end of a vhost-user socket.
 *
 * OVS holds the socket's file descriptor inside DPDK's vhost library,
 * which does not expose it. So this scans the owner's descriptors
 * ("<root>/proc/self/fd", or "<root>/proc/<owner>/fd"), keeps connected
 * AF_UNIX stream sockets (listening ones are skipped) whose local name
 * (server mode: OVS bound the path and accepted the VM) or peer name
 * (client mode: OVS connected to the VM's path) is 'sock_path', and asks
 * the kernel for the peer's credentials (SO_PEERCRED). In client mode
 * those are of the process that called listen(); see README.rst for when
 * that is not the VM.
 *
 * For an 'owner' other than the calling process, descriptors are copied
 * with pidfd_getfd(), which needs ptrace rights on 'owner'.
 *
 * @param root
 *   Directory holding "proc"; NULL means "/".
 * @param owner
 *   Process holding the socket; 0 or getpid() for the caller.
 * @param sock_path
 *   The vhost-user socket path, as bound (compared as given and, if that
 *   finds nothing, after realpath()).
 * @param peer
 *   Receives the peer pid.
 * @return
 *   0 on success; -ENOENT if no connected socket has that path;
 *   -EINVAL for bad arguments; another negative errno if the descriptors
 *   cannot be read.
 */
int
fp_vm_socket_peer(const char *root, pid_t owner, const char *sock_path,
		  pid_t *peer);

/**
 * Describe the VM that a process runs, from procfs.
 *
 * Reads "<root>/proc/<pid>/": task/N/comm and task/N/status
 * (Cpus_allowed_list) of every thread, numa_maps (pages per node, times
 * kernelpagesize_kB, 4 kB if absent) and cmdline (the name: QEMU's
 * "-name guest=NAME,..." or "-name NAME,...", else the command line's
 * first words). A missing or unreadable numa_maps leaves the node
 * unknown (-1), which is not an error.
 *
 * @param root
 *   Directory holding "proc"; NULL means "/".
 * @param pid
 *   The process.
 * @param vm
 *   Receives the VM; release with fp_vm_fini(), also after an error.
 * @return
 *   0 on success; -ENOENT if the process (its task directory) is not
 *   there; -EINVAL if a status file has a malformed Cpus_allowed_list;
 *   -ENOMEM.
 */
int
fp_vm_from_pid(const char *root, pid_t pid, struct fp_vm *vm);

/**
 * Describe a VM from what the operator declared: its pCPUs and,
 * optionally, its NUMA node.
 *
 * @param name
 *   The VM's name.
 * @param cpus
 *   Its vCPUs' pCPUs as a cpulist ("8-11").
 * @param numa_node
 *   Node of its memory, or -1 to take the node holding most of 'cpus'.
 * @param topo
 *   The host topology, to check the node and derive it; may be NULL if
 *   'numa_node' is given.
 * @param vm
 *   Receives the VM; release with fp_vm_fini().
 * @param err
 *   Receives an error sentence on failure; may be NULL.
 * @param err_size
 *   Size of 'err'.
 * @return
 *   0 on success; -EINVAL if 'cpus' is not a non-empty cpulist or the
 *   node is out of range or unknown to 'topo'; -ERANGE if a CPU is
 *   beyond FP_CPU_MAX.
 */
int
fp_vm_from_cpuset(const char *name, const char *cpus, int numa_node,
		  const struct fp_topo *topo, struct fp_vm *vm,
		  char *err, size_t err_size);

/**
 * Describe a VM from its libvirt domain XML.
 *
 * Reads <name>; the vCPUs' pCPUs from <cputune><vcpupin vcpu= cpuset=>,
 * and for vCPUs without one, from <vcpu cpuset=> (libvirt's syntax, "^N"
 * exclusions included); <cputune><emulatorpin cpuset=>; and the memory
 * node from <numatune><memory nodeset=>. Without <numatune>, the node is
 * the one holding most of the vCPUs' pCPUs (spanning if they are on
 * several nodes).
 *
 * @param path
 *   The XML file (as "virsh dumpxml" writes it, or /etc/libvirt/qemu/).
 * @param topo
 *   The host topology, to derive the node; may be NULL if <numatune>
 *   names it.
 * @param vm
 *   Receives the VM; release with fp_vm_fini().
 * @param err
 *   Receives a sentence naming the file and what is wrong, for example
 *   "libvirt XML /x.xml: no <cputune>/<vcpu cpuset>: cannot find the VM's
 *   pCPUs"; may be NULL.
 * @param err_size
 *   Size of 'err'.
 * @return
 *   0 on success; -ENOENT if the file cannot be read; -EINVAL if it is
 *   not well-formed XML, not a <domain>, or lacks what is needed (name,
 *   pCPUs) or holds a malformed cpuset/nodeset; -ENOMEM.
 */
int
fp_vm_from_libvirt_xml(const char *path, const struct fp_topo *topo,
		       struct fp_vm *vm, char *err, size_t err_size);

/**
 * What the operator declared about the VM behind a vhost-user port (in
 * OVS, the Interface's other_config keys of the same names). Each member
 * may be unset.
 */
struct fp_vm_decl {
	/** vm-libvirt-xml: the VM's libvirt domain XML file, or NULL. */
	const char *libvirt_xml;
	/** vm-cpus: its vCPUs' pCPUs as a cpulist, or NULL. */
	const char *cpus;
	/** vm-numa-node: node of its memory, or -1; only with 'cpus'. */
	int numa_node;
	/** vm-name: the VM's name, over what the XML or the process says;
	 *  or NULL. */
	const char *vm_name;
};

/** A vhost-user port, as fp_vm_discover() needs it. */
struct fp_vm_port {
	/** The port's name: in messages, and the name of a VM declared by
	 *  'decl.cpus' without 'decl.vm_name'. */
	const char *name;
	/** The socket path while a VM is connected, else NULL. */
	const char *socket;
	/** The switch's vhost-user role, "client" or "server", for the
	 *  origin text; NULL reads "?". */
	const char *mode;
	/** What the operator declared. */
	struct fp_vm_decl decl;
};

/** What fp_vm_discover() says besides the VM. */
struct fp_vm_discovery {
	/**
	 * On success, how the VM was found: "declared: vm-libvirt-xml PATH",
	 * "declared: vm-cpus 8-11" (", vm-numa-node" added when the node is
	 * declared), or "peer of socket PATH (OVS is the vhost-user client)".
	 */
	char origin[FP_VM_TEXT_MAX];
	/**
	 * Empty, or why the declaration could not be used, on success and on
	 * failure: "PORT: ERROR; looking for the VM behind the socket
	 * instead" ("PORT: vm-cpus: ERROR; ..." for pCPUs). Discovery then
	 * went on with the socket's peer.
	 */
	char decl_error[FP_VM_TEXT_MAX];
	/**
	 * On failure, why no VM was found: "no VM connected", "no peer found
	 * for socket PATH (REASON)", "cannot read the peer, pid N, of socket
	 * PATH (REASON)", or that the peer has no vCPU or lcore threads and
	 * the VM should be declared.
	 */
	char error[FP_VM_TEXT_MAX];
};

/**
 * Find the VM behind a vhost-user port: the libvirt XML the operator
 * declared, else the pCPUs declared (fp_vm_from_cpuset()), else the
 * process at the other end of the socket (fp_vm_socket_peer() on the
 * calling process, then fp_vm_from_pid()), which must have vCPU or lcore
 * threads. A declaration that cannot be read is reported in
 * 'found->decl_error', and discovery goes on with the socket: a declared
 * XML is never followed by the declared pCPUs. 'decl.vm_name' renames a
 * VM found from the XML or the socket.
 *
 * @param root
 *   Directory holding "proc"; NULL means "/".
 * @param port
 *   The port and its declaration.
 * @param topo
 *   The host topology, for the declarations' NUMA node.
 * @param vm
 *   Receives the VM; release with fp_vm_fini(). Empty after a failure.
 * @param found
 *   Receives the origin, the declaration's error and the failure's
 *   reason (each empty when it does not apply).
 * @return
 *   0 on success; -ENOENT if no VM is connected (no 'port->socket');
 *   the negative errno of fp_vm_socket_peer() or fp_vm_from_pid();
 *   -EINVAL if the peer has no vCPU or lcore threads.
 */
int
fp_vm_discover(const char *root, const struct fp_vm_port *port,
	       const struct fp_topo *topo, struct fp_vm *vm,
	       struct fp_vm_discovery *found);

/**
 * Release what a VM holds (its thread list) and empty it.
 *
 * @param vm
 *   A VM filled by one of the fp_vm_from_*() functions, or zeroed.
 */
void
fp_vm_fini(struct fp_vm *vm);

/**
 * Write a one-line summary of a VM: name, pid, vCPU pCPUs, emulator
 * pCPUs, memory node.
 *
 * @param vm
 *   The VM.
 * @param buf
 *   Where to write; always NUL-terminated when 'size' > 0.
 * @param size
 *   Size of 'buf'.
 * @return
 *   The length of the whole summary, as snprintf() returns.
 */
int
fp_vm_format(const struct fp_vm *vm, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* _FP_VM_H_ */
