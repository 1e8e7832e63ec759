/* SPDX-License-Identifier: Apache-2.0 */

#ifndef _FP_TEST_FRAMES_H_
#define _FP_TEST_FRAMES_H_

/*
 * Frame checks shared by the unit tests. Checksums are verified with an
 * independent one's-complement sum, not with the DPDK helpers the code
 * under test uses. Include after <cmocka.h>.
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Checks an IPv4 header at 'ip', whose datagram is exactly 'avail' bytes,
 * and its UDP/TCP payload; returns the IP protocol. */
static inline uint8_t
check_ipv4_l4(const uint8_t *ip, size_t avail)
{
	uint16_t total = get16(ip + 2);
	uint16_t l4_len = total - 20;
	uint8_t pseudo[12];
	uint8_t proto = ip[9];

	assert_int_equal(ip[0], 0x45);
	assert_int_equal(total, avail);
	assert_int_equal(fold(sum16(ip, 20, 0)), 0xffff);

	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = proto;
	pseudo[10] = l4_len >> 8;
	pseudo[11] = l4_len & 0xff;
	if (proto == IPPROTO_UDP) {
		assert_int_equal(get16(ip + 20 + 4), l4_len);
		/* Zero means "no checksum" (outer VXLAN UDP). */
		if (get16(ip + 20 + 6) != 0)
			assert_int_equal(fold(sum16(ip + 20, l4_len,
						    sum16(pseudo, 12, 0))),
					 0xffff);
	} else {
		assert_int_equal(proto, IPPROTO_TCP);
		assert_int_equal(fold(sum16(ip + 20, l4_len,
					    sum16(pseudo, 12, 0))), 0xffff);
	}
	return proto;
}

/* Checks an IPv6 header at 'ip' and its UDP/TCP payload; returns the
 * next header. */
static inline uint8_t
check_ipv6_l4(const uint8_t *ip, size_t avail)
{
	uint16_t plen = get16(ip + 4);
	uint8_t pseudo[40];
	uint8_t proto = ip[6];

	assert_int_equal(ip[0] >> 4, 6);
	assert_true(40u + plen <= avail);
	memcpy(pseudo, ip + 8, 32);
	memset(pseudo + 32, 0, 8);
	pseudo[34] = plen >> 8;
	pseudo[35] = plen & 0xff;
	pseudo[39] = proto;
	/* IPv6 UDP checksums are mandatory, so never zero. */
	assert_int_equal(fold(sum16(ip + 40, plen, sum16(pseudo, 40, 0))),
			 0xffff);
	if (proto == IPPROTO_UDP)
		assert_int_equal(get16(ip + 40 + 4), plen);
	return proto;
}

/* What check_frame() found in one Ethernet frame. */
struct frame_info {
	int vid;               /* 802.1Q VID, or -1 without a tag. */
	int ipv6;
	uint8_t proto;
	const uint8_t *ip;
	const uint8_t *l4;
	size_t ip_len;         /* Header and payload, without padding. */
	uint8_t tuple[37];     /* Addresses, ports and protocol. */
};

/* Checks an Ethernet frame of 'len' bytes carrying IPv4 or IPv6 with UDP
 * or TCP: lengths, zero padding and every checksum. */
static inline void
check_frame(const uint8_t *f, size_t len, struct frame_info *fi)
{
	size_t l2 = 14;
	uint16_t type = get16(f + 12);
	size_t alen;

	memset(fi, 0, sizeof(*fi));
	fi->vid = -1;
	assert_true(len >= 60);
	if (type == 0x8100) {
		fi->vid = get16(f + 14) & 0xfff;
		type = get16(f + 16);
		l2 = 18;
	}
	fi->ip = f + l2;
	if (type == 0x0800) {
		fi->ip_len = get16(fi->ip + 2);
		assert_true(l2 + fi->ip_len <= len);
		fi->proto = check_ipv4_l4(fi->ip, fi->ip_len);
		fi->l4 = fi->ip + 20;
		alen = 4;
		memcpy(fi->tuple, fi->ip + 12, 8);
	} else {
		assert_int_equal(type, 0x86dd);
		fi->ipv6 = 1;
		fi->ip_len = 40 + get16(fi->ip + 4);
		assert_true(l2 + fi->ip_len <= len);
		fi->proto = check_ipv6_l4(fi->ip, fi->ip_len);
		fi->l4 = fi->ip + 40;
		alen = 16;
		memcpy(fi->tuple, fi->ip + 8, 32);
	}
	/* Any Ethernet padding after the datagram is zeroes. */
	for (alen = l2 + fi->ip_len; alen < len; alen++)
		assert_int_equal(f[alen], 0);
	alen = fi->ipv6 ? 16 : 4;
	memcpy(fi->tuple + 2 * alen, fi->l4, 4);
	fi->tuple[2 * alen + 4] = fi->proto;
}

#endif /* _FP_TEST_FRAMES_H_ */
