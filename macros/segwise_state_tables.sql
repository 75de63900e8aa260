{#- The tables segwise keeps in the target schema (SPEC §5), and the two it uses itself:
    segwise_runs (one row per run: T, mode, users re-evaluated, watermarks) and
    segwise_segments (the definition hashes the last run evaluated). -#}

{% macro state_table_names() %}
  {{ return(['segment_membership', 'segment_membership_history', 'segment_changes', 'segment_sizes',
             'segment_group_membership', 'segwise_runs', 'segwise_segments']) }}
{% endmacro %}

{% macro state_columns(name) %}
  {%- set s = dbt.type_string() -%}
  {%- set ts = dbt.type_timestamp() -%}
  {%- set n = dbt.type_bigint() -%}
  {%- set tables = {
    'segment_membership': [('segment', s), ('user_id', s), ('variant', s), ('entered_at', ts),
                           ('definition_hash', s), ('evaluated_at', ts)],
    'segment_membership_history': [('segment', s), ('user_id', s), ('valid_from', ts), ('valid_to', ts),
                                   ('variant', s), ('definition_hash', s)],
    'segment_changes': [('segment', s), ('user_id', s), ('changed_at', ts), ('change', s), ('reason', s)],
    'segment_sizes': [('segment', s), ('evaluated_at', ts), ('members', n), ('entered', n), ('exited', n),
                      ('control_members', n)],
    'segment_group_membership': [('group_name', s), ('user_id', s), ('segment', s), ('evaluated_at', ts)],
    'segwise_runs': [('as_of', ts), ('mode', s), ('reevaluated_users', n), ('max_loaded_at', ts),
                     ('max_updated_at', ts), ('segments', n), ('started_at', ts)],
    'segwise_segments': [('segment', s), ('definition_hash', s), ('evaluated_at', ts)],
  } -%}
  {%- if name not in tables -%}
    {{ exceptions.raise_compiler_error("segwise: no state table named " ~ name) }}
  {%- endif -%}
  {{ return(tables[name]) }}
{% endmacro %}

{% macro state_relation(name) %}
  {{ return(api.Relation.create(database=this.database, schema=this.schema, identifier=name, type='table')) }}
{% endmacro %}

{#- A typed, empty SELECT: the column list of a state table, for docs and `dbt show`. -#}
{% macro state_table_sql(name) %}
select
{%- for column, type in segwise.state_columns(name) %}
  cast(null as {{ type }}) as {{ column }}{{ "," if not loop.last }}
{%- endfor %}
where 1 = 0
{% endmacro %}

{% macro create_state_table(name) %}
  {%- set relation = segwise.state_relation(name) -%}
  {% set ddl %}
    create table if not exists {{ relation }} (
    {%- for column, type in segwise.state_columns(name) %}
      {{ column }} {{ type }}{{ "," if not loop.last }}
    {%- endfor %}
    )
  {% endset %}
  {% do segwise.execute(ddl) %}
{% endmacro %}

{#- Run a statement inside dbt's transaction (run_query would not begin one on PostgreSQL,
    and the materialization's commit must cover every statement). -#}
{% macro execute(sql) %}
  {% call statement('segwise_statement', auto_begin=True) %}{{ sql }}{% endcall %}
{% endmacro %}
