from __future__ import annotations

from django.urls import path

from . import dashboard, memory_pages, people, task_pages, views
from .virtual_pages import items_page, products_virtual_page

urlpatterns = [
    path("", views.home, name="home"),
    path("products/", views.product_list, name="products"),
    path("products/virtual/", products_virtual_page, name="products-virtual"),
    path("items/", items_page, name="items"),
    path("products/<int:pk>/", views.product_detail, name="product-detail"),
    path("posts/", views.post_list, name="posts"),
    path("posts/slow/", views.slow_posts, name="posts-slow"),
    path("posts/<int:pk>/", views.post_detail, name="post-detail"),
    path("profile/", views.profile, name="profile"),
    path("users/", people.user_search, name="users"),
    path("users/search.json", people.user_search_json, name="users-json"),
    path("users/<int:pk>/", people.user_detail, name="user-detail"),
    path("tasks/demo/", views.run_demo_task, name="demo-task"),
    path("send-notification", task_pages.send_notification, name="send-notification"),
    path("tasks/", task_pages.tasks_index, name="tasks"),
    path("tasks/<uuid:task_id>/", task_pages.task_status, name="task-status"),
    path("tasks/thumbnail/", task_pages.thumbnail_page, name="task-thumbnail"),
    path(
        "tasks/thumbnail/<uuid:upload>.png", task_pages.thumbnail_file, name="task-thumbnail-file"
    ),
    path("tasks/report/", task_pages.report_page, name="task-report"),
    path(
        "tasks/report/<uuid:task_id>.csv", task_pages.report_download, name="task-report-download"
    ),
    path("tasks/cpu/", task_pages.cpu_page, name="task-cpu"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("memory/", memory_pages.memory_page, name="memory"),
    path("memory/leak/", memory_pages.leak, name="memory-leak"),
    path("memory/cleanup/", memory_pages.cleanup, name="memory-cleanup"),
]
