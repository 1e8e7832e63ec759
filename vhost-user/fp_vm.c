/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fp_vm.h"
#include "readfile.h"

static void
set_error(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
set_error(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || err_size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

/* Empty a VM before it is filled: node unknown, no threads. */
static void
vm_reset(struct fp_vm *vm, enum fp_vm_source source)
{
	memset(vm, 0, sizeof(*vm));
	vm->source = source;
	vm->numa_node = -1;
}

void
fp_vm_fini(struct fp_vm *vm)
{
	if (vm == NULL)
		return;
	free(vm->threads);
	vm_reset(vm, vm->source);
}

static int
vm_add_thread(struct fp_vm *vm, const struct fp_vm_thread *t)
{
	struct fp_vm_thread *threads;

	threads = realloc(vm->threads, (vm->n_threads + 1) * sizeof(*threads));
	if (threads == NULL)
		return -ENOMEM;
	vm->threads = threads;
	threads[vm->n_threads++] = *t;
	return 0;
}

/* --- Peer of a vhost-user socket. --- */

/* Tell whether the socket address 'addr' of length 'len' is the path
 * 'a' or 'b' ('b' may be NULL). Abstract names never match. */
static bool
sun_path_matches(const struct sockaddr_un *addr, socklen_t len,
		 const char *a, const char *b)
{
	char path[sizeof(addr->sun_path) + 1];
	size_t n;

	if (len <= offsetof(struct sockaddr_un, sun_path) ||
	    addr->sun_family != AF_UNIX || addr->sun_path[0] == '\0')
		return false;
	n = len - offsetof(struct sockaddr_un, sun_path);
	if (n > sizeof(addr->sun_path))
		n = sizeof(addr->sun_path);
	memcpy(path, addr->sun_path, n);
	path[n] = '\0';
	return strcmp(path, a) == 0 || (b != NULL && strcmp(path, b) == 0);
}

/* If 'fd' is a connected AF_UNIX stream socket named 'a' or 'b' at
 * either end, set *peer to the pid of the other end and return true. */
static bool
fd_is_vhost_socket(int fd, const char *a, const char *b, pid_t *peer)
{
	struct sockaddr_un addr;
	struct ucred cred;
	socklen_t len;
	struct stat st;
	int val;

	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &val, &len) < 0 ||
	    val != AF_UNIX)
		return false;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &val, &len) < 0 ||
	    val != SOCK_STREAM)
		return false;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0 ||
	    val != 0)
		return false;

	len = sizeof(addr);
	memset(&addr, 0, sizeof(addr));
	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
	    !sun_path_matches(&addr, len, a, b)) {
		len = sizeof(addr);
		memset(&addr, 0, sizeof(addr));
		if (getpeername(fd, (struct sockaddr *)&addr, &len) < 0 ||
		    !sun_path_matches(&addr, len, a, b))
			return false;
	}
	len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    cred.pid <= 0)
		return false;
	*peer = cred.pid;
	return true;
}

int
fp_vm_socket_peer(const char *root, pid_t owner, const char *sock_path,
		  pid_t *peer)
{
	char path[PATH_MAX], canon[PATH_MAX];
	const char *alias = NULL;
	struct dirent *de;
	bool self, found = false;
	int ret, fd, pidfd = -1;
	char *end;
	long num;
	DIR *dir;

	if (sock_path == NULL || sock_path[0] == '\0' || peer == NULL)
		return -EINVAL;
	self = owner == 0 || owner == getpid();
	if (self)
		ret = fp_path_format(path, sizeof(path), root, "proc/self/fd");
	else
		ret = fp_path_format(path, sizeof(path), root, "proc/%d/fd",
				     (int)owner);
	if (ret < 0)
		return ret;
	if (realpath(sock_path, canon) != NULL && strcmp(canon, sock_path))
		alias = canon;

	if (!self) {
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
		pidfd = (int)syscall(SYS_pidfd_open, owner, 0);
		if (pidfd < 0)
			return -errno;
#else
		return -ENOSYS;
#endif
	}
	dir = opendir(path);
	if (dir == NULL) {
		ret = -errno;
		if (pidfd >= 0)
			close(pidfd);
		return ret;
	}
	while (!found && (de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		num = strtol(de->d_name, &end, 10);
		if (*end != '\0' || num > INT_MAX)
			continue;
		if (self) {
			if (num == dirfd(dir))
				continue;
			found = fd_is_vhost_socket((int)num, sock_path, alias,
						   peer);
			continue;
		}
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, (int)num, 0);
		if (fd < 0) {
			if (errno == EPERM || errno == EACCES) {
				ret = -errno;
				closedir(dir);
				close(pidfd);
				return ret;
			}
			continue;
		}
		found = fd_is_vhost_socket(fd, sock_path, alias, peer);
		close(fd);
#else
		(void)fd;
#endif
	}
	closedir(dir);
	if (pidfd >= 0)
		close(pidfd);
	return found ? 0 : -ENOENT;
}

