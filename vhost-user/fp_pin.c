/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_pin.h"
#include "fp_text.h"

static const char *const mode_names[] = {
	[FP_PIN_MODE_OFF] = "off",
	[FP_PIN_MODE_NUMA] = "numa",
	[FP_PIN_MODE_ISOLATE] = "isolate",
	[FP_PIN_MODE_SIBLING] = "sibling",
};

#define N_MODES (sizeof(mode_names) / sizeof(mode_names[0]))

int
fp_pin_mode_parse(const char *str, enum fp_pin_mode *mode, char *err,
		  size_t err_size)
{
	unsigned int i;

	for (i = 0; str != NULL && i < N_MODES; i++) {
		if (strcmp(str, mode_names[i]) == 0) {
			*mode = (enum fp_pin_mode)i;
			return 0;
		}
	}
	if (err != NULL && err_size > 0)
		snprintf(err, err_size, "vm-pin mode '%s' is not one of off, "
			 "numa, isolate, sibling", str ? str : "(null)");
	return -EINVAL;
}

const char *
fp_pin_mode_name(enum fp_pin_mode mode)
{
	if ((unsigned int)mode >= N_MODES)
		return "?";
	return mode_names[mode];
}

const char *
fp_pin_conflict_kind_name(enum fp_pin_conflict_kind kind)
{
	switch (kind) {
	case FP_PIN_CONFLICT_NO_PMD:
		return "no-pmd";
	case FP_PIN_CONFLICT_NODE_UNKNOWN:
		return "node-unknown";
	case FP_PIN_CONFLICT_SPANS_NODES:
		return "spans-nodes";
	case FP_PIN_CONFLICT_NO_PMD_ON_NODE:
		return "no-pmd-on-node";
	case FP_PIN_CONFLICT_PMD_ON_VCPU:
		return "pmd-on-vcpu";
	case FP_PIN_CONFLICT_SHARED_PMD:
		return "shared-pmd";
	case FP_PIN_CONFLICT_AFFINITY_NOT_PMD:
		return "affinity-not-pmd";
	case FP_PIN_CONFLICT_AFFINITY_ON_VCPU:
		return "affinity-on-vcpu";
	}
	return "?";
}

void
fp_pin_vm_init(struct fp_pin_vm *pv, const struct fp_vm *vm)
{
	uint64_t total = 0;
	int node;

	memset(pv, 0, sizeof(*pv));
	pv->name = vm->name;
	pv->vcpu_cpus = vm->vcpu_cpus;
	pv->numa_node = vm->numa_node;
	pv->spans_nodes = vm->spans_nodes;
	for (node = 0; node < FP_NUMA_MAX; node++)
		total += vm->node_kb[node];
	for (node = 0; node < FP_NUMA_MAX; node++)
		if (vm->node_kb[node] > 0 &&
		    vm->node_kb[node] * 100 >= total * FP_VM_SPAN_MIN_PERCENT)
			pv->mem_nodes |= UINT64_C(1) << node;
	if (pv->mem_nodes == 0 && vm->numa_node >= 0 && !vm->spans_nodes)
		pv->mem_nodes = UINT64_C(1) << vm->numa_node;
}

/* Per-VM working state of fp_pin_plan_compute(). */
struct vm_state {
	struct fp_cpuset cand;      /* PMDs it may use. */
	struct fp_cpuset chosen;    /* PMDs given to its queues. */
	struct fp_cpuset op_pmds;   /* PMDs its operator-pinned queues use. */
	struct fp_cpuset on_vcpu;   /* Node PMDs dropped as its vCPUs. */
	bool vcpu_forced;           /* Only its vCPU cores were left. */
	bool all_nodes;             /* Candidates not limited to a node. */
	int node;
	unsigned int demand;        /* Queues the policy places. */
	int *order;                 /* 'cand' by preference. */
	unsigned int n_order;
};

