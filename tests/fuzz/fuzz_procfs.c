// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Any bytes as what /proc and the container runtimes hand forktrace: a
 * /proc/<pid>/stat line, /proc/<pid>/cgroup lines, cgroup paths (container
 * and pod attribution) and an OCI bundle's config.json.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "core/container.h"
#include "live/procfs.h"

static bool any_line(void *ctx, const char *ctrl, const char *path)
{
	struct ct_ref ref;
	char joined[4096];

	ct_from_cgroup_path(path, &ref);
	ct_join_cgroup_path("/kubepods", path, joined, sizeof(joined));
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *save, cg[4096], out[4096];
	struct procfs_stat st;
	struct ft_container c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	procfs_parse_stat(text, &st);
	for (enum ct_runtime rt = CT_CONTAINERD; rt <= CT_PODMAN; rt++)
		if (ct_parse_bundle_config((const char *)data, size, rt, &c, cg, sizeof(cg)))
			ct_cgroup_of_bundle(cg, out, sizeof(out));
	ct_cgroup_of_bundle(text, out, sizeof(out));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		procfs_cgroup_line(line, any_line, NULL);
	free(text);
	return 0;
}
