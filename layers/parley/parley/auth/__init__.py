"""Who is calling: JWT verification (used by the authorizer) and the principal the functions see."""