/* --- A VM from procfs. --- */

static int
compare_tid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* Read the tids of 'pid' in ascending order. */
static int
read_tids(const char *root, pid_t pid, pid_t **tidsp, unsigned int *np)
{
	unsigned int n = 0, cap = 0;
	char path[PATH_MAX];
	pid_t *tids = NULL, *bigger;
	struct dirent *de;
	char *end;
	long tid;
	DIR *dir;
	int ret;

	ret = fp_path_format(path, sizeof(path), root, "proc/%d/task",
			     (int)pid);
	if (ret < 0)
		return ret;
	dir = opendir(path);
	if (dir == NULL)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tid = strtol(de->d_name, &end, 10);
		if (*end != '\0' || tid <= 0 || tid > INT_MAX)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			bigger = realloc(tids, cap * sizeof(*tids));
			if (bigger == NULL) {
				free(tids);
				closedir(dir);
				return -ENOMEM;
			}
			tids = bigger;
		}
		tids[n++] = (pid_t)tid;
	}
	closedir(dir);
	if (n > 0)
		qsort(tids, n, sizeof(*tids), compare_tid);
	*tidsp = tids;
	*np = n;
	return 0;
}

/* Read comm and Cpus_allowed_list of one thread. -ENOENT if it is
 * gone. */
static int
read_thread(const char *root, pid_t pid, pid_t tid, struct fp_vm_thread *t)
{
	static const char key[] = "Cpus_allowed_list:";
	char path[PATH_MAX];
	char buf[8192];
	char *line, *nl;
	int ret;

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->vcpu = -1;
	t->kind = FP_VM_THREAD_EMULATOR;
	ret = fp_path_format(path, sizeof(path), root, "proc/%d/task/%d/comm",
			     (int)pid, (int)tid);
	if (ret == 0)
		ret = fp_read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	nl = strchr(buf, '\n');
	if (nl != NULL)
		*nl = '\0';
	/* The kernel keeps at most 15 characters. */
	memcpy(t->comm, buf, strnlen(buf, sizeof(t->comm) - 1));

	ret = fp_path_format(path, sizeof(path), root,
			     "proc/%d/task/%d/status", (int)pid, (int)tid);
	if (ret == 0)
		ret = fp_read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = buf; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		if (strncmp(line, key, sizeof(key) - 1) == 0)
			return fp_cpuset_parse(line + sizeof(key) - 1,
					       &t->affinity);
	}
	return -EINVAL;
}

/* Match "CPU <n>/KVM" exactly. */
static bool
is_qemu_vcpu(const char *comm, int *vcpu)
{
	unsigned int n;
	int end = -1;

	if (sscanf(comm, "CPU %u/KVM%n", &n, &end) == 1 && end >= 0 &&
	    comm[end] == '\0' && n <= INT_MAX) {
		*vcpu = (int)n;
		return true;
	}
	return false;
}

/* Match a DPDK worker lcore name: "rte-worker-N" (DPDK 22.11),
 * "lcore-worker-N" (older) or "dpdk-workerN" (newer). */
static bool
is_dpdk_worker(const char *comm, int *lcore)
{
	static const char *const prefixes[] = {
		"rte-worker-", "lcore-worker-", "dpdk-worker",
	};
	const char *digits;
	unsigned int i;
	char *end;
	long n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		if (strncmp(comm, prefixes[i], strlen(prefixes[i])) != 0)
			continue;
		digits = comm + strlen(prefixes[i]);
		if (!isdigit((unsigned char)*digits))
			continue;
		n = strtol(digits, &end, 10);
		if (*end != '\0' || n > INT_MAX)
			continue;
		*lcore = (int)n;
		return true;
	}
	return false;
}

