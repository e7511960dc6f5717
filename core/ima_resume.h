/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Continuing a measurement list across daemon restarts: read the list left
 * in a runtime directory, cut a record torn by a crash, replay the list and
 * compare it with the PCRs, and decide whether to continue it.
 *
 * Thread safety: runs once at start-up, before any other list access.
 */
#ifndef IMAFS_CORE_IMA_RESUME_H
#define IMAFS_CORE_IMA_RESUME_H

#include <stdbool.h>
#include <stdint.h>

struct tpm;

enum ima_resume_action {
	IMA_RESUME_NEW,      /* start a new list (none was there, or the old one was archived) */
	IMA_RESUME_CONTINUE, /* append to the list that is there */
};

struct ima_resume_result {
	enum ima_resume_action action;
	uint64_t count;      /* records in the continued list */
	uint64_t violations; /* violation records among them */
	uint64_t extended;   /* records that were durable but not yet extended, extended now */
	uint64_t truncated;  /* bytes of torn records cut from the list files */
	char archive[64];    /* subdirectory the old list was moved to, or "" */
	char message[1024];  /* what happened, for one log line; on error, why and the fix */
};

/*
 * Examine the list files in the runtime directory DIR_FD against TPM.
 * NEW_LOG archives any old list instead of continuing it. Returns 0 with
 * *RET filled, or a negative errno with RET->message explaining: -ESTALE
 * when the list and the PCRs disagree (start with a new list to proceed),
 * -EBADMSG when the list cannot be parsed.
 */
int ima_resume(int dir_fd, struct tpm *tpm, bool new_log, struct ima_resume_result *ret);

#endif
