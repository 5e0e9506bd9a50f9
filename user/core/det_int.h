/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Inside the detector, shared by its files (user/core/detector.c, when to
 * look; user/core/det_profile.c, what a look sees; user/core/det_alerts.c,
 * the alerts' lives; user/core/det_piles.c, a parent's children;
 * user/core/det_views.c, the presenters' questions).  Nothing
 * outside user/core/ includes it.
 */
#ifndef FT_DET_INT_H
#define FT_DET_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "core/detector.h"

#define DET_MAX_ALERTS	  (FT_MAX_TREES - 1) /* ids 1..1023, shared with the kernel */
#define DET_PENDING	  1024
#define DET_CLIMB_MAX	  64	      /* table parents climbed looking for copies */
#define SEEN_COMMANDS	  256	      /* commands a profile remembers (a power of two) */
#define DET_COPY_HOPS	  8	      /* intermediaries between two copies, at most */
#define DET_KIN_GAP	  4	      /* windows between a kin and the kin it started, at most */
#define DET_THREAD_LEVELS 12	      /* thread-count milestones 2^4 .. 2^15 */
#define ANALYSIS_SCALE	  256	      /* subtree size per analysis_interval of timer pace */
#define RECOUNT_NS	  1000000ull  /* a flagged tree's live count, at most this often */
#define STORM_JOINS	  16	      /* new jobs in a window that keep an empty storm */
#define FANOUT_BRANCHES	  4u	      /* live branches of each wide forker (fans_out) */
#define FANOUT_GEN2	  16u	      /* live copies in the fan-out's second generation */
#define FANOUT_SMALL	  64u	      /* members a fan-out look profiles on every fork */

struct det_proc {
	struct pt_key key;
	uint64_t first_fork_ns, last_fork_ns;
	uint32_t nforks;
	uint64_t last_analysis_ns;
	uint64_t forks_at_analysis; /* detector's fork count then */
	uint32_t members_at_analysis;
	uint8_t depth_at_analysis; /* the deepest copy below it looked at */
	uint64_t fail_first_ns;
	uint64_t thr_ns[DET_THREAD_LEVELS];
	uint64_t fail_prog; /* the program of the failing run of children */
	uint32_t fail_run, restart_reported, restart_seq;
	uint32_t fwt_count, fwt_reported; /* fork_while_threaded, aggregated here */
	uint16_t alert;			  /* 1 + index into alerts, 0 for none */
	bool mt_fork, fwt_reported_self, thr_reported;
	bool spawner; /* a child of it exec'd another program */
	bool flagged; /* was a member of a flagged tree: its death is no evidence */
	/*
	 * zombie_leak, as the parent: its children exited and not reaped, in
	 * three ages.  A reap is seen when the kernel frees the task, an RCU
	 * grace period after the parent's wait: a busy shell loop always has
	 * a few children between exit and free.  So zombies count only once
	 * they have outlived a whole period (zombie_min_age): those that died
	 * before the previous period began.
	 */
	uint32_t zombies, zombies_reported, zombie_seq;
	uint32_t z_cur, z_prev, z_old;	/* died in this period, the last one, before */
	uint64_t z_cur_start, z_prev_start;
	uint64_t zombie_first_ns; /* the oldest of this run of zombies died */
	/*
	 * process_leak, as the parent: its live children that run its own
	 * program and fork nothing (hung workers), and those that exec'd one
	 * other program and fork nothing (jobs a daemon runs)
	 */
	struct pile {
		uint64_t prog, half_ns; /* half_ns: when live reached leak_min / 2 */
		/* and the parent's last fork then (its forking thread's times) */
		struct det_busy half_busy;
		uint32_t half_tid;
		uint32_t live, peak;
		/* spawn_storm (exec'd jobs only): when the peak last reached a
		 * power of two, and which; the largest size it ever held still
		 * for leak_min_span; when its present growth began (after a
		 * still spell, or from empty): the jobs born since are the
		 * storm's, those from before are left alone */
		uint64_t pow_ns, peak_ns, growth_ns;
		uint32_t pow, held;
	} piles[2];
	uint32_t leak_reported, leak_seq;
	/* as a parent: its last fork, by which thread, that thread's times */
	struct det_busy fork_busy;
	uint32_t fork_tid;
	uint16_t storm; /* as the parent: its spawn_storm alert (1 + index), 0 for none */
	/* as a child: counted in its parent's zombies; in which pile (1 + index) */
	bool zombie_counted;
	uint8_t pile;
	/* forks_refused, at the refused tree's top */
	uint64_t refused, refused_reported;
	uint32_t refused_seq;
	/* as the caller: its last refused fork, and the pids.max that refused
	 * it (0: another limit, pid_max, threads-max, RLIMIT_NPROC) */
	uint64_t own_refused_ns;
	uint32_t own_refused_limit;
};

struct det_alert {
	bool used, dirty;
	bool retired;		/* ended to make room, its tree alive */
	bool by_kin;		/* its copies are kin (same_program), not identical */
	uint64_t last_active_ns; /* raised, or a member forked */
	enum det_pattern pattern;
	struct pt_key root;
	uint64_t root_start_ns;
	uint32_t live, peak, reported_tasks, seq, forks_since_count, exits_since_count;
	uint64_t first_ns, next_count_ns;
	char comm[FT_COMM_LEN];
	char exe[FT_FILENAME_LEN];
	char cmdline[FT_ARGS_LEN];
	/* spawn_storm: its members are the root's jobs of this program (by
	 * kin) born since storm_since, not the root */
	uint64_t storm_prog, storm_since;
	uint64_t storm_join_ns[STORM_JOINS]; /* its latest joins, a ring */
	uint32_t storm_joins;		     /* joins so far */
	char storm_cmd[160];	 /* a job's command line, for its updates */
};

struct pending_fork {
	struct pt_key child, parent;
	uint32_t threads;
	uint64_t ts;
};

struct profile {
	uint32_t live, members;		 /* the whole subtree */
	uint32_t live_copies, copies;	 /* copies of the root's program, root included */
	uint32_t other;			 /* processes of other programs that lead to no copy */
	uint32_t exec_edges, fork_edges; /* how the copies came to run the program */
	uint32_t clone_edges;		 /* exec edges that ran the very command line of
					  * the copy above, in the same directory */
	uint32_t direct_edges;		 /* edges whose copy above is its parent: no
					  * program of another kind between them */
	uint32_t forker_execs;		 /* exec edges into copies that fork copies */
	uint32_t fresh_forkers;		 /* of those, the ones run in a new place made
					  * for them (made_for_it) */
	uint32_t births_window, births_1s;
	uint32_t ngen;
	uint32_t live_per_gen[DET_MAX_GEN];    /* live copies by copy generation */
	uint32_t forkers_per_gen[DET_MAX_GEN]; /* copies with live copies below */
	/* copies without copies below whose forks a pids.max the tree itself
	 * fills refused: the generation they were denied */
	uint32_t refused_per_gen[DET_MAX_GEN];
	uint32_t refused_copies;
	uint32_t forkers, mt_forkers, live_forkers;
	uint32_t settled, bursts;  /* forkers whose rhythm shows (det_fork_rhythm);
				    * of those, the ones that forked in one burst */
	uint64_t forks_by_forkers; /* their forks, and the most by one of them */
	uint32_t most_forks;
	uint32_t generations; /* consecutive forker generations from the root */
	uint32_t wide_gen1;   /* second-generation forkers with FANOUT_BRANCHES live branches */
	uint32_t root_branches; /* the root's live branches (profile: branches) */
	uint64_t root_age_ns;
	bool exe_root;	      /* the root runs a binary, not an interpreter */
	bool by_kin;	      /* copies compared by kin */
	bool script;	      /* the root runs a script (its kin: the file's name) */
	double births_per_s;
	double doubling_ms; /* median age of live copies */
};

struct detector {
	struct det_config c;
	uint32_t cap;
	struct det_proc *procs;
	struct det_alert alerts[DET_MAX_ALERTS];
	struct pending_fork pending[DET_PENDING];
	uint32_t pend_head, pend_len, dirty_alerts;
	uint64_t pend_dropped, alerts_dropped, alerts_retired;
	/* is an action holding the alert's tree id (det_set_pinned)? */
	bool (*pinned)(void *ctx, uint32_t tree);
	void *pin_ctx;
	uint64_t profiles, profiled_nodes; /* the cost of detection, reported */
	uint64_t forks;			   /* process forks fed so far */
	/* copies are compared by kin: set only while a kin look or a kin
	 * alert's recount runs (look_at_kin, det_recount) */
	bool by_kin;
	/* the stream carries reaps (a live run says so with a reap of pid 0
	 * before its first record): only then is an exited child a zombie
	 * until one says otherwise */
	bool reaps_seen;
	/*
	 * Every process that forked, each once (forker_listed), in the order
	 * of their first fork since they were last dropped: det_top_trees
	 * looks at those that forked lately, dropping the rest, so a redraw
	 * costs what the forking trees hold, not the table (a storm's exited
	 * children).  A reused slot keeps its place: the entry is the slot's,
	 * and what forked lately is judged by its present occupant.
	 */
	int32_t *forkers;
	uint8_t *forker_listed;
	uint32_t nforkers;
	uint64_t top_looked;
	uint64_t top_counted; /* entries det_top_trees' live counts visited */
	uint64_t top_cut;     /* its calls that stopped at their budget */
	/* profile scratch, sized to the table so a traversal never allocates */
	int32_t *order;
	int32_t *copy_of;   /* per slot: nearest ancestor running the same program */
	uint8_t *gen;	    /* per slot: copy generation below the profile's root */
	uint8_t *is_copy;   /* per slot: a copy of the profile's root */
	uint8_t *forker;    /* per slot: has a copy with live copies below */
	uint32_t *sub_live; /* per slot: live copies in its subtree */
	uint32_t *branches; /* per slot: its copies with live copies below */
	uint32_t *growing;  /* per slot: of those, the ones with live copies below them */
	uint32_t *idle;	    /* per slot: its live copies that predate the runaway, idle */
	uint64_t *growth_start; /* per slot: first fork of its earliest growing copy */
	uint8_t *leads;	    /* per slot: a copy is in its subtree */
	uint64_t *ages;
	/* the commands (prog_command) a profile's exec'd copies ran, each with
	 * the shallowest generation it ran at; a slot is the profile's while
	 * its stamp is d->profiles + 1.  Bounded: once full, no more kept */
	struct seen_command {
		uint64_t command, stamp;
		uint8_t gen;
	} seen_commands[SEEN_COMMANDS];
};

/* what a pile counts (det_proc.pile holds it plus one) */
enum { PILE_FORKS, PILE_EXECS };

/*
 * On every record, so inlined wherever they are called.  Per-process
 * state, reset when the table reuses the slot for another process.
 */
static inline struct det_proc *det_proc_state(struct detector *d, const struct proctable *t,
					      int32_t slot)
{
	const struct pt_entry *e = pt_get(t, slot);
	struct det_proc *p;

	if (!e)
		return NULL;
	p = &d->procs[slot];
	if (p->key.tgid != e->key.tgid || p->key.start_ticks != e->key.start_ticks) {
		memset(p, 0, sizeof(*p));
		p->key = e->key;
	}
	return p;
}

static inline struct det_alert *det_alert_of(struct detector *d, const struct det_proc *p)
{
	if (!p || !p->alert || p->alert > DET_MAX_ALERTS || !d->alerts[p->alert - 1].used)
		return NULL;
	return &d->alerts[p->alert - 1];
}

/* user/core/detector.c: when to look */
bool det_forked_within(struct detector *d, const struct proctable *t, int32_t slot, uint64_t now,
		       uint64_t span);
bool det_forked_recently(struct detector *d, const struct proctable *t, int32_t slot,
			 uint64_t now);
uint32_t det_walk_subtree(struct detector *d, const struct proctable *t, int32_t root,
			  bool skip_flagged);
bool det_interactive(const struct pt_entry *e);
int32_t det_chain_root(struct detector *d, const struct proctable *t, const int32_t *chain,
		       uint32_t n, uint64_t recent, uint64_t now);

/* user/core/det_profile.c: a tree's copies, generations and pace, and
 * whether that makes a runaway, for the rules that decide when to look */
uint64_t det_born_of(const struct pt_entry *e);
int32_t det_copy_ancestor(const struct proctable *t, int32_t c, int32_t top, bool kin,
			  uint64_t window);
bool det_fans_out(const struct detector *d, const struct profile *pr);
bool det_is_runaway(const struct detector *d, const struct profile *pr);
enum det_pattern det_name_runaway(const struct profile *pr);
void det_profile(struct detector *d, const struct proctable *t, int32_t x, uint64_t now,
		 struct profile *pr);
bool det_same_program(const struct pt_entry *c, const struct pt_entry *a, bool kin);

/* user/core/det_alerts.c: the alerts' lives, for the looks and the piles */
uint64_t det_doublings_ns(double doubling_ms, double n);
void det_base_verdict(struct det_verdict *v, enum det_kind kind, enum det_pattern p,
		      uint64_t now, const struct proctable *t, int32_t root);
struct det_alert *det_new_alert(struct detector *d, const struct proctable *t,
				enum det_pattern p, const struct pt_entry *root, uint32_t live,
				uint64_t now, det_verdict_fn fn, void *ctx);
uint16_t det_id_of_alert(const struct detector *d, const struct det_alert *a);
void det_raise_alert(struct detector *d, const struct proctable *t, const int32_t *chain,
		     uint32_t n, const struct profile *top, uint64_t now, det_verdict_fn fn,
		     void *ctx);
void det_recount(struct detector *d, const struct proctable *t, struct det_alert *a,
		 uint64_t now, det_verdict_fn fn, void *ctx);
void det_recount_due(struct detector *d, const struct proctable *t, uint64_t now,
		     det_verdict_fn fn, void *ctx);
void det_member_changed(struct detector *d, const struct proctable *t, struct det_alert *a,
			uint64_t now, det_verdict_fn fn, void *ctx);
double det_growth_per_minute(uint32_t gained, uint64_t since_ns, uint64_t now);
void det_storm_verdict(struct detector *d, struct det_alert *a, struct det_verdict *v,
		       uint64_t now, uint32_t child);

/* user/core/det_piles.c: a parent's children (zombies, idle workers,
 * spawn storms), for the tree rules */
void det_zombies_forget(struct detector *d);
void det_zombie_exit(struct detector *d, const struct proctable *t, int32_t slot,
			const struct ft_exit *x, det_verdict_fn fn, void *ctx);
bool det_storm_join(struct detector *d, const struct proctable *t, int32_t slot,
		       uint64_t now, det_verdict_fn fn, void *ctx);
void det_reaped(struct detector *d, const struct proctable *t, int32_t slot, int32_t ps);
void det_pile_remove(struct detector *d, const struct proctable *t, int32_t slot);
void det_pile_add(struct detector *d, const struct proctable *t, int32_t slot, int kind,
		     uint64_t now, det_verdict_fn fn, void *ctx);
void det_on_reap(struct detector *d, const struct proctable *t, int32_t slot,
		    const struct ft_header *h);

#endif /* FT_DET_INT_H */
