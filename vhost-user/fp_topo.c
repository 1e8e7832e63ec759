/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_topo.h"
#include "readfile.h"

#define WORD(cpu) ((unsigned int)(cpu) / 64)
#define BIT(cpu) (UINT64_C(1) << ((unsigned int)(cpu) % 64))
#define N_WORDS (FP_CPU_MAX / 64)

void
fp_cpuset_zero(struct fp_cpuset *set)
{
	memset(set, 0, sizeof(*set));
}

void
fp_cpuset_set(struct fp_cpuset *set, int cpu)
{
	if (cpu >= 0 && cpu < FP_CPU_MAX)
		set->bits[WORD(cpu)] |= BIT(cpu);
}

void
fp_cpuset_clear(struct fp_cpuset *set, int cpu)
{
	if (cpu >= 0 && cpu < FP_CPU_MAX)
		set->bits[WORD(cpu)] &= ~BIT(cpu);
}

bool
fp_cpuset_isset(const struct fp_cpuset *set, int cpu)
{
	if (cpu < 0 || cpu >= FP_CPU_MAX)
		return false;
	return (set->bits[WORD(cpu)] & BIT(cpu)) != 0;
}

unsigned int
fp_cpuset_count(const struct fp_cpuset *set)
{
	unsigned int i, n = 0;

	for (i = 0; i < N_WORDS; i++)
		n += __builtin_popcountll(set->bits[i]);
	return n;
}

bool
fp_cpuset_empty(const struct fp_cpuset *set)
{
	unsigned int i;

	for (i = 0; i < N_WORDS; i++)
		if (set->bits[i] != 0)
			return false;
	return true;
}

int
fp_cpuset_next(const struct fp_cpuset *set, int from)
{
	unsigned int i;
	uint64_t word;

	if (from < 0)
		from = 0;
	if (from >= FP_CPU_MAX)
		return -1;
	i = WORD(from);
	word = set->bits[i] & ~(BIT(from) - 1);
	for (;;) {
		if (word != 0)
			return (int)(i * 64 + __builtin_ctzll(word));
		if (++i == N_WORDS)
			return -1;
		word = set->bits[i];
	}
}

void
fp_cpuset_and(struct fp_cpuset *dst, const struct fp_cpuset *a,
	      const struct fp_cpuset *b)
{
	unsigned int i;

	for (i = 0; i < N_WORDS; i++)
		dst->bits[i] = a->bits[i] & b->bits[i];
}

void
fp_cpuset_or(struct fp_cpuset *dst, const struct fp_cpuset *a,
	     const struct fp_cpuset *b)
{
	unsigned int i;

	for (i = 0; i < N_WORDS; i++)
		dst->bits[i] = a->bits[i] | b->bits[i];
}

void
fp_cpuset_andnot(struct fp_cpuset *dst, const struct fp_cpuset *a,
		 const struct fp_cpuset *b)
{
	unsigned int i;

	for (i = 0; i < N_WORDS; i++)
		dst->bits[i] = a->bits[i] & ~b->bits[i];
}

bool
fp_cpuset_equal(const struct fp_cpuset *a, const struct fp_cpuset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

/* Parse a decimal CPU number at *p, advancing *p. Digits only: no sign,
 * no blanks. */
static int
parse_cpu(const char **p, int *cpu)
{
	const char *s = *p;
	long v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (*s - '0');
		if (v >= FP_CPU_MAX) {
			while (isdigit((unsigned char)*s))
				s++;
			*p = s;
			return -ERANGE;
		}
		s++;
	}
	*cpu = (int)v;
	*p = s;
	return 0;
}

