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
#include "live/procfs.h"
#include "core/proctable.h"

#define PF_KTHREAD 0x00200000u

uint64_t procfs_boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* root: where /proc is read (a synthetic tree in tests; "/proc" otherwise) */
static int stat_in(const char *root, uint32_t pid, struct procfs_stat *st)
{
	char path[PROCFS_PATH_MAX], buf[1024];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u/stat", root, pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return procfs_parse_stat(buf, st);
}

int procfs_stat(uint32_t pid, struct procfs_stat *st)
{
	return stat_in("/proc", pid, st);
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

static uint32_t read_real_uid(const char *root, uint32_t pid)
{
	char path[PROCFS_PATH_MAX], buf[2048], *p;

	snprintf(path, sizeof(path), "%s/%u/status", root, pid);
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
static uint64_t read_cgroup2_id(const char *root, uint32_t pid, const char *mnt)
{
	char path[PROCFS_PATH_MAX], line[4096], dir[8192];
	struct stat st;
	uint64_t id = 0;
	FILE *f;

	if (!mnt[0])
		return 0;
	snprintf(path, sizeof(path), "%s/%u/cgroup", root, pid);
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

/* The rest of a process whose stat was read (st). */
static int read_process_with(const char *root, uint32_t pid, const struct procfs_stat *stp,
			     bool with_args, struct ft_snapshot *s)
{
	const struct procfs_stat st = *stp;
	struct statx cwd;
	char path[PROCFS_PATH_MAX];
	ssize_t n;
	int fd;

	memset(s, 0, sizeof(*s));
	if (st.state == 'Z' || st.state == 'X')
		return -1; /* already exited: its exit record is (or was) in the stream */
	s->h.type = FT_EV_SNAPSHOT;
	s->h.size = sizeof(*s);
	s->h.tgid = s->h.tid = pid;
	s->h.ppid = st.ppid;
	s->h.start_ns = st.start_ticks * FT_NS_PER_TICK;
	s->h.uid = read_real_uid(root, pid);
	s->h.cgroup_id = read_cgroup2_id(root, pid, procfs_cgroup2_mount());
	if (st.flags & PF_KTHREAD)
		s->h.flags |= FT_F_KTHREAD;
	memcpy(s->h.comm, st.comm, sizeof(s->h.comm));
	s->threads = st.threads;
	/* the name only: readlink asks no file system anything */
	snprintf(path, sizeof(path), "%s/%u/exe", root, pid);
	n = readlink(path, s->filename, sizeof(s->filename) - 1);
	s->filename[n > 0 ? n : 0] = '\0';
	/*
	 * The program identity (user/core/progid.h) needs the directory's inode.
	 * The process chose that directory: on a FUSE mount whose daemon
	 * never answers, a stat (a GETATTR once the attributes expire) would
	 * block this loop for good.  AT_STATX_DONT_SYNC takes what the kernel
	 * has (the inode number is always there) and asks no server.
	 */
	snprintf(path, sizeof(path), "%s/%u/cwd", root, pid);
	if (!statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO, &cwd) &&
	    (cwd.stx_mask & STATX_INO))
		s->cwd_ino = cwd.stx_ino;
	/* not during a resync: reading cmdline takes the mmap lock that a
	 * forking bomb holds most of the time */
	snprintf(path, sizeof(path), "%s/%u/cmdline", root, pid);
	fd = with_args ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		n = read(fd, s->args, sizeof(s->args));
		s->args_len = n > 0 ? (uint32_t)n : 0;
		close(fd);
	}
	return 0;
}

int procfs_read_process(const char *root, uint32_t pid, bool with_args, struct ft_snapshot *s)
{
	struct procfs_stat st;

	if (stat_in(root, pid, &st)) {
		memset(s, 0, sizeof(*s));
		return -1;
	}
	return read_process_with(root, pid, &st, with_args, s);
}

/*
 * pids emitted so far in this snapshot: one bit per pid up to the kernel's
 * ceiling (PID_MAX_LIMIT, 2^22 on 64-bit), 512 KiB whatever the number of
 * processes; a pid beyond it is emitted without its ancestry first.
 */
#define PID_BITS (1u << 22)
#define CHAIN_MAX 1024 /* ancestors emitted ahead of one process */

static bool emitted(const uint64_t *bits, uint32_t pid)
{
	return pid < PID_BITS && (bits[pid / 64] >> (pid % 64) & 1);
}

static void set_emitted(uint64_t *bits, uint32_t pid)
{
	if (pid < PID_BITS)
		bits[pid / 64] |= 1ull << (pid % 64);
}

struct stream {
	const char *root;
	uint64_t ts_ns;
	uint16_t extra_flags;
	ft_record_fn fn;
	void *ctx;
	uint64_t *bits;
	struct {
		uint32_t pid;
		struct procfs_stat st;
	} chain[CHAIN_MAX];
	int n; /* emitted */
	bool stop;
};

/*
 * Emit pid, its not yet emitted ancestors first, so a parent always
 * precedes its children (the table links a child to a parent it has):
 * the chain upwards holds pids only, each process is read when emitted.
 */
static void emit_with_ancestors(struct stream *st, uint32_t pid)
{
	struct ft_snapshot snap;
	struct procfs_stat ps;
	uint32_t depth = 0, len, at = pid;

	/* marked on the way up: a pid seen twice (reuse mid-walk) ends it */
	while (depth < CHAIN_MAX && at && !emitted(st->bits, at)) {
		set_emitted(st->bits, at);
		if (stat_in(st->root, at, &st->chain[depth].st))
			break;
		st->chain[depth].pid = at;
		at = st->chain[depth++].st.ppid;
	}
	len = depth;
	while (depth-- > 0 && !st->stop) {
		const struct procfs_stat *me = &st->chain[depth].st;

		if (read_process_with(st->root, st->chain[depth].pid, me,
				      !(st->extra_flags & FT_F_RESYNC), &snap))
			continue;
		/* the parent's start, as /proc says it now (a reused pid shows
		 * another start time, and the table will not link the two) */
		if (depth + 1 < len && st->chain[depth + 1].pid == me->ppid)
			snap.h.pstart_ns = st->chain[depth + 1].st.start_ticks * FT_NS_PER_TICK;
		else if (me->ppid && !stat_in(st->root, me->ppid, &ps))
			snap.h.pstart_ns = ps.start_ticks * FT_NS_PER_TICK;
		snap.h.ts_ns = st->ts_ns;
		snap.h.flags |= st->extra_flags;
		st->n++;
		if (st->fn(st->ctx, (const union ft_record *)&snap))
			st->stop = true;
	}
}

int procfs_snapshot(const char *root, uint64_t ts_ns, uint16_t extra_flags, ft_record_fn fn,
		    void *ctx)
{
	struct stream *st = calloc(1, sizeof(*st));
	struct dirent *de;
	DIR *dir = NULL;
	int ret = -1;

	if (!st)
		goto cleanup;
	/* zeroed pages the kernel maps as bits are set: touched as pids are */
	st->bits = calloc(PID_BITS / 64, sizeof(uint64_t));
	if (!st->bits)
		goto cleanup;
	st->root = root ? root : "/proc";
	st->ts_ns = ts_ns;
	st->extra_flags = extra_flags;
	st->fn = fn;
	st->ctx = ctx;
	dir = opendir(st->root);
	if (!dir)
		goto cleanup;
	/* as /proc is read: nothing is kept of a process once it is emitted */
	while (!st->stop && (de = readdir(dir))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!isdigit((unsigned char)de->d_name[0]) || *end || !pid || pid > UINT32_MAX)
			continue;
		emit_with_ancestors(st, (uint32_t)pid);
	}
	ret = st->n;
cleanup:
	if (ret < 0 && !dir)
		errno = st && st->bits ? errno : ENOMEM;
	if (dir)
		closedir(dir);
	if (st)
		free(st->bits);
	free(st);
	return ret;
}
