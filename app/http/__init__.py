"""What every HTTP answer shares, whatever blueprint made it: security headers, request logs,
rate limits, idempotency keys, the JSON provider and the health check."""
