/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp-streamgen's live mode: builds frames into mbufs and sends them out of
 * the EAL's first ethdev (a virtio-user port facing OVS, a memif, a NIC) at
 * a target rate, round-robin over the streams, until a count is reached or
 * a signal arrives. Whatever arrives on the port is counted and freed.
 */

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "fp_streamgen.h"

#define FP_TX_BURST 32
#define FP_TX_MBUFS 8191
#define FP_TX_DESC 1024

static volatile sig_atomic_t fp_tx_quit;

static void
fp_tx_signal(int sig)
{
	(void)sig;
	fp_tx_quit = 1;
}

static int
fp_tx_port_start(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, FP_TX_DESC,
					     rte_eth_dev_socket_id(port), NULL,
					     mp);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, FP_TX_DESC,
					     rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	return ret;
}

int
fp_streamgen_tx(const struct fp_pktgen_conf *conf,
		const struct fp_streamgen_tx_opts *opts)
{
	uint64_t tsc_hz = rte_get_tsc_hz();
	uint64_t sent = 0, dropped = 0, received = 0;
	uint64_t next_burst, next_report, start;
	uint64_t last_sent = 0;
	struct rte_mbuf *pkts[FP_TX_BURST];
	struct rte_mempool *mp;
	uint32_t stream = 0, seq = 0;
	uint16_t port = 0;
	int ret;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "fp-streamgen: --tx needs a port: give the "
			"EAL a --vdev (for example "
			"net_virtio_user0,path=SOCK,server=1)\n");
		return -ENODEV;
	}
	mp = rte_pktmbuf_pool_create("fp_tx", FP_TX_MBUFS, 256, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
				     rte_eth_dev_socket_id(port));
	if (mp == NULL) {
		fprintf(stderr, "fp-streamgen: no mbuf pool: %s\n",
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	ret = fp_tx_port_start(port, mp);
	if (ret < 0) {
		fprintf(stderr, "fp-streamgen: cannot start port %u: %s\n",
			port, rte_strerror(-ret));
		return ret;
	}
	signal(SIGINT, fp_tx_signal);
	signal(SIGTERM, fp_tx_signal);
	printf("fp-streamgen: sending %" PRIu32 " streams on port %u at %s\n",
	       conf->streams, port,
	       opts->rate ? "the given rate" : "full speed");
	fflush(stdout);

	start = rte_rdtsc();
	next_burst = start;
	next_report = start + tsc_hz;
	while (!fp_tx_quit && (opts->count == 0 || sent < opts->count)) {
		uint64_t now = rte_rdtsc();
		unsigned int n = FP_TX_BURST, i;
		struct rte_mbuf *rx[FP_TX_BURST];
		uint16_t nb_rx, nb_tx;

		nb_rx = rte_eth_rx_burst(port, 0, rx, FP_TX_BURST);
		received += nb_rx;
		rte_pktmbuf_free_bulk(rx, nb_rx);

		if (now >= next_report) {
			printf("fp-streamgen: %" PRIu64 " pps, %" PRIu64
			       " sent, %" PRIu64 " dropped, %" PRIu64
			       " received\n", sent - last_sent, sent, dropped,
			       received);
			fflush(stdout);
			last_sent = sent;
			next_report += tsc_hz;
		}
		if (opts->rate && now < next_burst)
			continue;
		if (opts->count && opts->count - sent < n)
			n = opts->count - sent;
		if (rte_pktmbuf_alloc_bulk(mp, pkts, n) != 0)
			continue;
		for (i = 0; i < n; i++) {
			char *data = rte_pktmbuf_mtod(pkts[i], char *);
			int len = fp_pktgen_build(conf, stream, seq,
						  opts->reverse,
						  (uint8_t *)data,
						  rte_pktmbuf_tailroom(pkts[i]),
						  NULL);

			if (len < 0) {
				rte_pktmbuf_free_bulk(pkts, n);
				return len;
			}
			pkts[i]->data_len = pkts[i]->pkt_len = len;
			if (++stream == conf->streams) {
				stream = 0;
				seq = (seq + 1) % conf->packets;
			}
		}
		nb_tx = rte_eth_tx_burst(port, 0, pkts, n);
		if (nb_tx < n) {
			dropped += n - nb_tx;
			rte_pktmbuf_free_bulk(pkts + nb_tx, n - nb_tx);
		}
		sent += nb_tx;
		if (opts->rate)
			next_burst += tsc_hz * n / opts->rate;
	}
	printf("fp-streamgen: done: %" PRIu64 " sent, %" PRIu64 " dropped, %"
	       PRIu64 " received in %.1f s\n", sent, dropped, received,
	       (double)(rte_rdtsc() - start) / tsc_hz);
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	return 0;
}
