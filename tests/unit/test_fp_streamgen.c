/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Tests of the fp-streamgen program as users run it: it writes pcap files,
 * and these tests read them back with their own pcap reader and check
 * every frame's lengths and checksums, the number of streams, the expect
 * and reverse files, and that the same seed gives the same bytes. The
 * program's path comes from FP_STREAMGEN (set by meson). No EAL and no
 * hugepages are involved, as for any user who only writes files.
 */

#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fp_pkt.h"
#include "fp_test_frames.h"

#define VXLAN_PORT 4789

struct frame {
	uint32_t len;
	uint8_t *data;
};

struct capture {
	size_t n;
	struct frame *frames;
};

static char tmpdir[] = "/tmp/fp-streamgen-test.XXXXXX";
static char streamgen[PATH_MAX];

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* Runs fp-streamgen in tmpdir with 'args'; returns its exit status. Its
 * stderr goes to tmpdir/stderr. */
static int
run(const char *fmt, ...)
{
	char args[1024];
	char cmd[PATH_MAX + 2048];
	va_list ap;
	int status;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd %s && %s %s >stdout 2>stderr",
		 tmpdir, streamgen, args);
	status = system(cmd);
	assert_true(status != -1 && WIFEXITED(status));
	return WEXITSTATUS(status);
}

static char *
slurp(const char *name, size_t *size)
{
	char path[256];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*size = n;
	return buf;
}

/* Reads a classic little-endian pcap file: checks its header and that no
 * frame was cut by the snap length. */
static void
read_pcap(const char *name, struct capture *cap)
{
	size_t size, off = 24, max = 0;
	uint8_t *buf = (uint8_t *)slurp(name, &size);

	assert_true(size >= 24);
	assert_int_equal(le32(buf), 0xa1b2c3d4);
	assert_int_equal(buf[4] | buf[5] << 8, 2);
	assert_int_equal(buf[6] | buf[7] << 8, 4);
	assert_int_equal(le32(buf + 20), 1); /* LINKTYPE_ETHERNET */
	cap->n = 0;
	cap->frames = NULL;
	while (off < size) {
		uint32_t incl, orig;

		assert_true(off + 16 <= size);
		incl = le32(buf + off + 8);
		orig = le32(buf + off + 12);
		assert_int_equal(incl, orig);
		assert_true(incl <= le32(buf + 16));
		assert_true(off + 16 + incl <= size);
		if (cap->n == max) {
			max = max ? 2 * max : 1024;
			cap->frames = realloc(cap->frames,
					      max * sizeof(*cap->frames));
			assert_non_null(cap->frames);
		}
		cap->frames[cap->n].len = incl;
		cap->frames[cap->n].data = malloc(incl);
		assert_non_null(cap->frames[cap->n].data);
		memcpy(cap->frames[cap->n].data, buf + off + 16, incl);
		cap->n++;
		off += 16 + incl;
	}
	free(buf);
}

static void
free_capture(struct capture *cap)
{
	size_t i;

	for (i = 0; i < cap->n; i++)
		free(cap->frames[i].data);
	free(cap->frames);
	cap->n = 0;
	cap->frames = NULL;
}

/* What check_vxlan() found in one VXLAN frame. */
struct vxlan_info {
	struct frame_info outer;
	struct frame_info inner;
	uint32_t vni;
	uint16_t sport;
	size_t inner_off;
};

/* Checks a VXLAN frame: outer headers and checksums, the VXLAN header,
 * the inner frame's headers and checksums, and that our own parser takes
 * it as a foldable VXLAN frame. */
static void
check_vxlan(const struct frame *f, struct vxlan_info *vi)
{
	struct fp_stream_key key;
	const uint8_t *vx;

	check_frame(f->data, f->len, &vi->outer);
	assert_int_equal(vi->outer.proto, IPPROTO_UDP);
	assert_int_equal(get16(vi->outer.l4 + 2), VXLAN_PORT);
	vi->sport = get16(vi->outer.l4);
	vx = vi->outer.l4 + 8;
	assert_int_equal(vx[0], 0x08);
	vi->vni = get32(vx + 4) >> 8;
	vi->inner_off = vx + 8 - f->data;
	/* Outer datagram ends the frame: VXLAN frames are never short. */
	assert_int_equal(vi->outer.ip - f->data + vi->outer.ip_len, f->len);
	check_frame(f->data + vi->inner_off, f->len - vi->inner_off,
		    &vi->inner);

	assert_int_equal(fp_pkt_parse(f->data, f->len, 1,
				      rte_cpu_to_be_16(VXLAN_PORT), &key,
				      NULL), FP_PKT_OK);
	assert_int_equal(key.shape, FP_PKT_SHAPE_VXLAN);
}

