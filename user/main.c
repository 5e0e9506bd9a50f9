// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * forktrace: trace process creation, exec, exit and OOM kills with eBPF,
 * rebuild the fork trees, record and replay the stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <bpf/libbpf.h>
#include "live/cgroup.h"
#include "cli.h"
#include "core/container.h"
#include "live/container_node.h"
#include "core/detector.h"
#include "present/health.h"
#include "present/metrics.h"
#include "contain/policy.h"
#include "pipeline.h"
#include "live/privs.h"
#include "live/procfs.h"
#include "core/recording.h"
#include "front/report.h"
#include "live/source_live.h"
#include "front/topview.h"

#define STATS_INTERVAL_NS   200000000ull /* how often kernel loss counters are read */
#define POLL_TIMEOUT_MS	    50
#define VMLINUX_BTF	    "/sys/kernel/btf/vmlinux"
#define METRICS_INTERVAL_NS 1000000000ull /* how often the metrics text is rendered */
#define METRICS_TEXT_MAX    (256 * 1024)

static volatile sig_atomic_t exiting, reload;



static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return vfprintf(stderr, fmt, args);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload = 1;
	else
		exiting = 1;
}

static void on_hangup_quit(int sig)
{
	exiting = 1;
}

/* hangup_quits: the live view's terminal went away (ssh dropped): end,
 * rather than run on unseen; elsewhere SIGHUP re-reads the settings */
static int install_signals(bool hangup_quits)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction hup = { .sa_handler = hangup_quits ? on_hangup_quit : on_signal };

	sigemptyset(&sa.sa_mask);
	sigemptyset(&hup.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGHUP, &hup, NULL))
		return -1;
	signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as a write error */
	return 0;
}

static struct pipeline_opts pipeline_options(const struct cli_opts *c)
{
	struct pipeline_opts po = {
		.root_pid = c->pid,
		.table_capacity = c->table_capacity,
		.grace_ns = c->grace_ns,
		.write_path = c->write_path,
		.detect = c->detect,
		/* a replay takes the recording's settings unless told others */
		.settings_fixed = c->config_path || c->nsets,
		.policy = c->policy,
		.no_detect = c->no_detect,
	};
	return po;
}

/*
 * The lines (human or JSON) into f, as the pipeline's first observer; NULL
 * with a reason in err if there is no memory for them.
 */
static struct output *observe_lines(const struct cli_opts *c, FILE *f,
				    const struct ft_run_info *info, struct pipeline *p, char *err,
				    size_t errlen)
{
	const struct output_shows shows = {
		.alerts_only = c->alerts_only,
		.agent = c->agent,
		.threads = c->threads,
		.tree = c->tree,
	};
	struct output *o = pipeline_add_lines(p, f, c->json ? OUT_JSON : OUT_HUMAN, info, &shows);

	if (!o) {
		snprintf(err, errlen, "no memory or no room for the output");
		return NULL;
	}
	output_set_verbose(o, c->verbose);
	output_set_signal_lines(o, !c->agent);
	return o;
}

/* The live actuator: BPF maps for the kernel path, pidfds for the sweep. */
static int act_flag_tree(void *ctx, uint32_t tree, uint32_t sig)
{
	return live_set_tree_signal(ctx, tree, sig);
}

static int act_add_member(void *ctx, uint32_t tgid, uint64_t start_ticks, uint32_t tree)
{
	return live_add_member(ctx, tgid, start_ticks, tree);
}

static int act_signal(void *ctx, uint32_t pid, uint64_t start_ticks, int sig)
{
	return policy_signal_pidfd(pid, start_ticks, sig);
}

static char act_state(void *ctx, uint32_t pid, uint64_t start_ticks)
{
	return policy_proc_state(pid, start_ticks);
}

static bool act_in_cgroup(void *ctx, uint32_t pid, const char *path)
{
	return policy_proc_in_cgroup(pid, path);
}

static int act_exe(void *ctx, uint32_t pid, uint64_t start_ticks, char *path, size_t len,
		   uint64_t *dev, uint64_t *ino)
{
	return policy_proc_exe(pid, start_ticks, path, len, dev, ino);
}

