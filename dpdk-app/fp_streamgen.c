/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp-streamgen: writes VXLAN test traffic to pcap files, or sends it live.
 *
 * The "out" file is what an uplink receives from a remote VTEP; the
 * optional "expect" file holds the same packets' inner frames, which is
 * exactly what a VM behind a decapsulating switch must receive; the
 * optional "reverse" file holds the local VM's answers. Writing files needs
 * no EAL and no hugepages; sending live (--tx, after EAL options and "--")
 * does.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ether.h>

#include "fp_pcap.h"
#include "fp_pktgen.h"
#include "fp_streamgen.h"

#define FP_STREAMGEN_PACKETS_MAX 100000000ul

static const char fp_streamgen_usage[] =
"Usage: fp-streamgen [OPTION]... --out FILE\n"
"  or:  fp-streamgen EAL-OPTIONS -- --tx [--rate PPS] [--count N] [OPTION]...\n"
"Write VXLAN test traffic (or plain VM traffic) to pcap files, or send it\n"
"live out of the EAL's first port.\n"
"\n"
"Packets are written round-robin: packet 0 of every stream, then packet 1\n"
"of every stream, and so on. The same options always give the same bytes.\n"
"IPv4 or IPv6 follows from the addresses given.\n"
"\n"
"Output:\n"
"  -o, --out FILE          forward frames: VXLAN, as the uplink receives\n"
"                          them (plain with --plain)\n"
"  -e, --expect FILE       the forward inner frames alone, in the same\n"
"                          order, as the local VM receives them\n"
"  -r, --reverse FILE      the local VM's answers (plain): reverse packet n\n"
"                          of a stream answers forward packet n\n"
"      --plain             no VXLAN: write the inner frames to --out\n"
"Live (after EAL options and --, e.g. --vdev=net_virtio_user0,path=S):\n"
"      --tx                send instead of writing files; stops at --count\n"
"                          or on SIGINT/SIGTERM, printing rates each second\n"
"      --rate PPS          packets per second [as fast as possible]\n"
"      --count N           packets to send [no limit]\n"
"      --tx-reverse        send the reverse frames (the local VM's)\n"
"Traffic:\n"
"  -s, --streams N         distinct inner 5-tuples, 1 to 1000000 [1]\n"
"  -n, --packets N         packets per stream [1]\n"
"      --train N           files: each stream's packets in runs of N\n"
"                          back to back, as a burst of one connection\n"
"                          arrives, before the next stream's run [1]\n"
"  -l, --size BYTES|imix   inner frame size on the wire, FCS included,\n"
"                          64 to 1518, or imix (7:4:1 of 64, 570, 1518)\n"
"                          [64]\n"
"  -p, --proto udp|tcp     inner transport [udp]\n"
"      --tcp-handshake     tcp: SYN first and FIN last in each stream;\n"
"                          without it, mid-stream ACK segments\n"
"      --vlan VID          tag the inner frames with 802.1Q VID 0-4095\n"
"Outer headers (remote VTEP -> local VTEP):\n"
"      --outer-src IP      [172.31.1.2]\n"
"      --outer-dst IP      [172.31.1.1]\n"
"      --outer-src-mac MAC [02:00:00:00:00:02]\n"
"      --outer-dst-mac MAC local VTEP (br-phy) MAC [02:00:00:00:00:01]\n"
"      --vxlan-port N      outer UDP destination port [4789]\n"
"      --vni N             first VXLAN network identifier [100]\n"
"      --vnis N            spread the streams over N VNIs [1]\n"
"      --sport-entropy N   outer UDP source ports per stream, used in turn\n"
"                          by its packets, 1 to 16384 [1]\n"
"      --seed N            vary sequence numbers, payloads and source\n"
"                          ports; the same seed gives the same bytes [0]\n"
"Inner headers (stream s uses source port 1024 + s %% 64512):\n"
"      --inner-src IP      base source address [10.0.0.1]\n"
"      --inner-dst IP      [10.1.0.1]\n"
"      --inner-src-mac MAC [02:00:00:00:01:01]\n"
"      --inner-dst-mac MAC [02:00:00:00:02:01]\n"
"      --dport N           destination port [5001]\n"
"\n"
"  -h, --help              show this help and exit\n";

