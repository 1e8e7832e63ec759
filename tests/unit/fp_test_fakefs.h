/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_TEST_FAKEFS_H_
#define _FP_TEST_FAKEFS_H_

/*
 * Fake sysfs and procfs trees under a temporary directory, for the
 * vhost-user library's tests: two hosts (2 NUMA nodes x 8 cores x 2 SMT
 * threads, and 1 node x 2 cores) and helpers to write any file.
 */

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Create a temporary directory; the caller frees the string. */
static inline char *
fake_root_new(void)
{
	char tmpl[] = "/tmp/fp-vhost-test-XXXXXX";
	char *dir = mkdtemp(tmpl);

	return dir == NULL ? NULL : strdup(dir);
}

static inline int
fake_rm_one(const char *path, const struct stat *st, int flag,
	    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove a tree made by fake_root_new() and free its name. */
static inline void
fake_root_free(char *root)
{
	if (root == NULL)
		return;
	nftw(root, fake_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* mkdir -p for the parent directories of 'path'. */
static inline int
fake_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* Write 'len' bytes to <root>/<rel>, creating directories. */
static inline int
fake_write_bytes(const char *root, const char *rel, const char *data,
		 size_t len)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (fake_mkdirs(path) < 0)
		return -1;
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Write a formatted text file <root>/<rel>. */
static inline int
fake_writef(const char *root, const char *rel, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline int
fake_writef(const char *root, const char *rel, const char *fmt, ...)
{
	char data[16384];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(data, sizeof(data), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(data))
		return -1;
	return fake_write_bytes(root, rel, data, (size_t)n);
}

/* One CPU's topology files. */
static inline int
fake_cpu(const char *root, int cpu, int core, int package,
	 const char *siblings)
{
	char rel[256];

	snprintf(rel, sizeof(rel),
		 "sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
	if (fake_writef(root, rel, "%d\n", core) < 0)
		return -1;
	snprintf(rel, sizeof(rel),
		 "sys/devices/system/cpu/cpu%d/topology/physical_package_id",
		 cpu);
	if (fake_writef(root, rel, "%d\n", package) < 0)
		return -1;
	snprintf(rel, sizeof(rel),
		 "sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
		 cpu);
	return fake_writef(root, rel, "%s\n", siblings);
}

/*
 * Two sockets, one NUMA node each, 8 cores each, 2 SMT threads per core,
 * numbered like Linux on Intel: node 0 holds CPUs 0-7 and their siblings
 * 16-23, node 1 holds 8-15 and 24-31. CPU c and c+16 are siblings, with
 * core id c % 8 and package (c % 16) / 8. 'isolated' is written as is.
 */
static inline int
fake_sysfs_2node_smt(const char *root, const char *isolated)
{
	char siblings[32];
	int cpu, first;

	if (fake_writef(root, "sys/devices/system/cpu/present", "0-31\n") ||
	    fake_writef(root, "sys/devices/system/cpu/online", "0-31\n") ||
	    fake_writef(root, "sys/devices/system/cpu/isolated", "%s\n",
			isolated) ||
	    fake_writef(root, "sys/devices/system/node/node0/cpulist",
			"0-7,16-23\n") ||
	    fake_writef(root, "sys/devices/system/node/node1/cpulist",
			"8-15,24-31\n"))
		return -1;
	for (cpu = 0; cpu < 32; cpu++) {
		first = cpu % 16;
		snprintf(siblings, sizeof(siblings), "%d,%d", first,
			 first + 16);
		if (fake_cpu(root, cpu, cpu % 8, (cpu % 16) / 8, siblings))
			return -1;
	}
	return 0;
}

/* One node, two cores, no SMT: CPUs 0 and 1. No isolated file, no node
 * directory (a kernel without NUMA). */
static inline int
fake_sysfs_1node_2cpu(const char *root)
{
	if (fake_writef(root, "sys/devices/system/cpu/present", "0-1\n") ||
	    fake_writef(root, "sys/devices/system/cpu/online", "0-1\n") ||
	    fake_cpu(root, 0, 0, 0, "0") || fake_cpu(root, 1, 1, 0, "1"))
		return -1;
	return 0;
}

/* One thread of a fake process: task/<tid>/comm and status. */
static inline int
fake_task(const char *root, int pid, int tid, const char *comm,
	  const char *cpus)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", pid, tid);
	if (fake_writef(root, rel, "%s\n", comm) < 0)
		return -1;
	snprintf(rel, sizeof(rel), "proc/%d/task/%d/status", pid, tid);
	return fake_writef(root, rel,
		"Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\n"
		"Tgid:\t%d\nPid:\t%d\nCpus_allowed:\tffffffff\n"
		"Cpus_allowed_list:\t%s\nMems_allowed_list:\t0-1\n",
		comm, pid, tid, cpus);
}

#endif /* _FP_TEST_FAKEFS_H_ */
