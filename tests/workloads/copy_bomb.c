// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A fork bomb that copies its own binary every generation, the way a
 * hostile tenant would try to look like many unrelated programs: each
 * process copies /proc/self/exe to a new, uniquely named file (a new inode)
 * in a scratch directory, makes it executable, fork+execs TWO copies of
 * that new file and waits for them.  Every generation therefore runs a
 * binary no earlier process ran.
 *
 *   build/wl_copy_bomb [MAX_GEN]
 *
 * MAX_GEN (default 0 = unlimited) stops the doubling after that many
 * generations.  The scratch directory is $FT_SCRATCH if set (it must exist;
 * it is then left alone), otherwise the first process creates
 * ${TMPDIR:-/tmp}/copy_bomb.XXXXXX and removes it if the whole tree ever
 * exits normally (it is left behind when contain kills the tree).
 * FT_UNLINK_COPIES=1 makes each parent unlink its copy once both children
 * have exec'd it (so the running binaries are "(deleted)" files).
 * FT_RETRY=1 makes a process whose fork fails (EAGAIN, the pids cap) retry
 * every 10 ms instead of giving up on that child: without it the tree is
 * self-limiting under a pids cap and can die out by itself (seen in ~0.2 s
 * under a cap of 60).
 * Run it only under build/contain.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int copy_self(const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	}
	if (n < 0)
		rc = -1;
	if (fchmod(out, 0755) < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
	if (rc < 0)
		unlink(dst);
	return rc;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

int main(int argc, char **argv)
{
	char scratch_buf[PATH_MAX], copy[PATH_MAX + 64], genbuf[32], maxbuf[32];
	const char *scratch = getenv("FT_SCRATCH");
	const char *g = getenv("FT_COPY_GEN");
	int gen = g ? atoi(g) : 0;
	int max_gen = argc > 1 ? atoi(argv[1]) : 0;
	int created = 0, unlink_copies, retry;
	pid_t kids[2];
	int pipes[2][2];
	int nkids = 0;

	unlink_copies = getenv("FT_UNLINK_COPIES") && strcmp(getenv("FT_UNLINK_COPIES"), "1") == 0;
	retry = getenv("FT_RETRY") && strcmp(getenv("FT_RETRY"), "1") == 0;

	if (!scratch) {
		const char *tmp = getenv("TMPDIR");

		snprintf(scratch_buf, sizeof(scratch_buf), "%.4000s/copy_bomb.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(scratch_buf)) {
			perror("copy_bomb: mkdtemp");
			return 1;
		}
		scratch = scratch_buf;
		setenv("FT_SCRATCH", scratch, 1);
		created = 1;
	}

	if (max_gen > 0 && gen >= max_gen)
		goto out;

	/* a new file, never run before: <scratch>/copy_bomb-g<gen+1>-<pid>[-n] */
	for (int n = 0;; n++) {
		if (n == 0)
			snprintf(copy, sizeof(copy), "%.4000s/copy_bomb-g%d-%d", scratch, gen + 1,
				 (int)getpid());
		else
			snprintf(copy, sizeof(copy), "%.4000s/copy_bomb-g%d-%d-%d", scratch,
				 gen + 1, (int)getpid(), n);
		if (copy_self(copy) == 0)
			break;
		if (errno != EEXIST || n > 100)
			goto out;
	}

	snprintf(genbuf, sizeof(genbuf), "%d", gen + 1);
	setenv("FT_COPY_GEN", genbuf, 1);
	snprintf(maxbuf, sizeof(maxbuf), "%d", max_gen);

	for (int i = 0; i < 2; i++) {
		char *const av[] = { copy, maxbuf, NULL };
		pid_t pid;

		/* a close-on-exec pipe tells us when the child has exec'd */
		if (pipe2(pipes[nkids], O_CLOEXEC) < 0)
			pipes[nkids][0] = pipes[nkids][1] = -1;
		while ((pid = fork()) < 0 && retry && (errno == EAGAIN || errno == ENOMEM))
			usleep(10000);
		if (pid == 0) {
			execv(copy, av);
			_exit(127);
		}
		if (pipes[nkids][1] >= 0)
			close(pipes[nkids][1]);
		if (pid < 0) {
			if (pipes[nkids][0] >= 0)
				close(pipes[nkids][0]);
			continue;
		}
		kids[nkids++] = pid;
	}

	for (int i = 0; i < nkids; i++) {
		char c;

		if (pipes[i][0] >= 0) {
			while (read(pipes[i][0], &c, 1) < 0 && errno == EINTR)
				;
			close(pipes[i][0]);
		}
	}
	if (unlink_copies || nkids == 0)
		unlink(copy);

	for (int i = 0; i < nkids; i++)
		while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
out:
	if (created)
		nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