/* Threads every DPDK 22.11 process starts, whatever its lcores. */
static bool
is_dpdk_control(const char *comm)
{
	return strcmp(comm, "eal-intr-thread") == 0 ||
	       strcmp(comm, "rte_mp_handle") == 0;
}

static int
read_threads(const char *root, pid_t pid, struct fp_vm *vm)
{
	struct fp_vm_thread t;
	unsigned int n = 0, i;
	bool dpdk = false;
	pid_t *tids = NULL;
	int ret, index;

	ret = read_tids(root, pid, &tids, &n);
	if (ret < 0)
		return ret;
	for (i = 0; i < n; i++) {
		ret = read_thread(root, pid, tids[i], &t);
		if (ret == -ENOENT)
			continue; /* Exited meanwhile. */
		if (ret < 0)
			break;
		if (is_qemu_vcpu(t.comm, &index)) {
			t.kind = FP_VM_THREAD_VCPU;
			t.vcpu = index;
		} else if (is_dpdk_worker(t.comm, &index)) {
			t.kind = FP_VM_THREAD_VCPU;
			t.vcpu = index;
			dpdk = true;
		} else if (is_dpdk_control(t.comm)) {
			dpdk = true;
		}
		ret = vm_add_thread(vm, &t);
		if (ret < 0)
			break;
	}
	free(tids);
	if (ret < 0)
		return ret;
	if (vm->n_threads == 0)
		return -ENOENT;

	for (i = 0; i < vm->n_threads; i++) {
		struct fp_vm_thread *th = &vm->threads[i];

		/* A DPDK application's main thread is its main lcore. */
		if (dpdk && th->tid == pid)
			th->kind = FP_VM_THREAD_VCPU;
		if (th->kind == FP_VM_THREAD_VCPU) {
			vm->n_vcpus++;
			fp_cpuset_or(&vm->vcpu_cpus, &vm->vcpu_cpus,
				     &th->affinity);
		} else {
			fp_cpuset_or(&vm->emulator_cpus, &vm->emulator_cpus,
				     &th->affinity);
		}
	}
	return 0;
}

/* Sum numa_maps' "N<node>=<pages>" times "kernelpagesize_kB=" per node. */
static void
parse_numa_maps(char *text, struct fp_vm *vm)
{
	uint64_t pages[FP_NUMA_MAX];
	uint64_t total = 0, page_kb;
	unsigned long long v;
	char *line, *nl, *tok, *save;
	unsigned int node, end;
	int best = -1, i, spans = 0;

	for (line = text; line != NULL && *line != '\0'; line = nl) {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		memset(pages, 0, sizeof(pages));
		page_kb = 4;
		for (tok = strtok_r(line, " \t", &save); tok != NULL;
		     tok = strtok_r(NULL, " \t", &save)) {
			end = 0;
			if (sscanf(tok, "N%u=%llu%n", &node, &v, &end) == 2 &&
			    tok[end] == '\0' && node < FP_NUMA_MAX)
				pages[node] += v;
			else if (sscanf(tok, "kernelpagesize_kB=%llu%n", &v,
					&end) == 1 && tok[end] == '\0' &&
				 v > 0)
				page_kb = v;
		}
		for (i = 0; i < FP_NUMA_MAX; i++)
			vm->node_kb[i] += pages[i] * page_kb;
	}
	for (i = 0; i < FP_NUMA_MAX; i++) {
		total += vm->node_kb[i];
		if (vm->node_kb[i] > 0 &&
		    (best < 0 || vm->node_kb[i] > vm->node_kb[best]))
			best = i;
	}
	vm->numa_node = best;
	for (i = 0; i < FP_NUMA_MAX && total > 0; i++)
		if (vm->node_kb[i] * 100 >= total * FP_VM_SPAN_MIN_PERCENT &&
		    vm->node_kb[i] > 0)
			spans++;
	vm->spans_nodes = spans > 1;
}

/* Copy at most size - 1 bytes of 'src' (length 'len') to 'dst', turning
 * QEMU's escaped ",," into ",". */
static void
copy_option_value(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	while (*src != '\0' && n + 1 < size) {
		if (*src == ',') {
			if (src[1] != ',')
				break;
			src++;
		}
		dst[n++] = *src++;
	}
	dst[n] = '\0';
}