static bool act_in_unit(void *ctx, uint32_t pid, const char *unit)
{
	return policy_proc_in_unit(pid, unit);
}

/*
 * A fork bomb saturates every CPU with runnable tasks; a tracer at normal
 * priority then reads its records seconds late and acts on a tree already
 * at its cap.  Acting needs the CPU first: real-time round robin at a low
 * priority when --kill/--stop (it sleeps in epoll otherwise, and RT
 * throttling bounds any mistake), the best nice value when observing.
 * Memory is locked so a host under memory pressure does not page it out.
 */
static bool claim_priority(bool acting)
{
	struct sched_param sp = { .sched_priority = 10 };
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };

	if (!acting || sched_setscheduler(0, SCHED_RR, &sp))
		setpriority(PRIO_PROCESS, 0, -20);
	/* MCL_FUTURE makes every later allocation a locked one: without a
	 * limit, they keep working once CAP_IPC_LOCK is dropped (privs.h) */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	/* on fault: the tables' untouched slots stay unallocated (idle RSS),
	 * every page in use stays in memory */
	return !mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) ||
	       !mlockall(MCL_CURRENT | MCL_FUTURE);
}

/* -o FILE: appended to, a line at a time (a log shipper reads it live) */
static int open_output(const char *path, FILE **out, FILE **lines, char *err, size_t errlen)
{
	*out = fopen(path, "ae");
	if (!*out) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(*out, NULL, _IOLBF, 0);
	*lines = *out;
	return 0;
}

static int replay(const struct cli_opts *c)
{
	struct pipeline_opts po = pipeline_options(c);
	struct pipeline *p = NULL;
	struct output *presenter = NULL;
	struct ft_reader *r = NULL;
	struct ft_run_info info;
	union ft_record rec;
	char err[512] = "", rerr[512] = "";
	uint64_t last_ts = 0;
	FILE *out = NULL, *lines = stdout;
	int ret = 1, got;

	if (c->output_path && open_output(c->output_path, &out, &lines, err, sizeof(err)))
		goto cleanup;
	if (ft_reader_open(c->read_path, &info, &r, err, sizeof(err)))
		goto cleanup;
	if (pipeline_new(&po, &info, &p, err, sizeof(err)))
		goto cleanup;
	presenter = observe_lines(c, lines, &info, p, err, sizeof(err));
	if (!presenter)
		goto cleanup;
	pipeline_start(p, "replay", (uint32_t)getpid());
	while (!exiting && (got = ft_reader_next(r, &rec, rerr, sizeof(rerr))) > 0) {
		if (rec.h.ts_ns > last_ts)
			last_ts = rec.h.ts_ns;
		if (pipeline_feed(p, &rec))
			break;
	}
	if (pipeline_finish(p, last_ts, err, sizeof(err)))
		goto cleanup;
	if (pipeline_error(p))
		snprintf(err, sizeof(err), "%s", pipeline_error(p));
	else if (rerr[0])
		snprintf(err, sizeof(err), "%s", rerr); /* after printing what was good */
	else
		ret = 0;
cleanup:
	fflush(lines);
	if (ferror(lines) && ret == 0) {
		snprintf(err, sizeof(err), "writing output: %s", strerror(errno));
		ret = 1;
	}
	if (err[0])
		fprintf(stderr, "forktrace: %s\n", err);
	pipeline_free(p);
	output_free(presenter);
	ft_reader_close(r);
	if (out)
		fclose(out);
	return ret;
}

/* --container/--pod: the directory -c would have named */
static int scope_cgroup(const struct cli_opts *c, const struct ct_node *node, char *path, size_t len,
			char *err, size_t errlen)
{
	if (c->container_id)
		return ct_container_cgroup(node, c->container_id, path, len, err, errlen);
	if (c->pod)
		return ct_pod_cgroup(node, c->pod, path, len, err, errlen);
	snprintf(path, len, "%s", c->cgroup_path ? c->cgroup_path : "");
	return 0;
}

