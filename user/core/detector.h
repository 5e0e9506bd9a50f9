/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Growth detector: reads the record stream and the process table, tells a
 * runaway tree from bounded parallelism, and names the pattern.  It sees
 * nothing the stream does not carry, so a replay raises the same alerts.
 * The model and each knob are in docs/detection.md.
 */
#ifndef FT_DETECTOR_H
#define FT_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/proctable.h"
#include "core/stream.h"

#define DET_MAX_GEN 32

enum det_pattern {
	DET_FORK_BOMB,
	DET_RECURSIVE_SPAWN,
	DET_NESTED_POOL,
	DET_RESTART_LOOP,
	DET_THREAD_EXPLOSION,
	DET_FORK_WHILE_THREADED,
	DET_ZOMBIE_LEAK,   /* a parent's unreaped children pile up */
	DET_PROCESS_LEAK,  /* a parent's idle children of one program pile up */
	DET_FORKS_REFUSED, /* the kernel refuses a tree's forks */
	DET_SPAWN_STORM,   /* a parent's exec'd jobs of one program keep doubling */
	DET_PATTERN_MAX,
};

enum det_kind { DET_ALERT, DET_ALERT_UPDATE, DET_ALERT_END, DET_FINDING };

struct det_config {
	uint64_t window_ns;	       /* "recently forked" */
	uint32_t min_tasks;	       /* live replicating tasks before a tree is a runaway */
	uint32_t min_generations;      /* consecutive generations of copies forking copies */
	uint32_t min_generations_exec; /* the same when the copies exec the program again */
	uint32_t min_generations_clone; /* ... the same command line in the same directory */
	uint64_t max_doubling_ns;      /* population doubling time at most */
	uint64_t analysis_interval_ns;
	uint32_t restart_min; /* failing short-lived children in a row */
	uint64_t restart_window_ns;
	uint64_t restart_max_life_ns;
	uint32_t thread_min; /* threads, reached by fast doublings */
	uint64_t thread_doubling_ns;
	uint64_t exec_grace_ns; /* fork_while_threaded: exec within this is safe */
	uint32_t max_other_pct; /* work done by other programs, per copy, at most */
	uint32_t zombie_min;	/* unreaped children of one parent before zombie_leak */
	uint64_t zombie_min_age_ns; /* ... unreaped for at least this long */
	uint32_t leak_min;	    /* idle children of one program before process_leak */
	uint64_t leak_min_span_ns;  /* ... the second half of them born over at least this */
	uint32_t storm_min;	    /* idle exec'd jobs of one program before spawn_storm */
	uint64_t storm_doubling_ns; /* ... the last doubling to it within this */
	uint32_t fanout_min_tasks;  /* live copies of a two-generation fan-out; 0: off */
};