enum {
	OPT_PLAIN = 256,
	OPT_TCP_HANDSHAKE,
	OPT_VLAN,
	OPT_VNIS,
	OPT_SPORT_ENTROPY,
	OPT_SEED,
	OPT_TX,
	OPT_RATE,
	OPT_COUNT,
	OPT_TX_REVERSE,
	OPT_OUTER_SRC,
	OPT_OUTER_DST,
	OPT_OUTER_SRC_MAC,
	OPT_OUTER_DST_MAC,
	OPT_VXLAN_PORT,
	OPT_VNI,
	OPT_INNER_SRC,
	OPT_INNER_DST,
	OPT_INNER_SRC_MAC,
	OPT_INNER_DST_MAC,
	OPT_DPORT,
	OPT_TRAIN,
};

static const struct option fp_streamgen_options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "expect", required_argument, NULL, 'e' },
	{ "reverse", required_argument, NULL, 'r' },
	{ "plain", no_argument, NULL, OPT_PLAIN },
	{ "tcp-handshake", no_argument, NULL, OPT_TCP_HANDSHAKE },
	{ "vlan", required_argument, NULL, OPT_VLAN },
	{ "vnis", required_argument, NULL, OPT_VNIS },
	{ "sport-entropy", required_argument, NULL, OPT_SPORT_ENTROPY },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "tx", no_argument, NULL, OPT_TX },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "tx-reverse", no_argument, NULL, OPT_TX_REVERSE },
	{ "streams", required_argument, NULL, 's' },
	{ "packets", required_argument, NULL, 'n' },
	{ "train", required_argument, NULL, OPT_TRAIN },
	{ "size", required_argument, NULL, 'l' },
	{ "proto", required_argument, NULL, 'p' },
	{ "outer-src", required_argument, NULL, OPT_OUTER_SRC },
	{ "outer-dst", required_argument, NULL, OPT_OUTER_DST },
	{ "outer-src-mac", required_argument, NULL, OPT_OUTER_SRC_MAC },
	{ "outer-dst-mac", required_argument, NULL, OPT_OUTER_DST_MAC },
	{ "vxlan-port", required_argument, NULL, OPT_VXLAN_PORT },
	{ "vni", required_argument, NULL, OPT_VNI },
	{ "inner-src", required_argument, NULL, OPT_INNER_SRC },
	{ "inner-dst", required_argument, NULL, OPT_INNER_DST },
	{ "inner-src-mac", required_argument, NULL, OPT_INNER_SRC_MAC },
	{ "inner-dst-mac", required_argument, NULL, OPT_INNER_DST_MAC },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Reports a bad command line and exits with status 2, as getopt does. */
static void __rte_noreturn __rte_format_printf(1, 2)
fp_streamgen_die_usage(const char *fmt, ...)
{
	va_list args;

	fprintf(stderr, "fp-streamgen: ");
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fprintf(stderr, "\nTry 'fp-streamgen --help' for more information.\n");
	exit(2);
}

static unsigned long
fp_streamgen_parse_uint(const char *opt, const char *arg, unsigned long min,
			unsigned long max)
{
	unsigned long value;
	char *end;

	errno = 0;
	value = strtoul(arg, &end, 0);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' ||
	    value < min || value > max)
		fp_streamgen_die_usage("--%s: '%s' is not a number from %lu "
				       "to %lu", opt, arg, min, max);
	return value;
}

static struct fp_pktgen_addr
fp_streamgen_parse_addr(const char *opt, const char *arg)
{
	struct fp_pktgen_addr addr = { .ipv6 = false };

	if (inet_pton(AF_INET, arg, addr.bytes) == 1)
		return addr;
	addr.ipv6 = true;
	if (inet_pton(AF_INET6, arg, addr.bytes) == 1)
		return addr;
	fp_streamgen_die_usage("--%s: '%s' is not an IPv4 or IPv6 address",
			       opt, arg);
}

