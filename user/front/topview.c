// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <termios.h>
#include <curses.h>
#include "front/topview.h"
#include "live/procfs.h"

#define DRAW_INTERVAL_NS  250000000ull /* the screen, at most 4 times a second */
#define KEY_REDRAW_NS	  50000000ull  /* sooner after a key, still bounded */
#define HISTORY		  60	       /* seconds of rates in the sparklines */
#define MAX_ROWS	  64	       /* trees listed */
#define MAX_RECENT	  8	       /* acted-on trees kept on screen after they empty */
#define RECENT_KEEP_NS	  30000000000ull
#define STDERR_KEEP	  (64 * 1024) /* what stderr said, printed at close */
#define TREE_CHILDREN_MAX 4	      /* children shown per process in an expanded tree */

enum sort_key { SORT_GROWTH, SORT_LIVE, SORT_DOUBLING, SORT_MAX };
static const char *const sort_names[SORT_MAX] = { "births/s", "live", "doubling" };

enum input_mode { INPUT_NONE, INPUT_FILTER, INPUT_CONFIRM };

/* What an action did to a tree, from the policy's reports. */
struct tree_state {
	uint32_t pid;
	uint64_t start_ns;
	char comm[FT_COMM_LEN];
	const char *state; /* "stopping", "stopped", "killing", "killed", "resumed", ... */
	uint64_t ts_ns;
};

struct row {
	struct det_tree_info t;
	const char *state;
	char pod[FT_CT_NS_LEN + FT_CT_POD_LEN + 2];
	char cmd[FT_ARGS_LEN];
	uint32_t uid;
};

struct topview {
	struct topview_opts o;
	struct pipeline *p;
	SCREEN *screen;
	bool colors, utf8;
	uint64_t next_draw_ns, started_ns;
	/* per-second rates from the totals: the one count, sampled */
	uint64_t last_forks, last_exits, last_execs, next_second_ns;
	uint32_t forks[HISTORY], exits[HISTORY], execs[HISTORY];
	uint32_t nhist;
	/* the list */
	struct row rows[MAX_ROWS + MAX_RECENT];
	uint32_t nrows;
	uint32_t sel_pid; /* the selection follows its tree across redraws */
	uint64_t sel_start;
	bool expanded;
	enum sort_key sort;
	char filter[96];
	/* a prompt in the status line */
	enum input_mode input;
	char line[96];
	char confirm_what;   /* 's', 'k' or 'c' */
	uint32_t target_pid; /* the tree the prompt names: y acts on it alone */
	uint64_t target_start;
	char status[320];
	struct tree_state acted[MAX_RECENT];
	/* an expanded tree: per-slot live counts, pre-order scratch */
	uint32_t cap;
	uint32_t *sub_live;
	int32_t *order;
	/* stderr, captured while the screen is ours */
	int saved_stderr, err_pipe;
	char *errlog;
	size_t errlen, errdropped;
	char recpath[64];
};

/*
 * A crash must not leave the terminal raw and on the alternate screen:
 * the handler puts back the modes saved before ncurses took them, with
 * async-signal-safe calls only, then dies of the same signal.  Signal
 * state, so static.
 */
static struct termios saved_modes;
static int saved_stderr_fd = -1;
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGQUIT };

static void on_fatal(int sig)
{
	static const char leave[] = "\033[?1049l\033[?25h\033[0m\r\n";

	tcsetattr(STDIN_FILENO, TCSANOW, &saved_modes);
	if (saved_stderr_fd >= 0) /* the crash's own words reach the terminal */
		dup2(saved_stderr_fd, STDERR_FILENO);
	if (write(STDOUT_FILENO, leave, sizeof(leave) - 1) < 0)
		_exit(128 + sig);
	raise(sig); /* SA_RESETHAND: the default action now */
}

static void guard_terminal(bool on)
{
	struct sigaction sa = { .sa_handler = on ? on_fatal : SIG_DFL,
				.sa_flags = on ? SA_RESETHAND : 0 };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(fatal_signals) / sizeof(fatal_signals[0]); i++)
		sigaction(fatal_signals[i], &sa, NULL);
}

