/* SPDX-License-Identifier: Apache-2.0 */

/* Tests of the PMD pinning policy (fp_pin): exact placements in each
 * mode on a fake 2-node SMT host and a 1-node 2-core host, and the
 * conflicts reported when a rule cannot be kept. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fp_pin.h"
#include "fp_topo.h"
#include "fp_vm.h"
#include "fp_test_fakefs.h"

/* The 2-node host: node 0 = CPUs 0-7,16-23; node 1 = 8-15,24-31; CPU c
 * and c+16 are SMT siblings. */
static struct fp_topo *two_nodes;
/* The 1-node host: CPUs 0 and 1. */
static struct fp_topo *one_node;

static int
load_hosts(void **state)
{
	char *root2 = fake_root_new(), *root1 = fake_root_new();
	int ret = -1;

	(void)state;
	if (root2 != NULL && root1 != NULL &&
	    fake_sysfs_2node_smt(root2, "") == 0 &&
	    fake_sysfs_1node_2cpu(root1) == 0 &&
	    fp_topo_load(root2, &two_nodes) == 0 &&
	    fp_topo_load(root1, &one_node) == 0)
		ret = 0;
	fake_root_free(root2);
	fake_root_free(root1);
	return ret;
}

static int
free_hosts(void **state)
{
	(void)state;
	fp_topo_free(two_nodes);
	fp_topo_free(one_node);
	return 0;
}

static struct fp_cpuset
cpus(const char *list)
{
	struct fp_cpuset set;

	assert_int_equal(fp_cpuset_parse(list, &set), 0);
	return set;
}

static struct fp_pin_vm
vm_on(const char *name, const char *vcpus, int node,
      const struct fp_pin_port *ports, unsigned int n_ports)
{
	struct fp_pin_vm vm;

	memset(&vm, 0, sizeof(vm));
	vm.name = name;
	vm.vcpu_cpus = cpus(vcpus);
	vm.numa_node = node;
	vm.mem_nodes = node >= 0 ? UINT64_C(1) << node : 0;
	vm.ports = ports;
	vm.n_ports = n_ports;
	return vm;
}

static void
assert_pmds(const struct fp_pin_plan *plan, unsigned int vm,
	    unsigned int port, const int *want, unsigned int n)
{
	unsigned int q;

	for (q = 0; q < n; q++)
		assert_int_equal(fp_pin_plan_pmd(plan, vm, port, q), want[q]);
	assert_int_equal(fp_pin_plan_pmd(plan, vm, port, n), -ENOENT);
}

static void
test_mode_parse_accepts_names_and_rejects_others(void **state)
{
	enum fp_pin_mode mode = FP_PIN_MODE_OFF;
	char err[128] = "";

	(void)state;
	assert_int_equal(fp_pin_mode_parse("sibling", &mode, err,
					   sizeof(err)), 0);
	assert_int_equal(mode, FP_PIN_MODE_SIBLING);
	assert_int_equal(fp_pin_mode_parse("off", &mode, err, sizeof(err)), 0);
	assert_int_equal(mode, FP_PIN_MODE_OFF);
	assert_string_equal(fp_pin_mode_name(FP_PIN_MODE_ISOLATE), "isolate");
	assert_int_equal(fp_pin_mode_parse("Numa", &mode, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "vm-pin mode 'Numa' is not one of off, "
			    "numa, isolate, sibling");
	assert_int_equal(mode, FP_PIN_MODE_OFF);
	assert_int_equal(fp_pin_mode_parse(NULL, &mode, NULL, 0), -EINVAL);
}

static void
test_numa_mode_keeps_each_vm_on_its_node(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 2, NULL } };
	static const struct fp_pin_port p2[] = { { "vhu2", 3, NULL } };
	static const int want1[] = { 2, 3 }, want2[] = { 10, 11, 10 };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2-3,10-11");

	(void)state;
	vms[0] = vm_on("vm1", "4-5", 0, p1, 1);
	vms[1] = vm_on("vm2", "12-13", 1, p2, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_NUMA, vms, 2, &plan), 0);
	assert_pmds(&plan, 0, 0, want1, 2);
	assert_pmds(&plan, 1, 0, want2, 3);
	assert_int_equal(plan.n_conflicts, 0);
	fp_pin_plan_fini(&plan);
}

