/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One code round: send a code, ask for it, resend on 'resend' / 'call' /
 * 'sms' / ..., check it, cancel what is pending when the round fails. The
 * counters live here: tries, sends (each reserved against send_limit in
 * state.db when asked), failures counted in state.db with the lockout
 * re-check at success. The login (a stored member), self-enrolment (a number
 * that is not stored yet) and the CLI (add, phone, test) run the same loop
 * with different options. Prompts go through a callback; the round never
 * logs, prints or calls PAM: it returns an outcome with a reason line (no
 * code, no full number) and a twofa_message row for the user, and the
 * caller turns them into a decision or a CLI message. Texts the user reads
 * during the round (a refused resend, a wrong code) are message rows said
 * at the start of the next prompt, which PAM_SILENT keeps. */
#ifndef TWOFA_CODE_ROUND_H
#define TWOFA_CODE_ROUND_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "decision.h"
#include "state.h"
#include "verify.h"

/* What the prompt callback came to. */
typedef enum twofa_round_ask {
	TWOFA_ROUND_ASK_OK = 0,    /* *answer: malloc'd; the round frees it with twofa_free_secret */
	TWOFA_ROUND_ASK_CANCELLED, /* the conversation failed, Ctrl-C, end of input */
	TWOFA_ROUND_ASK_TOO_LONG,  /* an answer over the caller's bound, refused as a whole */
} twofa_round_ask;

typedef struct twofa_round_result twofa_round_result;

/* What a recovery or bypass code came to (io->onetime_use). */
typedef enum twofa_round_onetime {
	TWOFA_ROUND_ONETIME_USED = 0, /* consumed: it lets in (the round records the success) */
	TWOFA_ROUND_ONETIME_WRONG,    /* not one of the member's usable codes: a failure */
	TWOFA_ROUND_ONETIME_ERROR,    /* it could not be consumed: the round ends ERROR */
} twofa_round_onetime;

/* What the send policy says of a send (io->admit_send); *reason says why not. */
typedef enum twofa_round_admit {
	TWOFA_ROUND_ADMIT = 0,     /* it may go */
	TWOFA_ROUND_ADMIT_REFUSED, /* not to that destination (a country): *message for the user */
	TWOFA_ROUND_ADMIT_SPENT,   /* not now (a budget): said as a spent send limit, *message_arg
				    * the minutes until sends go again; a member who holds a
				    * one-time code is asked for one */
	TWOFA_ROUND_ADMIT_ERROR,   /* the policy cannot be checked (its store): the round ends ERROR */
} twofa_round_admit;

/* What the round tells a caller that says things at once (the CLI: a line
 * on stderr) instead of at the start of the next prompt (io->event). */
typedef enum twofa_round_event_kind {
	TWOFA_ROUND_SENDING = 0,     /* a send to channel is about to be asked of Twilio */
	TWOFA_ROUND_SEND_DONE,       /* ... it went (sent) or not */
	TWOFA_ROUND_RETRY,           /* a try failed, left remain: verify WRONG_CODE, INVALID_CODE, EXPIRED */
	TWOFA_ROUND_KEPT,            /* a resend by channel was refused, the code sent still works:
				      * message and arg (the notice), verify and detail (Twilio's text) */
	TWOFA_ROUND_NO_MORE_RESENDS, /* options.max_resends were used */
} twofa_round_event_kind;

typedef struct twofa_round_event {
	twofa_round_event_kind kind;
	twofa_channel channel;
	bool sent;
	twofa_verify_outcome verify;
	twofa_message message;
	long arg;
	long left;
	const char *detail; /* "" when none */
} twofa_round_event;

