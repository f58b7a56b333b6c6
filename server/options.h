/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Module arguments and the configuration they override. */
#ifndef PAM_TWOFA_OPTIONS_H
#define PAM_TWOFA_OPTIONS_H

#include <stdbool.h>

#include "host.h"

#include "config.h"
#include "decision.h"

#define TWOFA_PROMPT_MAX 256

typedef enum twofa_password_source {
	TWOFA_PASSWORD_STORE = 0, /* verify against the member's Argon2id hash */
	TWOFA_PASSWORD_NONE,      /* an earlier module or sshd proved the first factor */
} twofa_password_source;

typedef struct twofa_options {
	twofa_config cfg;
	const char *action; /* "auth", "account", "password": for the decision line */
	const char *config_path;
	bool debug;
	bool nullok;
	bool try_first_pass;
	bool use_first_pass;
	twofa_password_source password;
	bool code_from_answer; /* the code comes with the password (split_answer); no code prompt */
	const char *groups;    /* comma-separated; "!name" excludes; NULL = everyone */
	/* Self-enrolment of a user who is not enrolled (server/enrol.c): the
	 * enroll= argument, else twofa.conf's enroll under password=none. */
	twofa_enroll enroll;
	bool enroll_set;            /* enroll= was given */
	const char *enroll_ignored; /* NULL, or why twofa.conf's enroll does not apply (a NOTICE) */
	const char *enroll_off;     /* NULL, or why enrolment is off for this caller (the reason) */
	char password_prompt[TWOFA_PROMPT_MAX];
	char code_prompt[TWOFA_PROMPT_MAX]; /* %c channel, %n masked number, %o other channels, %% */
} twofa_options;

/* Reads config= first, loads that file, then applies every other argument.
 * True, or false with *d the decision (PAM_SERVICE_ERR, result=error, what is
 * wrong): an unknown or malformed argument fails closed. opts must be freed
 * with twofa_options_free, also after a failure. */
bool twofa_options_load(const char *action, int argc, const char **argv, twofa_options *opts,
			twofa_decision *d);

void twofa_options_free(twofa_options *opts);

/* Expands a prompt template: %c the channel's label, %n the masked
 * destination, %o the other channels the member may ask for, as
 * " (or 'call' for a voice call)" or "". False if the result did not fit. */
bool twofa_prompt_expand(const char *template, const char *channel_label, const char *masked_number,
			 const char *offers, char *out, size_t size);

#endif
