{#- The `segment_membership` model: evaluates the segments and applies the result to every
    state table in one transaction (docs/semantics.md, 'Runs and tables (the dbt layer)').

    1. Create the state tables that do not exist yet. With --full-refresh and
       var segwise_reset_history, empty them; otherwise a full refresh keeps history.
    2. Stage the model SQL's rows (scope, members, group labels, definitions, watermarks) in
       <this>__sw_eval, and the transitions against the current membership in <this>__sw_diff.
    3. Apply them in one transaction: changes, history, membership, sizes, groups, the run
       log and the definitions state. A run that fails or is killed before the commit leaves
       every table as it was. The next run starts from that state and converges. -#}

{% materialization segwise_membership, default %}
  {%- set sw = segwise.context() -%}
  {%- set reset = flags.FULL_REFRESH and var('segwise_reset_history', false) -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- for name in segwise.state_table_names() -%}{% do segwise.create_state_table(name) %}{%- endfor -%}
  {%- if reset -%}
    {#- empty, not dropped: views (the seg_* models, the team's own) depend on these tables -#}
    {%- for name in segwise.state_table_names() -%}
      {% do segwise.execute("delete from " ~ segwise.state_relation(name) ~ " where 1 = 1") %}
    {%- endfor -%}
  {%- endif -%}

  {%- set target_relation = segwise.state_relation('segment_membership') -%}
  {{ log("segwise: T = " ~ sw.as_of_text[:19] ~ ", " ~ sw.mode ~ " run (" ~ sw.why ~ ")", info=true) }}

  {%- if sw.mode == 'noop' -%}
    {% call statement('main', auto_begin=True) %}select 1 as nothing_to_do{% endcall %}
  {%- else -%}
    {%- set staged = api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__sw_eval', type='table') -%}
    {%- set diff = api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__sw_diff', type='table') -%}
    {% do segwise.execute("drop table if exists " ~ staged) %}
    {% do segwise.execute("drop table if exists " ~ diff) %}
    {% do segwise.execute(create_table_as(False, staged, sql)) %}
    {% do segwise.execute(create_table_as(False, diff, segwise.transitions_sql(staged, sw))) %}
    {%- set statements = segwise.apply_statements(staged, diff, sw) -%}
    {% call statement('main', auto_begin=True) %}{{ segwise.in_transaction(statements) }}{% endcall %}
  {%- endif -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {%- if sw.mode != 'noop' -%}
    {% do segwise.execute("drop table if exists " ~ staged) %}
    {% do segwise.execute("drop table if exists " ~ diff) %}
    {{ adapter.commit() }}
  {%- endif -%}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- Transitions against the current membership, one row per (segment, user) that changes:
    entered, exited, variant (the holdout moved the user) or rehash (a continuing member of
    a segment whose definition changed). Incremental runs compare only the users in scope. -#}
{% macro transitions_sql(staged, sw) %}
  {%- set membership = segwise.state_relation('segment_membership') -%}
  {%- set segments_state = segwise.state_relation('segwise_segments') -%}
with defs as (
  select name as segment, value as definition_hash from {{ staged }} where kind = 'definition'
),
changed as (
  select d.segment from defs d
  left join {{ segments_state }} p on p.segment = d.segment
  where p.definition_hash is null or p.definition_hash <> d.definition_hash
  union all
  select p.segment from {{ segments_state }} p
  left join defs d on d.segment = p.segment
  where d.segment is null
),
fresh as (
  select name as segment, user_id, value as variant from {{ staged }} where kind = 'segment'
),
current_rows as (
  select segment, user_id, variant, entered_at from {{ membership }}
  {%- if not sw.full %}
  where user_id in (select user_id from {{ staged }} where kind = 'scope')
  {%- endif %}
),
compared as (
  select
    coalesce(f.segment, c.segment) as segment,
    coalesce(f.user_id, c.user_id) as user_id,
    case
      when c.user_id is null then 'entered'
      when f.user_id is null then 'exited'
      when coalesce(f.variant, '') <> coalesce(c.variant, '') then 'variant'
      else 'rehash'
    end as change,
    f.variant as variant,
    c.entered_at as entered_at
  from fresh f
  full outer join current_rows c on c.segment = f.segment and c.user_id = f.user_id
)
select
  x.segment, x.user_id, x.change, x.variant, x.entered_at,
  case when ch.segment is null then 'data' else 'definition' end as reason
from compared x
left join (select distinct segment from changed) ch on ch.segment = x.segment
where x.change <> 'rehash' or ch.segment is not null
{% endmacro %}


{% macro apply_statements(staged, diff, sw) %}
  {%- set m = segwise.state_relation('segment_membership') -%}
  {%- set h = segwise.state_relation('segment_membership_history') -%}
  {%- set c = segwise.state_relation('segment_changes') -%}
  {%- set z = segwise.state_relation('segment_sizes') -%}
  {%- set g = segwise.state_relation('segment_group_membership') -%}
  {%- set r = segwise.state_relation('segwise_runs') -%}
  {%- set s = segwise.state_relation('segwise_segments') -%}
  {%- set t = sw.as_of -%}
  {%- set key = "segment || '|' || user_id" -%}
  {%- set scope = "select user_id from " ~ staged ~ " where kind = 'scope'" -%}
  {%- set statements = [] -%}

  {#- the change log: one row per entry or exit -#}
  {%- do statements.append("insert into " ~ c ~ " (segment, user_id, changed_at, change, reason) select segment, user_id, " ~ t ~ ", change, reason from " ~ diff ~ " where change in ('entered', 'exited')") -%}

  {#- history: close the open row of every exit (and variant move), open one for every entry -#}
  {#- (as insert + delete: no UPDATE, which not every engine has) -#}
  {%- set closing = "valid_to is null and " ~ key ~ " in (select " ~ key ~ " from " ~ diff ~ " where change in ('exited', 'variant'))" -%}
  {%- do statements.append("insert into " ~ h ~ " (segment, user_id, valid_from, valid_to, variant, definition_hash) select segment, user_id, valid_from, " ~ t ~ ", variant, definition_hash from " ~ h ~ " where " ~ closing) -%}
  {%- do statements.append("delete from " ~ h ~ " where " ~ closing) -%}
  {%- do statements.append("insert into " ~ h ~ " (segment, user_id, valid_from, valid_to, variant, definition_hash) select x.segment, x.user_id, " ~ t ~ ", cast(null as " ~ dbt.type_timestamp() ~ "), x.variant, d.value from " ~ diff ~ " x join " ~ staged ~ " d on d.kind = 'definition' and d.name = x.segment where x.change in ('entered', 'variant')") -%}

  {#- membership: replace the rows that changed, keeping entered_at for continuing members -#}
  {%- do statements.append("delete from " ~ m ~ " where " ~ key ~ " in (select " ~ key ~ " from " ~ diff ~ ")") -%}
  {%- do statements.append("insert into " ~ m ~ " (segment, user_id, variant, entered_at, definition_hash, evaluated_at) select x.segment, x.user_id, x.variant, case when x.change = 'entered' then " ~ t ~ " else x.entered_at end, d.value, " ~ t ~ " from " ~ diff ~ " x join " ~ staged ~ " d on d.kind = 'definition' and d.name = x.segment where x.change <> 'exited'") -%}
  {%- set stale = "evaluated_at < " ~ t ~ ("" if sw.full else " and user_id in (" ~ scope ~ ")") -%}
  {%- do statements.append("insert into " ~ m ~ " (segment, user_id, variant, entered_at, definition_hash, evaluated_at) select segment, user_id, variant, entered_at, definition_hash, " ~ t ~ " from " ~ m ~ " where " ~ stale) -%}
  {%- do statements.append("delete from " ~ m ~ " where " ~ stale) -%}

  {#- sizes: one row per segment per run (a full refresh at the same T replaces its rows) -#}
  {%- do statements.append("delete from " ~ z ~ " where evaluated_at = " ~ t) -%}
  {%- do statements.append(
      "insert into " ~ z ~ " (segment, evaluated_at, members, entered, exited, control_members)"
      ~ " select n.segment, " ~ t ~ ", coalesce(k.members, 0), coalesce(x.entered, 0), coalesce(x.exited, 0), coalesce(k.control_members, 0)"
      ~ " from (select distinct segment from (select name as segment from " ~ staged ~ " where kind = 'definition' union all select segment from " ~ diff ~ ") u) n"
      ~ " left join (select segment, count(*) as members, sum(case when variant = 'control' then 1 else 0 end) as control_members from " ~ m ~ " group by segment) k on k.segment = n.segment"
      ~ " left join (select segment, sum(case when change = 'entered' then 1 else 0 end) as entered, sum(case when change = 'exited' then 1 else 0 end) as exited from " ~ diff ~ " group by segment) x on x.segment = n.segment") -%}

  {#- groups: the labels of every user evaluated in this run -#}
  {%- if sw.full -%}
    {%- do statements.append("delete from " ~ g ~ " where 1 = 1") -%}
  {%- else -%}
    {%- do statements.append("delete from " ~ g ~ " where user_id in (" ~ scope ~ ")") -%}
  {%- endif -%}
  {%- do statements.append("insert into " ~ g ~ " (group_name, user_id, segment, evaluated_at) select name, user_id, value, " ~ t ~ " from " ~ staged ~ " where kind = 'group'") -%}

  {#- the run log and the definitions this run evaluated -#}
  {%- do statements.append("delete from " ~ r ~ " where as_of = " ~ t) -%}
  {%- do statements.append(
      "insert into " ~ r ~ " (as_of, mode, reevaluated_users, max_loaded_at, max_updated_at, segments, started_at)"
      ~ " select " ~ t ~ ", '" ~ sw.mode ~ "',"
      ~ " (select max(cast(value as " ~ dbt.type_bigint() ~ ")) from " ~ staged ~ " where kind = 'evaluated'),"
      ~ " (select max(cast(value as " ~ dbt.type_timestamp() ~ ")) from " ~ staged ~ " where kind = 'watermark' and name = 'loaded_at'),"
      ~ " (select max(cast(value as " ~ dbt.type_timestamp() ~ ")) from " ~ staged ~ " where kind = 'watermark' and name = 'updated_at'),"
      ~ " (select count(*) from " ~ staged ~ " where kind = 'definition'),"
      ~ " " ~ segwise.ts_sql(segwise.ts_text(run_started_at))) -%}
  {%- do statements.append("delete from " ~ s ~ " where 1 = 1") -%}
  {%- do statements.append("insert into " ~ s ~ " (segment, definition_hash, evaluated_at) select name, value, " ~ t ~ " from " ~ staged ~ " where kind = 'definition'") -%}
  {{ return(statements) }}
{% endmacro %}


{#- Run statements atomically. dbt already holds a transaction open on DuckDB and PostgreSQL
    (committed by the materialization); Snowflake and BigQuery need an explicit one. -#}
{% macro in_transaction(statements) %}
  {{ return(adapter.dispatch('in_transaction', 'segwise')(statements)) }}
{% endmacro %}

{% macro default__in_transaction(statements) %}
{%- for statement in statements %}
{{ statement }};
{%- endfor %}
{% endmacro %}

{% macro snowflake__in_transaction(statements) %}
begin;
{%- for statement in statements %}
{{ statement }};
{%- endfor %}
commit;
{% endmacro %}

{% macro bigquery__in_transaction(statements) %}
begin transaction;
{%- for statement in statements %}
{{ statement }};
{%- endfor %}
commit transaction;
{% endmacro %}
