// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * contain: run a command inside a fresh pids cgroup capped at <= 2000
 * tasks, with a hard timeout, then kill every task left in that cgroup and
 * remove it.  Every workload in forktrace's tests and benchmarks that forks
 * more than a handful of processes runs under this helper.
 *
 *   contain [-m MAX] [-t SEC] [--mem BYTES] [--wait-all] [--go-file PATH]
 *           [--cgroup-file PATH] [--report PATH] -- CMD [ARG...]
 *   contain --sweep        kill and remove cgroups left by a crashed run
 *
 * Works on hybrid hosts (v1 pids controller) and pure cgroup2 hosts.  The
 * cgroups are created under the caller's own cgroup where the hierarchy
 * allows it, so a sandbox's limits keep applying.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define MAX_TASKS_CAP 2000
#define PREFIX	      "forktrace-contain-"
#define CG_PATH_MAX   (PATH_MAX * 2 + 320)

static volatile sig_atomic_t interrupted;

struct hier {
	char dir[CG_PATH_MAX]; /* the cgroup we created ("" if none) */
	bool v2;
};

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "contain: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(125);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[CG_PATH_MAX + 64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -1;
	close(fd);
	return ret;
}

static long read_long(const char *dir, const char *name, const char *key)
{
	char path[CG_PATH_MAX + 64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = key ? strstr(buf, key) : buf;
	return p ? strtol(p + (key ? strlen(key) : 0), NULL, 10) : -1;
}

/* Mount point of a v1 hierarchy with this controller, or of cgroup2. */
static bool find_mount(const char *controller, char *out, size_t len)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], fstype[64], opts[512];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %511s", fstype, opts) != 2)
			continue;
		if (controller && !strcmp(fstype, "cgroup")) {
			for (char *save, *t = strtok_r(opts, ",", &save); t;
			     t = strtok_r(NULL, ",", &save))
				if (!strcmp(t, controller))
					found = true;
		} else if (!controller && !strcmp(fstype, "cgroup2")) {
			found = true;
		}
		if (found)
			snprintf(out, len, "%s", mnt);
	}
	fclose(f);
	return found;
}

/* Our own cgroup path in a v1 hierarchy ("pids") or cgroup2 (NULL). */
static void own_path(const char *controller, char *out, size_t len)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");

	snprintf(out, len, "/");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *ctrls = strchr(line, ':'), *path;

		if (!ctrls || !(path = strchr(ctrls + 1, ':')))
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		ctrls++;
		if (controller ? strstr(ctrls, controller) != NULL : !*ctrls) {
			bool match = !controller;

			for (char *save, *t = strtok_r(ctrls, ",", &save); t && !match;
			     t = strtok_r(NULL, ",", &save))
				match = !strcmp(t, controller);
			if (match)
				snprintf(out, len, "%s", path);
		}
	}
	fclose(f);
}

static bool v2_has(const char *dir, const char *file, const char *controller)
{
	char path[CG_PATH_MAX + 64], buf[512];
	FILE *f;
	bool yes = false;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f))
		for (char *save, *t = strtok_r(buf, " \n", &save); t;
		     t = strtok_r(NULL, " \n", &save))
			yes |= !strcmp(t, controller);
	fclose(f);
	return yes;
}

