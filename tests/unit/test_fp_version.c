/* SPDX-License-Identifier: Apache-2.0 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_version.h>

#include "fp_version.h"

static void
test_version_is_project_version(void **state)
{
	(void)state;
	assert_string_equal(fp_version(), FP_EXPECTED_VERSION);
}

static void
test_dpdk_version_is_runtime_22_11(void **state)
{
	(void)state;
	assert_string_equal(fp_version_dpdk(), rte_version());
	assert_non_null(strstr(fp_version_dpdk(), "DPDK 22.11"));
}

static void
test_revision_is_set(void **state)
{
	(void)state;
	assert_non_null(fp_version_revision());
	assert_true(strlen(fp_version_revision()) > 0);
}

static void
test_format_names_everything(void **state)
{
	char buf[256];
	int len;

	(void)state;
	len = fp_version_format(buf, sizeof(buf));
	assert_int_equal(len, (int)strlen(buf));
	assert_true(strncmp(buf, "Foldpath " FP_EXPECTED_VERSION " (",
			    strlen("Foldpath " FP_EXPECTED_VERSION " (")) == 0);
	assert_non_null(strstr(buf, fp_version_revision()));
	assert_non_null(strstr(buf, rte_version()));
}

static void
test_format_truncates_like_snprintf(void **state)
{
	char full[256];
	char small[10];
	int len;

	(void)state;
	len = fp_version_format(full, sizeof(full));
	assert_int_equal(fp_version_format(small, sizeof(small)), len);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, full, sizeof(small) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_is_project_version),
		cmocka_unit_test(test_dpdk_version_is_runtime_22_11),
		cmocka_unit_test(test_revision_is_set),
		cmocka_unit_test(test_format_names_everything),
		cmocka_unit_test(test_format_truncates_like_snprintf),
	};

	return cmocka_run_group_tests_name("fp_version", tests, NULL, NULL);
}