/* The VM name from a NUL-separated command line: "-name guest=NAME,..."
 * or "-name NAME,..."; for a DPDK application, its program name and
 * "--file-prefix=PREFIX", which tells apart several instances; else the
 * first words of the command line. */
static void
name_from_cmdline(const char *buf, size_t len, char *name, size_t size,
		  pid_t pid)
{
	const char *arg = buf, *end = buf + len, *guest, *p, *prefix = NULL;
	const char *prog;
	size_t n = 0;

	while (arg < end) {
		const char *next = arg + strlen(arg) + 1;

		if (strncmp(arg, "--file-prefix=", 14) == 0 && arg[14] != '\0')
			prefix = arg + 14;
		else if (strcmp(arg, "--file-prefix") == 0 && next < end &&
			 *next != '\0')
			prefix = next;
		if ((strcmp(arg, "-name") == 0 ||
		     strcmp(arg, "--name") == 0) && next < end) {
			guest = strstr(next, "guest=");
			if (guest != NULL &&
			    (guest == next || guest[-1] == ','))
				copy_option_value(name, size, guest + 6);
			else
				copy_option_value(name, size, next);
			if (name[0] != '\0')
				return;
		}
		arg = next;
	}

	if (prefix != NULL) {
		prog = strrchr(buf, '/');
		prog = prog != NULL ? prog + 1 : buf;
		snprintf(name, size, "%s --file-prefix=%s", prog, prefix);
		return;
	}

	/* No -name: the command's words, blank-separated. */
	name[0] = '\0';
	for (p = buf; p < end && n + 1 < size; p++)
		name[n++] = *p == '\0' ? ' ' : *p;
	while (n > 0 && name[n - 1] == ' ')
		n--;
	name[n] = '\0';
	if (n == 0)
		snprintf(name, size, "pid %d", (int)pid);
}

int
fp_vm_from_pid(const char *root, pid_t pid, struct fp_vm *vm)
{
	char path[PATH_MAX];
	char *text;
	size_t len;
	int ret;

	vm_reset(vm, FP_VM_SOURCE_PROC);
	if (pid <= 0)
		return -EINVAL;
	vm->pid = pid;
	ret = read_threads(root, pid, vm);
	if (ret < 0)
		return ret;

	ret = fp_path_format(path, sizeof(path), root, "proc/%d/numa_maps",
			     (int)pid);
	if (ret == 0 && fp_read_whole(path, &text, &len) == 0) {
		parse_numa_maps(text, vm);
		free(text);
	}

	ret = fp_path_format(path, sizeof(path), root, "proc/%d/cmdline",
			     (int)pid);
	if (ret == 0 && fp_read_whole(path, &text, &len) == 0) {
		name_from_cmdline(text, len, vm->name, sizeof(vm->name), pid);
		free(text);
	} else {
		snprintf(vm->name, sizeof(vm->name), "pid %d", (int)pid);
	}
	return 0;
}

/* --- Declared VMs. --- */

/* Set the node of a declared VM from its pCPUs, when not given. */
static void
derive_node(struct fp_vm *vm, const struct fp_topo *topo)
{
	unsigned int n_nodes = 0;

	if (topo == NULL)
		return;
	vm->numa_node = fp_topo_cpuset_node(topo, &vm->vcpu_cpus, &n_nodes);
	vm->spans_nodes = n_nodes > 1;
}

int
fp_vm_from_cpuset(const char *name, const char *cpus, int numa_node,
		  const struct fp_topo *topo, struct fp_vm *vm,
		  char *err, size_t err_size)
{
	int ret;

	vm_reset(vm, FP_VM_SOURCE_CPUSET);
	snprintf(vm->name, sizeof(vm->name), "%s", name ? name : "");
	ret = fp_cpuset_parse(cpus ? cpus : "", &vm->vcpu_cpus);
	if (ret == 0 && fp_cpuset_empty(&vm->vcpu_cpus))
		ret = -EINVAL;
	if (ret < 0) {
		set_error(err, err_size,
			  "VM %s: pCPUs '%s' are not a CPU list such as 8-11",
			  vm->name, cpus ? cpus : "");
		return ret;
	}
	if (numa_node < 0) {
		derive_node(vm, topo);
		return 0;
	}
	if (numa_node >= FP_NUMA_MAX ||
	    (topo != NULL && numa_node >= topo->n_nodes)) {
		set_error(err, err_size, "VM %s: NUMA node %d does not exist",
			  vm->name, numa_node);
		return -EINVAL;
	}
	vm->numa_node = numa_node;
	return 0;
}

