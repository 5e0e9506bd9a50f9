/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef FT_CONFIG_H
#define FT_CONFIG_H

#include <stddef.h>
#include "contain/policy.h"
#include "core/detector.h"

/*
 * A --config file of key = value lines (# comments): "allow = RULE" into
 * policy, thresholds into detect.  -1 with "FILE:LINE: reason" in err; a
 * line too long, not text or not a setting refuses the whole file.
 */
int config_load(const char *path, struct det_config *detect, struct policy_opts *policy, char *err,
		size_t errlen);

#endif /* FT_CONFIG_H */
