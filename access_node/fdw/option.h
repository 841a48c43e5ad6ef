/*
 * fdw/option.h — options of the hyperdist foreign data wrapper.
 *
 * Foreign tables and their columns may name the remote object.  Data
 * nodes' server options are read in remote/node.c; the validator here
 * checks every object's options as they are set.
 */
#ifndef HYPERDIST_FDW_OPTION_H
#define HYPERDIST_FDW_OPTION_H

#include "postgres.h"

#include "foreign/foreign.h"

/* Remote schema and table names of foreign table relid. */
extern void hd_table_remote_name(Oid relid, char **nspname, char **relname);

/* Remote name of column attnum of foreign table relid. */
extern char *hd_column_remote_name(Oid relid, AttrNumber attnum);

#endif							/* HYPERDIST_FDW_OPTION_H */
