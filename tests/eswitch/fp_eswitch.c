/* SPDX-License-Identifier: Apache-2.0 */

/*
 * net_fpesw: a TEST FIXTURE, not a driver for real hardware.
 *
 * It models an SR-IOV e-switch with rte_flow offload, for Foldpath's
 * offload tests: no DPDK 22.11 software PMD implements transfer rules with
 * VXLAN decapsulation, COUNT and AGE. Ports with the same "switch" devarg
 * form one e-switch: one uplink (role=uplink, whose "wire" is a Linux
 * interface) and representors (role=rep, each of whose VF is a Linux
 * interface; the VM attaches to the other end of it). A thread plays the
 * hardware: a frame from the wire or a VF that matches a rule of its port
 * is handled by the rule's actions and never reaches the host; a miss goes
 * to the host through rx_burst. See README.rst for what it does not model.
 *
 * This file holds the vdev probe and remove, the ethdev ops and the list
 * of e-switches; fp_eswitch.h lists the other files and states the
 * threading rules.
 */

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <rte_ether.h>
#include <rte_kvargs.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <bus_vdev_driver.h>
#include <ethdev_driver.h>
#include <ethdev_vdev.h>

#include "fp_eswitch.h"

static const char *const fpesw_valid_args[] = {
	"role", "switch", "iface", "vf", "max_rules", "reject", "mac", NULL,
};

/* All e-switches. fpesw_mutex also guards each switch's 'refs', 'running'
 * and 'thread' (see fp_eswitch.h). */
static LIST_HEAD(, fpesw_switch) fpesw_switches =
	LIST_HEAD_INITIALIZER(fpesw_switches);
static pthread_mutex_t fpesw_mutex = PTHREAD_MUTEX_INITIALIZER;

/* ethdev ops. */

static int
fpesw_dev_configure(struct rte_eth_dev *dev)
{
	(void)dev;
	return 0;
}

static int
fpesw_dev_start(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct fpesw_switch *sw = p->sw;
	int ret = 0;

	pthread_mutex_lock(&fpesw_mutex);
	p->started = true;
	dev->data->dev_link.link_status = RTE_ETH_LINK_UP;
	if (!sw->running) {
		atomic_store(&sw->stop, false);
		ret = pthread_create(&sw->thread, NULL, fpesw_thread, sw);
		if (ret == 0) {
			char name[16];

			snprintf(name, sizeof(name), "fpesw-%.9s", sw->name);
			pthread_setname_np(sw->thread, name);
			sw->running = true;
		}
	}
	pthread_mutex_unlock(&fpesw_mutex);
	return -ret;
}

static int
fpesw_dev_stop(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);

	p->started = false;
	dev->data->dev_link.link_status = RTE_ETH_LINK_DOWN;
	return 0;
}

static void
fpesw_switch_put(struct fpesw_switch *sw)
{
	struct rte_flow_action_handle *h;

	if (--sw->refs > 0)
		return;
	if (sw->running) {
		atomic_store(&sw->stop, true);
		pthread_join(sw->thread, NULL);
	}
	/* The rules of all ports are gone: so are the handles' users. */
	while ((h = LIST_FIRST(&sw->handles)) != NULL) {
		fpesw_handle_unlink(sw, h);
		fpesw_handle_free(h);
	}
	LIST_REMOVE(sw, next);
	rte_eth_switch_domain_free(sw->domain_id);
	pthread_rwlock_destroy(&sw->lock);
	free(sw);
}

