"""Configuration items of the single table: workflows (and, later, templates and assistants),
each one `<KIND>#<id>` / `~META` item, read by key."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from parley.config import settings
from parley.models.api.workflows import Workflow
from parley.store import keys
from parley.store.dynamodb import dynamodb_client, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class CatalogStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client = client or dynamodb_client()

    def put_workflow(self, workflow: Workflow, owner: str) -> None:
        item: dict[str, Any] = {
            "PK": {"S": keys.workflow_pk(workflow.id)},
            "SK": {"S": keys.META},
            "name": {"S": workflow.name},
            "steps": {"S": json.dumps([s.model_dump(exclude_none=True) for s in workflow.steps])},
            "owner": {"S": owner},
            "created_at": {"S": workflow.createdAt},
        }
        if workflow.brandId:
            item["brand_id"] = {"S": workflow.brandId}
        with translated_errors():
            self.client.put_item(
                TableName=self.table_name, Item=item, ConditionExpression="attribute_not_exists(PK)"
            )

    def get_workflow(self, workflow_id: str) -> Workflow | None:
        with translated_errors():
            item = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": keys.workflow_pk(workflow_id)}, "SK": {"S": keys.META}},
            ).get("Item")
        if item is None:
            return None
        return Workflow(
            id=workflow_id,
            name=item["name"]["S"],
            steps=json.loads(item["steps"]["S"]),
            brandId=item["brand_id"]["S"] if "brand_id" in item else None,
            createdAt=item["created_at"]["S"],
        )


@functools.cache
def catalog_store() -> CatalogStore:
    return CatalogStore(settings().table_name)