int
fp_cpuset_parse(const char *str, struct fp_cpuset *set)
{
	const char *p = str, *end;
	int lo, hi, cpu, ret;

	fp_cpuset_zero(set);
	if (str == NULL)
		return -EINVAL;
	while (isspace((unsigned char)*p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (p == end)
		return 0;
	for (;;) {
		ret = parse_cpu(&p, &lo);
		if (ret < 0)
			goto fail;
		hi = lo;
		if (*p == '-') {
			p++;
			ret = parse_cpu(&p, &hi);
			if (ret < 0)
				goto fail;
			if (hi < lo) {
				ret = -EINVAL;
				goto fail;
			}
		}
		for (cpu = lo; cpu <= hi; cpu++)
			fp_cpuset_set(set, cpu);
		if (p == end)
			return 0;
		if (*p != ',') {
			ret = -EINVAL;
			goto fail;
		}
		p++;
	}
fail:
	fp_cpuset_zero(set);
	return ret;
}

int
fp_cpuset_format(const struct fp_cpuset *set, char *buf, size_t size)
{
	size_t len = 0;
	int lo, hi, n;

	if (size > 0)
		buf[0] = '\0';
	for (lo = fp_cpuset_next(set, 0); lo >= 0;
	     lo = fp_cpuset_next(set, hi + 1)) {
		hi = lo;
		while (hi + 1 < FP_CPU_MAX && fp_cpuset_isset(set, hi + 1))
			hi++;
		n = snprintf(len < size ? buf + len : NULL,
			     len < size ? size - len : 0,
			     hi == lo ? "%s%d" : "%s%d-%d",
			     len > 0 ? "," : "", lo, hi);
		len += n;
		if (hi + 1 >= FP_CPU_MAX)
			break;
	}
	return (int)len;
}

/* Read a cpulist file under 'root'. */
static int
read_cpulist(const char *root, struct fp_cpuset *set, const char *rel)
{
	char path[PATH_MAX];
	char buf[8192];
	int ret;

	fp_cpuset_zero(set);
	ret = fp_path_format(path, sizeof(path), root, "%s", rel);
	if (ret < 0)
		return ret;
	ret = fp_read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	return fp_cpuset_parse(buf, set);
}

/* Read a file holding one non-negative integer. */
static int
read_int(const char *path, int *value)
{
	char buf[64], *end;
	long v;
	int ret;

	ret = fp_read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	v = strtol(buf, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || end == buf || *end != '\0' || v < -1 ||
	    v > INT_MAX)
		return -EINVAL;
	*value = (int)v;
	return 0;
}

static int
load_cpu(const char *root, struct fp_topo *topo, int cpu)
{
	struct fp_topo_cpu *c = &topo->cpu[cpu];
	char path[PATH_MAX];
	char rel[128];
	int ret;

	ret = fp_path_format(path, sizeof(path), root,
		"sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
	if (ret == 0)
		ret = read_int(path, &c->core_id);
	if (ret == -EINVAL)
		return ret;
	ret = fp_path_format(path, sizeof(path), root,
		"sys/devices/system/cpu/cpu%d/topology/physical_package_id",
		cpu);
	if (ret == 0)
		ret = read_int(path, &c->package);
	if (ret == -EINVAL)
		return ret;
	snprintf(rel, sizeof(rel),
		 "sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
		 cpu);
	ret = read_cpulist(root, &c->siblings, rel);
	if (ret == -EINVAL || ret == -ERANGE)
		return ret;
	fp_cpuset_set(&c->siblings, cpu);
	return 0;
}

static int
load_nodes(const char *root, struct fp_topo *topo)
{
	char path[PATH_MAX];
	struct dirent *de;
	char rel[128];
	bool any = false;
	DIR *dir;
	int ret = 0, cpu;
	char *end;
	long node;

	ret = fp_path_format(path, sizeof(path), root,
			     "sys/devices/system/node");
	if (ret < 0)
		return ret;
	dir = opendir(path);
	if (dir != NULL) {
		while ((de = readdir(dir)) != NULL) {
			if (strncmp(de->d_name, "node", 4) != 0 ||
			    !isdigit((unsigned char)de->d_name[4]))
				continue;
			node = strtol(de->d_name + 4, &end, 10);
			if (*end != '\0')
				continue;
			if (node >= FP_NUMA_MAX) {
				ret = -ERANGE;
				break;
			}
			snprintf(rel, sizeof(rel),
				 "sys/devices/system/node/node%ld/cpulist",
				 node);
			ret = read_cpulist(root, &topo->node_cpus[node], rel);
			if (ret < 0)
				break;
			any = true;
			if (node + 1 > topo->n_nodes)
				topo->n_nodes = (int)node + 1;
		}
		closedir(dir);
		if (ret < 0)
			return ret;
	}
	if (!any) {
		/* No NUMA in this kernel: one node. */
		topo->n_nodes = 1;
		topo->node_cpus[0] = topo->present;
	}
	for (node = 0; node < topo->n_nodes; node++)
		for (cpu = fp_cpuset_next(&topo->node_cpus[node], 0);
		     cpu >= 0;
		     cpu = fp_cpuset_next(&topo->node_cpus[node], cpu + 1))
			topo->cpu[cpu].node = (int)node;
	return 0;
}

int
fp_topo_load(const char *root, struct fp_topo **topop)
{
	struct fp_topo *topo;
	int ret, ret2, cpu;

	*topop = NULL;
	topo = calloc(1, sizeof(*topo));
	if (topo == NULL)
		return -ENOMEM;
	for (cpu = 0; cpu < FP_CPU_MAX; cpu++) {
		topo->cpu[cpu].core_id = -1;
		topo->cpu[cpu].package = -1;
		topo->cpu[cpu].node = -1;
	}

	ret = read_cpulist(root, &topo->present,
			   "sys/devices/system/cpu/present");
	ret2 = read_cpulist(root, &topo->online,
			    "sys/devices/system/cpu/online");
	if (ret == -EINVAL || ret == -ERANGE) {
		goto fail;
	} else if (ret2 == -EINVAL || ret2 == -ERANGE) {
		ret = ret2;
		goto fail;
	} else if (ret < 0 && ret2 < 0) {
		ret = -ENOENT;
		goto fail;
	} else if (ret < 0) {
		topo->present = topo->online;
	} else if (ret2 < 0) {
		topo->online = topo->present;
	}

	ret = read_cpulist(root, &topo->isolated,
			   "sys/devices/system/cpu/isolated");
	if (ret == -EINVAL || ret == -ERANGE)
		goto fail;

	for (cpu = fp_cpuset_next(&topo->present, 0); cpu >= 0;
	     cpu = fp_cpuset_next(&topo->present, cpu + 1)) {
		ret = load_cpu(root, topo, cpu);
		if (ret < 0)
			goto fail;
	}
	ret = load_nodes(root, topo);
	if (ret < 0)
		goto fail;
	*topop = topo;
	return 0;
fail:
	free(topo);
	return ret;
}

void
fp_topo_free(struct fp_topo *topo)
{
	free(topo);
}

int
fp_topo_cpu_node(const struct fp_topo *topo, int cpu)
{
	if (cpu < 0 || cpu >= FP_CPU_MAX)
		return -1;
	return topo->cpu[cpu].node;
}

int
fp_topo_cpuset_node(const struct fp_topo *topo, const struct fp_cpuset *set,
		    unsigned int *n_nodes)
{
	unsigned int count[FP_NUMA_MAX] = { 0 };
	unsigned int nodes = 0;
	int cpu, node, best = -1;

	for (cpu = fp_cpuset_next(set, 0); cpu >= 0;
	     cpu = fp_cpuset_next(set, cpu + 1)) {
		node = fp_topo_cpu_node(topo, cpu);
		if (node < 0)
			continue;
		if (count[node]++ == 0)
			nodes++;
	}
	for (node = 0; node < FP_NUMA_MAX; node++)
		if (count[node] > 0 &&
		    (best < 0 || count[node] > count[best]))
			best = node;
	if (n_nodes != NULL)
		*n_nodes = nodes;
	return best;
}
