// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "procfs.h"
#include "proctable.h"

#define PF_KTHREAD 0x00200000u

uint64_t procfs_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int procfs_stat(uint32_t pid, struct procfs_stat *st)
{
	char path[64], buf[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return procfs_parse_stat(buf, st);
}

int procfs_parse_stat(const char *buf, struct procfs_stat *st)
{
	unsigned long long field[23] = { 0 };
	const char *open_paren, *close_paren, *q;
	size_t n;
	int i;

	/* the comm may hold spaces and ')': it ends at the last ')' */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ' ||
	    !close_paren[2])
		return -1;
	n = (size_t)(close_paren - open_paren - 1);
	if (n >= FT_COMM_LEN)
		n = FT_COMM_LEN - 1;
	memcpy(st->comm, open_paren + 1, n);
	st->comm[n] = '\0';
	st->state = close_paren[2];
	/* field numbers as in proc(5): 3 = state, 4 = ppid ... 22 = starttime */
	for (q = close_paren + 2, i = 3; i <= 22 && *q; i++) {
		field[i] = strtoull(q, NULL, 10);
		while (*q && *q != ' ')
			q++;
		while (*q == ' ')
			q++;
	}
	if (i <= 22)
		return -1;
	st->ppid = (uint32_t)field[4];
	st->flags = (uint32_t)field[9];
	st->threads = (uint32_t)field[20];
	st->start_ticks = field[22];
	return 0;
}

static int read_small_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n ? 0 : -1;
}

static uint32_t read_real_uid(uint32_t pid)
{
	char path[64], buf[2048], *p;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	if (read_small_file(path, buf, sizeof(buf)))
		return 0;
	p = strstr(buf, "\nUid:");
	return p ? (uint32_t)strtoul(p + 5, NULL, 10) : 0;
}

/*
 * The process's cgroup2 id, as the kernel reports it (kernfs node id = the
 * directory's inode number), from its "0::/path" line and the cgroup2
 * mount; 0 when there is no cgroup2 mount.
 */
static uint64_t read_cgroup2_id(uint32_t pid, const char *mnt)
{
	char path[64], line[4096], dir[8192];
	struct stat st;
	uint64_t id = 0;
	FILE *f;

	if (!mnt[0])
		return 0;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!id && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* outside our cgroup namespace's root: not under our mount (the
		 * node agent reads it through the host's, ct_pid_cgroup_id) */
		if (strstr(line + 3, "/.."))
			break;
		snprintf(dir, sizeof(dir), "%s%s", mnt, line + 3);
		if (stat(dir, &st) == 0)
			id = st.st_ino;
	}
	fclose(f);
	return id;
}

const char *procfs_cgroup2_mount(void)
{
	static char mnt[4096];
	static bool looked;
	char line[4096];
	FILE *f;

	if (looked)
		return mnt;
	looked = true;
	f = fopen("/proc/self/mountinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - cgroup2 ");

		if (sep && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			break;
		mnt[0] = '\0';
	}
	if (f)
		fclose(f);
	return mnt;
}

bool procfs_cgroups(uint32_t pid, procfs_cgroup_fn fn, void *ctx)
{
	char path[64], line[4096];
	bool done = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!done && fgets(line, sizeof(line), f))
		done = procfs_cgroup_line(line, fn, ctx);
	fclose(f);
	return done;
}

bool procfs_cgroup_line(char *line, procfs_cgroup_fn fn, void *ctx)
{
	char *ctrl = strchr(line, ':'), *cg = ctrl ? strchr(ctrl + 1, ':') : NULL;

	if (!cg)
		return false;
	*cg++ = '\0';
	cg[strcspn(cg, "\n")] = '\0';
	return fn(ctx, ctrl + 1, cg);
}

int procfs_read_process(uint32_t pid, bool with_args, struct ft_snapshot *s)
{
	struct procfs_stat st;
	struct stat cwd;
	char path[64];
	ssize_t n;
	int fd;

	memset(s, 0, sizeof(*s));
	if (procfs_stat(pid, &st))
		return -1;
	if (st.state == 'Z' || st.state == 'X')
		return -1; /* already exited: its exit record is (or was) in the stream */
	s->h.type = FT_EV_SNAPSHOT;
	s->h.size = sizeof(*s);
	s->h.tgid = s->h.tid = pid;
	s->h.ppid = st.ppid;
	s->h.start_ns = st.start_ticks * FT_NS_PER_TICK;
	s->h.uid = read_real_uid(pid);
	s->h.cgroup_id = read_cgroup2_id(pid, procfs_cgroup2_mount());
	if (st.flags & PF_KTHREAD)
		s->h.flags |= FT_F_KTHREAD;
	memcpy(s->h.comm, st.comm, sizeof(s->h.comm));
	s->threads = st.threads;
	snprintf(path, sizeof(path), "/proc/%u/exe", pid);
	n = readlink(path, s->filename, sizeof(s->filename) - 1);
	s->filename[n > 0 ? n : 0] = '\0';
	/* the program identity (user/progid.h) needs argv and the directory */
	snprintf(path, sizeof(path), "/proc/%u/cwd", pid);
	if (!stat(path, &cwd))
		s->cwd_ino = cwd.st_ino;
	/* not during a resync: reading cmdline takes the mmap lock that a
	 * forking bomb holds most of the time */
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = with_args ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, s->args, sizeof(s->args));
		s->args_len = n > 0 ? (uint32_t)n : 0;
		close(fd);
	}
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct ft_snapshot *x = a, *y = b;

	if (x->h.start_ns != y->h.start_ns)
		return x->h.start_ns < y->h.start_ns ? -1 : 1;
	return x->h.tgid < y->h.tgid ? -1 : x->h.tgid > y->h.tgid;
}

static int by_pid(const void *a, const void *b)
{
	const struct ft_snapshot *const *x = a, *const *y = b;

	return (*x)->h.tgid < (*y)->h.tgid ? -1 : (*x)->h.tgid > (*y)->h.tgid;
}

int procfs_snapshot(uint64_t ts_ns, uint16_t extra_flags, ft_record_fn fn, void *ctx)
{
	struct ft_snapshot *procs = NULL, **index = NULL, *grown;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int ret = -1;
	DIR *dir;

	dir = opendir("/proc");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end || !pid)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 512;
			grown = realloc(procs, cap * sizeof(*procs));
			if (!grown)
				goto cleanup;
			procs = grown;
		}
		if (procfs_read_process((uint32_t)pid, !(extra_flags & FT_F_RESYNC), &procs[n]) ==
		    0)
			n++;
	}
	/* a parent always starts before its child, so this order links the tree */
	qsort(procs, n, sizeof(*procs), by_start);
	index = malloc((n ? n : 1) * sizeof(*index));
	if (!index)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		index[i] = &procs[i];
	qsort(index, n, sizeof(*index), by_pid);
	for (size_t i = 0; i < n; i++) {
		struct ft_snapshot key = { .h.tgid = procs[i].h.ppid }, *kp = &key, **parent;

		parent = bsearch(&kp, index, n, sizeof(*index), by_pid);
		procs[i].h.pstart_ns = parent ? (*parent)->h.start_ns : 0;
		procs[i].h.ts_ns = ts_ns;
		procs[i].h.flags |= extra_flags;
		if (fn(ctx, (const union ft_record *)&procs[i]))
			break;
	}
	ret = (int)n;
cleanup:
	if (ret < 0)
		errno = ENOMEM;
	closedir(dir);
	free(index);
	free(procs);
	return ret;
}