/* Parse libvirt's cpuset syntax: cpulist items and "^N" exclusions,
 * applied in order. 'max' bounds the numbers (FP_CPU_MAX or
 * FP_NUMA_MAX). */
static int
parse_libvirt_set(const char *str, struct fp_cpuset *set, int max)
{
	char buf[4096], *item, *save;
	struct fp_cpuset one;
	bool exclude;
	int ret, last;

	fp_cpuset_zero(set);
	if (str == NULL || strlen(str) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", str);
	if (buf[0] == '\0' || buf[strlen(buf) - 1] == ',' || buf[0] == ',' ||
	    strstr(buf, ",,") != NULL)
		return -EINVAL;
	for (item = strtok_r(buf, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*item))
			item++;
		exclude = *item == '^';
		if (exclude)
			item++;
		if (*item == '\0')
			return -EINVAL;
		ret = fp_cpuset_parse(item, &one);
		if (ret < 0)
			return ret;
		if (fp_cpuset_empty(&one))
			return -EINVAL;
		if (exclude)
			fp_cpuset_andnot(set, set, &one);
		else
			fp_cpuset_or(set, set, &one);
	}
	/* Highest member must be below 'max'. */
	for (last = fp_cpuset_next(set, 0); last >= 0;
	     last = fp_cpuset_next(set, last + 1))
		if (last >= max)
			return -ERANGE;
	return 0;
}

/* The first child element of 'parent' named 'name', or NULL. */
static xmlNode *
child(xmlNode *parent, const char *name)
{
	xmlNode *n;

	for (n = parent ? parent->children : NULL; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcmp(n->name, (const xmlChar *)name) == 0)
			return n;
	return NULL;
}

/* An attribute as a string to free with xmlFree(), or NULL. */
static char *
attr(xmlNode *node, const char *name)
{
	return (char *)xmlGetProp(node, (const xmlChar *)name);
}

/* Parse the text of an element as a non-negative int; -1 if absent or
 * not a number. */
static int
element_int(xmlNode *node)
{
	char *text, *end;
	long v = -1;

	if (node == NULL)
		return -1;
	text = (char *)xmlNodeGetContent(node);
	if (text != NULL) {
		v = strtol(text, &end, 10);
		while (isspace((unsigned char)*end))
			end++;
		if (end == text || *end != '\0' || v < 0 || v > INT_MAX)
			v = -1;
		xmlFree(text);
	}
	return (int)v;
}

