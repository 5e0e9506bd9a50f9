// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "present/json.h"
#include "present/metrics.h"
#include "live/privs.h"
#include "live/procfs.h"

const double metrics_latency_bounds[METRICS_LATENCY_NB - 1] = { 0.05, 0.1, 0.25, 0.5, 1,
								2.5,  5,   10,	 30 };

#define METRICS_TICK_MS 200 /* the server's deadline checks, at least this often */

static const char *const action_names[METRICS_ACTION_KINDS] = { "kill", "stop", "dry_run",
								"refused", "exempt" };

static const char *const reload_names[METRICS_RELOAD_KINDS] = { "applied", "bad_config",
								"kernel_rules_failed" };

void metrics_count_reload(struct metrics_counts *c, enum metrics_reload outcome)
{
	if ((unsigned)outcome >= METRICS_RELOAD_KINDS)
		return;
	c->reloads[outcome]++;
	if (outcome != MR_BAD_CONFIG)
		c->kernel_rules_stale = outcome == MR_KERNEL_RULES_FAILED;
}

void metrics_count_verdict(struct metrics_counts *c, const struct det_verdict *v)
{
	double s;
	int b = 0;

	if (v->kind != DET_ALERT || v->pattern >= DET_PATTERN_MAX)
		return;
	c->alerts[v->pattern]++;
	/* latency only where the root's birth starts the runaway */
	if ((v->pattern != DET_FORK_BOMB && v->pattern != DET_RECURSIVE_SPAWN &&
	     v->pattern != DET_NESTED_POOL) ||
	    v->ts_ns < v->root_start_ns)
		return;
	s = (double)(v->ts_ns - v->root_start_ns) / 1e9;
	while (b < METRICS_LATENCY_NB - 1 && s > metrics_latency_bounds[b])
		b++;
	c->latency_buckets[b]++;
	c->latency_count++;
	c->latency_sum += s;
}

struct text {
	char *buf;
	size_t len, at;
};

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->at >= t->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->at, t->len - t->at, fmt, ap);
	va_end(ap);
	t->at = n < 0 ? t->len : t->at + (size_t)n;
}

static void family(struct text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A counter family with one fixed label: a series per name, names[i] counting values[i]. */
static void counter_by(struct text *t, const char *name, const char *help, const char *label_name,
		       const char *const *names, const uint64_t *values, int n)
{
	family(t, name, "counter", help);
	for (int i = 0; i < n; i++)
		put(t, "%s{%s=\"%s\"} %llu\n", name, label_name, names[i],
		    (unsigned long long)values[i]);
}

/*
 * A label value: backslash, quote and newline escaped (exposition format),
 * and valid UTF-8 only: one bad byte in a process name would make the
 * scraper reject the whole scrape, so it becomes U+FFFD.
 */
static const char *label(const char *s, char *buf, size_t len)
{
	size_t o = 0, n = strlen(s);

	for (size_t i = 0; i < n && o + 4 < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t seq = c >= 0x80 ? utf8_seq_len((const unsigned char *)s + i, n - i) : 1;

		if (c == '\\' || c == '"') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c >= 0x80 && !seq) {
			memcpy(buf + o, "\xef\xbf\xbd", 3);
			o += 3;
			seq = 1;
		} else if (c >= 0x80) {
			memcpy(buf + o, s + i, seq);
			o += seq;
		} else if (c >= 0x20 && c != 0x7f) {
			buf[o++] = (char)c;
		}
		i += seq;
	}
	buf[o] = '\0';
	return buf;
}

/* The label set of the rank-th tree series (both tree families share it). */
static const char *tree_labels(const struct metrics_tree *tr, uint32_t rank, char *buf, size_t len)
{
	char comm[FT_COMM_LEN * 4], ns[FT_CT_NS_LEN * 4], pod[FT_CT_POD_LEN * 4];

	snprintf(buf, len,
		 "rank=\"%u\",root_pid=\"%u\",comm=\"%s\",namespace=\"%s\",pod=\"%s\","
		 "flagged=\"%s\"",
		 rank + 1, tr->root, label(tr->comm, comm, sizeof(comm)),
		 label(tr->ns, ns, sizeof(ns)), label(tr->pod, pod, sizeof(pod)),
		 tr->flagged ? "true" : "false");
	return buf;
}

