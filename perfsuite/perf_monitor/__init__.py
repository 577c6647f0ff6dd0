"""Request timing middleware, APM metrics with percentiles and the performance dashboard in
Django admin.
"""