static void
test_numa_mode_balances_vms_sharing_a_node(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	static const struct fp_pin_port p2[] = { { "vhu2", 1, NULL } };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2-3,10-11");

	(void)state;
	vms[0] = vm_on("vm1", "4", 0, p1, 1);
	vms[1] = vm_on("vm2", "5", 0, p2, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_NUMA, vms, 2, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 2);
	assert_int_equal(fp_pin_plan_pmd(&plan, 1, 0, 0), 3);
	fp_pin_plan_fini(&plan);
}

static void
test_isolate_mode_gives_each_vm_its_own_pmds(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 2, NULL } };
	static const struct fp_pin_port p2[] = { { "vhu2", 2, NULL } };
	static const int want1[] = { 2, 4 }, want2[] = { 3, 3 };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2-4");
	char list[64];

	(void)state;
	vms[0] = vm_on("vm1", "6", 0, p1, 1);
	vms[1] = vm_on("vm2", "7", 0, p2, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, vms, 2, &plan), 0);
	assert_pmds(&plan, 0, 0, want1, 2);
	assert_pmds(&plan, 1, 0, want2, 2);
	fp_cpuset_format(&plan.vms[0].pmds, list, sizeof(list));
	assert_string_equal(list, "2,4");
	assert_int_equal(plan.n_conflicts, 0);
	fp_pin_plan_fini(&plan);
}

static void
test_isolate_with_fewer_pmds_than_vms_shares_least_loaded(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	static const struct fp_pin_port p2[] = { { "vhu2", 2, NULL } };
	static const struct fp_pin_port p3[] = { { "vhu3", 1, NULL } };
	struct fp_pin_vm vms[3];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2-3");

	(void)state;
	vms[0] = vm_on("vm1", "4", 0, p1, 1);
	vms[1] = vm_on("vm2", "5", 0, p2, 1);
	vms[2] = vm_on("vm3", "6", 0, p3, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, vms, 3, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 2);
	assert_int_equal(fp_pin_plan_pmd(&plan, 1, 0, 0), 3);
	assert_int_equal(fp_pin_plan_pmd(&plan, 1, 0, 1), 3);
	assert_int_equal(fp_pin_plan_pmd(&plan, 2, 0, 0), 2);
	assert_int_equal(plan.n_conflicts, 1);
	assert_int_equal(plan.conflicts[0].kind, FP_PIN_CONFLICT_SHARED_PMD);
	assert_int_equal(plan.conflicts[0].vm, 2);
	assert_string_equal(plan.conflicts[0].text, "3 VMs to isolate but 2 "
			    "PMD cores on node 0: vm3 shares core 2 with vm1");
	fp_pin_plan_fini(&plan);
}

static void
test_single_node_host_isolate_shares_its_one_pmd(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	static const struct fp_pin_port p2[] = { { "vhu2", 1, NULL } };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("1");

	(void)state;
	vms[0] = vm_on("vm1", "0", -1, p1, 1);
	vms[1] = vm_on("vm2", "0", -1, p2, 1);
	assert_int_equal(fp_pin_plan_compute(one_node, &pmds,
		FP_PIN_MODE_ISOLATE, vms, 2, &plan), 0);
	/* Unknown node derived from the vCPUs: node 0. */
	assert_int_equal(plan.vms[0].numa_node, 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 1);
	assert_int_equal(fp_pin_plan_pmd(&plan, 1, 0, 0), 1);
	assert_int_equal(plan.n_conflicts, 1);
	assert_string_equal(plan.conflicts[0].text, "2 VMs to isolate but 1 "
			    "PMD core on node 0: vm2 shares core 1 with vm1");
	fp_pin_plan_fini(&plan);
}

