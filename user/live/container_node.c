// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A container's record read on this node: its cgroup's path (by file
 * handle, /proc/<pid>/cgroup or a bounded walk of the cgroup2 mount),
 * the container that path names, and its pod from the runtime's OCI
 * bundle, parsed in a confined child.  The pure parsers, labels and the
 * cache are user/core/container.c's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "live/container_node.h"
#include "live/privs.h"
#include "live/procfs.h"

/*
 * A config.json carries what a tenant wrote in its pod spec (args, env,
 * annotations), so jansson never parses one where a parser bug could use
 * the agent's capabilities.  The parse runs in a child of its own that
 * holds no capability, has no-new-privs, and may make no system call but
 * read, write and exit (SECCOMP_MODE_STRICT), its memory an arena mapped
 * before (jansson's allocator hooks: brk and mmap are no longer allowed).
 * The answer comes back through a pipe, the child's only descriptor;
 * the parent waits at most PARSE_WAIT_MS for all of it and then kills
 * the child, done or not.  What a subverted child could still do is lie:
 * answer another pod's names for the bundle (the cgroup the bundle makes
 * is checked by the parent; the names are not), so a parser exploit
 * could win its own container a namespace: or pod: rule, never more.
 */
#define PARSE_ARENA   (16u << 20) /* jansson's memory for a 1 MiB document */
#define PARSE_WAIT_MS 500

struct parsed_bundle {
	uint32_t named;
	struct ft_container c;
	char cgroups_path[512];
};

/* The child's arena: jansson's allocator hooks take no context.  Only
 * ever set in the forked child, which exits after one parse. */
static char *arena;
static size_t arena_used;

static void *arena_alloc(size_t n)
{
	void *at;

	n = (n + 15) & ~(size_t)15;
	if (!arena || n > PARSE_ARENA - arena_used)
		return NULL;
	at = arena + arena_used;
	arena_used += n;
	return at;
}

static void arena_free(void *ptr)
{
	(void)ptr; /* the child exits after one parse */
}

static void parse_in_child(const char *text, size_t len, enum ct_runtime runtime, int out)
{
	struct parsed_bundle r;
	char ignored[256];
	size_t at = 0;

	memset(&r, 0, sizeof(r));
	/* nothing of the agent's to write to: the answer's pipe only, as 3 */
	if (dup2(out, 3) != 3)
		syscall(SYS_exit, 1);
	if (syscall(SYS_close_range, 4, ~0U, 0)) /* before 5.9: one by one */
		for (int fd = 4; fd < 65536; fd++)
			close(fd);
	out = 3;
	for (int fd = 0; fd < 3; fd++)
		close(fd);
	arena = malloc(PARSE_ARENA); /* before the filter: malloc maps it */
	if (!arena)
		syscall(SYS_exit, 1);
	json_object_seed(0); /* reads /dev/urandom once: before the filter */
	json_set_alloc_funcs(arena_alloc, arena_free);
	if (privs_drop_thread(false, ignored, sizeof(ignored)) ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0))
		syscall(SYS_exit, 1);
	r.named = ct_parse_bundle_config(text, len, runtime, &r.c, r.cgroups_path,
					 sizeof(r.cgroups_path));
	while (at < sizeof(r)) {
		ssize_t n = write(out, (char *)&r + at, sizeof(r) - at);

		if (n <= 0)
			break;
		at += (size_t)n;
	}
	syscall(SYS_exit, 0); /* exit_group is not allowed in strict mode */
}

