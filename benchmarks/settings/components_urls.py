from django.urls import include, path

from project.urls import urlpatterns as project_urlpatterns

# the demo's URLs ({% url 'product-detail' %} in the card), then django-components' own
urlpatterns = [*project_urlpatterns, path("", include("django_components.urls"))]
