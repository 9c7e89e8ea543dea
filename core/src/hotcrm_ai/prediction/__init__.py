"""The prediction pipeline: input validation, sticky A/B assignment, resilience (retries, circuit
breakers), and the service that ties them to the cache, providers and monitor."""
