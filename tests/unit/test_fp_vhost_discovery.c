/* SPDX-License-Identifier: Apache-2.0 */

/* Tests of the vhost-user library's discovery side: the cpulist parser,
 * host topology from a fake sysfs, VMs from a fake procfs, libvirt domain
 * XML, finding a socket's peer pid through real AF_UNIX sockets in
 * both vhost-user modes, and the precedence of fp_vm_discover(). */

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fp_topo.h"
#include "fp_vm.h"
#include "fp_test_fakefs.h"

/* Format a set for string comparison. */
static const char *
fmt(const struct fp_cpuset *set)
{
	static char buf[4][256];
	static unsigned int next;
	char *b = buf[next++ % 4];

	fp_cpuset_format(set, b, 256);
	return b;
}

/* --- cpulist parser --- */

static void
test_cpulist_parses_ranges_and_singles(void **state)
{
	struct fp_cpuset set;

	(void)state;
	assert_int_equal(fp_cpuset_parse("0-3,8,10-11", &set), 0);
	assert_int_equal(fp_cpuset_count(&set), 7);
	assert_true(fp_cpuset_isset(&set, 0));
	assert_true(fp_cpuset_isset(&set, 3));
	assert_false(fp_cpuset_isset(&set, 4));
	assert_true(fp_cpuset_isset(&set, 8));
	assert_false(fp_cpuset_isset(&set, 9));
	assert_true(fp_cpuset_isset(&set, 11));
	assert_string_equal(fmt(&set), "0-3,8,10-11");
}

static void
test_cpulist_empty_and_newline_is_empty_set(void **state)
{
	struct fp_cpuset set;

	(void)state;
	assert_int_equal(fp_cpuset_parse("", &set), 0);
	assert_true(fp_cpuset_empty(&set));
	assert_int_equal(fp_cpuset_parse("\n", &set), 0);
	assert_true(fp_cpuset_empty(&set));
	assert_int_equal(fp_cpuset_parse("5\n", &set), 0);
	assert_string_equal(fmt(&set), "5");
}

static void
test_cpulist_garbage_is_einval(void **state)
{
	static const char *const bad[] = {
		"x", "1-", "-1", "3-1", "1,,2", "1,", ",1", "1 2", "0x3",
		"+1", "1-2-3", "a-b", "1;2",
	};
	struct fp_cpuset set;
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fp_cpuset_set(&set, 1);
		assert_int_equal(fp_cpuset_parse(bad[i], &set), -EINVAL);
		assert_true(fp_cpuset_empty(&set));
	}
	assert_int_equal(fp_cpuset_parse(NULL, &set), -EINVAL);
}

static void
test_cpulist_beyond_cpu_max_is_erange(void **state)
{
	struct fp_cpuset set;

	(void)state;
	assert_int_equal(fp_cpuset_parse("1023", &set), 0);
	assert_int_equal(fp_cpuset_next(&set, 0), 1023);
	assert_int_equal(fp_cpuset_parse("1024", &set), -ERANGE);
	assert_int_equal(fp_cpuset_parse("0-99999999999999999999", &set),
			 -ERANGE);
}

static void
test_cpuset_ops_and_format_truncation(void **state)
{
	struct fp_cpuset a, b, c;
	char small[4];

	(void)state;
	assert_int_equal(fp_cpuset_parse("0-7", &a), 0);
	assert_int_equal(fp_cpuset_parse("4-11", &b), 0);
	fp_cpuset_and(&c, &a, &b);
	assert_string_equal(fmt(&c), "4-7");
	fp_cpuset_or(&c, &a, &b);
	assert_string_equal(fmt(&c), "0-11");
	fp_cpuset_andnot(&c, &a, &b);
	assert_string_equal(fmt(&c), "0-3");
	assert_false(fp_cpuset_equal(&a, &b));
	assert_int_equal(fp_cpuset_next(&b, 12), -1);
	assert_int_equal(fp_cpuset_format(&b, small, sizeof(small)), 4);
	assert_string_equal(small, "4-1");
}

/* --- topology --- */

static void
test_topo_two_nodes_smt(void **state)
{
	struct fp_topo *topo;
	char *root = fake_root_new();

	(void)state;
	assert_non_null(root);
	assert_int_equal(fake_sysfs_2node_smt(root, "2-7,18-23"), 0);
	assert_int_equal(fp_topo_load(root, &topo), 0);
	assert_int_equal(fp_cpuset_count(&topo->present), 32);
	assert_int_equal(fp_cpuset_count(&topo->online), 32);
	assert_string_equal(fmt(&topo->isolated), "2-7,18-23");
	assert_int_equal(topo->n_nodes, 2);
	assert_string_equal(fmt(&topo->node_cpus[0]), "0-7,16-23");
	assert_string_equal(fmt(&topo->node_cpus[1]), "8-15,24-31");
	assert_int_equal(topo->cpu[9].core_id, 1);
	assert_int_equal(topo->cpu[9].package, 1);
	assert_int_equal(topo->cpu[9].node, 1);
	assert_string_equal(fmt(&topo->cpu[9].siblings), "9,25");
	assert_string_equal(fmt(&topo->cpu[18].siblings), "2,18");
	assert_int_equal(fp_topo_cpu_node(topo, 24), 1);
	assert_int_equal(fp_topo_cpu_node(topo, 99), -1);
	fp_topo_free(topo);
	fake_root_free(root);
}

