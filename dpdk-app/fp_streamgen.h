/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_STREAMGEN_H_
#define _FP_STREAMGEN_H_

/* fp-streamgen's parts, shared between its files. */

#include <stdbool.h>
#include <stdint.h>

#include "fp_pktgen.h"

/* How to send live. */
struct fp_streamgen_tx_opts {
	uint64_t rate;   /* Packets per second; 0: as fast as possible. */
	uint64_t count;  /* Packets to send; 0: until SIGINT or SIGTERM. */
	bool reverse;    /* Send the reverse frames (the local VM's). */
};

/*
 * Sends the frames of 'conf' out of the EAL's first port, round-robin over
 * the streams, each stream cycling through its conf->packets packets.
 * Returns 0, or a negative errno if the port cannot be used.
 */
int
fp_streamgen_tx(const struct fp_pktgen_conf *conf,
		const struct fp_streamgen_tx_opts *opts);

#endif /* _FP_STREAMGEN_H_ */
