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
#include <string.h>
#include "container.h"

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
