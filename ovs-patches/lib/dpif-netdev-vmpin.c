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

#include <config.h>

#include "dpif-netdev-vmpin.h"

#include <errno.h>
#include <string.h>

#include "dpif-netdev-private.h"
#include "hash.h"
#include "netdev.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-numa.h"
#include "ovs-thread.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

#include "fp_pin.h"
#include "fp_topo.h"
#include "fp_vm.h"

VLOG_DEFINE_THIS_MODULE(dpif_netdev_vmpin);

#define VMPIN_INTERVAL_DEFAULT 10000    /* ms between rechecks. */
#define VMPIN_INTERVAL_MIN 100

/* What the operator declared about the VM behind one Interface. */
struct vmpin_decl {
    struct hmap_node node;      /* In 'decls', by hash of 'port'. */
    char *port;
    char *vm_name;              /* other_config:vm-name, or NULL. */
    char *cpus;                 /* other_config:vm-cpus, or NULL. */
    int numa_node;              /* other_config:vm-numa-node, or -1. */
    char *libvirt_xml;          /* other_config:vm-libvirt-xml, or NULL. */
};

/* The plan's cores for one port's rx queues. */
struct vmpin_assign {
    struct hmap_node node;      /* In 'assigns', by hash of 'port'. */
    char *port;
    unsigned int n_rxq;
    int *cores;                 /* Per queue, or -1: OVS decides. */
};

/* A VM found in the last computation, for the show. */
struct vmpin_vm {
    struct fp_vm vm;
    char *origin;               /* How it was found, a phrase. */
    struct sset ports;          /* Its ports. */
    size_t n_ports;
    const char **port_names;    /* In plan order (points into 'ports'). */
};

struct dp_netdev_vmpin {
    struct ovs_mutex mutex;
    enum fp_pin_mode mode OVS_GUARDED;
    long long int interval OVS_GUARDED;     /* 0: no periodic recheck. */
    long long int next_check OVS_GUARDED;
    bool requested OVS_GUARDED;             /* vm-pin/rebalance. */
    uint64_t config_gen OVS_GUARDED;        /* Bumped on any change. */
    uint32_t last_sig OVS_GUARDED;          /* Inputs of the last run. */
    bool have_sig OVS_GUARDED;
    struct hmap decls OVS_GUARDED;          /* struct vmpin_decl. */
    struct hmap assigns OVS_GUARDED;        /* struct vmpin_assign. */
    struct fp_topo *topo OVS_GUARDED;

    /* The last computation, for the show. */
    struct fp_pin_plan plan OVS_GUARDED;
    struct vmpin_vm *vms OVS_GUARDED;
    size_t n_vms OVS_GUARDED;
    struct smap unbound OVS_GUARDED;        /* Port -> why no VM. */
    struct smap decl_errors OVS_GUARDED;    /* Port -> unreadable
                                             * declaration. */
    struct smap cfg_errors OVS_GUARDED;     /* Key -> bad value. */
    struct sset conflicts OVS_GUARDED;      /* Texts, to log changes. */
    long long int last_run OVS_GUARDED;
    uint64_t n_runs OVS_GUARDED;
    uint64_t n_moves OVS_GUARDED;
};

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

static bool
vmpin_is_vhost(const struct netdev *netdev)
{
    return !strncmp(netdev_get_type(netdev), "dpdkvhostuser", 13);
}

/* Returns vm-pin's state for a new datapath, with vm-pin off.  Main
 * thread. */
struct dp_netdev_vmpin *
dp_netdev_vmpin_create(void)
{
    struct dp_netdev_vmpin *vp = xzalloc(sizeof *vp);

    ovs_mutex_init(&vp->mutex);
    vp->mode = FP_PIN_MODE_OFF;
    vp->interval = VMPIN_INTERVAL_DEFAULT;
    hmap_init(&vp->decls);
    hmap_init(&vp->assigns);
    smap_init(&vp->unbound);
    smap_init(&vp->decl_errors);
    smap_init(&vp->cfg_errors);
    sset_init(&vp->conflicts);
    return vp;
}

static void
vmpin_assigns_clear(struct hmap *assigns)
{
    struct vmpin_assign *a;

    HMAP_FOR_EACH_POP (a, node, assigns) {
        free(a->port);
        free(a->cores);
        free(a);
    }
}

static void
vmpin_last_clear(struct dp_netdev_vmpin *vp)
    OVS_REQUIRES(vp->mutex)
{
    for (size_t i = 0; i < vp->n_vms; i++) {
        fp_vm_fini(&vp->vms[i].vm);
        free(vp->vms[i].origin);
        free(vp->vms[i].port_names);
        sset_destroy(&vp->vms[i].ports);
    }
    free(vp->vms);
    vp->vms = NULL;
    vp->n_vms = 0;
    fp_pin_plan_fini(&vp->plan);
    smap_clear(&vp->unbound);
}

static void
vmpin_decl_free(struct vmpin_decl *d)
{
    free(d->port);
    free(d->vm_name);
    free(d->cpus);
    free(d->libvirt_xml);
    free(d);
}

