// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Container and pod from a cgroup path.  The layouts, systemd cgroup
 * driver first, then cgroupfs:
 *
 *   kubepods.slice/kubepods-burstable.slice/
 *     kubepods-burstable-pod<uid, '_' for '-'>.slice/cri-containerd-<id>.scope
 *   kubepods.slice/kubepods-pod<uid>.slice/crio-<id>.scope     (guaranteed QoS)
 *   kubepods/burstable/pod<uid>/<id>                           (cgroupfs)
 *   system.slice/docker-<id>.scope, docker/<id>                (plain docker)
 *   machine.slice/libpod-<id>.scope, .../libpod-<id>.scope/container (podman)
 *
 * A runtime's own helper (crio-conmon-<id>.scope, libpod-conmon-<id>.scope)
 * is not the container: the id must follow the prefix directly.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include "container.h"
#include "procfs.h"

static const struct {
	const char *prefix;
	enum ct_runtime runtime;
} scopes[] = {
	{ "cri-containerd-", CT_CONTAINERD },
	{ "crio-", CT_CRIO },
	{ "docker-", CT_DOCKER },
	{ "libpod-", CT_PODMAN },
};

const char *ct_runtime_name(enum ct_runtime r)
{
	static const char *const names[] = { "",       "containerd", "cri-o",
					     "docker", "podman",     "unknown" };

	return r <= CT_UNKNOWN ? names[r] : "";
}

