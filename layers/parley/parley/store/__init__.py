"""DynamoDB access: items in, domain models out. No business rules live here."""