/* Fill the vCPU pins and emulator pin of a domain. */
static int
libvirt_cpus(const char *path, xmlNode *domain, struct fp_vm *vm,
	     char *err, size_t err_size)
{
	struct fp_cpuset default_cpus, pinned_vcpus;
	xmlNode *vcpu = child(domain, "vcpu");
	xmlNode *cputune = child(domain, "cputune");
	bool have_default = false;
	struct fp_vm_thread t;
	char *value, *index, *end;
	xmlNode *n;
	long v;
	int ret, i, n_vcpus;

	fp_cpuset_zero(&default_cpus);
	fp_cpuset_zero(&pinned_vcpus);
	n_vcpus = element_int(vcpu);
	value = vcpu ? attr(vcpu, "cpuset") : NULL;
	if (value != NULL) {
		ret = parse_libvirt_set(value, &default_cpus, FP_CPU_MAX);
		if (ret < 0 || fp_cpuset_empty(&default_cpus)) {
			set_error(err, err_size, "libvirt XML %s: <vcpu "
				  "cpuset='%s'> is not a CPU list", path,
				  value);
			xmlFree(value);
			return ret < 0 ? ret : -EINVAL;
		}
		xmlFree(value);
		have_default = true;
	}

	for (n = cputune ? cputune->children : NULL; n != NULL; n = n->next) {
		bool emulator;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		emulator = xmlStrcmp(n->name,
				     (const xmlChar *)"emulatorpin") == 0;
		if (!emulator &&
		    xmlStrcmp(n->name, (const xmlChar *)"vcpupin") != 0)
			continue;
		memset(&t, 0, sizeof(t));
		t.vcpu = -1;
		t.kind = emulator ? FP_VM_THREAD_EMULATOR : FP_VM_THREAD_VCPU;
		if (!emulator) {
			index = attr(n, "vcpu");
			v = -1;
			if (index != NULL) {
				v = strtol(index, &end, 10);
				if (end == index || *end != '\0')
					v = -1;
				xmlFree(index);
			}
			if (v < 0 || v >= FP_CPU_MAX) {
				set_error(err, err_size, "libvirt XML %s: "
					  "<vcpupin> without a valid vcpu= "
					  "attribute", path);
				return -EINVAL;
			}
			t.vcpu = (int)v;
			snprintf(t.comm, sizeof(t.comm), "CPU %ld/KVM", v);
		} else {
			snprintf(t.comm, sizeof(t.comm), "emulator");
		}
		value = attr(n, "cpuset");
		ret = parse_libvirt_set(value, &t.affinity, FP_CPU_MAX);
		if (ret < 0 || fp_cpuset_empty(&t.affinity)) {
			set_error(err, err_size, "libvirt XML %s: <%s> "
				  "cpuset '%s' is not a CPU list", path,
				  (const char *)n->name,
				  value ? value : "(missing)");
			xmlFree(value);
			return ret < 0 ? ret : -EINVAL;
		}
		xmlFree(value);
		if (emulator) {
			fp_cpuset_or(&vm->emulator_cpus, &vm->emulator_cpus,
				     &t.affinity);
		} else {
			if (fp_cpuset_isset(&pinned_vcpus, t.vcpu))
				continue; /* libvirt refuses duplicates. */
			fp_cpuset_set(&pinned_vcpus, t.vcpu);
			fp_cpuset_or(&vm->vcpu_cpus, &vm->vcpu_cpus,
				     &t.affinity);
			vm->n_vcpus++;
		}
		ret = vm_add_thread(vm, &t);
		if (ret < 0)
			return ret;
	}

	/* vCPUs without a <vcpupin> run on <vcpu cpuset>. */
	if (have_default) {
		for (i = 0; i < n_vcpus && i < FP_CPU_MAX; i++) {
			if (fp_cpuset_isset(&pinned_vcpus, i))
				continue;
			memset(&t, 0, sizeof(t));
			t.kind = FP_VM_THREAD_VCPU;
			t.vcpu = i;
			snprintf(t.comm, sizeof(t.comm), "CPU %d/KVM", i);
			t.affinity = default_cpus;
			ret = vm_add_thread(vm, &t);
			if (ret < 0)
				return ret;
			vm->n_vcpus++;
		}
		fp_cpuset_or(&vm->vcpu_cpus, &vm->vcpu_cpus, &default_cpus);
		if (fp_cpuset_empty(&vm->emulator_cpus))
			vm->emulator_cpus = default_cpus;
	}
	if (n_vcpus > 0 && vm->n_vcpus < (unsigned int)n_vcpus &&
	    !have_default)
		vm->n_vcpus = (unsigned int)n_vcpus;
	if (fp_cpuset_empty(&vm->vcpu_cpus)) {
		set_error(err, err_size, "libvirt XML %s: no <cputune>/"
			  "<vcpu cpuset>: cannot find the VM's pCPUs", path);
		return -EINVAL;
	}
	return 0;
}

/* Fill the memory node from <numatune><memory nodeset=>, or from the
 * pCPUs' nodes. */
static int
libvirt_node(const char *path, xmlNode *domain, const struct fp_topo *topo,
	     struct fp_vm *vm, char *err, size_t err_size)
{
	xmlNode *memory = child(child(domain, "numatune"), "memory");
	struct fp_cpuset nodes, cpus;
	unsigned int most = 0, count;
	char *value;
	int ret, node;

