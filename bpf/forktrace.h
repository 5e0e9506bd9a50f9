/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Event records shared by the BPF programs (bpf/) and the loader (user/).
 *
 * Every record starts with struct ft_header.  The kernel emits FORK, EXEC,
 * EXIT and OOM; user space adds SNAPSHOT, GONE and LOST so that one stream
 * (live or recorded) carries everything the process table needs.  The
 * layout is part of the recording format (docs/recording.md): append
 * fields only at the end of a type and bump FT_REC_VERSION (user/core/recording.h).
 */
#ifndef FORKTRACE_H
#define FORKTRACE_H

#define FT_COMM_LEN	16
#define FT_FILENAME_LEN 256
#define FT_ARGS_LEN	256

enum ft_event_type {
	FT_EV_FORK = 1,	      /* kernel: process or thread created */
	FT_EV_EXEC = 2,	      /* kernel: execve succeeded */
	FT_EV_EXIT = 3,	      /* kernel: process or thread exited */
	FT_EV_OOM = 4,	      /* kernel: OOM killer chose a victim */
	FT_EV_SNAPSHOT = 5,   /* user: process found running in /proc */
	FT_EV_GONE = 6,	      /* user: resync found a process gone from /proc */
	FT_EV_LOST = 7,	      /* user: the kernel dropped records */
	FT_EV_RESYNC = 8,     /* user: a /proc resync finished */
	FT_EV_COUNTERS = 9,   /* user: the kernel's counters at the end of a run */
	FT_EV_ACTION = 10,    /* kernel: a fork inside a flagged tree was signalled */
	FT_EV_PROBE = 11,     /* kernel, --noop=record only: a bare header, dropped */
	FT_EV_CONTAINER = 12, /* user: what a cgroup is (path, container, pod) */
	FT_EV_POLICY = 13,    /* user: what --kill/--stop or an operator did to a tree */
	FT_EV_REAP = 14,      /* kernel: a process's task was freed: reaped, no zombie */
	FT_EV_FORK_FAIL = 15, /* kernel: fork, vfork, clone or clone3 returned an error */
	FT_EV_SETTINGS = 16,  /* user: the detector's settings from here on */
	FT_EV_ALLOW = 17,     /* user: one allow rule containment runs with */
	FT_EV_LIMITS = 18,    /* user: the host limits a live run read for a verdict */
	FT_EV_MAX,
};

/* --noop (benchmarks): how much of the hooks' work to skip */
enum ft_noop {
	FT_NOOP_OFF = 0,
	FT_NOOP_IDLE = 1,   /* programs attached, return at once */
	FT_NOOP_RECORD = 2, /* write one bare header per event, read nothing */
};

/* ft_header.flags */
#define FT_F_THREAD	(1u << 0) /* fork/exit of a non-leader thread */
#define FT_F_GROUP_DEAD (1u << 1) /* exit: last thread of the process */
#define FT_F_KTHREAD	(1u << 2) /* subject is a kernel thread */
#define FT_F_OOM_TASK	(1u << 3) /* oom: identity read from the task */
#define FT_F_OOM_RSS	(1u << 4) /* oom: rss/total_vm fields valid */
#define FT_F_OOM_SCORE	(1u << 5) /* oom: oom_score_adj valid */
#define FT_F_RESYNC	(1u << 6) /* snapshot/gone produced by a resync */
#define FT_F_MILESTONE	(1u << 7) /* thread fork sent without -T: count hit 2^n */
#define FT_F_SHARED_VM	(1u << 8) /* fork of a process sharing its parent's memory */

/*
 * Identity: (tgid, start_ns) where start_ns is the group leader's
 * start_boottime.  /proc/<pid>/stat field 22 is the same clock in USER_HZ
 * ticks, so user space compares identities at tick resolution.
 */