/* The caller's side of the round. ask is required; the rest may be NULL. */
typedef struct twofa_round_io {
	void *ctx;
	/* Asks one question: echo_on for a Verify code, off for a secret. */
	twofa_round_ask (*ask)(void *ctx, bool echo_on, const char *prompt, char **answer);
	/* The first code prompt for where the code went (label "SMS", masked
	 * number, offers " (or 'call' for a voice call)"); false or NULL: the
	 * default "Enter the code sent by LABEL to MASKED: ". */
	bool (*code_prompt)(void *ctx, const char *label, const char *masked, const char *offers, char *out,
			    size_t size);
	/* A line for the caller's log (LOG_DEBUG, LOG_NOTICE, ...): never a
	 * code or a full number. The round itself logs nothing. */
	void (*note)(void *ctx, int priority, const char *line);
	/* The send policy (country allow-list, per-host send budget), asked
	 * once before every send with the number's country (NULL for an
	 * email). NULL: admit. A refusal is never an outage. */
	twofa_round_admit (*admit_send)(void *ctx, const char *country, twofa_message *message,
					long *message_arg, char *reason, size_t reason_size);
	/* Sees every answer before the round reads it (the login: a screen
	 * locker that answered with the password). True ends the round DENIED
	 * with PAM_AUTH_ERR, *message and reason, and no failure counted. */
	bool (*screen)(void *ctx, const char *answer, twofa_message *message, char *reason,
		       size_t reason_size);
	/* Recovery and bypass codes (the login; NULL elsewhere, where every
	 * answer but a resend goes to Twilio). With onetime_use the answer
	 * 'recovery' asks for one (refused with options.recovery false or when
	 * onetime_held says the member holds none), an answer in a one-time
	 * code's form (lib/answer.h) is one, and a round that cannot send (a
	 * send limit, Twilio's too, or an outage with options.outage_recovery)
	 * asks for one instead when onetime_held says so. onetime_use consumes
	 * code after the round's lockout re-check; USED fills res->message,
	 * message_arg and reason (the round then records the success, with the
	 * lockout re-check), ERROR fills res->pam_code, message and reason;
	 * outage: Twilio could not be reached. */
	bool (*onetime_held)(void *ctx);
	/* With it, what the round would say at the start of the next prompt
	 * is an event instead, every prompt is the first one, and each send
	 * is told before and after it goes. */
	void (*event)(void *ctx, const twofa_round_event *e);
	twofa_round_onetime (*onetime_use)(void *ctx, const char *code, bool outage, twofa_round_result *res);
} twofa_round_io;

/* Where the codes go. Strings are borrowed for the round. */
typedef struct twofa_round_target {
	const char *user;          /* whose counters: state.db send_limit and failures */
	bool enrolled;             /* false: counters under the keyed hash of user (state.h) */
	const char *phone;         /* E.164, or "" / NULL for an email-only member */
	const char *email;         /* or NULL */
	const char *country;       /* ISO code of the number (for the send policy), or NULL */
	twofa_channel channel;     /* the first send's channel */
	twofa_channel own_channel; /* the member's own channel, for allowed_channels ("member") */
	const char *rate_limit_id; /* Twilio's rate-limit key, or NULL */
	/* channel TWOFA_CHANNEL_TOTP (an authenticator app): nothing is sent,
	 * the code typed goes to a Verify Challenge of this Entity's Factor and
	 * an approved one is claimed in state.db's replay guard. */
	const char *totp_entity;
	const char *totp_factor;
} twofa_round_target;

typedef struct twofa_round_options {
	long max_tries;      /* wrong, empty or expired answers before the round is DENIED */
	bool reserve_sends;  /* every send reserved against send_limit/send_window in state.db */
	bool count_failures; /* every wrong code a failure in state.db (lockout_failures) */
	bool record_success; /* an approved code recorded in state.db, with the lockout re-check */
	const twofa_state_origin *origin; /* with count_failures / record_success */
	const char *service;              /* with record_success: the grace period's service */
	unsigned allowed_channels;        /* TWOFA_CHANNELS_* mask; 0: the config's */
	bool recovery;        /* with io->onetime_use: recovery = yes (no: a one-time code is wrong) */
	bool outage_recovery; /* with recovery: an outage asks for a one-time code (failmode = secure) */
	long max_blank;   /* >0: that many empty answers are skipped, not tries; one more: DENIED, NO_CODE */
	long max_resends; /* >0: resends after that many are refused (NO_MORE_RESENDS) */
	bool strict_resends; /* a refused resend ends the round, unless Twilio said too many sends, a
			       * disabled channel or a landline (the CLI) */
} twofa_round_options;