size_t metrics_render(const struct metrics_sample *s, char *buf, size_t len)
{
	static const uint32_t event_types[] = { FT_EV_FORK, FT_EV_EXEC,	 FT_EV_EXIT,
						FT_EV_OOM,  FT_EV_ACTION, FT_EV_REAP,
						FT_EV_FORK_FAIL };
	struct text t = { .buf = buf, .len = len };
	char k[200], labels[FT_CT_POD_LEN * 6];
	uint64_t cum = 0;

	if (len)
		buf[0] = '\0';
	family(&t, "forktrace_build_info", "gauge", "forktrace's version and the traced kernel.");
	put(&t, "forktrace_build_info{version=\"%s\",kernel=\"%s\"} 1\n", FORKTRACE_VERSION,
	    label(s->kernel, k, sizeof(k)));
	family(&t, "forktrace_events_total", "counter",
	       "Records processed, by type (thread_* only as counted in the kernel).");
	put(&t, "forktrace_events_total{type=\"fork\"} %llu\n", (unsigned long long)s->tot.forks);
	put(&t, "forktrace_events_total{type=\"exec\"} %llu\n", (unsigned long long)s->tot.execs);
	put(&t, "forktrace_events_total{type=\"exit\"} %llu\n", (unsigned long long)s->tot.exits);
	put(&t, "forktrace_events_total{type=\"oom\"} %llu\n", (unsigned long long)s->tot.ooms);
	put(&t, "forktrace_events_total{type=\"signal\"} %llu\n",
	    (unsigned long long)s->tot.kernel_signals);
	family(&t, "forktrace_records_lost_total", "counter",
	       "Records the kernel dropped (ring buffer full), by type.");
	for (size_t i = 0; i < sizeof(event_types) / sizeof(event_types[0]); i++)
		put(&t, "forktrace_records_lost_total{type=\"%s\"} %llu\n",
		    ft_type_name(event_types[i]),
		    (unsigned long long)s->tot.lost_by_type[event_types[i]]);
	family(&t, "forktrace_fork_failures_total", "counter",
	       "Forks the kernel refused (pids.max, RLIMIT_NPROC, pid_max: EAGAIN), by errno.");
	put(&t, "forktrace_fork_failures_total{errno=\"EAGAIN\"} %llu\n",
	    (unsigned long long)s->tot.fork_failures_eagain);
	put(&t, "forktrace_fork_failures_total{errno=\"ENOMEM\"} %llu\n",
	    (unsigned long long)s->tot.fork_failures_enomem);
	put(&t, "forktrace_fork_failures_total{errno=\"other\"} %llu\n",
	    (unsigned long long)(s->tot.fork_failures - s->tot.fork_failures_eagain -
				 s->tot.fork_failures_enomem));
	family(&t, "forktrace_resyncs_total", "counter",
	       "Re-syncs of the process table from /proc after losses.");
	put(&t, "forktrace_resyncs_total %llu\n", (unsigned long long)s->tot.resyncs);
	family(&t, "forktrace_live_processes", "gauge", "Live processes in the process table.");
	put(&t, "forktrace_live_processes %u\n", s->table.live);
	family(&t, "forktrace_table_used", "gauge",
	       "Process table entries in use (live and recently exited).");
	put(&t, "forktrace_table_used %u\n", s->table.used);
	family(&t, "forktrace_table_capacity", "gauge", "Process table capacity (--table-size).");
	put(&t, "forktrace_table_capacity %u\n", s->table.capacity);
	family(&t, "forktrace_table_evictions_total", "counter",
	       "Exited processes evicted early because the table was full.");
	put(&t, "forktrace_table_evictions_total %llu\n", (unsigned long long)s->table.evicted);
	family(&t, "forktrace_table_dropped_total", "counter",
	       "Processes not tracked because the table was full of live ones.");
	put(&t, "forktrace_table_dropped_total %llu\n", (unsigned long long)s->table.dropped_full);
	family(&t, "forktrace_container_cache_entries", "gauge", "Cgroups attributed and cached.");
	put(&t, "forktrace_container_cache_entries %u\n", s->containers.entries);
	family(&t, "forktrace_container_cache_evictions_total", "counter",
	       "Cgroup attributions evicted from the bounded cache.");
	put(&t, "forktrace_container_cache_evictions_total %llu\n",
	    (unsigned long long)s->containers.evictions);
	family(&t, "forktrace_alerts_total", "counter", "Runaway alerts, by pattern and severity.");
	for (int p = 0; p < DET_PATTERN_MAX; p++)
		put(&t, "forktrace_alerts_total{pattern=\"%s\",severity=\"%s\"} %llu\n",
		    det_pattern_name(p), det_severity(p), (unsigned long long)s->counts.alerts[p]);
	family(&t, "forktrace_alerts_dropped_total", "counter",
	       "Runaway trees not flagged: the table of concurrent alerts was full.");
	put(&t, "forktrace_alerts_dropped_total %llu\n",
	    (unsigned long long)s->tot.detector_dropped_alerts);
	family(&t, "forktrace_alerts_retired_total", "counter",
	       "Alerts of live trees nothing acted on, ended early to make room for a new one.");
	put(&t, "forktrace_alerts_retired_total %llu\n",
	    (unsigned long long)s->tot.detector_retired_alerts);
	counter_by(&t, "forktrace_actions_total",
		   "Actions on flagged trees: kill and stop done, dry runs, refused, exempt.", "kind",
		   action_names, s->counts.actions, METRICS_ACTION_KINDS);
	counter_by(&t, "forktrace_settings_reloads_total",
		   "SIGHUP re-reads: applied, a bad config (settings unchanged), or the kernel's "
		   "allow rules not updated.",
		   "result", reload_names, s->counts.reloads, METRICS_RELOAD_KINDS);
	family(&t, "forktrace_kernel_allow_rules_stale", "gauge",
	       "1 while the kernel's safety check holds allow rules other than user space's "
	       "(the last re-read failed to update them).");
	put(&t, "forktrace_kernel_allow_rules_stale %d\n", s->counts.kernel_rules_stale ? 1 : 0);
	family(&t, "forktrace_processes_signalled_total", "counter",
	       "Processes signalled: by pidfd sweep and in the kernel at fork.");
	put(&t, "forktrace_processes_signalled_total %llu\n",
	    (unsigned long long)(s->tot.signals + s->tot.kernel_signals));
	family(&t, "forktrace_detection_latency_seconds", "histogram",
	       "From a runaway root's start to its alert.");
	for (int b = 0; b < METRICS_LATENCY_NB; b++) {
		cum += s->counts.latency_buckets[b];
		if (b < METRICS_LATENCY_NB - 1)
			put(&t, "forktrace_detection_latency_seconds_bucket{le=\"%g\"} %llu\n",
			    metrics_latency_bounds[b], (unsigned long long)cum);
		else
			put(&t, "forktrace_detection_latency_seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	put(&t, "forktrace_detection_latency_seconds_sum %g\n", s->counts.latency_sum);
	put(&t, "forktrace_detection_latency_seconds_count %llu\n",
	    (unsigned long long)s->counts.latency_count);
	family(&t, "forktrace_tree_live_tasks", "gauge",
	       "Live processes of the fastest-growing trees (top 10, flagged first).");
	for (uint32_t i = 0; i < s->ntrees; i++)
		put(&t, "forktrace_tree_live_tasks{%s} %u\n",
		    tree_labels(&s->trees[i], i, labels, sizeof(labels)), s->trees[i].live);
	family(&t, "forktrace_tree_births_per_second", "gauge",
	       "Births per second in the same trees (0 for flagged trees).");
	for (uint32_t i = 0; i < s->ntrees; i++)
		put(&t, "forktrace_tree_births_per_second{%s} %g\n",
		    tree_labels(&s->trees[i], i, labels, sizeof(labels)), s->trees[i].births_per_s);
	return t.at < len ? t.at : len;
}

/* --- the server ------------------------------------------------------------ */

/* One open connection, in the server's thread only. */
struct conn {
	struct conn *prev, *next; /* oldest first: by since_ns */
	int fd;
	uint64_t since_ns; /* accepted, or its last request answered */
	bool cut;	   /* shut down: libmicrohttpd closes it on its next run */
};

struct metrics_server {
	struct MHD_Daemon *daemon; /* the server's thread only */
	pthread_t thread;
	struct sockaddr_storage addr;
	pthread_mutex_t lock; /* text, len and the start handshake */
	pthread_cond_t started;
	int state; /* 0 starting, 1 serving, -1 failed (err says why) */
	char err[256];
	char *text; /* the last published exposition */
	size_t len;
	_Atomic uint64_t last_read_ns;
	atomic_bool stop;
	struct conn *oldest, *newest; /* the server's thread only */
	uint32_t open;		      /* connections not cut */
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     const char *body, size_t len)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_len, void **state)
{
	static const char text_type[] = "text/plain; version=0.0.4; charset=utf-8";
	struct metrics_server *m = cls;
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	if (!strcmp(url, "/healthz")) {
		uint64_t last = atomic_load(&m->last_read_ns), now = procfs_boot_ns();

		if (last && now - last <= METRICS_HEALTH_MAX_NS)
			return reply(c, MHD_HTTP_OK, "text/plain", "ok\n", 3);
		return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
			     "ring buffer not read\n", 21);
	}
	if (strcmp(url, "/metrics"))
		return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "try /metrics or /healthz\n", 25);
	pthread_mutex_lock(&m->lock);
	if (m->text) {
		/* the reader's age is the scrape's, not the last render's */
		uint64_t last = atomic_load(&m->last_read_ns), now = procfs_boot_ns();
		size_t cap = m->len + 256;
		char *body = malloc(cap);
		int n;

		if (!body) {
			pthread_mutex_unlock(&m->lock);
			return MHD_NO;
		}
		memcpy(body, m->text, m->len);
		n = snprintf(body + m->len, cap - m->len,
			     "# HELP forktrace_ring_read_age_seconds Seconds since the ring "
			     "buffer was last read (/healthz fails above %llu).\n"
			     "# TYPE forktrace_ring_read_age_seconds gauge\n"
			     "forktrace_ring_read_age_seconds %.3f\n",
			     METRICS_HEALTH_MAX_NS / 1000000000ull,
			     last && now > last ? (double)(now - last) / 1e9 : 0.0);
		if (n < 0 || (size_t)n >= cap - m->len)
			n = 0;
		ret = reply(c, MHD_HTTP_OK, text_type, body, m->len + (size_t)n);
		free(body);
	} else {
		ret = reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain", "starting\n", 9);
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int parse_addr(const char *addr, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	unsigned long port;
	char *end;
	size_t hl;

	if (!colon || colon == addr)
		goto bad;
	port = strtoul(colon + 1, &end, 10);
	hl = (size_t)(colon - addr);
	if (*end || end == colon + 1 || !port || port > 65535 || hl >= sizeof(host))
		goto bad;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	/* IPv6 as [addr]:port, or bare (the DaemonSet's $(POD_IP):port) */
	if ((host[0] == '[' && host[hl - 1] == ']') || strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		bool bracketed = host[0] == '[';

		if (bracketed)
			host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + bracketed, &s6->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "--metrics %s: want ADDR:PORT (127.0.0.1:9465, [::1]:9465)", addr);
	return -1;
}

static void conn_unlink(struct metrics_server *m, struct conn *k)
{
	if (k->prev)
		k->prev->next = k->next;
	else
		m->oldest = k->next;
	if (k->next)
		k->next->prev = k->prev;
	else
		m->newest = k->prev;
	k->prev = k->next = NULL;
}

static void conn_append(struct metrics_server *m, struct conn *k)
{
	k->prev = m->newest;
	k->next = NULL;
	if (m->newest)
		m->newest->next = k;
	else
		m->oldest = k;
	m->newest = k;
}

/*
 * shutdown(), not close(): the descriptor stays libmicrohttpd's, which sees
 * the end of the stream on its next run and closes the connection itself
 * (and tells on_connection).  Called in the server's thread, between runs,
 * so the descriptor is still this connection's.
 */
static void conn_cut(struct metrics_server *m, struct conn *k)
{
	if (k->cut)
		return;
	shutdown(k->fd, SHUT_RDWR);
	k->cut = true;
	m->open--;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	struct metrics_server *m = cls;
	struct conn *k = *socket_ctx;
	const union MHD_ConnectionInfo *info;

	if (code != MHD_CONNECTION_NOTIFY_STARTED) {
		if (!k)
			return;
		if (!k->cut)
			m->open--;
		conn_unlink(m, k);
		free(k);
		*socket_ctx = NULL;
		return;
	}
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info)
		return; /* untracked: libmicrohttpd's idle timeout still ends it */
	k = calloc(1, sizeof(*k));
	if (!k) {
		/* a connection no deadline can reach must not stay */
		shutdown(info->connect_fd, SHUT_RDWR);
		return;
	}
	k->fd = info->connect_fd;
	k->since_ns = procfs_boot_ns();
	conn_append(m, k);
	*socket_ctx = k;
	m->open++;
	/* full of clients that do not finish: the newest gets in, the oldest
	 * goes (an honest request is answered long before it is the oldest) */
	for (struct conn *o = m->oldest; o && m->open > METRICS_EVICT_AT; o = o->next)
		if (o != k)
			conn_cut(m, o);
}

