// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process table.  Slots live in one array sized at start-up; hash chains,
 * the free list, the lineage tree and the dead list are all slot indexes, so
 * memory never grows after pt_new().
 */
#include <stdlib.h>
#include <string.h>
#include "core/proctable.h"

struct proctable {
	struct pt_entry *slots;
	int32_t *buckets;
	uint32_t nbuckets; /* power of two */
	int32_t free_head; /* slots freed since; the never-used start at hwm */
	uint32_t hwm;	   /* slots [0, hwm) have been used: untouched pages stay unallocated */
	int32_t dead_head, dead_tail; /* oldest death first */
	/*
	 * Dead entries that may be evicted: no children in the table, not
	 * pinned.  A bomb's dead ancestors keep their live descendants rooted,
	 * and the dead list alone would make eviction either take them
	 * (detaching the tree from its root) or scan past thousands of them on
	 * every insert.  This second list is kept as entries change state, in
	 * the order they became evictable: at death for a leaf, when its last
	 * child went for an ancestor.  Every update is O(1), so eviction is too.
	 */
	int32_t evict_head, evict_tail;
	uint64_t grace_ns;
	struct pt_stats st;
};

static uint32_t key_hash(const struct pt_key *k, uint32_t nbuckets)
{
	uint64_t x = ((uint64_t)k->tgid << 32) ^ k->start_ticks;

	/* splitmix64 finaliser: pids and start ticks are both sequential */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return (uint32_t)x & (nbuckets - 1);
}

static bool key_eq(const struct pt_key *a, const struct pt_key *b)
{
	return a->tgid == b->tgid && a->start_ticks == b->start_ticks;
}

struct proctable *pt_new(uint32_t capacity, uint64_t grace_ns)
{
	struct proctable *t;
	uint32_t i;

	if (capacity < 2 || capacity > (1u << 24))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->nbuckets = 1;
	while (t->nbuckets < capacity)
		t->nbuckets <<= 1;
	t->slots = calloc(capacity, sizeof(*t->slots));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	if (!t->slots || !t->buckets) {
		pt_free(t);
		return NULL;
	}
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = PT_NONE;
	t->free_head = PT_NONE;
	t->dead_head = t->dead_tail = PT_NONE;
	t->evict_head = t->evict_tail = PT_NONE;
	t->grace_ns = grace_ns;
	t->st.capacity = capacity;
	return t;
}

void pt_free(struct proctable *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->buckets);
	free(t);
}

static int32_t find_key(const struct proctable *t, const struct pt_key *k)
{
	int32_t i = t->buckets[key_hash(k, t->nbuckets)];

	while (i != PT_NONE && !key_eq(&t->slots[i].key, k))
		i = t->slots[i].hash_next;
	return i;
}

int32_t pt_find(const struct proctable *t, uint32_t tgid, uint64_t start_ns)
{
	struct pt_key k = { tgid, pt_ticks(start_ns) };

	return find_key(t, &k);
}

int32_t pt_find_live_pid(const struct proctable *t, uint32_t tgid)
{
	int32_t best = PT_NONE;

	for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i)) {
		const struct pt_entry *e = &t->slots[i];

		if (e->key.tgid == tgid && e->state == PT_ALIVE &&
		    (best == PT_NONE || e->key.start_ticks > t->slots[best].key.start_ticks))
			best = i;
	}
	return best;
}

const struct pt_entry *pt_get(const struct proctable *t, int32_t slot)
{
	if (slot < 0 || (uint32_t)slot >= t->st.capacity || !t->slots[slot].key.tgid)
		return NULL;
	return &t->slots[slot];
}

int32_t pt_next(const struct proctable *t, int32_t after)
{
	for (uint32_t i = (uint32_t)(after + 1); i < t->hwm; i++)
		if (t->slots[i].key.tgid)
			return (int32_t)i;
	return PT_NONE;
}

