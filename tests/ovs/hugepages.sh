# SPDX-License-Identifier: Apache-2.0
#
# Hugepages (of the default size), read and reserved in one place for the
# launcher (./foldpath setup), the sandbox (fp_sb_require_env checks what is
# free) and the benchmark runner (tests/bench/run reserves what each run
# needs). Source it from bash.

# Prints the hugepage memory that is free, in MB.
fp_hugepages_free_mb() {
	awk '/^HugePages_Free:/ {n = $2} /^Hugepagesize:/ {kb = $2}
		END {print int(n * kb / 1024)}' /proc/meminfo
}

# Makes MB of hugepage memory free: raises the number of hugepages by what
# is missing (it never lowers it, so pages in use stay), and mounts
# hugetlbfs on /dev/hugepages. Root only. Prints a line when it reserves.
# Returns 1 when fewer than MB are free afterwards (the kernel found too
# little contiguous memory).
# Usage: fp_hugepages_reserve MB
fp_hugepages_reserve() {
	local want_mb=$1 page_kb total free want

	page_kb=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
	want=$((want_mb * 1024 / page_kb))
	free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo)
	if [ "$free" -lt "$want" ]; then
		total=$(awk '/^HugePages_Total:/ {print $2}' /proc/meminfo)
		echo "hugepages: reserving $((want - free)) more pages of $((page_kb / 1024)) MB"
		echo $((total + want - free)) > /proc/sys/vm/nr_hugepages ||
			return 1
	fi
	mkdir -p /dev/hugepages || return 1
	mountpoint -q /dev/hugepages ||
		mount -t hugetlbfs none /dev/hugepages || return 1
	[ "$(fp_hugepages_free_mb)" -ge "$want_mb" ]
}