/* Frees 'vp'.  'vp' may be NULL.  Main thread. */
void
dp_netdev_vmpin_destroy(struct dp_netdev_vmpin *vp)
{
    struct vmpin_decl *d;

    if (!vp) {
        return;
    }
    ovs_mutex_lock(&vp->mutex);
    vmpin_last_clear(vp);
    vmpin_assigns_clear(&vp->assigns);
    hmap_destroy(&vp->assigns);
    HMAP_FOR_EACH_POP (d, node, &vp->decls) {
        vmpin_decl_free(d);
    }
    hmap_destroy(&vp->decls);
    smap_destroy(&vp->unbound);
    smap_destroy(&vp->decl_errors);
    smap_destroy(&vp->cfg_errors);
    sset_destroy(&vp->conflicts);
    fp_topo_free(vp->topo);
    ovs_mutex_unlock(&vp->mutex);
    ovs_mutex_destroy(&vp->mutex);
    free(vp);
}

/* Records that configuration key 'key' has a bad value, described by
 * 'msg' (NULL: it is fine now).  Logs each new problem once, not at every
 * database change. */
static void
vmpin_cfg_error(struct dp_netdev_vmpin *vp, const char *key, char *msg)
    OVS_REQUIRES(vp->mutex)
{
    const char *old = smap_get(&vp->cfg_errors, key);

    if (!msg) {
        smap_remove(&vp->cfg_errors, key);
        return;
    }
    if (!nullable_string_is_equal(old, msg)) {
        VLOG_WARN("%s", msg);
        smap_replace(&vp->cfg_errors, key, msg);
    }
    free(msg);
}

/* Applies the vm-pin and vm-pin-interval keys of 'other_config'.  A bad
 * value keeps the value in force, is logged once and is listed by
 * vm-pin/show.  Main thread. */
void
dp_netdev_vmpin_set_config(struct dp_netdev_vmpin *vp,
                           const struct smap *other_config)
{
    const char *mode_str = smap_get_def(other_config, "vm-pin", "off");
    const char *ivl_str = smap_get(other_config, "vm-pin-interval");
    enum fp_pin_mode mode;
    char err[256];

    ovs_mutex_lock(&vp->mutex);
    if (fp_pin_mode_parse(mode_str, &mode, err, sizeof err)) {
        vmpin_cfg_error(vp, "vm-pin",
                        xasprintf("other_config:vm-pin: %s; keeping '%s'",
                                  err, fp_pin_mode_name(vp->mode)));
        mode = vp->mode;
    } else {
        vmpin_cfg_error(vp, "vm-pin", NULL);
    }
    if (mode != vp->mode) {
        VLOG_INFO("vm-pin mode is now '%s' (was '%s')",
                  fp_pin_mode_name(mode), fp_pin_mode_name(vp->mode));
        vp->mode = mode;
        vp->config_gen++;
        if (mode != FP_PIN_MODE_OFF && !vp->topo) {
            int error = fp_topo_load(NULL, &vp->topo);

            if (error) {
                VLOG_WARN("vm-pin: cannot read the CPU topology from "
                          "sysfs (%s); VMs' queues stay on OVS's own "
                          "scheduling", ovs_strerror(-error));
                vp->topo = NULL;
            }
        }
    }

    if (ivl_str) {
        unsigned long long ivl;

        if (!str_to_ullong(ivl_str, 10, &ivl)
            || (ivl && ivl < VMPIN_INTERVAL_MIN) || ivl > 3600 * 1000) {
            vmpin_cfg_error(vp, "vm-pin-interval",
                            xasprintf("other_config:vm-pin-interval: '%s' is "
                                      "not 0 or a number of milliseconds "
                                      "from %d to 3600000; keeping %lld",
                                      ivl_str, VMPIN_INTERVAL_MIN,
                                      vp->interval));
        } else {
            vmpin_cfg_error(vp, "vm-pin-interval", NULL);
            if (ivl != vp->interval) {
                vp->interval = ivl;
                vp->next_check = 0;
                if (ivl) {
                    VLOG_INFO("vm-pin rechecks the VMs every %llu ms", ivl);
                } else {
                    VLOG_INFO("vm-pin does not recheck the VMs periodically");
                }
            }
        }
    } else {
        vmpin_cfg_error(vp, "vm-pin-interval", NULL);
        if (vp->interval != VMPIN_INTERVAL_DEFAULT) {
            vp->interval = VMPIN_INTERVAL_DEFAULT;
            vp->next_check = 0;
        }
    }
    ovs_mutex_unlock(&vp->mutex);
}

static struct vmpin_decl *
vmpin_decl_find(const struct dp_netdev_vmpin *vp, const char *port)
    OVS_REQUIRES(vp->mutex)
{
    struct vmpin_decl *d;

    HMAP_FOR_EACH_WITH_HASH (d, node, hash_string(port, 0), &vp->decls) {
        if (!strcmp(d->port, port)) {
            return d;
        }
    }
    return NULL;
}

