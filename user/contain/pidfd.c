// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Containment's hands on the host: signals through pidfds, and the /proc
 * reads that say what a process is before it is signalled (its state, its
 * executable, its cgroups and unit), each checked against the identity
 * (pid and start time) the caller names, so a reused pid is never touched.
 * The live actuator (struct policy_ops, wired in user/main.c) calls these.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "contain/policy.h"
#include "live/procfs.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int policy_signal_pidfd(uint32_t pid, uint64_t start_ticks, int sig)
{
	struct procfs_stat st;
	int fd, ret;

	/*
	 * The pidfd pins the process it was opened for; the start time read
	 * afterwards proves that process is the one we mean.  If the pid was
	 * reused before the open, the times differ; if the process dies after,
	 * the signal fails with ESRCH.  Either way nobody else is signalled.
	 */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -errno;
	if (procfs_stat(pid, &st) || st.start_ticks != start_ticks) {
		close(fd);
		return -ESRCH;
	}
	ret = (int)syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

char policy_proc_state(uint32_t pid, uint64_t start_ticks)
{
	struct procfs_stat st;

	if (procfs_stat(pid, &st) || st.start_ticks != start_ticks)
		return 0;
	return st.state;
}

/* Is path (relative to a hierarchy's root) at or below rule? */
static bool path_under(const char *path, const char *rule)
{
	size_t n = strlen(rule);

	while (n > 1 && rule[n - 1] == '/')
		n--;
	return !strncmp(path, rule, n) && (path[n] == '\0' || path[n] == '/' || n == 1);
}

/*
 * A rule names either the path in /proc/<pid>/cgroup, or the directory
 * under the mount: /sys/fs/cgroup/<controller>/path on v1,
 * /sys/fs/cgroup[/unified]/path on cgroup2.
 */
static bool cgroup_line_under(void *ctx, const char *ctrl, const char *cg)
{
	static const char mnt[] = "/sys/fs/cgroup";
	const char *rule = ctx;
	char rel[4096];

	if (rule[0] == '/' && strncmp(rule, mnt, sizeof(mnt) - 1))
		return path_under(cg, rule);
	if (*ctrl) /* v1: strip /sys/fs/cgroup/<first controller> */
		snprintf(rel, sizeof(rel), "%s/%.*s", mnt, (int)strcspn(ctrl, ","), ctrl);
	else
		snprintf(rel, sizeof(rel), "%s%s", mnt,
			 strncmp(rule, "/sys/fs/cgroup/unified", 22) ? "" : "/unified");
	return !strncmp(rule, rel, strlen(rel)) &&
	       path_under(cg, rule[strlen(rel)] ? rule + strlen(rel) : "/");
}

bool policy_proc_in_cgroup(uint32_t pid, const char *rule)
{
	return procfs_cgroups(pid, cgroup_line_under, (void *)rule);
}

/* readlink and stat of one exe magic link; 0 or -errno */
static int read_exe_link(const char *link, char *path, size_t len, struct stat *st)
{
	struct statx stx;
	ssize_t n = readlink(link, path, len - 1);

	if (n < 0)
		return -errno;
	path[n] = '\0';
	/*
	 * stat through the magic link: the file the process runs, even if
	 * the path now names another (or none: readlink adds " (deleted)").
	 * AT_STATX_DONT_SYNC: from the inode as cached, never a request to a
	 * network or FUSE filesystem, whose daemon may never answer (the
	 * identity fields do not change under us).
	 */
	if (statx(AT_FDCWD, link, AT_STATX_DONT_SYNC, STATX_INO, &stx))
		return -errno;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	st->st_ino = stx.stx_ino;
	return 0;
}

/* Is pid in forktrace's own user namespace (the initial one, as run)? */
static bool same_user_ns(uint32_t pid)
{
	char link[64], mine[64], theirs[64];
	ssize_t a, b;

	snprintf(link, sizeof(link), "/proc/%u/ns/user", pid);
	a = readlink("/proc/self/ns/user", mine, sizeof(mine) - 1);
	b = readlink(link, theirs, sizeof(theirs) - 1);
	return a > 0 && b == a && !memcmp(mine, theirs, (size_t)a);
}

int policy_proc_exe(uint32_t pid, uint64_t start_ticks, char *path, size_t len, uint64_t *dev,
		    uint64_t *ino)
{
	struct procfs_stat ps;
	struct dirent *de;
	char link[64];
	struct stat st;
	DIR *dir;
	int ret;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	ret = read_exe_link(link, path, len, &st);
	/*
	 * A process whose main thread has exited (a zombie leader) shows no
	 * exe of its own; any live thread's task entry still does.
	 */
	if (ret == -ENOENT) {
		snprintf(link, sizeof(link), "/proc/%u/task", pid);
		dir = opendir(link);
		while (dir && ret && (de = readdir(dir))) {
			if (de->d_name[0] < '1' || de->d_name[0] > '9' ||
			    (uint32_t)strtoul(de->d_name, NULL, 10) == pid)
				continue;
			snprintf(link, sizeof(link), "/proc/%u/task/%.16s/exe", pid, de->d_name);
			ret = read_exe_link(link, path, len, &st);
		}
		if (dir)
			closedir(dir);
	}
	if (ret)
		return ret;
	/* read after both: a reused pid shows another start time */
	if (procfs_stat(pid, &ps) || ps.start_ticks != start_ticks)
		return -ESRCH;
	*dev = st.st_dev;
	*ino = st.st_ino;
	/* in a user namespace of its own, the executable is the process's
	 * to name (struct ft_exe_key): an identity no rule has */
	if (!same_user_ns(pid))
		*dev = *ino = 0;
	return 0;
}

/* any hierarchy: systemd names the unit's cgroup alike in each */
static bool cgroup_line_in_unit(void *ctx, const char *ctrl, const char *cg)
{
	(void)ctrl;
	return policy_unit_in_path(cg, ctx);
}

bool policy_proc_in_unit(uint32_t pid, const char *unit)
{
	return procfs_cgroups(pid, cgroup_line_in_unit, (void *)unit);
}