/* 1 parsed (r filled), 0 the child failed or took too long: not known */
static int parse_confined(const char *text, size_t len, enum ct_runtime runtime,
			  struct parsed_bundle *r)
{
	int fds[2], status, ret = 0;
	uint64_t deadline;
	size_t got = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		return 0;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return 0;
	}
	if (pid == 0) {
		close(fds[0]);
		parse_in_child(text, len, runtime, fds[1]);
	}
	close(fds[1]);
	deadline = procfs_boot_ns() + PARSE_WAIT_MS * 1000000ull;
	while (got < sizeof(*r)) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		uint64_t now = procfs_boot_ns();
		ssize_t n;

		/* one deadline for the whole answer, however it trickles */
		if (now >= deadline || poll(&pfd, 1, (int)((deadline - now) / 1000000ull) + 1) <= 0)
			break;
		n = read(fds[0], (char *)r + got, sizeof(*r) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	/* whatever it did, the child is over now: a complete answer followed
	 * by a spin must not hold the loop in waitpid */
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	/* the answer counts when complete, whether the child had exited or
	 * was killed once it had answered */
	if (got == sizeof(*r) && (!WIFEXITED(status) || !WEXITSTATUS(status))) {
		ct_record_terminate(&r->c);
		r->cgroups_path[sizeof(r->cgroups_path) - 1] = '\0';
		ret = 1;
	}
	return ret;
}

int ct_parse_bundle_confined(const char *json, size_t len, enum ct_runtime runtime,
			     struct ft_container *out, char *cgroups_path, size_t cglen)
{
	struct parsed_bundle r;

	if (!parse_confined(json, len, runtime, &r))
		return -1;
	if (cgroups_path && cglen)
		snprintf(cgroups_path, cglen, "%s", r.cgroups_path);
	if (r.named) {
		memcpy(out->ns, r.c.ns, sizeof(out->ns));
		memcpy(out->pod, r.c.pod, sizeof(out->pod));
		memcpy(out->name, r.c.name, sizeof(out->name));
		memcpy(out->pod_uid, r.c.pod_uid, sizeof(out->pod_uid));
		out->flags |= FT_CT_ANNOTATED;
	}
	return r.named ? 1 : 0;
}
/* --- the node: /proc, the cgroup2 mount, the runtimes' bundles ---------- */

#define CGROUP2_MAGIC 0x63677270
/* a walk at start (the namespace root, --container) may be long */
#define WALK_MAX_DIRS	    100000
#define WALK_MAX_DEPTH	    32
#define BUNDLE_CONFIG_LIMIT (1 << 20)
/* linux/exportfs.h: kernfs's handle, the 64-bit node id (the cgroup id) */
#define FILEID_KERNFS 0xfe

/*
 * Where each CRI implementation keeps a container's OCI bundle
 * (config.json), by id: containerd's runtime v2 shims in its k8s.io
 * namespace, CRI-O's containers/storage.  Only these two: a pod's names
 * are read from the runtime kubelet drives, with that runtime's keys.
 */
static const struct {
	const char *dir, *suffix;
	enum ct_runtime runtime;
} bundle_layouts[CT_BUNDLE_ROOTS] = {
	{ "/run/containerd/io.containerd.runtime.v2.task/k8s.io", "config.json", CT_CONTAINERD },
	{ "/run/containers/storage/overlay-containers", "userdata/config.json", CT_CRIO },
};

static void find_ns_root(struct ct_node *n);

static bool is_cgroup2(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
}

int ct_node_init(struct ct_node *n, const char *host_root, char *err, size_t errlen)
{
	struct stat st;

	memset(n, 0, sizeof(*n));
	if (host_root && strcmp(host_root, "/")) {
		if (stat(host_root, &st) || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--host-root %s: not a directory", host_root);
			return -1;
		}
		ct_copy_field(n->host_root, sizeof(n->host_root), host_root);
		/* hybrid hosts keep cgroup2 at unified/ */
		snprintf(n->cgroup2, sizeof(n->cgroup2), "%s/sys/fs/cgroup/unified", host_root);
		if (!is_cgroup2(n->cgroup2))
			snprintf(n->cgroup2, sizeof(n->cgroup2), "%s/sys/fs/cgroup", host_root);
		if (!is_cgroup2(n->cgroup2))
			n->cgroup2[0] = '\0';
	} else {
		ct_copy_field(n->cgroup2, sizeof(n->cgroup2), procfs_cgroup2_mount());
	}
	for (int i = 0; i < CT_BUNDLE_ROOTS; i++)
		snprintf(n->bundle_roots[i], sizeof(n->bundle_roots[0]), "%s%s", n->host_root,
			 bundle_layouts[i].dir);
	if (n->host_root[0] && n->cgroup2[0])
		find_ns_root(n);
	return 0;
}

