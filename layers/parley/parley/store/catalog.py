"""Configuration items of the single table: workflows and assistants (`WF#<id>` / `AST#<id>`,
`~META`) and prompt template versions (`TPL#<brand>#<id>`, `V#<zero-padded n>`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from parley.models.api.rag import Assistant, PromptTemplate
from parley.models.api.workflows import Workflow
from parley.store import keys
from parley.store.dynamodb import error_code, translated_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


MAX_LISTED_ASSISTANTS = 1000


class CatalogStore:
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

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
        self._put_new(item)

    def get_workflow(self, workflow_id: str) -> tuple[Workflow, str] | None:
        """The workflow and the user who created it."""
        item = self._get_meta(keys.workflow_pk(workflow_id))
        if item is None:
            return None
        return Workflow(
            id=workflow_id,
            name=item["name"]["S"],
            steps=json.loads(item["steps"]["S"]),
            brandId=item["brand_id"]["S"] if "brand_id" in item else None,
            createdAt=item["created_at"]["S"],
        ), item["owner"]["S"]

    def add_template_version(
        self, brand_id: str, template: PromptTemplate, attempts: int = 5
    ) -> PromptTemplate:
        """Store `template` as the next version of its id; concurrent writers each get their own."""
        for _ in range(attempts):
            latest = self.get_template(brand_id, template.template_id)
            version = int(latest.version) + 1 if latest else 1
            stored = template.model_copy(update={"version": str(version)})
            item = {
                "PK": {"S": keys.template_pk(brand_id, template.template_id)},
                "SK": {"S": keys.template_sk(version)},
                "body": {"S": stored.body},
                "created_at": {"S": stored.created_at},
            }
            if stored.description:
                item["description"] = {"S": stored.description}
            try:
                self._put_new(item)
                return stored
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
        raise RuntimeError(f"template {template.template_id}: too many concurrent new versions")

    def get_template(
        self, brand_id: str, template_id: str, version: int | None = None
    ) -> PromptTemplate | None:
        """One version, or the latest (a descending Query with Limit 1)."""
        condition = "PK = :pk AND " + ("SK = :sk" if version else "begins_with(SK, :sk)")
        sort_key = keys.template_sk(version) if version else "V#"
        with translated_errors():
            found = self.client.query(
                TableName=self.table_name,
                KeyConditionExpression=condition,
                ExpressionAttributeValues={
                    ":pk": {"S": keys.template_pk(brand_id, template_id)},
                    ":sk": {"S": sort_key},
                },
                ScanIndexForward=False,
                Limit=1,
                ReturnConsumedCapacity="TOTAL",
            )["Items"]
        if not found:
            return None
        item = found[0]
        return PromptTemplate(
            template_id=template_id,
            version=str(int(item["SK"]["S"].removeprefix("V#"))),
            brand_id=brand_id,
            body=item["body"]["S"],
            description=item["description"]["S"] if "description" in item else None,
            created_at=item["created_at"]["S"],
        )

    def put_assistant(
        self, assistant: Assistant, sealed: dict[str, str] | None = None, *, replace: bool = False
    ) -> bool:
        """The assistant; `sealed`: its MCP servers' credentials by label, sealed (parley.sealing),
        kept apart from the config that GET returns. New, or with `replace` the one stored, whole
        (False when there is none any more)."""
        item = {
            "PK": {"S": keys.assistant_pk(assistant.assistant_id)},
            "SK": {"S": keys.META},
            "brand_id": {"S": assistant.brand_id},
            "config": {"S": assistant.model_dump_json()},
            # Listed per brand through the user index (its projection: brand_id, title, created_at).
            "GSI1PK": {"S": keys.brand_assistants_pk(assistant.brand_id)},
            "GSI1SK": {"S": f"{assistant.created_at}#{assistant.assistant_id}"},
            "title": {"S": assistant.name},
            "created_at": {"S": assistant.created_at},
        }
        if sealed:
            item["sealed_credentials"] = {"S": json.dumps(sealed, separators=(",", ":"))}
        if not replace:
            self._put_new(item)
            return True
        try:
            with translated_errors():
                self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_exists(PK)",
                    ReturnConsumedCapacity="TOTAL",
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def brand_assistants(
        self, brand_id: str, limit: int = MAX_LISTED_ASSISTANTS
    ) -> list[tuple[str, str, str | None]]:
        """(assistant_id, created_at, name) of a brand's assistants, oldest first: one Query a page
        (the user index projects the name, kept as `title`)."""
        found: list[tuple[str, str, str | None]] = []
        start: dict[str, Any] | None = None
        while len(found) < limit:
            with translated_errors():
                page = self.client.query(
                    TableName=self.table_name,
                    IndexName=keys.USER_INDEX,
                    KeyConditionExpression="GSI1PK = :brand",
                    ExpressionAttributeValues={":brand": {"S": keys.brand_assistants_pk(brand_id)}},
                    Limit=limit - len(found),
                    ReturnConsumedCapacity="TOTAL",
                    **({"ExclusiveStartKey": start} if start else {}),  # type: ignore[arg-type]
                )
            found += [
                (
                    item["PK"]["S"].removeprefix("AST#"),
                    item["created_at"]["S"],
                    item.get("title", {}).get("S"),
                )
                for item in page.get("Items", [])
            ]
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        return found

    def get_assistant(self, assistant_id: str) -> Assistant | None:
        item = self._get_meta(keys.assistant_pk(assistant_id))
        return Assistant.model_validate_json(item["config"]["S"]) if item else None

    def sealed_credentials(self, assistant_id: str) -> dict[str, str]:
        """The assistant's MCP servers' sealed credentials by server label ({} when none)."""
        item = self._get_meta(keys.assistant_pk(assistant_id))
        sealed: dict[str, str] = (
            json.loads(item["sealed_credentials"]["S"]) if item and "sealed_credentials" in item else {}
        )
        return sealed

    def _put_new(self, item: dict[str, Any]) -> None:
        """Write an item that must not exist yet (a taken key raises ConditionalCheckFailed)."""
        with translated_errors():
            self.client.put_item(
                TableName=self.table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(PK)",
                ReturnConsumedCapacity="TOTAL",
            )

    def _get_meta(self, partition: str) -> dict[str, Any] | None:
        with translated_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"PK": {"S": partition}, "SK": {"S": keys.META}},
                ReturnConsumedCapacity="TOTAL",
            )
        return response.get("Item")
