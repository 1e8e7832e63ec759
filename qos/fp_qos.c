/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>

#include "fp_qos.h"
#include "fp_text.h"

static const char *const algorithm_names[] = {
	[FP_QOS_SRTCM] = "srtcm",
	[FP_QOS_TRTCM] = "trtcm",
	[FP_QOS_RFC4115] = "rfc4115",
};

static const char *const unit_names[] = {
	[FP_QOS_BPS] = "bps",
	[FP_QOS_PPS] = "pps",
};

static const char *const color_names[] = {
	[RTE_COLOR_GREEN] = "green",
	[RTE_COLOR_YELLOW] = "yellow",
	[RTE_COLOR_RED] = "red",
};

const char *
fp_qos_algorithm_name(enum fp_qos_algorithm algorithm)
{
	return (unsigned int)algorithm < RTE_DIM(algorithm_names) ?
		algorithm_names[algorithm] : "?";
}

const char *
fp_qos_unit_name(enum fp_qos_unit unit)
{
	return (unsigned int)unit < RTE_DIM(unit_names) ?
		unit_names[unit] : "?";
}

const char *
fp_qos_color_name(enum rte_color color)
{
	return (unsigned int)color < RTE_DIM(color_names) ?
		color_names[color] : "?";
}

static int
fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && err_size > 0) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A decimal number with nothing after it. */
static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	return 0;
}

static int
parse_action(const char *s, struct fp_qos_action *a)
{
	uint64_t dscp;

	if (strcmp(s, "pass") == 0) {
		a->verb = FP_QOS_PASS;
		a->dscp = 0;
		return 0;
	}
	if (strcmp(s, "drop") == 0) {
		a->verb = FP_QOS_DROP;
		a->dscp = 0;
		return 0;
	}
	if (strncmp(s, "remark:", 7) == 0 && parse_u64(s + 7, &dscp) == 0 &&
	    dscp <= 63) {
		a->verb = FP_QOS_REMARK;
		a->dscp = (uint8_t)dscp;
		return 0;
	}
	return -EINVAL;
}

/* The profile's keys, in the order fp_qos_profile_format() writes them. */
enum key {
	K_ALGORITHM, K_UNIT, K_CIR, K_CBS, K_EBS, K_PIR, K_PBS, K_EIR,
	K_COLOR_MODE, K_GREEN, K_YELLOW, K_RED, K_N
};

static const char *const key_names[K_N] = {
	"algorithm", "unit", "cir", "cbs", "ebs", "pir", "pbs", "eir",
	"color-mode", "green", "yellow", "red",
};

/* Checks a rate key: present (if 'required'), a number, within range. */
static int
check_rate(const char *const *val, enum key k, bool required,
	   enum fp_qos_unit unit, uint64_t *out, char *err, size_t err_size)
{
	uint64_t max = unit == FP_QOS_BPS ? FP_QOS_MAX_BPS : FP_QOS_MAX_PPS;
	const char *what = unit == FP_QOS_BPS ? "bits/s" : "packets/s";

	*out = 0;
	if (val[k] == NULL) {
		if (required)
			return fail(err, err_size, "%s is missing: the %s rate, "
				    "in %s, is required", key_names[k],
				    k == K_CIR ? "committed" : k == K_PIR ?
				    "peak" : "excess", what);
		return 0;
	}
	if (parse_u64(val[k], out) != 0)
		return fail(err, err_size, "%s: '%s' is not a number of %s",
			    key_names[k], val[k], what);
	if ((k == K_CIR || k == K_PIR) && *out == 0)
		return fail(err, err_size, "%s: the rate must not be 0",
			    key_names[k]);
	if (*out > max)
		return fail(err, err_size, "%s: %" PRIu64 " %s is more than "
			    "the %" PRIu64 " this meter takes", key_names[k],
			    *out, what, max);
	return 0;
}

