"""AI path: provider client (official openai SDK), key failover, circuit breaker,
fallbacks (cache, extractive) and pricing."""
