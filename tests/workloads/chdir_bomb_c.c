// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The C version of chdir_bomb.sh: a "recurse into every subdirectory"
 * program with no base case.  Each process makes a new subdirectory,
 * chdir()s into it and fork+execs its own binary by a RELATIVE path twice,
 * then waits for both.
 *
 *   build/wl_chdir_bomb_c [up|link|copy]
 *
 *   up (default)  exec "../wl_chdir_bomb_c", then "../../wl_chdir_bomb_c",
 *                 ... (one more "../" per generation; always the same file)
 *   link          hard-link the binary into the new directory under the same
 *                 name and exec "./wl_chdir_bomb_c" (same inode, new path)
 *   copy          copy it there instead (a new inode every generation)
 *
 * The first process creates ${TMPDIR:-/tmp}/chdir_bomb_c.XXXXXX, copies
 * /proc/self/exe into it under its own name and starts from there; it
 * removes the directory if the tree ever exits by itself (contain's kill
 * leaves it behind).  FT_RETRY=1 makes a process whose fork fails (EAGAIN,
 * the pids cap) retry every 10 ms; without it the tree is self-limiting
 * under a pids cap and can die out by itself.
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

#define NAME "wl_chdir_bomb_c"

static int copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = 0;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0 || fchmod(out, 0755) < 0)
		rc = -1;
	close(in);
	if (close(out) < 0)
		rc = -1;
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
	const char *mode = argc > 1 ? argv[1] : "up";
	char root[PATH_MAX], dir[32], next[PATH_MAX];
	const char *self = argv[0];
	int created = 0, retry = getenv("FT_RETRY") && strcmp(getenv("FT_RETRY"), "1") == 0;
	pid_t kids[2];
	int nkids = 0;

	if (strcmp(mode, "up") && strcmp(mode, "link") && strcmp(mode, "copy")) {
		fprintf(stderr, "usage: %s [up|link|copy]\n", argv[0]);
		return 2;
	}

	if (!getenv("FT_CHDIR_C_ROOT")) {
		const char *tmp = getenv("TMPDIR");

		snprintf(root, sizeof(root), "%.4000s/chdir_bomb_c.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(root) || chdir(root) < 0) {
			perror("chdir_bomb_c: scratch dir");
			return 1;
		}
		if (copy_file("/proc/self/exe", NAME) < 0) {
			perror("chdir_bomb_c: copy");
			rmdir(root);
			return 1;
		}
		setenv("FT_CHDIR_C_ROOT", root, 1);
		created = 1;
		self = "./" NAME;
	}

	snprintf(dir, sizeof(dir), "d%d", (int)getpid());
	if (mkdir(dir, 0755) < 0 || chdir(dir) < 0)
		goto out;

	if (strcmp(mode, "up") == 0) {
		/* ./x -> ../x, ../x -> ../../x */
		const char *rest = strncmp(self, "./", 2) == 0 ? self + 2 : self;

		if (snprintf(next, sizeof(next), "../%s", rest) >= (int)sizeof(next))
			goto out;
	} else {
		int rc = strcmp(mode, "link") == 0 ? link("../" NAME, NAME)
						   : copy_file("../" NAME, NAME);
		if (rc < 0)
			goto out;
		strcpy(next, "./" NAME);
	}

	for (int i = 0; i < 2; i++) {
		char *const av[] = { next, (char *)mode, NULL };
		pid_t pid;

		while ((pid = fork()) < 0 && retry && (errno == EAGAIN || errno == ENOMEM))
			usleep(10000);
		if (pid == 0) {
			execv(next, av);
			_exit(127);
		}
		if (pid > 0)
			kids[nkids++] = pid;
	}
	for (int i = 0; i < nkids; i++)
		while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
			;
out:
	if (created)
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