struct ft_header {
	__u16 type;
	__u16 flags;
	__u16 size; /* bytes of the whole record */
	__u16 cpu;
	__u64 ts_ns; /* CLOCK_BOOTTIME */
	__u32 tgid;
	__u32 tid;
	__u64 start_ns;
	__u32 ppid; /* fork: the forking process; else the current parent */
	__u32 uid;
	__u64 pstart_ns; /* identity start time of ppid */
	__u64 cgroup_id; /* cgroup2 id (kernfs node id) */
	char comm[FT_COMM_LEN];
};

/*
 * A file by the kernel's own identity: inode number and the device in the
 * kernel's encoding (major << 20 | minor, as in super_block.s_dev).  Used
 * for the executable a process runs (fork and exec records, read from the
 * task, so no stat of /proc/PID/exe is needed: that can fail (a FUSE mount
 * without allow_other refuses even root) or block (a FUSE daemon that
 * never answers)) and for exe: allow rules.  ino 0: unknown.
 */
struct ft_exe_key {
	__u64 ino;
	__u32 dev;
	/*
	 * Records: the task's user namespace level (0: the initial one).  A
	 * process in a user namespace of its own holds CAP_CHECKPOINT_RESTORE
	 * there and may point its exe_file at any file it can open
	 * (prctl(PR_SET_MM_MAP)), so no exe: rule ever spares it.  Always 0
	 * in allow_exes keys.
	 */
	__u32 userns;
};

struct ft_fork {
	struct ft_header h;   /* subject: the new child (process or thread) */
	__u32 parent_tid;     /* the forking thread */
	__u32 parent_threads; /* forking process's thread count at the fork */
	__u32 real_ppid;      /* child's real_parent (differs on CLONE_PARENT) */
	__u32 pad;
	/* recording version 6 on: the child's executable (its parent's image) */
	struct ft_exe_key exe;
	/*
	 * recording version 10 on: the forking thread's time on a CPU so far,
	 * and runnable but waiting for one (0: unknown).  Between two of its
	 * forks they tell a parent that starts children back to back, however
	 * slowly the host forks (a pool filling), from one that sleeps between
	 * them (a watchdog whose workers hang: a leak).
	 */
	__u64 parent_run_ns;
	__u64 parent_wait_ns;
	/*
	 * recording version 11 on: the time the forking thread's CPU
	 * cgroups (its own and up to three above) spent throttled by their
	 * CPU limits so far, summed over their CPUs (0: unknown or none).  A
	 * thread that waits under its own limit is not waiting on a busy host.
	 */
	__u64 parent_throttled_ns;
};

struct ft_exec {
	struct ft_header h;
	__u32 old_tid;	/* pid of the exec'ing thread before de_thread() */
	__u32 args_len; /* bytes of args used */
	char filename[FT_FILENAME_LEN];
	char args[FT_ARGS_LEN]; /* argv, NUL-separated, first FT_ARGS_LEN bytes */
	__u64 cwd_ino;		/* working directory's inode: qualifies relative paths */
	/* recording version 6 on: the file the new program runs */
	struct ft_exe_key exe;
	/*
	 * recording version 7 on: that file's size in bytes (0: unknown).  A
	 * bomb that copies its binary to a new file each generation runs a
	 * new inode at a new path every time; the size stays (docs/detection.md,
	 * "Kin").
	 */
	__u64 exe_size;
	/*
	 * recording version 10 on: how long before the exec its working
	 * directory last changed (its ctime), plus one (0: unknown), its
	 * link count (2: no subdirectories; 0: unknown, or a filesystem that
	 * does not count them) and the inode of the directory it is in.  A
	 * script that a runaway copies into a directory it has just made, in
	 * its own, runs where nothing was before its parent ran and nothing
	 * is below yet, while a build's recursing build.sh runs among its
	 * subdirectories (docs/detection.md, "Kin").
	 */
	__u64 cwd_age_ns;
	__u32 cwd_nlink;
	__u32 pad2;
	__u64 cwd_parent_ino;
};

struct ft_exit {
	struct ft_header h;
	__u32 exit_code; /* wait(2) status: code << 8 | signal */
	__u32 nr_threads;
};

