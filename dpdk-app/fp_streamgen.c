/* SPDX-License-Identifier: Apache-2.0 */

/*
 * fp-streamgen: writes VXLAN test traffic to pcap files.
 *
 * The encapsulated file is what an uplink receives from a remote VTEP; the
 * optional "expect" file holds the same packets' inner frames, which is
 * exactly what a VM behind a decapsulating switch must receive. It needs no
 * EAL and no hugepages.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ether.h>

#include "fp_pcap.h"
#include "fp_pktgen.h"

#define FP_STREAMGEN_PACKETS_MAX 100000000ul

static const char fp_streamgen_usage[] =
"Usage: fp-streamgen [OPTION]... --out FILE\n"
"Write VXLAN-over-IPv4 test traffic to a pcap file.\n"
"\n"
"Packets are written round-robin: packet 0 of every stream, then packet 1\n"
"of every stream, and so on. The same options always give the same bytes.\n"
"\n"
"Output:\n"
"  -o, --out FILE          encapsulated frames, as the uplink receives them\n"
"  -e, --expect FILE       the inner frames alone, in the same order, as a\n"
"                          VM behind the decapsulating switch receives them\n"
"Traffic:\n"
"  -s, --streams N         distinct inner 5-tuples, 1 to 1000000 [1]\n"
"  -n, --packets N         packets per stream [1]\n"
"  -l, --size BYTES        inner frame size on the wire, FCS included,\n"
"                          64 to 1518 [64]\n"
"  -p, --proto udp|tcp     inner transport; tcp sends mid-stream ACK\n"
"                          segments [udp]\n"
"Outer headers (remote VTEP -> local VTEP):\n"
"      --outer-src IP      [172.31.1.2]\n"
"      --outer-dst IP      [172.31.1.1]\n"
"      --outer-src-mac MAC [02:00:00:00:00:02]\n"
"      --outer-dst-mac MAC local VTEP (br-phy) MAC [02:00:00:00:00:01]\n"
"      --vxlan-port N      outer UDP destination port [4789]\n"
"      --vni N             VXLAN network identifier, 0 to 16777215 [100]\n"
"Inner headers (stream s uses source port 1024 + s %% 64512):\n"
"      --inner-src IP      base source address [10.0.0.1]\n"
"      --inner-dst IP      [10.1.0.1]\n"
"      --inner-src-mac MAC [02:00:00:00:01:01]\n"
"      --inner-dst-mac MAC [02:00:00:00:02:01]\n"
"      --dport N           destination port [5001]\n"
"\n"
"  -h, --help              show this help and exit\n";

enum {
	OPT_OUTER_SRC = 256,
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
};

static const struct option fp_streamgen_options[] = {
	{ "out", required_argument, NULL, 'o' },
	{ "expect", required_argument, NULL, 'e' },
	{ "streams", required_argument, NULL, 's' },
	{ "packets", required_argument, NULL, 'n' },
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

static rte_be32_t
fp_streamgen_parse_ipv4(const char *opt, const char *arg)
{
	struct in_addr addr;

	if (inet_pton(AF_INET, arg, &addr) != 1)
		fp_streamgen_die_usage("--%s: '%s' is not an IPv4 address",
				       opt, arg);
	return addr.s_addr;
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

/* Writes every packet to 'out' (encapsulated) and, if not NULL, 'expect'
 * (inner frames). Returns 0 or a negative errno. */
static int
fp_streamgen_write(const struct fp_pktgen_conf *conf, unsigned long packets,
		   struct fp_pcap_writer *out, struct fp_pcap_writer *expect)
{
	uint8_t frame[FP_PKTGEN_BUF_MAX];
	uint64_t ts_us = 0;
	unsigned long seq;
	uint32_t stream;