/* Applies the VM declaration keys (vm-cpus, vm-numa-node, vm-libvirt-xml,
 * vm-name) of port 'port' from its other_config 'cfg'; an empty 'cfg'
 * forgets the port's declaration.  Bad values are logged once and listed
 * by vm-pin/show.  Main thread. */
void
dp_netdev_vmpin_port_set_config(struct dp_netdev_vmpin *vp,
                                const char *port, const struct smap *cfg)
{
    const char *name = smap_get(cfg, "vm-name");
    const char *cpus = smap_get(cfg, "vm-cpus");
    const char *node_str = smap_get(cfg, "vm-numa-node");
    const char *xml = smap_get(cfg, "vm-libvirt-xml");
    char *key_cpus = xasprintf("%s:vm-cpus", port);
    char *key_node = xasprintf("%s:vm-numa-node", port);
    struct vmpin_decl *d;
    char *msg = NULL;
    int node = -1;

    ovs_mutex_lock(&vp->mutex);
    if (cpus) {
        struct fp_cpuset set;

        if (fp_cpuset_parse(cpus, &set) || fp_cpuset_empty(&set)) {
            msg = xasprintf("%s: other_config:vm-cpus: '%s' is not a CPU "
                            "list such as '2-3,6'; ignoring the declaration",
                            port, cpus);
            cpus = NULL;
        }
    }
    vmpin_cfg_error(vp, key_cpus, msg);
    msg = NULL;
    if (node_str && (!str_to_int(node_str, 10, &node) || node < 0
                     || node >= FP_NUMA_MAX)) {
        msg = xasprintf("%s: other_config:vm-numa-node: '%s' is not a NUMA "
                        "node number; deriving the node from vm-cpus", port,
                        node_str);
        node = -1;
    } else if (node_str && !cpus) {
        msg = xasprintf("%s: other_config:vm-numa-node needs vm-cpus; "
                        "ignoring it", port);
    }
    vmpin_cfg_error(vp, key_node, msg);
    free(key_cpus);
    free(key_node);

    d = vmpin_decl_find(vp, port);
    if (!cpus && !xml && !name) {
        if (d) {
            hmap_remove(&vp->decls, &d->node);
            vmpin_decl_free(d);
            vp->config_gen++;
        }
        ovs_mutex_unlock(&vp->mutex);
        return;
    }
    if (d && nullable_string_is_equal(d->vm_name, name)
        && nullable_string_is_equal(d->cpus, cpus)
        && nullable_string_is_equal(d->libvirt_xml, xml)
        && d->numa_node == node) {
        ovs_mutex_unlock(&vp->mutex);
        return;
    }
    if (!d) {
        d = xzalloc(sizeof *d);
        d->port = xstrdup(port);
        hmap_insert(&vp->decls, &d->node, hash_string(port, 0));
    }
    free(d->vm_name);
    free(d->cpus);
    free(d->libvirt_xml);
    d->vm_name = nullable_xstrdup(name);
    d->cpus = nullable_xstrdup(cpus);
    d->libvirt_xml = nullable_xstrdup(xml);
    d->numa_node = node;
    vp->config_gen++;
    ovs_mutex_unlock(&vp->mutex);
}

/* Makes the next dp_netdev_vmpin_run() look at the VMs again, whatever
 * changed.  Any thread. */
void
dp_netdev_vmpin_request(struct dp_netdev_vmpin *vp)
{
    ovs_mutex_lock(&vp->mutex);
    vp->requested = true;
    ovs_mutex_unlock(&vp->mutex);
}

/* Hashes everything a plan depends on but the VMs' procfs state, which the
 * periodic recheck covers. */
static uint32_t
vmpin_signature(const struct dp_netdev_vmpin *vp,
                const struct dp_netdev_vmpin_port *ports, size_t n_ports,
                const unsigned *pmd_cores, size_t n_pmds)
    OVS_REQUIRES(vp->mutex)
{
    uint32_t h = hash_uint64(vp->config_gen);

    h = hash_int(vp->mode, h);
    for (size_t i = 0; i < n_pmds; i++) {
        h = hash_int(pmd_cores[i], h);
    }
    for (size_t i = 0; i < n_ports; i++) {
        const struct dp_netdev_vmpin_port *p = &ports[i];

        if (!vmpin_is_vhost(p->netdev)) {
            continue;
        }
        h = hash_string(p->name, h);
        h = hash_uint64_basis(netdev_get_change_seq(p->netdev), h);
        h = hash_int(p->n_rxq, h);
        for (unsigned int q = 0; q < p->n_rxq; q++) {
            h = hash_int(p->affinity[q], h);
        }
    }
    return h;
}

/* Records that port 'port''s declaration cannot be used, for the show,
 * and logs it unless the previous computation ('prev') had the same. */
