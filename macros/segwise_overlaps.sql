{#- What the run adds for analysts: the group-label change log and the overlaps of every two
    segments or group labels (docs/semantics.md, 'Overlaps and label flows'). -#}

{#- The label changes of the users whose labels this run replaces (the same rows the
    materialization deletes, `replaced`), against the labels it stages: one row per group and
    user whose label differs; NULL on the side where the user has none. -#}
{% macro group_change_statement(staged, replaced, sw) %}
  {%- set g = segwise.state_relation('segment_group_membership') -%}
  {%- set gc = segwise.state_relation('segment_group_changes') -%}
  {{ return(
      "insert into " ~ gc ~ " (group_name, user_id, changed_at, from_segment, to_segment)"
      ~ " select coalesce(o.group_name, n.group_name), coalesce(o.user_id, n.user_id), " ~ sw.as_of ~ ", o.segment, n.segment"
      ~ " from (select group_name, user_id, segment from " ~ g ~ " where " ~ replaced ~ ") o"
      ~ " full outer join (select name as group_name, user_id, value as segment from " ~ staged ~ " where kind = 'group') n"
      ~ " on n.group_name = o.group_name and n.user_id = o.user_id"
      ~ " where o.segment is null or n.segment is null or o.segment <> n.segment") }}
{% endmacro %}

{#- Every item a user can hold: each segment (group NULL) and each group's labels, numbered
    into 62-bit chunks, as a relation of constants. The names are identifiers (validated),
    quoted as text literals all the same. -#}
{% macro overlap_items() %}
  {%- set items = [] -%}
  {%- for name in (config.get('segwise_hashes') or {}).keys() | sort -%}
    {%- do items.append([none, name]) -%}
  {%- endfor -%}
  {%- for name, group in (config.get('segwise_groups') or {}) | dictsort -%}
    {%- for label in group.priority + ([group.fallback] if group.get('fallback') else []) -%}
      {%- do items.append([name, label]) -%}
    {%- endfor -%}
  {%- endfor -%}
  {{ return(items) }}
{% endmacro %}

{#- The overlaps after the run, replacing the previous run's: one pass over membership and the
    group labels builds each user's set of items as bits (a few bigints), users with the same
    set are counted once per set, and only the distinct sets are expanded into pairs. The cost
    is the membership's size plus distinct sets x items, whatever the number of pairs. -#}
{% macro overlap_statements(sw) %}
  {%- set o = segwise.state_relation('segment_overlaps') -%}
  {%- if not var('segwise_overlaps', true) -%}
    {#- switched off: the table keeps the overlaps of the last run that computed them (evaluated_at) -#}
    {{ return([]) }}
  {%- endif -%}
  {%- set items = segwise.overlap_items() -%}
  {%- if items | length == 0 -%}
    {{ return(["delete from " ~ o ~ " where 1 = 1"]) }}
  {%- endif -%}
  {%- set query = segwise.overlaps_query(items, segwise.state_relation('segment_membership'),
      segwise.state_relation('segment_group_membership'), sw.as_of) -%}
  {{ return([
      "delete from " ~ o ~ " where 1 = 1",
      "insert into " ~ o ~ " (a_group, a, b_group, b, shared, a_members, b_members, jaccard, evaluated_at) " ~ query]) }}
{% endmacro %}

{#- The overlaps of `items` ([group or none, name], ...) in `membership` (segment, user_id)
    and `labels` (group_name, user_id, segment), at `as_of` (SQL). -#}
{% macro overlaps_query(items, membership, labels, as_of) %}
  {%- set s = dbt.type_string() -%}
  {%- set b = dbt.type_bigint() -%}
  {%- set chunks = range(((items | length) + 61) // 62) | list -%}
  {%- set rows = [] -%}
  {%- for group, name in items -%}
    {%- set index = loop.index0 -%}
    {%- do rows.append("select " ~ ("cast(null as " ~ s ~ ")" if group is none else segwise.text_sql(group)) ~ " as item_group, "
        ~ segwise.text_sql(name) ~ " as item, " ~ (index // 62) ~ " as chunk, cast(" ~ (2 ** (index % 62)) ~ " as " ~ b ~ ") as bit") -%}
  {%- endfor -%}
  {%- set sums = [] -%}
  {%- set cases = [] -%}
  {%- set pattern = [] -%}
  {%- for c in chunks -%}
    {#- a sum of distinct powers of two, exact; cast back, as PostgreSQL sums bigints as numeric -#}
    {%- do sums.append("cast(sum(case when i.chunk = " ~ c ~ " then i.bit else 0 end) as " ~ b ~ ") as p" ~ c) -%}
    {%- do cases.append("when " ~ c ~ " then n.p" ~ c) -%}
    {%- do pattern.append("p" ~ c) -%}
  {%- endfor -%}
  {%- set query -%}
with sw_items as (
  {{ rows | join("\n  union all ") }}
),
sw_user_items as (
  select m.user_id, i.chunk, i.bit from {{ membership }} m join sw_items i on i.item_group is null and i.item = m.segment
  union all
  select g.user_id, i.chunk, i.bit from {{ labels }} g join sw_items i on i.item_group = g.group_name and i.item = g.segment
),
sw_users as (
  select user_id, {{ sums | join(", ") }} from sw_user_items i group by user_id
),
sw_sets as (
  select {{ pattern | join(", ") }}, count(*) as users from sw_users group by {{ pattern | join(", ") }}
),
sw_numbered as (
  select row_number() over (order by {{ pattern | join(", ") }}) as set_id, {{ pattern | join(", ") }}, users from sw_sets
),
sw_set_items as (
  select n.set_id, n.users, i.item_group, i.item
  from sw_numbered n
  join sw_items i on {{ segwise.bit_is_set("case i.chunk " ~ cases | join(" ") ~ " end", "i.bit") }}
),
sw_sizes as (
  select item_group, item, cast(sum(users) as {{ b }}) as members from sw_set_items group by item_group, item
),
sw_pairs as (
  select x.item_group as a_group, x.item as a, y.item_group as b_group, y.item as b, cast(sum(x.users) as {{ b }}) as shared
  from sw_set_items x
  join sw_set_items y on y.set_id = x.set_id
    and not (y.item = x.item and coalesce(y.item_group, '') = coalesce(x.item_group, ''))
  group by x.item_group, x.item, y.item_group, y.item
)
select p.a_group, p.a, p.b_group, p.b, p.shared, sa.members as a_members, sb.members as b_members,
  cast(p.shared as {{ segwise.double_type() }}) / (sa.members + sb.members - p.shared) as jaccard, {{ as_of }} as evaluated_at
from sw_pairs p
join sw_sizes sa on sa.item = p.a and coalesce(sa.item_group, '') = coalesce(p.a_group, '')
join sw_sizes sb on sb.item = p.b and coalesce(sb.item_group, '') = coalesce(p.b_group, '')
  {%- endset -%}
  {{ return(query) }}
{% endmacro %}

{#- TRUE when `value` (a bigint) has the bits of `bit` set. -#}
{% macro bit_is_set(value, bit) %}
  {{ return(adapter.dispatch('bit_is_set', 'segwise')(value, bit)) }}
{% endmacro %}

{% macro default__bit_is_set(value, bit) %}
  {{ return("(" ~ value ~ " & " ~ bit ~ ") <> 0") }}
{% endmacro %}

{% macro snowflake__bit_is_set(value, bit) %}
  {{ return("bitand(" ~ value ~ ", " ~ bit ~ ") <> 0") }}
{% endmacro %}