/* Create our cgroup for a controller; the v1 hierarchy wins on hybrid hosts. */
static bool make_cgroup(const char *controller, const char *name, struct hier *h)
{
	char mnt[PATH_MAX], own[PATH_MAX], base[PATH_MAX * 2];

	h->dir[0] = '\0';
	if (find_mount(controller, mnt, sizeof(mnt))) {
		own_path(controller, own, sizeof(own));
		snprintf(base, sizeof(base), "%s%s", mnt, strcmp(own, "/") ? own : "");
		h->v2 = false;
	} else if (find_mount(NULL, mnt, sizeof(mnt)) &&
		   v2_has(mnt, "cgroup.controllers", controller)) {
		/* cgroup2: controllers live only in leaves; use the root's child */
		snprintf(base, sizeof(base), "%s", mnt);
		if (!v2_has(mnt, "cgroup.subtree_control", controller)) {
			char plus[64];

			snprintf(plus, sizeof(plus), "+%s", controller);
			if (write_file(mnt, "cgroup.subtree_control", plus))
				return false;
		}
		h->v2 = true;
	} else {
		return false;
	}
	/* on cgroup2 the pids and memory cgroups are one directory: the
	 * second controller finds it made (the name is this run's own) */
	if ((size_t)snprintf(h->dir, sizeof(h->dir), "%s/%s", base, name) >= sizeof(h->dir) ||
	    (mkdir(h->dir, 0755) && !(h->v2 && errno == EEXIST))) {
		h->dir[0] = '\0';
		return false;
	}
	return true;
}

/* Reap every child we have (we are the subreaper for the whole workload). */
static void reap(pid_t main_pid, int *main_status, bool *main_done)
{
	int status;
	pid_t p;

	while ((p = waitpid(-1, &status, WNOHANG)) > 0)
		if (p == main_pid) {
			*main_status = status;
			*main_done = true;
		}
}

/*
 * Signal every task of dir and of the cgroups below it (a container runtime
 * run under contain makes its own cgroups inside ours).  Returns the tasks
 * signalled; *any is set when some task was found.
 */
static long kill_below(const char *dir, int depth, bool *any)
{
	char path[CG_PATH_MAX + 64];
	struct dirent *de;
	long killed = 0, pid;
	DIR *d;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (f) {
		while (fscanf(f, "%ld", &pid) == 1) {
			*any = true;
			if (kill((pid_t)pid, SIGKILL) == 0)
				killed++;
		}
		fclose(f);
	}
	d = depth < 16 ? opendir(dir) : NULL;
	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		killed += kill_below(path, depth + 1, any);
	}
	if (d)
		closedir(d);
	return killed;
}

/* Kill everything in the cgroup until it is empty; returns tasks killed. */
static long empty_cgroup(const struct hier *h, pid_t main_pid, int *st, bool *done)
{
	uint64_t give_up = now_ms() + 10000;
	long killed = 0;

	/* no task can fork once the limit is 0 (it holds for the cgroups
	 * below too), so the sweep converges */
	write_file(h->dir, "pids.max", "0");
	if (h->v2)
		write_file(h->dir, "cgroup.kill", "1");
	while (now_ms() < give_up) {
		bool any = false;

		killed += kill_below(h->dir, 0, &any);
		reap(main_pid, st, done);
		if (!any && read_long(h->dir, "pids.current", NULL) <= 0)
			break;
		usleep(2000);
	}
	return killed;
}

/* rmdir dir after the (empty) cgroups below it, deepest first */
static int remove_below(const char *dir, int depth)
{
	char path[CG_PATH_MAX + 64];
	struct dirent *de;
	DIR *d = depth < 16 ? opendir(dir) : NULL;

	while (d && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		remove_below(path, depth + 1);
	}
	if (d)
		closedir(d);
	return rmdir(dir);
}

static void remove_cgroup(const struct hier *h)
{
	if (!h->dir[0])
		return;
	for (int i = 0; h->dir[0] && i < 500; i++) {
		if (remove_below(h->dir, 0) == 0 || errno == ENOENT)
			return;
		usleep(10000);
	}
	fprintf(stderr, "contain: could not remove %s: %s\n", h->dir, strerror(errno));
}

