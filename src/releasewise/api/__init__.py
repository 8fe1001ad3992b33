"""The REST API under /api/v1: thin routes over services, errors as RFC 9457 problems."""