	value = memory ? attr(memory, "nodeset") : NULL;
	if (value == NULL) {
		derive_node(vm, topo);
		return 0;
	}
	ret = parse_libvirt_set(value, &nodes, FP_NUMA_MAX);
	if (ret < 0 || fp_cpuset_empty(&nodes)) {
		set_error(err, err_size, "libvirt XML %s: <numatune><memory "
			  "nodeset='%s'> is not a node list", path, value);
		xmlFree(value);
		return ret < 0 ? ret : -EINVAL;
	}
	xmlFree(value);
	vm->spans_nodes = fp_cpuset_count(&nodes) > 1;
	vm->numa_node = fp_cpuset_next(&nodes, 0);
	if (!vm->spans_nodes || topo == NULL)
		return 0;
	/* Several nodes: the one holding most of the vCPUs' pCPUs. */
	for (node = fp_cpuset_next(&nodes, 0); node >= 0;
	     node = fp_cpuset_next(&nodes, node + 1)) {
		if (node >= topo->n_nodes)
			continue;
		fp_cpuset_and(&cpus, &vm->vcpu_cpus, &topo->node_cpus[node]);
		count = fp_cpuset_count(&cpus);
		if (count > most) {
			most = count;
			vm->numa_node = node;
		}
	}
	return 0;
}

int
fp_vm_from_libvirt_xml(const char *path, const struct fp_topo *topo,
		       struct fp_vm *vm, char *err, size_t err_size)
{
	xmlParserCtxtPtr ctxt;
	const xmlError *xerr;
	xmlNode *domain, *name;
	xmlDoc *doc;
	char *text = NULL, *value;
	size_t len, n;
	int ret;

	vm_reset(vm, FP_VM_SOURCE_LIBVIRT);
	if (path == NULL)
		return -EINVAL;
	ret = fp_read_whole(path, &text, &len);
	if (ret < 0) {
		set_error(err, err_size, "libvirt XML %s: cannot read it: %s",
			  path, strerror(-ret));
		return ret;
	}
	if (len > INT_MAX) {
		free(text);
		set_error(err, err_size, "libvirt XML %s: too big", path);
		return -EFBIG;
	}
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL) {
		free(text);
		return -ENOMEM;
	}
	doc = xmlCtxtReadMemory(ctxt, text, (int)len, path, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				XML_PARSE_NOWARNING);
	free(text);
	if (doc == NULL) {
		xerr = xmlCtxtGetLastError(ctxt);
		if (xerr != NULL && xerr->message != NULL) {
			set_error(err, err_size, "libvirt XML %s: not "
				  "well-formed XML: line %d: %s", path,
				  xerr->line, xerr->message);
			/* libxml2 ends its messages with a newline. */
			n = err != NULL ? strlen(err) : 0;
			while (n > 0 && err[n - 1] == '\n')
				err[--n] = '\0';
		} else {
			set_error(err, err_size, "libvirt XML %s: not "
				  "well-formed XML", path);
		}
		xmlFreeParserCtxt(ctxt);
		return -EINVAL;
	}
	xmlFreeParserCtxt(ctxt);

	domain = xmlDocGetRootElement(doc);
	if (domain == NULL ||
	    xmlStrcmp(domain->name, (const xmlChar *)"domain") != 0) {
		set_error(err, err_size, "libvirt XML %s: root element is "
			  "<%s>, not <domain>", path,
			  domain ? (const char *)domain->name : "");
		ret = -EINVAL;
		goto out;
	}
	name = child(domain, "name");
	value = name ? (char *)xmlNodeGetContent(name) : NULL;
	if (value == NULL || value[0] == '\0') {
		set_error(err, err_size, "libvirt XML %s: no <name>", path);
		xmlFree(value);
		ret = -EINVAL;
		goto out;
	}
	snprintf(vm->name, sizeof(vm->name), "%s", value);
	xmlFree(value);

	ret = libvirt_cpus(path, domain, vm, err, err_size);
	if (ret == 0)
		ret = libvirt_node(path, domain, topo, vm, err, err_size);
out:
	xmlFreeDoc(doc);
	return ret;
}

/* The VM that 'decl' declares, if it declares one that can be read.
 * Returns 0 with the origin, 1 if there is nothing to use (nothing
 * declared, or the declaration's error in 'found'). */
static int
discover_declared(const struct fp_vm_port *port, const struct fp_topo *topo,
		 struct fp_vm *vm, struct fp_vm_discovery *found)
{
	const struct fp_vm_decl *d = &port->decl;
	char err[256] = "";