static int
add_conflict(struct fp_pin_plan *plan, enum fp_pin_conflict_kind kind,
	     int vm, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
add_conflict(struct fp_pin_plan *plan, enum fp_pin_conflict_kind kind,
	     int vm, const char *fmt, ...)
{
	struct fp_pin_conflict *c;
	va_list ap;

	c = realloc(plan->conflicts,
		    (plan->n_conflicts + 1) * sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	plan->conflicts = c;
	c = &c[plan->n_conflicts++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->vm = vm;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	return 0;
}

/* "core 3" or "cores 3,5-6". */
static const char *
cores(const struct fp_cpuset *set, char *buf, size_t size)
{
	char list[192];

	fp_cpuset_format(set, list, sizeof(list));
	snprintf(buf, size, "%s %s",
		 fp_cpuset_count(set) == 1 ? "core" : "cores", list);
	return buf;
}

/* "0,1" for a node mask. */
static const char *
node_list(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;
	int node, n;

	buf[0] = '\0';
	for (node = 0; node < 64 && len < size; node++) {
		if (!(mask & (UINT64_C(1) << node)))
			continue;
		n = snprintf(buf + len, size - len, "%s%d", len ? "," : "",
			     node);
		if (n < 0)
			break;
		len += n;
	}
	return buf;
}

/* Sibling-mode preference of a PMD for a VM: lower is better. */
struct pref {
	int cpu;
	int tier;  /* 0 SMT sibling, 1 same package, 2 same node, 3 other. */
	int dist;  /* Core id distance to the nearest such vCPU core. */
};

static int
compare_pref(const void *a, const void *b)
{
	const struct pref *x = a, *y = b;

	if (x->tier != y->tier)
		return x->tier - y->tier;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->cpu - y->cpu;
}

static struct pref
sibling_pref(const struct fp_topo *topo, int pmd,
	     const struct fp_cpuset *vcpus)
{
	const struct fp_topo_cpu *p = &topo->cpu[pmd], *v;
	struct pref pref = { .cpu = pmd, .tier = 3, .dist = INT_MAX };
	int cpu, tier, dist;

	for (cpu = fp_cpuset_next(vcpus, 0); cpu >= 0;
	     cpu = fp_cpuset_next(vcpus, cpu + 1)) {
		v = &topo->cpu[cpu];
		if (fp_cpuset_isset(&v->siblings, pmd))
			tier = 0;
		else if (p->package >= 0 && p->package == v->package)
			tier = 1;
		else if (p->node >= 0 && p->node == v->node)
			tier = 2;
		else
			tier = 3;
		if (tier == 0)
			dist = 0;
		else if (p->core_id >= 0 && v->core_id >= 0)
			dist = abs(p->core_id - v->core_id);
		else
			dist = INT_MAX;
		if (tier < pref.tier ||
		    (tier == pref.tier && dist < pref.dist)) {
			pref.tier = tier;
			pref.dist = dist;
		}
	}
	return pref;
}

/* Order a VM's candidate PMDs by preference. */
static int
order_candidates(const struct fp_topo *topo, enum fp_pin_mode mode,
		 const struct fp_pin_vm *vm, struct vm_state *st)
{
	unsigned int n = fp_cpuset_count(&st->cand), i = 0;
	struct pref *prefs;
	int cpu;

	st->order = calloc(n ? n : 1, sizeof(*st->order));
	prefs = calloc(n ? n : 1, sizeof(*prefs));
	if (st->order == NULL || prefs == NULL) {
		free(prefs);
		return -ENOMEM;
	}
	for (cpu = fp_cpuset_next(&st->cand, 0); cpu >= 0;
	     cpu = fp_cpuset_next(&st->cand, cpu + 1)) {
		if (mode == FP_PIN_MODE_SIBLING)
			prefs[i] = sibling_pref(topo, cpu, &vm->vcpu_cpus);
		else
			prefs[i] = (struct pref){ .cpu = cpu };
		i++;
	}
	qsort(prefs, n, sizeof(*prefs), compare_pref);
	for (i = 0; i < n; i++)
		st->order[i] = prefs[i].cpu;
	st->n_order = n;
	free(prefs);
	return 0;
}

/* Work out a VM's node and candidate PMDs, reporting what cannot be
 * kept. */
static int
choose_candidates(const struct fp_topo *topo, const struct fp_cpuset *pool,
		  const struct fp_pin_vm *vm, int index, struct vm_state *st,
		  struct fp_pin_plan *plan)
{
	struct fp_cpuset node_pmds, others;
	char a[256], b[256];
	unsigned int n_nodes;
	int ret = 0;

	fp_cpuset_zero(&node_pmds);
	st->node = vm->numa_node;
	if (st->node < 0 && !fp_cpuset_empty(&vm->vcpu_cpus))
		st->node = fp_topo_cpuset_node(topo, &vm->vcpu_cpus, &n_nodes);
	if (st->node >= 0 &&
	    (vm->spans_nodes || __builtin_popcountll(vm->mem_nodes) > 1)) {
		if (__builtin_popcountll(vm->mem_nodes) > 1)
			ret = add_conflict(plan, FP_PIN_CONFLICT_SPANS_NODES,
				index, "VM %s: memory spans NUMA nodes %s; "
				"using node %d (most memory)", vm->name,
				node_list(vm->mem_nodes, a, sizeof(a)),
				st->node);
		else
			ret = add_conflict(plan, FP_PIN_CONFLICT_SPANS_NODES,
				index, "VM %s: memory spans NUMA nodes; using "
				"node %d (most memory)", vm->name, st->node);
		if (ret < 0)
			return ret;
	}

	if (st->node < 0) {
		st->cand = *pool;
		st->all_nodes = true;
		ret = add_conflict(plan, FP_PIN_CONFLICT_NODE_UNKNOWN, index,
			"VM %s: NUMA node unknown; using PMD cores of all "
			"nodes", vm->name);
	} else {
		if (st->node < topo->n_nodes)
			fp_cpuset_and(&node_pmds, pool,
				      &topo->node_cpus[st->node]);
		if (fp_cpuset_empty(&node_pmds)) {
			st->cand = *pool;
			st->all_nodes = true;
			ret = add_conflict(plan,
				FP_PIN_CONFLICT_NO_PMD_ON_NODE, index,
				"VM %s: no PMD core on NUMA node %d; using "
				"PMD %s on other nodes", vm->name, st->node,
				cores(pool, a, sizeof(a)));
		} else {
			st->cand = node_pmds;
		}
	}
	if (ret < 0)
		return ret;

	/* Keep off the VM's own vCPU cores while anything else is left. */
	fp_cpuset_and(&st->on_vcpu, &st->cand, &vm->vcpu_cpus);
	if (fp_cpuset_empty(&st->on_vcpu))
		return 0;
	fp_cpuset_andnot(&st->cand, &st->cand, &vm->vcpu_cpus);
	if (!fp_cpuset_empty(&st->cand))
		return 0;
	fp_cpuset_andnot(&others, pool, &vm->vcpu_cpus);
	if (!fp_cpuset_empty(&others)) {
		st->cand = others;
		st->all_nodes = true;
		st->on_vcpu = (struct fp_cpuset){ { 0 } };
		return add_conflict(plan, FP_PIN_CONFLICT_PMD_ON_VCPU, index,
			"VM %s: every PMD core on node %d (%s) is one of its "
			"vCPU cores; using PMD %s on other nodes", vm->name,
			st->node, cores(&node_pmds, a, sizeof(a)),
			cores(&others, b, sizeof(b)));
	}
	st->cand = st->on_vcpu;
	st->vcpu_forced = true;
	return add_conflict(plan, FP_PIN_CONFLICT_PMD_ON_VCPU, index,
		"VM %s: every PMD core (%s) is one of its vCPU cores; "
		"polling from %s anyway", vm->name,
		cores(&st->on_vcpu, a, sizeof(a)),
		fp_cpuset_count(&st->on_vcpu) == 1 ? "it" : "them");
}

/* How many VMs other than 'self' use PMD 'cpu'. */
static unsigned int
vms_on(const struct vm_state *st, unsigned int n_vms, int cpu, int self)
{
	unsigned int v, n = 0;

	for (v = 0; v < n_vms; v++)
		if ((int)v != self &&
		    (fp_cpuset_isset(&st[v].chosen, cpu) ||
		     fp_cpuset_isset(&st[v].op_pmds, cpu)))
			n++;
	return n;
}

/* isolate/sibling: deal free PMDs round by round, then let VMs left
 * without one share the least loaded candidate. */
static int
allocate_isolated(const struct fp_pin_vm *vms, struct vm_state *st,
		  unsigned int n_vms, const unsigned int *load,
		  struct fp_pin_plan *plan)
{
	unsigned int v, w, i, n, best_vms, best_load, competing;
	bool progress;
	char a[256], with[192];
	size_t len;
	int cpu, best, ret;

	do {
		progress = false;
		for (v = 0; v < n_vms; v++) {
			if (st[v].demand <= fp_cpuset_count(&st[v].chosen))
				continue;
			for (i = 0; i < st[v].n_order; i++) {
				cpu = st[v].order[i];
				if (fp_cpuset_isset(&st[v].chosen, cpu) ||
				    vms_on(st, n_vms, cpu, (int)v) > 0)
					continue;
				fp_cpuset_set(&st[v].chosen, cpu);
				progress = true;
				break;
			}
		}
	} while (progress);

	for (v = 0; v < n_vms; v++) {
		if (st[v].demand == 0 || !fp_cpuset_empty(&st[v].chosen) ||
		    st[v].n_order == 0)
			continue;
		best = -1;
		best_vms = best_load = UINT_MAX;
		for (i = 0; i < st[v].n_order; i++) {
			unsigned int nv, ld = load[st[v].order[i]];

			cpu = st[v].order[i];
			nv = vms_on(st, n_vms, cpu, (int)v);
			for (w = 0; w < n_vms; w++)
				if (fp_cpuset_isset(&st[w].chosen, cpu))
					ld += st[w].demand;
			if (nv < best_vms ||
			    (nv == best_vms && ld < best_load)) {
				best = cpu;
				best_vms = nv;
				best_load = ld;
			}
		}
		with[0] = '\0';
		len = 0;
		for (w = 0; w < n_vms; w++) {
			if (w == v || !(fp_cpuset_isset(&st[w].chosen, best) ||
					fp_cpuset_isset(&st[w].op_pmds, best)))
				continue;
			n = snprintf(with + len, sizeof(with) - len, "%s%s",
				     len ? ", " : "", vms[w].name);
			len = len + n < sizeof(with) ? len + n
						     : sizeof(with) - 1;
		}
		competing = 0;
		for (w = 0; w < n_vms; w++) {
			struct fp_cpuset common;

			fp_cpuset_and(&common, &st[w].cand, &st[v].cand);
			if (st[w].demand > 0 && !fp_cpuset_empty(&common))
				competing++;
		}
		fp_cpuset_set(&st[v].chosen, best);
		if (st[v].all_nodes)
			snprintf(a, sizeof(a), "%u PMD %s",
				 fp_cpuset_count(&st[v].cand),
				 fp_cpuset_count(&st[v].cand) == 1 ?
				 "core" : "cores");
		else
			snprintf(a, sizeof(a), "%u PMD %s on node %d",
				 fp_cpuset_count(&st[v].cand),
				 fp_cpuset_count(&st[v].cand) == 1 ?
				 "core" : "cores", st[v].node);
		ret = add_conflict(plan, FP_PIN_CONFLICT_SHARED_PMD, (int)v,
			"%u VMs to isolate but %s: %s shares core %d with %s",
			competing, a, vms[v].name, best,
			with[0] ? with : "another VM");
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
add_rxq(struct fp_pin_plan *plan, unsigned int vm, unsigned int port,
	unsigned int rxq, const char *port_name, int pmd, bool by_operator)
{
	struct fp_pin_rxq *q = &plan->rxqs[plan->n_rxqs++];

	memset(q, 0, sizeof(*q));
	q->vm = vm;
	q->port = port;
	q->rxq = rxq;
	snprintf(q->port_name, sizeof(q->port_name), "%s", port_name);
	q->pmd = pmd;
	q->by_operator = by_operator;
	return 0;
}

/* Stable sort of conflicts by VM, global ones (-1) first. */
static void
sort_conflicts(struct fp_pin_plan *plan)
{
	struct fp_pin_conflict tmp;
	unsigned int i, j;

	for (i = 1; i < plan->n_conflicts; i++) {
		tmp = plan->conflicts[i];
		for (j = i; j > 0 && plan->conflicts[j - 1].vm > tmp.vm; j--)
			plan->conflicts[j] = plan->conflicts[j - 1];
		plan->conflicts[j] = tmp;
	}
}

static int
affinity_of(const struct fp_pin_port *port, unsigned int rxq)
{
	if (port->rxq_affinity == NULL)
		return -1;
	return port->rxq_affinity[rxq];
}

/* Checks the policy's input and counts its rx queues in 'total'. */
static int
check_input(const struct fp_topo *topo, const struct fp_cpuset *pmds,
	    enum fp_pin_mode mode, const struct fp_pin_vm *vms,
	    unsigned int n_vms, unsigned int *total)
{
	unsigned int v, p;

	*total = 0;
	if (topo == NULL || pmds == NULL || (unsigned int)mode >= N_MODES ||
	    (vms == NULL && n_vms > 0))
		return -EINVAL;
	for (v = 0; v < n_vms; v++) {
		if (vms[v].name == NULL || vms[v].numa_node >= FP_NUMA_MAX ||
		    (vms[v].ports == NULL && vms[v].n_ports > 0))
			return -EINVAL;
		for (p = 0; p < vms[v].n_ports; p++) {
			if (vms[v].ports[p].name == NULL)
				return -EINVAL;
			*total += vms[v].ports[p].n_rxq;
		}
	}
	return 0;
}

/* Operator affinities win, in every mode: counts each pinned queue in
 * 'load' and its VM's 'op_pmds', and each other queue in its VM's
 * 'demand'. With 'decide', says which pins are not on a PMD or are on the
 * VM's own vCPU cores. */
static int
apply_affinities(const struct fp_cpuset *pmds, bool decide,
		 const struct fp_pin_vm *vms, unsigned int n_vms,
		 struct vm_state *st, unsigned int *load,
		 struct fp_pin_plan *plan)
{
	const struct fp_pin_port *port;
	unsigned int v, p, q;
	int ret = 0, aff;

	for (v = 0; v < n_vms; v++) {
		for (p = 0; p < vms[v].n_ports; p++) {
			port = &vms[v].ports[p];
			for (q = 0; q < port->n_rxq; q++) {
				aff = affinity_of(port, q);
				if (aff < 0) {
					st[v].demand++;
					continue;
				}
				if (aff >= FP_CPU_MAX)
					return -EINVAL;
				load[aff]++;
				if (!decide)
					continue;
				if (!fp_cpuset_isset(pmds, aff))
					ret = add_conflict(plan,
						FP_PIN_CONFLICT_AFFINITY_NOT_PMD,
						(int)v, "VM %s: port %s rxq %u: "
						"pmd-rxq-affinity core %d is "
						"not a PMD core; kept as the "
						"operator asked", vms[v].name,
						port->name, q, aff);
				else if (fp_cpuset_isset(&vms[v].vcpu_cpus,
							 aff))
					ret = add_conflict(plan,
						FP_PIN_CONFLICT_AFFINITY_ON_VCPU,
						(int)v, "VM %s: port %s rxq %u: "
						"pmd-rxq-affinity core %d is "
						"one of its vCPU cores; kept as "
						"the operator asked",
						vms[v].name, port->name, q,
						aff);
				if (ret < 0)
					return ret;
				if (fp_cpuset_isset(pmds, aff))
					fp_cpuset_set(&st[v].op_pmds, aff);
			}
		}
	}
	return 0;
}

/* Chooses each VM's PMDs ('chosen'): in numa mode all its candidates, in
 * isolate mode cores of its own where there are enough. */
static int
choose_pmds(const struct fp_topo *topo, const struct fp_cpuset *pmds,
	    enum fp_pin_mode mode, const struct fp_pin_vm *vms,
	    unsigned int n_vms, struct vm_state *st, unsigned int *load,
	    struct fp_pin_plan *plan)
{
	unsigned int v;
	int ret;

	for (v = 0; v < n_vms; v++) {
		ret = choose_candidates(topo, pmds, &vms[v], (int)v, &st[v],
					plan);
		if (ret == 0)
			ret = order_candidates(topo, mode, &vms[v], &st[v]);
		if (ret < 0)
			return ret;
	}
	if (mode != FP_PIN_MODE_NUMA)
		return allocate_isolated(vms, st, n_vms, load, plan);
	for (v = 0; v < n_vms; v++)
		if (st[v].demand > 0)
			st[v].chosen = st[v].cand;
	return 0;
}

/* Says which of VM 'v''s vCPU cores were kept clear of its PMDs. */
static int
report_vcpus_kept_clear(const struct fp_pin_vm *vm, unsigned int v,
			const struct vm_state *st, struct fp_pin_plan *plan)
{
	char a[256], b[256];

	if (st->demand == 0 || st->vcpu_forced ||
	    fp_cpuset_empty(&st->on_vcpu))
		return 0;
	return add_conflict(plan, FP_PIN_CONFLICT_PMD_ON_VCPU, (int)v,
		"VM %s: PMD %s %s its vCPU cores; using %s instead", vm->name,
		cores(&st->on_vcpu, a, sizeof(a)),
		fp_cpuset_count(&st->on_vcpu) == 1 ? "is one of" : "are among",
		cores(&st->chosen, b, sizeof(b)));
}

/* The PMD for a VM's next unpinned queue: round-robin over its chosen
 * PMDs, fewest of its queues ('mine') first, then least loaded, then the
 * preferred. FP_PIN_PMD_DEFAULT if it has none. */
static int
pick_pmd(const struct vm_state *st, const unsigned int *mine,
	 const unsigned int *load)
{
	int best = FP_PIN_PMD_DEFAULT, cpu;
	unsigned int i;

	for (i = 0; i < st->n_order; i++) {
		cpu = st->order[i];
		if (!fp_cpuset_isset(&st->chosen, cpu))
			continue;
		if (best < 0 || mine[cpu] < mine[best] ||
		    (mine[cpu] == mine[best] && load[cpu] < load[best]))
			best = cpu;
	}
	return best;
}

/* Places the rx queues of VM 'v': pinned ones where the operator said,
 * the others with pick_pmd() if 'decide', else to OVS's default. */
static void
place_rxqs(const struct fp_pin_vm *vm, unsigned int v,
	   const struct vm_state *st, bool decide, unsigned int *load,
	   unsigned int *mine, struct fp_pin_plan *plan)
{
	const struct fp_pin_port *port;
	unsigned int p, q;
	int aff, best;

	memset(mine, 0, FP_CPU_MAX * sizeof(*mine));
	for (p = 0; p < vm->n_ports; p++) {
		port = &vm->ports[p];
		for (q = 0; q < port->n_rxq; q++) {
			aff = affinity_of(port, q);
			if (aff >= 0) {
				add_rxq(plan, v, p, q, port->name, aff, true);
				continue;
			}
			best = decide ? pick_pmd(st, mine, load)
				      : FP_PIN_PMD_DEFAULT;
			if (best >= 0) {
				mine[best]++;
				load[best]++;
			}
			add_rxq(plan, v, p, q, port->name, best, false);
		}
	}
}

int
fp_pin_plan_compute(const struct fp_topo *topo, const struct fp_cpuset *pmds,
		    enum fp_pin_mode mode, const struct fp_pin_vm *vms,
		    unsigned int n_vms, struct fp_pin_plan *plan)
{
	unsigned int *load = NULL, *mine = NULL;
	struct vm_state *st = NULL;
	unsigned int v, total;
	bool decide;
	int ret;

	memset(plan, 0, sizeof(*plan));
	ret = check_input(topo, pmds, mode, vms, n_vms, &total);
	if (ret < 0)
		return ret;
	plan->mode = mode;
	plan->pmds = *pmds;
	plan->n_vms = n_vms;
	plan->vms = calloc(n_vms ? n_vms : 1, sizeof(*plan->vms));
	plan->rxqs = calloc(total ? total : 1, sizeof(*plan->rxqs));
	st = calloc(n_vms ? n_vms : 1, sizeof(*st));
	load = calloc(FP_CPU_MAX, sizeof(*load));
	mine = calloc(FP_CPU_MAX, sizeof(*mine));
	if (plan->vms == NULL || plan->rxqs == NULL || st == NULL ||
	    load == NULL || mine == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (v = 0; v < n_vms; v++) {
		snprintf(plan->vms[v].name, sizeof(plan->vms[v].name), "%s",
			 vms[v].name);
		plan->vms[v].numa_node = vms[v].numa_node;
		plan->vms[v].vcpu_cpus = vms[v].vcpu_cpus;
	}
	decide = mode != FP_PIN_MODE_OFF && !fp_cpuset_empty(pmds);
	if (mode != FP_PIN_MODE_OFF && !decide && total > 0) {
		ret = add_conflict(plan, FP_PIN_CONFLICT_NO_PMD, -1,
			"no PMD cores (pmd-cpu-mask is empty); every queue "
			"is left to OVS");
		if (ret < 0)
			goto out;
	}

	ret = apply_affinities(pmds, decide, vms, n_vms, st, load, plan);
	if (ret == 0 && decide)
		ret = choose_pmds(topo, pmds, mode, vms, n_vms, st, load, plan);
	if (ret < 0)
		goto out;

	for (v = 0; v < n_vms; v++) {
		if (decide) {
			ret = report_vcpus_kept_clear(&vms[v], v, &st[v],
						      plan);
			if (ret < 0)
				goto out;
		}
		plan->vms[v].numa_node = decide ? st[v].node
						: vms[v].numa_node;
		plan->vms[v].pmds = st[v].chosen;
		fp_cpuset_or(&plan->vms[v].pmds, &plan->vms[v].pmds,
			     &st[v].op_pmds);
		place_rxqs(&vms[v], v, &st[v], decide, load, mine, plan);
	}
	sort_conflicts(plan);
out:
	if (st != NULL)
		for (v = 0; v < n_vms; v++)
			free(st[v].order);
	free(st);
	free(load);
	free(mine);
	return ret;
}

int
fp_pin_plan_pmd(const struct fp_pin_plan *plan, unsigned int vm,
		unsigned int port, unsigned int rxq)
{
	unsigned int i;

	for (i = 0; i < plan->n_rxqs; i++) {
		const struct fp_pin_rxq *q = &plan->rxqs[i];

		if (q->vm == vm && q->port == port && q->rxq == rxq)
			return q->pmd;
	}
	return -ENOENT;
}

int
fp_pin_plan_format(const struct fp_pin_plan *plan, char *buf, size_t size)
{
	char a[256], b[256];
	unsigned int v, i;
	size_t len = 0;

	if (size > 0)
		buf[0] = '\0';
	fp_cpuset_format(&plan->pmds, a, sizeof(a));
	fp_text_append(buf, size, &len, "vm-pin mode %s, PMD cores %s\n",
	       fp_pin_mode_name(plan->mode), a[0] ? a : "none");
	for (v = 0; v < plan->n_vms; v++) {
		const struct fp_pin_plan_vm *vm = &plan->vms[v];

		fp_cpuset_format(&vm->vcpu_cpus, a, sizeof(a));
		fp_cpuset_format(&vm->pmds, b, sizeof(b));
		if (vm->numa_node >= 0)
			fp_text_append(buf, size, &len, "VM %s: node %d, "
			       "vCPUs on %s, PMD cores %s\n", vm->name,
			       vm->numa_node,
			       a[0] ? a : "unknown", b[0] ? b : "OVS default");
		else
			fp_text_append(buf, size, &len, "VM %s: node "
			       "unknown, vCPUs on %s, PMD cores %s\n", vm->name,
			       a[0] ? a : "unknown", b[0] ? b : "OVS default");
		for (i = 0; i < plan->n_rxqs; i++) {
			const struct fp_pin_rxq *q = &plan->rxqs[i];

			if (q->vm != v)
				continue;
			if (q->pmd == FP_PIN_PMD_DEFAULT)
				fp_text_append(buf, size, &len, "  %s rxq %u: "
				       "OVS default\n", q->port_name, q->rxq);
			else
				fp_text_append(buf, size, &len, "  %s rxq %u: "
				       "core %d%s\n", q->port_name, q->rxq,
				       q->pmd, q->by_operator ?
				       " (pmd-rxq-affinity)" : "");
		}
	}
	if (plan->n_conflicts > 0)
		fp_text_append(buf, size, &len, "conflicts:\n");
	for (i = 0; i < plan->n_conflicts; i++)
		fp_text_append(buf, size, &len, "  %s: %s\n",
		       fp_pin_conflict_kind_name(plan->conflicts[i].kind),
		       plan->conflicts[i].text);
	return (int)len;
}

void
fp_pin_plan_fini(struct fp_pin_plan *plan)
{
	if (plan == NULL)
		return;
	free(plan->vms);
	free(plan->rxqs);
	free(plan->conflicts);
	memset(plan, 0, sizeof(*plan));
}