const struct pt_stats *pt_get_stats(const struct proctable *t)
{
	return &t->st;
}

static void evict_list_remove(struct proctable *t, int32_t i)
{
	struct pt_entry *e = &t->slots[i];

	if (!e->evictable)
		return;
	if (e->evict_prev != PT_NONE)
		t->slots[e->evict_prev].evict_next = e->evict_next;
	else
		t->evict_head = e->evict_next;
	if (e->evict_next != PT_NONE)
		t->slots[e->evict_next].evict_prev = e->evict_prev;
	else
		t->evict_tail = e->evict_prev;
	e->evict_prev = e->evict_next = PT_NONE;
	e->evictable = false;
}

/* Put i on the evictable list, or take it off, as its state now says. */
static void evict_list_update(struct proctable *t, int32_t i)
{
	struct pt_entry *e = &t->slots[i];
	bool want = e->state == PT_DEAD && e->first_child == PT_NONE && !e->pinned;

	if (want == e->evictable)
		return;
	if (!want) {
		evict_list_remove(t, i);
		return;
	}
	e->evictable = true;
	e->evict_next = PT_NONE;
	e->evict_prev = t->evict_tail;
	if (t->evict_tail != PT_NONE)
		t->slots[t->evict_tail].evict_next = i;
	else
		t->evict_head = i;
	t->evict_tail = i;
}

/*
 * How far down the dead list a full table looks for an exited ancestor to
 * evict past the pinned ones (the detector's flagged roots and the trees
 * policy holds, a few dozen at most).
 */
#define PT_ANCESTOR_SCAN 256

static void branch_list_remove(struct proctable *t, int32_t i)
{
	struct pt_entry *e = &t->slots[i];

	if (!e->is_branch)
		return;
	if (e->branch_prev != PT_NONE)
		t->slots[e->branch_prev].branch_next = e->branch_next;
	else
		t->slots[e->parent].branch_first = e->branch_next;
	if (e->branch_next != PT_NONE)
		t->slots[e->branch_next].branch_prev = e->branch_prev;
	e->branch_prev = e->branch_next = PT_NONE;
	e->is_branch = false;
}

/*
 * Put i on its parent's branch list, or take it off, as its state now
 * says.  Called wherever its state, its first child or its parent changes
 * (link_child, unlink_child, mark_dead), so the lists never go stale.
 */
static void branch_list_update(struct proctable *t, int32_t i)
{
	struct pt_entry *e = &t->slots[i];
	bool want = e->parent != PT_NONE && (e->state == PT_ALIVE || e->first_child != PT_NONE);
	struct pt_entry *p;

	if (want == e->is_branch)
		return;
	if (!want) {
		branch_list_remove(t, i);
		return;
	}
	p = &t->slots[e->parent];
	e->is_branch = true;
	e->branch_prev = PT_NONE;
	e->branch_next = p->branch_first;
	if (p->branch_first != PT_NONE)
		t->slots[p->branch_first].branch_prev = i;
	p->branch_first = i;
}

static void link_child(struct proctable *t, int32_t parent, int32_t child)
{
	struct pt_entry *c = &t->slots[child];

	c->parent = parent;
	c->prev_sibling = PT_NONE;
	c->next_sibling = t->slots[parent].first_child;
	if (c->next_sibling != PT_NONE)
		t->slots[c->next_sibling].prev_sibling = child;
	t->slots[parent].first_child = child;
	branch_list_update(t, child);
	/* an exited parent that gains a child is a branch again */
	branch_list_update(t, parent);
	evict_list_update(t, parent);
}

