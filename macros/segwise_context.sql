{#- What this run is: T, the previous run, the watermarks, and the mode.

    mode  full         first run, --full-refresh, or definitions changed for more than half
                       of the segments
          incremental  re-evaluate only the candidate users (compiler/segwise/sql/candidates.py);
                       after definition changes, the changed segments for every user as well
                       (sw.widened_segments, sw.widened_groups; docs/incremental.md)
          noop         T equals the last run's T: nothing may change (docs/semantics.md)

    A T older than the last run's is an error. Values are returned both as text and as SQL
    literals (sw.as_of, sw.prev_as_of, ...), which the generated model SQL uses. -#}

{% macro ts_text(value) %}
  {#- A timestamp from a query result or a var as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), so
      texts compare in time order. -#}
  {%- if value is none -%}{{ return(none) }}{%- endif -%}
  {%- if value.strftime is defined -%}
    {%- if value.tzinfo is not none -%}
      {%- set value = value.astimezone(modules.pytz.utc).replace(tzinfo=none) -%}
    {%- endif -%}
    {{ return(value.strftime('%Y-%m-%d %H:%M:%S.%f')) }}
  {%- endif -%}
  {%- set text = (value | string) | replace('T', ' ') -%}
  {%- set match = modules.re.match('^(\\d{4}-\\d{2}-\\d{2})( (\\d{2}:\\d{2}:\\d{2})(\\.(\\d{1,6}))?)?', text) -%}
  {%- if match is none -%}
    {{ exceptions.raise_compiler_error("segwise: cannot read the timestamp '" ~ text ~ "'") }}
  {%- endif -%}
  {%- set clock = match.group(3) or '00:00:00' -%}
  {%- set fraction = ((match.group(5) or '') ~ '000000')[:6] -%}
  {{ return(match.group(1) ~ ' ' ~ clock ~ '.' ~ fraction) }}
{% endmacro %}

{% macro ts_sql(text) %}
  {#- A timestamp literal of the adapter's UTC timestamp type. -#}
  {%- set shown = text[:19] if text.endswith('.000000') else text -%}
  {{ return("cast('" ~ shown ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
{% endmacro %}

{% macro as_of_text() %}
  {%- set given = var('segwise_as_of', none) -%}
  {%- if given is none or given == '' -%}
    {{ return(segwise.ts_text(run_started_at.replace(microsecond=0))) }}
  {%- endif -%}
  {%- if not modules.re.match('^\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}:\\d{2})?$', given | string) -%}
    {{ exceptions.raise_compiler_error("segwise: var segwise_as_of must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC), got '" ~ given ~ "'") }}
  {%- endif -%}
  {{ return(segwise.ts_text(given)) }}
{% endmacro %}

{% macro lookback_seconds() %}
  {%- set text = var('segwise_lookback', '3d') | string -%}
  {%- set seconds = segwise.duration_seconds(text) -%}
  {%- if seconds is none -%}
    {{ exceptions.raise_compiler_error("segwise: var segwise_lookback must be a duration like 3d or 36h, got '" ~ text ~ "'") }}
  {%- endif -%}
  {{ return(seconds) }}
{% endmacro %}

{% macro context() %}
  {%- set as_of = segwise.as_of_text() -%}
  {%- set sw = {'as_of_text': as_of, 'mode': 'full', 'why': 'first run', 'prev_text': none,
                'loaded_text': none, 'updated_text': none, 'widened_segments': [], 'widened_groups': [],
                'rewritten_segments': [], 'dropped_groups': []} -%}
  {%- set reset = flags.FULL_REFRESH and var('segwise_reset_history', false) -%}
  {%- if execute and not reset -%}
    {%- set runs = segwise.state_relation('segwise_runs') -%}
    {%- if adapter.get_relation(database=runs.database, schema=runs.schema, identifier=runs.identifier) is not none -%}
      {#- select *: a table an earlier segwise version created may lack the newer columns -#}
      {%- set last = run_query("select * from " ~ runs ~ " order by as_of desc limit 1") -%}
      {%- if last.rows | length > 0 -%}
        {%- set row = {} -%}
        {%- for column in last.column_names -%}{%- do row.update({column | lower: last.rows[0][loop.index0]}) -%}{%- endfor -%}
        {%- set prev = segwise.ts_text(row['as_of']) -%}
        {%- do sw.update({'prev_text': prev, 'loaded_text': segwise.ts_text(row['max_loaded_at']),
                          'updated_text': segwise.ts_text(row['max_updated_at'])}) -%}
        {%- if as_of < prev -%}
          {{ exceptions.raise_compiler_error("segwise: T = " ~ as_of[:19] ~ " is older than the last run's T = " ~ prev[:19] ~ ". Runs must move forward in time; to rebuild history from an earlier T, run with --full-refresh --vars '{segwise_reset_history: true, segwise_as_of: ...}'.") }}
        {%- elif flags.FULL_REFRESH -%}
          {%- do sw.update({'mode': 'full', 'why': '--full-refresh'}) -%}
        {%- elif as_of == prev -%}
          {%- do sw.update({'mode': 'noop', 'why': 'T equals the last run'}) -%}
        {%- else -%}
          {%- set changed = segwise.definitions_changed() -%}
          {%- set scope = segwise.definition_scope(changed, segwise.parse_group_hashes(row.get('group_hashes'))) -%}
          {%- if scope.full -%}
            {%- do sw.update({'mode': 'full', 'why': 'definitions changed: ' ~ (changed + scope.groups) | join(', ')}) -%}
          {%- elif changed or scope.groups or scope.dropped_groups -%}
            {%- set what = [] -%}
            {%- if changed -%}{%- do what.append('definitions changed: ' ~ changed | join(', ')) -%}{%- endif -%}
            {%- if scope.groups or scope.dropped_groups -%}
              {%- do what.append('groups changed: ' ~ (scope.groups + scope.dropped_groups) | sort | join(', ')) -%}
            {%- endif -%}
            {%- do sw.update({'mode': 'incremental', 'why': what | join('; ') ~ '; the other segments: new data and moving windows',
                              'widened_segments': scope.segments, 'widened_groups': scope.groups,
                              'rewritten_segments': (scope.segments + changed) | unique | sort | list,
                              'dropped_groups': scope.dropped_groups}) -%}
          {%- else -%}
            {%- do sw.update({'mode': 'incremental', 'why': 'new data and moving windows'}) -%}
          {%- endif -%}
        {%- endif -%}
      {%- endif -%}
    {%- endif -%}
  {%- endif -%}
  {%- do sw.update(segwise.store_context()) -%}
  {%- set full = sw.mode != 'incremental' -%}
  {%- set prev_sql = segwise.ts_sql(sw.prev_text or as_of) -%}
  {%- set lookback = modules.datetime.timedelta(seconds=segwise.lookback_seconds()) -%}
  {%- set prev_dt = modules.datetime.datetime.strptime(sw.prev_text or as_of, '%Y-%m-%d %H:%M:%S.%f') -%}
  {%- do sw.update({
      'full': full,
      'full_sql': 'TRUE' if full else 'FALSE',
      'incremental_sql': 'FALSE' if full else 'TRUE',
      'as_of': segwise.ts_sql(as_of),
      'prev_as_of': prev_sql,
      'loaded_after': segwise.ts_sql(sw.loaded_text) if sw.loaded_text else prev_sql,
      'updated_after': segwise.ts_sql(sw.updated_text) if sw.updated_text else prev_sql,
      'new_since': segwise.ts_sql(segwise.ts_text(prev_dt - lookback)),
      'store_loaded_after': segwise.ts_sql(sw.store_loaded_text or '0001-01-01 00:00:00.000000'),
  }) -%}
  {{ return(sw) }}
{% endmacro %}

{#- The event store's state (docs/incremental.md): rebuild it from the raw events on
    --full-refresh, when it is missing, or when the definitions need another spec; else add
    the events loaded after its watermark. -#}
{% macro store_context() %}
  {%- set wanted = (config.get('segwise_store') or {}).get('spec') -%}
  {%- set out = {'store_rebuild': true, 'store_why': 'no event store yet', 'store_loaded_text': none, 'store_built_text': none} -%}
  {%- if not execute -%}{{ return(out) }}{%- endif -%}
  {%- set store = segwise.state_relation('segwise_event_store') -%}
  {%- set state = segwise.state_relation('segwise_event_store_state') -%}
  {%- set found = adapter.get_relation(database=store.database, schema=store.schema, identifier=store.identifier) is not none
        and adapter.get_relation(database=state.database, schema=state.schema, identifier=state.identifier) is not none -%}
  {%- if not found -%}{{ return(out) }}{%- endif -%}
  {%- set rows = run_query("select spec, max_loaded_at, built_at from " ~ state).rows -%}
  {%- if rows | length != 1 -%}
    {%- do out.update({'store_why': 'the event store is incomplete'}) -%}
  {%- elif flags.FULL_REFRESH -%}
    {%- do out.update({'store_why': '--full-refresh'}) -%}
  {%- elif rows[0][0] != wanted -%}
    {%- do out.update({'store_why': 'the definitions read other events or properties'}) -%}
  {%- else -%}
    {%- do out.update({'store_rebuild': false, 'store_why': 'new events', 'store_loaded_text': segwise.ts_text(rows[0][1]),
                       'store_built_text': segwise.ts_text(rows[0][2])}) -%}
  {%- endif -%}
  {{ return(out) }}
{% endmacro %}

{% macro definitions_changed() %}
  {#- Segments added, edited or removed since the last run, by definition hash. -#}
  {%- set current = config.get('segwise_hashes') or {} -%}
  {%- set state = segwise.state_relation('segwise_segments') -%}
  {%- set previous = {} -%}
  {%- for row in run_query("select segment, definition_hash from " ~ state).rows -%}
    {%- do previous.update({row[0]: row[1]}) -%}
  {%- endfor -%}
  {%- set changed = [] -%}
  {%- for name in (current.keys() | list) + (previous.keys() | list) -%}
    {%- if current.get(name) != previous.get(name) and name not in changed -%}
      {%- do changed.append(name) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(changed | sort) }}
{% endmacro %}

{#- A run after definition changes (docs/incremental.md): the segments it evaluates for every
    user (the changed ones, and every segment of a group whose labels can move) and the groups
    it relabels for every user (those that changed or list a changed segment). More than half
    of the segments: a full run is cheaper. `previous`: the last run's group hashes, none when
    unknown (every group is then relabelled). -#}
{% macro definition_scope(changed, previous) %}
  {%- set current = config.get('segwise_hashes') or {} -%}
  {%- set groups = config.get('segwise_groups') or {} -%}
  {%- set segments = [] -%}
  {%- set relabel = [] -%}
  {%- for name in changed if name in current -%}{%- do segments.append(name) -%}{%- endfor -%}
  {%- for name, group in groups | dictsort -%}
    {%- if previous is none or previous.get(name) != group.hash or (group.priority | select('in', changed) | list) -%}
      {%- do relabel.append(name) -%}
      {%- for s in group.priority if s not in segments -%}{%- do segments.append(s) -%}{%- endfor -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set dropped = [] -%}
  {%- for name in (previous or {}).keys() | sort if name not in groups -%}{%- do dropped.append(name) -%}{%- endfor -%}
  {{ return({'segments': segments | sort, 'groups': relabel | sort, 'dropped_groups': dropped,
             'full': segments | length * 2 > current | length}) }}
{% endmacro %}

{#- The groups' definition hashes, as segwise_runs.group_hashes holds them: 'name=hash,...'. -#}
{% macro group_hashes_text() %}
  {%- set parts = [] -%}
  {%- for name, group in (config.get('segwise_groups') or {}) | dictsort -%}{%- do parts.append(name ~ '=' ~ group.hash) -%}{%- endfor -%}
  {{ return(parts | join(',')) }}
{% endmacro %}

{% macro parse_group_hashes(text) %}
  {%- if text is none -%}{{ return(none) }}{%- endif -%}
  {%- set out = {} -%}
  {%- for part in (text | string).split(',') if '=' in part -%}
    {%- do out.update({part.split('=')[0]: part.split('=')[1]}) -%}
  {%- endfor -%}
  {{ return(out) }}
{% endmacro %}

{#- TRUE when the run evaluates one of `names` (segments or groups, `kind`) for every user;
    `names` empty: any. The generated model SQL tests this per segment. -#}
{% macro widened(sw, kind, names) %}
  {%- set listed = sw.get('widened_' ~ kind) or [] -%}
  {%- if not names -%}{{ return('TRUE' if listed else 'FALSE') }}{%- endif -%}
  {{ return('TRUE' if (names | select('in', listed) | list) else 'FALSE') }}
{% endmacro %}

{#- `column in (names)` for validated names, or a test that is false when there are none. -#}
{% macro in_names(column, names) %}
  {%- if not names -%}{{ return('1 = 0') }}{%- endif -%}
  {{ return(column ~ " in ('" ~ names | join("', '") ~ "')") }}
{% endmacro %}
