/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_PCAP_H_
#define _FP_PCAP_H_

/**
 * @file
 * Minimal pcap file writer.
 *
 * Writes the classic libpcap format (microsecond timestamps, link type
 * Ethernet), which net_pcap, tcpdump and Wireshark all read. It has no
 * dependency on libpcap and needs no EAL, so pcaps can be generated on a
 * machine without hugepages.
 */

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest frame the writer accepts (and the snaplen it records). */
#define FP_PCAP_SNAPLEN 9216

struct fp_pcap_writer;

/**
 * Create a pcap file, truncating any existing file, and write its header.
 *
 * @param path
 *   File to write.
 * @return
 *   A writer, or NULL with rte_errno set (to the errno of the failed call).
 */
struct fp_pcap_writer *
fp_pcap_writer_open(const char *path);

/**
 * Append one frame.
 *
 * @param writer
 *   Writer from fp_pcap_writer_open().
 * @param frame
 *   Frame bytes, starting at the Ethernet header, without FCS.
 * @param len
 *   Frame length in bytes, at most FP_PCAP_SNAPLEN.
 * @param ts_us
 *   Timestamp in microseconds.
 * @return
 *   0 on success, -EINVAL for a bad length, or a negative errno from the
 *   failed write.
 */
int
fp_pcap_writer_add(struct fp_pcap_writer *writer, const void *frame,
		   uint32_t len, uint64_t ts_us);

/**
 * Get the number of frames written so far.
 *
 * @param writer
 *   Writer from fp_pcap_writer_open().
 * @return
 *   The number of frames appended.
 */
uint64_t
fp_pcap_writer_count(const struct fp_pcap_writer *writer);

/**
 * Flush and close the file, and free the writer.
 *
 * @param writer
 *   Writer from fp_pcap_writer_open(); NULL is accepted and ignored.
 * @return
 *   0 on success, or a negative errno if any buffered data could not be
 *   written (the file is then incomplete).
 */
int
fp_pcap_writer_close(struct fp_pcap_writer *writer);

#ifdef __cplusplus
}
#endif

#endif /* _FP_PCAP_H_ */