static void unlink_child(struct proctable *t, int32_t child)
{
	struct pt_entry *c = &t->slots[child];
	int32_t parent = c->parent;

	if (parent == PT_NONE)
		return;
	branch_list_remove(t, child);
	if (c->prev_sibling != PT_NONE)
		t->slots[c->prev_sibling].next_sibling = c->next_sibling;
	else
		t->slots[c->parent].first_child = c->next_sibling;
	if (c->next_sibling != PT_NONE)
		t->slots[c->next_sibling].prev_sibling = c->prev_sibling;
	c->parent = c->prev_sibling = c->next_sibling = PT_NONE;
	/* an exited parent whose last child went is an exited leaf now */
	branch_list_update(t, parent);
	evict_list_update(t, parent);
}

static void dead_list_remove(struct proctable *t, int32_t i)
{
	struct pt_entry *e = &t->slots[i];

	if (e->dead_prev != PT_NONE)
		t->slots[e->dead_prev].dead_next = e->dead_next;
	else if (t->dead_head == i)
		t->dead_head = e->dead_next;
	if (e->dead_next != PT_NONE)
		t->slots[e->dead_next].dead_prev = e->dead_prev;
	else if (t->dead_tail == i)
		t->dead_tail = e->dead_prev;
	e->dead_prev = e->dead_next = PT_NONE;
}

/* Free a slot.  Its children keep their lineage key but lose the link. */
static void remove_slot(struct proctable *t, int32_t i)
{
	struct pt_entry *e = &t->slots[i];
	int32_t *pp = &t->buckets[key_hash(&e->key, t->nbuckets)];

	while (*pp != i)
		pp = &t->slots[*pp].hash_next;
	*pp = e->hash_next;
	while (e->first_child != PT_NONE)
		unlink_child(t, e->first_child);
	unlink_child(t, i);
	evict_list_remove(t, i);
	if (e->state == PT_DEAD)
		dead_list_remove(t, i);
	else
		t->st.live--;
	memset(e, 0, sizeof(*e));
	e->hash_next = t->free_head;
	t->free_head = i;
	t->st.used--;
}

/* Hand i's children to i's parent (none: they become roots). */
static void splice_out(struct proctable *t, int32_t i)
{
	int32_t grandparent = t->slots[i].parent;

	while (t->slots[i].first_child != PT_NONE) {
		int32_t c = t->slots[i].first_child;

		unlink_child(t, c);
		if (grandparent != PT_NONE)
			link_child(t, grandparent, c);
	}
}

static int32_t insert_key(struct proctable *t, const struct pt_key *k, uint8_t origin)
{
	struct pt_entry *e;
	uint32_t b;
	int32_t i;

	if (t->free_head == PT_NONE && t->hwm < t->st.capacity) {
		t->slots[t->hwm].hash_next = PT_NONE;
		t->free_head = (int32_t)t->hwm++;
	}
	if (t->free_head == PT_NONE) {
		/*
		 * full: the process longest evictable goes; live ones never
		 * do, nor pinned ones, and dead ones with descendants in the
		 * table (they anchor a tree's lineage) only when nothing else
		 * can: a chain of processes that each fork and exit would
		 * otherwise hold the whole table with one live process, and
		 * every process after it would go untracked.  The one that
		 * died first goes, its children handed to its parent (they
		 * keep their lineage key), so every tree keeps its members
		 * under its root: a flagged tree's sweep still reaches them.
		 */
		int32_t victim = t->evict_head;
		int32_t dead = t->dead_head, first = PT_NONE;

		/* one with a single child first: what a splice moves is its
		 * children, and a chain's links have one each */
		for (uint32_t n = 0; victim == PT_NONE && dead != PT_NONE && n < PT_ANCESTOR_SCAN;
		     n++, dead = t->slots[dead].dead_next) {
			int32_t child = t->slots[dead].first_child;

			if (t->slots[dead].pinned)
				continue;
			if (first == PT_NONE)
				first = dead;
			if (child != PT_NONE && t->slots[child].next_sibling == PT_NONE)
				victim = dead;
		}
		if (victim == PT_NONE)
			victim = first;
		if (victim == PT_NONE) {
			t->st.dropped_full++;
			return PT_NONE;
		}
		if (victim != t->evict_head) {
			t->st.evicted_ancestors++;
			splice_out(t, victim);
		}
		remove_slot(t, victim);
		t->st.evicted++;
	}
	i = t->free_head;
	e = &t->slots[i];
	t->free_head = e->hash_next;
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->origin = origin;
	e->state = PT_ALIVE;
	e->parent = e->first_child = e->next_sibling = e->prev_sibling = PT_NONE;
	e->branch_first = e->branch_next = e->branch_prev = PT_NONE;
	e->dead_prev = e->dead_next = PT_NONE;
	e->evict_prev = e->evict_next = PT_NONE;
	b = key_hash(k, t->nbuckets);
	e->hash_next = t->buckets[b];
	t->buckets[b] = i;
	t->st.inserted++;
	t->st.live++;
	if (++t->st.used > t->st.peak_used)
		t->st.peak_used = t->st.used;
	return i;
}