static struct rte_ether_addr
fp_streamgen_parse_mac(const char *opt, const char *arg)
{
	struct rte_ether_addr mac;

	if (rte_ether_unformat_addr(arg, &mac) != 0)
		fp_streamgen_die_usage("--%s: '%s' is not a MAC address",
				       opt, arg);
	return mac;
}

/*
 * Writes one direction of 'conf' (the reverse frames if 'reverse') to 'out',
 * and the forward inner frames to 'expect' if nonnull: 'train' packets of
 * the first stream, then 'train' of the next, and so on, round after round,
 * until each stream has its conf->packets packets. Returns 0 or a negative
 * errno.
 */
static int
fp_streamgen_write_dir(const struct fp_pktgen_conf *conf, uint32_t train,
		       bool reverse, struct fp_pcap_writer *out,
		       struct fp_pcap_writer *expect)
{
	uint8_t frame[FP_PKTGEN_BUF_MAX];
	uint64_t ts_us = 0;
	uint32_t stream;
	uint32_t base;
	uint32_t seq;
	int ret;

	for (base = 0; base < conf->packets; base += train) {
		uint32_t end = RTE_MIN(conf->packets - base, train) + base;

		for (stream = 0; stream < conf->streams; stream++) {
			for (seq = base; seq < end; seq++, ts_us++) {
				size_t inner;
				int len;

				len = fp_pktgen_build(conf, stream, seq,
						      reverse, frame,
						      sizeof(frame), &inner);
				if (len < 0)
					return len;
				ret = fp_pcap_writer_add(out, frame, len,
							 ts_us);
				if (ret == 0 && expect != NULL)
					ret = fp_pcap_writer_add(expect,
							frame + inner,
							len - inner, ts_us);
				if (ret < 0)
					return ret;
			}
		}
	}
	return 0;
}

/*
 * Writes the frames of 'conf' to 'out', their inner frames to 'expect' and
 * the reverse frames to 'reverse', the last two if nonnull, in runs of
 * 'train' packets per stream (see fp_streamgen_write_dir()). Returns 0 or a
 * negative errno.
 */
static int
fp_streamgen_write(const struct fp_pktgen_conf *conf, uint32_t train,
		   struct fp_pcap_writer *out, struct fp_pcap_writer *expect,
		   struct fp_pcap_writer *reverse)
{
	int ret;

	ret = fp_streamgen_write_dir(conf, train, false, out, expect);
	if (ret < 0 || reverse == NULL)
		return ret;
	return fp_streamgen_write_dir(conf, train, true, reverse, NULL);
}

/* Opens a pcap file for writing, or exits with a message. */
static struct fp_pcap_writer *
fp_streamgen_open(const char *path)
{
	struct fp_pcap_writer *w = fp_pcap_writer_open(path);

	if (w == NULL) {
		fprintf(stderr, "fp-streamgen: %s: %s\n", path,
			strerror(rte_errno));
		exit(1);
	}
	return w;
}

/* What the command line asks for. */
struct fp_streamgen_args {
	const char *out_path;
	const char *expect_path;
	const char *reverse_path;
	bool eal;                  /* EAL options came first, up to "--". */
	bool tx;
	uint32_t train;            /* Packets per stream back to back. */
	struct fp_streamgen_tx_opts tx_opts;
	struct fp_pktgen_conf conf;
};

/* Applies 'opt' if it sets one of the traffic's addresses. Returns false
 * for other options. */