static bool is_hex_id(const char *s, size_t len)
{
	if (len != CT_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* comp (len bytes) is "<prefix><id>[.scope]" for one of the runtimes */
static enum ct_runtime scope_id(const char *comp, size_t len, const char **id)
{
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t pl = strlen(scopes[i].prefix), rest;

		if (len <= pl || strncmp(comp, scopes[i].prefix, pl))
			continue;
		rest = len - pl;
		if (rest > 6 && !strncmp(comp + len - 6, ".scope", 6))
			rest -= 6;
		if (is_hex_id(comp + pl, rest)) {
			*id = comp + pl;
			return scopes[i].runtime;
		}
	}
	return CT_NONE;
}

static bool comp_is(const char *comp, size_t len, const char *name)
{
	return len == strlen(name) && !strncmp(comp, name, len);
}

/*
 * A pod's uid from "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid>.slice"
 * (systemd, which spells the uid's dashes as underscores).
 */
static bool pod_uid(const char *comp, size_t len, char out[CT_POD_UID_LEN + 1])
{
	const char *u = NULL;

	if (len == 3 + CT_POD_UID_LEN && !strncmp(comp, "pod", 3)) {
		u = comp + 3;
	} else if (len > 6 && !strncmp(comp, "kubepods", 8) &&
		   !strncmp(comp + len - 6, ".slice", 6) && len >= 6 + 4 + CT_POD_UID_LEN &&
		   !strncmp(comp + len - 6 - CT_POD_UID_LEN - 4, "-pod", 4)) {
		u = comp + len - 6 - CT_POD_UID_LEN;
	}
	if (!u)
		return false;
	for (int i = 0; i < CT_POD_UID_LEN; i++) {
		char c = u[i] == '_' ? '-' : u[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		out[i] = c;
	}
	out[CT_POD_UID_LEN] = '\0';
	return true;
}

bool ct_from_cgroup_path(const char *path, struct ct_ref *out)
{
	const char *comp[64], *id = NULL;
	size_t clen[64], n = 0;
	enum ct_runtime rt = CT_NONE;
	size_t at = 0;

	memset(out, 0, sizeof(*out));
	for (const char *p = path; *p && n < 64;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len) {
			comp[n] = p;
			clen[n++] = len;
		}
		p += len + (end ? 1 : 0);
	}
	/* innermost first: the container the process is closest to */
	for (size_t i = n; i-- > 0 && rt == CT_NONE;) {
		rt = scope_id(comp[i], clen[i], &id);
		if (rt == CT_NONE && is_hex_id(comp[i], clen[i])) {
			rt = CT_UNKNOWN;
			id = comp[i];
		}
		at = i;
	}
	if (rt == CT_NONE)
		return false;
	memcpy(out->id, id, CT_ID_LEN);
	out->id[CT_ID_LEN] = '\0';
	for (size_t i = at; i-- > 0;) {
		if (!out->pod_uid[0])
			pod_uid(comp[i], clen[i], out->pod_uid);
		/* a bare id says nothing of its runtime; the directory above may */
		if (rt == CT_UNKNOWN && comp_is(comp[i], clen[i], "docker"))
			rt = CT_DOCKER;
		else if (rt == CT_UNKNOWN && comp_is(comp[i], clen[i], "libpod_parent"))
			rt = CT_PODMAN;
	}
	out->runtime = rt;
	return true;
}

/* --- bundle annotations ------------------------------------------------ */

/* bounded copy, truncating (a record's fields are fixed-size) */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* the first of keys the annotations hold as a string */
static const char *annotation(json_t *ann, const char *const keys[2])
{
	for (int i = 0; i < 2; i++) {
		const char *v = json_string_value(json_object_get(ann, keys[i]));

		if (v)
			return v;
	}
	return NULL;
}

bool ct_parse_bundle_config(const char *text, size_t len, struct ft_container *out)
{
	/* containerd's CRI plugin first, then CRI-O's */
	static const char *const ns_keys[2] = { "io.kubernetes.cri.sandbox-namespace",
						"io.kubernetes.pod.namespace" };
	static const char *const pod_keys[2] = { "io.kubernetes.cri.sandbox-name",
						 "io.kubernetes.pod.name" };
	static const char *const name_keys[2] = { "io.kubernetes.cri.container-name",
						  "io.kubernetes.container.name" };
	static const char *const uid_keys[2] = { "io.kubernetes.cri.sandbox-uid",
						 "io.kubernetes.pod.uid" };
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *ann = json_object_get(root, "annotations");
	const char *pod = json_is_object(ann) ? annotation(ann, pod_keys) : NULL;
	bool named = pod && pod[0];

	if (named) {
		copy_str(out->pod, sizeof(out->pod), pod);
		copy_str(out->ns, sizeof(out->ns), annotation(ann, ns_keys));
		copy_str(out->name, sizeof(out->name), annotation(ann, name_keys));
		if (annotation(ann, uid_keys))
			copy_str(out->pod_uid, sizeof(out->pod_uid), annotation(ann, uid_keys));
		out->flags |= FT_CT_ANNOTATED;
	}
	json_decref(root);
	return named;
}

void ct_record_terminate(struct ft_container *c)
{
	c->id[sizeof(c->id) - 1] = '\0';
	c->pod_uid[sizeof(c->pod_uid) - 1] = '\0';
	c->ns[sizeof(c->ns) - 1] = '\0';
	c->pod[sizeof(c->pod) - 1] = '\0';
	c->name[sizeof(c->name) - 1] = '\0';
	c->cgroup[sizeof(c->cgroup) - 1] = '\0';
}

/* --- the node: /proc, the cgroup2 mount, the runtimes' bundles ---------- */

#define CGROUP2_MAGIC	    0x63677270
#define WALK_MAX_DIRS	    100000
#define WALK_MAX_DEPTH	    32
#define BUNDLE_CONFIG_LIMIT (1 << 20)

/*
 * Where each runtime keeps a container's OCI bundle (config.json), by id:
 * containerd's runtime v2 shims per namespace (k8s.io for the CRI, moby for
 * docker), and containers/storage for CRI-O and podman.
 */
static const struct {
	const char *dir, *suffix;
} bundle_layouts[] = {
	{ "/run/containerd/io.containerd.runtime.v2.task/k8s.io", "config.json" },
	{ "/run/containers/storage/overlay-containers", "userdata/config.json" },
	{ "/run/containerd/io.containerd.runtime.v2.task/moby", "config.json" },
	{ "/run/containerd/io.containerd.runtime.v2.task/default", "config.json" },
	{ "/var/lib/containers/storage/overlay-containers", "userdata/config.json" },
};

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
		copy_str(n->host_root, sizeof(n->host_root), host_root);
		/* hybrid hosts keep cgroup2 at unified/ */
		snprintf(n->cgroup2, sizeof(n->cgroup2), "%s/sys/fs/cgroup/unified", host_root);
		if (!is_cgroup2(n->cgroup2))
			snprintf(n->cgroup2, sizeof(n->cgroup2), "%s/sys/fs/cgroup", host_root);
		if (!is_cgroup2(n->cgroup2))
			n->cgroup2[0] = '\0';
	} else {
		copy_str(n->cgroup2, sizeof(n->cgroup2), procfs_cgroup2_mount());
	}
	for (size_t i = 0; i < sizeof(bundle_layouts) / sizeof(bundle_layouts[0]); i++)
		snprintf(n->bundle_roots[n->nbundle_roots++], sizeof(n->bundle_roots[0]), "%s%s",
			 n->host_root, bundle_layouts[i].dir);
	return 0;
}

