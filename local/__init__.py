"""Developer tooling that never ships: the local gateway, the DynamoDB Local launcher, tokens."""
