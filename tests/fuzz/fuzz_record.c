// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Any bytes as ring-buffer records: [2-byte length][that many bytes]...,
 * each through the decoder live tracing uses (ft_record_decode), and what
 * it accepts through a pipeline, as live.
 */
#include <string.h>
#include "fuzz.h"
#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_run_info info = { .kernel = "fuzz" };
	const struct output_shows shows = { 0 };
	struct pipeline_opts po = { 0 };
	struct pipeline *p = NULL;
	struct output *o = NULL;
	union ft_record rec;
	char err[512];
	FILE *devnull = fopen("/dev/null", "w");

	po.table_capacity = 256;
	po.grace_ns = 1000000000ull;
	det_config_defaults(&po.detect);
	policy_defaults(&po.policy);
	if (!devnull || pipeline_new(&po, &info, &p, err, sizeof(err)) ||
	    !(o = pipeline_add_lines(p, devnull, OUT_JSON, &info, &shows)))
		goto out;
	while (size >= 2) {
		size_t len = (size_t)(data[0] | data[1] << 8);

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (ft_record_decode(data, len, &rec) == 1 && pipeline_feed(p, &rec))
			break;
		data += len;
		size -= len;
	}
	pipeline_finish(p, 0, err, sizeof(err));
out:
	pipeline_free(p);
	output_free(o);
	if (devnull)
		fclose(devnull);
	return 0;
}