/* Read a small file whole; NULL if missing or larger than limit. */
static char *slurp(const char *path, size_t limit, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(limit + 1);
	n = buf ? fread(buf, 1, limit + 1, f) : 0;
	fclose(f);
	if (!buf || n > limit) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* The bundle's annotations for container id; true when they name a pod. */
static bool read_bundle(const struct ct_node *n, const char *id, struct ft_container *out)
{
	for (int i = 0; i < n->nbundle_roots; i++) {
		char path[sizeof(n->bundle_roots[0]) + CT_ID_LEN + 32];
		size_t len;
		char *text;
		bool named;

		snprintf(path, sizeof(path), "%s/%s/%s", n->bundle_roots[i], id,
			 bundle_layouts[i].suffix);
		text = slurp(path, BUNDLE_CONFIG_LIMIT, &len);
		if (!text)
			continue;
		named = ct_parse_bundle_config(text, len, out);
		free(text);
		if (named)
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
	while (d && !done && (de = readdir(d))) {
		struct stat st;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || !*budget)
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
	struct ct_ref ref;
	bool ref_v1; /* ref came from a v1 hierarchy's path */
};

static bool on_cgroup_line(void *arg, const char *ctrl, const char *path)
{
	struct resolve_ctx *r = arg;
	struct ct_ref ref;

	if (!ctrl[0] && r->n->cgroup2[0] && !r->path_ok) {
		char dir[sizeof(r->n->cgroup2) + 1024];
		struct stat st;

		/* the id proves the path: the process may have moved since */
		snprintf(dir, sizeof(dir), "%s%s", r->n->cgroup2, path);
		if (!stat(dir, &st) && st.st_ino == r->id) {
			copy_str(r->path, sizeof(r->path), path);
			r->path_ok = true;
		}
	} else if (ctrl[0] && !r->ref.runtime && ct_from_cgroup_path(path, &ref)) {
		r->ref = ref;
		r->ref_v1 = true;
	}
	return false;
}

static bool on_walk_dir(void *arg, const char *rel, const struct stat *st)
{
	struct resolve_ctx *r = arg;

	if (st->st_ino != r->id)
		return false;
	copy_str(r->path, sizeof(r->path), rel);
	r->path_ok = true;
	return true;
}

bool ct_resolve(const struct ct_node *n, uint64_t cgroup_id, uint32_t pid, uint32_t ppid,
		struct ft_container *out)
{
	struct resolve_ctx r = { .n = n, .id = cgroup_id };
	uint32_t budget = WALK_MAX_DIRS;
	struct ct_ref ref;

	memset(out, 0, sizeof(*out));
	out->h.type = FT_EV_CONTAINER;
	out->h.size = sizeof(*out);
	out->h.cgroup_id = cgroup_id;
	for (int i = 0; i < 2 && !r.path_ok; i++) {
		uint32_t who = i ? ppid : pid;

		memset(&r.ref, 0, sizeof(r.ref));
		if (who && procfs_cgroups(who, on_cgroup_line, &r) == false && r.path_ok)
			out->h.tgid = who;
	}
	/* gone already, or in a cgroup namespace of its own: search the mount */
	if (!r.path_ok && n->cgroup2[0]) {
		char rel[1024] = "";

		if (cgroup_id == 1) /* the root's kernfs id (cgroup2 root ino) */
			r.path_ok = true, copy_str(r.path, sizeof(r.path), "/");
		else
			walk_cgroups(n->cgroup2, rel, sizeof(rel), 0, &budget, on_walk_dir, &r);
	}
	if (!r.path_ok && !r.ref.runtime)
		return false;
	if (r.path_ok) {
		out->flags |= FT_CT_PATH;
		if (strlen(r.path) >= sizeof(out->cgroup))
			out->flags |= FT_CT_TRUNCATED;
		copy_str(out->cgroup, sizeof(out->cgroup), r.path);
	}
	/* the cgroup2 path names the container where the runtime made one there */
	if (r.path_ok && ct_from_cgroup_path(r.path, &ref))
		r.ref = ref;
	if (!r.ref.runtime)
		return true;
	out->runtime = r.ref.runtime;
	snprintf(out->id, sizeof(out->id), "%s", r.ref.id);
	snprintf(out->pod_uid, sizeof(out->pod_uid), "%s", r.ref.pod_uid);
	read_bundle(n, r.ref.id, out);
	return true;
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
		copy_str(f->match, sizeof(f->match), rel);
		copy_str(f->other_id, sizeof(f->other_id), ref.id);
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
	char id[CT_ID_LEN + 1] = "";
	size_t nslen;

	if (!slash || slash == ns_name || !slash[1] || strchr(slash + 1, '/')) {
		snprintf(err, errlen, "--pod %s: want NAMESPACE/NAME", ns_name);
		return -1;
	}
	nslen = (size_t)(slash - ns_name);
	for (int i = 0; i < n->nbundle_roots && !id[0]; i++) {
		DIR *d = opendir(n->bundle_roots[i]);
		struct dirent *de;

		while (d && !id[0] && (de = readdir(d))) {
			struct ft_container c = { 0 };

			if (strlen(de->d_name) != CT_ID_LEN || !read_bundle(n, de->d_name, &c))
				continue;
			if (strlen(c.ns) == nslen && !strncmp(c.ns, ns_name, nslen) &&
			    !strcmp(c.pod, slash + 1))
				copy_str(id, sizeof(id), de->d_name);
		}
		if (d)
			closedir(d);
	}
	if (!id[0]) {
		snprintf(err, errlen, "--pod %s: no container of this pod on this node", ns_name);
		return -1;
	}
	if (ct_container_cgroup(n, id, path, len, err, errlen))
		return -1;
	/* kubelet puts a pod's containers in one directory: the pod's */
	*strrchr(path, '/') = '\0';
	return 0;
}

/* --- the cache ----------------------------------------------------------- */

#define RETRY_FIRST_NS 1000000000ull
#define RETRY_TRIES    4

struct ct_entry {
	struct ft_container rec;
	uint64_t cgroup_id, used, retry_ns;
	int32_t next; /* hash chain, or free list */
	uint8_t tries;
	bool valid, have_rec;
};

struct ct_cache {
	struct ct_entry *e;
	int32_t *heads;
	uint32_t cap, nheads, used;
	int32_t free_head;
	uint64_t clock, evictions;
};

struct ct_cache *ct_cache_new(uint32_t capacity)
{
	struct ct_cache *c = calloc(1, sizeof(*c));

	if (!c || !capacity)
		goto fail;
	c->cap = capacity;
	c->nheads = capacity * 2;
	c->e = calloc(capacity, sizeof(*c->e));
	c->heads = malloc(c->nheads * sizeof(*c->heads));
	if (!c->e || !c->heads)
		goto fail;
	for (uint32_t i = 0; i < c->nheads; i++)
		c->heads[i] = -1;
	for (uint32_t i = 0; i < capacity; i++)
		c->e[i].next = i + 1 < capacity ? (int32_t)i + 1 : -1;
	return c;
fail:
	ct_cache_free(c);
	return NULL;
}

void ct_cache_free(struct ct_cache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->heads);
	free(c);
}

static uint32_t bucket(const struct ct_cache *c, uint64_t id)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) % c->nheads;
}

