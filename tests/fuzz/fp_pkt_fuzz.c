/* SPDX-License-Identifier: Apache-2.0 */

/*
 * libFuzzer target for the stream-key parser. Any input is a frame; the
 * parser must never read past it (AddressSanitizer), and whatever it
 * accepts must be self-consistent:
 *   - the offsets it reports lie inside the frame and in order;
 *   - the unused bytes of the key are zero, so keys compare and hash the
 *     same way every time;
 *   - the burst parser agrees with the single-frame one;
 *   - formatting the key does not overflow.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_pkt.h"

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "fp_pkt_fuzz: %s failed\n", #cond); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fp_pkt_layer zero_layer;
	struct fp_stream_key key, key2;
	struct fp_pkt_offsets ofs;
	const void *frame;
	uint32_t len, hash;
	uint8_t verdict;
	char text[512];
	uint8_t *copy;
	int v;

	/* An exact-size heap copy: any over-read is caught. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	frame = copy;
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
	}

	/* The burst parser agrees. */
	CHECK(fp_pkt_parse_burst(&frame, &len, 1, 3, RTE_BE16(4789), &key2,
				 &ofs, &hash, &verdict) == (v == FP_PKT_OK));
	CHECK(verdict == v);
	if (v == FP_PKT_OK) {
		CHECK(fp_stream_key_equal(&key, &key2));
		CHECK(hash == fp_stream_key_hash(&key));
	}
	free(copy);
	return 0;
}
