/* SPDX-License-Identifier: PostgreSQL */
/*
 * ddl/dropped.c — distributed objects a statement drops by cascade.
 *
 * The statements that name distributed objects (DROP TABLE, DROP SCHEMA
 * ... CASCADE, DROP OWNED BY, DROP MATERIALIZED VIEW, ALTER TABLE ... DROP
 * COLUMN) act on the data nodes and the catalog before they run
 * (ddl/drop.c, ddl/reference.c, cagg/create.c).  Any other statement may
 * reach them through dependencies: DROP FUNCTION, TYPE, DOMAIN, VIEW,
 * SEQUENCE, COLLATION or EXTENSION ... CASCADE, ALTER TABLE ... DROP
 * COLUMN ... CASCADE of a column a continuous aggregate reads.  Which
 * objects those are, PostgreSQL knows only while it drops them, so the
 * extension's sql_drop event trigger (hyperdist_sql_drop) looks at them
 * once the statement has run, in its transaction:
 *
 *  - a distributed hypertable, reference table or continuous aggregate's
 *    view: its data nodes' tables and its catalog rows go the way the
 *    statements above make them go (a new table taking its OID must not be
 *    taken for it);
 *  - a column, constraint or default of a distributed hypertable or
 *    reference table, whose table stays: the statement is refused
 *    (0A000), unless it named that table's part itself (ALTER TABLE, which
 *    ddl/ applied to the data nodes already), or the part is a constraint
 *    that went with a table or constraint that DROP TABLE, DROP SCHEMA,
 *    DROP OWNED or ALTER TABLE dropped with CASCADE on the data nodes too
 *    (a foreign key to a reference table).  Forwarding an ALTER TABLE ...
 *    DROP instead would run on the data nodes something no one wrote and
 *    that does not mean the same there: their column of a type has its
 *    own dependents (the data nodes' indexes and unique constraints,
 *    which exist there only), the type or function may be another one of
 *    the same name or none, and a dimension column cannot go at all.  The
 *    hint names the statement that does it explicitly.  Triggers need
 *    nothing: a hypertable's row triggers exist only on the data nodes,
 *    its statement triggers and a reference table's only here.
 *
 * The trigger runs as the role running the statement (the catalog is
 * written through metadata/catalog.c as its owner), with search_path
 * pg_catalog, pg_temp, and evaluates nothing the role wrote.  A statement
 * that dropped no relation and no part of one reads no catalog.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "cagg/cagg.h"
#include "metadata/catalog_read.h"
#include "metadata/hypertable.h"
#include "spi_plan.h"
#include "ddl/ddl_internal.h"

/* A relation the statement dropped. */
typedef struct DroppedRel
{
	Oid			relid;
	char	   *schema;
	char	   *name;
} DroppedRel;

/* A column, constraint or default the statement dropped. */
typedef struct DroppedPart
{
	Oid			classid;		/* pg_class (a column), pg_attrdef, ... */
	Oid			relid;			/* its table, which stays */
	char	   *type;			/* as pg_event_trigger_dropped_objects says */
	char	   *identity;
} DroppedPart;

typedef struct Dropped
{
	List	   *rels;			/* DroppedRel */
	List	   *parts;			/* DroppedPart, dropped by cascade */
	List	   *targets;		/* tables whose parts the statement named */
} Dropped;

/*
 * The statement's dropped objects; for parts of a table, the table (the
 * identity of a constraint or default names it).
 */
#define DROPPED_SQL \
	"SELECT d.classid, d.objsubid, d.original, d.object_type, d.object_identity," \
	"       d.schema_name, d.object_name," \
	"       CASE WHEN d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass" \
	"            THEN d.objid ELSE c.oid END" \
	"  FROM pg_catalog.pg_event_trigger_dropped_objects() d" \
	"  LEFT JOIN pg_catalog.pg_namespace n" \
	"    ON d.object_type IN ('table constraint', 'default value')" \
	"   AND n.nspname = d.address_names[1]" \
	"  LEFT JOIN pg_catalog.pg_class c" \
	"    ON c.relnamespace = n.oid AND c.relname = d.address_names[2]"

/* A text column that is never NULL for the rows read (a relation's names). */
static char *
text_value(uint64 row, int col)
{
	return TextDatumGetCString(hd_spi_value(row, col, TEXTOID, NULL));
}

/* Whether a relation of type object_type could be in the catalog. */
static bool
could_be_distributed(const char *object_type)
{
	return strcmp(object_type, "table") == 0 ||
		strcmp(object_type, "foreign table") == 0 ||
		strcmp(object_type, "view") == 0;
}

/* Row `row` of DROPPED_SQL's result into *dropped. */
static void
add_dropped(uint64 row, Dropped *dropped)
{
	Oid			classid = DatumGetObjectId(hd_spi_value(row, 1, OIDOID, NULL));
	int32		subid = DatumGetInt32(hd_spi_value(row, 2, INT4OID, NULL));
	bool		original = DatumGetBool(hd_spi_value(row, 3, BOOLOID, NULL));
	bool		isnull;
	Oid			relid = DatumGetObjectId(hd_spi_value(row, 8, OIDOID, &isnull));

	if (isnull)
		return;					/* no relation, or a part of a dropped one */
	if (classid == RelationRelationId && subid == 0)
	{
		DroppedRel *rel;

		/* indexes, sequences, composite types: nothing of hyperdist's */
		if (!could_be_distributed(text_value(row, 4)))
			return;
		rel = palloc(sizeof(DroppedRel));

		rel->relid = relid;
		rel->schema = text_value(row, 6);
		rel->name = text_value(row, 7);
		dropped->rels = lappend(dropped->rels, rel);
	}
	else if (original)
		dropped->targets = list_append_unique_oid(dropped->targets, relid);
	else
	{
		DroppedPart *part = palloc(sizeof(DroppedPart));

		part->classid = classid;
		part->relid = relid;
		part->type = text_value(row, 4);
		part->identity = text_value(row, 5);
		dropped->parts = lappend(dropped->parts, part);
	}
}

