/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The check macro of the C unit tests: counts passed and failed checks and
 * prints each failed expression with its file and line. Each test program
 * includes it once and prints the two counts at its end.
 */
#ifndef IMAFS_TESTS_UNIT_CHECK_H
#define IMAFS_TESTS_UNIT_CHECK_H

#include <stdio.h>

static unsigned int passed, failed;

#define CHECK(expr)                                                                                \
	do {                                                                                       \
		if (expr) {                                                                        \
			passed++;                                                                  \
		} else {                                                                           \
			failed++;                                                                  \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);  \
		}                                                                                  \
	} while (0)

#endif
