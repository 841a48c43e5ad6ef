/* SPDX-License-Identifier: PostgreSQL */
/*
 * remote/error.h — rethrowing errors that a data node or its agent raised.
 */
#ifndef HYPERDIST_REMOTE_ERROR_H
#define HYPERDIST_REMOTE_ERROR_H

#include "hyperdist.pb-c.h"

/*
 * ereport(elevel) with the remote SQLSTATE, message, detail, hint and
 * context, plus a context line naming the data node (and the remote SQL
 * when given).  Never returns when elevel >= ERROR.
 */
extern void hd_report_remote_error(int elevel, const char *node_name,
								   const Hyperdist__Error *err,
								   const char *sql);

#endif							/* HYPERDIST_REMOTE_ERROR_H */
