// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tree3: build a known three-level process tree and print, as one JSON
 * line, what it did, for the live tests to compare with forktrace's view.
 *
 *   root (this process; starts 3 threads first, which exit)
 *   |- a    no exec, exit 10      |- a1  no exec, exit 11
 *   |                             `- a2  exec /bin/sh -c 'exit 12'
 *   |- b    exec /bin/sh -c 'exit 20'
 *   `- c    no exec, killed by SIGKILL from root
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/wait.h>

struct made {
	const char *name;
	pid_t pid, ppid;
	int exit_code, signal;
	const char *exec;
};

static void *thread_body(void *arg)
{
	usleep(20000);
	return arg;
}

static pid_t spawn_exit(int code, const char *shell_code)
{
	pid_t p = fork();

	if (p == 0) {
		if (shell_code)
			execl("/bin/sh", "sh", "-c", shell_code, (char *)NULL);
		usleep(50000); /* let the parent's fork record land first */
		_exit(code);
	}
	return p;
}

static void report(struct made *m, int status)
{
	m->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	m->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* Threads: in /proc/self/status, or -1 */
static int threads_now(void)
{
	char line[128];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

int main(void)
{
	struct made m[5] = {
		{ "a", 0, 0, 0, 0, NULL },	 { "a1", 0, 0, 0, 0, NULL },
		{ "a2", 0, 0, 0, 0, "/bin/sh" }, { "b", 0, 0, 0, 0, "/bin/sh" },
		{ "c", 0, 0, 0, 0, NULL },
	};
	int fds[2], status;
	pthread_t th[3];
	pid_t a1a2[2];

	for (int i = 0; i < 3; i++)
		if (pthread_create(&th[i], NULL, thread_body, NULL))
			return 1;
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	/* pthread_join returns when a thread's tid is cleared, which comes
	 * before the kernel drops it from the thread group (nr_threads, what
	 * fork records report): wait for that too, or a slow machine forks
	 * with threads still counted */
	for (int i = 0; i < 2000 && threads_now() > 1; i++)
		usleep(1000);

	/* a reports its children's pids back through a pipe */
	if (pipe(fds))
		return 1;
	m[0].pid = fork();
	if (m[0].pid == 0) {
		int st1, st2;

		a1a2[0] = spawn_exit(11, NULL);
		a1a2[1] = spawn_exit(0, "exit 12");
		waitpid(a1a2[0], &st1, 0);
		waitpid(a1a2[1], &st2, 0);
		if (write(fds[1], a1a2, sizeof(a1a2)) != sizeof(a1a2) ||
		    write(fds[1], &st1, sizeof(st1)) != sizeof(st1) ||
		    write(fds[1], &st2, sizeof(st2)) != sizeof(st2))
			_exit(1);
		_exit(10);
	}
	m[3].pid = spawn_exit(0, "exit 20");
	m[4].pid = fork();
	if (m[4].pid == 0) {
		pause();
		_exit(0);
	}
	usleep(100000);
	kill(m[4].pid, SIGKILL);

	int st1 = 0, st2 = 0;

	if (read(fds[0], a1a2, sizeof(a1a2)) != sizeof(a1a2) ||
	    read(fds[0], &st1, sizeof(st1)) != sizeof(st1) ||
	    read(fds[0], &st2, sizeof(st2)) != sizeof(st2))
		return 1;
	m[1].pid = a1a2[0];
	m[2].pid = a1a2[1];
	report(&m[1], st1);
	report(&m[2], st2);
	waitpid(m[0].pid, &status, 0);
	report(&m[0], status);
	waitpid(m[3].pid, &status, 0);
	report(&m[3], status);
	waitpid(m[4].pid, &status, 0);
	report(&m[4], status);
	m[0].ppid = m[3].ppid = m[4].ppid = getpid();
	m[1].ppid = m[2].ppid = m[0].pid;

	printf("{\"root\":%d,\"threads\":3,\"procs\":[", (int)getpid());
	for (int i = 0; i < 5; i++)
		printf("%s{\"name\":\"%s\",\"pid\":%d,\"ppid\":%d,\"exit_code\":%d,\"signal\":%d,"
		       "\"exec\":%s%s%s}",
		       i ? "," : "", m[i].name, (int)m[i].pid, (int)m[i].ppid, m[i].exit_code,
		       m[i].signal, m[i].exec ? "\"" : "", m[i].exec ? m[i].exec : "null",
		       m[i].exec ? "\"" : "");
	printf("]}\n");
	return 0;
}
