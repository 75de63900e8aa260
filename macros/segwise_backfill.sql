{#- Retroactive history (docs/cli.md, 'segwise backfill'). `segwise backfill` compiles, in
    Python, the query of what the segments would have been at each past instant, and the
    queries of their sizes and changes over it; this macro runs them with the profile's own
    adapter, next to the segwise tables: the members into a staging table, then, in one
    transaction, the segments' previous backfill rows replaced by the new ones. The backfill
    tables are never the real ones (segment_sizes, segment_changes): triggers and audits read
    only what runs saw.

    The queries name the staging table `sw_backfill_staged` and the backfill's time
    `sw_backfill_now`; both are replaced here by the relation and the run's start. -#}

{% macro record_backfill(members_sql, sizes_sql, changes_sql, segments) %}
  {%- set sizes = segwise.backfill_relation('segment_backfill_sizes') -%}
  {%- set changes = segwise.backfill_relation('segment_backfill_changes') -%}
  {%- set staged = segwise.backfill_relation('segment_backfill__staged') -%}
  {% do adapter.create_schema(sizes) %}
  {%- for name in ['segment_backfill_sizes', 'segment_backfill_changes'] -%}
    {% do segwise.create_state_table(name, segwise.backfill_relation(name)) %}
  {%- endfor -%}
  {%- set now = segwise.ts_sql(segwise.ts_text(run_started_at)) -%}
  {% do segwise.execute("drop table if exists " ~ staged) %}
  {% do segwise.execute(create_table_as(False, staged, members_sql)) %}
  {%- set bind = {'sizes': sizes_sql, 'changes': changes_sql} -%}
  {%- for key in bind -%}
    {%- do bind.update({key: bind[key] | replace('sw_backfill_staged', staged | string) | replace('sw_backfill_now', now)}) -%}
  {%- endfor -%}
  {%- set columns = {
      'sizes': 'segment, instant, members, entered, exited, control_members, definition_hash, backfilled_at',
      'changes': 'segment, user_id, changed_at, change, definition_hash, backfilled_at'} -%}
  {% do segwise.execute(segwise.in_transaction([
      "delete from " ~ sizes ~ " where " ~ segwise.in_names('segment', segments),
      "insert into " ~ sizes ~ " (" ~ columns.sizes ~ ") " ~ bind.sizes,
      "delete from " ~ changes ~ " where " ~ segwise.in_names('segment', segments),
      "insert into " ~ changes ~ " (" ~ columns.changes ~ ") " ~ bind.changes])) %}
  {% do segwise.execute("drop table if exists " ~ staged) %}
  {% do adapter.commit() %}
  {{ log("segwise: backfilled " ~ segments | join(', ') ~ " into " ~ sizes ~ " and " ~ changes, info=true) }}
{% endmacro %}

{#- A table next to the membership model's, also when run-operation has no `this`. -#}
{% macro backfill_relation(name) %}
  {%- set models = segwise.models_relation() -%}
  {{ return(api.Relation.create(database=models.database, schema=models.schema, identifier=name, type='table')) }}
{% endmacro %}