/*
 * Read a small regular file whole; NULL if missing, not a regular file or
 * larger than limit.  Opened without blocking and without following a last
 * symlink: this runs on the event path, and a FIFO in its place would
 * block the open for good.
 */
static char *slurp(const char *path, size_t limit, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	char *buf = NULL;
	struct stat st;
	size_t n = 0;
	ssize_t got = 1;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode))
		goto cleanup;
	buf = malloc(limit + 1);
	while (buf && n <= limit && got > 0) {
		got = read(fd, buf + n, limit + 1 - n);
		n += got > 0 ? (size_t)got : 0;
	}
	if (buf && (got < 0 || n > limit)) {
		free(buf);
		buf = NULL;
	}
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
cleanup:
	close(fd);
	return buf;
}

/*
 * The pod's names from container id's bundle, for a runtime (CT_UNKNOWN:
 * either CRI).  Only a bundle whose cgroupsPath makes exactly cgroup (when
 * given) is believed: a cgroup's name is chosen by whoever created it, and
 * anyone who may create cgroups could name one after another pod's
 * container.  The cgroup the bundle makes goes to made, when asked.
 */
static bool read_bundle(const struct ct_node *n, enum ct_runtime runtime, const char *id,
			const char *cgroup, struct ft_container *out, char *made, size_t mlen)
{
	for (int i = 0; i < CT_BUNDLE_ROOTS; i++) {
		char path[sizeof(n->bundle_roots[0]) + CT_ID_LEN + 32], cgp[512], mine[1024];
		struct ft_container c = { 0 };
		struct parsed_bundle parsed;
		size_t len;
		char *text;
		bool named;

		if (runtime != CT_UNKNOWN && runtime != bundle_layouts[i].runtime)
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", n->bundle_roots[i], id,
			 bundle_layouts[i].suffix);
		text = slurp(path, BUNDLE_CONFIG_LIMIT, &len);
		if (!text)
			continue;
		named =
		    parse_confined(text, len, bundle_layouts[i].runtime, &parsed) && parsed.named;
		free(text);
		if (named) {
			c = parsed.c;
			memcpy(cgp, parsed.cgroups_path, sizeof(cgp));
		}
		if (!named || !ct_cgroup_of_bundle(cgp, mine, sizeof(mine)) ||
		    (cgroup && strcmp(cgroup, mine)))
			continue;
		memcpy(out->ns, c.ns, sizeof(out->ns));
		memcpy(out->pod, c.pod, sizeof(out->pod));
		memcpy(out->name, c.name, sizeof(out->name));
		if (c.pod_uid[0])
			memcpy(out->pod_uid, c.pod_uid, sizeof(out->pod_uid));
		out->flags |= FT_CT_ANNOTATED;
		if (made)
			ct_copy_field(made, mlen, mine);
		return true;
	}
	return false;
}

typedef bool (*walk_fn)(void *ctx, const char *rel, const struct stat *st);

/* Depth-first over the directories below mnt + rel; stops when fn says so. */
static bool walk_cgroups(const char *mnt, char *rel, size_t cap, int depth, uint32_t *budget,
			 walk_fn fn, void *ctx)
{
	char dir[1024];
	struct dirent *de;
	bool done = false;
	size_t at = strlen(rel);
	DIR *d;

	snprintf(dir, sizeof(dir), "%s%s", mnt, rel);
	d = opendir(dir);
	/* a spent budget stops the reading too: a directory may be long */
	while (d && !done && *budget && (de = readdir(d))) {
		struct stat st;

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		(*budget)--;
		if ((size_t)snprintf(rel + at, cap - at, "/%s", de->d_name) >= cap - at)
			continue;
		snprintf(dir, sizeof(dir), "%s%s", mnt, rel);
		if (stat(dir, &st))
			continue;
		done =
		    fn(ctx, rel, &st) || (depth < WALK_MAX_DEPTH &&
					  walk_cgroups(mnt, rel, cap, depth + 1, budget, fn, ctx));
		if (!done)
			rel[at] = '\0';
	}
	if (d)
		closedir(d);
	return done;
}

