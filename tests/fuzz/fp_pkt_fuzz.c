/* SPDX-License-Identifier: Apache-2.0 */

/*
 * libFuzzer target for the stream-key parser. Any input is a frame; the
 * parser must never read past it (AddressSanitizer), and whatever it
 * accepts must be self-consistent:
 *   - the offsets it reports lie inside the frame and in order;
 *   - the unused bytes of the key are zero, so keys compare and hash the
 *     same way every time;
 *   - the compact key is packed exactly for the shapes that pack (IPv4,
 *     and for VXLAN IPv4 in IPv4 without an outer VLAN tag), and then
 *     unpacks to the parsed key, byte for byte; otherwise it is a digest,
 *     which does not unpack; its flow id is the key's;
 *   - the burst parser agrees with the single-frame one and
 *     fp_stream_key_pack(): verdict, offsets, compact key, hash, and the
 *     full key of a digest, for bursts of one and of five frames;
 *   - formatting the key does not overflow.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_pkt.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fp_pkt_fuzz: %s failed\n", #cond); abort(); } } while (0)

#define VXLAN_PORT RTE_BE16(4789)
#define BURST 5 /* One round of four, and one more. */

/* Whether a parsed key's shape is one that fp_stream_key_pack() packs. */
static bool
packs(const struct fp_stream_key *key)
{
	const rte_be16_t ipv4 = RTE_BE16(0x0800);

	if (key->shape == FP_PKT_SHAPE_PLAIN)
		return key->layer[0].dl_type == ipv4;
	return key->layer[0].dl_type == ipv4 &&
	       key->layer[1].dl_type == ipv4 &&
	       key->layer[0].vlan_kind == FP_PKT_VLAN_NONE;
}

static bool
all_bytes(const void *p, size_t n, uint8_t b)
{
	const uint8_t *q = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (q[i] != b)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fp_pkt_layer zero_layer;
	struct fp_stream_key key, key2;
	struct fp_stream_key bkeys[BURST];
	struct fp_stream_ckey ck, ck2;
	struct fp_stream_ckey bckeys[BURST];
	struct fp_pkt_offsets ofs;
	struct fp_pkt_offsets bofs[BURST];
	const void *frames[BURST];
	uint32_t lens[BURST];
	uint32_t hashes[BURST];
	uint8_t verdicts[BURST];
	bool packed = false;
	char text[512];
	uint8_t *copy;
	uint32_t len;
	unsigned int i;
	int v;

	/* An exact-size heap copy: any over-read is caught. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	len = size;

	v = fp_pkt_parse(copy, len, 3, RTE_BE16(4789), &key, &ofs);
	CHECK(v >= 0 && v < FP_PKT_VERDICT_MAX);
	CHECK(fp_pkt_verdict_name(v) != NULL);
	if (v == FP_PKT_OK) {
		CHECK(key.shape == FP_PKT_SHAPE_PLAIN ||
		      key.shape == FP_PKT_SHAPE_VXLAN);
		CHECK(ofs.l3 >= 14 && ofs.l3 < ofs.l4 && ofs.l4 <= len);
		CHECK(ofs.l2_pad <= len - ofs.l4);
		if (key.shape == FP_PKT_SHAPE_VXLAN) {
			CHECK(ofs.inner >= ofs.l4 + 16 && ofs.inner < len);
			CHECK(ofs.inner_l3 >= 14 &&
			      ofs.inner_l3 < ofs.inner_l4 &&
			      ofs.inner + ofs.inner_l4 <= len);
		} else {
			CHECK(ofs.inner == 0);
			CHECK(memcmp(&key.layer[1], &zero_layer,
				     sizeof(zero_layer)) == 0);
		}
		CHECK(key.layer[0].reserved == 0 && key.layer[1].reserved == 0);

		/* Parsing again gives the same key and hash. */
		CHECK(fp_pkt_parse(copy, len, 3, RTE_BE16(4789), &key2,
				   NULL) == FP_PKT_OK);
		CHECK(fp_stream_key_equal(&key, &key2));
		CHECK(fp_stream_key_hash(&key) == fp_stream_key_hash(&key2));
		CHECK(fp_stream_key_format(&key, text, sizeof(text)) > 0);
		CHECK(strlen(text) < sizeof(text));

		/* The compact key: packed for the packed shapes, and then
		 * the parsed key again; else a digest that does not unpack. */
		memset(&ck, 0xa5, sizeof(ck));
		packed = fp_stream_key_pack(&key, VXLAN_PORT, &ck);
		CHECK(packed == packs(&key));
		CHECK(packed == !fp_stream_ckey_is_digest(&ck));
		CHECK(ck.in_port == key.in_port);
		memset(&key2, 0xa5, sizeof(key2));
		CHECK(fp_stream_ckey_unpack(&ck, VXLAN_PORT, &key2) == packed);
		if (packed)
			CHECK(memcmp(&key2, &key, sizeof(key)) == 0);
		else
			CHECK(all_bytes(&key2, sizeof(key2), 0xa5));
		/* Packing writes every byte: the same key again. */
		memset(&ck2, 0x5a, sizeof(ck2));
		CHECK(fp_stream_key_pack(&key, VXLAN_PORT, &ck2) == packed);
		CHECK(memcmp(&ck, &ck2, sizeof(ck)) == 0);
		CHECK(fp_stream_ckey_equal(&ck, &ck2));
		CHECK(fp_stream_ckey_flow_id(&ck, packed ? NULL : &key) ==
		      fp_stream_key_flow_id(&key));
	}

	/* The burst parser agrees, in bursts of one and of BURST. */
	for (i = 0; i < BURST; i++) {
		frames[i] = copy;
		lens[i] = len;
	}
	for (unsigned int n = 1; n <= BURST; n += BURST - 1) {
		memset(bckeys, 0xa5, sizeof(bckeys));
		memset(bkeys, 0xa5, sizeof(bkeys));
		memset(bofs, 0xa5, sizeof(bofs));
		CHECK(fp_pkt_parse_burst(frames, lens, n, 3, VXLAN_PORT,
					 bckeys, bkeys, bofs, hashes,
					 verdicts) == (v == FP_PKT_OK ? n : 0));
		for (i = 0; i < n; i++) {
			CHECK(verdicts[i] == v);
			if (v != FP_PKT_OK)
				continue;
			CHECK(memcmp(&bofs[i], &ofs, sizeof(ofs)) == 0);
			CHECK(memcmp(&bckeys[i], &ck, sizeof(ck)) == 0);
			CHECK(hashes[i] == fp_stream_ckey_hash(&ck));
			if (!packed)
				CHECK(memcmp(&bkeys[i], &key,
					     sizeof(key)) == 0);
		}
	}
	free(copy);
	return 0;
}