	for (seq = 0; seq < packets; seq++) {
		for (stream = 0; stream < conf->streams; stream++) {
			size_t inner;
			int len;
			int ret;

			len = fp_pktgen_build(conf, stream, (uint32_t)seq,
					      frame, sizeof(frame), &inner);
			if (len < 0)
				return len;
			ret = fp_pcap_writer_add(out, frame, len, ts_us);
			if (ret == 0 && expect != NULL)
				ret = fp_pcap_writer_add(expect, frame + inner,
							 len - inner, ts_us);
			if (ret < 0)
				return ret;
			ts_us++;
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *out_path = NULL;
	const char *expect_path = NULL;
	struct fp_pcap_writer *out = NULL;
	struct fp_pcap_writer *expect = NULL;
	struct fp_pktgen_conf conf;
	unsigned long packets = 1;
	const char *problem;
	int ret;
	int opt;

	fp_pktgen_conf_default(&conf);
	while ((opt = getopt_long(argc, argv, "o:e:s:n:l:p:h",
				  fp_streamgen_options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			out_path = optarg;
			break;
		case 'e':
			expect_path = optarg;
			break;
		case 's':
			conf.streams = fp_streamgen_parse_uint("streams",
					optarg, 1, FP_PKTGEN_STREAMS_MAX);
			break;
		case 'n':
			packets = fp_streamgen_parse_uint("packets", optarg,
					1, FP_STREAMGEN_PACKETS_MAX);
			break;
		case 'l':
			conf.frame_size = fp_streamgen_parse_uint("size",
					optarg, FP_PKTGEN_FRAME_MIN,
					FP_PKTGEN_FRAME_MAX);
			break;
		case 'p':
			if (strcmp(optarg, "udp") == 0)
				conf.proto = FP_PKTGEN_UDP;
			else if (strcmp(optarg, "tcp") == 0)
				conf.proto = FP_PKTGEN_TCP;
			else
				fp_streamgen_die_usage("--proto: '%s' is not "
						       "udp or tcp", optarg);
			break;
		case OPT_OUTER_SRC:
			conf.outer_src_ip = fp_streamgen_parse_ipv4(
					"outer-src", optarg);
			break;
		case OPT_OUTER_DST:
			conf.outer_dst_ip = fp_streamgen_parse_ipv4(
					"outer-dst", optarg);
			break;
		case OPT_OUTER_SRC_MAC:
			conf.outer_src_mac = fp_streamgen_parse_mac(
					"outer-src-mac", optarg);
			break;
		case OPT_OUTER_DST_MAC:
			conf.outer_dst_mac = fp_streamgen_parse_mac(
					"outer-dst-mac", optarg);
			break;
		case OPT_VXLAN_PORT:
			conf.vxlan_port = rte_cpu_to_be_16(
					fp_streamgen_parse_uint("vxlan-port",
							optarg, 1, 65535));
			break;
		case OPT_VNI:
			conf.vni = fp_streamgen_parse_uint("vni", optarg, 0,
							   0xffffff);
			break;
		case OPT_INNER_SRC:
			conf.inner_src_ip = fp_streamgen_parse_ipv4(
					"inner-src", optarg);
			break;
		case OPT_INNER_DST:
			conf.inner_dst_ip = fp_streamgen_parse_ipv4(
					"inner-dst", optarg);
			break;
		case OPT_INNER_SRC_MAC:
			conf.inner_src_mac = fp_streamgen_parse_mac(
					"inner-src-mac", optarg);
			break;
		case OPT_INNER_DST_MAC:
			conf.inner_dst_mac = fp_streamgen_parse_mac(
					"inner-dst-mac", optarg);
			break;
		case OPT_DPORT:
			conf.inner_dst_port = rte_cpu_to_be_16(
					fp_streamgen_parse_uint("dport", optarg,
								1, 65535));
			break;
		case 'h':
			printf(fp_streamgen_usage);
			return 0;
		default:
			fprintf(stderr, "Try 'fp-streamgen --help' for more "
				"information.\n");
			return 2;
		}
	}
	if (optind < argc)
		fp_streamgen_die_usage("unexpected argument '%s'",
				       argv[optind]);
	if (out_path == NULL)
		fp_streamgen_die_usage("--out FILE is required");
	problem = fp_pktgen_conf_check(&conf);
	if (problem != NULL)
		fp_streamgen_die_usage("%s", problem);

	out = fp_pcap_writer_open(out_path);
	if (out == NULL) {
		fprintf(stderr, "fp-streamgen: %s: %s\n", out_path,
			strerror(rte_errno));
		return 1;
	}
	if (expect_path != NULL) {
		expect = fp_pcap_writer_open(expect_path);
		if (expect == NULL) {
			fprintf(stderr, "fp-streamgen: %s: %s\n", expect_path,
				strerror(rte_errno));
			fp_pcap_writer_close(out);
			return 1;
		}
	}

	ret = fp_streamgen_write(&conf, packets, out, expect);
	if (ret == 0)
		printf("fp-streamgen: %" PRIu64 " frames (%" PRIu32
		       " streams x %lu packets) to %s\n",
		       fp_pcap_writer_count(out), conf.streams, packets,
		       out_path);
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