/* Kill and remove cgroups a crashed run left behind, in both hierarchies. */
static int sweep(void)
{
	const char *controllers[] = { "pids", "memory", "cpuacct", NULL };
	int found = 0;

	for (int c = 0; c < 4; c++) {
		char mnt[PATH_MAX], own[PATH_MAX], base[PATH_MAX * 2];
		struct dirent *de;
		DIR *d;

		if (!find_mount(controllers[c], mnt, sizeof(mnt)))
			continue;
		own_path(controllers[c], own, sizeof(own));
		snprintf(base, sizeof(base), "%s%s", mnt,
			 controllers[c] && strcmp(own, "/") ? own : "");
		d = opendir(base);
		while (d && (de = readdir(d))) {
			struct hier h = { .v2 = controllers[c] == NULL };
			int st;
			bool done;

			if (strncmp(de->d_name, PREFIX, strlen(PREFIX)))
				continue;
			snprintf(h.dir, sizeof(h.dir), "%s/%s", base, de->d_name);
			empty_cgroup(&h, -1, &st, &done);
			remove_cgroup(&h);
			found++;
		}
		if (d)
			closedir(d);
	}
	printf("contain: swept %d leftover cgroup(s)\n", found);
	return 0;
}

static void on_signal(int sig)
{
	interrupted = 1;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: contain [-m MAX<=2000] [-t SEC] [--mem BYTES] [--wait-all]\n"
		"               [--go-file PATH] [--cgroup-file PATH] [--report PATH] -- CMD...\n"
		"       contain --sweep\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "mem", required_argument, NULL, 'M' },
		{ "wait-all", no_argument, NULL, 'a' },
		{ "go-file", required_argument, NULL, 'g' },
		{ "cgroup-file", required_argument, NULL, 'c' },
		{ "report", required_argument, NULL, 'r' },
		{ "sweep", no_argument, NULL, 's' },
		{},
	};
	const char *go_file = NULL, *cgroup_file = NULL, *report = NULL;
	struct hier pids = { 0 }, mem = { 0 }, cpu = { 0 };
	long long cpu_ns = -1;
	long max_tasks = 1000, peak = 0, killed, refused;
	unsigned long long mem_bytes = 0;
	double timeout_s = 30;
	bool wait_all = false, main_done = false, timed_out = false;
	int opt, main_status = 0;
	char name[64], val[32];
	uint64_t start, deadline;
	struct sigaction sa = { .sa_handler = on_signal };
	pid_t child;

	while ((opt = getopt_long(argc, argv, "+m:t:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			max_tasks = strtol(optarg, NULL, 10);
			if (max_tasks < 1 || max_tasks > MAX_TASKS_CAP)
				die("-m must be 1..2000 (got %s)", optarg);
			break;
		case 't':
			timeout_s = strtod(optarg, NULL);
			if (timeout_s <= 0 || timeout_s > 600)
				die("-t must be 0..600 seconds (got %s)", optarg);
			break;
		case 'M':
			mem_bytes = strtoull(optarg, NULL, 10);
			break;
		case 'a':
			wait_all = true;
			break;
		case 'g':
			go_file = optarg;
			break;
		case 'c':
			cgroup_file = optarg;
			break;
		case 'r':
			report = optarg;
			break;
		case 's':
			return sweep();
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	snprintf(name, sizeof(name), PREFIX "%d", (int)getpid());
	if (!make_cgroup("pids", name, &pids))
		die("cannot create a pids cgroup (%s): need root and the pids controller",
		    strerror(errno));
	snprintf(val, sizeof(val), "%ld", max_tasks);
	if (write_file(pids.dir, "pids.max", val)) {
		remove_cgroup(&pids);
		die("cannot set pids.max in %s", pids.dir);
	}
	if (mem_bytes) {
		snprintf(val, sizeof(val), "%llu", mem_bytes);
		if (!make_cgroup("memory", name, &mem) ||
		    write_file(mem.dir, mem.v2 ? "memory.max" : "memory.limit_in_bytes", val)) {
			remove_cgroup(&pids);
			remove_cgroup(&mem);
			die("cannot create a memory cgroup limited to %s bytes", val);
		}
		if (mem.v2)
			write_file(mem.dir, "memory.swap.max", "0");
	}
	/* CPU accounting, where a hierarchy offers it (v1 cpuacct; v2: pids dir) */
	if (!pids.v2)
		make_cgroup("cpuacct", name, &cpu);
	if (cgroup_file) {
		/* whole or not at all: a test waits for the file to appear, then
		 * reads it (written beside it, then renamed into place) */
		char tmp[PATH_MAX];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.part", cgroup_file);
		f = fopen(tmp, "we");
		if (f) {
			bool ok = fprintf(f, "%s\n", pids.dir) > 0;

			if (fclose(f) == 0 && ok && rename(tmp, cgroup_file))
				fprintf(stderr, "contain: %s: %s\n", cgroup_file, strerror(errno));
		}
	}

	/* orphans of the workload are re-parented to us, so we can reap them */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	start = now_ms();
	deadline = start + (uint64_t)(timeout_s * 1000);
	child = fork();
	if (child < 0)
		die("fork: %s", strerror(errno));
	if (child == 0) {
		char self[32];

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		snprintf(self, sizeof(self), "%d", (int)getpid());
		/* join before exec: nothing the command forks escapes the cap */
		if (write_file(pids.dir, "cgroup.procs", self) ||
		    (mem.dir[0] && write_file(mem.dir, "cgroup.procs", self)) ||
		    (cpu.dir[0] && write_file(cpu.dir, "cgroup.procs", self))) {
			fprintf(stderr, "contain: cannot join %s: %s\n", pids.dir, strerror(errno));
			_exit(125);
		}
		while (go_file && access(go_file, F_OK) && now_ms() < deadline)
			usleep(2000);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "contain: cannot run %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}

	while (!interrupted) {
		long cur = read_long(pids.dir, "pids.current", NULL);

		if (cur > peak)
			peak = cur;
		reap(child, &main_status, &main_done);
		if (main_done && (!wait_all || cur <= 0))
			break;
		if (now_ms() >= deadline) {
			timed_out = true;
			break;
		}
		usleep(1000);
	}
	if (read_long(pids.dir, "pids.peak", NULL) > peak)
		peak = read_long(pids.dir, "pids.peak", NULL);
	refused = read_long(pids.dir, "pids.events", "max ");
	if (cpu.dir[0])
		cpu_ns = read_long(cpu.dir, "cpuacct.usage", NULL);
	else if (pids.v2 && read_long(pids.dir, "cpu.stat", "usage_usec ") >= 0)
		cpu_ns = read_long(pids.dir, "cpu.stat", "usage_usec ") * 1000LL;
	killed = empty_cgroup(&pids, child, &main_status, &main_done);
	if (mem.dir[0])
		empty_cgroup(&mem, child, &main_status, &main_done);
	if (cpu.dir[0])
		empty_cgroup(&cpu, child, &main_status, &main_done);
	if (!main_done) {
		waitpid(child, &main_status, 0);
		main_done = true;
	}
	remove_cgroup(&pids);
	remove_cgroup(&mem);
	remove_cgroup(&cpu);

	if (report) {
		FILE *f = fopen(report, "we");

		if (f) {
			fprintf(
			    f,
			    "{\"cgroup\":\"%s\",\"pid\":%d,\"peak\":%ld,\"refused\":%ld,"
			    "\"killed\":%ld,\"timed_out\":%s,\"interrupted\":%s,"
			    "\"exit_code\":%d,\"signal\":%d,\"elapsed_ms\":%llu,\"cpu_ns\":%lld}\n",
			    pids.dir, (int)child, peak, refused < 0 ? 0 : refused, killed,
			    timed_out ? "true" : "false", interrupted ? "true" : "false",
			    WIFEXITED(main_status) ? WEXITSTATUS(main_status) : -1,
			    WIFSIGNALED(main_status) ? WTERMSIG(main_status) : 0,
			    (unsigned long long)(now_ms() - start), cpu_ns);
			fclose(f);
		}
	}
	if (timed_out || interrupted)
		return 124;
	if (WIFSIGNALED(main_status))
		return 128 + WTERMSIG(main_status);
	return WEXITSTATUS(main_status);
}
