from django.urls import include, path

urlpatterns = [path("", include("ams.billing.contrib.django.urls"))]
