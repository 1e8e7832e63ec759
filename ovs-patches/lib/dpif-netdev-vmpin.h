/*
 * Copyright (c) 2026 The Foldpath authors.
 *
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at:
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */

#ifndef DPIF_NETDEV_VMPIN_H
#define DPIF_NETDEV_VMPIN_H 1

#include <stdbool.h>
#include <stddef.h>

/* vm-pin: PMD threads follow the VMs.
 *
 * For every vhost-user port, vm-pin finds the VM behind it (the peer of the
 * vhost-user socket, or what the operator declared on the Interface), and
 * asks Foldpath's pinning policy (fp_pin) which PMD thread should poll each
 * of the port's rx queues: one on the VM's NUMA node ("numa"), not shared
 * with another VM ("isolate"), near the VM's pCPUs ("sibling").  The result
 * is a core per rx queue that dpif-netdev's rxq scheduling uses like a
 * pmd-rxq-affinity that the operator did not write.  An operator's
 * pmd-rxq-affinity always wins.
 *
 * The plan is recomputed by dp_netdev_vmpin_run() when the configuration,
 * the PMD cores or a vhost-user port change (a VM connecting or leaving, a
 * queue being enabled), every 'vm-pin-interval' milliseconds (to catch vCPU
 * affinity changes), and on "vm-pin/rebalance".  When a queue's core
 * changes, the caller requests a datapath reconfiguration.
 *
 * Thread-safety: every function runs in the main thread; an internal mutex
 * makes them safe to call from others too. */

struct ds;
struct netdev;
struct smap;
struct dp_netdev_vmpin;

/* A datapath port as vm-pin sees it.  Arrays have 'n_rxq' entries. */
struct dp_netdev_vmpin_port {
    const char *name;
    struct netdev *netdev;
    unsigned int n_rxq;
    const unsigned *affinity;   /* pmd-rxq-affinity core per queue, or
                                 * OVS_CORE_UNSPEC. */
    const int *polled_by;       /* Core whose PMD polls each queue now,
                                 * -1 if none.  Only for the show. */
};

struct dp_netdev_vmpin *dp_netdev_vmpin_create(void);
void dp_netdev_vmpin_destroy(struct dp_netdev_vmpin *);

void dp_netdev_vmpin_set_config(struct dp_netdev_vmpin *,
                                const struct smap *other_config);
void dp_netdev_vmpin_port_set_config(struct dp_netdev_vmpin *,
                                     const char *port_name,
                                     const struct smap *cfg);
void dp_netdev_vmpin_request(struct dp_netdev_vmpin *);

bool dp_netdev_vmpin_active(struct dp_netdev_vmpin *);
bool dp_netdev_vmpin_run(struct dp_netdev_vmpin *,
                         const struct dp_netdev_vmpin_port *ports,
                         size_t n_ports, const unsigned *pmd_cores,
                         size_t n_pmds);
void dp_netdev_vmpin_wait(struct dp_netdev_vmpin *);

int dp_netdev_vmpin_core(struct dp_netdev_vmpin *, const char *port_name,
                         unsigned int qid);
bool dp_netdev_vmpin_isolating(struct dp_netdev_vmpin *);

void dp_netdev_vmpin_show(struct dp_netdev_vmpin *,
                          const struct dp_netdev_vmpin_port *ports,
                          size_t n_ports, struct ds *);

/* Registers ovs-appctl vm-pin/show and vm-pin/rebalance.  Call once, from
 * dpif_netdev_init(). */
void dp_netdev_vmpin_register_commands(void);

#endif /* dpif-netdev-vmpin.h */