struct resolve_ctx {
	const struct ct_node *n;
	uint64_t id;
	char path[1024]; /* relative to the cgroup2 mount */
	bool path_ok;
};

/* v1 lines are not read: only the cgroup2 path is proven by the id */
static bool on_cgroup_line(void *arg, const char *ctrl, const char *path)
{
	struct resolve_ctx *r = arg;

	if (!ctrl[0] && r->n->cgroup2[0] && !r->path_ok) {
		char dir[sizeof(r->n->cgroup2) + 1024];
		struct stat st;

		char host[1024];

		/* the id proves the path: the process may have moved since */
		if (!ct_join_cgroup_path(r->n->ns_root, path, host, sizeof(host)))
			return false;
		snprintf(dir, sizeof(dir), "%s%s", r->n->cgroup2, host);
		if (!stat(dir, &st) && st.st_ino == r->id) {
			ct_copy_field(r->path, sizeof(r->path), host);
			r->path_ok = true;
		}
	}
	return false;
}

static bool on_walk_dir(void *arg, const char *rel, const struct stat *st)
{
	struct resolve_ctx *r = arg;

	if (st->st_ino != r->id)
		return false;
	ct_copy_field(r->path, sizeof(r->path), rel);
	r->path_ok = true;
	return true;
}

struct pid_cgroup {
	const struct ct_node *n;
	uint64_t id;
};

static bool on_pid_cgroup_line(void *arg, const char *ctrl, const char *path)
{
	struct pid_cgroup *pc = arg;
	char host[1024], dir[sizeof(pc->n->cgroup2) + 1024];
	struct stat st;

	if (ctrl[0] || !ct_join_cgroup_path(pc->n->ns_root, path, host, sizeof(host)))
		return false;
	snprintf(dir, sizeof(dir), "%s%s", pc->n->cgroup2, host);
	if (!stat(dir, &st))
		pc->id = st.st_ino;
	return true;
}

uint64_t ct_pid_cgroup_id(const struct ct_node *n, uint32_t pid)
{
	struct pid_cgroup pc = { .n = n };

	if (n->cgroup2[0])
		procfs_cgroups(pid, on_pid_cgroup_line, &pc);
	return pc.id;
}

/*
 * In a container with a cgroup namespace of its own, the cgroup2 mount it
 * was given is rooted at that namespace: its inode is the namespace root's
 * id, found once under the host's mount (--host-root).
 */
static void find_ns_root(struct ct_node *n)
{
	const char *own[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
	struct resolve_ctx r = { .n = n };
	uint32_t budget = WALK_MAX_DIRS;
	char rel[1024] = "";
	struct stat st;

	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]) && !r.id; i++)
		if (is_cgroup2(own[i]) && !stat(own[i], &st))
			r.id = st.st_ino;
	if (!r.id || r.id == 1) /* the host's own namespace */
		return;
	walk_cgroups(n->cgroup2, rel, sizeof(rel), 0, &budget, on_walk_dir, &r);
	if (r.path_ok)
		ct_copy_field(n->ns_root, sizeof(n->ns_root), r.path);
}

/*
 * A cgroup's path from its id alone: cgroup2 takes the kernfs node id (the
 * id the kernel reports) as a file handle, so one open_by_handle_at and one
 * readlink name any cgroup, however many there are, where a search of the
 * mount costs a stat per directory.  Needs CAP_DAC_READ_SEARCH (the agent
 * keeps it).  CT_FOUND with the path relative to the mount; CT_GONE when
 * the cgroup no longer exists; CT_NOT_FOUND when handles cannot say (no
 * capability, no handle support, a cgroup the mount does not show).
 */
static enum ct_found path_by_handle(const struct ct_node *n, uint64_t id, char *rel, size_t len)
{
	union {
		struct file_handle fh;
		char bytes[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], path[sizeof(n->cgroup2) + 1024];
	size_t mlen = strlen(n->cgroup2);
	enum ct_found ret = CT_NOT_FOUND;
	int mfd, fd;
	ssize_t got;

