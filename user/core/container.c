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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "core/container.h"

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

void ct_copy_field(char *dst, size_t len, const char *src)
{
	size_t n = src ? strnlen(src, len - 1) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

bool ct_parse_bundle_config(const char *text, size_t len, enum ct_runtime runtime,
			    struct ft_container *out, char *cgroups_path, size_t cglen)
{
	/* each CRI implementation's own keys, never the other's */
	static const char *const cri[4] = { "io.kubernetes.cri.sandbox-namespace",
					    "io.kubernetes.cri.sandbox-name",
					    "io.kubernetes.cri.container-name",
					    "io.kubernetes.cri.sandbox-uid" };
	static const char *const crio[4] = { "io.kubernetes.pod.namespace",
					     "io.kubernetes.pod.name",
					     "io.kubernetes.container.name",
					     "io.kubernetes.pod.uid" };
	const char *const *keys = runtime == CT_CONTAINERD ? cri : runtime == CT_CRIO ? crio : NULL;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *ann = json_object_get(root, "annotations");
	const char *pod = keys ? json_string_value(json_object_get(ann, keys[1])) : NULL;
	const char *cg =
	    json_string_value(json_object_get(json_object_get(root, "linux"), "cgroupsPath"));
	bool named = pod && pod[0];

	if (cgroups_path)
		ct_copy_field(cgroups_path, cglen, cg);
	if (named) {
		ct_copy_field(out->ns, sizeof(out->ns),
			      json_string_value(json_object_get(ann, keys[0])));
		ct_copy_field(out->pod, sizeof(out->pod), pod);
		ct_copy_field(out->name, sizeof(out->name),
			      json_string_value(json_object_get(ann, keys[2])));
		if (json_string_value(json_object_get(ann, keys[3])))
			ct_copy_field(out->pod_uid, sizeof(out->pod_uid),
				      json_string_value(json_object_get(ann, keys[3])));
		out->flags |= FT_CT_ANNOTATED;
	}
	json_decref(root);
	return named;
}

/*
 * The cgroup a bundle's linux.cgroupsPath makes, from the hierarchy's root:
 * systemd's "SLICE:PREFIX:NAME" (kubepods-burstable-pod<uid>.slice:
 * cri-containerd:<id> is /kubepods.slice/kubepods-burstable.slice/
 * kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope), or a path
 * (a relative one is taken from the root).
 */
bool ct_cgroup_of_bundle(const char *cgroups_path, char *out, size_t len)
{
	const char *c1 = strchr(cgroups_path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t at = 0;

	if (!cgroups_path[0] || len < 2)
		return false;
	if (!c1) {
		return (size_t)snprintf(out, len, "%s%s", cgroups_path[0] == '/' ? "" : "/",
					cgroups_path) < len;
	}
	if (!c2 || c1 == cgroups_path || strchr(c2 + 1, ':') || strchr(cgroups_path, '/'))
		return false;
	/* each dash-separated prefix of the slice is a slice above it */
	if (strncmp(cgroups_path, "-.slice:", 8)) {
		size_t slen = (size_t)(c1 - cgroups_path);

		if (slen < 7 || strncmp(c1 - 6, ".slice", 6))
			return false;
		for (size_t i = 0; i < slen - 6; i++) {
			if (cgroups_path[i] != '-' && i != slen - 7)
				continue;
			if (at + i + 9 >= len)
				return false;
			out[at++] = '/';
			memcpy(out + at, cgroups_path, i + (cgroups_path[i] != '-'));
			at += i + (cgroups_path[i] != '-');
			memcpy(out + at, ".slice", 6);
			at += 6;
		}
	}
	return (size_t)snprintf(out + at, len - at, "/%.*s-%s.scope", (int)(c2 - c1 - 1), c1 + 1,
				c2 + 1) < len - at;
}

void ct_label(const struct ft_container *c, enum ct_label_form form, char *buf, size_t len)
{
	if (!len)
		return;
	buf[0] = '\0';
	if (!c || !c->runtime)
		return;
	if (!(c->flags & FT_CT_ANNOTATED))
		snprintf(buf, len, "%s%.12s", form == CT_LABEL_POD ? "" : "container ", c->id);
	else if (form == CT_LABEL_POD)
		snprintf(buf, len, "%s/%s", c->ns, c->pod);
	else if (form == CT_LABEL_FULL)
		snprintf(buf, len, "%s/%s/%s", c->ns, c->pod, c->name);
	else
		snprintf(buf, len, "pod %s/%s, container %s", c->ns, c->pod, c->name);
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

bool ct_join_cgroup_path(const char *ns_root, const char *path, char *out, size_t len)
{
	size_t at;

	if ((size_t)snprintf(out, len, "%s", ns_root) >= len)
		return false;
	at = strlen(out);
	for (const char *p = path; *p;) {
		const char *end = strchr(p, '/');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n == 2 && !strncmp(p, "..", 2)) {
			char *slash = strrchr(out, '/');

			if (!slash)
				return false; /* above the hierarchy's root */
			*slash = '\0';
			at = (size_t)(slash - out);
		} else if (n && !(n == 1 && *p == '.')) {
			if (at + 1 + n >= len)
				return false;
			out[at++] = '/';
			memcpy(out + at, p, n);
			at += n;
			out[at] = '\0';
		}
		p += n + (end ? 1 : 0);
	}
	if (!at)
		snprintf(out, len, "/");
	return true;
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

static bool pod_entry(const struct ct_entry *e)
{
	return e->have_rec && (e->rec.flags & FT_CT_ANNOTATED);
}

static struct ct_entry *insert(struct ct_cache *c, uint64_t id)
{
	struct ct_entry *e;
	int32_t i;

	if (c->used == c->cap) {
		int32_t lru = -1, lru_pod = 0;

		/* a pod's attribution last: the allow rules depend on it, and
		 * churned cgroups (anyone's) must not push it out */
		for (uint32_t k = 0; k < c->cap; k++) {
			if (pod_entry(&c->e[k])) {
				if (c->e[k].used < c->e[lru_pod].used || !pod_entry(&c->e[lru_pod]))
					lru_pod = (int32_t)k;
			} else if (lru < 0 || c->e[k].used < c->e[lru].used) {
				lru = (int32_t)k;
			}
		}
		unlink_entry(c, lru >= 0 ? lru : lru_pod);
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

void ct_cache_gone(struct ct_cache *c, uint64_t cgroup_id)
{
	struct ct_entry *e = find(c, cgroup_id);

	if (e)
		e->tries = RETRY_TRIES;
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
