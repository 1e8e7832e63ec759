/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>

#include "fp_pcap.h"

/* Classic pcap: magic in host order, version 2.4, link type 1 (Ethernet). */
#define FP_PCAP_MAGIC_US 0xa1b2c3d4u
#define FP_PCAP_LINKTYPE_ETHERNET 1

struct fp_pcap_file_hdr {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;
	uint32_t sigfigs;
	uint32_t snaplen;
	uint32_t linktype;
};

struct fp_pcap_rec_hdr {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t incl_len;
	uint32_t orig_len;
};

struct fp_pcap_writer {
	FILE *file;
	uint64_t count;
};

struct fp_pcap_writer *
fp_pcap_writer_open(const char *path)
{
	const struct fp_pcap_file_hdr hdr = {
		.magic = FP_PCAP_MAGIC_US,
		.version_major = 2,
		.version_minor = 4,
		.snaplen = FP_PCAP_SNAPLEN,
		.linktype = FP_PCAP_LINKTYPE_ETHERNET,
	};
	struct fp_pcap_writer *writer;

	writer = calloc(1, sizeof(*writer));
	if (writer == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	writer->file = fopen(path, "wb");
	if (writer->file == NULL) {
		rte_errno = errno;
		free(writer);
		return NULL;
	}
	if (fwrite(&hdr, sizeof(hdr), 1, writer->file) != 1) {
		rte_errno = errno != 0 ? errno : EIO;
		fclose(writer->file);
		free(writer);
		return NULL;
	}
	return writer;
}

int
fp_pcap_writer_add(struct fp_pcap_writer *writer, const void *frame,
		   uint32_t len, uint64_t ts_us)
{
	struct fp_pcap_rec_hdr rec;

	if (len == 0 || len > FP_PCAP_SNAPLEN)
		return -EINVAL;
	rec.ts_sec = (uint32_t)(ts_us / 1000000);
	rec.ts_usec = (uint32_t)(ts_us % 1000000);
	rec.incl_len = len;
	rec.orig_len = len;
	if (fwrite(&rec, sizeof(rec), 1, writer->file) != 1 ||
	    fwrite(frame, len, 1, writer->file) != 1)
		return errno != 0 ? -errno : -EIO;
	writer->count++;
	return 0;
}

uint64_t
fp_pcap_writer_count(const struct fp_pcap_writer *writer)
{
	return writer->count;
}

int
fp_pcap_writer_close(struct fp_pcap_writer *writer)
{
	int ret = 0;

	if (writer == NULL)
		return 0;
	if (fclose(writer->file) != 0)
		ret = errno != 0 ? -errno : -EIO;
	free(writer);
	return ret;
}
