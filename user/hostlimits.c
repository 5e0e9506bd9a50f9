// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "hostlimits.h"
#include "procfs.h"

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

/* Each level of one /proc/PID/cgroup line's pids cgroup, deepest first:
 * a v1 "pids" hierarchy, or cgroup2 (mounted at /sys/fs/cgroup, or at
 * /sys/fs/cgroup/unified on hybrid hosts).  dir: the level's directory. */
static void pids_levels(const char *ctrl, const char *cg, void (*fn)(void *ctx, const char *dir),
			void *ctx)
{
	static const char *const v1[] = { "/sys/fs/cgroup/pids", NULL };
	static const char *const v2[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	const char *const *roots = !strcmp(ctrl, "pids") ? v1 : !*ctrl ? v2 : NULL;
	char dir[4400];

	for (int r = 0; roots && r < 2 && roots[r]; r++) {
		for (size_t n = strlen(cg); n > 0;) {
			snprintf(dir, sizeof(dir), "%s%.*s", roots[r], (int)n, cg);
			fn(ctx, dir);
			while (n > 0 && cg[n - 1] != '/')
				n--;
			if (n > 0)
				n--; /* drop the slash */
		}
	}
}

struct tightest {
	struct host_limit *out;
	uint64_t headroom;
	bool found;
};

/* every level's pids.max applies: the one with the least headroom */
static void tightest_level(void *ctx, const char *dir)
{
	struct tightest *tt = ctx;
	char file[4500];
	uint64_t max, cur;

	snprintf(file, sizeof(file), "%s/pids.max", dir);
	if (read_u64(file, &max))
		return;
	snprintf(file, sizeof(file), "%s/pids.current", dir);
	if (!read_u64(file, &cur) && max - (cur < max ? cur : max) < tt->headroom) {
		tt->headroom = max - (cur < max ? cur : max);
		*tt->out = (struct host_limit){ "pids.max", max, cur };
		tt->found = true;
	}
}

static bool pids_line(void *ctx, const char *ctrl, const char *cg)
{
	pids_levels(ctrl, cg, tightest_level, ctx);
	return false; /* every hierarchy */
}

/* The tightest pids.max on the way from pid's pids cgroup up to the root. */
static int pids_cgroup(uint32_t pid, struct host_limit *out)
{
	struct tightest tt = { out, UINT64_MAX, false };

	procfs_cgroups(pid, pids_line, &tt);
	return tt.found;
}

struct pids_events {
	uint64_t refused;
	bool looked, found;
};

/* "max N" of one pids.events file; -1 when unreadable */
static int read_max_events(const char *path, uint64_t *v)
{
	char line[128];
	FILE *f = fopen(path, "re");
	int ok = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "max ", 4)) {
			*v = strtoull(line + 4, NULL, 10);
			ok = 0;
		}
	fclose(f);
	return ok;
}

/* the deepest level only: the caller's own cgroup */
static void events_level(void *ctx, const char *dir)
{
	struct pids_events *pe = ctx;
	char file[4500];

	/* a hierarchy not mounted there (cgroup2 of a hybrid host) is no
	 * answer: the next root, or the next line, may have it */
	if (pe->looked || access(dir, F_OK))
		return;
	pe->looked = true;
	snprintf(file, sizeof(file), "%s/pids.events.local", dir);
	if (!read_max_events(file, &pe->refused)) {
		pe->found = true;
		return;
	}
	snprintf(file, sizeof(file), "%s/pids.events", dir);
	pe->found = !read_max_events(file, &pe->refused);
}

static bool pids_events_line(void *ctx, const char *ctrl, const char *cg)
{
	struct pids_events *pe = ctx;

	/* "/..": a cgroup outside this cgroup namespace, not under our mount */
	if (!strncmp(cg, "/..", 3) || pe->found)
		return false;
	pe->looked = false;
	pids_levels(ctrl, cg, events_level, ctx);
	return false; /* every hierarchy */
}

int limits_pids_refused(uint32_t pid, uint64_t *refused)
{
	struct pids_events pe = { 0, false, false };

	procfs_cgroups(pid, pids_events_line, &pe);
	*refused = pe.refused;
	return pe.found;
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