	memset(&h, 0, sizeof(h));
	h.fh.handle_bytes = sizeof(id);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	mfd = open(n->cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (mfd < 0)
		return CT_NOT_FOUND;
	/* O_PATH: nothing is opened for reading, the name is all we want */
	fd = open_by_handle_at(mfd, &h.fh, O_PATH | O_CLOEXEC);
	close(mfd);
	if (fd < 0)
		return errno == ESTALE ? CT_GONE : CT_NOT_FOUND;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	got = readlink(link, path, sizeof(path) - 1);
	close(fd);
	if (got <= 0 || (size_t)got >= sizeof(path) - 1)
		return CT_NOT_FOUND;
	path[got] = '\0';
	/* removed since the open: the kernel says so after the name */
	if (got > 10 && !strcmp(path + got - 10, " (deleted)"))
		return CT_GONE;
	if ((size_t)got >= mlen && !strncmp(path, n->cgroup2, mlen) &&
	    (path[mlen] == '/' || !path[mlen])) {
		ct_copy_field(rel, len, path[mlen] ? path + mlen : "/");
		ret = CT_FOUND;
	}
	return ret;
}

enum ct_found ct_resolve(const struct ct_node *n, uint64_t cgroup_id, uint32_t pid, uint32_t ppid,
			 struct ft_container *out, uint32_t *walk_budget)
{
	struct resolve_ctx r = { .n = n, .id = cgroup_id };
	enum ct_found by_handle = CT_NOT_FOUND;
	struct ct_ref ref;