static int
cmp_tuple(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(((struct frame_info *)0)->tuple));
}

/* Counts distinct tuples in an array of n. */
static size_t
distinct(uint8_t (*tuples)[37], size_t n)
{
	size_t i, d = n ? 1 : 0;

	qsort(tuples, n, sizeof(*tuples), cmp_tuple);
	for (i = 1; i < n; i++)
		d += memcmp(tuples[i], tuples[i - 1], sizeof(*tuples)) != 0;
	return d;
}

/* Writes the reverse tuple of 't' (IPv4 or IPv6) to 'r'. */
static void
swap_tuple(const uint8_t *t, int ipv6, uint8_t *r)
{
	size_t alen = ipv6 ? 16 : 4;

	memcpy(r, t + alen, alen);
	memcpy(r + alen, t, alen);
	memcpy(r + 2 * alen, t + 2 * alen + 2, 2);
	memcpy(r + 2 * alen + 2, t + 2 * alen, 2);
	r[2 * alen + 4] = t[2 * alen + 4];
	memset(r + 2 * alen + 5, 0, 37 - (2 * alen + 5));
}

static void
test_ipv4_udp_streams_expect_and_reverse(void **state)
{
	struct capture out, exp, rev;
	uint8_t (*tuples)[37];
	const size_t streams = 1000, packets = 3;
	size_t i;

	(void)state;
	assert_int_equal(run("-s %zu -n %zu -o out.pcap -e exp.pcap "
			     "-r rev.pcap", streams, packets), 0);
	read_pcap("out.pcap", &out);
	read_pcap("exp.pcap", &exp);
	read_pcap("rev.pcap", &rev);
	assert_int_equal(out.n, streams * packets);
	assert_int_equal(exp.n, out.n);
	assert_int_equal(rev.n, out.n);

	tuples = calloc(out.n, sizeof(*tuples));
	assert_non_null(tuples);
	for (i = 0; i < out.n; i++) {
		struct vxlan_info vi;
		struct frame_info ri;
		uint8_t want[37];

		check_vxlan(&out.frames[i], &vi);
		/* 64 bytes on the wire inner: 60 without FCS, plus 50. */
		assert_int_equal(out.frames[i].len, 110);
		assert_int_equal(vi.vni, 100);
		assert_int_equal(vi.inner.proto, IPPROTO_UDP);
		assert_int_equal(vi.inner.vid, -1);
		/* The expect file holds the inner frame, byte for byte. */
		assert_int_equal(exp.frames[i].len, 60);
		assert_memory_equal(exp.frames[i].data,
				    out.frames[i].data + vi.inner_off, 60);
		/* Packets go round-robin over the streams. */
		if (i >= streams) {
			struct vxlan_info prev;

			check_vxlan(&out.frames[i - streams], &prev);
			assert_memory_equal(prev.inner.tuple, vi.inner.tuple,
					    37);
		}
		/* The reverse frame answers it, with the tuple swapped. */
		check_frame(rev.frames[i].data, rev.frames[i].len, &ri);
		assert_int_equal(rev.frames[i].len, 60);
		swap_tuple(vi.inner.tuple, 0, want);
		assert_memory_equal(ri.tuple, want, 37);
		memcpy(tuples[i], vi.inner.tuple, 37);
	}
	assert_int_equal(distinct(tuples, out.n), streams);
	free(tuples);
	free_capture(&out);
	free_capture(&exp);
	free_capture(&rev);
}