static void
vmpin_decl_error(struct dp_netdev_vmpin *vp, const struct smap *prev,
                 const char *port, char *msg)
    OVS_REQUIRES(vp->mutex)
{
    if (!nullable_string_is_equal(smap_get(prev, port), msg)) {
        VLOG_WARN("%s", msg);
    }
    smap_replace_nocopy(&vp->decl_errors, port, msg);
}

/* Finds the VM behind vhost-user port 'p', from its declaration or its
 * socket's peer (the precedence is fp_vm_discover()'s).  Returns 0 and
 * fills 'vm' and 'origin', or an errno with a reason in 'why'.  A
 * declaration that cannot be used is reported once. */
static int
vmpin_find_vm(struct dp_netdev_vmpin *vp, const struct dp_netdev_vmpin_port *p,
              const struct smap *prev_errors, struct fp_vm *vm, char **origin,
              char **why)
    OVS_REQUIRES(vp->mutex)
{
    const struct vmpin_decl *d = vmpin_decl_find(vp, p->name);
    struct smap status = SMAP_INITIALIZER(&status);
    struct fp_vm_discovery *found = xmalloc(sizeof *found);
    struct fp_vm_port port = {
        .name = p->name,
        .decl = { .numa_node = -1 },
    };
    int error;

    netdev_get_status(p->netdev, &status);
    port.mode = smap_get_def(&status, "mode", "?");
    if (nullable_string_is_equal(smap_get(&status, "status"), "connected")) {
        port.socket = smap_get(&status, "socket");
    }
    if (d) {
        port.decl.libvirt_xml = d->libvirt_xml;
        port.decl.cpus = d->cpus;
        port.decl.numa_node = d->numa_node;
        port.decl.vm_name = d->vm_name;
    }

    error = fp_vm_discover(NULL, &port, vp->topo, vm, found);
    if (found->decl_error[0]) {
        vmpin_decl_error(vp, prev_errors, p->name,
                         xstrdup(found->decl_error));
    }
    if (error) {
        *why = xstrdup(found->error);
    } else {
        *origin = xstrdup(found->origin);
    }
    free(found);
    smap_destroy(&status);
    return -error;
}

/* Returns the VM of 'vms' that 'vm' is the same as (same process, or same
 * declared name), or NULL. */
static struct vmpin_vm *
vmpin_same_vm(struct vmpin_vm *vms, size_t n, const struct fp_vm *vm)
{
    for (size_t i = 0; i < n; i++) {
        if (vm->pid ? vms[i].vm.pid == vm->pid
                    : !vms[i].vm.pid && !strcmp(vms[i].vm.name, vm->name)) {
            return &vms[i];
        }
    }
    return NULL;
}

static struct vmpin_assign *
vmpin_assign_find(const struct hmap *assigns, const char *port)
{
    struct vmpin_assign *a;

    HMAP_FOR_EACH_WITH_HASH (a, node, hash_string(port, 0), assigns) {
        if (!strcmp(a->port, port)) {
            return a;
        }
    }
    return NULL;
}

/* Logs what moved between 'old' and 'new'; returns the number of queues
 * whose core changed. */
static size_t
vmpin_assigns_diff(const struct hmap *old, const struct hmap *new)
{
    const struct vmpin_assign *a, *b;
    size_t moves = 0;

    HMAP_FOR_EACH (a, node, new) {
        b = vmpin_assign_find(old, a->port);
        for (unsigned int q = 0; q < a->n_rxq; q++) {
            int was = b && q < b->n_rxq ? b->cores[q] : -1;

            if (was != a->cores[q]) {
                moves++;
                if (a->cores[q] >= 0) {
                    VLOG_INFO("vm-pin: port '%s' rx queue %u goes to the PMD "
                              "on core %d", a->port, q, a->cores[q]);
                } else {
                    VLOG_INFO("vm-pin: port '%s' rx queue %u goes back to "
                              "OVS's own scheduling", a->port, q);
                }
            }
        }
    }
    HMAP_FOR_EACH (b, node, old) {
        a = vmpin_assign_find(new, b->port);
        for (unsigned int q = a ? a->n_rxq : 0; q < b->n_rxq; q++) {
            if (b->cores[q] >= 0) {
                moves++;
                VLOG_INFO("vm-pin: port '%s' rx queue %u goes back to OVS's "
                          "own scheduling", b->port, q);
            }
        }
    }
    return moves;
}

/* Swaps in 'new' as the current assignment; returns true if any queue's
 * core changed. */
static bool
vmpin_assigns_replace(struct dp_netdev_vmpin *vp, struct hmap *new)
    OVS_REQUIRES(vp->mutex)
{
    size_t moves = vmpin_assigns_diff(&vp->assigns, new);

    vmpin_assigns_clear(&vp->assigns);
    hmap_swap(&vp->assigns, new);
    vp->n_moves += moves;
    return moves > 0;
}