/* Checks a burst key against the smallest burst that passes one frame. */
static int
check_burst(const char *const *val, enum key k, bool required,
	    enum fp_qos_unit unit, unsigned int max_frame, uint64_t *out,
	    char *err, size_t err_size)
{
	uint64_t min = unit == FP_QOS_BPS ? max_frame : 1;
	const char *what = unit == FP_QOS_BPS ? "bytes" : "packets";

	*out = 0;
	if (val[k] == NULL) {
		if (required)
			return fail(err, err_size, "%s is missing: the burst "
				    "size, in %s, is required", key_names[k],
				    what);
		return 0;
	}
	if (parse_u64(val[k], out) != 0)
		return fail(err, err_size, "%s: '%s' is not a number of %s",
			    key_names[k], val[k], what);
	if (*out < min)
		return fail(err, err_size, "%s: %" PRIu64 " %s is smaller "
			    "than one %s (%" PRIu64 " %s): no packet that size "
			    "would ever conform", key_names[k], *out, what,
			    unit == FP_QOS_BPS ? "frame of the port's MTU" :
			    "packet", min, what);
	if (*out > FP_QOS_MAX_BURST)
		return fail(err, err_size, "%s: %" PRIu64 " %s is more than "
			    "%" PRIu64, key_names[k], *out, what,
			    (uint64_t)FP_QOS_MAX_BURST);
	return 0;
}

int
fp_qos_profile_parse(const char *const *keys, const char *const *values,
		     unsigned int n, unsigned int max_frame,
		     struct fp_qos_profile *profile, char *err,
		     size_t err_size)
{
	const char *val[K_N] = { NULL };
	struct fp_qos_profile p;
	unsigned int i, k;
	int ret;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < n; i++) {
		for (k = 0; k < K_N; k++)
			if (strcmp(keys[i], key_names[k]) == 0)
				break;
		if (k == K_N)
			return fail(err, err_size, "'%s' is not a meter key "
				    "(algorithm, unit, cir, cbs, ebs, pir, pbs, "
				    "eir, color-mode, green, yellow, red)",
				    keys[i]);
		val[k] = values[i];
	}

	p.algorithm = FP_QOS_SRTCM;
	if (val[K_ALGORITHM] != NULL) {
		for (k = 0; k < RTE_DIM(algorithm_names); k++)
			if (strcmp(val[K_ALGORITHM], algorithm_names[k]) == 0)
				break;
		if (k == RTE_DIM(algorithm_names))
			return fail(err, err_size, "algorithm: '%s' is not "
				    "srtcm, trtcm or rfc4115",
				    val[K_ALGORITHM]);
		p.algorithm = (enum fp_qos_algorithm)k;
	}
	p.unit = FP_QOS_BPS;
	if (val[K_UNIT] != NULL) {
		if (strcmp(val[K_UNIT], "bps") == 0)
			p.unit = FP_QOS_BPS;
		else if (strcmp(val[K_UNIT], "pps") == 0)
			p.unit = FP_QOS_PPS;
		else
			return fail(err, err_size, "unit: '%s' is not bps or "
				    "pps", val[K_UNIT]);
	}
	if (val[K_COLOR_MODE] != NULL) {
		if (strcmp(val[K_COLOR_MODE], "blind") == 0)
			p.color_aware = false;
		else if (strcmp(val[K_COLOR_MODE], "aware") == 0)
			p.color_aware = true;
		else
			return fail(err, err_size, "color-mode: '%s' is not "
				    "blind or aware", val[K_COLOR_MODE]);
	}

	ret = check_rate(val, K_CIR, true, p.unit, &p.cir, err, err_size);
	if (ret == 0)
		ret = check_burst(val, K_CBS, true, p.unit, max_frame, &p.cbs,
				  err, err_size);
	if (ret != 0)
		return ret;

	switch (p.algorithm) {
	case FP_QOS_SRTCM:
		if (val[K_PIR] != NULL || val[K_PBS] != NULL ||
		    val[K_EIR] != NULL)
			return fail(err, err_size, "srtcm takes cir, cbs and "
				    "ebs; pir, pbs and eir are for trtcm and "
				    "rfc4115");
		if (val[K_EBS] != NULL && strcmp(val[K_EBS], "0") == 0)
			break;
		ret = check_burst(val, K_EBS, false, p.unit, max_frame,
				  &p.ebs, err, err_size);
		break;
	case FP_QOS_TRTCM:
		if (val[K_EBS] != NULL || val[K_EIR] != NULL)
			return fail(err, err_size, "trtcm takes cir, cbs, pir "
				    "and pbs; ebs and eir are for srtcm and "
				    "rfc4115");
		ret = check_rate(val, K_PIR, true, p.unit, &p.eir, err,
				 err_size);
		if (ret == 0 && p.eir < p.cir)
			ret = fail(err, err_size, "pir: the peak rate %" PRIu64
				   " is below the committed rate %" PRIu64,
				   p.eir, p.cir);
		if (ret == 0)
			ret = check_burst(val, K_PBS, true, p.unit, max_frame,
					  &p.ebs, err, err_size);
		break;
	case FP_QOS_RFC4115:
		if (val[K_PIR] != NULL || val[K_PBS] != NULL)
			return fail(err, err_size, "rfc4115 takes cir, cbs, eir "
				    "and ebs; pir and pbs are for trtcm");
		ret = check_rate(val, K_EIR, false, p.unit, &p.eir, err,
				 err_size);
		if (ret == 0 && p.eir > 0)
			ret = check_burst(val, K_EBS, true, p.unit, max_frame,
					  &p.ebs, err, err_size);
		else if (ret == 0 && val[K_EBS] != NULL &&
			 strcmp(val[K_EBS], "0") != 0)
			ret = fail(err, err_size, "ebs needs eir: without an "
				   "excess rate the excess bucket never fills");
		break;
	}
	if (ret != 0)
		return ret;

	p.action[RTE_COLOR_GREEN].verb = FP_QOS_PASS;
	p.action[RTE_COLOR_YELLOW].verb = FP_QOS_PASS;
	p.action[RTE_COLOR_RED].verb = FP_QOS_DROP;
	for (k = K_GREEN; k <= K_RED; k++) {
		enum rte_color c = (enum rte_color)(k - K_GREEN);

		if (val[k] != NULL && parse_action(val[k], &p.action[c]) != 0)
			return fail(err, err_size, "%s: '%s' is not pass, drop "
				    "or remark:DSCP (DSCP from 0 to 63)",
				    key_names[k], val[k]);
	}

	*profile = p;
	return 0;
}

