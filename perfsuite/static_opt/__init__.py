"""Static files with ETags, 304s, precompression and long-lived caching."""