/* A request answered: the connection's next one gets a deadline of its own. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_ctx,
			 enum MHD_RequestTerminationCode code)
{
	struct metrics_server *m = cls;
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *k = info ? info->socket_context : NULL;

	if (!k || k->cut || code != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		return;
	conn_unlink(m, k);
	k->since_ns = procfs_boot_ns();
	conn_append(m, k);
}

/* Every connection past its deadline: oldest first, so stop at the first in time. */
static void cut_overdue(struct metrics_server *m, uint64_t now)
{
	for (struct conn *k = m->oldest; k && now - k->since_ns >= METRICS_REQUEST_NS; k = k->next)
		conn_cut(m, k);
}

static int serve_start(struct metrics_server *m)
{
	/* no thread of libmicrohttpd's own: this one runs it, so the deadlines
	 * are checked between its runs, on the same connections, without locks */
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (m->addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (privs_drop_thread(true, m->err, sizeof(m->err)))
		return -1;
	m->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&m->addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_MAX_CONNS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_PER_IP,
	    /* a backstop only: the deadline above cuts sooner */
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)(2 * METRICS_REQUEST_NS / 1000000000ull),
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, m, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, m, MHD_OPTION_END);
	if (!m->daemon) {
		snprintf(m->err, sizeof(m->err), "cannot listen (%s)",
			 errno ? strerror(errno) : "libmicrohttpd failed");
		return -1;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct metrics_server *m = arg;
	int ok;

	pthread_setname_np(pthread_self(), "ft-http");
	ok = serve_start(m) == 0;
	pthread_mutex_lock(&m->lock);
	m->state = ok ? 1 : -1;
	pthread_cond_signal(&m->started);
	pthread_mutex_unlock(&m->lock);
	if (!ok)
		return NULL;
	while (!atomic_load(&m->stop)) {
		/* at most METRICS_TICK_MS between two deadline checks */
		if (MHD_run_wait(m->daemon, METRICS_TICK_MS) != MHD_YES) {
			struct timespec ts = { 0, METRICS_TICK_MS * 1000000L };

			nanosleep(&ts, NULL); /* an epoll failure: do not spin */
		}
		cut_overdue(m, procfs_boot_ns());
	}
	MHD_stop_daemon(m->daemon); /* closes every connection: on_connection frees each */
	return NULL;
}