static void
read_dropped(Dropped *dropped)
{
	MemoryContext caller = hd_spi_connect();

	hd_spi_execute(DROPPED_SQL, 0, NULL, NULL, NULL, false, 0);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext spi = MemoryContextSwitchTo(caller);

		add_dropped(i, dropped);
		MemoryContextSwitchTo(spi);
	}
	hd_spi_finish();
}

/*
 * Whether the data nodes drop part as the statement does here: a
 * constraint that depends on another table (a foreign key to a reference
 * table) goes with that table, column or constraint there too when the
 * statement is DROP TABLE, DROP SCHEMA, DROP OWNED or ALTER TABLE, which
 * ddl/ forwards with its CASCADE.
 */
static bool
dropped_on_data_nodes(const DroppedPart *part, CommandTag tag)
{
	if (part->classid != ConstraintRelationId)
		return false;
	return tag == CMDTAG_DROP_TABLE || tag == CMDTAG_DROP_FOREIGN_TABLE ||
		tag == CMDTAG_DROP_SCHEMA || tag == CMDTAG_DROP_OWNED ||
		tag == CMDTAG_ALTER_TABLE || tag == CMDTAG_ALTER_FOREIGN_TABLE;
}

/* Whether part is one of a distributed hypertable or a reference table. */
static bool
distributed_part(const DroppedPart *part)
{
	char		relkind = get_rel_relkind(part->relid);

	if (relkind == RELKIND_FOREIGN_TABLE)
		return hd_hypertable_registered(part->relid);
	return relkind == RELKIND_RELATION && hd_catalog_is_reference_table(part->relid);
}

/*
 * Refuses the statement, tagged tag, if it dropped a part of a
 * distributed table that stays, which the data nodes would keep.
 */
static void
refuse_parts(const Dropped *dropped, CommandTag tag)
{
	ListCell   *lc;

	foreach(lc, dropped->parts)
	{
		DroppedPart *part = lfirst(lc);

		if (list_member_oid(dropped->targets, part->relid) ||
			dropped_on_data_nodes(part, tag) || !distributed_part(part))
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot drop %s %s of distributed table \"%s\" by cascade",
						part->type, part->identity, get_rel_name(part->relid)),
				 errdetail("Dropped on the access node alone, it would stay on the data nodes; nothing was dropped."),
				 errhint("Drop it with ALTER TABLE first, which applies to the data nodes too, then run the statement again.")));
	}
}

/* The OIDs of the dropped relations, as an oid[]. */
static ArrayType *
relids_of(List *rels)
{
	Datum	   *oids = palloc(sizeof(Datum) * list_length(rels));
	ListCell   *lc;

	foreach(lc, rels)
		oids[foreach_current_index(lc)] = ObjectIdGetDatum(((DroppedRel *) lfirst(lc))->relid);
	return construct_array(oids, list_length(rels), OIDOID, sizeof(Oid), true,
						   TYPALIGN_INT);
}

static DroppedRel *
rel_of(List *rels, Oid relid)
{
	ListCell   *lc;

	foreach(lc, rels)
		if (((DroppedRel *) lfirst(lc))->relid == relid)
			return lfirst(lc);
	elog(ERROR, "relation %u was not dropped", relid);
	return NULL;				/* keep compiler quiet */
}

/*
 * What the dropped relations were to the catalog goes with them: the
 * continuous aggregates' rows and policies, the reference tables' copies,
 * the hypertables' tables on the data nodes and their chunks' relations
 * here; in the order DROP SCHEMA ... CASCADE takes.
 */
static void
drop_distributed(List *rels)
{
	HdCatalogKnown known;
	List	   *hypertables = NIL;
	ListCell   *lc;

	hd_catalog_known_among(relids_of(rels), &known);
	foreach(lc, known.caggs)
		hd_cagg_forget(lfirst_oid(lc));
	foreach(lc, known.reference_tables)
	{
		DroppedRel *rel = rel_of(rels, lfirst_oid(lc));

		hd_reference_dropped(rel->relid, rel->schema, rel->name);
	}
	foreach(lc, known.hypertables)
	{
		DroppedRel *rel = rel_of(rels, lfirst_oid(lc));

		hypertables = lappend(hypertables,
							  hd_hypertable_dropped(rel->relid, rel->schema, rel->name));
	}
	hd_ddl_drop_dropped(hypertables);
}

PG_FUNCTION_INFO_V1(hyperdist_sql_drop);

/* The sql_drop event trigger's function (see the top of this file). */
Datum
hyperdist_sql_drop(PG_FUNCTION_ARGS)
{
	Dropped		dropped = {NIL, NIL, NIL};

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("hyperdist_sql_drop() must be called as an event trigger")));
	/* an update script of the extension drops its own objects */
	if (creating_extension)
		PG_RETURN_VOID();
	read_dropped(&dropped);
	refuse_parts(&dropped, ((EventTriggerData *) fcinfo->context)->tag);
	if (dropped.rels != NIL)
		drop_distributed(dropped.rels);
	PG_RETURN_VOID();
}