static bool
fp_streamgen_addr_option(struct fp_pktgen_conf *conf, int opt,
			 const char *arg)
{
	switch (opt) {
	case OPT_OUTER_SRC:
		conf->outer_src = fp_streamgen_parse_addr("outer-src", arg);
		return true;
	case OPT_OUTER_DST:
		conf->outer_dst = fp_streamgen_parse_addr("outer-dst", arg);
		return true;
	case OPT_OUTER_SRC_MAC:
		conf->outer_src_mac = fp_streamgen_parse_mac("outer-src-mac",
							     arg);
		return true;
	case OPT_OUTER_DST_MAC:
		conf->outer_dst_mac = fp_streamgen_parse_mac("outer-dst-mac",
							     arg);
		return true;
	case OPT_INNER_SRC:
		conf->inner_src = fp_streamgen_parse_addr("inner-src", arg);
		return true;
	case OPT_INNER_DST:
		conf->inner_dst = fp_streamgen_parse_addr("inner-dst", arg);
		return true;
	case OPT_INNER_SRC_MAC:
		conf->inner_src_mac = fp_streamgen_parse_mac("inner-src-mac",
							     arg);
		return true;
	case OPT_INNER_DST_MAC:
		conf->inner_dst_mac = fp_streamgen_parse_mac("inner-dst-mac",
							     arg);
		return true;
	default:
		return false;
	}
}

/* Applies 'opt' if it shapes the traffic (struct fp_pktgen_conf). Returns
 * false for other options; exits on a bad value. */
static bool
fp_streamgen_traffic_option(struct fp_pktgen_conf *conf, int opt,
			    const char *arg)
{
	switch (opt) {
	case OPT_PLAIN:
		conf->encap = false;
		return true;
	case 's':
		conf->streams = fp_streamgen_parse_uint("streams", arg, 1,
							FP_PKTGEN_STREAMS_MAX);
		return true;
	case 'n':
		conf->packets = fp_streamgen_parse_uint("packets", arg, 1,
						FP_STREAMGEN_PACKETS_MAX);
		return true;
	case 'l':
		if (strcmp(arg, "imix") == 0)
			conf->frame_size = FP_PKTGEN_IMIX;
		else
			conf->frame_size = fp_streamgen_parse_uint("size", arg,
					FP_PKTGEN_FRAME_MIN,
					FP_PKTGEN_FRAME_MAX);
		return true;
	case 'p':
		if (strcmp(arg, "udp") == 0)
			conf->proto = FP_PKTGEN_UDP;
		else if (strcmp(arg, "tcp") == 0)
			conf->proto = FP_PKTGEN_TCP;
		else
			fp_streamgen_die_usage("--proto: '%s' is not udp or "
					       "tcp", arg);
		return true;
	case OPT_TCP_HANDSHAKE:
		conf->tcp_handshake = true;
		return true;
	case OPT_VLAN:
		conf->vlan = fp_streamgen_parse_uint("vlan", arg, 0, 4095);
		return true;
	case OPT_VNIS:
		conf->vnis = fp_streamgen_parse_uint("vnis", arg, 1, 0x1000000);
		return true;
	case OPT_SPORT_ENTROPY:
		conf->sport_entropy = fp_streamgen_parse_uint("sport-entropy",
							      arg, 1, 16384);
		return true;
	case OPT_SEED:
		conf->seed = fp_streamgen_parse_uint("seed", arg, 0,
						     UINT32_MAX);
		return true;
	case OPT_VXLAN_PORT:
		conf->vxlan_port = rte_cpu_to_be_16(fp_streamgen_parse_uint(
					"vxlan-port", arg, 1, 65535));
		return true;
	case OPT_VNI:
		conf->vni = fp_streamgen_parse_uint("vni", arg, 0, 0xffffff);
		return true;
	case OPT_DPORT:
		conf->inner_dst_port = rte_cpu_to_be_16(
				fp_streamgen_parse_uint("dport", arg, 1,
							65535));
		return true;
	default:
		return fp_streamgen_addr_option(conf, opt, arg);
	}
}

/* Parses the options that follow the EAL's into 'a', and checks them
 * together. Returns -1 to go on, or the exit status after --help (0) or
 * an unknown option (2); exits on a bad value. */
