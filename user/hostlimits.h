/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Host limits a growing tree runs into: its pids cgroup's pids.max, the
 * kernel's pid_max and threads-max, its uid's RLIMIT_NPROC.  Read live
 * from /proc and cgroupfs when an alert is raised; a replay has none.
 */
#ifndef FT_HOSTLIMITS_H
#define FT_HOSTLIMITS_H

#include <stdint.h>

#define LIMITS_MAX 4

struct host_limit {
	const char *name; /* "pids.max", "pid_max", "threads-max", "RLIMIT_NPROC" */
	uint64_t limit, used;
};

/* The limits that apply to pid (uid_tasks: the tasks its uid runs now);
 * returns how many were read. */
int limits_read(uint32_t pid, uint32_t uid, uint64_t uid_tasks, struct host_limit *out);

/*
 * The forks the pids controller refused ("max" in pids.events) in pid's
 * pids cgroup or, where a kernel counts them at the level whose pids.max
 * was hit, an ancestor: the largest count on the way up.  0 when no
 * pids.events could be read (no pids controller, the process gone).
 */
int limits_pids_refused(uint32_t pid, uint64_t *refused);

#endif /* FT_HOSTLIMITS_H */