/* Render the metrics text and hand it to the server's thread. */
static void publish_metrics(struct metrics_server *m, struct pipeline *p, const char *kernel,
			    uint64_t now, char *text)
{
	struct metrics_sample *sample = calloc(1, sizeof(*sample));
	size_t n;

	if (!sample)
		return;
	sample->kernel = kernel;
	pipeline_sample(p, now, sample);
	n = metrics_render(sample, text, METRICS_TEXT_MAX);
	if (metrics_publish(m, text, n))
		fprintf(stderr, "forktrace: metrics: out of memory\n");
	free(sample);
}

/*
 * SIGHUP and -o FILE: write to a new FILE from now on (log rotation moved
 * the old one away).  The same stream and descriptor, so nothing that holds
 * them notices; if the file cannot be opened, the old one stays.
 */
static void reopen_output(const char *path, FILE *out)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "forktrace: SIGHUP: cannot reopen %s: %s (still writing the old)\n",
			path, strerror(errno));
		return;
	}
	fflush(out);
	if (dup3(fd, fileno(out), O_CLOEXEC) < 0)
		fprintf(stderr, "forktrace: SIGHUP: cannot reopen %s: %s\n", path, strerror(errno));
	close(fd);
}

/*
 * SIGHUP: --config again; a bad file keeps the settings running now.  The
 * allow rules reach the kernel's safety check too, so that what user space
 * spares the kernel spares (--guard, the fork-time signals).
 */
static void reload_settings(const struct cli_opts *c, struct pipeline *p, struct live_source *src)
{
	struct policy_opts policy = c->policy;
	struct live_safety_rules *rules;
	struct det_config detect;
	enum metrics_reload outcome = MR_APPLIED;
	char err[512];

	if (cli_load_settings(c, &detect, &policy, err, sizeof(err))) {
		fprintf(stderr, "forktrace: SIGHUP: %s (settings unchanged)\n", err);
		pipeline_count_reload(p, MR_BAD_CONFIG);
		return;
	}
	pipeline_reconfigure(p, &detect, &policy);
	pipeline_note_settings(p, procfs_boot_ns());
	if (!live_follows_rules(src))
		goto done; /* observing: no kernel rules to resolve or write */
	rules = calloc(1, sizeof(*rules));
	if (!rules) {
		fprintf(stderr, "forktrace: SIGHUP: out of memory: the kernel keeps its allow "
				"rules (user space's changed)\n");
		outcome = MR_KERNEL_RULES_FAILED;
	} else {
		policy_kernel_rules(&policy, rules);
		if (live_set_safety(src, rules, err, sizeof(err))) {
			fprintf(stderr, "forktrace: SIGHUP: the kernel's allow rules: %s (user "
					"space's changed; the kernel holds the old rules or the new, "
					"in part, until a re-read succeeds)\n", err);
			outcome = MR_KERNEL_RULES_FAILED;
		}
		free(rules);
	}
done:
	pipeline_count_reload(p, outcome);
	fprintf(stderr, "forktrace: SIGHUP: settings re-read%s%s\n", c->config_path ? " from " : "",
		c->config_path ? c->config_path : "");
}