/* What the detector says.  Strings point into detector memory: copy to keep. */
struct det_verdict {
	enum det_kind kind;
	enum det_pattern pattern;
	uint64_t ts_ns;
	uint32_t root; /* the highest process of the runaway: the one to act on */
	uint64_t root_start_ns;
	const char *root_comm, *root_exe, *cmdline;
	/* the process that started the runaway (never acted on); pid 0: unknown */
	uint32_t launcher;
	const char *launcher_comm, *launcher_cmdline;
	uint32_t tree;	/* flagged-tree id (1..FT_MAX_TREES-1), 0 for findings */
	uint32_t count; /* findings: how many in this tree so far */
	uint32_t tasks; /* live tasks in the tree */
	uint32_t peak_tasks;
	uint32_t generations; /* generations with live tasks */
	double births_per_s;
	double doubling_ms; /* < 0: not growing */
	uint32_t live_per_gen[DET_MAX_GEN];
	uint32_t forkers_per_gen[DET_MAX_GEN];
	uint32_t ngen;	      /* entries used in the two arrays */
	uint32_t seq;	      /* 1 for the first report of a tree, then 2, 3, ... */
	uint64_t duration_ns; /* alert_end: from first alert to empty tree */
	uint32_t threads;     /* thread_explosion, fork_while_threaded */
	uint32_t child;	      /* fork_while_threaded: the child that did not exec */
	uint32_t restarts;    /* restart_loop */
	bool by_operator;     /* det_flag_tree: the live view's s/k, no verdict of its own */
	bool retired;	      /* alert_end: ended to make room, its tree alive */
	/* zombie_leak, process_leak: how many, and their growth per minute */
	uint32_t leaked;
	double per_minute;
	/* forks_refused: the errno (negative), refusals so far, and the
	 * flagged tree (root, id) in the caller's cgroup, else its uid, with
	 * the most live tasks: who used the limit up (culprit 0: none) */
	int32_t err;
	uint64_t refused;
	uint32_t culprit, culprit_tree, culprit_tasks;
	const char *culprit_comm;
	/* the kernel's own count, cross-checked live by the pipeline (and
	 * from the run's LIMITS record in a replay): forks its pids
	 * controller refused (pids.events "max"), when it was read */
	bool pids_events_read;
	uint64_t pids_events_max;
	/* the nearest host limit at this pace (det_apply_limits, from what
	 * the live run read: its LIMITS record) */
	const char *limit_name; /* NULL: not known */
	uint64_t limit_value, limit_used; /* used: what the limit counts now */
	double limit_seconds;
	char evidence[512];
};

/* OOM attribution: what tree the victim belonged to. */
struct det_oom_tree {
	bool known;
	bool flagged; /* inside a tree with an alert */
	enum det_pattern pattern;
	uint32_t root;
	const char *root_comm;
	uint32_t tasks;
	double births_per_s;
	double doubling_ms;
	bool growing;
};

typedef void (*det_verdict_fn)(void *ctx, const struct det_verdict *v);

struct detector;

void det_config_defaults(struct det_config *c);
/* "key=value" into c; -1 with a one-line reason in err. */
int det_config_set(struct det_config *c, const char *assignment, char *err, size_t errlen);
/* c as "key=value" lines det_config_set reads back to c; the bytes the
 * whole text needs, as snprintf counts (buf holds len - 1 of them). */
size_t det_config_format(const struct det_config *c, char *buf, size_t len);
struct detector *det_new(const struct det_config *c, uint32_t table_capacity);
void det_free(struct detector *d);
/* New thresholds (SIGHUP): judged from the next record on. */
void det_set_config(struct detector *d, const struct det_config *c);

/* Feed one record after the table applied it (slot: its subject). */
void det_feed(struct detector *d, const struct proctable *t, const union ft_record *rec,
	      int32_t slot, det_verdict_fn fn, void *ctx);
/* End of stream: decide what is still pending. */
void det_finish(struct detector *d, const struct proctable *t, uint64_t now, det_verdict_fn fn,
		void *ctx);
/* Attribute an OOM victim (call after det_feed of the OOM record). */
void det_oom_tree(struct detector *d, const struct proctable *t, int32_t victim, uint64_t now,
		  struct det_oom_tree *out);

/*
 * The id (1..FT_MAX_TREES-1) of the alert rooted at (pid, start), or 0.  An
 * alert flags a tree: the same id names that tree to containment (the
 * kernel's trees map, action records, struct policy_outcome's tree).
 */
uint32_t det_alert_id(const struct detector *d, uint32_t pid, uint64_t start_ns);
/* Is the alert with this id rooted at (pid, start_ns)? */
bool det_alert_rooted_at(const struct detector *d, uint32_t alert, uint32_t pid,
			 uint64_t start_ns);
/* Do tree's members come from outside its root's lineage of copies (a
 * spawn_storm's parent keeps starting them)?  Then empty is no end. */
bool det_tree_lasting(const struct detector *d, uint32_t tree);
/* Flagged-tree id a process belongs to, or 0. */
uint32_t det_tree_of(struct detector *d, const struct proctable *t, int32_t slot);