static void
vmpin_log_conflicts(struct dp_netdev_vmpin *vp)
    OVS_REQUIRES(vp->mutex)
{
    struct sset now = SSET_INITIALIZER(&now);
    const char *text;

    for (unsigned int i = 0; i < vp->plan.n_conflicts; i++) {
        sset_add(&now, vp->plan.conflicts[i].text);
    }
    SSET_FOR_EACH (text, &now) {
        if (!sset_contains(&vp->conflicts, text)) {
            VLOG_WARN("vm-pin: %s", text);
        }
    }
    sset_swap(&now, &vp->conflicts);
    sset_destroy(&now);
}

/* Finds the VMs behind 'ports' and groups their ports in 'vp->vms'.  Ports
 * without a VM go to 'vp->unbound', with the reason. */
static void
vmpin_group_vms(struct dp_netdev_vmpin *vp,
                const struct dp_netdev_vmpin_port *ports, size_t n_ports)
    OVS_REQUIRES(vp->mutex)
{
    struct smap prev_errors;

    smap_clone(&prev_errors, &vp->decl_errors);
    smap_clear(&vp->decl_errors);
    vp->vms = xcalloc(n_ports ? n_ports : 1, sizeof *vp->vms);
    for (size_t i = 0; i < n_ports; i++) {
        const struct dp_netdev_vmpin_port *p = &ports[i];
        struct vmpin_vm *v;
        char *origin = NULL, *why = NULL;
        struct fp_vm vm;

        if (!vmpin_is_vhost(p->netdev)) {
            continue;
        }
        if (vmpin_find_vm(vp, p, &prev_errors, &vm, &origin, &why)) {
            smap_add_nocopy(&vp->unbound, xstrdup(p->name), why);
            continue;
        }
        v = vmpin_same_vm(vp->vms, vp->n_vms, &vm);
        if (v) {
            fp_vm_fini(&vm);
            free(origin);
        } else {
            v = &vp->vms[vp->n_vms++];
            v->vm = vm;
            v->origin = origin;
            sset_init(&v->ports);
        }
        sset_add(&v->ports, p->name);
    }
    smap_destroy(&prev_errors);
}

/* The pinning policy's input: the VMs of 'vp' with their ports, in
 * datapath port order, and each port's pmd-rxq-affinity.  Release with
 * vmpin_policy_input_destroy(). */
struct vmpin_policy_input {
    struct fp_pin_vm *pvms;         /* One per VM of 'vp->vms'. */
    struct fp_pin_port *pports;     /* The VMs' ports, VM by VM. */
    size_t n_pports;
};

static void
vmpin_policy_input_init(struct dp_netdev_vmpin *vp,
                        const struct dp_netdev_vmpin_port *ports,
                        size_t n_ports, struct vmpin_policy_input *in)
    OVS_REQUIRES(vp->mutex)
{
    size_t n_vms = vp->n_vms;

    in->pvms = xcalloc(n_vms ? n_vms : 1, sizeof *in->pvms);
    in->pports = xcalloc(n_ports ? n_ports : 1, sizeof *in->pports);
    in->n_pports = 0;
    for (size_t v = 0; v < n_vms; v++) {
        struct vmpin_vm *vv = &vp->vms[v];

        fp_pin_vm_init(&in->pvms[v], &vv->vm);
        in->pvms[v].ports = &in->pports[in->n_pports];
        vv->port_names = xcalloc(sset_count(&vv->ports),
                                 sizeof *vv->port_names);
        for (size_t i = 0; i < n_ports; i++) {
            const struct dp_netdev_vmpin_port *p = &ports[i];
            struct fp_pin_port *pp;
            int *aff;

            if (!sset_contains(&vv->ports, p->name)) {
                continue;
            }
            aff = xmalloc((p->n_rxq ? p->n_rxq : 1) * sizeof *aff);
            for (unsigned int q = 0; q < p->n_rxq; q++) {
                aff[q] = p->affinity[q] == OVS_CORE_UNSPEC
                         ? -1 : (int) p->affinity[q];
            }
            pp = &in->pports[in->n_pports++];
            pp->name = p->name;
            pp->n_rxq = p->n_rxq;
            pp->rxq_affinity = aff;
            vv->port_names[vv->n_ports++] = sset_find(&vv->ports,
                                                      p->name)->name;
            in->pvms[v].n_ports++;
        }
    }
}

static void
vmpin_policy_input_destroy(struct vmpin_policy_input *in)
{
    for (size_t i = 0; i < in->n_pports; i++) {
        free(CONST_CAST(int *, in->pports[i].rxq_affinity));
    }
    free(in->pports);
    free(in->pvms);
}

/* Turns 'plan', computed for the VMs of 'pvms', into per-port assignments in
 * 'assigns'. */