int
fp_qos_profile_format(const struct fp_qos_profile *p, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int c;

	if (size > 0)
		buf[0] = '\0';
	fp_text_append(buf, size, &len, "algorithm=%s unit=%s cir=%" PRIu64
		       " cbs=%" PRIu64, fp_qos_algorithm_name(p->algorithm),
	       fp_qos_unit_name(p->unit), p->cir, p->cbs);
	switch (p->algorithm) {
	case FP_QOS_SRTCM:
		fp_text_append(buf, size, &len, " ebs=%" PRIu64, p->ebs);
		break;
	case FP_QOS_TRTCM:
		fp_text_append(buf, size, &len, " pir=%" PRIu64 " pbs=%" PRIu64,
		       p->eir, p->ebs);
		break;
	case FP_QOS_RFC4115:
		fp_text_append(buf, size, &len, " eir=%" PRIu64 " ebs=%" PRIu64,
		       p->eir, p->ebs);
		break;
	}
	fp_text_append(buf, size, &len, " color-mode=%s",
	       p->color_aware ? "aware" : "blind");
	for (c = 0; c < RTE_COLORS; c++) {
		const struct fp_qos_action *a = &p->action[c];

		if (a->verb == FP_QOS_REMARK)
			fp_text_append(buf, size, &len, " %s=remark:%u",
			       color_names[c], a->dscp);
		else
			fp_text_append(buf, size, &len, " %s=%s", color_names[c],
			       a->verb == FP_QOS_DROP ? "drop" : "pass");
	}
	return (int)len;
}

bool
fp_qos_profile_equal(const struct fp_qos_profile *a,
		     const struct fp_qos_profile *b)
{
	unsigned int c;

	if (a->algorithm != b->algorithm || a->unit != b->unit ||
	    a->color_aware != b->color_aware || a->cir != b->cir ||
	    a->cbs != b->cbs || a->eir != b->eir || a->ebs != b->ebs)
		return false;
	for (c = 0; c < RTE_COLORS; c++)
		if (a->action[c].verb != b->action[c].verb ||
		    (a->action[c].verb == FP_QOS_REMARK &&
		     a->action[c].dscp != b->action[c].dscp))
			return false;
	return true;
}

/* Configures librte_meter's profile and run-time state in 'm' from 'p'.
 * Rates go to librte_meter in bytes/s, or in packets/s as "bytes" of one
 * per packet. */