static void mark_dead(struct proctable *t, int32_t i, uint64_t ts)
{
	struct pt_entry *e = &t->slots[i];

	if (e->state == PT_DEAD)
		return;
	e->state = PT_DEAD;
	e->died_ns = ts;
	e->threads = 0;
	t->st.live--;
	e->dead_next = PT_NONE;
	e->dead_prev = t->dead_tail;
	if (t->dead_tail != PT_NONE)
		t->slots[t->dead_tail].dead_next = i;
	else
		t->dead_head = i;
	t->dead_tail = i;
	branch_list_update(t, i);
	evict_list_update(t, i);
	/* the kernel hands its children to a subreaper or init now */
	for (int32_t c = e->first_child; c != PT_NONE; c = t->slots[c].next_sibling)
		if (t->slots[c].state == PT_ALIVE)
			t->slots[c].reparented = true;
}

static void set_lineage(struct proctable *t, int32_t i, uint32_t ppid, uint64_t pstart_ns)
{
	struct pt_entry *e = &t->slots[i];
	int32_t p;

	if (e->lineage.tgid || !ppid)
		return;
	e->lineage.tgid = ppid;
	e->lineage.start_ticks = pt_ticks(pstart_ns);
	p = find_key(t, &e->lineage);
	if (p == i)
		return; /* its own parent: a crafted record */
	/* never under one of its own descendants: a damaged or crafted
	 * stream must not make the tree a cycle (walks up it would not end).
	 * Only a process with children has descendants: a new one (every
	 * fork) costs no walk up its ancestors, however long their chain. */
	for (int32_t a = t->slots[i].first_child != PT_NONE ? p : PT_NONE; a != PT_NONE;
	     a = t->slots[a].parent)
		if (a == i)
			return;
	if (p != PT_NONE)
		link_child(t, p, i);
}

static void fill_common(struct pt_entry *e, const struct ft_header *h)
{
	memcpy(e->comm, h->comm, sizeof(e->comm));
	e->comm[sizeof(e->comm) - 1] = '\0';
	e->uid = h->uid;
	e->cgroup_id = h->cgroup_id;
	if (h->flags & FT_F_KTHREAD)
		e->kthread = true;
}

static void copy_filename(struct pt_entry *e, const char *src)
{
	memcpy(e->filename, src, sizeof(e->filename));
	e->filename[sizeof(e->filename) - 1] = '\0';
}

/* argv is NUL-separated; the table keeps it as one printable line */
static void copy_args(struct pt_entry *e, const struct ft_exec *x)
{
	uint32_t n = x->args_len < FT_ARGS_LEN ? x->args_len : FT_ARGS_LEN - 1;

	memcpy(e->cmdline, x->args, n);
	while (n && !e->cmdline[n - 1])
		n--;
	for (uint32_t i = 0; i < n; i++)
		if (!e->cmdline[i])
			e->cmdline[i] = ' ';
	e->cmdline[n] = '\0';
}

/* The program an exec (or a /proc snapshot) shows; multiprocessing's
 * spawned workers run their parent's. */