static void
test_pmd_on_own_vcpu_is_avoided(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 2, NULL } };
	static const int want[] = { 5, 5 };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("3,5");

	(void)state;
	vm = vm_on("vm1", "3,6", 0, p1, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_NUMA, &vm, 1, &plan), 0);
	assert_pmds(&plan, 0, 0, want, 2);
	assert_int_equal(plan.n_conflicts, 1);
	assert_int_equal(plan.conflicts[0].kind, FP_PIN_CONFLICT_PMD_ON_VCPU);
	assert_string_equal(plan.conflicts[0].text, "VM vm1: PMD core 3 is "
			    "one of its vCPU cores; using core 5 instead");
	fp_pin_plan_fini(&plan);
}

static void
test_pmd_on_own_vcpu_moves_to_other_node_when_needed(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2,10");

	(void)state;
	vm = vm_on("vm1", "2", 0, p1, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, &vm, 1, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 10);
	assert_int_equal(plan.n_conflicts, 1);
	assert_string_equal(plan.conflicts[0].text, "VM vm1: every PMD core "
			    "on node 0 (core 2) is one of its vCPU cores; "
			    "using PMD core 10 on other nodes");
	fp_pin_plan_fini(&plan);
}

static void
test_pmd_on_own_vcpu_kept_when_nothing_else(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 2, NULL } };
	static const int want[] = { 0, 1 };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("0-1");

	(void)state;
	vm = vm_on("vm1", "0-1", 0, p1, 1);
	assert_int_equal(fp_pin_plan_compute(one_node, &pmds,
		FP_PIN_MODE_SIBLING, &vm, 1, &plan), 0);
	assert_pmds(&plan, 0, 0, want, 2);
	assert_int_equal(plan.n_conflicts, 1);
	assert_string_equal(plan.conflicts[0].text, "VM vm1: every PMD core "
			    "(cores 0-1) is one of its vCPU cores; polling "
			    "from them anyway");
	fp_pin_plan_fini(&plan);
}

static void
test_vm_spanning_nodes_uses_node_with_most_memory(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2,10");

	(void)state;
	vm = vm_on("vm2", "12-13", 1, p1, 1);
	vm.spans_nodes = true;
	vm.mem_nodes = 3;
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, &vm, 1, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 10);
	assert_int_equal(plan.n_conflicts, 1);
	assert_int_equal(plan.conflicts[0].kind, FP_PIN_CONFLICT_SPANS_NODES);
	assert_string_equal(plan.conflicts[0].text, "VM vm2: memory spans "
			    "NUMA nodes 0,1; using node 1 (most memory)");
	fp_pin_plan_fini(&plan);
}

static void
test_no_pmd_on_vm_node_uses_other_nodes(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 2, NULL } };
	static const int want[] = { 2, 3 };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2-3");

	(void)state;
	vm = vm_on("vm2", "12", 1, p1, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_NUMA, &vm, 1, &plan), 0);
	assert_pmds(&plan, 0, 0, want, 2);
	assert_int_equal(plan.n_conflicts, 1);
	assert_string_equal(plan.conflicts[0].text, "VM vm2: no PMD core on "
			    "NUMA node 1; using PMD cores 2-3 on other nodes");
	fp_pin_plan_fini(&plan);
}

static void
test_sibling_mode_prefers_smt_siblings_then_nearest(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	static const struct fp_pin_port p2[] = { { "vhu2", 2, NULL } };
	static const int want2[] = { 23, 6 };
	static const int iso2[] = { 6, 20 };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2,6,20,23");

	(void)state;
	/* vm1 runs on CPU 4, whose sibling is 20; vm2 on 7 (sibling 23),
	 * and core 6 is nearest to core 7. */
	vms[0] = vm_on("vm1", "4", 0, p1, 1);
	vms[1] = vm_on("vm2", "7", 0, p2, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_SIBLING, vms, 2, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 20);
	assert_pmds(&plan, 1, 0, want2, 2);
	assert_int_equal(plan.n_conflicts, 0);
	fp_pin_plan_fini(&plan);

	/* isolate ignores SMT: lowest free cores. */
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, vms, 2, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 2);
	assert_pmds(&plan, 1, 0, iso2, 2);
	fp_pin_plan_fini(&plan);
}

