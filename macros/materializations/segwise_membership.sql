{#- The `segment_membership` model: evaluates the segments and applies the result to every
    state table in one transaction (docs/semantics.md, 'Runs and tables (the dbt layer)').

    1. Create the state tables that do not exist yet. With --full-refresh and
       var segwise_reset_history, empty them; otherwise a full refresh keeps history.
    2. Bring the event store up to date (docs/incremental.md): the model's SQL is two
       queries, split at /* segwise:evaluation */: the store's new rows, then the evaluation,
       which reads the store.
    3. Stage the model SQL's rows (scope, members, group labels, definitions, watermarks) in
       <this>__sw_eval, and the transitions against the current membership in <this>__sw_diff.
    4. Apply them in one transaction: changes, history, membership, sizes, groups and their
       label changes, overlaps, the run log and the definitions state. A run that fails or is killed before the commit leaves
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
    {%- set parts = sql.split('/* segwise:evaluation */') -%}
    {%- if parts | length != 2 -%}
      {{ exceptions.raise_compiler_error("segwise: the segment_membership model is not one segwise generate wrote; run segwise generate") }}
    {%- endif -%}
    {%- set sql = parts[1] -%}
    {% do segwise.require_fit(config.get('segwise_predict')) %}
    {%- if config.get('segwise_predict') and target.type == 'postgres' -%}
      {#- the scores are long expressions: PostgreSQL's JIT would spend minutes compiling them -#}
      {% do segwise.execute("set local jit = off") %}
    {%- endif -%}
    {% do segwise.update_event_store(parts[0], sw) %}
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


{#- The rows of `relation`. -#}
{% macro count_rows(relation) %}
  {{ return(run_query("select count(*) from " ~ relation).columns[0].values()[0] | int) }}
{% endmacro %}

{#- A string literal of `text`, a run's `why`: fixed words and segment names, which validation
    keeps to identifiers, so the doubling of quotes is a safeguard, not an escape BigQuery needs. -#}
{% macro text_sql(text) %}
  {{ return("'" ~ (text | string | replace("'", "''")) ~ "'") }}
{% endmacro %}

{#- The event store: rebuilt from `rows_sql` (every raw event, deduplicated), or the new
    rows added, where an event id already stored keeps its earliest copy. Every step can be
    repeated: on engines without one transaction around the run (Snowflake, BigQuery), a
    run killed part-way leaves a store the next run completes. The state row goes first on a
    rebuild, so a store being rebuilt is never taken for a complete one. -#}
{% macro update_event_store(rows_sql, sw) %}
  {%- set store = segwise.state_relation('segwise_event_store') -%}
  {%- set state = segwise.state_relation('segwise_event_store_state') -%}
  {%- set spec = config.get('segwise_store') -%}
  {%- set t = sw.as_of -%}
  {{ log("segwise: event store: " ~ ("rebuilt (" ~ sw.store_why ~ ")" if sw.store_rebuild else "adding new events"), info=true) }}
  {%- if sw.store_rebuild -%}
    {% do segwise.execute("delete from " ~ state ~ " where 1 = 1") %}
    {% do segwise.execute("drop table if exists " ~ store) %}
    {% do segwise.execute(create_table_as(False, store, rows_sql)) %}
    {%- set loaded = "(select max(loaded_at) from " ~ store ~ ")" if spec.loaded_at else "cast(null as " ~ dbt.type_timestamp() ~ ")" -%}
    {% do segwise.execute(segwise.in_transaction([
        "insert into " ~ state ~ " (spec, max_loaded_at, built_at, as_of) select '" ~ spec.spec ~ "', " ~ loaded ~ ", " ~ t ~ ", " ~ t])) %}
    {%- do sw.update({'store': 'rebuilt', 'store_rows_added': segwise.count_rows(store)}) -%}
  {%- else -%}
    {%- set new = api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__sw_store_new', type='table') -%}
    {%- set wins = api.Relation.create(database=this.database, schema=this.schema, identifier=this.identifier ~ '__sw_store_wins', type='table') -%}
    {%- set columns = spec.columns | join(', ') -%}
    {% do segwise.execute("drop table if exists " ~ new) %}
    {% do segwise.execute("drop table if exists " ~ wins) %}
    {% do segwise.execute(create_table_as(False, new, rows_sql)) %}
    {#- without loaded_at, the run re-reads the tail of the lookback: it replaces the store's -#}
    {%- set kept = "" if spec.loaded_at else " and s.ts <= " ~ sw.new_since -%}
    {%- if spec.event_id -%}
      {%- set winners = "select " ~ columns ~ " from " ~ new ~ " n where n.event_id is null or not exists (select 1 from " ~ store ~ " s where s.user_id = n.user_id and s.event_id = n.event_id and s.ts <= n.ts" ~ kept ~ ")" -%}
    {%- else -%}
      {%- set winners = "select " ~ columns ~ " from " ~ new -%}
    {%- endif -%}
    {% do segwise.execute(create_table_as(False, wins, winners)) %}
    {%- do sw.update({'store': 'appended', 'store_rows_added': segwise.count_rows(wins)}) -%}
    {%- set statements = [] -%}
    {%- if not spec.loaded_at -%}
      {%- do statements.append("delete from " ~ store ~ " where ts > " ~ sw.new_since) -%}
    {%- endif -%}
    {%- if spec.event_id -%}
      {%- set key = "cast(length(user_id) as " ~ dbt.type_string() ~ ") || ':' || user_id || ':' || event_id" -%}
      {%- do statements.append("delete from " ~ store ~ " where event_id in (select event_id from " ~ wins ~ " where event_id is not null) and " ~ key ~ " in (select " ~ key ~ " from " ~ wins ~ " where event_id is not null)") -%}
    {%- endif -%}
    {%- do statements.append("insert into " ~ store ~ " (" ~ columns ~ ") select " ~ columns ~ " from " ~ wins) -%}
    {%- set before = segwise.ts_sql(sw.store_loaded_text) if sw.store_loaded_text else "cast(null as " ~ dbt.type_timestamp() ~ ")" -%}
    {%- set loaded = "coalesce((select max(loaded_at) from " ~ new ~ "), " ~ before ~ ")" if spec.loaded_at else before -%}
    {%- set built = segwise.ts_sql(sw.store_built_text) if sw.store_built_text else t -%}
    {%- do statements.append("delete from " ~ state ~ " where 1 = 1") -%}
    {%- do statements.append("insert into " ~ state ~ " (spec, max_loaded_at, built_at, as_of) select '" ~ spec.spec ~ "', " ~ loaded ~ ", " ~ built ~ ", " ~ t) -%}
    {% do segwise.execute(segwise.in_transaction(statements)) %}
    {% do segwise.execute("drop table if exists " ~ new) %}
    {% do segwise.execute("drop table if exists " ~ wins) %}
  {%- endif -%}
{% endmacro %}


{#- Transitions against the current membership, one row per (segment, user) that changes:
    entered, exited, variant (the holdout moved the user) or rehash (a continuing member of
    a segment whose definition changed). Incremental runs compare only the users in scope,
    and every user of the segments they evaluate for everyone or remove. -#}
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
  {%- if sw.rewritten_segments %}
    or {{ segwise.in_names('segment', sw.rewritten_segments) }}
  {%- endif %}
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
  {%- set widened = " or " ~ segwise.in_names('segment', sw.widened_segments) if sw.widened_segments else "" -%}
  {%- set stale = "evaluated_at < " ~ t ~ ("" if sw.full else " and (user_id in (" ~ scope ~ ")" ~ widened ~ ")") -%}
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

  {#- groups: the labels of every user evaluated in this run, and the log of those that changed -#}
  {%- if sw.full -%}
    {%- set replaced = "1 = 1" -%}
  {%- else -%}
    {#- and every label of the groups relabelled for everyone, or no longer defined -#}
    {%- set groups = (config.get('segwise_groups') or {}).keys() | sort -%}
    {%- set replaced = "user_id in (" ~ scope ~ ") or " ~ segwise.in_names('group_name', sw.widened_groups)
        ~ " or not (" ~ segwise.in_names('group_name', groups) ~ ")" -%}
  {%- endif -%}
  {%- do statements.append(segwise.group_change_statement(staged, replaced, sw)) -%}
  {%- do statements.append("delete from " ~ g ~ " where " ~ replaced) -%}
  {%- do statements.append("insert into " ~ g ~ " (group_name, user_id, segment, evaluated_at) select name, user_id, value, " ~ t ~ " from " ~ staged ~ " where kind = 'group'") -%}
  {#- overlaps of the membership and labels the run leaves -#}
  {%- do statements.extend(segwise.overlap_statements(sw)) -%}

  {#- the run log and the definitions this run evaluated -#}
  {%- do statements.append("delete from " ~ r ~ " where as_of = " ~ t) -%}
  {%- set reason = "(select coalesce(max(cast(value as " ~ dbt.type_bigint() ~ ")), 0) from " ~ staged ~ " where kind = 'reason' and name = '" -%}
  {%- do statements.append(
      "insert into " ~ r ~ " (as_of, mode, reevaluated_users, max_loaded_at, max_updated_at, segments, started_at,"
      ~ " why, new_event_users, window_edge_users, changed_users, time_trait_users, rfm_users, store, store_rows_added, changes,"
      ~ " widened_segments, group_hashes, prediction_users)"
      ~ " select " ~ t ~ ", '" ~ sw.mode ~ "',"
      ~ " (select max(cast(value as " ~ dbt.type_bigint() ~ ")) from " ~ staged ~ " where kind = 'evaluated'),"
      ~ " (select max(cast(value as " ~ dbt.type_timestamp() ~ ")) from " ~ staged ~ " where kind = 'watermark' and name = 'loaded_at'),"
      ~ " (select max(cast(value as " ~ dbt.type_timestamp() ~ ")) from " ~ staged ~ " where kind = 'watermark' and name = 'updated_at'),"
      ~ " (select count(*) from " ~ staged ~ " where kind = 'definition'),"
      ~ " " ~ segwise.ts_sql(segwise.ts_text(run_started_at)) ~ ","
      ~ " " ~ segwise.text_sql(sw.why) ~ ","
      ~ " " ~ reason ~ "new_events'), " ~ reason ~ "window_edges'), " ~ reason ~ "changed_users'),"
      ~ " " ~ reason ~ "time_traits'), " ~ reason ~ "rfm_scores'),"
      ~ " '" ~ sw.store ~ "', " ~ sw.store_rows_added ~ ","
      ~ " (select count(*) from " ~ diff ~ " where change in ('entered', 'exited')),"
      ~ " " ~ (sw.widened_segments | length) ~ ", " ~ segwise.text_sql(segwise.group_hashes_text()) ~ ","
      ~ " " ~ reason ~ "predictions')") -%}
  {#- every buyer's RFM values, which the next run compares with -#}
  {%- set f = segwise.state_relation('segwise_rfm_state') -%}
  {%- do statements.append("delete from " ~ f ~ " where 1 = 1") -%}
  {%- do statements.append("insert into " ~ f ~ " (user_id, rfm, monetary) select user_id, value, name from " ~ staged ~ " where kind = 'rfm'") -%}
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
