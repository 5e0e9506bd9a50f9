// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/container.h"
#include "live/container_node.h"
#include "live/hostlimits.h"
#include "live/procfs.h"

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

/* a level's directory: the mount (ct_node's cgroup2, 512) and a path */
#define LEVEL_DIR_MAX 4700

/*
 * Each level of one /proc/PID/cgroup line's pids cgroup, deepest first, on
 * the node n describes (ct_node_init: under --host-root in a pod): cgroup2
 * at n->cgroup2 (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid
 * hosts), or a v1 "pids" hierarchy at /sys/fs/cgroup/pids.  The line's
 * path is relative to forktrace's cgroup namespace: joined to n->ns_root
 * as container.c does ("/../.." climbs out of a pod's); a v1 path only in
 * the host's namespace, whose root is the only one known.  dir: the
 * level's directory.
 */
static void pids_levels(const struct ct_node *n, const char *ctrl, const char *cg,
			void (*fn)(void *ctx, const char *dir), void *ctx)
{
	char v1[sizeof(n->host_root) + 32], host[4096], dir[LEVEL_DIR_MAX];
	const char *root = NULL;

	if (!strcmp(ctrl, "pids") && !n->ns_root[0] &&
	    (size_t)snprintf(v1, sizeof(v1), "%s/sys/fs/cgroup/pids", n->host_root) < sizeof(v1))
		root = v1;
	else if (!*ctrl && n->cgroup2[0])
		root = n->cgroup2;
	if (!root || !ct_join_cgroup_path(root == v1 ? "" : n->ns_root, cg, host, sizeof(host)))
		return;
	for (size_t len = strlen(host); len > 0;) {
		int at = snprintf(dir, sizeof(dir), "%s%.*s", root, (int)len, host);

		if (at > 0 && (size_t)at < sizeof(dir))
			fn(ctx, dir);
		while (len > 0 && host[len - 1] != '/')
			len--;
		if (len > 0)
			len--; /* drop the slash */
	}
}

struct tightest {
	const struct ct_node *n;
	struct host_limit *out;
	uint64_t headroom;
	bool found;
};

/* every level's pids.max applies: the one with the least headroom */
static void tightest_level(void *ctx, const char *dir)
{
	struct tightest *tt = ctx;
	char file[LEVEL_DIR_MAX + 32];
	uint64_t max, cur;

	snprintf(file, sizeof(file), "%s/pids.max", dir);
	if (read_u64(file, &max))
		return;
	snprintf(file, sizeof(file), "%s/pids.current", dir);
	if (!read_u64(file, &cur) && max - (cur < max ? cur : max) < tt->headroom) {
		tt->headroom = max - (cur < max ? cur : max);
		*tt->out = (struct host_limit){ FT_LIMIT_PIDS_MAX, max, cur };
		tt->found = true;
	}
}

static bool pids_line(void *ctx, const char *ctrl, const char *cg)
{
	const struct tightest *tt = ctx;

	pids_levels(tt->n, ctrl, cg, tightest_level, ctx);
	return false; /* every hierarchy */
}

/* The tightest pids.max on the way from pid's pids cgroup up to the root. */
static int pids_cgroup(const struct ct_node *n, uint32_t pid, struct host_limit *out)
{
	struct tightest tt = { n, out, UINT64_MAX, false };

	procfs_cgroups(pid, pids_line, &tt);
	return tt.found;
}

struct pids_events {
	const struct ct_node *n;
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
	char file[LEVEL_DIR_MAX + 32];

	/* a hierarchy without this cgroup there (not mounted, or not in
	 * this layout) is no answer: the next line may have it */
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

	if (pe->found)
		return false;
	pe->looked = false;
	pids_levels(pe->n, ctrl, cg, events_level, ctx);
	return false; /* every hierarchy */
}

int limits_pids_refused(const struct ct_node *n, uint32_t pid, uint64_t *refused)
{
	struct pids_events pe = { n, 0, false, false };

	if (n)
		procfs_cgroups(pid, pids_events_line, &pe);
	*refused = pe.refused;
	return pe.found;
}

int limits_read(const struct ct_node *node, uint32_t pid, uint32_t uid, uint64_t uid_tasks,
		struct host_limit *out)
{
	uint64_t threads = 0, v;
	char path[64], line[256];
	int n = 0;
	FILE *f;

	if (node)
		n += pids_cgroup(node, pid, &out[n]);
	/* the 4th field of loadavg is running/total tasks: the tasks in use */
	f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fgets(line, sizeof(line), f) && strchr(line, '/'))
			threads = strtoull(strchr(line, '/') + 1, NULL, 10);
		fclose(f);
	}
	if (threads && !read_u64("/proc/sys/kernel/pid_max", &v))
		out[n++] = (struct host_limit){ FT_LIMIT_PID_MAX, v, threads };
	if (threads && !read_u64("/proc/sys/kernel/threads-max", &v))
		out[n++] = (struct host_limit){ FT_LIMIT_THREADS_MAX, v, threads };
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
					    (struct host_limit){ FT_LIMIT_NPROC,
								 strtoull(p, NULL, 10), uid_tasks };
			}
		fclose(f);
	}
	return n;
}
