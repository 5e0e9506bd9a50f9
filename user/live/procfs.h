/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * /proc as an event source: the processes running at start-up, and the
 * re-sync after the kernel dropped records.
 */
#ifndef FT_PROCFS_H
#define FT_PROCFS_H

#include <stdint.h>
#include <stdbool.h>
#include "core/stream.h"

/* a /proc root's path and "/PID/cmdline" fit */
#define PROCFS_PATH_MAX 320

/*
 * Emit one FT_EV_SNAPSHOT per live process (zombies skipped) under root
 * (NULL: /proc), parents before children, with extra_flags ORed into each
 * header.  Streamed as the directory is read: memory stays bounded
 * (~520 KiB) whatever the number of processes.  Returns the number
 * emitted, or -1 with errno set.
 */
int procfs_snapshot(const char *root, uint64_t ts_ns, uint16_t extra_flags, ft_record_fn fn,
		    void *ctx);

/* The fields of /proc/<pid>/stat forktrace uses. */
struct procfs_stat {
	char comm[FT_COMM_LEN];
	char state;
	uint32_t ppid, threads, flags;
	uint64_t start_ticks; /* USER_HZ ticks since boot */
};

/* 0 on success, -1 if the process is gone or the file is unreadable. */
int procfs_stat(uint32_t pid, struct procfs_stat *out);
/* The same from the file's text (NUL-terminated); -1 if malformed. */
int procfs_parse_stat(const char *text, struct procfs_stat *out);

/*
 * Each line of /proc/<pid>/cgroup ("id:controllers:/path") to fn, until fn
 * returns true; returns that, or false (also when the file is unreadable).
 * ctrl is "" for cgroup2.
 */
typedef bool (*procfs_cgroup_fn)(void *ctx, const char *ctrl, const char *path);
bool procfs_cgroups(uint32_t pid, procfs_cgroup_fn fn, void *ctx);
/* One line of that file ("ID:CONTROLLERS:PATH"): fn's answer, false if malformed. */
bool procfs_cgroup_line(char *line, procfs_cgroup_fn fn, void *ctx);

/* Read one process from root (a /proc); 0 on success, -1 if it is gone or
 * unreadable.  Nothing it does waits on a file system the process chose. */
int procfs_read_process(const char *root, uint32_t pid, bool with_args, struct ft_snapshot *out);

/* Where cgroup2 is mounted ("" if nowhere), looked up once. */
const char *procfs_cgroup2_mount(void);

/* CLOCK_BOOTTIME now, in ns. */
uint64_t procfs_boot_ns(void);

#endif /* FT_PROCFS_H */