static int
meter_setup(struct fp_qos_meter *m, const struct fp_qos_profile *p)
{
	uint64_t div = p->unit == FP_QOS_BPS ? 8 : 1;
	int ret;

	switch (p->algorithm) {
	case FP_QOS_SRTCM: {
		struct rte_meter_srtcm_params prm = {
			.cir = p->cir / div, .cbs = p->cbs, .ebs = p->ebs,
		};

		ret = rte_meter_srtcm_profile_config(&m->prof.srtcm, &prm);
		if (ret == 0)
			ret = rte_meter_srtcm_config(&m->run.srtcm,
						     &m->prof.srtcm);
		break;
	}
	case FP_QOS_TRTCM: {
		struct rte_meter_trtcm_params prm = {
			.cir = p->cir / div, .pir = p->eir / div,
			.cbs = p->cbs, .pbs = p->ebs,
		};

		ret = rte_meter_trtcm_profile_config(&m->prof.trtcm, &prm);
		if (ret == 0)
			ret = rte_meter_trtcm_config(&m->run.trtcm,
						     &m->prof.trtcm);
		break;
	}
	case FP_QOS_RFC4115: {
		struct rte_meter_trtcm_rfc4115_params prm = {
			.cir = p->cir / div, .eir = p->eir / div,
			.cbs = p->cbs, .ebs = p->ebs,
		};

		ret = rte_meter_trtcm_rfc4115_profile_config(
			&m->prof.rfc4115, &prm);
		if (ret == 0)
			ret = rte_meter_trtcm_rfc4115_config(&m->run.rfc4115,
							     &m->prof.rfc4115);
		break;
	}
	default:
		ret = -EINVAL;
	}
	return ret != 0 ? -EINVAL : 0;
}

/* librte_meter starts a bucket's clock at rte_get_tsc_cycles(); the times
 * given to fp_qos_meter_run() may come from another clock (tests), so set
 * it to 'now'. */
static void
meter_set_time(struct fp_qos_meter *m, uint64_t now)
{
	switch (m->profile.algorithm) {
	case FP_QOS_SRTCM:
		m->run.srtcm.time = now;
		break;
	case FP_QOS_TRTCM:
		m->run.trtcm.time_tc = now;
		m->run.trtcm.time_tp = now;
		break;
	case FP_QOS_RFC4115:
		m->run.rfc4115.time_tc = now;
		m->run.rfc4115.time_te = now;
		break;
	}
}

struct fp_qos_meter *
fp_qos_meter_create(const struct fp_qos_profile *profile, uint64_t hz,
		    uint64_t now)
{
	struct fp_qos_meter *m;

	if (profile == NULL || hz == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	m = rte_zmalloc("fp_qos_meter", sizeof(*m), RTE_CACHE_LINE_SIZE);
	if (m == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	rte_spinlock_init(&m->lock);
	m->profile = *profile;
	m->hz = hz;
	if (meter_setup(m, profile) != 0) {
		rte_free(m);
		rte_errno = EINVAL;
		return NULL;
	}
	meter_set_time(m, now);
	m->win_start = now;
	m->last_tsc = now;
	return m;
}

int
fp_qos_meter_reconfigure(struct fp_qos_meter *meter,
			 const struct fp_qos_profile *profile, uint64_t now)
{
	struct fp_qos_meter tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.profile = *profile;
	if (meter_setup(&tmp, profile) != 0)
		return -EINVAL;
	rte_spinlock_lock(&meter->lock);
	meter->profile = *profile;
	meter->prof = tmp.prof;
	meter->run = tmp.run;
	if (now < meter->last_tsc)
		now = meter->last_tsc;
	meter_set_time(meter, now);
	meter->last_tsc = now;
	meter->win_start = now;
	meter->win_offered = 0;
	meter->win_passed = 0;
	rte_spinlock_unlock(&meter->lock);
	return 0;
}

void
fp_qos_meter_free(struct fp_qos_meter *meter)
{
	rte_free(meter);
}

void
fp_qos_meter_stats(struct fp_qos_meter *meter, struct fp_qos_stats *stats)
{
	rte_spinlock_lock(&meter->lock);
	*stats = meter->stats;
	rte_spinlock_unlock(&meter->lock);
}

void
fp_qos_meter_reset_stats(struct fp_qos_meter *meter)
{
	rte_spinlock_lock(&meter->lock);
	memset(&meter->stats, 0, sizeof(meter->stats));
	rte_spinlock_unlock(&meter->lock);
}
