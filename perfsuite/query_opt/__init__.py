"""ORM tooling against N+1 queries, search with pagination, bulk operations and connection
pool stats.
"""