static int
fpesw_dev_close(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);
	struct fpesw_switch *sw;
	struct rte_mbuf *m;
	unsigned int i;

	if (rte_eal_process_type() != RTE_PROC_PRIMARY || p == NULL ||
	    p->sw == NULL)
		return 0;
	sw = p->sw;
	fpesw_flow_flush(dev, NULL);
	pthread_mutex_lock(&fpesw_mutex);
	/* Rules of other ports that send to this one must go first. */
	pthread_rwlock_wrlock(&sw->lock);
	for (i = 0; i < FPESW_MAX_PORTS; i++) {
		struct fpesw_port *o = sw->ports[i];
		struct rte_flow *f, *t;

		if (o == p)
			sw->ports[i] = NULL;
		if (o == NULL || o == p)
			continue;
		for (f = TAILQ_FIRST(&o->rules); f != NULL; f = t) {
			t = TAILQ_NEXT(f, next);
			if (f->out == p) {
				fpesw_rule_unlink(o, f);
				fpesw_flow_release_ct(f);
				fpesw_flow_free(f);
			}
		}
	}
	pthread_rwlock_unlock(&sw->lock);
	fpesw_switch_put(sw);
	pthread_mutex_unlock(&fpesw_mutex);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if (p->rx_ring != NULL) {
		while (rte_ring_dequeue(p->rx_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(p->rx_ring);
		p->rx_ring = NULL;
	}
	p->sw = NULL;
	dev->data->mac_addrs = NULL;
	return 0;
}

static int
fpesw_dev_infos_get(struct rte_eth_dev *dev, struct rte_eth_dev_info *info)
{
	struct fpesw_port *p = fpesw_port(dev);

	info->max_mac_addrs = 1;
	info->max_rx_pktlen = FPESW_MAX_FRAME;
	info->max_rx_queues = 1;
	info->max_tx_queues = 1;
	info->min_mtu = RTE_ETHER_MIN_MTU;
	info->max_mtu = FPESW_MAX_FRAME - RTE_ETHER_HDR_LEN - 4;
	info->switch_info.name = p->sw->name;
	info->switch_info.domain_id = p->sw->domain_id;
	info->switch_info.port_id = p->role == FPESW_UPLINK ? 0xffff : p->vf;
	return 0;
}

static int
fpesw_link_update(struct rte_eth_dev *dev, int wait)
{
	(void)dev;
	(void)wait;
	return 0;
}

static int
fpesw_noop(struct rte_eth_dev *dev)
{
	(void)dev;
	return 0;
}

static int
fpesw_mtu_set(struct rte_eth_dev *dev, uint16_t mtu)
{
	(void)dev;
	return mtu + RTE_ETHER_HDR_LEN + 4 <= FPESW_MAX_FRAME ? 0 : -EINVAL;
}

/* Frames the kernel dropped because the switch thread did not read the
 * outside's socket in time (its receive buffer was full): a NIC counts
 * what it misses, so they go to imissed with the ring's drops. The
 * kernel's count restarts at each read. */
static void
fpesw_sock_drops(struct fpesw_port *p)
{
	struct tpacket_stats ts;
	socklen_t len = sizeof(ts);

	if (p->fd >= 0 &&
	    getsockopt(p->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
		atomic_fetch_add(&p->rx_drops, ts.tp_drops);
}

static int
fpesw_stats_get(struct rte_eth_dev *dev, struct rte_eth_stats *st)
{
	struct fpesw_port *p = fpesw_port(dev);

	fpesw_sock_drops(p);
	st->ipackets = atomic_load(&p->rx_pkts);
	st->ibytes = atomic_load(&p->rx_bytes);
	st->opackets = atomic_load(&p->tx_pkts);
	st->obytes = atomic_load(&p->tx_bytes);
	st->imissed = atomic_load(&p->rx_drops);
	st->oerrors = atomic_load(&p->tx_errors);
	return 0;
}

static int
fpesw_stats_reset(struct rte_eth_dev *dev)
{
	struct fpesw_port *p = fpesw_port(dev);

	/* The kernel's drops so far are reset too. */
	fpesw_sock_drops(p);
	atomic_store(&p->rx_pkts, 0);
	atomic_store(&p->rx_bytes, 0);
	atomic_store(&p->tx_pkts, 0);
	atomic_store(&p->tx_bytes, 0);
	atomic_store(&p->rx_drops, 0);
	atomic_store(&p->tx_errors, 0);
	return 0;
}

static int
fpesw_rx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		     unsigned int socket, const struct rte_eth_rxconf *conf,
		     struct rte_mempool *mp)
{
	struct fpesw_port *p = fpesw_port(dev);
	char name[RTE_RING_NAMESIZE];

	(void)nb_desc;
	(void)conf;
	if (qid != 0)
		return -EINVAL;
	p->mp = mp;
	if (p->rx_ring == NULL) {
		snprintf(name, sizeof(name), "fpesw_rx_%u",
			 dev->data->port_id);
		p->rx_ring = rte_ring_create(name, FPESW_RING_SIZE, (int)socket,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (p->rx_ring == NULL)
			return -rte_errno;
	}
	dev->data->rx_queues[qid] = p;
	return 0;
}

static int
fpesw_tx_queue_setup(struct rte_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
		     unsigned int socket, const struct rte_eth_txconf *conf)
{
	(void)nb_desc;
	(void)socket;
	(void)conf;
	if (qid != 0)
		return -EINVAL;
	dev->data->tx_queues[qid] = fpesw_port(dev);
	return 0;
}

static void
fpesw_queue_release(struct rte_eth_dev *dev, uint16_t qid)
{
	(void)dev;
	(void)qid;
}

static int
fpesw_flow_ops_get(struct rte_eth_dev *dev, const struct rte_flow_ops **ops)
{
	(void)dev;
	*ops = &fpesw_flow_ops;
	return 0;
}

static const struct eth_dev_ops fpesw_ops = {
	.dev_configure = fpesw_dev_configure,
	.dev_start = fpesw_dev_start,
	.dev_stop = fpesw_dev_stop,
	.dev_close = fpesw_dev_close,
	.dev_infos_get = fpesw_dev_infos_get,
	.link_update = fpesw_link_update,
	.promiscuous_enable = fpesw_noop,
	.promiscuous_disable = fpesw_noop,
	.allmulticast_enable = fpesw_noop,
	.allmulticast_disable = fpesw_noop,
	.mtu_set = fpesw_mtu_set,
	.stats_get = fpesw_stats_get,
	.stats_reset = fpesw_stats_reset,
	.rx_queue_setup = fpesw_rx_queue_setup,
	.tx_queue_setup = fpesw_tx_queue_setup,
	.rx_queue_release = fpesw_queue_release,
	.tx_queue_release = fpesw_queue_release,
	.flow_ops_get = fpesw_flow_ops_get,
};

/* Probe and remove. */

static int
fpesw_kv_string(const char *key, const char *value, void *arg)
{
	(void)key;
	snprintf(arg, 256, "%s", value);
	return 0;
}

static int
fpesw_open_socket(const char *iface)
{
	struct sockaddr_ll sll;
	int fd, one = 1;
	unsigned int idx = if_nametoindex(iface);

	if (idx == 0)
		return -ENODEV;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
#ifdef PACKET_IGNORE_OUTGOING
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	(void)one;
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)idx;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int
fpesw_probe(struct rte_vdev_device *vdev)
{
	char role[256] = "", swname[256] = "", iface[256] = "", vf[256] = "0";
	char max_rules[256] = "1024", reject[256] = "", mac[256] = "";
	const char *name = rte_vdev_device_name(vdev);
	struct rte_kvargs *kv;
	struct rte_eth_dev *dev;
	struct fpesw_switch *sw;
	struct fpesw_port *p;
	unsigned int i;
	int fd;

	kv = rte_kvargs_parse(rte_vdev_device_args(vdev), fpesw_valid_args);
	if (kv == NULL) {
		RTE_LOG(ERR, PMD, "%s: bad devargs\n", name);
		return -EINVAL;
	}
	rte_kvargs_process(kv, "role", fpesw_kv_string, role);
	rte_kvargs_process(kv, "switch", fpesw_kv_string, swname);
	rte_kvargs_process(kv, "iface", fpesw_kv_string, iface);
	rte_kvargs_process(kv, "vf", fpesw_kv_string, vf);
	rte_kvargs_process(kv, "max_rules", fpesw_kv_string, max_rules);
	rte_kvargs_process(kv, "reject", fpesw_kv_string, reject);
	rte_kvargs_process(kv, "mac", fpesw_kv_string, mac);
	rte_kvargs_free(kv);
	if ((strcmp(role, "uplink") != 0 && strcmp(role, "rep") != 0) ||
	    swname[0] == '\0' || iface[0] == '\0') {
		RTE_LOG(ERR, PMD, "%s: role=uplink|rep, switch= and iface= are "
			"required\n", name);
		return -EINVAL;
	}
	fd = fpesw_open_socket(iface);
	if (fd < 0) {
		RTE_LOG(ERR, PMD, "%s: cannot attach to %s: %s\n", name, iface,
			strerror(-fd));
		return fd;
	}
	dev = rte_eth_vdev_allocate(vdev, sizeof(*p));
	if (dev == NULL) {
		close(fd);
		return -ENOMEM;
	}
	p = dev->data->dev_private;
	p->dev = dev;
	p->fd = fd;
	p->role = strcmp(role, "uplink") == 0 ? FPESW_UPLINK : FPESW_REP;
	p->vf = (uint16_t)atoi(vf);
	p->max_rules = (uint32_t)strtoul(max_rules, NULL, 10);
	snprintf(p->iface, sizeof(p->iface), "%s", iface);
	snprintf(p->reject, sizeof(p->reject), ":%s:", reject);
	TAILQ_INIT(&p->rules);
	LIST_INIT(&p->shapes);
	if (mac[0] == '\0' || rte_ether_unformat_addr(mac, &p->mac) != 0)
		rte_eth_random_addr(p->mac.addr_bytes);

	pthread_mutex_lock(&fpesw_mutex);
	LIST_FOREACH(sw, &fpesw_switches, next)
		if (strcmp(sw->name, swname) == 0)
			break;
	if (sw == NULL) {
		sw = calloc(1, sizeof(*sw));
		if (sw == NULL || rte_eth_switch_domain_alloc(&sw->domain_id)) {
			pthread_mutex_unlock(&fpesw_mutex);
			free(sw);
			close(fd);
			rte_eth_dev_release_port(dev);
			return -ENOMEM;
		}
		snprintf(sw->name, sizeof(sw->name), "%s", swname);
		pthread_rwlock_init(&sw->lock, NULL);
		LIST_INIT(&sw->handles);
		LIST_INSERT_HEAD(&fpesw_switches, sw, next);
	}
	pthread_rwlock_wrlock(&sw->lock);
	for (i = 0; i < FPESW_MAX_PORTS; i++)
		if (sw->ports[i] == NULL)
			break;
	if (i < FPESW_MAX_PORTS)
		sw->ports[i] = p;
	pthread_rwlock_unlock(&sw->lock);
	sw->refs++;
	p->sw = sw;
	pthread_mutex_unlock(&fpesw_mutex);
	if (i == FPESW_MAX_PORTS) {
		fpesw_dev_close(dev);
		rte_eth_dev_release_port(dev);
		return -ENOSPC;
	}

	dev->dev_ops = &fpesw_ops;
	dev->rx_pkt_burst = fpesw_rx_burst;
	dev->tx_pkt_burst = fpesw_tx_burst;
	dev->data->mac_addrs = &p->mac;
	dev->data->dev_link.link_speed = RTE_ETH_SPEED_NUM_25G;
	dev->data->dev_link.link_duplex = RTE_ETH_LINK_FULL_DUPLEX;
	dev->data->dev_flags |= RTE_ETH_DEV_AUTOFILL_QUEUE_XSTATS;
	if (p->role == FPESW_REP) {
		/* Not flagged RTE_ETH_DEV_REPRESENTOR: ethdev's devargs
		 * iterator, which OVS uses to find the port of its
		 * dpdk-devargs, skips representors unless the devargs name
		 * one with "representor=", a PCI-only syntax. The switch
		 * domain still ties the ports together. */
		dev->data->representor_id = p->vf;
		/* The uplink backs the representors (its PF, on a NIC). */
		dev->data->backer_port_id = dev->data->port_id;
		pthread_rwlock_rdlock(&sw->lock);
		for (i = 0; i < FPESW_MAX_PORTS; i++)
			if (sw->ports[i] != NULL &&
			    sw->ports[i]->role == FPESW_UPLINK)
				dev->data->backer_port_id =
					sw->ports[i]->dev->data->port_id;
		pthread_rwlock_unlock(&sw->lock);
	}
	rte_eth_dev_probing_finish(dev);
	RTE_LOG(INFO, PMD, "%s: %s of e-switch %s on %s (test fixture)\n",
		name, role, swname, iface);
	return 0;
}

static int
fpesw_remove(struct rte_vdev_device *vdev)
{
	struct rte_eth_dev *dev;

	dev = rte_eth_dev_allocated(rte_vdev_device_name(vdev));
	if (dev == NULL)
		return 0;
	fpesw_dev_close(dev);
	rte_eth_dev_release_port(dev);
	return 0;
}

static struct rte_vdev_driver fpesw_driver = {
	.probe = fpesw_probe,
	.remove = fpesw_remove,
};

RTE_PMD_REGISTER_VDEV(net_fpesw, fpesw_driver);
RTE_PMD_REGISTER_PARAM_STRING(net_fpesw,
	"role=uplink|rep switch=<name> iface=<ifname> vf=<n> max_rules=<n> "
	"reject=<name:name...> mac=<mac>");
