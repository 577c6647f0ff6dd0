"""Memoized server-side components, virtual scrolling and lazy-loaded components as
template tags.
"""