/* A tree that is growing now (or under an alert), for metrics and views. */
struct det_tree_info {
	uint32_t root;
	uint64_t root_start_ns;
	int32_t root_slot;
	const char *root_comm;
	uint32_t live;
	double births_per_s;
	double doubling_ms;   /* < 0: not growing */
	uint32_t generations; /* generations of copies with live members */
	bool flagged;
	enum det_pattern pattern; /* flagged trees */
	uint32_t tree;		  /* flagged trees: the id actions use */
};
/*
 * Up to max trees, flagged ones first, then the fastest-forking: the top
 * of each chain of recently forking processes.  Walks the table; call at
 * most a few times a second.  Returns how many were written.
 */
uint32_t det_top_trees(struct detector *d, const struct proctable *t, uint64_t now,
		       struct det_tree_info *out, uint32_t max);

/*
 * The operator flags the tree at root (the live view's s/k on a tree no
 * verdict flagged): an alert like a verdict's, reported through fn with
 * by_operator set.  Returns its id (the existing one if already flagged),
 * 0 if the root is gone or the alert table is full.
 */
uint32_t det_flag_tree(struct detector *d, const struct proctable *t, int32_t root, uint64_t now,
		       det_verdict_fn fn, void *ctx);

/* What the detector's fixed-size state had to drop. */
struct det_drops {
	uint64_t pending; /* fork_while_threaded checks beyond the queue */
	uint64_t alerts;  /* runaway trees not flagged: every alert held by an action */
	uint64_t retired; /* alerts ended early to make room (their trees alive) */
};
void det_get_drops(const struct detector *d, struct det_drops *out);
/*
 * When the alert table is full, the least recently active alert is
 * retired to make room, unless pinned says an action holds its tree id
 * (NULL: none is held).
 */
void det_set_pinned(struct detector *d, bool (*pinned)(void *ctx, uint32_t tree), void *ctx);

/* What detection cost: subtree walks, and the processes they visited;
 * the forkers det_top_trees looked at (not the table: its recent ones),
 * and the entries its live counts of their subtrees visited */
struct det_work {
	uint64_t profiles;
	uint64_t nodes;
	uint64_t top_looked;
	uint64_t top_counted;
	uint64_t top_cut;
};
void det_get_work(const struct detector *d, struct det_work *out);

/*
 * The decision rules, pure functions (unit-tested on their own).
 *
 * Root choice: chain[0..n-1] are copies of one program, top-down, the top
 * being the highest copy in a runaway.  A top that is an interactive shell
 * or REPL, or that is alive, started only one live branch of copies and
 * has not forked since (a supervisor that forked its worker once, a
 * pre-fork master), or that is alive with at least as many idle live
 * copies (workers waiting for work) as growing ones, whenever it last
 * forked (a pre-fork master one of whose workers runs away), launched
 * the runaway rather than being part of it.  Returns the index of the root, or n when the only candidate left is
 * an interactive shell (a launcher is never a root).
 */
struct det_root_candidate {
	bool interactive;	/* runs an interpreter with no program of its own */
	bool alive;		/* a dead top launches nothing: it stays the root */
	bool forking;		/* forked within the runaway's recent past, as its copies do */
	uint32_t live_branches; /* copies it forked that grow: live copies below, or new */
	uint32_t growing_branches; /* of those, the ones with live copies below */
	uint32_t idle_branches;	   /* live copies it forked long before the runaway began,
				    * not forking, nothing below (a pool) */
};
uint32_t det_choose_root(const struct det_root_candidate *chain, uint32_t n);

