// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hostlimits.h"

static int read_u64(const char *path, uint64_t *v)
{
	char buf[64];
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok || !strncmp(buf, "max", 3))
		return -1; /* unlimited */
	*v = strtoull(buf, NULL, 10);
	return 0;
}

/*
 * The tightest pids.max on the way from pid's pids cgroup up to the root:
 * a v1 "pids" hierarchy, or cgroup2 (mounted at /sys/fs/cgroup, or at
 * /sys/fs/cgroup/unified on hybrid hosts).
 */
static int pids_cgroup(uint32_t pid, struct host_limit *out)
{
	char path[64], line[4096], dir[4200], file[4300];
	uint64_t best = UINT64_MAX, max, cur;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;
		const char *roots[2];

		if (!cg)
			continue;
		*cg++ = '\0';
		ctrl++;
		cg[strcspn(cg, "\n")] = '\0';
		if (!strcmp(ctrl, "pids")) {
			roots[0] = "/sys/fs/cgroup/pids";
			roots[1] = NULL;
		} else if (!*ctrl) {
			roots[0] = "/sys/fs/cgroup";
			roots[1] = "/sys/fs/cgroup/unified";
		} else {
			continue;
		}
		for (int r = 0; r < 2 && roots[r]; r++) {
			/* walk the path upwards: every level's limit applies */
			for (size_t n = strlen(cg); n > 0;) {
				snprintf(dir, sizeof(dir), "%s%.*s", roots[r], (int)n, cg);
				snprintf(file, sizeof(file), "%s/pids.max", dir);
				if (!read_u64(file, &max)) {
					snprintf(file, sizeof(file), "%s/pids.current", dir);
					if (!read_u64(file, &cur) &&
					    max - (cur < max ? cur : max) < best) {
						best = max - (cur < max ? cur : max);
						out->limit = max;
						out->used = cur;
						found = true;
					}
				}
				while (n > 0 && cg[n - 1] != '/')
					n--;
				if (n > 0)
					n--; /* drop the slash */
			}
		}
	}
	fclose(f);
	out->name = "pids.max";
	return found;
}

int limits_read(uint32_t pid, uint32_t uid, uint64_t uid_tasks, struct host_limit *out)
{
	uint64_t threads = 0, v;
	char path[64], line[256];
	int n = 0;
	FILE *f;

	n += pids_cgroup(pid, &out[n]);
	/* the 4th field of loadavg is running/total tasks: the tasks in use */
	f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fgets(line, sizeof(line), f) && strchr(line, '/'))
			threads = strtoull(strchr(line, '/') + 1, NULL, 10);
		fclose(f);
	}
	if (threads && !read_u64("/proc/sys/kernel/pid_max", &v))
		out[n++] = (struct host_limit){ "pid_max", v, threads };
	if (threads && !read_u64("/proc/sys/kernel/threads-max", &v))
		out[n++] = (struct host_limit){ "threads-max", v, threads };
	/* RLIMIT_NPROC does not hold root back */
	snprintf(path, sizeof(path), "/proc/%u/limits", pid);
	f = uid ? fopen(path, "re") : NULL;
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "Max processes", 13)) {
				char *p = line + 13;

				while (*p == ' ')
					p++;
				if (*p >= '0' && *p <= '9')
					out[n++] =
					    (struct host_limit){ "RLIMIT_NPROC",
								 strtoull(p, NULL, 10), uid_tasks };
			}
		fclose(f);
	}
	return n;
}