bool topview_match(const char *filter, const struct topview_row_facts *f)
{
	if (!filter || !filter[0])
		return true;
	if (!strncmp(filter, "comm:", 5))
		return !strncmp(f->comm, filter + 5, strlen(filter + 5));
	if (!strncmp(filter, "pod:", 4))
		return f->pod[0] && strstr(f->pod, filter + 4);
	if (!strncmp(filter, "uid:", 4)) {
		char *end;
		unsigned long uid = strtoul(filter + 4, &end, 10);

		return end != filter + 4 && !*end && uid == f->uid;
	}
	return strstr(f->comm, filter) || strstr(f->cmdline, filter) ||
	       (f->pod[0] && strstr(f->pod, filter));
}

/* ---- stderr, kept off the screen ---------------------------------------- */

static int capture_stderr(struct topview *v)
{
	int fds[2];

	v->errlog = malloc(STDERR_KEEP);
	if (!v->errlog || pipe2(fds, O_CLOEXEC | O_NONBLOCK))
		return -1;
	fflush(stderr);
	v->saved_stderr = fcntl(2, F_DUPFD_CLOEXEC, 3);
	/* a full pipe drops a message rather than stall the reader */
	if (v->saved_stderr < 0 || dup2(fds[1], 2) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	v->err_pipe = fds[0];
	saved_stderr_fd = v->saved_stderr;
	return 0;
}

static void drain_stderr(struct topview *v)
{
	char buf[4096], *nl, *last;
	ssize_t n;

	while ((n = read(v->err_pipe, buf, sizeof(buf) - 1)) > 0) {
		size_t room = STDERR_KEEP - v->errlen, take = (size_t)n < room ? (size_t)n : room;

		memcpy(v->errlog + v->errlen, buf, take);
		v->errlen += take;
		v->errdropped += (size_t)n - take;
		/* the newest complete line goes on the status line */
		buf[n] = '\0';
		if (buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		nl = strrchr(buf, '\n');
		last = nl ? nl + 1 : buf;
		snprintf(v->status, sizeof(v->status), "%.300s", last);
	}
}

static void restore_stderr(struct topview *v)
{
	if (v->saved_stderr < 0)
		return;
	drain_stderr(v);
	saved_stderr_fd = -1;
	dup2(v->saved_stderr, 2);
	close(v->saved_stderr);
	close(v->err_pipe);
	v->saved_stderr = -1;
	if (v->errlen && fwrite(v->errlog, 1, v->errlen, stderr) != v->errlen)
		return;
	if (v->errdropped)
		fprintf(stderr, "forktrace: %zu bytes of messages dropped while the view ran\n",
			v->errdropped);
}

/* ---- what actions did ------------------------------------------------- */

static struct tree_state *acted_slot(struct topview *v, uint32_t pid, uint64_t start_ns)
{
	struct tree_state *oldest = &v->acted[0];

	for (int i = 0; i < MAX_RECENT; i++) {
		if (v->acted[i].pid == pid && v->acted[i].start_ns == start_ns)
			return &v->acted[i];
		if (v->acted[i].ts_ns < oldest->ts_ns)
			oldest = &v->acted[i];
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->pid = pid;
	oldest->start_ns = start_ns;
	return oldest;
}

static void on_policy(void *ctx, const struct policy_outcome *r)
{
	struct topview *v = ctx;
	bool stop = !strcmp(r->action, "stop");
	struct tree_state *s;
	const char *state;

	switch (r->kind) {
	case OUTCOME_SIGNAL:
		state = stop ? "stopping" : "killing";
		break;
	case OUTCOME_ACTION:
		state = !r->complete ? "gave up" : stop ? "stopped" : "killed";
		break;
	case OUTCOME_RESUME:
		state = "resumed";
		break;
	case OUTCOME_EXEMPT:
		state = "exempt";
		break;
	case OUTCOME_DRY_RUN:
		state = "dry run";
		break;
	case OUTCOME_UNDECIDED:
		return; /* about one member; the tree's state stands */
	case OUTCOME_STATE:
		state = r->state && !strcmp(r->state, "signalling") ? (stop ? "stopping" : "killing")
			: r->state && !strcmp(r->state, "emptied")  ? (stop ? "stopped" : "killed")
								    : (r->state ? r->state : "?");
		break;
	default:
		state = "refused";
		break;
	}
	s = acted_slot(v, r->root, r->root_start_ns);
	s->state = state;
	s->ts_ns = r->ts_ns;
	snprintf(s->comm, sizeof(s->comm), "%s", r->root_comm ? r->root_comm : "");
	if (r->kind == OUTCOME_ACTION || r->kind == OUTCOME_RESUME || r->kind == OUTCOME_EXEMPT ||
	    r->kind == OUTCOME_REFUSED || r->kind == OUTCOME_STATE)
		snprintf(v->status, sizeof(v->status), "tree %u (%s): %s%s%s", r->root, s->comm,
			 state, r->why ? ": " : "", r->why ? r->why : "");
}

static const char *acted_state(const struct topview *v, uint32_t pid, uint64_t start_ns)
{
	for (int i = 0; i < MAX_RECENT; i++)
		if (v->acted[i].pid == pid && v->acted[i].start_ns == start_ns)
			return v->acted[i].state;
	return NULL;
}

/* ---- the list ---------------------------------------------------------- */

static double sort_value(const struct row *r, enum sort_key k)
{
	switch (k) {
	case SORT_LIVE:
		return r->t.live;
	case SORT_DOUBLING: /* fastest first; not growing last */
		return r->t.doubling_ms > 0 ? -r->t.doubling_ms : -1e18;
	default:
		return r->t.births_per_s;
	}
}

static int by_key(const void *a, const void *b, void *ctx)
{
	const struct row *x = a, *y = b;
	enum sort_key k = *(const enum sort_key *)ctx;
	double vx = sort_value(x, k), vy = sort_value(y, k);

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return x->t.live > y->t.live ? -1 : x->t.live < y->t.live;
}

static void pod_label(struct pipeline *p, uint64_t cgroup, char *buf, size_t len)
{
	ct_label(cgroup ? pipeline_container(p, cgroup) : NULL, CT_LABEL_POD, buf, len);
}

/* The command line without argv[0]'s directory: at 80 columns
 * "python3 worker.py" says more than "/usr/local/lib/pyenv/ver...". */
static void command_of(const struct pt_entry *e, char *buf, size_t len)
{
	const char *args = e->cmdline, *space, *slash;

	if (!args[0]) {
		snprintf(buf, len, "%s", e->comm);
		return;
	}
	space = strchr(args, ' ');
	slash = memrchr(args, '/', space ? (size_t)(space - args) : strlen(args));
	snprintf(buf, len, "%s", slash ? slash + 1 : args);
}

static void build_rows(struct topview *v, uint64_t now)
{
	const struct proctable *t = pipeline_table(v->p);
	struct det_tree_info top[MAX_ROWS];
	uint32_t n = pipeline_top_trees(v->p, now, top, MAX_ROWS);

	v->nrows = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct pt_entry *e = pt_get(t, top[i].root_slot);
		struct row *r = &v->rows[v->nrows];
		struct topview_row_facts f;

		if (!e)
			continue;
		r->t = top[i];
		pod_label(v->p, e->cgroup_id, r->pod, sizeof(r->pod));
		command_of(e, r->cmd, sizeof(r->cmd));
		r->uid = e->uid;
		f = (struct topview_row_facts){ e->comm, r->cmd, r->pod, e->uid };
		if (!topview_match(v->filter, &f))
			continue;
		r->state = acted_state(v, top[i].root, top[i].root_start_ns);
		if (!r->state)
			r->state = top[i].flagged ? "flagged" : "suspect";
		v->nrows++;
	}
	qsort_r(v->rows, v->nrows, sizeof(v->rows[0]), by_key, &v->sort);
	/* trees acted on stay listed a while after they empty, last */
	for (int i = 0; i < MAX_RECENT; i++) {
		const struct tree_state *s = &v->acted[i];
		bool listed = false;

		if (!s->pid || now > s->ts_ns + RECENT_KEEP_NS)
			continue;
		for (uint32_t k = 0; k < v->nrows && !listed; k++)
			listed = v->rows[k].t.root == s->pid &&
				 v->rows[k].t.root_start_ns == s->start_ns;
		if (listed)
			continue;
		memset(&v->rows[v->nrows], 0, sizeof(v->rows[0]));
		v->rows[v->nrows].t.root = s->pid;
		v->rows[v->nrows].t.root_start_ns = s->start_ns;
		v->rows[v->nrows].t.root_slot = PT_NONE;
		v->rows[v->nrows].t.doubling_ms = -1;
		v->rows[v->nrows].state = s->state;
		snprintf(v->rows[v->nrows].cmd, sizeof(v->rows[0].cmd), "%s", s->comm);
		v->nrows++;
	}
}

static int selected(const struct topview *v)
{
	for (uint32_t i = 0; i < v->nrows; i++)
		if (v->rows[i].t.root == v->sel_pid && v->rows[i].t.root_start_ns == v->sel_start)
			return (int)i;
	return v->nrows ? 0 : -1;
}

static void select_row(struct topview *v, int i)
{
	if (i < 0 || (uint32_t)i >= v->nrows)
		return;
	v->sel_pid = v->rows[i].t.root;
	v->sel_start = v->rows[i].t.root_start_ns;
}

/* ---- drawing ------------------------------------------------------------ */

static const char *spark_glyph(const struct topview *v, uint32_t level)
{
	static const char *const utf8[] = { " ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char *const ascii[] = { " ", ".", ".", ":", ":", "|", "|", "#", "#" };

	return v->utf8 ? utf8[level] : ascii[level];
}

/* A rate and its last minute, oldest left, scaled to its own peak. */
static void draw_rate(struct topview *v, int y, const char *name, const uint32_t *hist, int width)
{
	uint32_t peak = 1, now = v->nhist ? hist[(v->nhist - 1) % HISTORY] : 0;
	int n = (int)(v->nhist < HISTORY ? v->nhist : HISTORY);

	if (width > n)
		width = width > HISTORY ? HISTORY : width;
	for (int i = 0; i < n; i++)
		peak = hist[i] > peak ? hist[i] : peak;
	mvprintw(y, 0, "%-8s %7u ", name, now);
	for (int i = 0; i < width; i++) {
		int age = width - 1 - i; /* seconds ago */
		uint32_t val, level;

		if (age >= n) {
			addstr(" ");
			continue;
		}
		val = hist[(v->nhist - 1 - (uint32_t)age) % HISTORY];
		level = val ? 1 + (uint32_t)((uint64_t)val * 7 / peak) : 0;
		addstr(spark_glyph(v, level > 8 ? 8 : level));
	}
	printw(" peak %u/s", peak == 1 && !now ? 0 : peak);
}

static void fmt_doubling(double ms, char *buf, size_t len)
{
	if (ms <= 0)
		snprintf(buf, len, "-");
	else if (ms < 10000)
		snprintf(buf, len, "%.1fs", ms / 1e3);
	else
		snprintf(buf, len, "%.0fs", ms / 1e3);
}

static int state_color(const struct topview *v, const char *state)
{
	if (!v->colors)
		return 0;
	if (!strcmp(state, "flagged") || !strcmp(state, "killing") || !strcmp(state, "stopping"))
		return COLOR_PAIR(1);
	if (!strcmp(state, "suspect"))
		return COLOR_PAIR(2);
	if (!strcmp(state, "killed") || !strcmp(state, "stopped") || !strcmp(state, "resumed"))
		return COLOR_PAIR(3);
	return 0;
}

/* The command column takes what the others leave; below 100 columns the
 * pod column goes, so 80 columns keep a readable command. */
static bool pod_column(int cols)
{
	return cols >= 100;
}

static int command_width(int cols)
{
	int w = cols - 61 - (pod_column(cols) ? 20 : 0);

	return w < 8 ? 8 : w;
}

static void format_row(char *line, size_t len, int cols, const char *pid, const char *pod,
		       const char *cmd, const char *live, const char *births, const char *dbl,
		       const char *gen, const char *pattern)
{
	int cmdw = command_width(cols);

	if (pod_column(cols))
		snprintf(line, len, "%7s %-19.19s %-*.*s %6s %8s %7s %3s %-15.15s ", pid, pod, cmdw,
			 cmdw, cmd, live, births, dbl, gen, pattern);
	else
		snprintf(line, len, "%7s %-*.*s %6s %8s %7s %3s %-15.15s ", pid, cmdw, cmdw, cmd,
			 live, births, dbl, gen, pattern);
}

static void draw_row(struct topview *v, int y, const struct row *r, bool sel, int cols)
{
	char pid[12], live[12], births[16], dbl[16], gen[8], line[512];
	int room;

	snprintf(pid, sizeof(pid), "%u", r->t.root);
	snprintf(live, sizeof(live), "%u", r->t.live);
	snprintf(births, sizeof(births), "%.1f", r->t.births_per_s);
	fmt_doubling(r->t.doubling_ms, dbl, sizeof(dbl));
	snprintf(gen, sizeof(gen), "%u", r->t.generations);
	format_row(line, sizeof(line), cols, pid, r->pod[0] ? r->pod : "-", r->cmd, live, births,
		   dbl, gen, r->t.flagged ? det_pattern_name(r->t.pattern) : "-");
	room = cols - (int)strlen(line);
	if (sel)
		attron(A_REVERSE);
	mvaddnstr(y, 0, line, cols);
	attron(state_color(v, r->state) | A_BOLD);
	if (room > 0)
		addnstr(r->state, room);
	attroff(state_color(v, r->state) | A_BOLD);
	if (sel) /* the whole line shows the selection */
		for (int x = (int)strlen(line) + (int)strlen(r->state); x < cols; x++)
			addch(' ');
	else
		clrtoeol();
	if (sel)
		attroff(A_REVERSE);
}

static int by_sub_live(const void *a, const void *b, void *ctx)
{
	const uint32_t *sub = ctx;
	uint32_t x = sub[*(const int32_t *)a], y = sub[*(const int32_t *)b];

	return x > y ? -1 : x < y;
}

/* One process and, largest first, up to TREE_CHILDREN_MAX children. */
static int draw_node(struct topview *v, const struct proctable *t, int32_t slot, int depth, int y,
		     int ymax, int cols)
{
	const struct pt_entry *e = pt_get(t, slot);
	int32_t kids[64];
	uint32_t nkids = 0, more = 0, more_live = 0;
	char line[256];

	if (y >= ymax)
		return y;
	snprintf(line, sizeof(line), "%*s%u %s  [%u live]", depth * 2, "", e->key.tgid, e->comm,
		 v->sub_live[slot]);
	mvaddnstr(y++, 0, line, cols);
	clrtoeol();
	for (int32_t c = e->first_child; c != PT_NONE; c = pt_get(t, c)->next_sibling) {
		if (!v->sub_live[c])
			continue;
		if (nkids < sizeof(kids) / sizeof(kids[0])) {
			kids[nkids++] = c;
		} else {
			more++;
			more_live += v->sub_live[c];
		}
	}
	qsort_r(kids, nkids, sizeof(kids[0]), by_sub_live, v->sub_live);
	for (uint32_t k = 0; k < nkids; k++) {
		if (k >= TREE_CHILDREN_MAX) {
			more++;
			more_live += v->sub_live[kids[k]];
			continue;
		}
		y = draw_node(v, t, kids[k], depth + 1, y, ymax, cols);
	}
	if (more && y < ymax) {
		snprintf(line, sizeof(line), "%*s+ %u more children (%u live)", (depth + 1) * 2, "",
			 more, more_live);
		mvaddnstr(y++, 0, line, cols);
		clrtoeol();
	}
	return y;
}

/* The selected tree, indented, each process with its subtree's live count. */
static void draw_tree(struct topview *v, const struct row *r, int y, int ymax, int cols)
{
	const struct proctable *t = pipeline_table(v->p);
	int32_t root = pt_find(t, r->t.root, r->t.root_start_ns);

	if (root == PT_NONE || y >= ymax)
		return;
	pt_subtree_sizes(t, root, v->order, v->cap, v->sub_live, true);
	attron(A_BOLD);
	mvprintw(y++, 0, "tree %u, expanded (enter folds it)", r->t.root);
	attroff(A_BOLD);
	clrtoeol();
	draw_node(v, t, root, 0, y, ymax, cols);
}

static void draw(struct topview *v, uint64_t now)
{
	const struct ft_totals *tot = pipeline_totals(v->p);
	const struct pt_stats *ts = pt_get_stats(pipeline_table(v->p));
	int rows = LINES, cols = COLS, y, sel, list_end;
	uint64_t up = (now - v->started_ns) / 1000000000ull;
	char title[512];

	build_rows(v, now);
	sel = selected(v);
	if (v->input != INPUT_CONFIRM) /* the prompt's tree stays selected */
		select_row(v, sel);
	erase();
	snprintf(title, sizeof(title), "forktrace %s  %s  mode: %s  up %02llu:%02llu:%02llu%s%s",
		 FORKTRACE_VERSION, v->o.host, v->o.mode, (unsigned long long)(up / 3600),
		 (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60),
		 v->recpath[0] ? "  recording " : "", v->recpath);
	attron(A_REVERSE);
	mvaddnstr(0, 0, title, cols);
	for (int x = (int)strlen(title); x < cols; x++)
		addch(' ');
	attroff(A_REVERSE);
	draw_rate(v, 1, "forks/s", v->forks, cols - 30);
	draw_rate(v, 2, "exits/s", v->exits, cols - 30);
	draw_rate(v, 3, "execs/s", v->execs, cols - 30);
	mvprintw(4, 0, "live %u  lost %llu  alerts %llu  trees %u  sort: %s  filter: %s", ts->live,
		 (unsigned long long)tot->lost, (unsigned long long)tot->alerts, v->nrows,
		 sort_names[v->sort], v->filter[0] ? v->filter : "-");
	format_row(title, sizeof(title), cols, "PID", "POD/CONTAINER", "COMMAND", "LIVE", "BIRTH/S",
		   "DOUBLE", "GEN", "PATTERN");
	attron(A_BOLD);
	mvaddnstr(5, 0, title, cols);
	addnstr("STATE", cols - (int)strlen(title) > 0 ? cols - (int)strlen(title) : 0);
	attroff(A_BOLD);
	y = 6;
	/* the list gets half the screen when a tree is expanded */
	list_end = v->expanded ? 6 + (rows - 8) / 2 : rows - 2;
	if (!v->nrows)
		mvaddnstr(y, 0, "  no tree is growing (a tree is listed once it has 4 live tasks)",
			  cols);
	for (uint32_t i = 0; i < v->nrows && y < list_end; i++)
		draw_row(v, y++, &v->rows[i], (int)i == sel, cols);
	if (v->expanded && sel >= 0 && v->rows[sel].t.root_slot != PT_NONE)
		draw_tree(v, &v->rows[sel], list_end, rows - 2, cols);
	/* status line: a prompt, or the newest message */
	if (v->input == INPUT_FILTER)
		mvprintw(rows - 2, 0, "filter (comm:X pod:NS/NAME uid:N or text): %s_", v->line);
	else if (v->input == INPUT_CONFIRM)
		mvaddnstr(rows - 2, 0, v->line, cols);
	else
		mvaddnstr(rows - 2, 0, v->status, cols);
	clrtoeol();
	attron(A_REVERSE);
	mvaddnstr(rows - 1, 0,
		  v->o.can_act ? " up/dn enter:expand o:sort /:filter s:stop k:kill c:cont "
				 "w:record q:quit "
			       : " up/dn enter:expand o:sort /:filter w:record q:quit ",
		  cols);
	attroff(A_REVERSE);
	refresh();
}

/* ---- keys --------------------------------------------------------------- */

static void ask(struct topview *v, char what)
{
	int sel = selected(v);
	const struct row *r;

	if (!v->o.can_act) {
		snprintf(v->status, sizeof(v->status), "actions need a live run");
		return;
	}
	if (sel < 0 || v->rows[sel].t.root_slot == PT_NONE) {
		snprintf(v->status, sizeof(v->status), "no tree selected");
		return;
	}
	r = &v->rows[sel];
	v->confirm_what = what;
	v->target_pid = r->t.root;
	v->target_start = r->t.root_start_ns;
	v->input = INPUT_CONFIRM;
	snprintf(v->line, sizeof(v->line), "%s tree %u (%.32s, %u live)? y/N",
		 what == 'k'   ? "KILL"
		 : what == 's' ? "STOP"
			       : "CONTINUE",
		 r->t.root, r->cmd, r->t.live);
}

static void confirmed(struct topview *v, uint64_t now)
{
	enum pipeline_action act = v->confirm_what == 'k'   ? PIPELINE_KILL
				   : v->confirm_what == 's' ? PIPELINE_STOP
							    : PIPELINE_RESUME;
	char err[256];

	/* the tree named in the prompt, wherever the list has moved since */
	if (pipeline_act(v->p, v->target_pid, v->target_start, act, now, err, sizeof(err)))
		snprintf(v->status, sizeof(v->status), "%s", err);
}

static void toggle_recording(struct topview *v, uint64_t now)
{
	char err[256];
	time_t wall;
	struct tm tm;

	if (pipeline_recording(v->p)) {
		if (pipeline_record_stop(v->p, err, sizeof(err)))
			snprintf(v->status, sizeof(v->status), "recording: %s", err);
		else
			snprintf(v->status, sizeof(v->status), "recorded to %s",
				 v->recpath[0] ? v->recpath : "the -w file");
		v->recpath[0] = '\0';
		return;
	}
	struct timespec now_rt;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now_rt);
	wall = now_rt.tv_sec;
	localtime_r(&wall, &tm);
	/* milliseconds too: a new file each time (an existing one is refused) */
	n = strftime(v->recpath, sizeof(v->recpath), "forktrace-%Y%m%d-%H%M%S", &tm);
	snprintf(v->recpath + n, sizeof(v->recpath) - n, ".%03ld.ftr", now_rt.tv_nsec / 1000000);
	if (pipeline_record_start(v->p, v->recpath, now, err, sizeof(err))) {
		snprintf(v->status, sizeof(v->status), "cannot record: %s", err);
		v->recpath[0] = '\0';
		return;
	}
	snprintf(v->status, sizeof(v->status), "recording to %s (w stops)", v->recpath);
}

static void edit_line(struct topview *v, int ch)
{
	size_t n = strlen(v->line);

	if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n)
		v->line[n - 1] = '\0';
	else if (ch >= 32 && ch < 127 && n + 1 < sizeof(v->line))
		v->line[n] = (char)ch, v->line[n + 1] = '\0';
}

/* One key; true to quit. */
static bool on_key(struct topview *v, int ch, uint64_t now)
{
	int sel = selected(v);

	if (ch == 3)
		return true;
	if (v->input == INPUT_CONFIRM) {
		v->input = INPUT_NONE;
		if (ch == 'y' || ch == 'Y')
			confirmed(v, now);
		else
			snprintf(v->status, sizeof(v->status), "cancelled");
		return false;
	}
	if (v->input == INPUT_FILTER) {
		if (ch == '\n' || ch == KEY_ENTER) {
			snprintf(v->filter, sizeof(v->filter), "%s", v->line);
			v->input = INPUT_NONE;
		} else if (ch == 27) {
			v->input = INPUT_NONE;
		} else {
			edit_line(v, ch);
		}
		return false;
	}
	switch (ch) {
	case 'q':
	case 'Q':
	case 3: /* ^C: raw mode reads it as a key */
		return true;
	case KEY_UP:
		select_row(v, sel - 1);
		break;
	case KEY_DOWN:
		select_row(v, sel + 1);
		break;
	case '\n':
	case KEY_ENTER:
	case 'e':
		v->expanded = !v->expanded;
		break;
	case 'o':
		v->sort = (v->sort + 1) % SORT_MAX;
		break;
	case '/':
		v->input = INPUT_FILTER;
		v->line[0] = '\0';
		break;
	case 's':
	case 'k':
	case 'c':
		ask(v, (char)ch);
		break;
	case 'w':
		toggle_recording(v, now);
		break;
	default:
		break;
	}
	return false;
}

/* ---- the loop's side ---------------------------------------------------- */

static void sample_rates(struct topview *v, uint64_t now)
{
	const struct ft_totals *tot = pipeline_totals(v->p);

	if (now < v->next_second_ns)
		return;
	/* a stalled loop's backlog lands in one second: the next one */
	v->forks[v->nhist % HISTORY] = (uint32_t)(tot->forks - v->last_forks);
	v->exits[v->nhist % HISTORY] = (uint32_t)(tot->exits - v->last_exits);
	v->execs[v->nhist % HISTORY] = (uint32_t)(tot->execs - v->last_execs);
	v->nhist++;
	v->last_forks = tot->forks;
	v->last_exits = tot->exits;
	v->last_execs = tot->execs;
	v->next_second_ns += 1000000000ull;
	if (v->next_second_ns < now)
		v->next_second_ns = now + 1000000000ull;
}

bool topview_tick(struct topview *v, uint64_t now)
{
	bool quit = false, key = false;
	int ch;

	sample_rates(v, now);
	drain_stderr(v);
	while (!quit && (ch = getch()) != ERR) {
		if (ch == KEY_RESIZE)
			clearok(curscr, TRUE);
		else
			quit = on_key(v, ch, now);
		key = true;
	}
	if (key && v->next_draw_ns > now + KEY_REDRAW_NS)
		v->next_draw_ns = now + KEY_REDRAW_NS;
	if (!quit && now >= v->next_draw_ns) {
		draw(v, now);
		v->next_draw_ns = now + DRAW_INTERVAL_NS;
	}
	return quit;
}

int topview_open(const struct topview_opts *o, struct pipeline *p, struct topview **out, char *err,
		 size_t errlen)
{
	struct topview *v = calloc(1, sizeof(*v));
	const struct pt_stats *ts = pt_get_stats(pipeline_table(p));
	struct observer ob = { .policy = on_policy };

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v->o = *o;
	v->p = p;
	v->saved_stderr = v->err_pipe = -1;
	v->cap = ts->capacity;
	v->sub_live = calloc(v->cap, sizeof(*v->sub_live));
	v->order = calloc(v->cap, sizeof(*v->order));
	if (!v->sub_live || !v->order) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ob.ctx = v;
	if (pipeline_observe(p, &ob)) {
		snprintf(err, errlen, "no room for another observer");
		goto fail;
	}
	if (!isatty(0) || !isatty(1) || !getenv("TERM")) {
		snprintf(err, errlen, "the live view needs a terminal (use --log for lines)");
		goto fail;
	}
	/* characters only: numbers keep their C format (metrics, --set) */
	setlocale(LC_CTYPE, "");
	v->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if (tcgetattr(STDIN_FILENO, &saved_modes)) {
		snprintf(err, errlen, "cannot read the terminal's modes: %s", strerror(errno));
		goto fail;
	}
	guard_terminal(true);
	v->screen = newterm(NULL, stdout, stdin);
	if (!v->screen) {
		guard_terminal(false);
		snprintf(err, errlen, "cannot use terminal type '%s'", getenv("TERM"));
		goto fail;
	}
	if (capture_stderr(v)) {
		endwin();
		delscreen(v->screen);
		guard_terminal(false);
		snprintf(err, errlen, "cannot capture stderr: %s", strerror(errno));
		goto fail;
	}
	/* raw: ^S (IXON) must not freeze the screen, and with it the reader */
	raw();
	noecho();
	set_escdelay(25);
	nodelay(stdscr, TRUE);
	keypad(stdscr, TRUE);
	curs_set(0);
	/* NO_COLOR (no-color.org): present and not empty means none */
	if (has_colors() && !(getenv("NO_COLOR") && getenv("NO_COLOR")[0])) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_RED, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_GREEN, -1);
		v->colors = true;
	}
	v->started_ns = v->next_second_ns = procfs_boot_ns();
	v->last_forks = pipeline_totals(p)->forks;
	v->last_exits = pipeline_totals(p)->exits;
	v->last_execs = pipeline_totals(p)->execs;
	snprintf(v->status, sizeof(v->status), "watching; press q to quit");
	*out = v;
	return 0;
fail:
	pipeline_unobserve(p, v);
	free(v->sub_live);
	free(v->order);
	free(v->errlog);
	free(v);
	return -1;
}

void topview_close(struct topview *v)
{
	char err[256];

	if (!v)
		return;
	pipeline_unobserve(v->p, v);
	if (v->recpath[0] && pipeline_record_stop(v->p, err, sizeof(err)))
		fprintf(stderr, "forktrace: recording %s: %s\n", v->recpath, err);
	endwin();
	delscreen(v->screen);
	guard_terminal(false);
	restore_stderr(v);
	if (v->recpath[0])
		fprintf(stderr, "forktrace: recorded to %s\n", v->recpath);
	free(v->sub_live);
	free(v->order);
	free(v->errlog);
	free(v);
}