/*
 * Privilege boundary: may a runaway copy of uid copy_uid in cgroup
 * copy_cgroup have an ancestor copy of uid anc_uid in anc_cgroup as its
 * root?  Not a root (uid 0) one in another cgroup when the copy is not
 * root's (in any cgroup when the copy's is unknown, 0 or 1: the cgroup2
 * root, all a pure cgroup v1 host shows): a program is a path anyone can exec (under LD_PRELOAD, or
 * bind-mounted in a namespace of their own), so a user's bomb run as
 * /usr/sbin/sshd would otherwise climb to the listener, whose other
 * children are other users' sessions.  An unprivileged process can neither
 * become root nor leave for a cgroup it does not own (a pod's processes
 * stay in the pod), so no bomb can make a boundary between its own copies;
 * generations are still counted across it (a bomb's copies may change uid
 * if they are root in their container).
 */
bool det_privilege_boundary(uint32_t anc_uid, uint64_t anc_cgroup, uint32_t copy_uid,
			    uint64_t copy_cgroup);

/* Seconds until a tree of `tasks` doubling every doubling_ms fills the
 * headroom (limit - used) left under a limit; < 0 when not growing. */
double det_seconds_to_limit(uint32_t tasks, double doubling_ms, uint64_t limit, uint64_t used);
/*
 * spawn_storm's rule: a parent's idle exec'd jobs of one program just
 * doubled to `jobs` (a power of two) in doubling_ns, and the most it ever
 * held still was `held`.  A storm is at least storm_min of them, doubling
 * within storm_doubling, past twice what the parent held before (a pool,
 * a pre-fork server of that size, is its normal).
 */
bool det_spawn_storm(const struct det_config *c, uint32_t jobs, uint64_t doubling_ns,
		     uint32_t held);

/* The same for a count growing by per_minute (a leak): linear. */
double det_seconds_to_limit_linear(double per_minute, uint64_t limit, uint64_t used);

/* A verdict's host limits from a LIMITS record: the nearest limit at the
 * tree's pace (limit_*; none if it is not growing) and the pids
 * controller's refusals (pids_events_*). */
void det_apply_limits(struct det_verdict *v, const struct ft_limits *l);
/* Patterns whose verdicts name a tree --kill/--stop can act on. */
bool det_pattern_actionable(enum det_pattern p);

/*
 * How a process has forked so far (nforks forks between first_ns and
 * last_ns, judged at now): a burst and then quiet, as a pool starting its
 * workers (the burst at most POOL_STRETCH_NS in user/core/det_rules.c, the quiet
 * after it two to four times as long, so a loaded host that spreads a
 * pool's forks still reads as a pool); steady (forks too far apart for a
 * burst, or one fork older than a quick burst: a bomb at its own pace); or
 * not yet known.
 */
enum det_rhythm { DET_RHYTHM_UNDECIDED, DET_RHYTHM_BURST, DET_RHYTHM_STEADY };
enum det_rhythm det_fork_rhythm(uint32_t nforks, uint64_t first_ns, uint64_t last_ns, uint64_t now);

/*
 * A forking thread at one of its forks: when, its time on a CPU and
 * runnable but waiting for one so far, the time its CPU cgroups were
 * throttled so far (the fork record's; 0: unknown), and its process's
 * forks so far.
 */
struct det_busy {
	uint64_t at_ns, run_ns, wait_ns, throttled_ns;
	uint32_t forks;
};

/*
 * Did a parent start its children back to back between two of its forks?
 * Asleep at most a quarter of the time, on a CPU or waiting for one the
 * rest: a pool filling, at whatever pace this host forks.  How much of it
 * is waiting for a busy host does not matter: CPython's forkserver, on a
 * loaded host, waits for a CPU most of the time between requests and
 * sleeps little.  Waiting under its own CPU limit is no such pace (a
 * watchdog in a pod at its limit), nor is much work between the forks (a
 * trainer busy for minutes between epochs that leak workers): on a CPU at
 * most DET_FORK_CPU_NS a fork on average.  Unknown times say no.
 */
#define DET_FORK_CPU_NS 250000000ull
bool det_forked_back_to_back(const struct det_busy *from, const struct det_busy *to);
const char *det_pattern_name(enum det_pattern p);
const char *det_severity(enum det_pattern p);

#endif /* FT_DETECTOR_H */