	if (d->libvirt_xml != NULL) {
		if (fp_vm_from_libvirt_xml(d->libvirt_xml, topo, vm, err,
					   sizeof(err)) == 0) {
			if (d->vm_name != NULL)
				snprintf(vm->name, sizeof(vm->name), "%s",
					 d->vm_name);
			snprintf(found->origin, sizeof(found->origin),
				 "declared: vm-libvirt-xml %s",
				 d->libvirt_xml);
			return 0;
		}
		fp_vm_fini(vm);
		snprintf(found->decl_error, sizeof(found->decl_error),
			 "%s: %s; looking for the VM behind the socket "
			 "instead", port->name, err);
	} else if (d->cpus != NULL) {
		if (fp_vm_from_cpuset(d->vm_name != NULL ? d->vm_name :
				      port->name, d->cpus, d->numa_node, topo,
				      vm, err, sizeof(err)) == 0) {
			snprintf(found->origin, sizeof(found->origin),
				 "declared: vm-cpus %s%s", d->cpus,
				 d->numa_node >= 0 ? ", vm-numa-node" : "");
			return 0;
		}
		fp_vm_fini(vm);
		snprintf(found->decl_error, sizeof(found->decl_error),
			 "%s: vm-cpus: %s; looking for the VM behind the "
			 "socket instead", port->name, err);
	}
	return 1;
}

int
fp_vm_discover(const char *root, const struct fp_vm_port *port,
	       const struct fp_topo *topo, struct fp_vm *vm,
	       struct fp_vm_discovery *found)
{
	const char *sock = port->socket;
	pid_t peer;
	int ret;

	memset(vm, 0, sizeof(*vm));
	found->origin[0] = '\0';
	found->decl_error[0] = '\0';
	found->error[0] = '\0';
	if (discover_declared(port, topo, vm, found) == 0)
		return 0;

	if (sock == NULL) {
		snprintf(found->error, sizeof(found->error), "no VM connected");
		return -ENOENT;
	}
	ret = fp_vm_socket_peer(root, 0, sock, &peer);
	if (ret < 0) {
		snprintf(found->error, sizeof(found->error),
			 "no peer found for socket %s (%s)", sock,
			 strerror(-ret));
		return ret;
	}
	ret = fp_vm_from_pid(root, peer, vm);
	if (ret < 0) {
		fp_vm_fini(vm);
		snprintf(found->error, sizeof(found->error),
			 "cannot read the peer, pid %d, of socket %s (%s)",
			 (int)peer, sock, strerror(-ret));
		return ret;
	}
	if (vm->n_vcpus == 0) {
		snprintf(found->error, sizeof(found->error),
			 "the peer of socket %s, pid %d (%s), has no vCPU "
			 "or lcore threads; declare the VM with "
			 "other_config:vm-cpus or vm-libvirt-xml",
			 sock, (int)peer, vm->name);
		fp_vm_fini(vm);
		return -EINVAL;
	}
	if (port->decl.vm_name != NULL)
		snprintf(vm->name, sizeof(vm->name), "%s", port->decl.vm_name);
	snprintf(found->origin, sizeof(found->origin),
		 "peer of socket %s (OVS is the vhost-user %s)", sock,
		 port->mode != NULL ? port->mode : "?");
	return 0;
}

int
fp_vm_format(const struct fp_vm *vm, char *buf, size_t size)
{
	char vcpus[256], emu[256], node[64];

	fp_cpuset_format(&vm->vcpu_cpus, vcpus, sizeof(vcpus));
	fp_cpuset_format(&vm->emulator_cpus, emu, sizeof(emu));
	if (vm->numa_node < 0)
		snprintf(node, sizeof(node), "unknown");
	else
		snprintf(node, sizeof(node), "%d%s", vm->numa_node,
			 vm->spans_nodes ? " (spans nodes)" : "");
	if (vm->pid > 0)
		return snprintf(buf, size, "VM %s (pid %d): %u vCPUs on pCPUs "
				"%s, emulator on %s, memory on node %s",
				vm->name, (int)vm->pid, vm->n_vcpus,
				vcpus[0] ? vcpus : "none", emu[0] ? emu : "none",
				node);
	return snprintf(buf, size, "VM %s: %u vCPUs on pCPUs %s, emulator "
			"on %s, memory on node %s", vm->name, vm->n_vcpus,
			vcpus[0] ? vcpus : "none", emu[0] ? emu : "none", node);
}