static void
test_ipv6_tcp_handshake_vlan(void **state)
{
	const size_t streams = 16, packets = 4;
	uint8_t tuples[16 * 4][37];
	struct capture out;
	size_t i;

	(void)state;
	assert_int_equal(run("--outer-src fd00::2 --outer-dst fd00::1 "
			     "--inner-src fd01::1 --inner-dst fd02::1 "
			     "-p tcp --tcp-handshake --vlan 42 -l 128 "
			     "-s %zu -n %zu -o out6.pcap", streams, packets),
			 0);
	read_pcap("out6.pcap", &out);
	assert_int_equal(out.n, streams * packets);
	for (i = 0; i < out.n; i++) {
		struct vxlan_info vi;
		uint8_t flags;

		check_vxlan(&out.frames[i], &vi);
		assert_true(vi.outer.ipv6);
		assert_true(vi.inner.ipv6);
		assert_int_equal(vi.inner.vid, 42);
		assert_int_equal(vi.inner.proto, IPPROTO_TCP);
		flags = vi.inner.l4[13];
		if (i < streams) {
			assert_int_equal(flags, 0x02);           /* SYN */
		} else if (i >= (packets - 1) * streams) {
			assert_int_equal(flags, 0x11);           /* FIN|ACK */
		} else {
			assert_int_equal(flags, 0x10);           /* ACK */
			/* 124 bytes inner without FCS, 70 of IPv6 VXLAN. */
			assert_int_equal(out.frames[i].len, 124 + 70);
		}
		memcpy(tuples[i], vi.inner.tuple, 37);
	}
	assert_int_equal(distinct(tuples, out.n), streams);
	free_capture(&out);
}

static void
test_imix_vnis_and_source_port_entropy(void **state)
{
	unsigned int sizes[3] = { 0, 0, 0 };
	uint32_t vni_seen = 0;
	uint16_t sports[4] = { 0, 0, 0, 0 };
	struct capture out;
	size_t i, j;

	(void)state;
	assert_int_equal(run("-l imix --vnis 4 --sport-entropy 4 -s 8 -n 12 "
			     "-o imix.pcap"), 0);
	read_pcap("imix.pcap", &out);
	assert_int_equal(out.n, 96);
	for (i = 0; i < out.n; i++) {
		struct vxlan_info vi;

		check_vxlan(&out.frames[i], &vi);
		switch (out.frames[i].len - vi.inner_off) {
		case 60: sizes[0]++; break;
		case 566: sizes[1]++; break;
		case 1514: sizes[2]++; break;
		default: fail();
		}
		assert_true(vi.vni >= 100 && vi.vni < 104);
		vni_seen |= 1u << (vi.vni - 100);
		/* Stream 0 cycles through four outer source ports. */
		if (i % 8 == 0)
			sports[(i / 8) % 4] = vi.sport;
	}
	assert_int_equal(sizes[0] + sizes[1] + sizes[2], 96);
	assert_true(sizes[0] > sizes[1] && sizes[1] > sizes[2] &&
		    sizes[2] > 0);
	assert_int_equal(vni_seen, 0xf);
	for (i = 0; i < 4; i++)
		for (j = i + 1; j < 4; j++)
			assert_int_not_equal(sports[i], sports[j]);
	free_capture(&out);
}

static void
test_same_seed_same_bytes(void **state)
{
	size_t na, nb, nc;
	char *a, *b, *c;

	(void)state;
	assert_int_equal(run("-p tcp --tcp-handshake -s 50 -n 5 --seed 7 "
			     "-o a.pcap"), 0);
	assert_int_equal(run("-p tcp --tcp-handshake -s 50 -n 5 --seed 7 "
			     "-o b.pcap"), 0);
	assert_int_equal(run("-p tcp --tcp-handshake -s 50 -n 5 --seed 8 "
			     "-o c.pcap"), 0);
	a = slurp("a.pcap", &na);
	b = slurp("b.pcap", &nb);
	c = slurp("c.pcap", &nc);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	assert_int_equal(na, nc);
	assert_memory_not_equal(a, c, na);
	free(a);
	free(b);
	free(c);
}

/* --train N writes each stream's packets N at a time: the same frames,
 * byte for byte, as without it, in another order. */