typedef enum twofa_round_outcome {
	TWOFA_ROUND_APPROVED = 0, /* the code was approved (and recorded, with record_success) */
	TWOFA_ROUND_DENIED,       /* max_tries wrong codes, locked out, Twilio refused a check */
	TWOFA_ROUND_CANCELLED,    /* the prompt was cancelled or refused; the pending code cancelled */
	TWOFA_ROUND_OUTAGE,       /* Twilio unreachable: the caller decides (failmode, or refuse) */
	TWOFA_ROUND_REFUSED,      /* no code could be sent: send_limit, channel, send policy, Twilio */
	TWOFA_ROUND_ERROR,        /* the state store, Twilio's credentials or service */
	TWOFA_ROUND_SENT,         /* twofa_code_round_send / _check: a code is on its way, nothing asked */
} twofa_round_outcome;

/* What the round came to, for the caller's decision or message. */
struct twofa_round_result {
	twofa_round_outcome outcome;
	int pam_code;                             /* the PAM code the login would return for it */
	twofa_message message;                    /* the user's text (TWOFA_MSG_NONE: none) */
	long message_arg;                         /* its argument */
	twofa_verify_outcome verify;              /* the last Twilio outcome (OK when none) */
	bool ask_cancelled;                       /* CANCELLED by the prompt (not by Twilio) */
	bool ask_too_long;                        /* ... because the answer was too long */
	long tries;                               /* tries used */
	long sends;                               /* codes sent (first send and resends) */
	char channel[TWOFA_DECISION_CHANNEL_MAX]; /* where the code went: a channel name, "" before */
	char to[TWOFA_DECISION_TO_MAX];           /* the masked destination, "" before */
	char reason[TWOFA_REASON_MAX];            /* for the decision line: no code, no full number */
	bool onetime;                             /* decided by a recovery or bypass code (no destination) */
};

/* Runs a round for t with Verify client v: sends, asks (up to max_tries
 * tries), checks, and cancels what is pending unless APPROVED (or OUTAGE,
 * where a cancel would wait on the dead server again). Fills *res and
 * returns res->outcome. Enrolment: t->enrolled false (or true with the
 * user's name), reserve_sends and count_failures true, no recovery. */
twofa_round_outcome twofa_code_round(const twofa_config *cfg, twofa_verify *v, const twofa_round_target *t,
				     const twofa_round_options *o, const twofa_round_io *io,
				     twofa_round_result *res);

/* code_from_answer's halves, which ask nothing: a code sent for the next
 * attempt (SENT, or what a refused first send comes to), and a code typed
 * elsewhere (in the password's answer) checked once: APPROVED (recorded),
 * DENIED for a wrong one (counted), SENT when it was used or expired and a
 * new one went, or as twofa_code_round's outcomes. */
twofa_round_outcome twofa_code_round_send(const twofa_config *cfg, twofa_verify *v,
					  const twofa_round_target *t, const twofa_round_options *o,
					  const twofa_round_io *io, twofa_round_result *res);
twofa_round_outcome twofa_code_round_check(const twofa_config *cfg, twofa_verify *v,
					   const twofa_round_target *t, const twofa_round_options *o,
					   const twofa_round_io *io, const char *code,
					   twofa_round_result *res);

/* " (or 'call' for a voice call, 'email' for email)": the channels other
 * than current that allowed_channels lets a member of channel own ask for
 * and that have a destination (phone, email: NULL or "" for none), or "". */
void twofa_round_offers(unsigned allowed_channels, twofa_channel own, twofa_channel current,
			const char *phone, const char *email, char *out, size_t size);

/* The round's result as a decision: its PAM code, result word, priority,
 * message and where the code went (OUTAGE is PAM_AUTHINFO_UNAVAIL; a caller
 * under failmode=safe decides otherwise itself). One decided by a one-time
 * code names no destination, and its success is LOG_NOTICE. */
void twofa_round_decide(const twofa_round_result *res, twofa_decision *d);

#endif
