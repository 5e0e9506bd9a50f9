// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fusefs: a real FUSE filesystem for the tests: read-only, one regular
 * executable file (mode 0755) whose content is SRC's, and, on request, a
 * daemon that never answers.
 *
 *   fusefs MOUNTPOINT --file SRC [--name NAME] [--hang]
 *
 * Runs in the foreground, single-threaded, until SIGTERM/SIGINT (then
 * unmounts) or SIGKILL (the kernel aborts the connection; the mount stays
 * until a lazy unmount).  NAME defaults to SRC's basename.  Mounted as
 * whoever runs it: as a user, through fusermount3 and without allow_other,
 * so no other user, root included, may touch its files.
 *
 * --hang: once the mount is made (the kernel's INIT, answered by libfuse),
 * every request (lookup, getattr, open, read, access...) is left
 * unanswered, forever: the caller blocks in the kernel until the
 * connection is aborted.  SIGUSR1 does the same from then on, so a process
 * can first run from the mount or enter it, and then find it hung; the
 * daemon writes "hanging\n" to stdout when it has switched.
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fuse_lowlevel.h>

#define FILE_INO 2

struct fs {
	int src_fd;
	off_t size;
	char name[NAME_MAX + 1];
	/* how long the kernel may keep names and attributes: 0, so every
	 * stat and lookup is a request (a hung daemon blocks it at once,
	 * not once a cache expires) */
	double timeout;
};

/* set by the signal handler; read by every request handler */
static volatile sig_atomic_t hanging;

static void on_usr1(int sig)
{
	static const char msg[] = "hanging\n";

	(void)sig;
	hanging = 1;
	/* async-signal-safe: the tests wait for this line */
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		hanging = 1;
}

/* A request the daemon will never answer: true means "return now". */
static bool hang(fuse_req_t req)
{
	(void)req;
	return hanging != 0;
}

static void fill_attr(const struct fs *fs, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = getuid();
	st->st_gid = getgid();
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0755;
		st->st_nlink = 1;
		st->st_size = fs->size;
		st->st_blocks = (fs->size + 511) / 512;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e;

	if (hang(req))
		return;
	if (parent != FUSE_ROOT_ID || strcmp(name, fs->name)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = FILE_INO;
	e.attr_timeout = e.entry_timeout = fs->timeout;
	fill_attr(fs, FILE_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (hang(req))
		return;
	if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_attr(fs, ino, &st);
	fuse_reply_attr(req, &st, fs->timeout);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (hang(req))
		return;
	if (ino != FILE_INO)
		fuse_reply_err(req, EISDIR);
	else if ((fi->flags & O_ACCMODE) != O_RDONLY)
		fuse_reply_err(req, EROFS);
	else
		fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(0);

	(void)fi;
	if (hang(req))
		return;
	if (ino != FILE_INO || off >= fs->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	/* straight from SRC, no copy in between (and no size limit here) */
	buf.buf[0].size = (size_t)(fs->size - off) < size ? (size_t)(fs->size - off) : size;
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fs->src_fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (hang(req))
		return;
	if (ino != FUSE_ROOT_ID)
		fuse_reply_err(req, ENOTDIR);
	else
		fuse_reply_open(req, fi);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fuse_req_userdata(req);
	const char *names[3] = { ".", "..", fs->name };
	char buf[4096];
	size_t used = 0;

	(void)fi;
	if (hang(req))
		return;
	if (size > sizeof(buf))
		size = sizeof(buf);
	for (off_t i = off; i < 3; i++) {
		struct stat st;
		size_t n;

		fill_attr(fs, i == 2 ? FILE_INO : FUSE_ROOT_ID, &st);
		n = fuse_add_direntry(req, buf + used, size - used, names[i], &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	(void)ino;
	fuse_reply_buf(req, buf, used);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (!hang(req))
		fuse_reply_err(req, 0);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	(void)ino;
	if (hang(req))
		return;
	fuse_reply_err(req, (mask & W_OK) ? EROFS : 0);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv = { .f_bsize = 4096, .f_namemax = NAME_MAX };

	(void)ino;
	if (!hang(req))
		fuse_reply_statfs(req, &sv);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	if (!hang(req))
		fuse_reply_err(req, ENODATA);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	if (hang(req))
		return;
	if (size)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_xattr(req, 0);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (!hang(req))
		fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = op_lookup,
	.getattr = op_getattr,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.flush = op_flush,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_release,
	.access = op_access,
	.statfs = op_statfs,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
};

static int usage(void)
{
	fprintf(stderr, "usage: fusefs MOUNTPOINT --file SRC [--name NAME] [--hang]\n");
	return 2;
}

int main(int argc, char **argv)
{
	/* fsname: how the mount shows in mountinfo */
	char opts[] = "ro,fsname=ft-fusefs,subtype=ft-fusefs";
	char *fargv[] = { argv[0], "-o", opts, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	const char *mnt = NULL, *src = NULL, *name = NULL;
	struct fuse_session *se = NULL;
	struct sigaction sa;
	struct fs fs = { .src_fd = -1, .timeout = 0.0 };
	bool hang_now = false, mounted = false;
	struct stat st;
	int ret = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--file") && i + 1 < argc)
			src = argv[++i];
		else if (!strcmp(argv[i], "--name") && i + 1 < argc)
			name = argv[++i];
		else if (!strcmp(argv[i], "--hang"))
			hang_now = true;
		else if (argv[i][0] != '-' && !mnt)
			mnt = argv[i];
		else
			return usage();
	}
	if (!mnt || !src)
		return usage();
	if (!name) {
		name = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
	}
	if (!name[0] || strchr(name, '/') || strlen(name) > NAME_MAX || !strcmp(name, ".") ||
	    !strcmp(name, "..")) {
		fprintf(stderr, "fusefs: --name %s: not a file name\n", name);
		return 2;
	}
	snprintf(fs.name, sizeof(fs.name), "%s", name);
	fs.src_fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fs.src_fd < 0 || fstat(fs.src_fd, &st) || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "fusefs: --file %s: %s\n", src,
			fs.src_fd < 0 ? strerror(errno) : "not a regular file");
		goto cleanup;
	}
	fs.size = st.st_size;
	/* the daemon's stdout is a file or pipe the tests read line by line */
	setvbuf(stdout, NULL, _IONBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL)) {
		fprintf(stderr, "fusefs: sigaction: %s\n", strerror(errno));
		goto cleanup;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), &fs);
	if (!se) {
		fprintf(stderr, "fusefs: cannot create the FUSE session\n");
		goto cleanup;
	}
	if (fuse_set_signal_handlers(se)) {
		fprintf(stderr, "fusefs: cannot install signal handlers\n");
		goto cleanup;
	}
	/* root mounts itself; a user's mount(2) fails and libfuse has
	 * fusermount3 make it (without allow_other: that user's alone) */
	if (fuse_session_mount(se, mnt)) {
		fprintf(stderr, "fusefs: cannot mount on %s\n", mnt);
		goto cleanup;
	}
	mounted = true;
	/* INIT is answered by libfuse itself, inside the loop, whatever the
	 * flag says: the mount completes, then nothing more is answered */
	if (hang_now)
		hanging = 1;
	ret = fuse_session_loop(se) < 0 ? 1 : 0;
cleanup:
	if (se) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	fuse_opt_free_args(&args);
	if (fs.src_fd >= 0)
		close(fs.src_fd);
	return ret;
}
