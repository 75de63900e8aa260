{#- Fitted predictive models (docs/language.md, 'Predictions'). `segwise fit` computes a fit and
    records it here with `dbt run-operation segwise.record_fit`, so it lands through the
    profile's own adapter in the schema of the segment_membership model; `dbt build` scores
    with the latest one (by fitted_at). The table keeps every fit: the model's history. -#}

{% macro models_relation() %}
  {#- next to the membership model's tables: its schema, also when run-operation has no `this` -#}
  {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'segwise_membership' -%}
    {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier='segwise_models', type='table')) }}
  {%- endfor -%}
  {{ exceptions.raise_compiler_error("segwise: no segment_membership model in this project: run segwise generate") }}
{% endmacro %}

{% macro double_type() %}
  {{ return('float64' if target.type == 'bigquery' else 'double precision') }}
{% endmacro %}

{% macro record_fit(model, r, alpha, a, b, log_likelihood, customers, rows, as_of, fit_seconds, event, unit_days, calibration_days=none) %}
  {%- if model != 'bgnbd' -%}
    {{ exceptions.raise_compiler_error("segwise: unknown model '" ~ model ~ "'") }}
  {%- endif -%}
  {%- set relation = segwise.models_relation() -%}
  {%- set d = segwise.double_type() -%}
  {%- set s = dbt.type_string() -%}
  {%- set t = dbt.type_timestamp() -%}
  {%- set number = "cast(%s as " ~ d ~ ")" -%}
  {% do adapter.create_schema(relation) %}
  {% do segwise.execute("create table if not exists " ~ relation ~ " (model " ~ s ~ ", r " ~ d ~ ", alpha " ~ d ~ ", a " ~ d
      ~ ", b " ~ d ~ ", log_likelihood " ~ d ~ ", customers " ~ dbt.type_bigint() ~ ", summary_rows " ~ dbt.type_bigint()
      ~ ", as_of " ~ t ~ ", fitted_at " ~ t ~ ", fit_seconds " ~ d ~ ", event " ~ s ~ ", unit_days " ~ d
      ~ ", calibration_days " ~ d ~ ")") %}
  {%- set values = [
      "'" ~ model ~ "'",
      number | format(r | float), number | format(alpha | float), number | format(a | float), number | format(b | float),
      number | format(log_likelihood | float), (customers | int) ~ "", (rows | int) ~ "",
      segwise.ts_sql(segwise.ts_text(as_of)), segwise.ts_sql(segwise.ts_text(run_started_at)),
      number | format(fit_seconds | float), segwise.text_sql(event), number | format(unit_days | float),
      "cast(null as " ~ d ~ ")" if calibration_days is none else number | format(calibration_days | float),
  ] -%}
  {% do segwise.execute(segwise.in_transaction(["insert into " ~ relation ~ " (model, r, alpha, a, b, log_likelihood, customers,"
      ~ " summary_rows, as_of, fitted_at, fit_seconds, event, unit_days, calibration_days) select " ~ values | join(", ")])) %}
  {% do adapter.commit() %}
  {{ log("segwise: recorded the " ~ model ~ " fit in " ~ relation, info=true) }}
{% endmacro %}

{#- Before a run that scores `predict` segments: fail clearly when there is no fit to score with. -#}
{% macro require_fit(segments) %}
  {%- if not segments or not execute -%}{{ return(none) }}{%- endif -%}
  {%- set relation = segwise.state_relation('segwise_models') -%}
  {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
  {%- set fits = 0 if found is none else run_query("select count(*) from " ~ relation ~ " where model = 'bgnbd'").columns[0].values()[0] | int -%}
  {%- if fits == 0 -%}
    {{ exceptions.raise_compiler_error("segwise: " ~ segments | join(', ') ~ " use predict: bgnbd, but there is no fit in "
        ~ relation ~ ". Fit the model first: segwise fit --target " ~ target.name ~ " (docs/language.md, 'Predictions').") }}
  {%- endif -%}
{% endmacro %}