static void
test_operator_affinity_always_wins(void **state)
{
	static const int aff1[] = { -1, 11, 30 };
	static const struct fp_pin_port p1[] = { { "vhu1", 3, aff1 } };
	static const struct fp_pin_port p2[] = { { "vhu2", 1, NULL } };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2,10-11");

	(void)state;
	vms[0] = vm_on("vm1", "4", 0, p1, 1);
	vms[1] = vm_on("vm2", "12", 1, p2, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, vms, 2, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), 2);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 1), 11);
	assert_true(plan.rxqs[1].by_operator);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 2), 30);
	/* Core 11 polls vm1's pinned queue, so vm2 is kept off it. */
	assert_int_equal(fp_pin_plan_pmd(&plan, 1, 0, 0), 10);
	assert_int_equal(plan.n_conflicts, 1);
	assert_int_equal(plan.conflicts[0].kind,
			 FP_PIN_CONFLICT_AFFINITY_NOT_PMD);
	assert_string_equal(plan.conflicts[0].text, "VM vm1: port vhu1 rxq 2: "
			    "pmd-rxq-affinity core 30 is not a PMD core; kept "
			    "as the operator asked");
	fp_pin_plan_fini(&plan);

	/* Even in mode off. */
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_OFF, vms, 2, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), FP_PIN_PMD_DEFAULT);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 1), 11);
	assert_int_equal(fp_pin_plan_pmd(&plan, 1, 0, 0), FP_PIN_PMD_DEFAULT);
	assert_int_equal(plan.n_conflicts, 0);
	fp_pin_plan_fini(&plan);
}

static void
test_empty_pmd_pool_leaves_everything_to_ovs(void **state)
{
	static const struct fp_pin_port p1[] = { { "vhu1", 1, NULL } };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("");

	(void)state;
	vm = vm_on("vm1", "4", 0, p1, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_NUMA, &vm, 1, &plan), 0);
	assert_int_equal(fp_pin_plan_pmd(&plan, 0, 0, 0), FP_PIN_PMD_DEFAULT);
	assert_int_equal(plan.n_conflicts, 1);
	assert_int_equal(plan.conflicts[0].kind, FP_PIN_CONFLICT_NO_PMD);
	assert_int_equal(plan.conflicts[0].vm, -1);
	fp_pin_plan_fini(&plan);
}

static void
test_bad_arguments_are_einval(void **state)
{
	static const struct fp_pin_port nameless[] = { { NULL, 1, NULL } };
	struct fp_pin_vm vm;
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2");

	(void)state;
	vm = vm_on("vm1", "4", 0, nameless, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_NUMA, &vm, 1, &plan), -EINVAL);
	fp_pin_plan_fini(&plan);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		(enum fp_pin_mode)7, NULL, 0, &plan), -EINVAL);
	fp_pin_plan_fini(&plan);
}

