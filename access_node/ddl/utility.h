/*
 * ddl/utility.h — DDL on distributed hypertables (ProcessUtility hook).
 */
#ifndef HYPERDIST_DDL_UTILITY_H
#define HYPERDIST_DDL_UTILITY_H

extern void hd_utility_init(void);	/* from _PG_init */

#endif							/* HYPERDIST_DDL_UTILITY_H */