static void
vmpin_plan_to_assigns(const struct fp_pin_plan *plan,
                      const struct fp_pin_vm *pvms, struct hmap *assigns)
{
    for (unsigned int i = 0; i < plan->n_rxqs; i++) {
        const struct fp_pin_rxq *r = &plan->rxqs[i];
        const struct fp_pin_port *pp = &pvms[r->vm].ports[r->port];
        struct vmpin_assign *a = vmpin_assign_find(assigns, pp->name);

        if (!a) {
            a = xzalloc(sizeof *a);
            a->port = xstrdup(pp->name);
            a->n_rxq = pp->n_rxq;
            a->cores = xmalloc((a->n_rxq ? a->n_rxq : 1) * sizeof *a->cores);
            for (unsigned int q = 0; q < a->n_rxq; q++) {
                a->cores[q] = -1;
            }
            hmap_insert(assigns, &a->node, hash_string(a->port, 0));
        }
        /* A queue the operator pinned keeps OVS's handling of
         * pmd-rxq-affinity. */
        if (r->rxq < a->n_rxq && !r->by_operator) {
            a->cores[r->rxq] = r->pmd;
        }
    }
}

/* Recomputes the plan.  Returns true if a queue's core changed. */
static bool
vmpin_compute(struct dp_netdev_vmpin *vp,
              const struct dp_netdev_vmpin_port *ports, size_t n_ports,
              const unsigned *pmd_cores, size_t n_pmds)
    OVS_REQUIRES(vp->mutex)
{
    struct hmap new = HMAP_INITIALIZER(&new);
    struct vmpin_policy_input in;
    struct fp_cpuset pmds;
    bool changed;
    int error;

    vmpin_last_clear(vp);
    vp->n_runs++;
    vp->last_run = time_msec();
    if (!vp->topo) {
        smap_clear(&vp->decl_errors);
        /* fp_topo_load() failed when the mode was set: nothing to do. */
        return vmpin_assigns_replace(vp, &new);
    }

    vmpin_group_vms(vp, ports, n_ports);
    vmpin_policy_input_init(vp, ports, n_ports, &in);

    fp_cpuset_zero(&pmds);
    for (size_t i = 0; i < n_pmds; i++) {
        fp_cpuset_set(&pmds, pmd_cores[i]);
    }
    error = fp_pin_plan_compute(vp->topo, &pmds, vp->mode, in.pvms,
                                vp->n_vms, &vp->plan);
    if (error) {
        VLOG_WARN_RL(&rl, "vm-pin: cannot compute a placement (%s); VMs' "
                     "queues stay on OVS's own scheduling",
                     ovs_strerror(-error));
        fp_pin_plan_fini(&vp->plan);
    } else {
        vmpin_plan_to_assigns(&vp->plan, in.pvms, &new);
        vmpin_log_conflicts(vp);
    }

    changed = vmpin_assigns_replace(vp, &new);
    hmap_destroy(&new);
    vmpin_policy_input_destroy(&in);
    return changed;
}

/* Returns false if vm-pin is off and has nothing to undo, so that the
 * caller need not gather its input. */
bool
dp_netdev_vmpin_active(struct dp_netdev_vmpin *vp)
{
    bool active;

    ovs_mutex_lock(&vp->mutex);
    active = vp->mode != FP_PIN_MODE_OFF || vp->n_vms
             || !hmap_is_empty(&vp->assigns) || !smap_is_empty(&vp->unbound)
             || !smap_is_empty(&vp->decl_errors);
    ovs_mutex_unlock(&vp->mutex);
    return active;
}

/* Looks at the VMs behind 'ports' again if something changed, if the
 * recheck interval passed or if a recheck was requested, and computes
 * where their queues go, among 'pmd_cores'.  Returns true if a queue's
 * core changed: the caller then reconfigures the datapath, and rxq
 * scheduling asks dp_netdev_vmpin_core().  Main thread. */
bool
dp_netdev_vmpin_run(struct dp_netdev_vmpin *vp,
                    const struct dp_netdev_vmpin_port *ports, size_t n_ports,
                    const unsigned *pmd_cores, size_t n_pmds)
{
    long long int now = time_msec();
    bool changed = false;
    uint32_t sig;

    ovs_mutex_lock(&vp->mutex);
    if (vp->mode == FP_PIN_MODE_OFF) {
        if (vp->n_vms || !hmap_is_empty(&vp->assigns)
            || !smap_is_empty(&vp->unbound)
            || !smap_is_empty(&vp->decl_errors)) {
            struct hmap none = HMAP_INITIALIZER(&none);

            vmpin_last_clear(vp);
            smap_clear(&vp->decl_errors);
            sset_clear(&vp->conflicts);
            changed = vmpin_assigns_replace(vp, &none);
            hmap_destroy(&none);
        }
        vp->have_sig = false;
        vp->requested = false;
        ovs_mutex_unlock(&vp->mutex);
        return changed;
    }

    sig = vmpin_signature(vp, ports, n_ports, pmd_cores, n_pmds);
    if (vp->requested || !vp->have_sig || sig != vp->last_sig
        || (vp->interval && now >= vp->next_check)) {
        vp->requested = false;
        vp->have_sig = true;
        vp->last_sig = sig;
        vp->next_check = now + vp->interval;
        changed = vmpin_compute(vp, ports, n_ports, pmd_cores, n_pmds);
    }
    ovs_mutex_unlock(&vp->mutex);
    return changed;
}

/* Wakes the main loop for a requested recheck, or when the recheck
 * interval ends.  Main thread. */
