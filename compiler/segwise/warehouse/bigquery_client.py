"""BigQuery through google-cloud-bigquery: service account (file or JSON), OAuth from the
application default credentials, or OAuth secrets (a token, or a refresh token).

`api_endpoint` points the client at another endpoint; with `method: oauth-secrets` and a
plain-http endpoint (a local emulator, whose token is a placeholder) it connects anonymously.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from segwise.warehouse.base import Warehouse, WarehouseError, as_int, first_line, required, setting

# The REST API's legacy type names, as GoogleSQL spells them.
STANDARD_TYPES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "RECORD": "STRUCT"}


def field_type(field: Any) -> str:
    """A schema field's type as GoogleSQL spells it (a REPEATED field is an ARRAY)."""
    name = str(field.field_type).upper()
    name = STANDARD_TYPES.get(name, name)
    return f"ARRAY<{name}>" if field.mode == "REPEATED" else name


SCOPES = (
    "https://www.googleapis.com/auth/bigquery",
    "https://www.googleapis.com/auth/cloud-platform",
    "https://www.googleapis.com/auth/drive",
)


def credentials(fields: dict[str, Any]) -> Any:
    import google.auth
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import GoogleAuthError
    from google.oauth2 import credentials as oauth2
    from google.oauth2 import service_account

    method = str(fields.get("method") or "oauth")
    try:
        if method == "service-account":
            keyfile = str(required(fields, "bigquery", "keyfile"))
            return service_account.Credentials.from_service_account_file(keyfile, scopes=SCOPES)  # type: ignore[no-untyped-call]
        if method == "service-account-json":
            info = required(fields, "bigquery", "keyfile_json")
            return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)  # type: ignore[no-untyped-call]
        if method == "oauth":
            found, _ = google.auth.default(scopes=SCOPES)
            return found
        if method == "oauth-secrets":
            if str(fields.get("api_endpoint") or "").startswith("http://"):
                return AnonymousCredentials()  # type: ignore[no-untyped-call]
            return oauth2.Credentials(  # type: ignore[no-untyped-call]
                token=fields.get("token"),
                refresh_token=fields.get("refresh_token"),
                client_id=fields.get("client_id"),
                client_secret=fields.get("client_secret"),
                token_uri=fields.get("token_uri"),
                scopes=SCOPES,
            )
    except (GoogleAuthError, OSError, ValueError) as exc:
        raise WarehouseError(f"BigQuery credentials ({method}): {first_line(exc)}") from None
    raise WarehouseError(
        f"BigQuery method {method!r} is not supported by preview: "
        "use service-account, service-account-json, oauth or oauth-secrets"
    )


class BigQueryWarehouse(Warehouse):
    dialect = "bigquery"

    def __init__(self, fields: dict[str, Any]) -> None:
        from google.api_core.client_options import ClientOptions
        from google.cloud import bigquery

        self._bigquery = bigquery
        project = str(required(fields, "bigquery", "project", "database"))
        options = ClientOptions(api_endpoint=str(fields["api_endpoint"])) if fields.get("api_endpoint") else None
        self.client = bigquery.Client(
            project=str(setting(fields, "execution_project", default=project)),
            credentials=credentials(fields),
            location=fields.get("location") or None,
            client_options=options,
        )
        self.maximum_bytes_billed = as_int(fields, "maximum_bytes_billed")
        self.timeout = as_int(fields, "job_execution_timeout_seconds")

    def _config(self, dry_run: bool) -> Any:
        return self._bigquery.QueryJobConfig(
            dry_run=dry_run,
            use_query_cache=not dry_run,
            use_legacy_sql=False,
            maximum_bytes_billed=self.maximum_bytes_billed,
        )

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        from google.api_core.exceptions import GoogleAPIError

        try:
            job = self.client.query(sql, job_config=self._config(False))
            return [tuple(row.values()) for row in job.result(timeout=self.timeout)]
        except GoogleAPIError as exc:
            raise WarehouseError(f"bigquery: {first_line(exc)}") from None

    def dry_run_bytes(self, sql: str) -> int | None:
        from google.api_core.exceptions import GoogleAPIError

        try:
            job = self.client.query(sql, job_config=self._config(True))
        except GoogleAPIError as exc:
            raise WarehouseError(f"bigquery dry run: {first_line(exc)}") from None
        total = job.total_bytes_processed
        return int(total) if total is not None else None

    def columns(self, relation: exp.Table) -> dict[str, str] | None:
        """From the table's metadata (`tables.get`: no job, no bytes billed); a relation
        without a project is in the client's project, as in a query."""
        from google.api_core.exceptions import GoogleAPIError, NotFound

        parts = [p for p in (relation.catalog, relation.db, relation.name) if p]
        if len(parts) < 2:
            raise WarehouseError(f"bigquery: relation {relation.name!r} needs a dataset (dataset.table)")
        try:
            reference = self._bigquery.TableReference.from_string(".".join(parts), default_project=self.client.project)
            table = self.client.get_table(reference)
        except NotFound:
            return None
        except (GoogleAPIError, ValueError) as exc:
            raise WarehouseError(f"bigquery: {first_line(exc)}") from None
        return {str(field.name): field_type(field) for field in table.schema}

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