static void set_prog(struct proctable *t, int32_t i, const char *filename, const char *args,
		     uint32_t args_len, uint64_t cwd, uint64_t exe_size)
{
	struct pt_entry *e = &t->slots[i];

	e->prog =
	    prog_identify(filename, args, args_len < FT_ARGS_LEN ? args_len : FT_ARGS_LEN, cwd);
	prog_set_exe_size(&e->prog, exe_size);
	e->cwd_ino = cwd;
	e->command = prog_command(args, args_len < FT_ARGS_LEN ? args_len : FT_ARGS_LEN, cwd);
	if (e->prog.kind == PROG_INHERIT && e->parent != PT_NONE)
		e->prog = t->slots[e->parent].prog;
}

static int32_t find_or_insert(struct proctable *t, const struct ft_header *h, uint8_t origin,
			      bool *created)
{
	struct pt_key k = { h->tgid, pt_ticks(h->start_ns) };
	int32_t i = find_key(t, &k);

	*created = false;
	if (i != PT_NONE)
		return i;
	i = insert_key(t, &k, origin);
	if (i != PT_NONE) {
		*created = true;
		t->slots[i].start_ns = h->start_ns;
	}
	return i;
}

static int32_t apply_fork(struct proctable *t, const struct ft_fork *f)
{
	const struct ft_header *h = &f->h;
	struct pt_entry *e;
	bool created;
	int32_t i;

	if (h->flags & FT_F_THREAD) {
		/* the kernel's count, since without -T only milestones arrive */
		i = pt_find(t, h->tgid, h->start_ns);
		if (i != PT_NONE && t->slots[i].state == PT_ALIVE)
			t->slots[i].threads = f->parent_threads;
		return i;
	}
	i = find_or_insert(t, h, PT_FROM_FORK, &created);
	if (i == PT_NONE)
		return i;
	e = &t->slots[i];
	if (created) {
		fill_common(e, h);
		e->threads = 1;
		e->ppid_now = f->real_ppid;
	} else if (e->state == PT_DEAD) {
		/* exit arrived first: keep the tombstone dead, learn its birth */
		t->st.resurrect_refused++;
	}
	e->born_ns = h->ts_ns;
	e->shared_vm = h->flags & FT_F_SHARED_VM;
	if (!e->ppid_now)
		e->ppid_now = f->real_ppid;
	set_lineage(t, i, h->ppid, h->pstart_ns);
	/* a fork runs its parent's program until it execs */
	if (!e->exec_seen && e->parent != PT_NONE)
		e->prog = t->slots[e->parent].prog;
	if (!e->exec_seen && f->exe.ino)
		e->exe = f->exe;
	return i;
}

static int32_t apply_exit(struct proctable *t, const struct ft_exit *x)
{
	const struct ft_header *h = &x->h;
	struct pt_entry *e;
	bool created;
	int32_t i;

	if (h->flags & FT_F_THREAD) {
		/* nr_threads drops only at release, after this record */
		i = pt_find(t, h->tgid, h->start_ns);
		if (i != PT_NONE && x->nr_threads > 1)
			t->slots[i].threads = x->nr_threads - 1;
		return i;
	}
	/* an unknown process still gets a tombstone, so nothing late revives it */
	i = find_or_insert(t, h, PT_FROM_OTHER, &created);
	if (i == PT_NONE)
		return i;
	e = &t->slots[i];
	if (created)
		fill_common(e, h);
	if (e->state == PT_DEAD && e->has_exit_code) {
		t->st.duplicate_exits++;
		return i;
	}
	e->exit_code = x->exit_code;
	e->has_exit_code = true;
	if (h->ppid)
		e->ppid_now = h->ppid;
	set_lineage(t, i, h->ppid, h->pstart_ns);
	mark_dead(t, i, h->ts_ns);
	return i;
}