int metrics_start(const char *addr, struct metrics_server **out, char *err, size_t errlen)
{
	struct metrics_server *m;
	pthread_attr_t attr;
	sigset_t all, old;
	int e;

	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (parse_addr(addr, &m->addr, err, errlen)) {
		free(m);
		return -1;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->started, NULL);
	atomic_init(&m->stop, false);
	/* signals are the main loop's: it must wake from its poll for them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 512 * 1024);
	e = pthread_create(&m->thread, &attr, serve, m);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "--metrics %s: cannot start its thread: %s", addr,
			 strerror(e));
		goto fail;
	}
	pthread_mutex_lock(&m->lock);
	while (!m->state)
		pthread_cond_wait(&m->started, &m->lock);
	pthread_mutex_unlock(&m->lock);
	if (m->state < 0) {
		pthread_join(m->thread, NULL);
		snprintf(err, errlen, "--metrics %s: %s", addr, m->err);
		goto fail;
	}
	*out = m;
	return 0;
fail:
	pthread_cond_destroy(&m->started);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return -1;
}

void metrics_stop(struct metrics_server *m)
{
	if (!m)
		return;
	atomic_store(&m->stop, true);
	pthread_join(m->thread, NULL);
	pthread_cond_destroy(&m->started);
	pthread_mutex_destroy(&m->lock);
	free(m->text);
	free(m);
}

int metrics_publish(struct metrics_server *m, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&m->lock);
	free(m->text);
	m->text = copy;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
	return 0;
}

void metrics_heartbeat(struct metrics_server *m, uint64_t now_ns)
{
	atomic_store(&m->last_read_ns, now_ns);
}
