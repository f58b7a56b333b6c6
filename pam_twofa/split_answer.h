/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pam_twofa split_answer: the locker recipe's first line, done entirely in
 * the module. A program that answers every prompt with one typed buffer
 * (swaylock, i3lock) can still bring a code: the user types the password, a
 * space and the code. This line, before the module that checks the
 * password, keeps the trailing code for pam_twofa code_from_answer and
 * leaves the password alone in PAM_AUTHTOK. */
#ifndef PAM_TWOFA_SPLIT_ANSWER_H
#define PAM_TWOFA_SPLIT_ANSWER_H

#include <stdbool.h>
#include <stddef.h>

#include <security/pam_modules.h>

#define TWOFA_SPLIT_CODE_MIN 4  /* digits of a Verify code: 4..10 */
#define TWOFA_SPLIT_CODE_MAX 10

/* Where answer's password ends: before one blank (space or tab) and 4..10
 * ASCII digits that end it, with a password of at least one byte before
 * them; else strlen(answer), the whole answer is the password. */
size_t twofa_split_point(const char *answer);

/* Takes PAM_AUTHTOK if set, else asks "Password: " (echo off) once; keeps a
 * trailing code (pam_set_data, wiped at cleanup) and sets PAM_AUTHTOK to the
 * rest. PAM_IGNORE, or the failure's code; a line only with debug. */
int twofa_split_answer(pam_handle_t *pamh, bool debug);

/* Moves the code kept on this handle into out (size bytes), forgetting it
 * there. False when none was kept or it does not fit. */
bool twofa_split_answer_take(pam_handle_t *pamh, char *out, size_t size);

#endif
