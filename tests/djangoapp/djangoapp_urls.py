from django.urls import include, path

urlpatterns = [path("", include("ams_billing.contrib.django.urls"))]