void
dp_netdev_vmpin_wait(struct dp_netdev_vmpin *vp)
{
    ovs_mutex_lock(&vp->mutex);
    if (vp->mode != FP_PIN_MODE_OFF) {
        if (vp->requested) {
            poll_immediate_wake();
        } else if (vp->interval && vp->have_sig) {
            poll_timer_wait_until(vp->next_check);
        }
    }
    ovs_mutex_unlock(&vp->mutex);
}

/* Returns the core that vm-pin assigned to rx queue 'qid' of 'port', or -1
 * if none.  Any thread. */
int
dp_netdev_vmpin_core(struct dp_netdev_vmpin *vp, const char *port,
                     unsigned int qid)
{
    const struct vmpin_assign *a;
    int core = -1;

    ovs_mutex_lock(&vp->mutex);
    a = vmpin_assign_find(&vp->assigns, port);
    if (a && qid < a->n_rxq) {
        core = a->cores[qid];
    }
    ovs_mutex_unlock(&vp->mutex);
    return core;
}

/* Returns true if vm-pin's mode isolates the PMDs that poll VMs' queues
 * (isolate or sibling).  Any thread. */
bool
dp_netdev_vmpin_isolating(struct dp_netdev_vmpin *vp)
{
    bool iso;

    ovs_mutex_lock(&vp->mutex);
    iso = vp->mode == FP_PIN_MODE_ISOLATE || vp->mode == FP_PIN_MODE_SIBLING;
    ovs_mutex_unlock(&vp->mutex);
    return iso;
}

static const struct dp_netdev_vmpin_port *
vmpin_port_find(const struct dp_netdev_vmpin_port *ports, size_t n,
                const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ports[i].name, name)) {
            return &ports[i];
        }
    }
    return NULL;
}

static void
vmpin_show_vm(const struct vmpin_vm *v, const struct fp_pin_plan *plan,
              size_t idx, const struct dp_netdev_vmpin_port *ports,
              size_t n_ports, struct ds *s)
{
    const struct fp_vm *vm = &v->vm;
    char buf[512];

    ds_put_format(s, "VM %s", vm->name);
    if (vm->pid) {
        ds_put_format(s, ", pid %d", (int) vm->pid);
    }
    ds_put_format(s, "\n  found as: %s\n", v->origin);
    ds_put_cstr(s, "  ports:");
    for (size_t i = 0; i < v->n_ports; i++) {
        ds_put_format(s, " %s", v->port_names[i]);
    }
    ds_put_char(s, '\n');

    fp_cpuset_format(&vm->vcpu_cpus, buf, sizeof buf);
    if (vm->n_vcpus) {
        ds_put_format(s, "  vCPUs: %u, on pCPUs %s\n", vm->n_vcpus,
                      buf[0] ? buf : "unknown");
    } else {
        ds_put_format(s, "  vCPUs: on pCPUs %s\n", buf[0] ? buf : "unknown");
    }
    for (unsigned int t = 0; t < vm->n_threads; t++) {
        const struct fp_vm_thread *th = &vm->threads[t];

        if (th->kind != FP_VM_THREAD_VCPU) {
            continue;
        }
        fp_cpuset_format(&th->affinity, buf, sizeof buf);
        ds_put_cstr(s, "    vCPU");
        if (th->vcpu >= 0) {
            ds_put_format(s, " %d", th->vcpu);
        }
        if (th->tid) {
            ds_put_format(s, " thread %d (%s)", (int) th->tid, th->comm);
        }
        ds_put_format(s, " -> pCPU %s\n", buf[0] ? buf : "any");
    }
    fp_cpuset_format(&vm->emulator_cpus, buf, sizeof buf);
    ds_put_format(s, "  emulator threads on pCPUs: %s\n",
                  buf[0] ? buf : "none seen");
    if (vm->numa_node >= 0) {
        ds_put_format(s, "  memory on NUMA node: %d%s\n", vm->numa_node,
                      vm->spans_nodes ? " (spans several nodes)" : "");
    } else {
        ds_put_cstr(s, "  memory on NUMA node: unknown\n");
    }

    if (!plan->vms || idx >= plan->n_vms) {
        return;
    }
    fp_cpuset_format(&plan->vms[idx].pmds, buf, sizeof buf);
    ds_put_format(s, "  PMD cores: %s\n", buf[0] ? buf : "OVS default");
    for (unsigned int i = 0; i < plan->n_rxqs; i++) {
        const struct fp_pin_rxq *r = &plan->rxqs[i];
        const struct dp_netdev_vmpin_port *p;
        int polled = -1;

        if (r->vm != idx) {
            continue;
        }
        p = vmpin_port_find(ports, n_ports, r->port_name);
        if (p && r->rxq < p->n_rxq && p->polled_by) {
            polled = p->polled_by[r->rxq];
        }
        ds_put_format(s, "  %s rxq %u: ", r->port_name, r->rxq);
        if (r->pmd == FP_PIN_PMD_DEFAULT) {
            ds_put_cstr(s, "OVS default");
        } else {
            ds_put_format(s, "core %d%s", r->pmd,
                          r->by_operator ? " (pmd-rxq-affinity)" : "");
        }
        if (polled >= 0) {
            ds_put_format(s, ", polled by core %d\n", polled);
        } else {
            ds_put_cstr(s, ", not polled yet\n");
        }
    }
}