	memset(out, 0, sizeof(*out));
	out->h.type = FT_EV_CONTAINER;
	out->h.size = sizeof(*out);
	out->h.cgroup_id = cgroup_id;
	if (!n->cgroup2[0])
		return CT_NOT_FOUND;
	if (cgroup_id == 1) { /* the root's kernfs id (cgroup2 root ino): no handle */
		r.path_ok = true;
		ct_copy_field(r.path, sizeof(r.path), "/");
	} else {
		by_handle = path_by_handle(n, cgroup_id, r.path, sizeof(r.path));
		if (by_handle == CT_GONE)
			return CT_GONE;
		r.path_ok = by_handle == CT_FOUND;
		if (r.path_ok)
			out->h.tgid = pid;
	}
	/* no handles here: the process's own line, proven by the id */
	for (int i = 0; i < 2 && !r.path_ok; i++) {
		uint32_t who = i ? ppid : pid;

		if (who && procfs_cgroups(who, on_cgroup_line, &r) == false && r.path_ok)
			out->h.tgid = who;
	}
	/*
	 * Gone already, or in a cgroup namespace of its own: search the
	 * mount, as far as the caller's budget goes (a stat per directory:
	 * anyone with a delegated subtree could make it long, and churning
	 * short-lived cgroups would have it run for each).
	 */
	if (!r.path_ok && walk_budget && *walk_budget) {
		uint32_t budget =
		    *walk_budget < CT_WALK_PER_RESOLVE ? *walk_budget : CT_WALK_PER_RESOLVE;
		uint32_t given = budget;
		char rel[1024] = "";

		walk_cgroups(n->cgroup2, rel, sizeof(rel), 0, &budget, on_walk_dir, &r);
		*walk_budget -= given - budget;
	}
	if (!r.path_ok)
		return CT_NOT_FOUND;
	out->flags |= FT_CT_PATH;
	if (strlen(r.path) >= sizeof(out->cgroup))
		out->flags |= FT_CT_TRUNCATED;
	ct_copy_field(out->cgroup, sizeof(out->cgroup), r.path);
	if (!ct_from_cgroup_path(r.path, &ref))
		return CT_FOUND;
	out->runtime = ref.runtime;
	snprintf(out->id, sizeof(out->id), "%s", ref.id);
	snprintf(out->pod_uid, sizeof(out->pod_uid), "%s", ref.pod_uid);
	read_bundle(n, ref.runtime, ref.id, r.path, out, NULL, 0);
	return CT_FOUND;
}

struct find_ctx {
	const char *prefix;
	size_t plen;
	char match[1024];
	int matches;
	char other_id[CT_ID_LEN + 1];
};

static bool on_container_dir(void *arg, const char *rel, const struct stat *st)
{
	struct find_ctx *f = arg;
	const char *base = strrchr(rel, '/');
	struct ct_ref ref;

	/* the container's own directory, not one below it (podman's "container") */
	if (!base || !ct_from_cgroup_path(base, &ref) || strncmp(ref.id, f->prefix, f->plen))
		return false;
	if (f->matches && strcmp(f->other_id, ref.id))
		f->matches++;
	else if (!f->matches) {
		f->matches = 1;
		ct_copy_field(f->match, sizeof(f->match), rel);
		ct_copy_field(f->other_id, sizeof(f->other_id), ref.id);
	}
	return false;
}

int ct_container_cgroup(const struct ct_node *n, const char *id, char *path, size_t len, char *err,
			size_t errlen)
{
	struct find_ctx f = { .prefix = id, .plen = strlen(id) };
	uint32_t budget = WALK_MAX_DIRS;
	char rel[1024] = "";

	if (f.plen < 12 || f.plen > CT_ID_LEN || strspn(id, "0123456789abcdef") != f.plen) {
		snprintf(err, errlen, "--container %s: want 12 to 64 lower-case hex digits", id);
		return -1;
	}
	if (!n->cgroup2[0]) {
		snprintf(err, errlen, "--container needs cgroup2 mounted (found none)");
		return -1;
	}
	walk_cgroups(n->cgroup2, rel, sizeof(rel), 0, &budget, on_container_dir, &f);
	if (f.matches != 1) {
		snprintf(err, errlen, "--container %s: %s under %s", id,
			 f.matches ? "more than one container has this prefix"
				   : "no such container's cgroup",
			 n->cgroup2);
		return -1;
	}
	snprintf(path, len, "%s%s", n->cgroup2, f.match);
	return 0;
}

int ct_pod_cgroup(const struct ct_node *n, const char *ns_name, char *path, size_t len, char *err,
		  size_t errlen)
{
	const char *slash = strchr(ns_name, '/');
	bool found = false, named = false;
	size_t nslen;

	if (!slash || slash == ns_name || !slash[1] || strchr(slash + 1, '/')) {
		snprintf(err, errlen, "--pod %s: want NAMESPACE/NAME", ns_name);
		return -1;
	}
	if (!n->cgroup2[0]) {
		snprintf(err, errlen, "--pod needs cgroup2 mounted (found none)");
		return -1;
	}
	nslen = (size_t)(slash - ns_name);
	/* exited containers keep their bundles (CRI-O): the first whose
	 * cgroup is there is one of the pod's running containers */
	for (int i = 0; i < CT_BUNDLE_ROOTS && !found; i++) {
		DIR *d = opendir(n->bundle_roots[i]);
		struct dirent *de;

		while (d && !found && (de = readdir(d))) {
			struct ft_container c = { 0 };
			char made[1024], dir[sizeof(n->cgroup2) + 1024];
			struct stat st;

			if (strlen(de->d_name) != CT_ID_LEN ||
			    !read_bundle(n, bundle_layouts[i].runtime, de->d_name, NULL, &c, made,
					 sizeof(made)) ||
			    strlen(c.ns) != nslen || strncmp(c.ns, ns_name, nslen) ||
			    strcmp(c.pod, slash + 1))
				continue;
			named = true;
			snprintf(dir, sizeof(dir), "%s%s", n->cgroup2, made);
			found =
			    !stat(dir, &st) && S_ISDIR(st.st_mode) && strrchr(made, '/') != made;
			if (found) {
				/* kubelet puts a pod's containers in one directory */
				*strrchr(made, '/') = '\0';
				snprintf(path, len, "%s%s", n->cgroup2, made);
			}
		}
		if (d)
			closedir(d);
	}
	if (!found) {
		snprintf(err, errlen, "--pod %s: %s", ns_name,
			 named ? "no running container of this pod on this node"
			       : "no container of this pod on this node");
		return -1;
	}
	return 0;
}