static void
test_trains(void **state)
{
	const size_t streams = 5, packets = 7, train = 3;
	struct capture a, b, ra, rb;
	size_t pos = 0, base, stream, seq;

	(void)state;
	assert_int_equal(run("-p tcp -s %zu -n %zu -o t1.pcap -r r1.pcap",
			     streams, packets), 0);
	assert_int_equal(run("-p tcp -s %zu -n %zu --train %zu -o t3.pcap "
			     "-r r3.pcap", streams, packets, train), 0);
	read_pcap("t1.pcap", &a);
	read_pcap("t3.pcap", &b);
	read_pcap("r1.pcap", &ra);
	read_pcap("r3.pcap", &rb);
	assert_int_equal(b.n, streams * packets);
	assert_int_equal(rb.n, b.n);
	for (base = 0; base < packets; base += train) {
		for (stream = 0; stream < streams; stream++) {
			for (seq = base; seq < packets && seq < base + train;
			     seq++, pos++) {
				size_t k = seq * streams + stream;

				assert_int_equal(b.frames[pos].len,
						 a.frames[k].len);
				assert_memory_equal(b.frames[pos].data,
						    a.frames[k].data,
						    a.frames[k].len);
				assert_int_equal(rb.frames[pos].len,
						 ra.frames[k].len);
				assert_memory_equal(rb.frames[pos].data,
						    ra.frames[k].data,
						    ra.frames[k].len);
			}
		}
	}
	assert_int_equal(pos, b.n);
	free_capture(&a);
	free_capture(&b);
	free_capture(&ra);
	free_capture(&rb);
}

static void
test_million_streams(void **state)
{
	const size_t streams = 1000000;
	uint8_t (*tuples)[37];
	struct capture out;
	size_t i;

	(void)state;
	assert_int_equal(run("-s %zu -o m.pcap", streams), 0);
	read_pcap("m.pcap", &out);
	assert_int_equal(out.n, streams);
	tuples = calloc(out.n, sizeof(*tuples));
	assert_non_null(tuples);
	for (i = 0; i < out.n; i++) {
		struct vxlan_info vi;

		check_vxlan(&out.frames[i], &vi);
		memcpy(tuples[i], vi.inner.tuple, 37);
	}
	assert_int_equal(distinct(tuples, out.n), streams);
	free(tuples);
	free_capture(&out);
}

static void
test_bad_arguments_get_a_clear_error(void **state)
{
	static const char *const bad[] = {
		"-s 0 -o x.pcap",
		"-s 1000001 -o x.pcap",
		"-l 63 -o x.pcap",
		"-l 1519 -o x.pcap",
		"-l huge -o x.pcap",
		"--vlan 4096 -o x.pcap",
		"--outer-src 300.1.1.1 -o x.pcap",
		"--inner-src-mac 02:00 -o x.pcap",
		"-p sctp -o x.pcap",
		"--vni 16777216 -o x.pcap",
		"--no-such-option -o x.pcap",
		"-s 10",
		"--plain -e y.pcap -o x.pcap",
		"--train 0 -o x.pcap",
	};
	size_t i, n;
	char *err;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run("%s", bad[i]), 2);
		err = slurp("stderr", &n);
		if (strstr(err, "fp-streamgen") == NULL ||
		    strstr(err, "--help") == NULL)
			fail_msg("'%s' gave: %s", bad[i], err);
		free(err);
	}
	assert_int_equal(run("--help"), 0);
	err = slurp("stdout", &n);
	assert_non_null(strstr(err, "--streams"));
	free(err);
}

static int
setup(void **state)
{
	const char *path = getenv("FP_STREAMGEN");

	(void)state;
	if (path == NULL || realpath(path, streamgen) == NULL) {
		fprintf(stderr, "FP_STREAMGEN must name fp-streamgen\n");
		return -1;
	}
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_udp_streams_expect_and_reverse),
		cmocka_unit_test(test_ipv6_tcp_handshake_vlan),
		cmocka_unit_test(test_imix_vnis_and_source_port_entropy),
		cmocka_unit_test(test_same_seed_same_bytes),
		cmocka_unit_test(test_trains),
		cmocka_unit_test(test_million_streams),
		cmocka_unit_test(test_bad_arguments_get_a_clear_error),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