struct ft_oom {
	struct ft_header h; /* subject: the victim */
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__s32 oom_score_adj;
	__u32 pad;
};

struct ft_snapshot {
	struct ft_header h; /* ppid/pstart_ns: current parent */
	__u32 threads;
	__u32 pad;
	char filename[FT_FILENAME_LEN]; /* /proc/<pid>/exe, may be empty */
	__u64 cwd_ino;			/* /proc/<pid>/cwd's inode */
	__u32 args_len;
	__u32 pad2;
	char args[FT_ARGS_LEN]; /* /proc/<pid>/cmdline, as in ft_exec */
};

struct ft_resync {
	struct ft_header h;
	__u32 added; /* processes found that the table did not know */
	__u32 gone;  /* processes the table thought alive, gone from /proc */
};

struct ft_lost {
	struct ft_header h; /* only type/ts used */
	__u32 lost_type;    /* enum ft_event_type that was dropped */
	__u32 pad;
	__u64 count;
};

/*
 * A reaped process (sched_process_free, for the thread group leader): the
 * header's subject is the process, its ppid the parent that reaped it (or
 * the reaper it was handed to).  Between its exit record and this one the
 * process was a zombie.
 */
struct ft_reap {
	struct ft_header h;
};

/* ft_fork_fail.syscall */
enum ft_fork_call { FT_CALL_CLONE = 0, FT_CALL_CLONE3, FT_CALL_FORK, FT_CALL_VFORK, FT_CALL_MAX };

/*
 * Forks refused by the kernel: the header's subject is the caller.  At
 * most one record per process per FT_FAIL_PERIOD_NS, counting the
 * failures since its last one: a bomb at its cap retries without pause.
 */
#define FT_FAIL_PERIOD_NS 100000000ull
struct ft_fork_fail {
	struct ft_header h;
	__s32 err;     /* -EAGAIN (pids.max, RLIMIT_NPROC, pid_max) or -ENOMEM */
	__u32 syscall; /* enum ft_fork_call */
	__u32 count;   /* failures this record stands for (>= 1) */
	/*
	 * The pids.max of the caller's pids cgroup, or of an ancestor, that
	 * was full as the fork returned: the refusal was that limit's, and it
	 * says how many tasks it holds.  0: none was full (RLIMIT_NPROC,
	 * pid_max, threads-max, memory), or not known (the record a process's
	 * exit writes, recordings made before it was filled).
	 */
	__u32 pids_limit;
};

struct ft_counters {
	struct ft_header h;
	__u64 threads_started;
	__u64 threads_exited;
	__u64 filtered;
	/* recording version 3 on: containment failures in the kernel */
	__u64 signal_failed; /* FT_STAT_SIGNAL_FAILED */
	__u64 member_full;   /* FT_STAT_MEMBER_FULL */
};

/*
 * What a cgroup is, read on the node the first time a record shows its id:
 * its path and, inside a container, the runtime's id and the pod the OCI
 * bundle's annotations name (user/core/container.h).  Live runs put one in the
 * stream before the first record of each cgroup, so a replay attributes
 * exactly as the run did.  Strings are NUL-terminated; "" when unknown.
 */
#define FT_CT_ID_LEN	 72  /* runtimes' ids are 64 hex digits */
#define FT_CT_UID_LEN	 40  /* a pod uid: 36 characters */
#define FT_CT_NS_LEN	 64  /* Kubernetes: namespace names <= 63 */
#define FT_CT_POD_LEN	 256 /* pod names <= 253 */
#define FT_CT_NAME_LEN	 64  /* container names <= 63 */
#define FT_CT_CGROUP_LEN 256

/* ft_container.flags */
#define FT_CT_PATH	(1u << 0) /* cgroup holds the path */
#define FT_CT_ANNOTATED (1u << 1) /* pod/ns/name read from the bundle */
#define FT_CT_TRUNCATED (1u << 2) /* the path was longer than cgroup */