static int trace_live(struct cli_opts *c)
{
	struct pipeline_opts po = pipeline_options(c);
	struct live_opts lo = {
		.threads = c->threads,
		.attach = c->attach,
		/*
		 * Named even by default: without a file, libbpf also reads the
		 * modules' BTF, listed by BPF_BTF_GET_NEXT_ID, which needs
		 * CAP_SYS_ADMIN; every type forktrace relocates is vmlinux's.
		 */
		.btf_path = c->btf_path			     ? c->btf_path
			    : access(VMLINUX_BTF, R_OK) == 0 ? VMLINUX_BTF
							     : NULL,
		.ring_bytes = c->ring_bytes,
		.members_max = c->members_max,
		/* acting: every record may be the one that flags a tree, so wake
		 * the reader as soon as it is idle (unless told otherwise) */
		.wakeup_bytes =
		    c->policy.mode != POLICY_OBSERVE && !c->wakeup_set ? 0 : c->wakeup_bytes,
		/* the live view's k and s act through the kernel too, but load
		 * it at the first of them: observing pays nothing per fork */
		.load_containment = c->policy.mode != POLICY_OBSERVE && !c->policy.dry_run,
		.guard_forks = c->policy.dry_run ? 0 : c->guard_forks,
		.guard_window_ns = 1000000000ull,
		.guard_sig = SIGKILL,
		.noop = c->noop,
	};
	struct policy_ops ops = {
		.flag_tree = act_flag_tree,
		.add_member = act_add_member,
		.signal = act_signal,
		.state = act_state,
		.in_cgroup = act_in_cgroup,
		.exe = act_exe,
		.in_unit = act_in_unit,
	};
	uint64_t stats[FT_STAT_MAX], deadline = 0, next_stats = 0, next_metrics = 0, now;
	struct metrics_server *metrics = NULL;
	struct health heartbeat = { .fd = -1 };
	struct topview *view = NULL;
	struct live_safety_rules *safety = NULL;
	struct live_source *src = NULL;
	struct pipeline *p = NULL;
	struct output *presenter = NULL;
	struct ct_node *node = NULL;
	struct ft_run_info info;
	char err[512] = "", scope[PATH_MAX] = "", *metrics_text = NULL;
	FILE *out = NULL, *lines = stdout;
	int ret = 1, n = 0;
	bool busy = false;

	if (c->pid && kill((pid_t)c->pid, 0) && errno == ESRCH) {
		snprintf(err, sizeof(err), "-p %u: no such process", c->pid);
		goto cleanup;
	}
	node = calloc(1, sizeof(*node));
	if (!node) {
		snprintf(err, sizeof(err), "out of memory");
		goto cleanup;
	}
	if (ct_node_init(node, c->host_root, err, sizeof(err)) ||
	    scope_cgroup(c, node, scope, sizeof(scope), err, sizeof(err)))
		goto cleanup;
	if (scope[0] && cgroup_resolve(scope, &lo.cgroup, err, sizeof(err)))
		goto cleanup;
	po.containers = node;
	if (c->proc_root) {
		struct stat st;

		if (stat(c->proc_root, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, sizeof(err), "--proc %s: not a directory", c->proc_root);
			goto cleanup;
		}
		po.proc_root = c->proc_root;
	}
	if (c->output_path && open_output(c->output_path, &out, &lines, err, sizeof(err)))
		goto cleanup;
	/* the view draws the screen: no lines */
	if (c->top)
		lines = NULL;
	if (lo.load_containment || c->top) {
		safety = calloc(1, sizeof(*safety));
		if (!safety) {
			snprintf(err, sizeof(err), "out of memory");
			goto cleanup;
		}
		policy_kernel_rules(&c->policy, safety);
		lo.safety = safety;
	}
	if (live_open(&lo, &src, &info, err, sizeof(err)))
		goto cleanup;
	ops.ctx = src;
	po.host_limits = true;
	if (c->policy.mode != POLICY_OBSERVE || c->top)
		po.actuator = &ops;
	if (pipeline_new(&po, &info, &p, err, sizeof(err)))
		goto cleanup;
	if (lines && !(presenter = observe_lines(c, lines, &info, p, err, sizeof(err))))
		goto cleanup;
	if (c->heartbeat_path && health_open(c->heartbeat_path, &heartbeat, err, sizeof(err)))
		goto cleanup;
	/* real-time for verdicts that act; the view's keys wait for a person */
	c->privs.memory_locked = claim_priority(c->policy.mode != POLICY_OBSERVE);
	/* attached, files and port open: what is left needs far less */
	/*
	 * Refused forks: attached now or never, as attaching takes the
	 * privileges dropped below (perf_event_open).  Without them (a kernel
	 * without syscall tracepoints, a container without tracefs or
	 * CAP_PERFMON) forktrace runs on, and says so.
	 */
	if (!c->no_refusals && live_trace_refusals(src, true) < 0)
		fprintf(stderr, "forktrace: refused forks are not traced: %s\n", strerror(errno));
	c->privs.signals = lo.load_containment || c->top;
	/* the view loads containment at its first k or s, after the drop */
	c->privs.bpf_load = c->top && !lo.load_containment;
	c->privs.bpf_probe = live_probe_maps;
	c->privs.probe_ctx = src;
	if (privs_drop(&c->privs, err, sizeof(err)))
		goto cleanup;
	/* after the drop: capabilities and no-new-privs are per thread, and
	 * the server's thread is the one that faces the network */
	if (c->metrics_addr) {
		metrics_text = malloc(METRICS_TEXT_MAX);
		if (!metrics_text) {
			snprintf(err, sizeof(err), "out of memory");
			goto cleanup;
		}
		if (metrics_start(c->metrics_addr, &metrics, err, sizeof(err)))
			goto cleanup;
	}
	if (c->verbose) {
		char caps[256];

		privs_describe(caps, sizeof(caps));
		fprintf(stderr, "forktrace: running as uid %u with %s\n", (unsigned)getuid(), caps);
	}
	/* every program is attached: say so, then learn who was already running */
	now = procfs_boot_ns();
	if (metrics) /* healthy from here on, while the loop reads */
		metrics_heartbeat(metrics, now);
	health_beat(&heartbeat, now);
	pipeline_start(p, "live", (uint32_t)getpid());
	pipeline_note_settings(p, now);
	if (procfs_snapshot(c->proc_root, now, 0, pipeline_feed, p) < 0) {
		snprintf(err, sizeof(err), "cannot read %s: %s", c->proc_root ? c->proc_root : "/proc",
			 strerror(errno));
		goto cleanup;
	}
	if (c->privs.user_set) {
		/*
		 * kill(2) lets any process of forktrace's uid signal it (SIGSTOP
		 * freezes every verdict): --user wants a uid of its own
		 */
		uint32_t one = 0,
			 sharing = pipeline_count_uid(p, c->privs.uid, (uint32_t)getpid(), &one);

		if (sharing)
			fprintf(stderr,
				"forktrace: --user %u: %u other process%s run%s as this uid (pid "
				"%u among them): they may be able to signal forktrace; give it a "
				"uid of its own\n",
				(unsigned)c->privs.uid, sharing, sharing == 1 ? "" : "es",
				sharing == 1 ? "s" : "", one);
	}
	if (c->pid && !pipeline_root_known(p)) {
		snprintf(err, sizeof(err), "-p %u: process exited before tracing started", c->pid);
		goto cleanup;
	}
	{
		/* reaps are traced from here on (a reap of pid 0, in the stream
		 * and its recording): an exited child is a zombie until its reap
		 * record comes, however quiet the host */
		struct ft_reap traced = { .h = { .type = FT_EV_REAP, .size = sizeof(traced),
						 .ts_ns = now } };

		pipeline_feed(p, (const union ft_record *)&traced);
	}
	if (c->duration_s > 0)
		deadline = now + (uint64_t)(c->duration_s * 1e9);
	if (c->top) {
		struct topview_opts vo = {
			.mode = c->policy.mode == POLICY_OBSERVE ? "observe"
				: c->policy.dry_run
				    ? (c->policy.mode == POLICY_KILL ? "kill (dry run)"
								     : "stop (dry run)")
				: c->policy.mode == POLICY_KILL ? "kill"
								: "stop",
			.host = info.host,
			.can_act = true,
		};

		if (topview_open(&vo, p, &view, err, sizeof(err)))
			goto cleanup;
	}
	while (!exiting && !pipeline_error(p)) {
		/* while a tree is being swept, come back every few ms; after
		 * a full budget, read on at once (more is queued) */
		n = live_poll(src, n >= LIVE_POLL_RECORDS ? 0 : busy ? 2 : POLL_TIMEOUT_MS,
			      pipeline_feed, p);
		if (n < 0 && n != -EINTR) {
			snprintf(err, sizeof(err), "reading the ring buffer: %s", strerror(-n));
			goto cleanup;
		}
		now = procfs_boot_ns();
		busy = pipeline_tick(p, now);
		if (lines)
			fflush(lines);

		if (now >= next_stats) {
			next_stats = now + STATS_INTERVAL_NS;
			/* losses first get their LOST records, then /proc fills the gap */
			if (live_read_stats(src, stats) == 0 &&
			    pipeline_note_kernel_stats(p, stats, now) && pipeline_resync(p, now))
				fprintf(stderr, "forktrace: re-sync from /proc failed: %s\n",
					strerror(errno));
		}
		if (reload) {
			reload = 0;
			/* what the ring holds from before the SIGHUP is judged by
			 * the settings it happened under (an interrupted poll may
			 * have read nothing); one budget of records at most */
			(void)live_poll(src, 0, pipeline_feed, p);
			reload_settings(c, p, src);
			if (out && c->output_path)
				reopen_output(c->output_path, out);
		}
		health_beat(&heartbeat, now);
		if (metrics) {
			metrics_heartbeat(metrics, now);
			if (now >= next_metrics) {
				next_metrics = now + METRICS_INTERVAL_NS;
				publish_metrics(metrics, p, info.kernel, now, metrics_text);
			}
		}
		if (view && topview_tick(view, now))
			break;
		if (deadline && now >= deadline)
			break;
	}
	/*
	 * Drain what the kernel queued before we stopped, then one last tick:
	 * what the records so far decide (a swept tree found empty, an
	 * action's outcome) is in the output when we exit, so whoever stops us
	 * right after an event needs no grace period to see its consequences.
	 */
	for (uint32_t round = 0, rounds = lo.ring_bytes / 64 / LIVE_POLL_RECORDS + 1;
	     round < rounds && live_poll(src, 0, pipeline_feed, p) >= LIVE_POLL_RECORDS; round++)
		; /* a full ring's worth of the smallest records, and no more */
	now = procfs_boot_ns();
	if (live_read_stats(src, stats) == 0) {
		if (pipeline_note_kernel_stats(p, stats, now))
			pipeline_resync(p, now);
		pipeline_note_counters(p, stats, now);
	}
	/* not on a table the run stopped updating (a failed -w write) */
	if (!pipeline_error(p))
		pipeline_tick(p, now);
	if (pipeline_finish(p, now, err, sizeof(err)))
		goto cleanup;
	if (pipeline_error(p)) {
		snprintf(err, sizeof(err), "%s", pipeline_error(p));
		goto cleanup;
	}
	ret = 0;
cleanup:
	/* the terminal back first: what follows is printed on it */
	topview_close(view);
	if (lines)
		fflush(lines);
	if (lines && ferror(lines) && ret == 0) {
		snprintf(err, sizeof(err), "writing output: %s", strerror(errno));
		ret = 1;
	}
	if (err[0])
		fprintf(stderr, "forktrace: %s\n", err);
	/* what the view's first k or s cost (its screen was no place to say) */
	if (src && live_containment_load_ns(src) >= 0)
		fprintf(stderr, "forktrace: containment loaded on demand in %.1f ms\n",
			(double)live_containment_load_ns(src) / 1e6);
	else if (src && live_containment_error(src))
		fprintf(stderr, "forktrace: containment in the kernel unavailable: %s\n",
			live_containment_error(src));
	pipeline_free(p);
	output_free(presenter);
	metrics_stop(metrics);
	health_close(&heartbeat);
	live_close(src);
	free(metrics_text);
	free(safety);
	free(node);
	if (out)
		fclose(out);
	return ret;
}

int main(int argc, char **argv)
{
	struct cli_opts c;

	if (argc > 1 && !strcmp(argv[1], "report")) {
		argv[1] = "forktrace report"; /* how its messages name it */
		return report_main(argc - 1, argv + 1);
	}
	if (cli_parse(argc, argv, &c))
		return 2;
	/* the kubelet's exec probe: nothing else is started */
	if (c.health_check_path)
		return health_check(c.health_check_path, procfs_boot_ns(), METRICS_HEALTH_MAX_NS,
				    stderr);
	libbpf_set_print(c.verbose ? libbpf_print : NULL);
	/*
	 * Before anything slow: a SIGINT during the BPF load must end the run
	 * cleanly, and a shell starts background jobs with SIGINT ignored, so
	 * until the handler is in place an early SIGINT would be lost.
	 */
	if (install_signals(c.top)) {
		fprintf(stderr, "forktrace: cannot install signal handlers: %s\n", strerror(errno));
		return 1;
	}
	return c.read_path ? replay(&c) : trace_live(&c);
}
