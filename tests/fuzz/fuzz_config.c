// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Any bytes as a --config file (thresholds and allow = RULE lines), and
 * each of its lines as a --set and an --allow argument.
 */
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "core/detector.h"
#include "contain/policy.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_opts *po = calloc(1, sizeof(*po));
	char path[64], err[512], *text = malloc(size + 1), *line, *save;
	FILE *f = fuzz_file(data, size, path, sizeof(path));
	struct det_config c;

	if (!po || !text || !f)
		goto out;
	det_config_defaults(&c);
	policy_defaults(po);
	config_load(path, &c, po, err, sizeof(err));
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		det_config_set(&c, line, err, sizeof(err));
		policy_add_allow(po, line, err, sizeof(err));
		policy_set_act_on(po, line, err, sizeof(err));
	}
out:
	if (f)
		fclose(f);
	free(text);
	free(po);
	return 0;
}
