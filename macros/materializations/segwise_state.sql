{#- A table that `segment_membership` maintains (history, changes, sizes, ...). Building the
    model only makes sure the table exists, so it carries docs and tests; it never drops
    or rebuilds the table, not even with --full-refresh: history is the analysts' data. -#}

{% materialization segwise_state, default %}
  {%- do segwise.create_state_table(this.identifier) -%}
  {% call statement('main', auto_begin=True) %}select 1 as kept{% endcall %}
  {{ adapter.commit() }}
  {{ return({'relations': [segwise.state_relation(this.identifier)]}) }}
{% endmaterialization %}
