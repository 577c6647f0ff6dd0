"""The demo shop: products, user profiles and posts, rendered on the server."""