struct ft_container {
	struct ft_header h; /* cgroup_id: the cgroup; tgid: the process it was read from */
	__u32 runtime;	    /* enum ct_runtime; 0: not a container */
	__u32 flags;	    /* FT_CT_* */
	char id[FT_CT_ID_LEN];
	char pod_uid[FT_CT_UID_LEN];
	char ns[FT_CT_NS_LEN];
	char pod[FT_CT_POD_LEN];
	char name[FT_CT_NAME_LEN];
	char cgroup[FT_CT_CGROUP_LEN];
};

/*
 * Containment.  A tree being acted on has an id (1..FT_MAX_TREES-1), given
 * by user space's containment (struct action in user/contain/policy.c) for the
 * action's life; its members are keyed by identity at USER_HZ resolution
 * (what /proc also gives), and a member's children inherit the id at fork.
 * The detector flags at most FT_MAX_TREES-1 trees at once too.
 */
#define FT_MAX_TREES 1024
/* /proc/<pid>/stat gives start times in USER_HZ ticks (100 a second on
 * every Linux ABI): identities compare at that grain on both sides */
#define FT_NS_PER_TICK 10000000ull

struct ft_member_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_ticks;
};

struct ft_tree_policy {
	__u32 sig; /* 0: not acted on (yet) */
	__u32 pad;
};

/* ft_action results that are not a helper's return value */
#define FT_SIG_UNAVAILABLE 1 /* child: the kernel lacks bpf_send_signal_task */
#define FT_SIG_SPARED	   2 /* protected or allowlisted: not signalled */

struct ft_action {
	struct ft_header h; /* subject: the new child; ppid/pstart: the forker */
	__u32 tree;
	__u32 sig;
	__s32 parent_ret; /* bpf_send_signal() on the forker; FT_SIG_SPARED */
	__s32 child_ret;  /* bpf_send_signal_task() on the child; FT_SIG_* */
	__u32 guard;	  /* 1: the in-kernel fork budget tripped, not user space */
	__u32 pad;
};

/* ft_policy.kind: as user/contain/policy.h's enum outcome_kind */
#define FT_POL_ACTION  1 /* a tree's kill or stop ended (done, or gave up) */
#define FT_POL_EXEMPT  2 /* act-on verdict, nobody may be signalled */
#define FT_POL_DRY_RUN 3
#define FT_POL_REFUSED 4
#define FT_POL_RESUME  5 /* SIGCONT sent to a stopped tree */
#define FT_POL_FLAG    6 /* the operator flagged the tree (a replay flags it too) */

/* ft_policy.flags */
#define FT_POL_COMPLETE (1u << 0) /* action: the tree emptied (kill) or froze (stop) */
#define FT_POL_OPERATOR (1u << 1) /* asked for in the live view, not by a verdict */

/*
 * The detector's settings a run used from this record on (its start, and
 * each SIGHUP): "name=value" lines, as --set takes them, so that a replay
 * and a report raise the alerts the run raised.  Never from the kernel.
 */
#define FT_SETTINGS_LEN 1536
struct ft_settings {
	struct ft_header h;
	__u32 len; /* bytes of text used, at most FT_SETTINGS_LEN - 1 */
	__u32 pad;
	char text[FT_SETTINGS_LEN];
};

/*
 * The allow rules a run that can act (--kill, --stop, --guard, the live
 * view) spares by, one record per rule, written with each SETTINGS record
 * (the start, each SIGHUP): --allow, --config's allow lines and the
 * defaults this host has, as the policy holds them, so a report says what
 * was spared and by which rule.  index 0 starts a set of count rules; a set
 * of none is one record with count 0.  Never from the kernel.
 */
#define FT_ALLOW_LEN	     512
#define FT_ALLOW_MAX_RECORDS 1024 /* a set's count, at most (a damaged file's guard) */
struct ft_allow_rule {
	struct ft_header h;
	__u32 index;
	__u32 count;
	char rule[FT_ALLOW_LEN]; /* "exe:/sbin/init (/usr/lib/systemd/systemd)" */
};