static struct ct_entry *find(struct ct_cache *c, uint64_t id)
{
	for (int32_t i = c->heads[bucket(c, id)]; i >= 0; i = c->e[i].next)
		if (c->e[i].cgroup_id == id) {
			c->e[i].used = ++c->clock;
			return &c->e[i];
		}
	return NULL;
}

static void unlink_entry(struct ct_cache *c, int32_t i)
{
	int32_t *at = &c->heads[bucket(c, c->e[i].cgroup_id)];

	while (*at != i)
		at = &c->e[*at].next;
	*at = c->e[i].next;
	c->e[i].valid = false;
	c->e[i].next = c->free_head;
	c->free_head = i;
	c->used--;
}

static struct ct_entry *insert(struct ct_cache *c, uint64_t id)
{
	struct ct_entry *e;
	int32_t i;

	if (c->used == c->cap) {
		int32_t lru = 0;

		for (uint32_t k = 1; k < c->cap; k++)
			if (c->e[k].used < c->e[lru].used)
				lru = (int32_t)k;
		unlink_entry(c, lru);
		c->evictions++;
	}
	i = c->free_head;
	e = &c->e[i];
	c->free_head = e->next;
	memset(e, 0, sizeof(*e));
	e->valid = true;
	e->cgroup_id = id;
	e->used = ++c->clock;
	e->next = c->heads[bucket(c, id)];
	c->heads[bucket(c, id)] = i;
	c->used++;
	return e;
}

