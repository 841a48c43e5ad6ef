/* SPDX-License-Identifier: PostgreSQL */
/*
 * metadata/node_status.c — _hyperdist_catalog.data_node_status (see
 * node_status.h).
 *
 * The table has no catalog_changed trigger: no backend caches it, and the
 * view hyperdist_information.data_nodes reads shared memory for what is
 * live.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "metadata/catalog.h"
#include "metadata/node_status.h"
#include "spi_plan.h"

#define STATUS_DOWN "unavailable"
#define STATUS_UP "available"

List *
hd_node_status_load(void)
{
	MemoryContext caller = hd_spi_connect();
	List	   *rows = NIL;

	hd_spi_execute("SELECT node_name, status, since, last_error"
				   " FROM _hyperdist_catalog.data_node_status",
				   0, NULL, NULL, NULL, true, 0);
	MemoryContextSwitchTo(caller);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HdNodeStatus *st = palloc0(sizeof(HdNodeStatus));
		bool		isnull;
		Datum		error;

		st->node_name = pstrdup(NameStr(*DatumGetName(hd_spi_value(i, 1, NAMEOID, NULL))));
		st->down = strcmp(TextDatumGetCString(hd_spi_value(i, 2, TEXTOID, NULL)),
						  STATUS_DOWN) == 0;
		st->since = DatumGetTimestampTz(hd_spi_value(i, 3, TIMESTAMPTZOID, NULL));
		error = hd_spi_value(i, 4, TEXTOID, &isnull);
		st->last_error = isnull ? NULL : TextDatumGetCString(error);
		rows = lappend(rows, st);
	}
	hd_spi_finish();
	return rows;
}

/* Runs one statement on (node_name[, status, since, error]) as the catalog's owner. */
static void
write_status(const char *sql, int nargs, const char *node_name,
			 const char *status, TimestampTz since, const char *error)
{
	Oid			types[4] = {NAMEOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', error != NULL ? ' ' : 'n'};
	HdCatalogWriter writer;

	hd_spi_connect();
	values[0] = hd_spi_name_arg(node_name);
	if (nargs > 1)
	{
		values[1] = CStringGetTextDatum(status);
		values[2] = TimestampTzGetDatum(since);
		values[3] = error != NULL ? CStringGetTextDatum(error) : (Datum) 0;
	}
	hd_catalog_writer_begin(&writer);
	hd_spi_execute(sql, nargs, types, values, nulls, false, 0);
	hd_catalog_writer_end(&writer);
	hd_spi_finish();
}

void
hd_node_status_save(const char *node_name, bool down, TimestampTz since,
					const char *error)
{
	write_status("INSERT INTO _hyperdist_catalog.data_node_status"
				 " (node_name, status, since, last_error) VALUES ($1, $2, $3, $4)"
				 " ON CONFLICT (node_name) DO UPDATE"
				 " SET status = $2, since = $3, last_error = $4",
				 4, node_name, down ? STATUS_DOWN : STATUS_UP, since, error);
}

void
hd_node_status_forget(const char *node_name)
{
	write_status("DELETE FROM _hyperdist_catalog.data_node_status WHERE node_name = $1",
				 1, node_name, NULL, 0, NULL);
}