/*
 * The host limits a live run read for one verdict on a growing tree (its
 * pids cgroup's pids.max, pid_max, threads-max, its uid's RLIMIT_NPROC,
 * and for forks_refused the pids controller's refusals), put in the
 * stream ahead of the record that raised the verdict, so a replay and a
 * report annotate that verdict as the run did.  The header names the
 * tree's root (tgid, start_ns) and the verdict's time.  Never from the
 * kernel.
 */
enum ft_limit_kind {
	FT_LIMIT_PIDS_MAX = 1, /* the tightest pids.max from its cgroup up */
	FT_LIMIT_PID_MAX,
	FT_LIMIT_THREADS_MAX,
	FT_LIMIT_NPROC, /* RLIMIT_NPROC of the root's uid */
	FT_LIMIT_KIND_MAX,
};
#define FT_LIMITS_MAX	   4
#define FT_LIM_PIDS_EVENTS (1u << 0) /* pids_events_max was read */
struct ft_limits {
	struct ft_header h;
	__u32 verdict_kind; /* the verdict's enum det_kind and det_pattern */
	__u32 pattern;
	__u32 n; /* entries of lim used */
	__u32 flags;
	__u64 pids_events_max;
	struct {
		__u32 kind; /* enum ft_limit_kind */
		__u32 pad;
		__u64 limit, used;
	} lim[FT_LIMITS_MAX];
};

/*
 * A policy outcome, for recordings: a replay and a report see the kill's
 * end without the pidfd signals behind it (one per member, not recorded).
 */
struct ft_policy {
	struct ft_header h; /* tgid, start_ns, comm, cgroup_id: the tree's root */
	__u32 kind;	    /* FT_POL_* */
	__u32 flags;
	__u32 tree;
	__u32 sig; /* SIGKILL, SIGSTOP or SIGCONT */
	__u32 signalled, remaining;
	__u64 elapsed_ns; /* from the verdict (or the operator's key) to the end */
	char why[160];	  /* exempt, refused: the reason; stop: how to resume */
};

/*
 * What the kernel must never signal, the same rules user space applies
 * (docs/containment.md), in kernel terms: identities (forktrace and its
 * ancestors), executables by (device, inode) with the device in the
 * kernel's encoding (major << 20 | minor, as in super_block.s_dev), real
 * uids, cgroups by (kernfs id, hierarchy) and systemd units by cgroup name.
 */
#define FT_GUARD_MAX_RULES 64
#define FT_GUARD_MAX_V1	   4 /* v1 hierarchies cgroup rules may name */
#define FT_UNIT_LEN	   64

struct ft_cgroup_key {
	__u64 id;
	__s32 subsys; /* -1: cgroup2, else the v1 controller's cgroup_subsys_id */
	__u32 pad;
};

struct ft_unit_key {
	char name[FT_UNIT_LEN];
};

/*
 * What the kernel's safety check has to look at beyond identities, uids
 * and executables: the one entry of contain.bpf.c's rule_shape map,
 * rewritten with the allow maps when the rules are re-read (SIGHUP).
 */
struct ft_rule_shape {
	__u8 check_cgroups; /* allow_cgroups has entries */
	__u8 check_units;   /* allow_units has entries */
	__u8 pad[2];
	__s32 v1_subsys[FT_GUARD_MAX_V1]; /* hierarchies cgroup rules name; -1 unused */
};

/* per-CPU counters in the BPF stats map, indexed by these slots */
enum ft_stat {
	FT_STAT_LOST_BASE = 0, /* + enum ft_event_type: failed reserves */
	FT_STAT_THREADS_STARTED = FT_EV_MAX,
	FT_STAT_THREADS_EXITED,
	FT_STAT_FILTERED, /* events outside --cgroup */
	FT_STAT_SIGNAL_FAILED,
	FT_STAT_MEMBER_FULL, /* a flagged tree's child could not be tracked */
	FT_STAT_MAX,
};

#endif /* FORKTRACE_H */
