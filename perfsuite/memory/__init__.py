"""Memory monitoring and cleanup middleware."""