static void
test_topo_single_node_without_numa_dir(void **state)
{
	struct fp_topo *topo;
	struct fp_cpuset set;
	unsigned int n;
	char *root = fake_root_new();

	(void)state;
	assert_int_equal(fake_sysfs_1node_2cpu(root), 0);
	assert_int_equal(fp_topo_load(root, &topo), 0);
	assert_int_equal(topo->n_nodes, 1);
	assert_string_equal(fmt(&topo->node_cpus[0]), "0-1");
	assert_true(fp_cpuset_empty(&topo->isolated));
	assert_int_equal(topo->cpu[1].node, 0);
	assert_int_equal(topo->cpu[1].core_id, 1);
	assert_string_equal(fmt(&topo->cpu[1].siblings), "1");
	assert_int_equal(fp_cpuset_parse("0-1", &set), 0);
	assert_int_equal(fp_topo_cpuset_node(topo, &set, &n), 0);
	assert_int_equal(n, 1);
	fp_topo_free(topo);
	fake_root_free(root);
}

static void
test_topo_missing_or_malformed_sysfs_fails(void **state)
{
	struct fp_topo *topo = (struct fp_topo *)1;
	char *root = fake_root_new();

	(void)state;
	assert_int_equal(fp_topo_load(root, &topo), -ENOENT);
	assert_null(topo);
	assert_int_equal(fake_writef(root, "sys/devices/system/cpu/present",
				     "0-x\n"), 0);
	assert_int_equal(fp_topo_load(root, &topo), -EINVAL);
	fake_root_free(root);
}

static void
test_topo_loads_this_host(void **state)
{
	struct fp_topo *topo;
	int cpu;

	(void)state;
	assert_int_equal(fp_topo_load("/", &topo), 0);
	assert_int_equal(fp_cpuset_count(&topo->online),
			 (unsigned int)sysconf(_SC_NPROCESSORS_ONLN));
	assert_true(topo->n_nodes >= 1);
	cpu = fp_cpuset_next(&topo->online, 0);
	assert_true(cpu >= 0);
	assert_true(fp_cpuset_isset(&topo->cpu[cpu].siblings, cpu));
	assert_true(topo->cpu[cpu].node >= 0);
	fp_topo_free(topo);
}

/* --- VMs from a fake procfs --- */

static char *
fake_qemu(void)
{
	static const char cmdline[] =
		"/usr/bin/qemu-system-x86_64\0-name\0"
		"guest=vm1,debug-threads=on\0-S\0-machine\0pc\0";
	char *root = fake_root_new();

	assert_non_null(root);
	assert_int_equal(fake_task(root, 4242, 4242, "qemu-system-x86",
				   "9"), 0);
	assert_int_equal(fake_task(root, 4242, 4243, "call_rcu", "9"), 0);
	assert_int_equal(fake_task(root, 4242, 4250, "IO mon_iothread",
				   "9"), 0);
	assert_int_equal(fake_task(root, 4242, 4251, "CPU 0/KVM", "10"), 0);
	assert_int_equal(fake_task(root, 4242, 4252, "CPU 1/KVM", "11"), 0);
	assert_int_equal(fake_write_bytes(root, "proc/4242/cmdline", cmdline,
					  sizeof(cmdline) - 1), 0);
	/* 4 kB pages mostly on node 0 (libraries), 2 MB pages on node 1:
	 * node 1 holds most memory once weighted by page size. */
	assert_int_equal(fake_writef(root, "proc/4242/numa_maps",
		"55d0a0000000 default file=/usr/bin/qemu-system-x86_64 "
		"mapped=900 N0=800 N1=100 kernelpagesize_kB=4\n"
		"7f0000000000 bind:1 file=/dev/hugepages/libvirt/qemu/x "
		"huge dirty=1024 N1=1024 kernelpagesize_kB=2048\n"
		"7ffd00000000 default stack anon=3 dirty=3 N0=3\n"), 0);
	return root;
}