static void
test_plan_format_renders_placements_and_conflicts(void **state)
{
	static const int aff1[] = { -1, 3 };
	static const struct fp_pin_port p1[] = { { "vhu1", 2, aff1 } };
	static const struct fp_pin_port p2[] = { { "vhu2", 1, NULL } };
	struct fp_pin_vm vms[2];
	struct fp_pin_plan plan;
	struct fp_cpuset pmds = cpus("2-3");
	char text[1024];
	int len;

	(void)state;
	vms[0] = vm_on("vm1", "4-5", 0, p1, 1);
	vms[1] = vm_on("vm2", "6", 0, p2, 1);
	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_ISOLATE, vms, 2, &plan), 0);
	len = fp_pin_plan_format(&plan, text, sizeof(text));
	assert_int_equal(len, (int)strlen(text));
	assert_string_equal(text,
		"vm-pin mode isolate, PMD cores 2-3\n"
		"VM vm1: node 0, vCPUs on 4-5, PMD cores 2-3\n"
		"  vhu1 rxq 0: core 2\n"
		"  vhu1 rxq 1: core 3 (pmd-rxq-affinity)\n"
		"VM vm2: node 0, vCPUs on 6, PMD cores 2\n"
		"  vhu2 rxq 0: core 2\n"
		"conflicts:\n"
		"  shared-pmd: 2 VMs to isolate but 2 PMD cores on node 0: "
		"vm2 shares core 2 with vm1\n");
	fp_pin_plan_fini(&plan);

	assert_int_equal(fp_pin_plan_compute(two_nodes, &pmds,
		FP_PIN_MODE_OFF, vms, 2, &plan), 0);
	fp_pin_plan_format(&plan, text, sizeof(text));
	assert_non_null(strstr(text, "vm-pin mode off, PMD cores 2-3\n"));
	assert_non_null(strstr(text, "  vhu1 rxq 0: OVS default\n"));
	assert_non_null(strstr(text, "  vhu2 rxq 0: OVS default\n"));
	assert_null(strstr(text, "conflicts"));
	fp_pin_plan_fini(&plan);
}

static void
test_pin_vm_init_takes_discovered_memory_nodes(void **state)
{
	struct fp_pin_vm pv;
	struct fp_vm vm;

	(void)state;
	memset(&vm, 0, sizeof(vm));
	snprintf(vm.name, sizeof(vm.name), "vm9");
	vm.vcpu_cpus = cpus("8-9");
	vm.numa_node = 1;
	vm.spans_nodes = true;
	vm.node_kb[0] = 400 * 1024;
	vm.node_kb[1] = 600 * 1024;
	vm.node_kb[2] = 4; /* Below FP_VM_SPAN_MIN_PERCENT: ignored. */
	fp_pin_vm_init(&pv, &vm);
	assert_string_equal(pv.name, "vm9");
	assert_int_equal(pv.numa_node, 1);
	assert_true(pv.spans_nodes);
	assert_int_equal(pv.mem_nodes, 3);
	assert_true(fp_cpuset_equal(&pv.vcpu_cpus, &vm.vcpu_cpus));
	assert_int_equal(pv.n_ports, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_mode_parse_accepts_names_and_rejects_others),
		cmocka_unit_test(test_numa_mode_keeps_each_vm_on_its_node),
		cmocka_unit_test(test_numa_mode_balances_vms_sharing_a_node),
		cmocka_unit_test(test_isolate_mode_gives_each_vm_its_own_pmds),
		cmocka_unit_test(
			test_isolate_with_fewer_pmds_than_vms_shares_least_loaded),
		cmocka_unit_test(
			test_single_node_host_isolate_shares_its_one_pmd),
		cmocka_unit_test(test_pmd_on_own_vcpu_is_avoided),
		cmocka_unit_test(
			test_pmd_on_own_vcpu_moves_to_other_node_when_needed),
		cmocka_unit_test(test_pmd_on_own_vcpu_kept_when_nothing_else),
		cmocka_unit_test(
			test_vm_spanning_nodes_uses_node_with_most_memory),
		cmocka_unit_test(test_no_pmd_on_vm_node_uses_other_nodes),
		cmocka_unit_test(
			test_sibling_mode_prefers_smt_siblings_then_nearest),
		cmocka_unit_test(test_operator_affinity_always_wins),
		cmocka_unit_test(test_empty_pmd_pool_leaves_everything_to_ovs),
		cmocka_unit_test(test_bad_arguments_are_einval),
		cmocka_unit_test(
			test_plan_format_renders_placements_and_conflicts),
		cmocka_unit_test(
			test_pin_vm_init_takes_discovered_memory_nodes),
	};

	return cmocka_run_group_tests(tests, load_hosts, free_hosts);
}
