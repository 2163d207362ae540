"""Request and response bodies, one module per API family, matching the seed documents."""