static void
test_vm_from_proc_finds_vcpus_emulator_and_node(void **state)
{
	struct fp_vm vm;
	char *root = fake_qemu();
	char line[256];

	(void)state;
	assert_int_equal(fp_vm_from_pid(root, 4242, &vm), 0);
	assert_string_equal(vm.name, "vm1");
	assert_int_equal(vm.pid, 4242);
	assert_int_equal(vm.source, FP_VM_SOURCE_PROC);
	assert_int_equal(vm.n_threads, 5);
	assert_int_equal(vm.n_vcpus, 2);
	assert_int_equal(vm.threads[3].tid, 4251);
	assert_int_equal(vm.threads[3].kind, FP_VM_THREAD_VCPU);
	assert_int_equal(vm.threads[3].vcpu, 0);
	assert_string_equal(vm.threads[4].comm, "CPU 1/KVM");
	assert_int_equal(vm.threads[4].vcpu, 1);
	assert_string_equal(fmt(&vm.threads[4].affinity), "11");
	assert_int_equal(vm.threads[2].kind, FP_VM_THREAD_EMULATOR);
	assert_string_equal(fmt(&vm.vcpu_cpus), "10-11");
	assert_string_equal(fmt(&vm.emulator_cpus), "9");
	assert_int_equal(vm.node_kb[0], 803 * 4);
	assert_int_equal(vm.node_kb[1], 100 * 4 + 1024 * 2048);
	assert_int_equal(vm.numa_node, 1);
	assert_false(vm.spans_nodes);
	fp_vm_format(&vm, line, sizeof(line));
	assert_string_equal(line, "VM vm1 (pid 4242): 2 vCPUs on pCPUs "
			    "10-11, emulator on 9, memory on node 1");
	fp_vm_fini(&vm);
	assert_null(vm.threads);
	fake_root_free(root);
}

static void
test_vm_from_proc_memory_spanning_nodes(void **state)
{
	struct fp_vm vm;
	char *root = fake_qemu();

	(void)state;
	assert_int_equal(fake_writef(root, "proc/4242/numa_maps",
		"7f0000000000 interleave:0-1 file=/dev/hugepages/x huge "
		"N0=300 N1=212 kernelpagesize_kB=2048\n"), 0);
	assert_int_equal(fp_vm_from_pid(root, 4242, &vm), 0);
	assert_int_equal(vm.numa_node, 0);
	assert_true(vm.spans_nodes);
	fp_vm_fini(&vm);
	fake_root_free(root);
}

static void
test_vm_name_plain_and_escaped_commas(void **state)
{
	static const char cmdline[] =
		"qemu-system-x86_64\0-name\0web,,1,process=x\0";
	struct fp_vm vm;
	char *root = fake_qemu();

	(void)state;
	assert_int_equal(fake_write_bytes(root, "proc/4242/cmdline", cmdline,
					  sizeof(cmdline) - 1), 0);
	assert_int_equal(fp_vm_from_pid(root, 4242, &vm), 0);
	assert_string_equal(vm.name, "web,1");
	fp_vm_fini(&vm);
	fake_root_free(root);
}

/* Several DPDK "VMs" run the same program: --file-prefix tells them
 * apart, in both of EAL's spellings. */
static void
test_vm_name_dpdk_file_prefix(void **state)
{
	static const char joined[] = "/usr/bin/dpdk-testpmd\0--lcores=0@1\0"
		"--file-prefix=vm-a\0--no-pci\0";
	static const char split[] = "dpdk-testpmd\0-l\0" "1\0"
		"--file-prefix\0vm-b\0";
	struct fp_vm vm;
	char *root = fake_root_new();

	(void)state;
	assert_int_equal(fake_task(root, 6000, 6000, "dpdk-testpmd", "1"), 0);
	assert_int_equal(fake_write_bytes(root, "proc/6000/cmdline", joined,
					  sizeof(joined) - 1), 0);
	assert_int_equal(fp_vm_from_pid(root, 6000, &vm), 0);
	assert_string_equal(vm.name, "dpdk-testpmd --file-prefix=vm-a");
	fp_vm_fini(&vm);

	assert_int_equal(fake_write_bytes(root, "proc/6000/cmdline", split,
					  sizeof(split) - 1), 0);
	assert_int_equal(fp_vm_from_pid(root, 6000, &vm), 0);
	assert_string_equal(vm.name, "dpdk-testpmd --file-prefix=vm-b");
	fp_vm_fini(&vm);
	fake_root_free(root);
}

static void
test_vm_from_proc_dpdk_testpmd_lcores(void **state)
{
	static const char cmdline[] =
		"dpdk-testpmd\0-l\0" "2,3,4\0--vdev\0virtio_user0\0";
	struct fp_vm vm;
	char *root = fake_root_new();

	(void)state;
	assert_int_equal(fake_task(root, 5000, 5000, "dpdk-testpmd", "2"), 0);
	assert_int_equal(fake_task(root, 5000, 5001, "eal-intr-thread",
				   "0-1"), 0);
	assert_int_equal(fake_task(root, 5000, 5002, "rte_mp_handle", "0-1"),
			 0);
	assert_int_equal(fake_task(root, 5000, 5003, "rte-worker-3", "3"), 0);
	assert_int_equal(fake_task(root, 5000, 5004, "rte-worker-4", "4"), 0);
	assert_int_equal(fake_write_bytes(root, "proc/5000/cmdline", cmdline,
					  sizeof(cmdline) - 1), 0);
	assert_int_equal(fp_vm_from_pid(root, 5000, &vm), 0);
	assert_string_equal(vm.name, "dpdk-testpmd -l 2,3,4 --vdev "
			    "virtio_user0");
	assert_int_equal(vm.n_vcpus, 3);
	assert_string_equal(fmt(&vm.vcpu_cpus), "2-4");
	assert_string_equal(fmt(&vm.emulator_cpus), "0-1");
	assert_int_equal(vm.threads[0].kind, FP_VM_THREAD_VCPU);
	assert_int_equal(vm.threads[0].vcpu, -1);
	assert_int_equal(vm.threads[4].vcpu, 4);
	/* No numa_maps: node unknown, not an error. */
	assert_int_equal(vm.numa_node, -1);
	fp_vm_fini(&vm);
	fake_root_free(root);
}

