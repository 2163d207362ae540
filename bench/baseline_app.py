"""The baseline a function's cold start and warm time are compared with: a Powertools REST
resolver, a boto3 client and one GetItem, and nothing of Parley."""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

app = APIGatewayRestResolver()
client = boto3.client("dynamodb")


@app.get("/v1/conversations/<conversation_id>/messages")
def read(conversation_id: str) -> dict[str, Any]:
    item = client.get_item(
        TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": f"CONV#{conversation_id}"}, "SK": {"S": "~META"}}
    ).get("Item")
    return {"found": item is not None}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
