"""Response-caching middleware on any Django cache (local memory or Redis)."""
