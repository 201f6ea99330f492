"""The registry's use cases: `handler(command, uow)`, each working inside a unit of work its caller commits."""