static int32_t apply_snapshot(struct proctable *t, const struct ft_snapshot *s)
{
	const struct ft_header *h = &s->h;
	struct pt_entry *e;
	bool created;
	int32_t i;

	i = find_or_insert(t, h, PT_FROM_SNAPSHOT, &created);
	if (i == PT_NONE)
		return i;
	e = &t->slots[i];
	if (!created) {
		/* the live stream knew it first and is authoritative */
		if (e->state == PT_DEAD)
			t->st.resurrect_refused++;
		if (!e->filename[0])
			copy_filename(e, s->filename);
		set_lineage(t, i, h->ppid, h->pstart_ns);
		return i;
	}
	fill_common(e, h);
	copy_filename(e, s->filename);
	e->threads = s->threads;
	e->ppid_now = h->ppid;
	set_lineage(t, i, h->ppid, h->pstart_ns);
	set_prog(t, i, s->filename, s->args, s->args_len, s->cwd_ino, 0);
	return i;
}

int32_t pt_apply(struct proctable *t, const struct ft_header *h)
{
	const struct ft_exec *x;
	struct pt_entry *e;
	bool created;
	int32_t i;

	/* pid 0 is the idle task: no record is about it, and a slot's tgid 0
	 * means free (a damaged or crafted stream must not make one) */
	if (!h->tgid)
		return PT_NONE;
	switch (h->type) {
	case FT_EV_FORK:
		return apply_fork(t, (const struct ft_fork *)h);
	case FT_EV_EXIT:
		return apply_exit(t, (const struct ft_exit *)h);
	case FT_EV_SNAPSHOT:
		return apply_snapshot(t, (const struct ft_snapshot *)h);
	case FT_EV_EXEC:
		i = find_or_insert(t, h, PT_FROM_OTHER, &created);
		if (i == PT_NONE)
			return i;
		e = &t->slots[i];
		fill_common(e, h);
		copy_filename(e, ((const struct ft_exec *)h)->filename);
		copy_args(e, (const struct ft_exec *)h);
		e->exec_seen = true;
		e->execs++;
		e->exec_ns = h->ts_ns;
		if (h->ppid)
			e->ppid_now = h->ppid;
		set_lineage(t, i, h->ppid, h->pstart_ns);
		x = (const struct ft_exec *)h;
		set_prog(t, i, x->filename, x->args, x->args_len, x->cwd_ino, x->exe_size);
		/* the age is stored plus one (0: unknown) */
		e->cwd_changed_ns = x->cwd_age_ns && x->cwd_age_ns <= h->ts_ns
					? h->ts_ns - (x->cwd_age_ns - 1)
					: 0;
		e->cwd_nlink = x->cwd_nlink;
		e->cwd_parent_ino = x->cwd_parent_ino;
		/* a recording from before version 6 says nothing: unknown */
		e->exe = x->exe;
		return i;
	case FT_EV_GONE:
		i = pt_find(t, h->tgid, h->start_ns);
		if (i != PT_NONE)
			mark_dead(t, i, h->ts_ns);
		return i;
	case FT_EV_REAP:
	case FT_EV_FORK_FAIL:
		return pt_find(t, h->tgid, h->start_ns);
	case FT_EV_OOM:
		if (h->flags & FT_F_OOM_TASK)
			return pt_find(t, h->tgid, h->start_ns);
		return pt_find_live_pid(t, h->tgid);
	default:
		return PT_NONE;
	}
}

bool pt_parent_forked(const struct proctable *t, int32_t slot)
{
	const struct pt_entry *e = pt_get(t, slot), *pe = e ? pt_get(t, e->parent) : NULL;

	return pe && pe->key.tgid == e->lineage.tgid &&
	       pe->key.start_ticks == e->lineage.start_ticks;
}