static void
test_vm_from_missing_pid_is_enoent(void **state)
{
	struct fp_vm vm;
	char *root = fake_root_new();

	(void)state;
	assert_int_equal(fp_vm_from_pid(root, 777, &vm), -ENOENT);
	fp_vm_fini(&vm);
	fake_root_free(root);
}

static void
test_vm_from_cpuset_declaration(void **state)
{
	struct fp_topo *topo;
	struct fp_vm vm;
	char err[256];
	char *root = fake_root_new();

	(void)state;
	assert_int_equal(fake_sysfs_2node_smt(root, ""), 0);
	assert_int_equal(fp_topo_load(root, &topo), 0);
	assert_int_equal(fp_vm_from_cpuset("vm5", "12-13", -1, topo, &vm,
					   err, sizeof(err)), 0);
	assert_int_equal(vm.numa_node, 1);
	assert_false(vm.spans_nodes);
	assert_int_equal(fp_vm_from_cpuset("vm5", "7-8", 1, topo, &vm, err,
					   sizeof(err)), 0);
	assert_int_equal(vm.numa_node, 1);
	assert_int_equal(fp_vm_from_cpuset("vm5", "7-8", -1, topo, &vm, err,
					   sizeof(err)), 0);
	assert_true(vm.spans_nodes);
	assert_int_equal(fp_vm_from_cpuset("vm5", "8-", -1, topo, &vm, err,
					   sizeof(err)), -EINVAL);
	assert_string_equal(err, "VM vm5: pCPUs '8-' are not a CPU list such "
			    "as 8-11");
	assert_int_equal(fp_vm_from_cpuset("vm5", "8", 2, topo, &vm, err,
					   sizeof(err)), -EINVAL);
	assert_string_equal(err, "VM vm5: NUMA node 2 does not exist");
	fp_vm_fini(&vm);
	fp_topo_free(topo);
	fake_root_free(root);
}

/* --- libvirt XML --- */

struct xml_fixture {
	char *root;
	struct fp_topo *topo;
	char path[PATH_MAX];
};

