/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Host limits a growing tree runs into: its pids cgroup's pids.max, the
 * kernel's pid_max and threads-max, its uid's RLIMIT_NPROC.  Read live
 * from /proc and cgroupfs when an alert is raised, and recorded (a LIMITS
 * record) for replays.
 * The cgroups are the node's as ct_node_init found them (its cgroup2
 * mount and namespace root, --host-root's /sys/fs/cgroup in a pod); a
 * NULL node reads none.
 */
#ifndef FT_HOSTLIMITS_H
#define FT_HOSTLIMITS_H

#include <stdint.h>
#include "forktrace.h"

struct ct_node;

#define LIMITS_MAX FT_LIMITS_MAX

struct host_limit {
	enum ft_limit_kind kind;
	uint64_t limit, used;
};

/* The limits that apply to pid (uid_tasks: the tasks its uid runs now);
 * returns how many were read. */
int limits_read(const struct ct_node *node, uint32_t pid, uint32_t uid, uint64_t uid_tasks,
		struct host_limit *out);

/*
 * The forks the pids controller refused in pid's own pids cgroup, by its
 * limit or an ancestor's: "max" of pids.events.local where the kernel has
 * it (Linux 6.11 made pids.events count at the level whose limit was hit
 * and every level above it, node-wide counts near the root), else of
 * pids.events, which counted at the forking task's cgroup.  0 when none
 * could be read (no pids controller, the process gone, a cgroup above
 * forktrace's cgroup namespace whose root was not found).
 */
int limits_pids_refused(const struct ct_node *n, uint32_t pid, uint64_t *refused);

#endif /* FT_HOSTLIMITS_H */