/* Lists the values of 'map', sorted by key, under 'title'. */
static void
vmpin_show_smap(const struct smap *map, const char *title, struct ds *s)
{
    const struct smap_node **nodes;

    if (smap_is_empty(map)) {
        return;
    }
    nodes = smap_sort(map);
    ds_put_format(s, "%s:\n", title);
    for (size_t i = 0; i < smap_count(map); i++) {
        ds_put_format(s, "  %s\n", nodes[i]->value);
    }
    free(nodes);
}

/* Appends vm-pin's mode, plan, VMs and problems, for the ports 'ports', to
 * 's', for vm-pin/show.  Any thread. */
void
dp_netdev_vmpin_show(struct dp_netdev_vmpin *vp,
                     const struct dp_netdev_vmpin_port *ports,
                     size_t n_ports, struct ds *s)
{
    ovs_mutex_lock(&vp->mutex);
    ds_put_format(s, "vm-pin mode: %s\n", fp_pin_mode_name(vp->mode));
    vmpin_show_smap(&vp->cfg_errors, "configuration errors", s);
    if (vp->mode == FP_PIN_MODE_OFF) {
        ds_put_cstr(s, "VMs' queues follow OVS's own rxq scheduling; set "
                    "other_config:vm-pin to numa, isolate or sibling.\n");
        ovs_mutex_unlock(&vp->mutex);
        return;
    }
    if (!vp->topo) {
        ds_put_cstr(s, "the CPU topology could not be read from sysfs: "
                    "nothing is pinned\n");
    }
    if (vp->plan.n_vms || vp->n_runs) {
        char buf[512];

        fp_cpuset_format(&vp->plan.pmds, buf, sizeof buf);
        ds_put_format(s, "PMD cores: %s\n", buf[0] ? buf : "none");
    }
    if (vp->interval) {
        ds_put_format(s, "recheck every %lld ms; ", vp->interval);
    } else {
        ds_put_cstr(s, "no periodic recheck; ");
    }
    ds_put_format(s, "%"PRIu64" computations, %"PRIu64" queue moves",
                  vp->n_runs, vp->n_moves);
    if (vp->n_runs) {
        ds_put_format(s, ", last %lld ms ago",
                      time_msec() - vp->last_run);
    }
    ds_put_char(s, '\n');

    for (size_t i = 0; i < vp->n_vms; i++) {
        vmpin_show_vm(&vp->vms[i], &vp->plan, i, ports, n_ports, s);
    }
    vmpin_show_smap(&vp->decl_errors, "declarations not used", s);
    if (!smap_is_empty(&vp->unbound)) {
        const struct smap_node **nodes = smap_sort(&vp->unbound);

        ds_put_cstr(s, "vhost-user ports without a VM (OVS default):\n");
        for (size_t i = 0; i < smap_count(&vp->unbound); i++) {
            ds_put_format(s, "  %s: %s\n", nodes[i]->key, nodes[i]->value);
        }
        free(nodes);
    }
    if (vp->plan.n_conflicts) {
        ds_put_cstr(s, "conflicts:\n");
        for (unsigned int i = 0; i < vp->plan.n_conflicts; i++) {
            ds_put_format(s, "  %s: %s\n",
                          fp_pin_conflict_kind_name(
                              vp->plan.conflicts[i].kind),
                          vp->plan.conflicts[i].text);
        }
    } else if (vp->n_vms) {
        ds_put_cstr(s, "conflicts: none\n");
    }
    ovs_mutex_unlock(&vp->mutex);
}

/* Commands. */

static void
vmpin_show_dp(struct dp_netdev *dp, struct ds *reply, void *aux)
{
    dp_netdev_vmpin_show_dp(dp, *(const bool *) aux, reply);
}

static const struct dp_netdev_pmd_cmd vmpin_cmd_ops = {
    .dp_cb = vmpin_show_dp,
};

/* vm-pin/show and vm-pin/rebalance: 'aux' points to a bool, true for
 * rebalance. */
static void
vmpin_cmd(struct unixctl_conn *conn, int argc, const char *argv[], void *aux)
{
    dp_netdev_pmd_cmd_run(conn, argc, argv, &vmpin_cmd_ops, aux);
}

/* Registers ovs-appctl vm-pin/show and vm-pin/rebalance.  dpif-netdev
 * calls it once, at init. */
void
dp_netdev_vmpin_register_commands(void)
{
    static bool show = false, rebalance = true;

    unixctl_command_register("vm-pin/show", "[dp]", 0, 1, vmpin_cmd, &show);
    unixctl_command_register("vm-pin/rebalance", "[dp]", 0, 1, vmpin_cmd,
                             &rebalance);
}