static int
xml_setup(void **state)
{
	struct xml_fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->root = fake_root_new();
	if (f->root == NULL || fake_sysfs_2node_smt(f->root, "") < 0 ||
	    fp_topo_load(f->root, &f->topo) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
xml_teardown(void **state)
{
	struct xml_fixture *f = *state;

	fp_topo_free(f->topo);
	fake_root_free(f->root);
	free(f);
	return 0;
}

static const char *
xml_file(struct xml_fixture *f, const char *xml)
{
	assert_int_equal(fake_writef(f->root, "domain.xml", "%s", xml), 0);
	snprintf(f->path, sizeof(f->path), "%s/domain.xml", f->root);
	return f->path;
}

static void
test_libvirt_xml_full_domain(void **state)
{
	struct xml_fixture *f = *state;
	struct fp_vm vm;
	char err[256] = "";

	assert_int_equal(fp_vm_from_libvirt_xml(xml_file(f,
		"<domain type='kvm'>\n"
		"  <name>vm1</name>\n"
		"  <memory unit='KiB'>4194304</memory>\n"
		"  <vcpu placement='static'>2</vcpu>\n"
		"  <cputune>\n"
		"    <vcpupin vcpu='0' cpuset='10'/>\n"
		"    <vcpupin vcpu='1' cpuset='11'/>\n"
		"    <emulatorpin cpuset='9'/>\n"
		"  </cputune>\n"
		"  <numatune>\n"
		"    <memory mode='strict' nodeset='1'/>\n"
		"  </numatune>\n"
		"</domain>\n"), f->topo, &vm, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(vm.name, "vm1");
	assert_int_equal(vm.source, FP_VM_SOURCE_LIBVIRT);
	assert_int_equal(vm.n_vcpus, 2);
	assert_string_equal(fmt(&vm.vcpu_cpus), "10-11");
	assert_string_equal(fmt(&vm.emulator_cpus), "9");
	assert_int_equal(vm.numa_node, 1);
	assert_false(vm.spans_nodes);
	assert_int_equal(vm.n_threads, 3);
	assert_int_equal(vm.threads[1].vcpu, 1);
	assert_string_equal(fmt(&vm.threads[1].affinity), "11");
	fp_vm_fini(&vm);
}

static void
test_libvirt_xml_partial_vcpu_cpuset_derives_node(void **state)
{
	struct xml_fixture *f = *state;
	struct fp_vm vm;
	char err[256] = "";

	assert_int_equal(fp_vm_from_libvirt_xml(xml_file(f,
		"<domain type='kvm'><name>vm2</name>"
		"<vcpu placement='static' cpuset='8-11,^10'>3</vcpu>"
		"</domain>"), f->topo, &vm, err, sizeof(err)), 0);
	assert_string_equal(vm.name, "vm2");
	assert_int_equal(vm.n_vcpus, 3);
	assert_string_equal(fmt(&vm.vcpu_cpus), "8-9,11");
	assert_int_equal(vm.numa_node, 1);
	assert_false(vm.spans_nodes);
	fp_vm_fini(&vm);
}

static void
test_libvirt_xml_cputune_without_numatune_spanning(void **state)
{
	struct xml_fixture *f = *state;
	struct fp_vm vm;
	char err[256] = "";

	assert_int_equal(fp_vm_from_libvirt_xml(xml_file(f,
		"<domain type='kvm'><name>vm3</name><vcpu>2</vcpu>"
		"<cputune><vcpupin vcpu='0' cpuset='6'/>"
		"<vcpupin vcpu='1' cpuset='8'/></cputune>"
		"</domain>"), f->topo, &vm, err, sizeof(err)), 0);
	assert_string_equal(fmt(&vm.vcpu_cpus), "6,8");
	assert_true(vm.spans_nodes);
	assert_int_equal(vm.numa_node, 0);
	assert_true(fp_cpuset_empty(&vm.emulator_cpus));
	fp_vm_fini(&vm);
}

static void
test_libvirt_xml_malformed_reports_line(void **state)
{
	struct xml_fixture *f = *state;
	const char *path;
	struct fp_vm vm;
	char err[256] = "";
	char want[PATH_MAX + 64];

	path = xml_file(f, "<domain type='kvm'>\n<name>vm4</name>\n"
			"<vcpu>2</vcpu>\n<cputune>\n");
	assert_int_equal(fp_vm_from_libvirt_xml(path, f->topo, &vm, err,
						sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "libvirt XML %s: not well-formed XML: "
		 "line ", path);
	assert_true(strncmp(err, want, strlen(want)) == 0);
	assert_non_null(strstr(err, "cputune"));
	assert_null(strchr(err, '\n'));
	fp_vm_fini(&vm);
}

static void
test_libvirt_xml_without_pcpus_is_clear_error(void **state)
{
	struct xml_fixture *f = *state;
	const char *path;
	struct fp_vm vm;
	char err[256] = "";
	char want[PATH_MAX + 128];

	path = xml_file(f, "<domain type='kvm'><name>vm5</name>"
			"<vcpu placement='static'>2</vcpu>"
			"<numatune><memory nodeset='0'/></numatune>"
			"</domain>");
	assert_int_equal(fp_vm_from_libvirt_xml(path, f->topo, &vm, err,
						sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "libvirt XML %s: no <cputune>/<vcpu "
		 "cpuset>: cannot find the VM's pCPUs", path);
	assert_string_equal(err, want);
	fp_vm_fini(&vm);
}

static void
test_libvirt_xml_bad_parts_are_named(void **state)
{
	struct xml_fixture *f = *state;
	const char *path;
	struct fp_vm vm;
	char err[256] = "";
	char want[PATH_MAX + 128];

	path = xml_file(f, "<domain><name>vm6</name><cputune>"
			"<vcpupin vcpu='0' cpuset='1-x'/></cputune></domain>");
	assert_int_equal(fp_vm_from_libvirt_xml(path, f->topo, &vm, err,
						sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "libvirt XML %s: <vcpupin> cpuset '1-x' "
		 "is not a CPU list", path);
	assert_string_equal(err, want);
	fp_vm_fini(&vm);

	path = xml_file(f, "<vm><name>vm7</name></vm>");
	assert_int_equal(fp_vm_from_libvirt_xml(path, f->topo, &vm, err,
						sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "libvirt XML %s: root element is <vm>, "
		 "not <domain>", path);
	assert_string_equal(err, want);
	fp_vm_fini(&vm);

	path = xml_file(f, "<domain><vcpu cpuset='1'>1</vcpu></domain>");
	assert_int_equal(fp_vm_from_libvirt_xml(path, f->topo, &vm, err,
						sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "libvirt XML %s: no <name>", path);
	assert_string_equal(err, want);
	fp_vm_fini(&vm);

	path = "/nonexistent/fp-domain.xml";
	assert_int_equal(fp_vm_from_libvirt_xml(path, f->topo, &vm, err,
						sizeof(err)), -ENOENT);
	assert_string_equal(err, "libvirt XML /nonexistent/fp-domain.xml: "
			    "cannot read it: No such file or directory");
	fp_vm_fini(&vm);
}

/* --- discovery precedence: declarations --- */

/* A port "vhu0" with no VM connected, as OVS sees it, on the fake host of
 * xml_setup(), and what fp_vm_discover() finds for it. */
struct discover_fixture {
	struct xml_fixture *xml;
	struct fp_vm_port port;
	struct fp_vm_discovery found;
	struct fp_vm vm;
	char want[FP_VM_TEXT_MAX];
};

static int
discover_setup(void **state)
{
	struct discover_fixture *d = calloc(1, sizeof(*d));
	void *xml;

	if (d == NULL || xml_setup(&xml) < 0)
		return -1;
	d->xml = xml;
	d->port.name = "vhu0";
	d->port.mode = "client";
	d->port.decl.numa_node = -1;
	*state = d;
	return 0;
}

static int
discover_teardown(void **state)
{
	struct discover_fixture *d = *state;
	void *xml = d->xml;

	fp_vm_fini(&d->vm);
	xml_teardown(&xml);
	free(d);
	return 0;
}

/* Runs fp_vm_discover() on the fixture's port, reading procfs under
 * 'root' (the fake host's, where no process is, or NULL for this host). */
static int
discover(struct discover_fixture *d, const char *root)
{
	fp_vm_fini(&d->vm);
	return fp_vm_discover(root, &d->port, d->xml->topo, &d->vm,
			      &d->found);
}

static const char vm1_xml[] =
	"<domain type='kvm'><name>vm1</name><vcpu>2</vcpu>"
	"<cputune><vcpupin vcpu='0' cpuset='10'/>"
	"<vcpupin vcpu='1' cpuset='11'/></cputune></domain>";

static void
test_discover_declared_xml_wins_and_takes_vm_name(void **state)
{
	struct discover_fixture *d = *state;

	d->port.decl.libvirt_xml = xml_file(d->xml, vm1_xml);
	d->port.decl.cpus = "0-1";
	assert_int_equal(discover(d, d->xml->root), 0);
	snprintf(d->want, sizeof(d->want), "declared: vm-libvirt-xml %s",
		 d->port.decl.libvirt_xml);
	assert_string_equal(d->found.origin, d->want);
	assert_string_equal(d->found.decl_error, "");
	assert_string_equal(d->found.error, "");
	assert_int_equal(d->vm.source, FP_VM_SOURCE_LIBVIRT);
	assert_string_equal(d->vm.name, "vm1");
	assert_string_equal(fmt(&d->vm.vcpu_cpus), "10-11");

	/* vm-name renames it. */
	d->port.decl.vm_name = "web";
	assert_int_equal(discover(d, d->xml->root), 0);
	assert_string_equal(d->vm.name, "web");
}

static void
test_discover_declared_cpus_named_after_port_or_vm_name(void **state)
{
	struct discover_fixture *d = *state;

	d->port.decl.cpus = "8-11";
	assert_int_equal(discover(d, d->xml->root), 0);
	assert_string_equal(d->found.origin, "declared: vm-cpus 8-11");
	assert_int_equal(d->vm.source, FP_VM_SOURCE_CPUSET);
	assert_string_equal(d->vm.name, "vhu0");
	assert_int_equal(d->vm.numa_node, 1);

	d->port.decl.numa_node = 0;
	d->port.decl.vm_name = "db";
	assert_int_equal(discover(d, d->xml->root), 0);
	assert_string_equal(d->found.origin,
			    "declared: vm-cpus 8-11, vm-numa-node");
	assert_string_equal(d->vm.name, "db");
	assert_int_equal(d->vm.numa_node, 0);
}

static void
test_discover_bad_xml_falls_back_to_socket_not_cpus(void **state)
{
	struct discover_fixture *d = *state;

	d->port.decl.libvirt_xml = xml_file(d->xml, "<vm><name>x</name></vm>");
	d->port.decl.cpus = "8-11";
	assert_int_equal(discover(d, d->xml->root), -ENOENT);
	snprintf(d->want, sizeof(d->want), "vhu0: libvirt XML %s: root "
		 "element is <vm>, not <domain>; looking for the VM behind "
		 "the socket instead", d->port.decl.libvirt_xml);
	assert_string_equal(d->found.decl_error, d->want);
	assert_string_equal(d->found.error, "no VM connected");
	assert_string_equal(d->found.origin, "");
	assert_null(d->vm.threads);
	assert_int_equal(d->vm.n_vcpus, 0);
}

static void
test_discover_bad_cpus_falls_back_to_socket(void **state)
{
	struct discover_fixture *d = *state;

	d->port.decl.cpus = "8-x";
	assert_int_equal(discover(d, d->xml->root), -ENOENT);
	assert_string_equal(d->found.decl_error,
			    "vhu0: vm-cpus: VM vhu0: pCPUs '8-x' are not a CPU "
			    "list such as 8-11; looking for the VM behind the "
			    "socket instead");
	assert_string_equal(d->found.error, "no VM connected");

	d->port.decl.cpus = "8-11";
	d->port.decl.numa_node = 5;
	assert_int_equal(discover(d, d->xml->root), -ENOENT);
	assert_string_equal(d->found.decl_error,
			    "vhu0: vm-cpus: VM vhu0: NUMA node 5 does not "
			    "exist; looking for the VM behind the socket "
			    "instead");
}

static void
test_discover_without_declaration_or_vm_is_enoent(void **state)
{
	struct discover_fixture *d = *state;

	d->port.decl.vm_name = "web";
	assert_int_equal(discover(d, d->xml->root), -ENOENT);
	assert_string_equal(d->found.error, "no VM connected");
	assert_string_equal(d->found.decl_error, "");
	assert_string_equal(d->found.origin, "");
}

/* --- real sockets --- */

static int
unix_socket_at(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(addr->sun_path));
	memcpy(addr->sun_path, path, strlen(path) + 1);
	return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static void
test_socket_peer_server_mode_finds_connected_child(void **state)
{
	struct sockaddr_un addr;
	char *dir = fake_root_new();
	char path[PATH_MAX], byte = 0;
	int lfd, cfd, fd, status;
	pid_t child, peer = 0;
	struct fp_vm vm;

	(void)state;
	snprintf(path, sizeof(path), "%s/vhu0.sock", dir);
	lfd = unix_socket_at(path, &addr);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	assert_int_equal(listen(lfd, 1), 0);
	/* Before any VM connects, only the listening socket has the path. */
	assert_int_equal(fp_vm_socket_peer(NULL, 0, path, &peer), -ENOENT);

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* The "VM": connect, then wait until the parent closes. */
		cfd = unix_socket_at(path, &addr);
		if (cfd < 0 || connect(cfd, (struct sockaddr *)&addr,
				       sizeof(addr)) < 0)
			_exit(1);
		if (read(cfd, &byte, 1) < 0)
			_exit(1);
		_exit(0);
	}
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fp_vm_socket_peer(NULL, 0, path, &peer), 0);
	assert_int_equal(peer, child);
	assert_int_equal(fp_vm_socket_peer("/", getpid(), path, &peer), 0);
	assert_int_equal(peer, child);
	/* And the peer is readable as a process. */
	assert_int_equal(fp_vm_from_pid(NULL, peer, &vm), 0);
	assert_int_equal(vm.pid, child);
	assert_true(vm.n_threads >= 1);
	assert_int_equal(vm.threads[0].tid, child);
	fp_vm_fini(&vm);

	close(fd);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(lfd);
	unlink(path);
	fake_root_free(dir);
}

static void
test_socket_peer_client_mode_finds_listening_child(void **state)
{
	struct sockaddr_un addr;
	char *dir = fake_root_new();
	char path[PATH_MAX], other[PATH_MAX], byte = 0;
	int ready[2], lfd, cfd, fd, status;
	pid_t child, peer = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/vm.sock", dir);
	snprintf(other, sizeof(other), "%s/other.sock", dir);
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* The "VM" (QEMU in server mode): listen, accept, wait. */
		close(ready[0]);
		lfd = unix_socket_at(path, &addr);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr,
				    sizeof(addr)) < 0 || listen(lfd, 1) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0 || read(cfd, &byte, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);

	fd = unix_socket_at(path, &addr);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)),
			 0);
	assert_int_equal(fp_vm_socket_peer(NULL, 0, path, &peer), 0);
	assert_int_equal(peer, child);
	assert_int_equal(fp_vm_socket_peer(NULL, 0, other, &peer), -ENOENT);
	assert_int_equal(fp_vm_socket_peer(NULL, 0, "", &peer), -EINVAL);

	close(fd);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(path);
	fake_root_free(dir);
}

/* --- discovery precedence: the socket's peer --- */

/* A "VM" connected to a vhost-user socket that OVS serves: a child whose
 * main thread is named 'comm', which connects and waits for the parent to
 * close. */
struct peer_vm {
	char *dir;
	char path[PATH_MAX];
	int lfd;
	int fd;
	pid_t pid;
};

static void
peer_vm_start(struct peer_vm *p, const char *comm)
{
	struct sockaddr_un addr;
	char byte = 0;
	int cfd;

	p->dir = fake_root_new();
	assert_non_null(p->dir);
	snprintf(p->path, sizeof(p->path), "%s/vhu0.sock", p->dir);
	p->lfd = unix_socket_at(p->path, &addr);
	assert_true(p->lfd >= 0);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&addr,
			      sizeof(addr)), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		if (prctl(PR_SET_NAME, comm) < 0)
			_exit(1);
		cfd = unix_socket_at(p->path, &addr);
		if (cfd < 0 || connect(cfd, (struct sockaddr *)&addr,
				       sizeof(addr)) < 0)
			_exit(1);
		if (read(cfd, &byte, 1) < 0)
			_exit(1);
		_exit(0);
	}
	p->fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(p->fd >= 0);
}

static void
peer_vm_stop(struct peer_vm *p)
{
	int status;

	close(p->fd);
	assert_int_equal(waitpid(p->pid, &status, 0), p->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p->lfd);
	unlink(p->path);
	fake_root_free(p->dir);
}

static void
test_discover_socket_without_peer_says_so(void **state)
{
	struct discover_fixture *d = *state;

	d->port.socket = "/nonexistent/fp-vhu0.sock";
	assert_int_equal(discover(d, NULL), -ENOENT);
	assert_string_equal(d->found.error, "no peer found for socket "
			    "/nonexistent/fp-vhu0.sock (No such file or "
			    "directory)");
}

static void
test_discover_peer_with_vcpu_thread_is_the_vm(void **state)
{
	struct discover_fixture *d = *state;
	struct peer_vm peer;

	peer_vm_start(&peer, "CPU 0/KVM");
	d->port.socket = peer.path;
	d->port.mode = "server";
	assert_int_equal(discover(d, NULL), 0);
	snprintf(d->want, sizeof(d->want), "peer of socket %s (OVS is the "
		 "vhost-user server)", peer.path);
	assert_string_equal(d->found.origin, d->want);
	assert_int_equal(d->vm.source, FP_VM_SOURCE_PROC);
	assert_int_equal(d->vm.pid, peer.pid);
	assert_int_equal(d->vm.n_vcpus, 1);

	d->port.decl.vm_name = "web";
	assert_int_equal(discover(d, NULL), 0);
	assert_string_equal(d->vm.name, "web");
	assert_int_equal(d->vm.pid, peer.pid);
	peer_vm_stop(&peer);
}

static void
test_discover_peer_without_vcpus_asks_to_declare(void **state)
{
	struct discover_fixture *d = *state;
	struct peer_vm peer;

	peer_vm_start(&peer, "not-a-vm");
	d->port.socket = peer.path;
	assert_int_equal(discover(d, NULL), -EINVAL);
	snprintf(d->want, sizeof(d->want), "the peer of socket %s, pid %d (",
		 peer.path, (int)peer.pid);
	assert_true(strncmp(d->found.error, d->want, strlen(d->want)) == 0);
	assert_non_null(strstr(d->found.error, "), has no vCPU or lcore "
			       "threads; declare the VM with "
			       "other_config:vm-cpus or vm-libvirt-xml"));
	assert_string_equal(d->found.origin, "");
	assert_null(d->vm.threads);
	peer_vm_stop(&peer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpulist_parses_ranges_and_singles),
		cmocka_unit_test(test_cpulist_empty_and_newline_is_empty_set),
		cmocka_unit_test(test_cpulist_garbage_is_einval),
		cmocka_unit_test(test_cpulist_beyond_cpu_max_is_erange),
		cmocka_unit_test(test_cpuset_ops_and_format_truncation),
		cmocka_unit_test(test_topo_two_nodes_smt),
		cmocka_unit_test(test_topo_single_node_without_numa_dir),
		cmocka_unit_test(test_topo_missing_or_malformed_sysfs_fails),
		cmocka_unit_test(test_topo_loads_this_host),
		cmocka_unit_test(
			test_vm_from_proc_finds_vcpus_emulator_and_node),
		cmocka_unit_test(test_vm_from_proc_memory_spanning_nodes),
		cmocka_unit_test(test_vm_name_plain_and_escaped_commas),
		cmocka_unit_test(test_vm_from_proc_dpdk_testpmd_lcores),
		cmocka_unit_test(test_vm_name_dpdk_file_prefix),
		cmocka_unit_test(test_vm_from_missing_pid_is_enoent),
		cmocka_unit_test(test_vm_from_cpuset_declaration),
		cmocka_unit_test_setup_teardown(test_libvirt_xml_full_domain,
						xml_setup, xml_teardown),
		cmocka_unit_test_setup_teardown(
			test_libvirt_xml_partial_vcpu_cpuset_derives_node,
			xml_setup, xml_teardown),
		cmocka_unit_test_setup_teardown(
			test_libvirt_xml_cputune_without_numatune_spanning,
			xml_setup, xml_teardown),
		cmocka_unit_test_setup_teardown(
			test_libvirt_xml_malformed_reports_line,
			xml_setup, xml_teardown),
		cmocka_unit_test_setup_teardown(
			test_libvirt_xml_without_pcpus_is_clear_error,
			xml_setup, xml_teardown),
		cmocka_unit_test_setup_teardown(
			test_libvirt_xml_bad_parts_are_named,
			xml_setup, xml_teardown),
		cmocka_unit_test(
			test_socket_peer_server_mode_finds_connected_child),
		cmocka_unit_test(
			test_socket_peer_client_mode_finds_listening_child),
		cmocka_unit_test_setup_teardown(
			test_discover_declared_xml_wins_and_takes_vm_name,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_declared_cpus_named_after_port_or_vm_name,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_bad_xml_falls_back_to_socket_not_cpus,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_bad_cpus_falls_back_to_socket,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_without_declaration_or_vm_is_enoent,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_socket_without_peer_says_so,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_peer_with_vcpu_thread_is_the_vm,
			discover_setup, discover_teardown),
		cmocka_unit_test_setup_teardown(
			test_discover_peer_without_vcpus_asks_to_declare,
			discover_setup, discover_teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
