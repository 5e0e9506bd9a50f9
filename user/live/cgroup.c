// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/btf.h>
#include "live/cgroup.h"

#define CGROUP_SUPER_MAGIC  0x27e0eb
#define CGROUP2_SUPER_MAGIC 0x63677270

/* The controller's index in the running kernel's enum cgroup_subsys_id. */
static int subsys_id_from_btf(const char *controller)
{
	char want[64];
	struct btf *btf = btf__load_vmlinux_btf();
	const struct btf_type *t;
	int id = -1, type_id;

	if (!btf)
		return -1;
	snprintf(want, sizeof(want), "%s_cgrp_id", controller);
	type_id = btf__find_by_name_kind(btf, "cgroup_subsys_id", BTF_KIND_ENUM);
	t = type_id > 0 ? btf__type_by_id(btf, type_id) : NULL;
	for (int i = 0; t && i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;

		if (!strcmp(btf__name_by_offset(btf, e->name_off), want))
			id = e->val;
	}
	btf__free(btf);
	return id;
}

/*
 * Which controller a v1 hierarchy holding `path` carries: the mount in
 * /proc/self/mountinfo with the longest mount point prefixing it.
 */
static int v1_controller(const char *path, char *out, size_t outlen)
{
	char line[4096], best_opts[512] = "";
	size_t best_len = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], fstype[64], opts[512];
		const char *sep = strstr(line, " - ");
		size_t len;

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %511s", fstype, opts) != 2 ||
		    strcmp(fstype, "cgroup"))
			continue;
		len = strlen(mnt);
		if (len > best_len && !strncmp(path, mnt, len) &&
		    (path[len] == '/' || path[len] == '\0')) {
			best_len = len;
			snprintf(best_opts, sizeof(best_opts), "%s", opts);
		}
	}
	fclose(f);
	/* super options look like "rw,pids" or "rw,cpu,cpuacct" */
	for (char *save, *tok = strtok_r(best_opts, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "rw") || !strcmp(tok, "ro") || strchr(tok, '='))
			continue;
		if (subsys_id_from_btf(tok) >= 0) {
			snprintf(out, outlen, "%s", tok);
			return 0;
		}
	}
	return -1;
}

int cgroup_resolve(const char *path, struct ft_cgroup_filter *out, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	memset(out, 0, sizeof(*out));
	if (!realpath(path, real) || stat(real, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--cgroup %s: not a directory (%s)", path,
			 errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if (statfs(real, &sfs)) {
		snprintf(err, errlen, "--cgroup %s: %s", path, strerror(errno));
		return -1;
	}
	out->id = st.st_ino;
	if (sfs.f_type == CGROUP2_SUPER_MAGIC) {
		out->subsys = -1;
		snprintf(out->controller, sizeof(out->controller), "cgroup2");
		return 0;
	}
	if (sfs.f_type != CGROUP_SUPER_MAGIC) {
		snprintf(err, errlen, "--cgroup %s: not in a cgroup filesystem", path);
		return -1;
	}
	if (v1_controller(real, out->controller, sizeof(out->controller))) {
		snprintf(
		    err, errlen,
		    "--cgroup %s: cgroup v1 hierarchy without a controller forktrace can follow",
		    path);
		return -1;
	}
	out->subsys = subsys_id_from_btf(out->controller);
	return 0;
}
