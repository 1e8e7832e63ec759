/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Checks the parser's verdict on each seed of the fuzz corpus, so that the
 * corpus keeps one accepted frame of each shape: a seed that the parser
 * came to refuse would leave the fuzzer with nothing past that refusal.
 *
 *   fp-pkt-seeds VERDICT:FILE...   (VERDICT as fp_pkt_verdict_name() says)
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fp_pkt.h"

int
main(int argc, char **argv)
{
	static uint8_t frame[65536];
	struct fp_stream_key key;
	int i, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s VERDICT:FILE...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		const char *colon = strchr(argv[i], ':');
		const char *path, *got;
		FILE *f;
		size_t n;

		if (colon == NULL) {
			fprintf(stderr, "%s: not VERDICT:FILE\n", argv[i]);
			return 2;
		}
		path = colon + 1;
		f = fopen(path, "rb");
		if (f == NULL) {
			perror(path);
			return 1;
		}
		n = fread(frame, 1, sizeof(frame), f);
		fclose(f);
		got = fp_pkt_verdict_name(fp_pkt_parse(frame, n, 3,
						       RTE_BE16(4789), &key,
						       NULL));
		if ((size_t)(colon - argv[i]) != strlen(got) ||
		    strncmp(argv[i], got, colon - argv[i]) != 0) {
			printf("FAIL: %s: expected %.*s, got %s\n", path,
			       (int)(colon - argv[i]), argv[i], got);
			failed++;
		} else {
			printf("ok - %s: %s\n", path, got);
		}
	}
	printf("%d of %d seeds have the expected verdict\n", argc - 1 - failed,
	       argc - 1);
	return failed ? 1 : 0;
}