bool pt_is_descendant(const struct proctable *t, int32_t slot, int32_t ancestor)
{
	/* lineage is acyclic by construction (a parent starts before its
	 * child); the bound only guards against a corrupted recording */
	for (uint32_t depth = 0; slot != PT_NONE && depth <= t->st.capacity; depth++) {
		if (slot == ancestor)
			return true;
		slot = t->slots[slot].parent;
	}
	return false;
}

int32_t pt_subtree_next(const struct proctable *t, int32_t root, int32_t cur, bool descend)
{
	if (descend && t->slots[cur].first_child != PT_NONE)
		return t->slots[cur].first_child;
	/* the next sibling of the nearest ancestor (or self) that has one */
	while (cur != root && cur != PT_NONE) {
		if (t->slots[cur].next_sibling != PT_NONE)
			return t->slots[cur].next_sibling;
		cur = t->slots[cur].parent;
	}
	return PT_NONE;
}

uint32_t pt_subtree_sizes(const struct proctable *t, int32_t root, int32_t *order, uint32_t cap,
			  uint32_t *size, bool live_only)
{
	uint32_t n = 0;

	if (!pt_get(t, root))
		return 0;
	for (int32_t i = root; i != PT_NONE && n < cap; i = pt_subtree_next(t, root, i, true))
		order[n++] = i;
	for (uint32_t k = 0; k < n; k++) {
		const struct pt_entry *e = &t->slots[order[k]];

		size[order[k]] = !live_only || (e->state == PT_ALIVE && !e->kthread);
	}
	/* parents come before their children: sum from the end */
	for (uint32_t k = n; k-- > 1;) {
		int32_t parent = t->slots[order[k]].parent;

		size[parent] += size[order[k]];
	}
	return n;
}

uint32_t pt_live_in_subtree(const struct proctable *t, int32_t root, uint32_t limit,
			    uint64_t *visited)
{
	uint64_t seen = 0;
	uint32_t live = 0;

	if (!pt_get(t, root))
		return 0;
	/* pre-order over the branch lists, as pt_subtree_next over the children */
	for (int32_t i = root; i != PT_NONE && live < limit; seen++) {
		live += t->slots[i].state == PT_ALIVE;
		if (t->slots[i].branch_first != PT_NONE) {
			i = t->slots[i].branch_first;
			continue;
		}
		while (i != root && i != PT_NONE && t->slots[i].branch_next == PT_NONE)
			i = t->slots[i].parent;
		i = i == root || i == PT_NONE ? PT_NONE : t->slots[i].branch_next;
	}
	if (visited)
		*visited += seen;
	return live;
}

void pt_prune(struct proctable *t, uint64_t now_ns)
{
	int32_t i = t->dead_head;

	while (i != PT_NONE) {
		int32_t next = t->slots[i].dead_next;

		if (t->slots[i].died_ns + t->grace_ns > now_ns)
			break; /* the list is in death order: the rest are younger */
		/* a dead ancestor stays while its descendants are known */
		if (t->slots[i].first_child == PT_NONE && !t->slots[i].pinned) {
			remove_slot(t, i);
			t->st.pruned++;
		}
		i = next;
	}
}

void pt_set_pinned(struct proctable *t, int32_t slot, bool pinned)
{
	if (!pt_get(t, slot))
		return;
	t->slots[slot].pinned = pinned;
	evict_list_update(t, slot);
}

void pt_mark_seen(struct proctable *t, int32_t slot)
{
	if (pt_get(t, slot))
		t->slots[slot].seen = true;
}

int32_t pt_next_unseen_alive(struct proctable *t, int32_t after)
{
	for (int32_t i = pt_next(t, after); i != PT_NONE; i = pt_next(t, i))
		if (t->slots[i].state == PT_ALIVE && !t->slots[i].seen)
			return i;
	return PT_NONE;
}

void pt_clear_seen(struct proctable *t)
{
	for (int32_t i = pt_next(t, PT_NONE); i != PT_NONE; i = pt_next(t, i))
		t->slots[i].seen = false;
}
