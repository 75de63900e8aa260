{#- Naming and creating the tables segwise keeps in the target schema. Their names and columns
    (state_table_names() and state_columns() in segwise_schema.sql) are generated from
    compiler/segwise/dbt/state.py. -#}

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

{#- `relation`: where, when not next to `this` (run-operation has no `this`) -#}
{% macro create_state_table(name, relation=none) %}
  {%- set relation = relation if relation is not none else segwise.state_relation(name) -%}
  {% set ddl %}
    create table if not exists {{ relation }} (
    {%- for column, type in segwise.state_columns(name) %}
      {{ column }} {{ type }}{{ "," if not loop.last }}
    {%- endfor %}
    )
  {% endset %}
  {% do segwise.execute(ddl) %}
  {#- a table an earlier segwise version created gets the columns added since -#}
  {%- set have = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
  {%- for column, type in segwise.state_columns(name) -%}
    {%- if have and column | lower not in have -%}
      {% do segwise.execute("alter table " ~ relation ~ " add column " ~ column ~ " " ~ type) %}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}

{#- Run a statement inside dbt's transaction (run_query would not begin one on PostgreSQL,
    and the materialization's commit must cover every statement). -#}
{% macro execute(sql) %}
  {% call statement('segwise_statement', auto_begin=True) %}{{ sql }}{% endcall %}
{% endmacro %}