const struct ft_container *ct_cache_get(struct ct_cache *c, uint64_t cgroup_id)
{
	struct ct_entry *e = c ? find(c, cgroup_id) : NULL;

	return e && e->have_rec ? &e->rec : NULL;
}

/* nothing more to learn: a path outside containers, or a pod's names */
static bool complete(const struct ct_entry *e)
{
	return e->have_rec && (e->rec.flags & FT_CT_PATH) &&
	       (!e->rec.runtime || (e->rec.flags & FT_CT_ANNOTATED));
}

bool ct_cache_due(struct ct_cache *c, uint64_t cgroup_id, uint64_t now_ns)
{
	struct ct_entry *e = find(c, cgroup_id);

	if (!e)
		e = insert(c, cgroup_id);
	else if (complete(e) || e->tries >= RETRY_TRIES || now_ns < e->retry_ns)
		return false;
	e->retry_ns = now_ns + (RETRY_FIRST_NS << e->tries);
	e->tries++;
	return true;
}

void ct_cache_put(struct ct_cache *c, const struct ft_container *rec, uint64_t now_ns)
{
	struct ct_entry *e = find(c, rec->h.cgroup_id);

	if (!e)
		e = insert(c, rec->h.cgroup_id);
	e->rec = *rec;
	ct_record_terminate(&e->rec);
	e->have_rec = true;
}

void ct_cache_get_stats(const struct ct_cache *c, struct ct_cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = c->cap;
	out->evictions = c->evictions;
	for (uint32_t i = 0; i < c->cap; i++) {
		if (!c->e[i].valid)
			continue;
		out->entries++;
		if (complete(&c->e[i]))
			out->resolved++;
		else
			out->unresolved++;
	}
}
