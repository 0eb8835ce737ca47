"""Nothing is mounted here any more: the bots API (`views.BotViewSet`) is mounted by the server
API (`calendars/server_api/urls.py`), which adds Attendee's create and delete over the calendar
services, a layer above this app. config/urls.py may drop its include of this module."""

urlpatterns: list = []
