// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Any bytes as a recording (-r, forktrace report): the reader, then every
 * record it accepts through a replay pipeline (table, detector, outputs).
 * Built with FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, the reader skips
 * its checksums: mutations reach the records, not only the CRC check.
 */
#include <string.h>
#include "fuzz.h"
#include "pipeline.h"
#include "core/recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct output_shows shows = { .tree = true };
	struct pipeline_opts po = { 0 };
	struct pipeline *p = NULL;
	struct output *o = NULL;
	struct ft_reader *r = NULL;
	struct ft_run_info info;
	union ft_record rec = { 0 };
	char path[64], err[512];
	FILE *f = fuzz_file(data, size, path, sizeof(path));
	int n = 0;

	if (!f)
		return 0;
	FILE *devnull = fopen("/dev/null", "w");

	po.table_capacity = 256;
	po.grace_ns = 1000000000ull;
	det_config_defaults(&po.detect);
	policy_defaults(&po.policy);
	if (devnull && !ft_reader_open(path, &info, &r, err, sizeof(err)) &&
	    !pipeline_new(&po, &info, &p, err, sizeof(err)) &&
	    /* every file starts "FORKTRC": the size picks the format */
	    (o = pipeline_add_lines(p, devnull, size & 1 ? OUT_JSON : OUT_HUMAN, &info, &shows))) {
		pipeline_start(p, "fuzz", 1);
		while (ft_reader_next(r, &rec, err, sizeof(err)) > 0 && n++ < 10000)
			if (pipeline_feed(p, &rec))
				break;
		pipeline_finish(p, rec.h.ts_ns, err, sizeof(err));
	}
	pipeline_free(p);
	output_free(o);
	ft_reader_close(r);
	if (devnull)
		fclose(devnull);
	fclose(f);
	return 0;
}