static int
fp_streamgen_parse_args(int argc, char **argv, struct fp_streamgen_args *a)
{
	const char *problem;
	int opt;

	fp_pktgen_conf_default(&a->conf);
	while ((opt = getopt_long(argc, argv, "o:e:r:s:n:l:p:h",
				  fp_streamgen_options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			a->out_path = optarg;
			break;
		case 'e':
			a->expect_path = optarg;
			break;
		case 'r':
			a->reverse_path = optarg;
			break;
		case OPT_TX:
			a->tx = true;
			break;
		case OPT_RATE:
			a->tx_opts.rate = fp_streamgen_parse_uint("rate",
					optarg, 1, 1000000000);
			break;
		case OPT_COUNT:
			a->tx_opts.count = fp_streamgen_parse_uint("count",
					optarg, 1, ULONG_MAX);
			break;
		case OPT_TX_REVERSE:
			a->tx_opts.reverse = true;
			break;
		case OPT_TRAIN:
			a->train = fp_streamgen_parse_uint("train", optarg, 1,
					FP_STREAMGEN_PACKETS_MAX);
			break;
		case 'h':
			printf(fp_streamgen_usage);
			return 0;
		default:
			if (fp_streamgen_traffic_option(&a->conf, opt, optarg))
				break;
			fprintf(stderr, "Try 'fp-streamgen --help' for more "
				"information.\n");
			return 2;
		}
	}
	if (optind < argc)
		fp_streamgen_die_usage("unexpected argument '%s'",
				       argv[optind]);
	if (a->tx && !a->eal)
		fp_streamgen_die_usage("--tx needs EAL options and '--' "
				       "before the others");
	if (a->out_path == NULL && !a->tx)
		fp_streamgen_die_usage("--out FILE is required");
	if (a->train != 0 && a->tx)
		fp_streamgen_die_usage("--train is for files, not --tx");
	if (a->train == 0)
		a->train = 1;
	if (a->expect_path != NULL && !a->conf.encap)
		fp_streamgen_die_usage("--expect makes no sense with --plain");
	problem = fp_pktgen_conf_check(&a->conf);
	if (problem != NULL)
		fp_streamgen_die_usage("%s", problem);
	return -1;
}

/* Writes the pcap files that 'a' names. Returns the exit status. */
static int
fp_streamgen_write_files(const struct fp_streamgen_args *a)
{
	struct fp_pcap_writer *out;
	struct fp_pcap_writer *expect = NULL;
	struct fp_pcap_writer *reverse = NULL;
	int ret;

	out = fp_streamgen_open(a->out_path);
	if (a->expect_path != NULL)
		expect = fp_streamgen_open(a->expect_path);
	if (a->reverse_path != NULL)
		reverse = fp_streamgen_open(a->reverse_path);

	ret = fp_streamgen_write(&a->conf, a->train, out, expect, reverse);
	if (ret == 0)
		printf("fp-streamgen: %" PRIu64 " frames (%" PRIu32
		       " streams x %" PRIu32 " packets, in trains of %"
		       PRIu32 ") to %s\n", fp_pcap_writer_count(out),
		       a->conf.streams, a->conf.packets, a->train,
		       a->out_path);
	if (fp_pcap_writer_close(reverse) < 0 && ret == 0)
		ret = -EIO;
	if (fp_pcap_writer_close(expect) < 0 && ret == 0)
		ret = -EIO;
	if (fp_pcap_writer_close(out) < 0 && ret == 0)
		ret = -EIO;
	if (ret < 0) {
		fprintf(stderr, "fp-streamgen: writing failed: %s\n",
			strerror(-ret));
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct fp_streamgen_args a = { .eal = false };
	int status, ret;
	int i;

	/* EAL options come first, up to "--", and only for --tx. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			a.eal = true;
	if (a.eal) {
		ret = rte_eal_init(argc, argv);
		if (ret < 0) {
			fprintf(stderr, "fp-streamgen: EAL: %s\n",
				rte_strerror(rte_errno));
			return 1;
		}
		argc -= ret;
		argv += ret;
	}

	status = fp_streamgen_parse_args(argc, argv, &a);
	if (status >= 0)
		return status;
	if (a.tx) {
		ret = fp_streamgen_tx(&a.conf, &a.tx_opts);
		rte_eal_cleanup();
		return ret < 0 ? 1 : 0;
	}
	return fp_streamgen_write_files(&a);
}
